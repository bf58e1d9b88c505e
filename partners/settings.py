"""Thresholds an admin edits; values are data, kept in the setting table with defaults here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from accounts.audit import record_audit
from app import db
from partners.models import Setting


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str  # lazy: shown in the reader's language, audited in English
    default: str
    kind: str = "ratio"  # ratio (0..1 shown as %), int, or days
    help: str = ""


SETTINGS = [
    SettingSpec(
        "special_price_min_pro_rata",
        _l("Special prices only for partners at or above this pro-rata attainment"),
        "0.80",
        help=_l("Strategic exceptions are exempt."),
    ),
    SettingSpec(
        "tier_review_min_pro_rata",
        _l("Tier review proposes a demotion below this pro-rata attainment"),
        "0.50",
    ),
    SettingSpec(
        "signal_special_share",
        _l("Price-only: share of deals with special price requests above"),
        "0.60",
    ),
    SettingSpec(
        "signal_extra_discount",
        _l("Price-only: average requested discount beyond the tier discount above"),
        "0.08",
    ),
    SettingSpec(
        "signal_lost_on_price_share",
        _l("Price-only: share of lost deals lost on price above"),
        "0.50",
    ),
    SettingSpec(
        "signal_special_wins_share",
        _l("Price-only: share of wins that needed a special price above"),
        "0.70",
    ),
    SettingSpec(
        "signals_to_flag",
        _l("Price-only: number of fired signals that flag a partner"),
        "3",
        kind="int",
    ),
    SettingSpec(
        "at_risk_drop_ratio",
        _l("At risk: last 90 days below this share of the trailing 12-month average"),
        "0.50",
    ),
]
SPECS = {spec.key: spec for spec in SETTINGS}


def parse_setting(spec: SettingSpec, raw: str) -> Decimal | int:
    """Parse and check a setting's value; raises ValueError with a message for the form."""
    text = str(raw).strip().rstrip("%")
    if spec.kind == "int":
        if not text.isdigit() or not 1 <= int(text) <= 10:
            raise ValueError(_l("Enter a whole number from 1 to 10."))
        return int(text)
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(_l("Enter a number, e.g. 0.5 for 50 %.")) from error
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(1):
        raise ValueError(_l("Enter a share between 0 and 1 (0.5 = 50 %)."))
    return value


def get_settings() -> dict[str, Decimal | int]:
    """All settings, stored values over defaults (one query)."""
    stored = dict(db.session.execute(select(Setting.key, Setting.value)).all())
    return {spec.key: parse_setting(spec, stored.get(spec.key, spec.default)) for spec in SETTINGS}


def update_settings(values: dict[str, str]) -> None:
    """Save changed settings, each change audited; raises ValueError({key: message})."""
    errors, parsed = {}, {}
    for key, raw in values.items():
        try:
            parsed[key] = parse_setting(SPECS[key], raw)
        except ValueError as error:
            errors[key] = str(error)
    if errors:
        raise ValueError(errors)
    current = get_settings()
    for key, value in parsed.items():
        if value == current[key]:
            continue
        row = db.session.get(Setting, key) or Setting(key=key)
        row.value = str(value)
        db.session.add(row)
        record_audit(
            "setting_changed",
            "Setting",
            before={key: str(current[key])},
            after={key: str(value)},
            summary=SPECS[key].label,
        )
    db.session.flush()
