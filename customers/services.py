"""End customer master data, and who may see which customer."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, column, exists, false, or_, select, table, true

from accounts.audit import record_audit, snapshot
from accounts.models import PARTNER, REP, User
from app import db
from customers.models import COVERAGES, SEGMENTS, EndCustomer
from partners.forms import uscc_message

# The deals a partner registered, seen as a plain table: customers sit to the left of deals, so
# this package names the columns it reads instead of importing the deals package.
_deal = table("deal", column("customer_id"), column("partner_id"), column("kind"))

CUSTOMER_AUDIT_FIELDS = (
    "name",
    "uscc",
    "region",
    "industry",
    "segment",
    "coverage",
    "owner_rep_id",
)


class CustomerError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class CustomerDetails:
    name: str
    uscc: str | None = None
    region: str = ""
    industry: str = ""
    segment: str = "normal"
    coverage: str = "channel"
    owner_rep_id: int | None = None


def customer_visible_to(user: User) -> ColumnElement[bool]:
    """The condition on EndCustomer for the customers ``user`` may see or name.

    Vendor staff see every customer. A partner user sees the customers its partner entered or
    registered (a deal of its own there, in any status) and those the vendor's staff entered as
    channel-covered; never one another partner entered, never a named direct account. The one
    rule behind the type-ahead, the API's match and the customer a registration picks.
    """
    if user.role != PARTNER:
        return true()
    if user.partner_id is None:
        return false()
    registered = exists().where(
        _deal.c.customer_id == EndCustomer.id,
        _deal.c.kind == "channel",
        _deal.c.partner_id == user.partner_id,
    )
    return and_(
        EndCustomer.coverage == "channel",
        or_(
            EndCustomer.created_by_partner_id.is_(None),
            EndCustomer.created_by_partner_id == user.partner_id,
            registered,
        ),
    )


def visible_customer(user: User, customer_id: int) -> EndCustomer | None:
    """The customer with this id if ``user`` may see it, else None (as if it did not exist)."""
    return db.session.scalar(
        select(EndCustomer).where(EndCustomer.id == customer_id, customer_visible_to(user))
    )


def _validate(details: CustomerDetails, customer_id: int | None) -> None:
    if not details.name.strip():
        raise CustomerError("name", _("This field is required."))
    if details.uscc:
        message = uscc_message(details.uscc)
        if message:
            raise CustomerError("uscc", message)
        other = db.session.scalar(select(EndCustomer).where(EndCustomer.uscc == details.uscc))
        if other is not None and other.id != customer_id:
            raise CustomerError(
                "uscc", _("This code is already recorded for %(name)s.", name=other.name)
            )
    if details.segment not in SEGMENTS:
        raise CustomerError("segment", _("Unknown segment."))
    if details.coverage not in COVERAGES:
        raise CustomerError("coverage", _("Unknown coverage."))
    if details.owner_rep_id is not None:
        rep = db.session.get(User, details.owner_rep_id)
        if rep is None or rep.role != REP:
            raise CustomerError("owner_rep_id", _("The owner must be a direct sales rep."))
    if details.coverage == "direct" and details.owner_rep_id is None:
        raise CustomerError("owner_rep_id", _("A named direct account needs its owning rep."))


def save_customer(
    customer: EndCustomer | None,
    details: CustomerDetails,
    *,
    created_by_partner_id: int | None = None,
) -> EndCustomer:
    """Create (customer None) or change an end customer, audited; raises CustomerError.

    ``created_by_partner_id``: the partner whose user enters a new customer (None: the vendor's
    staff); set once on creation, never changed by an edit.
    """
    details.name = details.name.strip()
    details.uscc = (details.uscc or "").strip().upper() or None
    _validate(details, customer.id if customer else None)
    before = snapshot(customer, CUSTOMER_AUDIT_FIELDS) if customer else None
    if customer is None:
        customer = EndCustomer(created_by_partner_id=created_by_partner_id)
        db.session.add(customer)
    for name in CUSTOMER_AUDIT_FIELDS:
        setattr(customer, name, getattr(details, name))
    customer.set_name(customer.name)
    db.session.flush()
    record_audit(
        "update" if before else "create",
        customer,
        before=before,
        after=snapshot(customer, CUSTOMER_AUDIT_FIELDS),
        summary=customer.name,
    )
    return customer
