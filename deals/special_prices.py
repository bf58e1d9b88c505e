"""Special price requests: deal lines asking below the partner's tier price.

Within the tier's approval limit a channel manager decides; deeper, or below the product's floor
price, only an admin. A special price is only offered to a partner whose commitment attainment
is on track (pro-rata at or above a threshold), unless the deal is a strategic exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _

from accounts.audit import record_audit
from accounts.models import ADMIN, MANAGER, User, utcnow
from app import db
from clock import vendor_today
from deals.models import Deal, DealLine
from i18n import percent
from partners.commitments import attainments
from partners.settings import get_settings
from pricing.services import PriceCheck, check_price


class SpecialPriceRefused(ValueError):
    """A special price decision that the rules do not allow; the message says why."""


def price_check_for(line: DealLine, deal: Deal) -> PriceCheck:
    policy = deal.partner.tier_policy if deal.partner is not None else None
    return check_price(
        list_price=line.product.list_price,
        floor_price=line.product.floor_price,
        discount_rate=policy.discount_rate if policy else Decimal(0),
        approval_limit=policy.approval_limit if policy else Decimal(0),
        requested=line.requested_unit_price,
    )


def mark_special_requests(deal: Deal) -> int:
    """On submission: each line below the tier price waits for its own decision."""
    pending = 0
    for line in deal.lines:
        if price_check_for(line, deal).special:
            if line.special_status not in ("approved", "rejected"):
                line.special_status = "pending"
            pending += line.special_status == "pending"
        else:
            line.special_status = "none"
    return pending


@dataclass(frozen=True)
class OfferCheck:
    """Whether the vendor offers special prices to this partner now, and why not."""

    allowed: bool
    reason: str


def special_price_offer(deal: Deal, today: date | None = None) -> OfferCheck:
    if deal.strategic_exception:
        return OfferCheck(True, _("Strategic exception: the attainment rule does not apply."))
    threshold = get_settings()["special_price_min_pro_rata"]
    progress = attainments([deal.partner_id], today or vendor_today()).get(deal.partner_id)
    if progress is None:
        return OfferCheck(
            False,
            _(
                "No special price: the partner has no active stock commitment "
                "(unless the deal is marked a strategic exception)."
            ),
        )
    pro_rata = progress.pro_rata_attainment or Decimal(0)
    if pro_rata < threshold:
        return OfferCheck(
            False,
            _(
                "No special price: commitment attainment is %(attainment)s of pro-rata, "
                "below the %(threshold)s required (unless the deal is marked a strategic "
                "exception).",
                attainment=percent(pro_rata, 1),
                threshold=percent(threshold),
            ),
        )
    return OfferCheck(
        True, _("Attainment %(attainment)s of pro-rata: on track.", attainment=percent(pro_rata, 1))
    )


def may_decide_line(user: User, check: PriceCheck) -> bool:
    if check.approver == "admin":
        return user.role == ADMIN
    return user.role in (ADMIN, MANAGER)


def decide_special_price(
    deal: Deal, line: DealLine, user: User, *, approve: bool, note: str = ""
) -> DealLine:
    """Approve or refuse one line's special price; audited and in the deal's history."""
    from deals.workflow import record_deal_event

    if line.deal_id != deal.id or line.special_status != "pending":
        raise SpecialPriceRefused(_("This line has no special price waiting for a decision."))
    check = price_check_for(line, deal)
    if not may_decide_line(user, check):
        raise SpecialPriceRefused(
            _(
                "Only an admin may approve this price: it is deeper than the tier's approval "
                "limit or below the floor price."
            )
        )
    if approve:
        offer = special_price_offer(deal)
        if not offer.allowed:
            raise SpecialPriceRefused(offer.reason)
    line.special_status = "approved" if approve else "rejected"
    line.special_decided_by_id = user.id
    line.special_decided_at = utcnow()
    line.special_note = note.strip()[:300]
    db.session.flush()
    action = "special_price_approved" if approve else "special_price_rejected"
    # Stored in English (audit log and history); the history page translates it when shown.
    summary = (
        f"{line.product.sku} × {line.quantity} at ¥{check.requested:,.2f} "
        f"(tier ¥{check.tier_price:,.2f}, {check.extra_depth * 100:.2f} % beyond tier)"
    )
    record_audit(
        action,
        deal,
        before={"line": line.id, "special_status": "pending"},
        after={"line": line.id, "special_status": line.special_status, "price": summary},
        summary=summary,
        user_id=user.id,
    )
    record_deal_event(deal, user, action, deal.status, f"{summary}. {note}".strip())
    return line


def settle_approved_prices(deal: Deal) -> None:
    """At approval: each line keeps the price that was granted."""
    for line in deal.lines:
        if line.special_status == "rejected":
            line.approved_unit_price = price_check_for(line, deal).tier_price
        else:
            line.approved_unit_price = line.requested_unit_price
