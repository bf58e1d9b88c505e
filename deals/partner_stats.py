"""Deal statistics per partner for the price-only signals, in grouped queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from app import db
from deals.models import CHANNEL, DRAFT, LOST, WON, Deal, DealLine, PartnerDealStats
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


def refresh_partner_stats(partner_ids: list[int]) -> None:
    """Recompute the stored statistics of these partners (after any change to their deals)."""
    partner_ids = [pid for pid in set(partner_ids) if pid is not None]
    fresh = deal_stats(partner_ids)
    for pid in partner_ids:
        stats = fresh.get(pid, DealStats())
        row = db.session.get(PartnerDealStats, pid) or PartnerDealStats(partner_id=pid)
        for name in STAT_FIELDS:
            setattr(row, name, getattr(stats, name))
        db.session.add(row)
    db.session.flush()


def stored_stats(partner_ids: list[int]) -> dict[int, DealStats]:
    """The statistics kept by refresh_partner_stats, one indexed query for a page of partners."""
    if not partner_ids:
        return {}
    rows = db.session.scalars(
        select(PartnerDealStats).where(PartnerDealStats.partner_id.in_(partner_ids))
    )
    return {
        row.partner_id: DealStats(
            **{name: getattr(row, name) for name in STAT_FIELDS if name != "extra_discount_sum"},
            extra_discount_sum=Decimal(row.extra_discount_sum),
        )
        for row in rows
    }


def price_only_for(partner_ids: list[int], today: date | None = None) -> dict[int, PriceOnlyResult]:
    """The price-only signals for many partners, from the stored statistics (two queries).

    Computing them from the deals on every page view costs hundreds of milliseconds with a
    million deals (bench: docs/benchmarks.md), so the statistics are refreshed whenever a
    partner's deal changes and read here.
    """
    today = today or date.today()
    settings = get_settings()
    stats = stored_stats(partner_ids)
    committed = current_commitments(partner_ids, today)
    return {
        pid: price_only_signals(stats.get(pid, DealStats()), pid in committed, settings)
        for pid in partner_ids
    }
