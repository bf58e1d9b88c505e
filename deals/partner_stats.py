"""Deal statistics per partner for the price-only signals, in grouped queries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from app import db
from deals.models import CHANNEL, DRAFT, LOST, WON, Deal, DealLine
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
    special = (
        select(DealLine.deal_id)
        .where(DealLine.special_status != "none")
        .group_by(DealLine.deal_id)
        .subquery()
    )
    granted = (
        select(DealLine.deal_id)
        .where(DealLine.special_status == "approved")
        .group_by(DealLine.deal_id)
        .subquery()
    )

    def count_if(condition):
        return func.sum(case((condition, 1), else_=0))

    deal_rows = db.session.execute(
        select(
            Deal.partner_id,
            func.count(Deal.id),
            count_if(special.c.deal_id.is_not(None)),
            count_if(Deal.status == LOST),
            count_if(and_(Deal.status == LOST, Deal.lost_reason == "price")),
            count_if(Deal.status == WON),
            count_if(and_(Deal.status == WON, granted.c.deal_id.is_not(None))),
        )
        .outerjoin(special, special.c.deal_id == Deal.id)
        .outerjoin(granted, granted.c.deal_id == Deal.id)
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


def price_only_for(partner_ids: list[int], today: date | None = None) -> dict[int, PriceOnlyResult]:
    """The price-only signals for many partners (a handful of queries in all)."""
    today = today or date.today()
    settings = get_settings()
    stats = deal_stats(partner_ids)
    committed = current_commitments(partner_ids, today)
    return {
        pid: price_only_signals(stats.get(pid, DealStats()), pid in committed, settings)
        for pid in partner_ids
    }
