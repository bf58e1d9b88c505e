"""Who is told what: notification rows added in the action's transaction, texts per kind.

Callers (deals) pass plain values: ids, a project name, timestamps. Rows are added inside a
savepoint of the caller's transaction, so a rolled-back action notifies nobody and a failure to
notify is logged and never breaks the action. Emails go out after the commit (notifications.mail).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from accounts.models import PARTNER, User, utcnow
from app import db
from i18n import day, moment
from notifications.models import Notification

log = logging.getLogger("app.notifications")

#: session.info keys: ids of notifications to email once the transaction commits, and the
#: site address their links point to.
OUTBOX = "notifications.outbox"
BASE_URL = "notifications.base_url"

# Kinds: what happened. A partner's users hear about their registrations ...
DEAL_APPROVED = "deal_approved"
DEAL_REJECTED = "deal_rejected"
MORE_INFO_REQUESTED = "more_info_requested"
PROTECTION_ENDING = "protection_ending"
# ... and the partner's channel manager about what waits for a decision.
DEAL_SUBMITTED = "deal_submitted"
DEAL_RESUBMITTED = "deal_resubmitted"
CONFLICT_OPENED = "conflict_opened"
SLA_PASSED = "sla_passed"

#: Days before protection ends that a partner is warned.
PROTECTION_WARNING_DAYS = 7


@dataclass(frozen=True)
class Kind:
    title: object  # lazy message ids: rendered in the reader's language
    body: object
    link: str  # "deal" or "conflict"


KINDS: dict[str, Kind] = {
    DEAL_APPROVED: Kind(
        _l("Registration approved: %(project)s"),
        _l("Your registration %(project)s is approved. Its protection runs until %(expires)s."),
        "deal",
    ),
    DEAL_REJECTED: Kind(
        _l("Registration rejected: %(project)s"),
        _l("Your registration %(project)s was rejected. Reason: %(note)s"),
        "deal",
    ),
    MORE_INFO_REQUESTED: Kind(
        _l("More information needed: %(project)s"),
        _l("Your channel manager asks for more information on %(project)s: %(note)s"),
        "deal",
    ),
    PROTECTION_ENDING: Kind(
        _l("Protection ends soon: %(project)s"),
        _l(
            "The protection of %(project)s ends on %(expires)s. Close the deal as won or lost, "
            "or ask your channel manager for an extension."
        ),
        "deal",
    ),
    DEAL_SUBMITTED: Kind(
        _l("New registration: %(project)s"),
        _l("%(partner)s submitted %(project)s. Decide by %(due)s."),
        "deal",
    ),
    DEAL_RESUBMITTED: Kind(
        _l("Information provided: %(project)s"),
        _l("%(partner)s answered your question on %(project)s. Decide by %(due)s."),
        "deal",
    ),
    CONFLICT_OPENED: Kind(
        _l("Conflict on %(project)s"),
        _l(
            "A possible channel conflict was found on %(project)s of %(partner)s. Resolve it "
            "before the deal can be approved."
        ),
        "conflict",
    ),
    SLA_PASSED: Kind(
        _l("SLA passed: %(project)s"),
        _l("%(project)s of %(partner)s was due for a decision at %(due)s and is still waiting."),
        "deal",
    ),
}

# Parameters kept as ISO timestamps and formatted for the reader's locale when shown.
DATE_PARAMS = {"expires": day, "due": moment}


# --- writing ----------------------------------------------------------------------------------


def notify(
    user_ids: Iterable[int | None],
    kind: str,
    *,
    deal_id: int | None = None,
    conflict_id: int | None = None,
    params: dict | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Add a notification of ``kind`` for each active user among ``user_ids``; returns how many.

    With a ``dedupe_key``, a user who already has a notification with that key gets none, so
    a periodic check can run any number of times. Never raises: a failure is logged.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return 0
    # The action's own pending changes are flushed here, outside the try: their errors are the
    # action's to report, not a notification failure to swallow.
    db.session.flush()
    try:
        # Everything in a savepoint: on PostgreSQL a failed statement would otherwise spoil the
        # action's whole transaction.
        with db.session.begin_nested():
            stmt = select(User.id).where(User.id.in_(ids), User.active.is_(True))
            if dedupe_key is not None:
                told = select(Notification.user_id).where(Notification.dedupe_key == dedupe_key)
                stmt = stmt.where(User.id.not_in(told))
            rows = [
                Notification(
                    user_id=user_id,
                    kind=kind,
                    params=_jsonable(params or {}),
                    deal_id=deal_id,
                    conflict_id=conflict_id,
                    dedupe_key=dedupe_key,
                )
                for user_id in sorted(db.session.scalars(stmt))
            ]
            db.session.add_all(rows)
            db.session.flush()
    except IntegrityError:
        # Another run of the periodic check told them a moment ago.
        log.info("notification %s %s already given", kind, dedupe_key)
        return 0
    except Exception:
        log.exception("could not add %s notifications for %s", kind, sorted(ids))
        return 0
    if not rows:
        return 0
    outbox = db.session.info.setdefault(OUTBOX, [])
    outbox.extend(row.id for row in rows)
    if has_request_context() and BASE_URL not in db.session.info:
        db.session.info[BASE_URL] = request.host_url
    return len(rows)


def _jsonable(params: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}


def partner_user_ids(partner_id: int | None) -> list[int]:
    """The active users of a partner (the people told about its registrations)."""
    if partner_id is None:
        return []
    return list(
        db.session.scalars(
            select(User.id).where(
                User.partner_id == partner_id, User.role == PARTNER, User.active.is_(True)
            )
        )
    )


def notify_partner(partner_id: int | None, kind: str, **kwargs) -> int:
    """Tell every user of a partner (a registration of theirs was decided or is ending)."""
    return notify(partner_user_ids(partner_id), kind, **kwargs)


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    endpoint: str | None
    values: dict


def render(notification: Notification) -> Rendered:
    """Title, text and link target of a notification in the current locale."""
    kind = KINDS.get(notification.kind)
    values = _display_params(notification.params or {})
    if kind is None:  # a kind from a later release read by an older process
        return Rendered(notification.kind, "", None, {})
    if kind.link == "conflict" and notification.conflict_id is not None:
        endpoint, args = "deals.conflict_detail", {"conflict_id": notification.conflict_id}
    elif notification.deal_id is not None:
        endpoint, args = "deals.deal_detail", {"deal_id": notification.deal_id}
    else:
        endpoint, args = None, {}
    return Rendered(_fill(kind.title, values), _fill(kind.body, values), endpoint, args)


class _Values(dict):
    def __missing__(self, key):  # a parameter a caller left out shows as a dash, not an error
        return "—"


def _display_params(params: dict) -> _Values:
    values = _Values()
    for key, value in params.items():
        if key in DATE_PARAMS and isinstance(value, str):
            try:
                value = DATE_PARAMS[key](datetime.fromisoformat(value))
            except ValueError:
                pass
        values[key] = value
    return values


def _fill(message, values: dict) -> str:
    return str(message) % values


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.user_id == user_id, Notification.read_at.is_(None)
        )
    )


def notifications_of(user_id: int):
    """A select of a user's notifications, newest first."""
    return (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def mark_read(notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(user_id: int) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def base_url() -> str:
    """Where email links point: the configured address, else the local development server."""
    return current_app.config.get("NOTIFICATIONS_BASE_URL") or "http://localhost:5000/"
