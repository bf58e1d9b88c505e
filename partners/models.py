"""Partners and tier policies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User, UTCDateTime, utcnow
from app import db

GOLD = "gold"
SILVER = "silver"
REGISTERED = "registered"
TIERS = {GOLD: "Gold", SILVER: "Silver", REGISTERED: "Registered"}
TIER_ORDER = (GOLD, SILVER, REGISTERED)

PARTNER_TYPES = {"distributor": "Distributor", "reseller": "Reseller", "integrator": "Integrator"}
PARTNER_STATUSES = {"active": "Active", "suspended": "Suspended"}

Money = Numeric(14, 2)
Rate = Numeric(5, 4)


class TierPolicy(db.Model):
    """The terms a tier earns; values are data an admin edits, not code."""

    __tablename__ = "tier_policy"

    tier: Mapped[str] = mapped_column(String(20), primary_key=True)
    discount_rate: Mapped[Decimal] = mapped_column(Rate)  # off list price, 0.2500 = 25 %
    min_commitment: Mapped[Decimal] = mapped_column(Money)  # per year
    protection_days: Mapped[int]
    approval_limit: Mapped[Decimal] = mapped_column(
        Rate
    )  # deepest extra discount a manager approves
    rebate_rate: Mapped[Decimal] = mapped_column(Rate)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def label(self) -> str:
        return TIERS.get(self.tier, self.tier)


class Partner(db.Model):
    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    region: Mapped[str] = mapped_column(String(40), default="", index=True)
    partner_type: Mapped[str] = mapped_column(String(20), default="reseller")
    tier: Mapped[str] = mapped_column(ForeignKey("tier_policy.tier"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    agreement_start: Mapped[date | None]
    agreement_end: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    tier_policy: Mapped[TierPolicy] = relationship()
    contacts: Mapped[list[PartnerContact]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", order_by="PartnerContact.id"
    )

    @property
    def tier_label(self) -> str:
        return TIERS.get(self.tier, self.tier)


class PartnerContact(db.Model):
    __tablename__ = "partner_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(80), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")

    partner: Mapped[Partner] = relationship(back_populates="contacts")
