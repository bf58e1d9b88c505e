"""A notification stores its kind and parameters, never rendered text: it is written in the
reader's language when it is shown or emailed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User, UTCDateTime, utcnow
from app import db


class Notification(db.Model):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # What it is about, by id (notifications sit below deals and never import them).
    deal_id: Mapped[int | None]
    conflict_id: Mapped[int | None]
    # Time-based notifications carry a key so `flask notifications due` tells each user once.
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Email delivery: claimed by one sender at a time (several processes may try), then sent or
    # failed; `flask notifications send-pending` retries what is neither sent nor claimed.
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    email_claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_attempts: Mapped[int] = mapped_column(default=0)
    email_error: Mapped[str | None] = mapped_column(String(500))

    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key", name="uq_notification_user_dedupe_key"),
        # the list, newest first, and the unread count in the top bar
        Index("ix_notification_user_created", "user_id", "created_at"),
        Index("ix_notification_user_read", "user_id", "read_at"),
    )

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
