"""End customer master data."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.audit import record_audit, snapshot
from accounts.models import REP, User
from app import db
from deals.models import COVERAGES, SEGMENTS, EndCustomer
from partners.forms import uscc_message

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


def save_customer(customer: EndCustomer | None, details: CustomerDetails) -> EndCustomer:
    """Create (customer None) or change an end customer, audited; raises CustomerError."""
    details.name = details.name.strip()
    details.uscc = (details.uscc or "").strip().upper() or None
    _validate(details, customer.id if customer else None)
    before = snapshot(customer, CUSTOMER_AUDIT_FIELDS) if customer else None
    if customer is None:
        customer = EndCustomer()
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
