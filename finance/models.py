"""Export jobs: statements written in the background, their status kept in the database."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User, UTCDateTime, utcnow
from app import db

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
JOB_STATUSES = {
    QUEUED: _l("Queued"),
    RUNNING: _l("Running"),
    DONE: _l("Ready"),
    FAILED: _l("Failed"),
}

# Why a job failed, stored as a code (the reader's language is not the writer's); an older row
# may hold an English sentence, shown as it is.
NOT_VISIBLE = "not_visible"
WRITE_FAILED = "write_failed"
STOPPED = "stopped"
JOB_ERRORS = {
    NOT_VISIBLE: _l("You may no longer export this statement."),
    WRITE_FAILED: _l("The export failed; try again, and tell the administrator if it fails again."),
    STOPPED: _l("The export stopped before it finished (the server restarted). Start it again."),
}

PARTNER_SCOPE = "partner"
CHANNEL_SCOPE = "channel"


class ExportJob(db.Model):
    """A statement export run outside the request; the file lands in the export folder.

    Status and parameters live here, so any app process can answer the page's polling and serve
    the download; row-level progress goes to a small file beside the export (see
    finance.jobs), which the writing thread updates without taking database locks.
    """

    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    scope: Mapped[str] = mapped_column(String(10))  # partner | channel
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    # from, to (ISO dates), period label, lang, and for the channel tier / region / owner_id
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=QUEUED, index=True)
    # Random name of the file in the export folder (never derived from user input).
    file_name: Mapped[str] = mapped_column(String(64), unique=True)
    download_name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(BigInteger)
    rows: Mapped[int | None]
    error: Mapped[str] = mapped_column(String(300), default="")  # a code of JOB_ERRORS
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def status_label(self) -> str:
        return str(JOB_STATUSES.get(self.status, self.status))

    @property
    def error_message(self) -> str:
        """Why it failed, in the reader's language ("" when it did not)."""
        return str(JOB_ERRORS.get(self.error, self.error or ""))

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)
