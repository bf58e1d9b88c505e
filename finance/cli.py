"""`flask finance ...` commands (attached to the finance blueprint)."""

from __future__ import annotations

from datetime import timedelta

import click

from app import db
from finance.jobs import purge_exports


@click.command("purge-exports")
@click.option("--days", default=7, show_default=True, help="Keep exports younger than this.")
def purge_exports_command(days: int):
    """Delete finished statement exports (files and jobs) older than --days (run from cron)."""
    count = purge_exports(timedelta(days=days))
    db.session.commit()
    click.echo(f"{count} export(s) removed.")
