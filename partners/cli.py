"""`flask partners ...` commands (attached to the partners blueprint)."""

from __future__ import annotations

import click

from app import db
from partners.order_totals import rebuild_order_totals


@click.command("refresh-order-totals")
def refresh_order_totals_command():
    """Rebuild the stock-order day totals from the order lines (they are kept current as orders
    are recorded; run this after loading orders in bulk outside the app)."""
    rows = rebuild_order_totals()
    db.session.commit()
    click.echo(f"Order totals rebuilt: {rows} partner-day row(s).")


@click.command("remember-at-risk")
def remember_at_risk_command():
    """Work out today's at-risk memos of every partner (partners.signals), so the first
    dashboard of the day does not (optional, from cron after midnight Asia/Shanghai; the memos
    stay exact without it: orders forget theirs and another day reads them as missing)."""
    from sqlalchemy import select

    from clock import vendor_today
    from partners.models import Partner
    from partners.signals import remembered_order_history

    today = vendor_today()
    ids = list(db.session.scalars(select(Partner.id)))
    remembered_order_history(ids, today)
    db.session.commit()
    click.echo(f"At-risk memos of {today.isoformat()} ready for {len(ids)} partner(s).")
