"""Deal registration and decision workflow: validate, save, submit, decide, expire.

Services take explicit arguments, add and flush, and raise domain errors; the view or command
commits once (or rolls back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.audit import record_audit
from accounts.models import PARTNER, REP, User, utcnow
from app import db
from clock import vendor_tz
from customers.identity import find_same_customer, lock_customer_identity
from customers.models import EndCustomer
from customers.services import CustomerDetails, CustomerError, save_customer, visible_customer
from deals.models import (
    APPROVED,
    CHANNEL,
    CONTACT_ROLES,
    DIRECT,
    DRAFT,
    EXPIRED,
    FUNDING_SOURCES,
    MORE_INFO,
    REJECTED,
    STAGES,
    SUBMITTED,
    Conflict,
    Deal,
    DealContact,
    DealEvent,
    DealLine,
)
from deals.sla import add_working_days
from deals.special_prices import mark_special_requests, settle_approved_prices
from notifications import services as notices
from partners.forms import uscc_message
from partners.models import Partner
from pricing.models import Product
from pricing.services import to_cents

MAX_MONTHS_AHEAD = 18


class DealError(ValueError):
    """A rule broken by a deal action; ``errors`` maps form field names to messages."""

    def __init__(self, errors: dict[str, str] | str):
        if isinstance(errors, str):
            errors = {"": errors}
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in errors.items()))


class StaleDecision(DealError):
    """Someone else changed the deal after this user loaded it."""

    def __init__(self, deal: Deal):
        self.deal = deal
        super().__init__(
            _(
                "This deal was changed by someone else while you were looking at it: it is now "
                "%(status)s. Review its current state before deciding.",
                status=str(deal.status_label).lower(),
            )
        )


class DealConflict(DealError):
    """The deal has an open conflict that must be resolved before it can be approved."""


@dataclass
class LineInput:
    product_id: int | None
    quantity: object  # as typed; checked by check_registration
    unit_price: object


@dataclass
class ContactInput:
    name: str
    role: str
    title: str = ""


@dataclass
class NewCustomerInput:
    name: str
    uscc: str = ""
    region: str = ""
    industry: str = ""


@dataclass
class DealInput:
    project_name: str
    estimated_value: object
    expected_close_date: date | None
    stage: str
    funding_source: str
    customer_id: int | None = None
    new_customer: NewCustomerInput | None = None
    competitors: str = ""
    lines: list[LineInput] = field(default_factory=list)
    contacts: list[ContactInput] = field(default_factory=list)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _positive_money(value) -> Decimal | None:
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount <= 0:
        return None
    return to_cents(amount)


def _positive_whole(value) -> int | None:
    text = str(value).strip()
    if not text.isdigit():
        return None
    number = int(text)
    return number if number > 0 else None


def check_registration(data: DealInput, today: date) -> dict[str, str]:
    """Field-by-field problems with a registration (pure: no database). Empty means valid."""
    errors: dict[str, str] = {}
    if not data.project_name.strip():
        errors["project_name"] = _("Enter the project name.")
    if data.estimated_value in (None, ""):
        errors["estimated_value"] = _("Enter the estimated value.")
    elif _positive_money(data.estimated_value) is None:
        errors["estimated_value"] = _("The estimated value must be a positive amount.")
    if data.expected_close_date is None:
        errors["expected_close_date"] = _("Enter the expected close date.")
    elif data.expected_close_date < today:
        errors["expected_close_date"] = _("The close date cannot be in the past.")
    elif data.expected_close_date > add_months(today, MAX_MONTHS_AHEAD):
        errors["expected_close_date"] = _(
            "The close date must be within %(months)s months from today.", months=MAX_MONTHS_AHEAD
        )
    if data.stage not in STAGES:
        errors["stage"] = _("Choose the stage of the customer's buying process.")
    if data.funding_source not in FUNDING_SOURCES:
        errors["funding_source"] = _("Choose the funding source.")
    if data.customer_id is None and data.new_customer is None:
        errors["customer_id"] = _("Choose an existing customer or enter a new one.")
    if data.new_customer is not None:
        if not data.new_customer.name.strip():
            errors["new_customer-name"] = _("Enter the customer's name.")
        if data.new_customer.uscc:
            message = uscc_message(data.new_customer.uscc.strip().upper())
            if message:
                errors["new_customer-uscc"] = message
    if not data.lines:
        errors["lines"] = _("Add at least one product line.")
    for index, line in enumerate(data.lines):
        if not line.product_id:
            errors[f"lines-{index}-product_id"] = _("Choose a product.")
        if _positive_whole(line.quantity) is None:
            errors[f"lines-{index}-quantity"] = _("The quantity must be a positive whole number.")
        if _positive_money(line.unit_price) is None:
            errors[f"lines-{index}-unit_price"] = _("The price must be a positive amount.")
    for index, contact in enumerate(data.contacts):
        if contact.name.strip() and contact.role not in CONTACT_ROLES:
            errors[f"contacts-{index}-role"] = _("Choose the contact's role.")
    return errors


def record_deal_event(
    deal: Deal, user: User | None, action: str, before: str | None, note: str = ""
):
    deal.events.append(
        DealEvent(
            user_id=user.id if user else None,
            action=action,
            from_status=before,
            to_status=deal.status,
            note=note,
        )
    )
    record_audit(
        action,
        deal,
        before={"status": before},
        after={"status": deal.status, **({"note": note} if note else {})},
        summary=deal.project_name,  # the action has its own column, in the reader's language
        user_id=user.id if user else None,
    )
    if deal.kind == CHANNEL and deal.partner_id is not None:
        # Every change of a deal passes here: keep the partner's price-only statistics current.
        from deals.partner_stats import update_deal_stats

        update_deal_stats(deal)


def _resolve_customer(
    data: DealInput, errors: dict[str, str], user: User, current: EndCustomer | None
) -> EndCustomer | None:
    """The customer a deal names: one picked by id, or a new one (or the known one with its code).

    A picked customer must be one the user may see (customers.services.customer_visible_to), or the
    one the deal already names; any other id answers as if it did not exist.
    """
    if data.customer_id is not None:
        if current is not None and current.id == data.customer_id:
            return current
        customer = visible_customer(user, data.customer_id)
        if customer is None:
            errors["customer_id"] = _("Unknown customer: choose one from the list.")
        return customer
    assert data.new_customer is not None
    new = data.new_customer
    uscc = new.uscc.strip().upper() or None
    # Two people naming one new customer at the same moment: the second waits here, then finds
    # the record the first created instead of creating another.
    lock_customer_identity(new.name, uscc)
    existing = find_same_customer(new.name, uscc, for_partner=user.role == PARTNER)
    if existing is not None:
        return existing
    try:
        return save_customer(
            None,
            CustomerDetails(
                name=new.name, uscc=uscc, region=new.region.strip(), industry=new.industry.strip()
            ),
            created_by_partner_id=user.partner_id if user.role == PARTNER else None,
        )
    except CustomerError as error:
        errors[f"new_customer-{error.field}"] = error.message
        return None


def _apply(deal: Deal, data: DealInput, user: User) -> None:
    # The deal may be new and incomplete: no flush until every field is set.
    with db.session.no_autoflush:
        _apply_fields(deal, data, user)


def _apply_fields(deal: Deal, data: DealInput, user: User) -> None:
    errors: dict[str, str] = {}
    products = {}
    ids = {line.product_id for line in data.lines if line.product_id}
    if ids:
        products = {
            p.id: p
            for p in db.session.scalars(
                select(Product).where(Product.id.in_(ids), Product.active.is_(True))
            )
        }
    for index, line in enumerate(data.lines):
        if line.product_id and line.product_id not in products:
            errors[f"lines-{index}-product_id"] = _("Unknown product: choose one from the list.")
    if errors:
        raise DealError(errors)
    customer = _resolve_customer(data, errors, user, deal.customer if deal.id else None)
    if errors:
        raise DealError(errors)
    deal.customer = customer
    deal.project_name = data.project_name.strip()
    deal.estimated_value = _positive_money(data.estimated_value)
    deal.expected_close_date = data.expected_close_date
    deal.stage = data.stage
    deal.funding_source = data.funding_source
    deal.competitors = data.competitors.strip()
    deal.lines = [
        DealLine(
            product=products[line.product_id],
            quantity=_positive_whole(line.quantity),
            requested_unit_price=_positive_money(line.unit_price),
        )
        for line in data.lines
    ]
    deal.contacts = [
        DealContact(name=c.name.strip(), role=c.role, title=c.title.strip())
        for c in data.contacts
        if c.name.strip()
    ]


def save_registration(
    user: User, data: DealInput, *, deal: Deal | None = None, submit: bool, today: date
) -> Deal:
    """Save a partner's registration as a draft or submit it (which runs conflict detection).

    Nothing is written unless the whole registration is valid (the caller rolls back on error).
    """
    if user.role != PARTNER or user.partner_id is None:
        raise DealError(_("Only a partner user registers channel deals."))
    errors = check_registration(data, today)
    if errors:
        raise DealError(errors)
    if deal is None:
        deal = Deal(kind=CHANNEL, partner_id=user.partner_id, created_by_id=user.id, status=DRAFT)
    elif deal.status not in (DRAFT, MORE_INFO) or deal.partner_id != user.partner_id:
        raise DealError(_("Only a draft, or a deal waiting for more information, can be edited."))
    _apply(deal, data, user)
    db.session.add(deal)  # only now: a new customer may have been flushed in _apply
    db.session.flush()
    if submit:
        submit_deal(deal, user)
    elif deal.events == []:
        record_deal_event(deal, user, "draft_saved", None)
    return deal


def save_direct_deal(user: User, data: DealInput, *, today: date) -> Deal:
    """A direct sales rep's deal; open at once, so conflict detection runs on creation."""
    from deals.conflicts import detect_conflicts

    if user.role != REP:
        raise DealError(_("Only a direct sales rep registers direct deals."))
    errors = check_registration(data, today)
    if errors:
        raise DealError(errors)
    deal = Deal(kind=DIRECT, created_by_id=user.id, status=APPROVED, submitted_at=utcnow())
    _apply(deal, data, user)
    db.session.add(deal)
    db.session.flush()
    record_deal_event(deal, user, "direct_created", None)
    detect_conflicts(deal)
    return deal


def submit_deal(deal: Deal, user: User) -> list[Conflict]:
    """Submit (or resubmit) a registration: start the SLA clock and look for conflicts at once."""
    from deals.conflicts import detect_conflicts

    before = deal.status
    if before not in (DRAFT, MORE_INFO):
        raise DealError(_("Only a draft or a deal waiting for more information can be submitted."))
    now = utcnow()
    deal.status = SUBMITTED
    deal.submitted_at = now
    if deal.first_submitted_at is None:  # a resubmission keeps its place (first registrant)
        deal.first_submitted_at = now
    mark_special_requests(deal)
    deal.sla_due_at = add_working_days(
        now, current_app.config["APPROVAL_SLA_WORKING_DAYS"], vendor_tz().key
    )
    db.session.flush()
    record_deal_event(
        deal, user, "submitted" if before == DRAFT else "information_provided", before
    )
    notices.notify(
        [deal.partner.owner_id],
        notices.DEAL_SUBMITTED if before == DRAFT else notices.DEAL_RESUBMITTED,
        deal_id=deal.id,
        params={"project": deal.project_name, "partner": deal.partner.name, "due": deal.sla_due_at},
    )
    return detect_conflicts(deal)


def has_open_conflict(deal: Deal) -> bool:
    """Is the deal held by an open conflict (approval waits for a person's resolution)?

    A conflict holds the channel registration it was recorded on: the later of two partners'
    registrations (first registrant first), or one at a direct named account or against an open
    direct deal. The earlier registration a later one names is not held by it.
    """
    return (
        db.session.scalar(
            select(Conflict.id)
            .where(Conflict.status == "open", Conflict.deal_id == deal.id)
            .limit(1)
        )
        is not None
    )


def _decide(deal: Deal, expected_version: int | None, allowed: tuple[str, ...]) -> str:
    """Optimistic lock: the decision is about the version the manager saw."""
    if expected_version is not None and deal.version != expected_version:
        raise StaleDecision(deal)
    status = deal.effective_status()
    if status not in allowed:
        raise StaleDecision(deal)
    return deal.status


def approve_deal(deal: Deal, user: User, expected_version: int | None, note: str = "") -> Deal:
    """Approve: protection for the tier's protection days from now."""
    before = _decide(deal, expected_version, (SUBMITTED,))
    if has_open_conflict(deal):
        raise DealConflict(_("Resolve the open conflict on this deal before approving it."))
    if any(line.special_status == "pending" for line in deal.lines):
        # Approving a deal never approves a special price silently.
        raise DealError(_("Decide each special price request before approving the deal."))
    settle_approved_prices(deal)
    partner = db.session.get(Partner, deal.partner_id)
    # Read before the deal changes: loading the policy autoflushes, and a flush between the
    # assignments would write the deal twice (its version moving by two).
    protection_days = partner.tier_policy.protection_days
    now = utcnow()
    deal.status = APPROVED
    deal.decided_at = now
    deal.protection_expires_at = now + timedelta(days=protection_days)
    db.session.flush()
    record_deal_event(deal, user, "approved", before, note)
    notices.notify_partner(
        deal.partner_id,
        notices.DEAL_APPROVED,
        deal_id=deal.id,
        params={"project": deal.project_name, "expires": deal.protection_expires_at},
    )
    return deal


def reject_deal(deal: Deal, user: User, expected_version: int | None, reason: str) -> Deal:
    if not reason.strip():
        raise DealError({"reason": _("Give the partner a reason for the rejection.")})
    before = _decide(deal, expected_version, (SUBMITTED, MORE_INFO))
    deal.status = REJECTED
    deal.decided_at = utcnow()
    db.session.flush()
    record_deal_event(deal, user, "rejected", before, reason.strip())
    notices.notify_partner(
        deal.partner_id,
        notices.DEAL_REJECTED,
        deal_id=deal.id,
        params={"project": deal.project_name, "note": reason.strip()},
    )
    return deal


def request_information(
    deal: Deal, user: User, expected_version: int | None, question: str
) -> Deal:
    if not question.strip():
        raise DealError({"question": _("Say what information the partner should add.")})
    before = _decide(deal, expected_version, (SUBMITTED,))
    deal.status = MORE_INFO
    db.session.flush()
    record_deal_event(deal, user, "information_requested", before, question.strip())
    notices.notify_partner(
        deal.partner_id,
        notices.MORE_INFO_REQUESTED,
        deal_id=deal.id,
        params={"project": deal.project_name, "note": question.strip()},
    )
    return deal


def answer_information_request(deal: Deal, user: User, answer: str) -> Deal:
    """The partner's answer puts the deal back in the queue with a fresh SLA."""
    if not answer.strip():
        raise DealError({"answer": _("Write your answer.")})
    if deal.status != MORE_INFO:
        raise DealError(_("No information is requested on this deal."))
    deal.events.append(
        DealEvent(
            user_id=user.id,
            action="answer",
            from_status=MORE_INFO,
            to_status=MORE_INFO,
            note=answer.strip(),
        )
    )
    submit_deal(deal, user)
    return deal


def mark_strategic_exception(
    deal: Deal, user: User, expected_version: int | None, strategic: bool, note: str = ""
) -> Deal:
    before = _decide(deal, expected_version, (DRAFT, SUBMITTED, MORE_INFO, APPROVED))
    deal.strategic_exception = strategic
    db.session.flush()
    record_deal_event(
        deal,
        user,
        "strategic_exception" if strategic else "strategic_exception_removed",
        before,
        note,
    )
    return deal


def extend_protection(
    deal: Deal, user: User, expected_version: int | None, days: int, note: str = ""
) -> Deal:
    """Extend an approved deal's protection (also revives one whose time has just run out)."""
    if not isinstance(days, int) or not 1 <= days <= 365:
        raise DealError({"days": _("Extend by 1 to 365 days.")})
    before = _decide(deal, expected_version, (APPROVED, EXPIRED))
    start = max(deal.protection_expires_at or utcnow(), utcnow())
    deal.protection_expires_at = start + timedelta(days=days)
    deal.status = APPROVED
    db.session.flush()
    record_deal_event(deal, user, "protection_extended", before, note or f"+{days} days")
    return deal


def expire_deals(now: datetime | None = None) -> int:
    """Move approved channel deals past their protection to expired; returns how many."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Deal).where(
            Deal.status == APPROVED,
            Deal.kind == CHANNEL,
            Deal.protection_expires_at <= now,
        )
    ).all()
    for deal in due:
        before = deal.status
        deal.status = EXPIRED
        record_deal_event(deal, None, "expired", before)
    db.session.flush()
    return len(due)


def close_deal(deal: Deal, user: User, outcome: str, lost_reason: str | None = None) -> Deal:
    """Record the customer's decision on an approved deal: won, or lost with the reason."""
    from deals.models import LOST, LOST_REASONS, WON, english

    if deal.effective_status() != APPROVED:
        raise DealError(_("Only an approved deal under protection can be closed as won or lost."))
    if outcome not in (WON, LOST):
        raise DealError({"outcome": _("Choose won or lost.")})
    if outcome == LOST and lost_reason not in LOST_REASONS:
        raise DealError({"lost_reason": _("Say why the deal was lost.")})
    before = deal.status
    deal.status = outcome
    deal.lost_reason = lost_reason if outcome == LOST else None
    db.session.flush()
    record_deal_event(
        deal,
        user,
        outcome,
        before,
        english(LOST_REASONS.get(lost_reason, "")) if lost_reason else "",
    )
    return deal
