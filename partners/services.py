"""Partner and tier policy rules: create, change, with an audit entry each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from accounts.audit import record_audit, snapshot
from accounts.models import ADMIN, MANAGER, User
from app import db
from partners.forms import uscc_message
from partners.models import TIERS, Partner, PartnerContact, TierPolicy

PARTNER_AUDIT_FIELDS = (
    "name",
    "uscc",
    "region",
    "partner_type",
    "tier",
    "status",
    "owner_id",
    "agreement_start",
    "agreement_end",
    "notes",
)


class PartnerError(ValueError):
    """A partner change that breaks a rule; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class ContactDetails:
    name: str
    title: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class PartnerDetails:
    name: str
    uscc: str
    tier: str
    region: str = ""
    partner_type: str = "reseller"
    status: str = "active"
    owner_id: int | None = None
    agreement_start: date | None = None
    agreement_end: date | None = None
    notes: str = ""
    contacts: list[ContactDetails] | None = None


def _validate(details: PartnerDetails, partner_id: int | None) -> None:
    message = uscc_message(details.uscc)
    if message:
        raise PartnerError("uscc", message)
    if details.tier not in TIERS:
        raise PartnerError("tier", _("Unknown tier."))
    other = db.session.scalar(select(Partner).where(Partner.uscc == details.uscc))
    if other is not None and other.id != partner_id:
        raise PartnerError(
            "uscc", _("This code is already registered for %(partner)s.", partner=other.name)
        )
    if details.owner_id is not None:
        owner = db.session.get(User, details.owner_id)
        if owner is None or owner.role not in (MANAGER, ADMIN):
            raise PartnerError("owner_id", _("The owner must be a channel manager."))
    if (
        details.agreement_start
        and details.agreement_end
        and details.agreement_end < details.agreement_start
    ):
        raise PartnerError("agreement_end", _("The agreement cannot end before it starts."))


def _apply(partner: Partner, details: PartnerDetails) -> None:
    for name in PARTNER_AUDIT_FIELDS:
        setattr(partner, name, getattr(details, name))
    if details.contacts is not None:
        partner.contacts = [
            PartnerContact(name=c.name, title=c.title, phone=c.phone, email=c.email)
            for c in details.contacts
            if c.name.strip()
        ]


def _contacts_snapshot(partner: Partner) -> list[str]:
    return [f"{c.name} {c.title} {c.phone} {c.email}".strip() for c in partner.contacts]


def create_partner(details: PartnerDetails) -> Partner:
    """Add a partner; raises PartnerError (invalid or duplicate credit code, unknown owner)."""
    _validate(details, None)
    partner = Partner()
    _apply(partner, details)
    db.session.add(partner)
    db.session.flush()
    after = snapshot(partner, PARTNER_AUDIT_FIELDS) | {"contacts": _contacts_snapshot(partner)}
    record_audit("create", partner, after=after, summary=partner.name)
    return partner


def update_partner(partner: Partner, details: PartnerDetails) -> Partner:
    """Change a partner's master data; tier changes are audited with the rest."""
    _validate(details, partner.id)
    before = snapshot(partner, PARTNER_AUDIT_FIELDS) | {"contacts": _contacts_snapshot(partner)}
    _apply(partner, details)
    db.session.flush()
    after = snapshot(partner, PARTNER_AUDIT_FIELDS) | {"contacts": _contacts_snapshot(partner)}
    record_audit("update", partner, before=before, after=after, summary=partner.name)
    return partner


TIER_POLICY_FIELDS = (
    "discount_rate",
    "min_commitment",
    "protection_days",
    "approval_limit",
    "rebate_rate",
)


def update_tier_policy(
    policy: TierPolicy,
    *,
    discount_rate: Decimal,
    min_commitment: Decimal,
    protection_days: int,
    approval_limit: Decimal,
    rebate_rate: Decimal,
) -> TierPolicy:
    """Change a tier's terms (rates as fractions, 0.25 = 25 %)."""
    before = snapshot(policy, TIER_POLICY_FIELDS)
    policy.discount_rate = discount_rate
    policy.min_commitment = min_commitment
    policy.protection_days = protection_days
    policy.approval_limit = approval_limit
    policy.rebate_rate = rebate_rate
    db.session.flush()
    record_audit(
        "update",
        policy,
        before=before,
        after=snapshot(policy, TIER_POLICY_FIELDS),
        summary=f"tier {policy.tier}",
    )
    return policy
