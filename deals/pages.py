"""What the deal pages show: pricing checks per line, partner record, queue rows (read-only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from accounts.models import utcnow
from app import db
from deals.models import DIRECT, LOST_REASONS, RESOLUTIONS, Conflict, Deal, DealEvent, english
from i18n import money, number, percent
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


PRICING_FLAGS = {
    "below_floor": _l("below floor"),
    "special_price": _l("special price"),
    "special_price_admin": _l("special price (admin)"),
}
APPROVERS = {
    "none": _l("— (at or above tier price)"),
    "manager": _l("Channel manager"),
    "admin": _l("Admin only"),
}


def pricing_flags(checks: list[LineView]) -> set[str]:
    """Codes of PRICING_FLAGS raised by a deal's lines."""
    flags = set()
    for view in checks:
        if view.price.below_floor:
            flags.add("below_floor")
        if view.price.special:
            flags.add("special_price_admin" if view.price.approver == "admin" else "special_price")
    return flags


# How two customer names were found to be the same (customers.matching rule codes, and the
# conflict's own "same record").
MATCH_RULES = {
    "same_record": _l("same customer record"),
    "uscc_equal": _l("same unified social credit code"),
    "core_equal": _l("same name once normalised"),
    "fuzzy_near_match": _l("one-letter difference in a long Latin name"),
    "uscc_differs": _l("different unified social credit codes"),
    "empty_name": _l("a name is empty after normalisation"),
    "region_differs": _l("different regions"),
    "region_level_differs": _l("regions at different administrative levels"),
    "branch_differs": _l("different branches"),
    "inner_region_differs": _l("different inner regions"),
    "ordinal_differs": _l("different ordinals"),
    "fuzzy_below_threshold": _l("names differ"),
    # possible: a person decides
    "short_name": _l("a short name of the other"),
    "short_name_region_dropped": _l("a short name without region or legal form"),
    "trade_words_shortened": _l("trade words shortened or dropped"),
    "homophone_typo": _l("one character typed with the same sound"),
    "char_added_or_dropped": _l("one character added or dropped"),
    "chars_transposed": _l("two characters swapped"),
    "latin_near_miss": _l("Latin names a letter or two apart"),
    "region_word_in_name": _l("a place name that may be the region or part of the name"),
    "trade_differs": _l("same trade name, another trade"),
}
# The fields of a conflict's stored evidence, as its "full evidence" lists them.
EVIDENCE_FIELDS = {
    "customer_a": _l("Customer of the registration"),
    "customer_b": _l("Customer it matched"),
    "uscc_a": _l("Credit code of the registration's customer"),
    "uscc_b": _l("Credit code of the matched customer"),
    "match": _l("Matching"),
    "owner_rep_id": _l("Owning direct rep (user ID)"),
    "product_lines": _l("Overlapping product lines"),
    "other_status": _l("Status of the other registration"),
    "others": _l("Earlier registrations at this customer"),
    "confirmed_by": _l("Confirmed the same customer"),
    "confirmed_at": _l("Confirmed at"),
}

_EXTENDED_NOTE = re.compile(r"^\+(\d+) days$")
_SPECIAL_NOTE = re.compile(
    r"^(?P<sku>\S+) × (?P<quantity>\d+) at ¥(?P<price>[\d,]+\.\d+) "
    r"\(tier ¥(?P<tier>[\d,]+\.\d+), (?P<depth>-?[\d.]+) % beyond tier\)\.\s*(?P<rest>.*)$",
    re.S,
)


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def event_note(event: DealEvent) -> str:
    """An event's note in the reader's language.

    People's notes are shown as written; the notes the workflow writes itself are stored in
    English (the reader's language is not the writer's) and translated here.
    """
    note = event.note or ""
    if not note:
        return ""
    if event.action == "protection_extended":
        match = _EXTENDED_NOTE.match(note)
        if match:
            days = int(match.group(1))
            return ngettext("+%(num)d day", "+%(num)d days", days)
    if event.action in ("special_price_approved", "special_price_rejected"):
        match = _SPECIAL_NOTE.match(note)
        if match:
            summary = _(
                "%(sku)s × %(quantity)s at %(price)s (tier %(tier)s, %(depth)s beyond tier).",
                sku=match["sku"],
                quantity=number(int(match["quantity"])),
                price=money(_amount(match["price"])),
                tier=money(_amount(match["tier"])),
                depth=percent(Decimal(match["depth"]) / 100, 2),
            )
            return f"{summary} {match['rest']}".strip()
    if event.action in ("rejected", "won", "lost"):
        for label in (*RESOLUTIONS.values(), *LOST_REASONS.values()):
            if english(label) == note:
                return str(label)
    return note


def partner_record(partner_id: int, visible) -> dict[str, int]:
    """The partner's deals of the last 12 months by status (one grouped query), of those the
    reader may see (``visible``: deals.access.deal_visible_to)."""
    since = utcnow() - timedelta(days=365)
    rows = db.session.execute(
        select(Deal.status, func.count())
        .where(Deal.partner_id == partner_id, Deal.created_at >= since, visible)
        .group_by(Deal.status)
    ).all()
    return dict(rows)


def open_conflict_deal_ids(deal_ids: list[int]) -> set[int]:
    """Which of these deals an open conflict concerns (one query for a page of deals): the
    channel registration it holds (deals.workflow.has_open_conflict), and a direct deal it
    names. An earlier registration named by a later one's overlap is not flagged."""
    if not deal_ids:
        return set()
    direct = set(
        db.session.scalars(select(Deal.id).where(Deal.kind == DIRECT, Deal.id.in_(deal_ids)))
    )
    rows = db.session.execute(
        select(Conflict.deal_id, Conflict.other_deal_id).where(
            Conflict.status == "open",
            (Conflict.deal_id.in_(deal_ids)) | (Conflict.other_deal_id.in_(direct)),
        )
    ).all()
    found = set()
    for deal_id, other_id in rows:
        if deal_id in deal_ids:
            found.add(deal_id)
        if other_id in direct:
            found.add(other_id)
    return found
