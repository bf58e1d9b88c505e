"""Partners, tier policies, stock commitments and orders, settings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User, UTCDateTime, utcnow
from app import db

GOLD = "gold"
SILVER = "silver"
REGISTERED = "registered"
TIERS = {GOLD: _l("Gold"), SILVER: _l("Silver"), REGISTERED: _l("Registered")}
TIER_ORDER = (GOLD, SILVER, REGISTERED)

PARTNER_TYPES = {
    "distributor": _l("Distributor"),
    "reseller": _l("Reseller"),
    "integrator": _l("Integrator"),
}
PARTNER_STATUSES = {"active": _l("Active"), "suspended": _l("Suspended")}

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

    @property
    def type_label(self) -> str:
        return PARTNER_TYPES.get(self.partner_type, self.partner_type)

    @property
    def status_label(self) -> str:
        return PARTNER_STATUSES.get(self.status, self.status)


class PartnerContact(db.Model):
    __tablename__ = "partner_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(80), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")

    partner: Mapped[Partner] = relationship(back_populates="contacts")


# --- stock commitments (押货) and stock orders ------------------------------------------

PERIOD_KINDS = {"quarter": _l("Quarter"), "half": _l("Half-year"), "year": _l("Year")}


class StockCommitment(db.Model):
    """A partner's commitment to buy and hold stock for a period (one per partner and period)."""

    __tablename__ = "stock_commitment"
    __table_args__ = (UniqueConstraint("partner_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    period: Mapped[str] = mapped_column(String(10))  # "2026-Q4", "2026-H2" or "2026"
    period_start: Mapped[date] = mapped_column(index=True)
    period_end: Mapped[date] = mapped_column(index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    signed_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship()
    lines: Mapped[list[CommitmentLine]] = relationship(
        back_populates="commitment", cascade="all, delete-orphan", order_by="CommitmentLine.id"
    )


class CommitmentLine(db.Model):
    """Optional committed quantity for one product line or one product (SKU)."""

    __tablename__ = "commitment_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    commitment_id: Mapped[int] = mapped_column(ForeignKey("stock_commitment.id"), index=True)
    product_line: Mapped[str | None] = mapped_column(String(60))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int]

    commitment: Mapped[StockCommitment] = relationship(back_populates="lines")
    product: Mapped[Any] = relationship("Product")


# Where a stock order was recorded from (StockOrder.source).
ORDER_SOURCES = {"form": _l("form"), "import": _l("Excel import"), "api": _l("API")}


class StockOrder(db.Model):
    """A partner's purchase into its stock; fulfils its commitment."""

    __tablename__ = "stock_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    order_date: Mapped[date] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(10), default="form")  # form, import, api
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner] = relationship()
    lines: Mapped[list[StockOrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="StockOrderLine.id"
    )


Index("ix_stock_order_partner_date", StockOrder.partner_id, StockOrder.order_date)


class StockOrderLine(db.Model):
    __tablename__ = "stock_order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("stock_order.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)

    order: Mapped[StockOrder] = relationship(back_populates="lines")
    product: Mapped[Any] = relationship("Product")

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price


class StockOrderTotal(db.Model):
    """A partner's stock orders of one day, added up (partners.order_totals keeps it).

    The dashboards, the at-risk signal, attainment and the finance figures read these rows (a
    few hundred thousand) instead of the order lines (millions). The amount is kept in integer
    cents so sums are exact on SQLite too, whose NUMERIC is floating point. ``gap_days`` counts
    the days since the partner's previous order day (None on its first): the at-risk rule's
    usual interval is the median of these gaps, counted in one grouped query.
    """

    __tablename__ = "stock_order_total"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), primary_key=True)
    order_date: Mapped[date] = mapped_column(primary_key=True)
    gap_days: Mapped[int | None]
    orders: Mapped[int]
    lines: Mapped[int]
    quantity: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)

    @property
    def amount(self) -> Decimal:
        return (Decimal(self.amount_cents) / 100).quantize(Decimal("0.01"))


# Period figures over all partners (finance: a quarter of every partner's orders).
Index("ix_stock_order_total_date", StockOrderTotal.order_date)
# The at-risk figures of a whole channel: read from this index alone, already grouped.
Index(
    "ix_stock_order_total_gaps",
    StockOrderTotal.partner_id,
    StockOrderTotal.gap_days,
    StockOrderTotal.order_date,
    StockOrderTotal.amount_cents,
)


class PartnerOrderHistory(db.Model):
    """What the at-risk rule needs of a partner's stock orders, as of one day: a memo of
    partners.signals.order_history, exact because it is thrown away whenever it could differ.

    The rule's inputs depend only on the day and the partner's order totals, so the memo holds
    the day it was worked out for (``as_of``; another day reads it as missing) and
    ``generation``, which partners.order_totals moves in the same transaction as every change
    of the partner's totals (a recorded order, a rebuild). A memo is only written over the
    generation it was read with, so one worked out while an order was being recorded is never
    kept.
    """

    __tablename__ = "partner_order_history"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)
    as_of: Mapped[date | None]
    last_90_days_cents: Mapped[int | None] = mapped_column(BigInteger)
    last_12_months_cents: Mapped[int | None] = mapped_column(BigInteger)
    last_order: Mapped[date | None]
    # Twice the usual interval between order days (the median gap: a whole or half day), None
    # with fewer than three order days.
    usual_interval_halves: Mapped[int | None]


class Setting(db.Model):
    """Thresholds an admin edits (price-only signals, special-price attainment rule, ...)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
