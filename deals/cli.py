"""`flask deals ...` and `flask customers ...` commands."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app import db
from deals.matching import candidate_ngrams, compare_customer_names
from deals.models import EndCustomer
from deals.workflow import expire_deals
from notifications import services as notices
from notifications.cli import notifications_cli

deals_cli = AppGroup("deals", help="Deal registration housekeeping.")
customers_cli = AppGroup("customers", help="End customer matching.")


@deals_cli.command("expire")
def expire_command():
    """Move approved deals past their protection to expired (run from cron)."""
    count = expire_deals()
    db.session.commit()
    click.echo(f"{count} deal(s) expired.")


@customers_cli.command("compare")
@click.argument("name_a", required=False)
@click.argument("name_b", required=False)
@click.option("--uscc-a", default=None, help="Credit code of the first customer.")
@click.option("--uscc-b", default=None, help="Credit code of the second customer.")
@click.option(
    "--file",
    "pairs_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Tab-separated pairs with a header naming name_a, name_b (and optionally uscc_a, "
    "uscc_b); prints verdict, rule and score per pair, in input order.",
)
def compare_command(name_a, name_b, uscc_a, uscc_b, pairs_file):
    """Compare two names: print `same`, `possible` or `different` on the first line, then the
    evidence (JSON).  With --file, compare every pair of a TSV file instead."""
    if pairs_file is not None:
        if name_a is not None or name_b is not None:
            raise click.UsageError("give either two names or --file, not both")
        _compare_file(pairs_file)
        return
    if name_a is None or name_b is None:
        raise click.UsageError("give two names, or --file PAIRS.tsv")
    verdict = compare_customer_names(name_a, name_b, uscc_a, uscc_b)
    click.echo(verdict.verdict)
    click.echo(json.dumps(verdict.evidence(), ensure_ascii=False, indent=2))


def _compare_file(path: str) -> None:
    """One line per pair of a TSV file: verdict, rule, score (one decimal), tab-separated."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t")
            columns = [c.strip() for c in reader.fieldnames or []]
            missing = [c for c in ("name_a", "name_b") if c not in columns]
            if missing:
                raise click.UsageError(
                    f"{path}: the header names no column {', '.join(missing)} "
                    f"(found: {', '.join(columns) or 'nothing'})"
                )
            reader.fieldnames = columns
            lines = []
            for row in reader:
                verdict = compare_customer_names(
                    row.get("name_a") or "",
                    row.get("name_b") or "",
                    row.get("uscc_a") or None,
                    row.get("uscc_b") or None,
                )
                lines.append(f"{verdict.verdict}\t{verdict.rule}\t{verdict.score:.1f}")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise click.UsageError(f"cannot read {path}: {exc}") from exc
    click.echo("\n".join(lines))


@customers_cli.command("duplicates")
@click.option("--limit", default=200, show_default=True, help="Most pairs to list.")
def duplicates_command(limit):
    """List likely duplicate end customers already in the database."""
    rows = db.session.execute(
        select(EndCustomer.id, EndCustomer.name, EndCustomer.uscc, EndCustomer.name_key)
    ).all()
    # Block on shared name-key bigrams so only plausible pairs are compared.
    buckets: dict[str, list] = defaultdict(list)
    for row in rows:
        for gram in candidate_ngrams(row.name_key or "", 2):
            buckets[gram].append(row)
    compared: set[tuple[int, int]] = set()
    found = 0
    for members in buckets.values():
        if len(members) > 400:  # a gram shared by hundreds of names says nothing
            continue
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pair = (min(a.id, b.id), max(a.id, b.id))
                if pair in compared:
                    continue
                compared.add(pair)
                verdict = compare_customer_names(a.name, b.name, a.uscc, b.uscc)
                if verdict.same:
                    click.echo(f"{a.id}\t{a.name}\t{b.id}\t{b.name}\t{verdict.rule}")
                    found += 1
                    if found >= limit:
                        return
    click.echo(f"{found} likely duplicate pair(s).")


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


@customers_cli.command("refresh-grams")
def refresh_grams_command():
    """Rebuild the index of customer-name grams (after loading customers with SQL, or after the
    matcher's normalisation changed)."""
    from deals.suggestions import rebuild_name_grams

    rows = rebuild_name_grams()
    db.session.commit()
    click.echo(f"{rows} name gram(s) indexed.")
