"""Price-only and at-risk partner signals.

The rules are plain functions of plain values; ``order_history`` gathers what the at-risk rule
needs from stock orders in grouped queries. Deal statistics for the price-only rule are gathered
by deals.partner_stats, which sits to the right of this package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

from sqlalchemy import func, select

from app import db
from partners.models import StockOrder, StockOrderLine

RATIO = Decimal("0.0001")


@dataclass(frozen=True)
class Signal:
    name: str
    label: str
    value: Decimal | int | None
    threshold: Decimal | int | None
    fired: bool

    def as_dict(self) -> dict:
        def plain(x):
            return None if x is None else str(x)

        return {
            "name": self.name,
            "value": plain(self.value),
            "threshold": plain(self.threshold),
            "fired": self.fired,
        }


@dataclass(frozen=True)
class DealStats:
    """A partner's channel deals, strategic exceptions already left out."""

    deals: int = 0  # submitted or later
    deals_with_special: int = 0
    lines: int = 0
    extra_discount_sum: Decimal = Decimal(0)  # sum over lines of the discount beyond tier (≥0)
    lost: int = 0
    lost_on_price: int = 0
    won: int = 0
    won_with_special: int = 0


@dataclass(frozen=True)
class PriceOnlyResult:
    flagged: bool
    signals: list[Signal]

    @property
    def reasons(self) -> list[str]:
        return [s.label for s in self.signals if s.fired]


def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATIO, rounding=ROUND_HALF_UP)


def price_only_signals(stats: DealStats, has_commitment: bool, settings: dict) -> PriceOnlyResult:
    """Each signal with its value, threshold and whether it fired (strictly above threshold).

    A share with nothing to divide (no deals, no losses, no wins) does not fire.
    """
    special_share = _share(stats.deals_with_special, stats.deals)
    extra = (
        (stats.extra_discount_sum / stats.lines).quantize(RATIO, rounding=ROUND_HALF_UP)
        if stats.lines
        else None
    )
    lost_price = _share(stats.lost_on_price, stats.lost)
    special_wins = _share(stats.won_with_special, stats.won)

    def above(value, key):
        return value is not None and value > settings[key]

    signals = [
        Signal(
            "no_commitment",
            "No active stock commitment",
            int(not has_commitment),
            None,
            not has_commitment,
        ),
        Signal(
            "special_price_share",
            "Special price requested on most deals",
            special_share,
            settings["signal_special_share"],
            above(special_share, "signal_special_share"),
        ),
        Signal(
            "extra_discount",
            "Average requested discount well beyond tier discount",
            extra,
            settings["signal_extra_discount"],
            above(extra, "signal_extra_discount"),
        ),
        Signal(
            "lost_on_price_share",
            "Lost deals mostly lost on price",
            lost_price,
            settings["signal_lost_on_price_share"],
            above(lost_price, "signal_lost_on_price_share"),
        ),
        Signal(
            "special_wins_share",
            "Wins only at special prices",
            special_wins,
            settings["signal_special_wins_share"],
            above(special_wins, "signal_special_wins_share"),
        ),
    ]
    fired = sum(s.fired for s in signals)
    return PriceOnlyResult(flagged=fired >= settings["signals_to_flag"], signals=signals)


# --- at risk ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AtRiskResult:
    flagged: bool
    reasons: list[str]
    evidence: dict = field(default_factory=dict)


def months_back(today: date, count: int) -> list[str]:
    """The last ``count`` calendar months as 'YYYY-MM', oldest first, this month included."""
    year, month = today.year, today.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return keys[::-1]


def at_risk(
    *,
    today: date,
    last_90_days: Decimal,
    last_12_months: Decimal,
    order_dates: list[date],
    monthly: dict[str, Decimal],
    drop_ratio: Decimal,
) -> AtRiskResult:
    """Flag a partner whose ordering is slipping.

    - the last 90 days fell below ``drop_ratio`` of the trailing 12-month average for 90 days
      (12-month total × 90/365);
    - or it has not ordered for longer than its usual interval: more than 1.5 × the median gap
      between its orders (at least three orders needed to know what is usual).
    """
    reasons = []
    average_90 = (Decimal(last_12_months) * Decimal(90) / Decimal(365)).quantize(Decimal("0.01"))
    if last_12_months > 0 and Decimal(last_90_days) < average_90 * drop_ratio:
        reasons.append(
            f"ordered ¥{last_90_days:,.2f} in the last 90 days, below "
            f"{drop_ratio * 100:.0f} % of its 12-month average (¥{average_90:,.2f} per 90 days)"
        )
    dates = sorted(set(order_dates))
    usual = None
    since_last = (today - dates[-1]).days if dates else None
    if len(dates) >= 3:
        usual = median((b - a).days for a, b in zip(dates, dates[1:], strict=False))
        if since_last is not None and since_last > 1.5 * usual:
            reasons.append(
                f"no order for {since_last} days; it usually orders every {usual:.0f} days"
            )
    return AtRiskResult(
        flagged=bool(reasons),
        reasons=reasons,
        evidence={
            "last_90_days": f"{Decimal(last_90_days):.2f}",
            "average_90_days": f"{average_90:.2f}",
            "days_since_last_order": since_last,
            "usual_interval_days": None if usual is None else float(usual),
            "monthly": {k: f"{v:.2f}" for k, v in monthly.items()},
        },
    )


def order_history(partner_ids: list[int], today: date) -> dict[int, dict]:
    """Per partner: daily order totals over the last 12 months (grouped, one query)."""
    if not partner_ids:
        return {}
    since = today - timedelta(days=365)
    rows = db.session.execute(
        select(
            StockOrder.partner_id,
            StockOrder.order_date,
            func.sum(StockOrderLine.quantity * StockOrderLine.unit_price),
        )
        .join(StockOrder.lines)
        .where(StockOrder.partner_id.in_(partner_ids), StockOrder.order_date > since)
        .group_by(StockOrder.partner_id, StockOrder.order_date)
    ).all()
    history: dict[int, dict] = {pid: {} for pid in partner_ids}
    for partner_id, day, amount in rows:
        history[partner_id][day] = Decimal(amount)
    return history


def at_risk_for(
    partner_ids: list[int], today: date, drop_ratio: Decimal
) -> dict[int, AtRiskResult]:
    """The at-risk rule for many partners from one grouped query of their order history."""
    months = months_back(today, 12)
    result = {}
    for partner_id, days in order_history(partner_ids, today).items():
        monthly = {key: Decimal(0) for key in months}
        for day, amount in days.items():
            key = f"{day.year:04d}-{day.month:02d}"
            if key in monthly:
                monthly[key] += amount
        result[partner_id] = at_risk(
            today=today,
            last_90_days=sum(
                (a for d, a in days.items() if d > today - timedelta(days=90)), Decimal(0)
            ),
            last_12_months=sum(days.values(), Decimal(0)),
            order_dates=list(days),
            monthly=monthly,
            drop_ratio=drop_ratio,
        )
    return result
