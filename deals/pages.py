"""What the deal pages show: pricing checks per line, partner record, queue rows (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from accounts.models import utcnow
from app import db
from deals.models import Conflict, Deal
from partners.models import Partner
from pricing.services import PriceCheck, check_price


@dataclass
class LineView:
    line: object
    price: PriceCheck


def line_checks(deal: Deal, partner: Partner | None) -> list[LineView]:
    """Each line against list, tier and floor price (direct deals use the list price as tier)."""
    views = []
    for line in deal.lines:
        policy = partner.tier_policy if partner is not None else None
        views.append(
            LineView(
                line=line,
                price=check_price(
                    list_price=line.product.list_price,
                    floor_price=line.product.floor_price,
                    discount_rate=policy.discount_rate if policy else 0,
                    approval_limit=policy.approval_limit if policy else 0,
                    requested=line.requested_unit_price,
                ),
            )
        )
    return views


def pricing_flags(checks: list[LineView]) -> set[str]:
    flags = set()
    for view in checks:
        if view.price.below_floor:
            flags.add("below floor")
        if view.price.special:
            flags.add(
                "special price (admin)" if view.price.approver == "admin" else "special price"
            )
    return flags


def partner_record(partner_id: int) -> dict[str, int]:
    """The partner's deals of the last 12 months by status (one grouped query)."""
    since = utcnow() - timedelta(days=365)
    rows = db.session.execute(
        select(Deal.status, func.count())
        .where(Deal.partner_id == partner_id, Deal.created_at >= since)
        .group_by(Deal.status)
    ).all()
    return dict(rows)


def open_conflict_deal_ids(deal_ids: list[int]) -> set[int]:
    """Which of these deals have an open conflict (one query for a page of deals)."""
    if not deal_ids:
        return set()
    rows = db.session.execute(
        select(Conflict.deal_id, Conflict.other_deal_id).where(
            Conflict.status == "open",
            (Conflict.deal_id.in_(deal_ids)) | (Conflict.other_deal_id.in_(deal_ids)),
        )
    ).all()
    found = set()
    for deal_id, other_id in rows:
        found.update(i for i in (deal_id, other_id) if i in deal_ids)
    return found
