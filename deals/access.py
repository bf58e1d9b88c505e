"""Which deals a user may see: one rule for pages, lists, counts and the API."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, select

from accounts.models import PARTNER, User
from app import db
from deals.models import CHANNEL, DRAFT, Deal


def deal_visible_to(user: User) -> ColumnElement[bool]:
    """The condition on Deal for the deals ``user`` may see.

    A partner user sees its own partner's registrations, drafts included. Vendor staff see
    every deal but the drafts: a draft is the partner's own business until it is submitted.
    """
    if user.role == PARTNER:
        if user.partner_id is None:
            return false()
        return and_(Deal.kind == CHANNEL, Deal.partner_id == user.partner_id)
    return Deal.status != DRAFT


def visible_deal(user: User, deal_id: int, *options) -> Deal | None:
    """The deal with this id if ``user`` may see it, else None (answer 404: as if none)."""
    return db.session.scalar(
        select(Deal).where(Deal.id == deal_id, deal_visible_to(user)).options(*options)
    )
