"""Emailing notifications after the commit, off the request thread, in the reader's language.

A row is claimed before it is sent (an UPDATE that only one process can win), so the request's
thread pool and `flask notifications send-pending` never send the same email twice. Without
MAIL_SERVER (development) the email is written to the app log instead.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mailman import EmailMessage, Mail
from sqlalchemy import event, or_, select, update

from accounts.models import utcnow
from app import db
from i18n import DEFAULT_LANGUAGE, LANGUAGES
from notifications.models import Notification
from notifications.services import BASE_URL, OUTBOX, base_url, render

log = logging.getLogger("app.notifications")
mail = Mail()

#: A claim older than this is taken to belong to a sender that died; the row is sent again.
CLAIM_TIMEOUT = timedelta(minutes=10)


def init_app(app: Flask) -> None:
    app.config.setdefault("MAIL_TIMEOUT", 10)  # seconds: a stuck SMTP server holds one thread
    app.config.setdefault("MAIL_DEFAULT_SENDER", "channel@localhost")
    app.config.setdefault("NOTIFICATIONS_MAIL_WORKERS", 2)
    app.config.setdefault("NOTIFICATIONS_EMAIL_MAX_ATTEMPTS", 5)
    if app.config.get("MAIL_SERVER") and not app.config.get("MAIL_BACKEND"):
        app.config["MAIL_BACKEND"] = "smtp"  # Flask-Mailman would pick 'locmem' under TESTING
    mail.init_app(app)
    app.extensions["notifications_outbox"] = Outbox(app)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)  # emails written to the log must show in the terminal
    app.logger  # noqa: B018 -- makes Flask attach its stderr handler, which "app.*" reaches
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)


def email_configured(app: Flask) -> bool:
    return bool(app.config.get("MAIL_SERVER") or app.config.get("MAIL_BACKEND"))


# --- after the commit -------------------------------------------------------------------------


def _after_commit(session) -> None:
    if session.in_nested_transaction():  # a savepoint released, not the transaction committed
        return
    ids = session.info.pop(OUTBOX, None)
    link_base = session.info.pop(BASE_URL, None)
    if not ids:
        return
    try:
        app = current_app._get_current_object()
        app.extensions["notifications_outbox"].submit(ids, link_base)
    except Exception:  # the action is committed whatever happens to its emails
        log.exception("could not queue emails for notifications %s", ids)


def _after_rollback(session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(OUTBOX, None)
        session.info.pop(BASE_URL, None)


class Outbox:
    """A small thread pool per app that sends batches of notification emails."""

    def __init__(self, app: Flask):
        self.app = app
        self._executor: ThreadPoolExecutor | None = None
        self._futures: set[Future] = set()
        self._lock = threading.Lock()

    def submit(self, ids: list[int], link_base: str | None) -> None:
        with self._lock:
            if self._executor is None:  # created on first use: nothing runs in a forking master
                self._executor = ThreadPoolExecutor(
                    max_workers=self.app.config["NOTIFICATIONS_MAIL_WORKERS"],
                    thread_name_prefix="notification-mail",
                )
            future = self._executor.submit(self._send_batch, list(ids), link_base)
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def wait(self) -> None:
        """Block until every queued batch is sent (commands and tests)."""
        while True:
            with self._lock:
                pending = list(self._futures)
            if not pending:
                return
            for future in pending:
                future.exception()  # waits; errors are logged by the batch itself

    def _send_batch(self, ids: list[int], link_base: str | None) -> None:
        with self.app.app_context():
            try:
                for notification_id in ids:
                    deliver(notification_id, link_base)
            except Exception:
                log.exception("email batch %s failed", ids)
            finally:
                db.session.remove()


def wait_for_emails(app: Flask) -> None:
    app.extensions["notifications_outbox"].wait()


# --- sending one ------------------------------------------------------------------------------


def _claim(notification_id: int) -> bool:
    now = utcnow()
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.emailed_at.is_(None),
            or_(
                Notification.email_claimed_at.is_(None),
                Notification.email_claimed_at < now - CLAIM_TIMEOUT,
            ),
        )
        .values(email_claimed_at=now, email_attempts=Notification.email_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def deliver(notification_id: int, link_base: str | None = None) -> bool | None:
    """Email one notification unless another sender has it; record the outcome on the row.

    Returns True when sent (or logged), False when sending failed, None when not ours to send.
    """
    if not _claim(notification_id):
        return None
    notification = db.session.get(Notification, notification_id)
    if notification is None:
        return None
    try:
        message = compose(notification, link_base or base_url())
        if email_configured(current_app):
            message.send()
        else:
            log.info(
                "Email (MAIL_SERVER is not set, so it is logged instead of sent)\n"
                "To: %s\nSubject: %s\n\n%s",
                ", ".join(message.to),
                message.subject,
                message.body,
            )
    except Exception as error:
        log.warning("email for notification %s failed: %s", notification_id, error)
        notification.email_error = f"{type(error).__name__}: {error}"[:500]
        notification.email_claimed_at = None  # free for send-pending to retry
        db.session.commit()
        return False
    notification.emailed_at = utcnow()
    notification.email_error = None
    db.session.commit()
    return True


def compose(notification: Notification, link_base: str) -> EmailMessage:
    """The email in the recipient's language (its profile choice; English before one)."""
    user = notification.user
    language = user.language if user.language in LANGUAGES else DEFAULT_LANGUAGE
    with force_locale(language):
        text = render(notification)
        lines = [_("Hello %(name)s,", name=user.name), "", text.body, ""]
        if text.endpoint:
            link = external_url(link_base, text.endpoint, text.values)
            lines += [_("Open it: %(url)s", url=link)]
        lines += [
            "",
            _(
                "You receive this email because you use the channel back-office. "
                "All your notifications: %(url)s",
                url=external_url(link_base, "notifications.list_notifications", {}),
            ),
        ]
        subject = text.title
    return EmailMessage(subject=subject, body="\n".join(lines), to=[user.email])


def external_url(link_base: str, endpoint: str, values: dict) -> str:
    """An absolute link built from the app's routes, outside any request."""
    parts = urlsplit(link_base)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)


def pending_ids(limit: int = 500) -> list[int]:
    """Notifications whose email is neither sent nor being sent, with attempts left."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(Notification.id)
            .where(
                Notification.emailed_at.is_(None),
                Notification.email_attempts
                < current_app.config["NOTIFICATIONS_EMAIL_MAX_ATTEMPTS"],
                or_(
                    Notification.email_claimed_at.is_(None),
                    Notification.email_claimed_at < now - CLAIM_TIMEOUT,
                ),
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )
