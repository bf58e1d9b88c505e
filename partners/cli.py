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
