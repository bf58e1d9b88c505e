"""The notification list, marking read, and the unread count in the top bar."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from accounts.access import role_required
from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP
from app import db
from notifications import mail
from notifications.models import Notification
from notifications.services import (
    mark_all_read,
    mark_read,
    notifications_of,
    render,
    unread_count,
)

bp = Blueprint("notifications", __name__)
EVERYONE = (ADMIN, MANAGER, REP, FINANCE, PARTNER)


@bp.record_once
def _setup(state) -> None:
    mail.init_app(state.app)


@bp.app_context_processor
def inject_unread_count():
    def unread_notifications() -> int:
        # Called by the top bar only when someone is logged in: one indexed COUNT per page.
        if not current_user.is_authenticated:
            return 0
        return unread_count(current_user.id)

    return {"unread_notifications": unread_notifications}


def _own(notification_id: int) -> Notification:
    """One of the current user's notifications; another user's answers 404."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    return notification


@bp.get("/notifications")
@role_required(*EVERYONE)
def list_notifications():
    page = db.paginate(
        notifications_of(current_user.id), per_page=current_app.config["ITEMS_PER_PAGE"]
    )
    rows = [(n, render(n)) for n in page.items]
    return render_template(
        "notifications/list.html",
        page=page,
        rows=rows,
        unread=unread_count(current_user.id),
    )


@bp.post("/notifications/<int:notification_id>/read")
@role_required(*EVERYONE)
def mark_notification_read(notification_id: int):
    notification = _own(notification_id)
    mark_read(notification)
    db.session.commit()
    return redirect(url_for("notifications.list_notifications"))


@bp.post("/notifications/<int:notification_id>/open")
@role_required(*EVERYONE)
def open_notification(notification_id: int):
    """Mark it read and go to what it is about."""
    notification = _own(notification_id)
    mark_read(notification)
    db.session.commit()
    target = render(notification)
    if target.endpoint is None:
        return redirect(url_for("notifications.list_notifications"))
    return redirect(url_for(target.endpoint, **target.values))


@bp.post("/notifications/read")
@role_required(*EVERYONE)
def mark_all_notifications_read():
    count = mark_all_read(current_user.id)
    db.session.commit()
    if count:
        flash(_("All notifications marked as read."), "success")
    return redirect(url_for("notifications.list_notifications"))
