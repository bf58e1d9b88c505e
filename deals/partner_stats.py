"""Deal statistics per partner for the price-only signals, in grouped queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, delete, func, insert, literal, select

from app import db
from clock import vendor_today
from deals.models import (
    CHANNEL,
    DRAFT,
    LOST,
    WON,
    Deal,
    DealLine,
    DealStatsContribution,
    PartnerDealStats,
)
from partners.commitments import current_commitments
from partners.models import Partner, TierPolicy
from partners.settings import get_settings
from partners.signals import DealStats, PriceOnlyResult, price_only_signals
from pricing.models import Product


def deal_stats(partner_ids: list[int]) -> dict[int, DealStats]:
    """Per partner: counts over its submitted channel deals, strategic exceptions left out."""
    if not partner_ids:
        return {}
    counted = and_(
        Deal.partner_id.in_(partner_ids),
        Deal.kind == CHANNEL,
        Deal.status != DRAFT,
        Deal.strategic_exception.is_(False),
    )
    # Correlated EXISTS on deal_line.deal_id: touches only these partners' lines.
    special = (
        select(DealLine.id)
        .where(DealLine.deal_id == Deal.id, DealLine.special_status != "none")
        .exists()
    )
    granted = (
        select(DealLine.id)
        .where(DealLine.deal_id == Deal.id, DealLine.special_status == "approved")
        .exists()
    )

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))

    deal_rows = db.session.execute(
        select(
            Deal.partner_id,
            func.count(Deal.id),
            count_if(special),
            count_if(Deal.status == LOST),
            count_if(and_(Deal.status == LOST, Deal.lost_reason == "price")),
            count_if(Deal.status == WON),
            count_if(and_(Deal.status == WON, granted)),
        )
        .where(counted)
        .group_by(Deal.partner_id)
    ).all()
    # Discount asked beyond the tier's, as a share of list price, per line (never below 0).
    extra = (1 - TierPolicy.discount_rate) - DealLine.requested_unit_price / Product.list_price
    line_rows = db.session.execute(
        select(
            Deal.partner_id,
            func.count(DealLine.id),
            func.sum(case((extra > 0, extra), else_=0)),
        )
        .join(DealLine, DealLine.deal_id == Deal.id)
        .join(Product, Product.id == DealLine.product_id)
        .join(Partner, Partner.id == Deal.partner_id)
        .join(TierPolicy, TierPolicy.tier == Partner.tier)
        .where(counted)
        .group_by(Deal.partner_id)
    ).all()
    lines = {pid: (n, Decimal(str(total or 0))) for pid, n, total in line_rows}
    stats = {}
    for pid, deals, with_special, lost, lost_price, won, won_special in deal_rows:
        n_lines, extra_sum = lines.get(pid, (0, Decimal(0)))
        stats[pid] = DealStats(
            deals=deals,
            deals_with_special=int(with_special or 0),
            lines=n_lines,
            extra_discount_sum=extra_sum,
            lost=int(lost or 0),
            lost_on_price=int(lost_price or 0),
            won=int(won or 0),
            won_with_special=int(won_special or 0),
        )
    return stats


STAT_FIELDS = (
    "deals",
    "deals_with_special",
    "lines",
    "extra_discount_sum",
    "lost",
    "lost_on_price",
    "won",
    "won_with_special",
)


def deal_contribution(deal: Deal) -> DealStats:
    """What one deal counts for in its partner's statistics (same rules as deal_stats)."""
    if deal.kind != CHANNEL or deal.status == DRAFT or deal.strategic_exception:
        return DealStats()
    discount = deal.partner.tier_policy.discount_rate
    extra = Decimal(0)
    for line in deal.lines:
        beyond = (1 - discount) - line.requested_unit_price / line.product.list_price
        extra += max(beyond, Decimal(0))
    special = any(line.special_status != "none" for line in deal.lines)
    granted = any(line.special_status == "approved" for line in deal.lines)
    return DealStats(
        deals=1,
        deals_with_special=int(special),
        lines=len(deal.lines),
        extra_discount_sum=extra.quantize(Decimal("0.000001")),
        lost=int(deal.status == LOST),
        lost_on_price=int(deal.status == LOST and deal.lost_reason == "price"),
        won=int(deal.status == WON),
        won_with_special=int(deal.status == WON and granted),
    )


def update_deal_stats(deal: Deal) -> None:
    """Apply the change of one deal to its partner's statistics as a delta (constant time)."""
    new = deal_contribution(deal)
    old = db.session.get(DealStatsContribution, deal.id)
    partner = db.session.get(PartnerDealStats, deal.partner_id)
    if partner is None:
        partner = PartnerDealStats(partner_id=deal.partner_id)
        for name in STAT_FIELDS:
            setattr(partner, name, Decimal(0) if name == "extra_discount_sum" else 0)
        db.session.add(partner)
    if old is None:
        old = DealStatsContribution(deal_id=deal.id, partner_id=deal.partner_id)
        for name in STAT_FIELDS:
            setattr(old, name, Decimal(0) if name == "extra_discount_sum" else 0)
        db.session.add(old)
    for name in STAT_FIELDS:
        value = getattr(new, name)
        setattr(partner, name, getattr(partner, name) + value - getattr(old, name))
        setattr(old, name, value)


def refresh_partner_stats(partner_ids: list[int]) -> None:
    """Rebuild these partners' statistics and per-deal contributions from their deals (bulk:
    `flask deals refresh-stats`, after a tier policy change or a bulk load)."""
    partner_ids = [pid for pid in set(partner_ids) if pid is not None]
    if not partner_ids:
        return
    db.session.execute(
        delete(DealStatsContribution).where(DealStatsContribution.partner_id.in_(partner_ids))
    )
    extra = (1 - TierPolicy.discount_rate) - DealLine.requested_unit_price / Product.list_price

    def flag(condition):
        return func.max(case((condition, 1), else_=0))

    per_deal = (
        select(
            Deal.id,
            Deal.partner_id,
            literal(1),
            flag(DealLine.special_status != "none"),
            func.count(DealLine.id),
            func.sum(case((extra > 0, extra), else_=0)),
            flag(Deal.status == LOST),
            flag(and_(Deal.status == LOST, Deal.lost_reason == "price")),
            flag(Deal.status == WON),
            flag(and_(Deal.status == WON, DealLine.special_status == "approved")),
        )
        .join(DealLine, DealLine.deal_id == Deal.id)
        .join(Product, Product.id == DealLine.product_id)
        .join(Partner, Partner.id == Deal.partner_id)
        .join(TierPolicy, TierPolicy.tier == Partner.tier)
        .where(
            Deal.partner_id.in_(partner_ids),
            Deal.kind == CHANNEL,
            Deal.status != DRAFT,
            Deal.strategic_exception.is_(False),
        )
        .group_by(Deal.id, Deal.partner_id)
    )
    db.session.execute(
        insert(DealStatsContribution).from_select(["deal_id", "partner_id", *STAT_FIELDS], per_deal)
    )
    totals = {
        row[0]: row[1:]
        for row in db.session.execute(
            select(
                DealStatsContribution.partner_id,
                *[func.sum(getattr(DealStatsContribution, name)) for name in STAT_FIELDS],
            )
            .where(DealStatsContribution.partner_id.in_(partner_ids))
            .group_by(DealStatsContribution.partner_id)
        )
    }
    for pid in partner_ids:
        values = totals.get(pid, (0,) * len(STAT_FIELDS))
        row = db.session.get(PartnerDealStats, pid) or PartnerDealStats(partner_id=pid)
        for name, value in zip(STAT_FIELDS, values, strict=True):
            value = value or 0
            setattr(row, name, Decimal(str(value)) if name == "extra_discount_sum" else int(value))
        db.session.add(row)
    db.session.flush()


WHOLE_CHANNEL = 500  # more partners than this: read every partner's row, keep the listed ones


def stored_stats(partner_ids: list[int]) -> dict[int, DealStats]:
    """The statistics kept by refresh_partner_stats, one indexed query (plain rows, no ORM
    objects: a whole channel is 2,000 of them)."""
    if not partner_ids:
        return {}
    table = PartnerDealStats.__table__
    stmt = select(table.c.partner_id, *[table.c[name] for name in STAT_FIELDS])
    if len(partner_ids) <= WHOLE_CHANNEL:  # else 2,000 bound parameters cost more than rows
        stmt = stmt.where(table.c.partner_id.in_(partner_ids))
    wanted = set(partner_ids)
    stats = {}
    for pid, *values in db.session.execute(stmt):
        if pid in wanted:
            fields = dict(zip(STAT_FIELDS, values, strict=True))
            fields["extra_discount_sum"] = Decimal(fields["extra_discount_sum"])
            stats[pid] = DealStats(**fields)
    return stats


def price_only_for(partner_ids: list[int], today: date | None = None) -> dict[int, PriceOnlyResult]:
    """The price-only signals for many partners, from the stored statistics (two queries).

    Computing them from the deals on every page view costs hundreds of milliseconds with a
    million deals (bench: docs/benchmarks.md), so the statistics are refreshed whenever a
    partner's deal changes and read here. Partners with the same statistics and commitment
    (most often: no deals yet) get the same result, worked out once.
    """
    today = today or vendor_today()
    settings = get_settings()
    stats = stored_stats(partner_ids)
    committed = current_commitments(partner_ids, today)
    results: dict[tuple[DealStats, bool], PriceOnlyResult] = {}
    signals = {}
    for pid in partner_ids:
        key = (stats.get(pid, DealStats()), pid in committed)
        if key not in results:
            results[key] = price_only_signals(key[0], key[1], settings)
        signals[pid] = results[key]
    return signals
