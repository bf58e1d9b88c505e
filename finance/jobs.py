"""Statement exports in the background: a job row in the database, the file in the export folder.

Why a job and not a streamed response: an .xlsx is a zip whose directory comes last, so no
byte of it can be sent before the whole workbook is written; a year of a large channel takes
seconds, and the page must not just hang. The page creates a job, a thread of the process that
took the request writes the workbook, and the page polls the job's status (any process can
answer: the status is in the database) and then links the download.

Nothing lives in process memory: the job row holds the status, the export folder
(``EXPORT_FOLDER``, default ``instance/exports``) the file and a small progress file the thread
rewrites every thousand rows. Writing progress to a file rather than the database keeps the
thread from taking write locks while it streams rows out of SQLite. With several hosts, point
``EXPORT_FOLDER`` at storage they share. A job whose process died (no progress for
``EXPORT_JOB_STALE_SECONDS``) is reported failed, so a page never waits forever; the user
starts it again. ``flask finance purge-exports`` removes old files and jobs.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import update

from accounts.models import User, utcnow
from app import db
from finance.exports import (
    NotVisible,
    consistent_snapshot,
    download_name,
    expected_detail_rows,
    export_statement,
    may_see_scope,
)
from finance.models import (
    CHANNEL_SCOPE,
    DONE,
    FAILED,
    NOT_VISIBLE,
    PARTNER_SCOPE,
    QUEUED,
    RUNNING,
    STOPPED,
    WRITE_FAILED,
    ExportJob,
)
from finance.statements import StatementPeriod, StatementScope

log = logging.getLogger(__name__)
DEFAULT_STALE_SECONDS = 300


def export_folder(app: Flask | None = None) -> Path:
    app = app or current_app
    folder = Path(app.config.get("EXPORT_FOLDER") or Path(app.instance_path) / "exports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def job_scope(job: ExportJob) -> StatementScope:
    params = job.params or {}
    return StatementScope(
        partner_id=job.partner_id if job.scope == PARTNER_SCOPE else None,
        tier=params.get("tier") or "",
        region=params.get("region") or "",
        owner_id=params.get("owner_id"),
    )


def job_period(job: ExportJob) -> StatementPeriod:
    params = job.params
    return StatementPeriod(
        date.fromisoformat(params["from"]), date.fromisoformat(params["to"]), params["label"]
    )


def create_job(
    user: User, scope: StatementScope, period: StatementPeriod, lang: str, uscc: str = ""
) -> ExportJob:
    """Queue an export of what ``user`` may export (checked by the caller); add and flush."""
    job = ExportJob(
        user_id=user.id,
        scope=CHANNEL_SCOPE if scope.is_channel else PARTNER_SCOPE,
        partner_id=scope.partner_id,
        params={
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "label": period.label,
            "lang": lang,
            "tier": scope.tier,
            "region": scope.region,
            "owner_id": scope.owner_id,
        },
        status=QUEUED,
        file_name=f"{secrets.token_hex(16)}.xlsx",
        download_name=download_name(scope, period, uscc),
    )
    db.session.add(job)
    db.session.flush()
    return job


def may_view_job(user: User, job: ExportJob) -> bool:
    """Its creator, and whoever may export the same statement."""
    return job.user_id == user.id or may_see_scope(user, job_scope(job))


def start_job(app: Flask, job_id: int) -> threading.Thread:
    """Run the job in a thread of this process (after the caller has committed the job)."""
    thread = threading.Thread(
        target=run_job, args=(app, job_id), name=f"export-job-{job_id}", daemon=True
    )
    thread.start()
    return thread


# --- progress file ----------------------------------------------------------------------------


def _progress_path(app: Flask, job: ExportJob) -> Path:
    return export_folder(app) / f"{job.file_name}.progress"


def _write_progress(path: Path, **values) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(values))
    os.replace(temporary, path)  # readers never see half a file


def read_progress(job: ExportJob) -> dict:
    path = _progress_path(current_app._get_current_object(), job)
    try:
        values = json.loads(path.read_text())
        values["updated_at"] = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    except (OSError, ValueError):
        return {}
    return values


@dataclass
class _Progress:
    path: Path
    total: int | None = None
    done_before: int = 0
    sheet: str = ""
    rows: int = 0

    def figures(self, statement) -> None:
        self.total = expected_detail_rows(statement)
        self.save("figures")

    def __call__(self, sheet: str, rows: int) -> None:
        if sheet != self.sheet:
            self.done_before += self.rows
            self.sheet, self.rows = sheet, 0
        self.rows = rows
        self.save(sheet)

    def save(self, phase: str) -> None:
        _write_progress(self.path, phase=phase, rows=self.done_before + self.rows, total=self.total)


# --- running ----------------------------------------------------------------------------------


def run_job(app: Flask, job_id: int) -> None:
    """Claim the queued job, write its workbook to the export folder, record the outcome."""
    with app.app_context():
        claimed = db.session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.status == QUEUED)
            .values(status=RUNNING, started_at=utcnow())
        ).rowcount
        db.session.commit()
        if not claimed:
            return  # another worker has it, or it was given up
        job = db.session.get(ExportJob, job_id)
        folder = export_folder(app)
        target = folder / job.file_name
        partial = folder / f"{job.file_name}.part"
        progress = _Progress(_progress_path(app, job))
        progress.save("queued")
        try:
            user = job.user
            scope = job_scope(job)
            if not user.is_active or not may_see_scope(user, scope):
                raise NotVisible(job.partner_id)
            period, lang = job_period(job), job.params.get("lang", "en")
            consistent_snapshot()
            with partial.open("wb") as out:
                result = export_statement(
                    user,
                    scope,
                    period,
                    out,
                    lang=lang,
                    via="job",
                    progress=progress,
                    on_figures=progress.figures,
                )
            os.replace(partial, target)
            job = db.session.get(ExportJob, job_id)
            job.status = DONE
            job.rows = result.rows
            job.size = target.stat().st_size
            job.finished_at = utcnow()
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            if not isinstance(error, NotVisible):
                log.exception("export job %s failed", job_id)
            partial.unlink(missing_ok=True)
            _mark_failed(job_id, NOT_VISIBLE if isinstance(error, NotVisible) else WRITE_FAILED)
        finally:
            progress.path.unlink(missing_ok=True)
            db.session.remove()


def _mark_failed(job_id: int, reason: str) -> None:
    db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status.in_((QUEUED, RUNNING)))
        .values(status=FAILED, error=reason, finished_at=utcnow())
    )
    db.session.commit()


def give_up_if_stale(job: ExportJob) -> bool:
    """Mark a queued or running job failed when nothing has moved for a while (its process
    ended); returns whether it did. The caller commits."""
    if job.finished:
        return False
    limit = current_app.config.get("EXPORT_JOB_STALE_SECONDS", DEFAULT_STALE_SECONDS)
    last_sign = max(moment for moment in (job.created_at, job.started_at) if moment is not None)
    progress = read_progress(job)
    if progress.get("updated_at"):
        last_sign = max(last_sign, progress["updated_at"])
    if utcnow() - last_sign <= timedelta(seconds=limit):
        return False
    job.status = FAILED
    job.error = STOPPED
    job.finished_at = utcnow()
    return True


def job_file(job: ExportJob) -> Path | None:
    """The finished workbook on disk, or None when it is not there (not done, or purged)."""
    if job.status != DONE:
        return None
    path = export_folder() / job.file_name
    return path if path.is_file() else None


def purge_exports(older_than: timedelta) -> int:
    """Delete finished jobs created before now − ``older_than`` and their files."""
    limit = utcnow() - older_than
    folder = export_folder()
    jobs = db.session.scalars(
        db.select(ExportJob).where(
            ExportJob.created_at < limit, ExportJob.status.in_((DONE, FAILED))
        )
    ).all()
    for job in jobs:
        (folder / job.file_name).unlink(missing_ok=True)
        db.session.delete(job)
    return len(jobs)
