"""`flask deals ...` commands."""

from __future__ import annotations

from collections import defaultdict

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app import db
from deals.workflow import expire_deals
from notifications import services as notices
from notifications.cli import notifications_cli

deals_cli = AppGroup("deals", help="Deal registration housekeeping.")


@deals_cli.command("expire")
def expire_command():
    """Move approved deals past their protection to expired (run from cron)."""
    count = expire_deals()
    db.session.commit()
    click.echo(f"{count} deal(s) expired.")


@deals_cli.command("refresh-stats")
def refresh_stats_command():
    """Recompute every partner's price-only statistics (they are kept current as deals change;
    run this after a tier policy change or a bulk load)."""
    from deals.partner_stats import refresh_partner_stats
    from partners.models import Partner

    ids = list(db.session.scalars(select(Partner.id)))
    for start in range(0, len(ids), 500):
        refresh_partner_stats(ids[start : start + 500])
    db.session.commit()
    click.echo(f"Statistics refreshed for {len(ids)} partner(s).")


def notify_due_deals(now) -> int:
    """Warn partners of protection ending within a week and managers of deals past their SLA.

    Each warning carries a key (deal and the moment it is about), so running this every hour
    tells each person once; an extension or a resubmission moves the moment and warns again.
    """
    from datetime import timedelta

    from sqlalchemy.orm import selectinload

    from accounts.models import User
    from deals.models import APPROVED, CHANNEL, SUBMITTED, Deal
    from notifications.models import Notification

    ending = db.session.scalars(
        select(Deal).where(
            Deal.kind == CHANNEL,
            Deal.status == APPROVED,
            Deal.protection_expires_at > now,
            Deal.protection_expires_at <= now + timedelta(days=notices.PROTECTION_WARNING_DAYS),
        )
    ).all()
    late = db.session.scalars(
        select(Deal)
        .where(Deal.kind == CHANNEL, Deal.status == SUBMITTED, Deal.sla_due_at < now)
        .options(selectinload(Deal.partner))
    ).all()
    due = [(deal, notices.PROTECTION_ENDING, deal.protection_expires_at) for deal in ending]
    due += [(deal, notices.SLA_PASSED, deal.sla_due_at) for deal in late]
    keyed = {
        f"{kind}:{deal.id}:{moment.isoformat(timespec='minutes')}": (deal, kind, moment)
        for deal, kind, moment in due
    }
    keys = list(keyed)
    told_keys: set[str] = set()
    for start in range(0, len(keys), 500):  # skip what earlier runs told, in a few queries
        told_keys.update(
            db.session.scalars(
                select(Notification.dedupe_key).where(
                    Notification.dedupe_key.in_(keys[start : start + 500])
                )
            )
        )
    partner_ids = {deal.partner_id for deal, kind, _ in due if kind == notices.PROTECTION_ENDING}
    users_of: dict[int, list[int]] = defaultdict(list)
    if partner_ids:
        for user_id, partner_id in db.session.execute(
            select(User.id, User.partner_id).where(
                User.partner_id.in_(partner_ids), User.role == "partner", User.active.is_(True)
            )
        ):
            users_of[partner_id].append(user_id)
    told = 0
    for key, (deal, kind, moment) in keyed.items():
        if key in told_keys:
            continue
        if kind == notices.PROTECTION_ENDING:
            recipients = users_of[deal.partner_id]
            params = {"project": deal.project_name, "expires": moment}
        else:
            recipients = [deal.partner.owner_id]
            params = {"project": deal.project_name, "partner": deal.partner.name, "due": moment}
        told += notices.notify(recipients, kind, deal_id=deal.id, params=params, dedupe_key=key)
    return told


@notifications_cli.command("due")
def notifications_due_command():
    """Tell partners 7 days before protection ends and managers of deals past their SLA
    (run hourly from cron; running it twice tells nobody twice)."""
    from flask import current_app

    from accounts.models import utcnow
    from notifications.mail import wait_for_emails

    told = notify_due_deals(utcnow())
    db.session.commit()
    wait_for_emails(current_app)
    click.echo(f"{told} notification(s) added.")


@deals_cli.command("refresh-pipeline")
def refresh_pipeline_command():
    """Recompute the stored open pipeline per partner and stage from the deals (it is kept
    current as deals change; run this after loading deals in bulk with SQL)."""
    from deals.pipeline import rebuild_pipeline

    rows = rebuild_pipeline()
    db.session.commit()
    click.echo(f"Pipeline refreshed: {rows} partner-stage row(s).")
