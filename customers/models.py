"""End customers: who they are, how their names are keyed for matching, and the gram index of
their names."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User, UTCDateTime, utcnow
from app import db
from customers.matching import name_province, name_search_key

SEGMENTS = {
    "strategic": _l("Strategic"),
    "top": _l("TOP"),
    "important": _l("Important"),
    "normal": _l("Normal"),
}
COVERAGES = {"channel": _l("Channel"), "direct": _l("Direct named account")}


class EndCustomer(db.Model):
    __tablename__ = "end_customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # Normalised core of the name (customers.matching), the key for finding the same customer.
    name_key: Mapped[str] = mapped_column(String(200), default="")
    # The province the name is placed in ('' if none): narrows candidates for short keys.
    name_region: Mapped[str] = mapped_column(String(20), default="")
    # The key reversed, so "ends with" becomes an indexable prefix search (long Latin names).
    name_key_reversed: Mapped[str] = mapped_column(String(200), default="", index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    region: Mapped[str] = mapped_column(String(40), default="", index=True)
    industry: Mapped[str] = mapped_column(String(60), default="")
    segment: Mapped[str] = mapped_column(String(20), default="normal", index=True)
    coverage: Mapped[str] = mapped_column(String(20), default="channel", index=True)
    owner_rep_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The partner whose user first entered the customer (registration form or API); None when
    # the vendor's staff entered it. Other partners never see such a customer
    # (customers.services.customer_visible_to).
    created_by_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner_rep: Mapped[User | None] = relationship(foreign_keys=[owner_rep_id])

    __table_args__ = (Index("ix_end_customer_name_key_region", "name_key", "name_region"),)

    def set_name(self, name: str) -> None:
        """Set the name and the matching keys derived from it (always together)."""
        self.name = name
        self.name_key = name_search_key(name)
        self.name_region = name_province(name)
        self.name_key_reversed = self.name_key[::-1]

    @property
    def is_named_account(self) -> bool:
        return self.coverage == "direct"


class CustomerNameGram(db.Model):
    """Character bigrams of each customer's normalised name (customers.matching.suggestion_grams):
    the index through which short names, shortened names and typos find their customer."""

    __tablename__ = "customer_name_gram"

    gram: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("end_customer.id", ondelete="CASCADE"), primary_key=True, index=True
    )
