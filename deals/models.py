"""End customers, deals with their lines, contacts and history, and conflicts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User, UTCDateTime, utcnow
from app import db
from customers.models import EndCustomer
from partners.models import Money


def english(label) -> str:
    """The English text of a label, to store: the reader's language is not the writer's."""
    with force_locale("en"):
        return str(label)


# --- deals -----------------------------------------------------------------------

CHANNEL = "channel"
DIRECT = "direct"
DEAL_KINDS = {CHANNEL: _l("Channel registration"), DIRECT: _l("Direct deal")}

DRAFT = "draft"
SUBMITTED = "submitted"
MORE_INFO = "more_info_requested"
APPROVED = "approved"
REJECTED = "rejected"
EXPIRED = "expired"
WON = "won"
LOST = "lost"
DEAL_STATUSES = {
    DRAFT: _l("Draft"),
    SUBMITTED: _l("Submitted"),
    MORE_INFO: _l("More information requested"),
    APPROVED: _l("Approved"),
    REJECTED: _l("Rejected"),
    EXPIRED: _l("Expired"),
    WON: _l("Won"),
    LOST: _l("Lost"),
}
# Statuses in which a deal still claims its customer.
OPEN_STATUSES = (SUBMITTED, MORE_INFO, APPROVED)

STAGES = {
    "need_identified": _l("Need identified"),
    "project_approved": _l("Project approved"),
    "gathering_information": _l("Gathering information"),
    "technical_screening": _l("Technical screening"),
    "evaluation": _l("Evaluation"),
    "final_decision": _l("Final decision"),
    "after_sales": _l("After-sales"),
}
FUNDING_SOURCES = {
    "own_budget": _l("Own budget"),
    "superior_allocation": _l("Allocated from a superior body"),
    "external": _l("External funding"),
}
CONTACT_ROLES = {
    "decision_maker": _l("Decision maker"),
    "coach": _l("Coach"),
    "technical_gatekeeper": _l("Technical gatekeeper"),
    "user_maintainer": _l("User / maintainer"),
}
SPECIAL_STATUSES = {
    "none": _l("Not needed"),
    "pending": _l("Waiting for decision"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
LOST_REASONS = {
    "price": _l("Price"),
    "product": _l("Product fit"),
    "relationship": _l("Relationship"),
    "other": _l("Other"),
}


class Deal(db.Model):
    __tablename__ = "deal"

    id: Mapped[int] = mapped_column(primary_key=True)
    # active_history on what deals.pipeline counts: a change knows the value it replaces even
    # when that was not loaded, so the stored pipeline moves by the exact difference.
    kind: Mapped[str] = mapped_column(String(10), default=CHANNEL, index=True, active_history=True)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner.id"), index=True, active_history=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("end_customer.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    project_name: Mapped[str] = mapped_column(String(200))
    estimated_value: Mapped[Decimal] = mapped_column(Money, active_history=True)
    expected_close_date: Mapped[date]
    stage: Mapped[str] = mapped_column(String(30), active_history=True)
    funding_source: Mapped[str] = mapped_column(String(30))
    competitors: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(30), default=DRAFT, index=True, active_history=True)
    lost_reason: Mapped[str | None] = mapped_column(String(30))
    strategic_exception: Mapped[bool] = mapped_column(default=False)
    # Set when a conflict is resolved by adding the partner as fulfilment partner of a direct deal.
    fulfilment_partner: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the registration was first submitted (a resubmission keeps it): who registered a
    # customer first, for the first-registrant-first rule between partners.
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    protection_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Optimistic locking: an UPDATE that finds another version raises StaleDataError.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # conflict detection: open deals at these customers (SQLite picks ix_deal_kind otherwise)
        Index("ix_deal_customer_kind_status", "customer_id", "kind", "status"),
        # the approval queue: submitted channel deals by due time
        Index("ix_deal_queue", "kind", "status", "sla_due_at", "partner_id"),
        # dashboards and statements: deals decided in a period (this month, a quarter), read
        # from the index alone (queue health, the special prices granted in a period)
        Index(
            "ix_deal_decided",
            "decided_at",
            "kind",
            "status",
            "partner_id",
            "submitted_at",
            "sla_due_at",
            "id",
        ),
        # the partner dashboard: its approved deals whose protection ends soon
        Index(
            "ix_deal_pipeline",
            "kind",
            "status",
            "partner_id",
            "stage",
            "estimated_value",
            "protection_expires_at",
        ),
        # dashboards: approved deals whose protection has passed (deals.pipeline subtracts
        # them from the stored pipeline), read from the index alone
        Index(
            "ix_deal_protection_passed",
            "kind",
            "status",
            "protection_expires_at",
            "partner_id",
            "stage",
            "estimated_value",
        ),
    )

    customer: Mapped[EndCustomer] = relationship()
    partner: Mapped[Any] = relationship("Partner")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    lines: Mapped[list[DealLine]] = relationship(
        back_populates="deal", cascade="all, delete-orphan", order_by="DealLine.id"
    )
    contacts: Mapped[list[DealContact]] = relationship(
        back_populates="deal", cascade="all, delete-orphan", order_by="DealContact.id"
    )
    events: Mapped[list[DealEvent]] = relationship(
        back_populates="deal", cascade="all, delete-orphan", order_by="DealEvent.id"
    )

    def effective_status(self, now: datetime | None = None) -> str:
        """Approved deals past protection read as expired even before `flask deals expire` runs."""
        now = now or utcnow()
        if self.status == APPROVED and self.protection_expires_at is not None:
            if self.protection_expires_at <= now:
                return EXPIRED
        return self.status

    @classmethod
    def open_sql(cls, now: datetime):
        """effective_status(now) in OPEN_STATUSES, in SQL: still claiming the customer (an
        approved deal past its protection does not)."""
        return or_(
            cls.status.in_((SUBMITTED, MORE_INFO)),
            and_(
                cls.status == APPROVED,
                or_(cls.protection_expires_at.is_(None), cls.protection_expires_at > now),
            ),
        )

    @property
    def status_label(self) -> str:
        return DEAL_STATUSES[self.effective_status()]


class DealLine(db.Model):
    __tablename__ = "deal_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity: Mapped[int]
    requested_unit_price: Mapped[Decimal] = mapped_column(Money)
    # A line below the partner's tier price is a special price request, decided on its own.
    special_status: Mapped[str] = mapped_column(String(10), default="none")  # none/pending/...
    special_decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    special_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    special_note: Mapped[str] = mapped_column(String(300), default="")
    # The unit price the approval granted (requested, or the tier price when the special price
    # was refused), kept as decided: later policy changes do not rewrite history.
    approved_unit_price: Mapped[Decimal | None] = mapped_column(Money)

    # The special prices granted (finance: the discount of a period), read from the index alone.
    __table_args__ = (
        Index(
            "ix_deal_line_granted",
            "deal_id",
            "product_id",
            "quantity",
            "approved_unit_price",
            "requested_unit_price",
            sqlite_where=text("special_status = 'approved'"),
            postgresql_where=text("special_status = 'approved'"),
        ),
    )

    deal: Mapped[Deal] = relationship(back_populates="lines")
    special_decided_by: Mapped[User | None] = relationship(foreign_keys=[special_decided_by_id])
    product: Mapped[Any] = relationship("Product")


class DealContact(db.Model):
    __tablename__ = "deal_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(80), default="")

    deal: Mapped[Deal] = relationship(back_populates="contacts")


# What each action of the decision history reads as (events store the code).
EVENT_ACTIONS = {
    "draft_saved": _l("Draft saved"),
    "submitted": _l("Submitted"),
    "information_provided": _l("Resubmitted with more information"),
    "information_requested": _l("More information requested"),
    "answer": _l("Partner answered"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "expired": _l("Protection expired"),
    "protection_extended": _l("Protection extended"),
    "strategic_exception": _l("Marked as strategic exception"),
    "strategic_exception_removed": _l("Strategic exception removed"),
    "direct_created": _l("Direct deal created"),
    "special_price_approved": _l("Special price approved"),
    "special_price_rejected": _l("Special price refused"),
    "won": _l("Closed as won"),
    "lost": _l("Closed as lost"),
}


class DealEvent(db.Model):
    """The decision history of a deal, shown on its page (partner users see their own)."""

    __tablename__ = "deal_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")

    deal: Mapped[Deal] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()

    @property
    def action_label(self) -> str:
        return EVENT_ACTIONS.get(self.action, self.action.replace("_", " "))


# --- conflicts -------------------------------------------------------------------

NAMED_ACCOUNT = "named_account"
DIRECT_DEAL = "direct_deal"
PARTNER_OVERLAP = "partner_overlap"
CONFLICT_KINDS = {
    NAMED_ACCOUNT: _l("Channel registration at a direct named account"),
    DIRECT_DEAL: _l("Channel registration against an open direct deal"),
    PARTNER_OVERLAP: _l("Two partners registering the same customer"),
}
CONFLICT_STATUSES = {"open": _l("Open"), "resolved": _l("Resolved")}
RESOLUTIONS = {
    "channel_keeps": _l("Channel keeps it"),
    "direct_keeps": _l("Direct keeps it"),
    "fulfilment_partner": _l("Partner added as fulfilment partner"),
    "rejected": _l("Registration rejected"),
}


class Conflict(db.Model):
    __tablename__ = "conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), index=True)
    other_deal_id: Mapped[int | None] = mapped_column(ForeignKey("deal.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("end_customer.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    resolution: Mapped[str | None] = mapped_column(String(30))
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deal: Mapped[Deal] = relationship(foreign_keys=[deal_id])
    other_deal: Mapped[Deal | None] = relationship(foreign_keys=[other_deal_id])
    account: Mapped[EndCustomer | None] = relationship(foreign_keys=[account_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    comments: Mapped[list[ConflictComment]] = relationship(
        back_populates="conflict", cascade="all, delete-orphan", order_by="ConflictComment.id"
    )


SUGGESTION_STATUSES = {
    "open": _l("To review"),
    "dismissed": _l("Dismissed"),
    "converted": _l("Turned into a conflict"),
}


class DealSuggestion(db.Model):
    """A customer that may be the one a registration names (the matcher said ``possible``).

    Shown to the channel manager beside the deal, never to the partner; a person turns it into
    a conflict or dismisses it, and either decision is kept (a resubmission does not ask again).
    """

    __tablename__ = "deal_suggestion"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("end_customer.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    conflict_id: Mapped[int | None] = mapped_column(ForeignKey("conflict.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deal: Mapped[Deal] = relationship()
    customer: Mapped[EndCustomer] = relationship()
    conflict: Mapped[Conflict | None] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("deal_id", "customer_id", name="uq_deal_suggestion_deal_customer"),
    )


class ConflictComment(db.Model):
    __tablename__ = "conflict_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    conflict_id: Mapped[int] = mapped_column(ForeignKey("conflict.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conflict: Mapped[Conflict] = relationship(back_populates="comments")
    user: Mapped[User] = relationship()


class PartnerDealStats(db.Model):
    """A partner's deal statistics for the price-only signals, kept current as deals change."""

    __tablename__ = "partner_deal_stats"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), primary_key=True)
    deals: Mapped[int] = mapped_column(default=0)
    deals_with_special: Mapped[int] = mapped_column(default=0)
    lines: Mapped[int] = mapped_column(default=0)
    extra_discount_sum: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=0)
    lost: Mapped[int] = mapped_column(default=0)
    lost_on_price: Mapped[int] = mapped_column(default=0)
    won: Mapped[int] = mapped_column(default=0)
    won_with_special: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DealStatsContribution(db.Model):
    """What one deal adds to its partner's PartnerDealStats, so a change applies as a delta."""

    __tablename__ = "deal_stats_contribution"

    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    deals: Mapped[int] = mapped_column(default=0)
    deals_with_special: Mapped[int] = mapped_column(default=0)
    lines: Mapped[int] = mapped_column(default=0)
    extra_discount_sum: Mapped[Decimal] = mapped_column(Numeric(18, 6), default=0)
    lost: Mapped[int] = mapped_column(default=0)
    lost_on_price: Mapped[int] = mapped_column(default=0)
    won: Mapped[int] = mapped_column(default=0)
    won_with_special: Mapped[int] = mapped_column(default=0)


class PartnerPipeline(db.Model):
    """A partner's open channel deals in one buying stage: how many and their estimated value.

    "Open" here is by status alone (submitted, more information requested, approved); the
    approved deals whose protection has passed are subtracted when read (deals.pipeline).
    Kept by deals.pipeline in the same flush as every change of a deal; the value is in
    integer cents so sums are exact on SQLite too.
    """

    __tablename__ = "partner_pipeline"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(30), primary_key=True)
    deals: Mapped[int] = mapped_column(default=0)
    value_cents: Mapped[int] = mapped_column(BigInteger, default=0)
