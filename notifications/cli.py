"""`flask notifications ...`: retry emails. `due` (the time-based ones) is added by deals.cli,
because finding deals whose protection ends belongs to deals, which notifications never imports."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from notifications.mail import deliver, pending_ids

notifications_cli = AppGroup("notifications", help="Notifications and their emails.")


@notifications_cli.command("send-pending")
@click.option("--limit", default=500, show_default=True, help="Most emails to try in this run.")
def send_pending_command(limit):
    """Email notifications whose email failed or was never sent (run from cron)."""
    sent = failed = 0
    for notification_id in pending_ids(limit):
        outcome = deliver(notification_id, current_app.config.get("NOTIFICATIONS_BASE_URL"))
        if outcome is True:
            sent += 1
        elif outcome is False:
            failed += 1
    click.echo(f"{sent} email(s) sent, {failed} failed.")
