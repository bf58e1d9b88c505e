"""Who may export which statement, and the export itself: the workbook and its audit entry.

Finance and admin export any partner's statement and the whole channel's; a channel manager
the statements of the partners it owns and the channel statement of those partners only; a
partner user its own partner's statement. A partner the user may not export is "not found",
never "forbidden", so nobody learns which partners exist. The web pages, the background jobs
and the API all go through these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import select

from accounts.audit import record_audit
from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, User, utcnow
from app import db
from finance.statements import (
    Statement,
    StatementPeriod,
    StatementScope,
    build_statement,
)
from finance.workbook import EXCEL_MAX_ROWS, LANGUAGES, write_statement
from partners.models import TIERS, Partner

STATEMENT_ROLES = (ADMIN, FINANCE, MANAGER, PARTNER)
CHANNEL_ROLES = (ADMIN, FINANCE, MANAGER)


class NotVisible(LookupError):
    """The partner does not exist or the user may not export it (answer 404)."""


def visible_partner(user: User, partner_id: int | None) -> Partner:
    """The partner whose statement ``user`` may export, or NotVisible."""
    partner = db.session.get(Partner, partner_id) if partner_id is not None else None
    if partner is None:
        raise NotVisible(partner_id)
    if user.role in (ADMIN, FINANCE):
        return partner
    if user.role == MANAGER and partner.owner_id == user.id:
        return partner
    if user.role == PARTNER and user.partner_id == partner.id:
        return partner
    raise NotVisible(partner_id)


def channel_scope(
    user: User, tier: str = "", region: str = "", owner_id: int | None = None
) -> StatementScope:
    """The channel statement's partners for ``user``: a manager's are always its own."""
    if user.role not in CHANNEL_ROLES:
        raise NotVisible(None)
    if user.role == MANAGER:
        owner_id = user.id
    return StatementScope(
        tier=tier if tier in TIERS else "",
        region=(region or "").strip()[:40],
        owner_id=owner_id,
    )


def partner_choices(user: User) -> list[tuple[int, str, str]]:
    """(id, name, tier) of the partners ``user`` may pick for a statement."""
    stmt = select(Partner.id, Partner.name, Partner.tier).order_by(Partner.name, Partner.id)
    if user.role == MANAGER:
        stmt = stmt.where(Partner.owner_id == user.id)
    elif user.role == PARTNER:
        stmt = stmt.where(Partner.id == user.partner_id)
    elif user.role not in (ADMIN, FINANCE):
        return []
    return [tuple(row) for row in db.session.execute(stmt)]


def may_see_scope(user: User, scope: StatementScope) -> bool:
    """Whether ``user`` may export the statement of ``scope`` (used for stored exports)."""
    try:
        if scope.is_channel:
            allowed = channel_scope(user, scope.tier, scope.region, scope.owner_id)
            return allowed.owner_id == scope.owner_id
        visible_partner(user, scope.partner_id)
    except NotVisible:
        return False
    return True


def normal_lang(lang: str | None, default: str = "en") -> str:
    """The export language asked for, or ``default`` (the pages pass the user's language)."""
    return lang if lang in LANGUAGES else default


def download_name(scope: StatementScope, period: StatementPeriod, uscc: str = "") -> str:
    span = f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    if scope.is_channel:
        return f"channel-statement-{span}.xlsx"
    return f"statement-{uscc}-{span}.xlsx"


def consistent_snapshot() -> None:
    """On PostgreSQL, read the whole export from one snapshot (REPEATABLE READ), so the summary
    and the detail sheets agree even while orders are being recorded. Ends the transaction the
    request has read in so far (nothing is written before an export). SQLite reads each query
    as it stands: there, one process serves, and exports are quick to repeat."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.commit()
    db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


@dataclass
class ExportResult:
    statement: Statement
    rows: int
    sheets: list[str]


def export_statement(
    user: User,
    scope: StatementScope,
    period: StatementPeriod,
    out: IO[bytes],
    *,
    lang: str = "en",
    via: str = "web",
    max_rows: int = EXCEL_MAX_ROWS,
    progress=None,
    on_figures=None,
    generated_at: datetime | None = None,
) -> ExportResult:
    """Write the statement workbook to ``out`` and add the audit entry (the caller commits).

    ``on_figures(statement)`` is called once the figures are computed, ``progress(sheet,
    rows)`` as detail rows are written.
    """
    statement = build_statement(scope, period)
    if on_figures is not None:
        on_figures(statement)
    result = write_statement(
        statement,
        out,
        lang=lang,
        generated_by=user.name,
        generated_at=generated_at or utcnow(),
        max_rows=max_rows,
        progress=progress,
    )
    totals = statement.totals
    if scope.is_channel:
        summary = f"Channel statement {period.label}: {totals.partners} partners"
    else:
        partner = statement.partner
        summary = f"Statement of {partner.name} ({partner.uscc}) {period.label}"
    record_audit(
        "export",
        "Statement",
        after={
            **scope.as_params(),
            "scope": "channel" if scope.is_channel else "partner",
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "lang": lang,
            "via": via,
            "partners": totals.partners,
            "detail_rows": result.rows,
            "ordered": f"{totals.ordered:.2f}",
        },
        summary=f"{summary}, {result.rows} detail rows",
        user_id=user.id,
    )
    return ExportResult(statement=statement, rows=result.rows, sheets=result.sheets)


def expected_detail_rows(statement: Statement) -> int:
    """How many detail rows the workbook will hold (for progress)."""
    totals = statement.totals
    if statement.scope.is_channel:
        return sum(len(months) for months in statement.monthly.values()) + totals.special_lines
    return totals.order_lines + totals.deal_lines + totals.special_lines
