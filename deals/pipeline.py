"""The open channel pipeline per partner and buying stage, kept beside the deals.

``partner_pipeline`` holds, per partner and stage, the channel deals whose status still claims
the customer (submitted, more information requested, approved) and their estimated value in
integer cents. A session hook applies every flushed change of a deal's kind, partner, status,
stage or estimated value (and every new or deleted deal) as a delta, in the same transaction
as the change: the workflow, conflict resolution, the API, imports, seeding and tests all keep
it without knowing about it. Only bulk SQL on the ``deal`` table (the benchmark loaders) goes
around it; they call ``rebuild_pipeline`` afterwards, as does ``flask deals refresh-pipeline``.

An approved deal whose protection has passed reads as expired (Deal.effective_status) even
before `flask deals expire` moves it: ``open_pipeline`` subtracts those live, a range of the
index ``ix_deal_protection_passed`` (the deals past protection that the daily expiry has not
reached yet), so the figures are exact at any moment.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger, cast, event, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import db
from deals.models import APPROVED, CHANNEL, OPEN_STATUSES, Deal, PartnerPipeline
from partners.models import Partner
from partners.order_totals import replace_partner_rows

TRACKED = ("kind", "partner_id", "status", "stage", "estimated_value")


def value_cents(value) -> int:
    """An estimated value as integer cents, half-up (values are already whole cents)."""
    if value is None:
        return 0
    return int((Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def cents_sql(money_column):
    """A money column as integer cents in SQL (exact on SQLite's floating-point NUMERIC too)."""
    return cast(func.round(money_column * 100), BigInteger)


def _counted(kind, partner_id, status, stage) -> tuple[int, str] | None:
    """The (partner, stage) a deal with these values counts in, or None when not open."""
    if kind != CHANNEL or partner_id is None or status not in OPEN_STATUSES:
        return None
    return partner_id, stage


def _old_and_new(deal: Deal) -> tuple[dict, dict] | None:
    """The tracked values before and after a flush of a changed deal (None if none changed)."""
    state = inspect(deal)
    old, new, changed = {}, {}, False
    for name in TRACKED:
        history = state.attrs[name].history
        current = getattr(deal, name)
        new[name] = current
        if history.has_changes():
            changed = True
            old[name] = history.deleted[0] if history.deleted else None
        else:
            old[name] = current
    return (old, new) if changed else None


def _deltas(session: Session) -> dict[tuple[int, str], list[int]]:
    """(partner, stage) → [deals, cents] moved by the deals this flush writes."""
    deltas: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])

    def move(values: dict, sign: int) -> None:
        key = _counted(values["kind"], values["partner_id"], values["status"], values["stage"])
        if key is not None:
            deltas[key][0] += sign
            deltas[key][1] += sign * value_cents(values["estimated_value"])

    for deal in session.new:
        if isinstance(deal, Deal):
            move({name: getattr(deal, name) for name in TRACKED}, 1)
    for deal in session.dirty:
        if isinstance(deal, Deal):
            change = _old_and_new(deal)
            if change is not None:
                move(change[0], -1)
                move(change[1], 1)
    for deal in session.deleted:
        if isinstance(deal, Deal):
            values = {}
            for name in TRACKED:
                history = inspect(deal).attrs[name].history
                values[name] = history.deleted[0] if history.deleted else getattr(deal, name)
            move(values, -1)
    return {key: moved for key, moved in deltas.items() if moved != [0, 0]}


def _upsert(connection, deltas: dict[tuple[int, str], list[int]]) -> None:
    """Add the deltas to the stored rows, creating missing ones: one atomic statement per row
    (concurrent transactions add up; rows in key order, so they never wait on each other in a
    cycle)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    table = PartnerPipeline.__table__
    for (partner_id, stage), (deals, cents) in sorted(deltas.items()):
        stmt = dialect.insert(table).values(
            partner_id=partner_id, stage=stage, deals=deals, value_cents=cents
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.partner_id, table.c.stage],
            set_={
                "deals": table.c.deals + stmt.excluded.deals,
                "value_cents": table.c.value_cents + stmt.excluded.value_cents,
            },
        )
        connection.execute(stmt)


@event.listens_for(Session, "after_flush")
def keep_pipeline(session: Session, flush_context) -> None:
    """After each flush (its attribute history still there, foreign keys filled in): move the
    stored pipeline by what the flushed deals changed, on the flush's own connection."""
    deltas = _deltas(session)
    if deltas:
        _upsert(session.connection(), deltas)


def pipeline_from_deals(partner_ids: list[int] | None = None):
    """SELECT of what ``partner_pipeline`` holds, computed from the deals."""
    stmt = (
        select(
            Deal.partner_id,
            Deal.stage,
            func.count().label("deals"),
            func.sum(cents_sql(Deal.estimated_value)).label("value_cents"),
        )
        .where(Deal.kind == CHANNEL, Deal.status.in_(OPEN_STATUSES), Deal.partner_id.is_not(None))
        .group_by(Deal.partner_id, Deal.stage)
    )
    if partner_ids is not None:
        stmt = stmt.where(Deal.partner_id.in_(partner_ids))
    return stmt


def rebuild_pipeline(partner_ids: list[int] | None = None) -> int:
    """Recompute the stored pipeline of these partners (all when None) from their deals, in one
    INSERT ... SELECT ... GROUP BY; returns the number of rows. The caller commits."""
    return replace_partner_rows(
        PartnerPipeline.__table__,
        ["partner_id", "stage", "deals", "value_cents"],
        pipeline_from_deals(partner_ids),
        partner_ids,
    )


def open_pipeline(partners, now: datetime) -> dict[tuple[str, str], tuple[int, int]]:
    """(tier, stage) → (open channel deals, estimated value in cents) of the partners selected by
    ``partners`` (a list of conditions on Partner; empty: all), as the deal lists count them at
    ``now``: the stored rows, less the approved deals whose protection has passed."""
    stored = select(
        Partner.tier,
        PartnerPipeline.stage,
        func.sum(PartnerPipeline.deals),
        func.sum(PartnerPipeline.value_cents),
    ).join(Partner, Partner.id == PartnerPipeline.partner_id)
    passed = select(
        Partner.tier,
        Deal.stage,
        func.count(),
        func.sum(cents_sql(Deal.estimated_value)),
    ).join(Partner, Partner.id == Deal.partner_id)
    passed = passed.where(
        Deal.kind == CHANNEL,
        Deal.status == APPROVED,
        Deal.protection_expires_at <= now,
    )
    figures: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for stmt, sign in (
        (stored.where(*partners).group_by(Partner.tier, PartnerPipeline.stage), 1),
        (passed.where(*partners).group_by(Partner.tier, Deal.stage), -1),
    ):
        for tier, stage, count, cents in db.session.execute(stmt):
            figures[(tier, stage)][0] += sign * int(count or 0)
            figures[(tier, stage)][1] += sign * int(cents or 0)
    return {key: (count, cents) for key, (count, cents) in figures.items() if count}
