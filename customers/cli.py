"""`flask customers ...` commands: compare names, list likely duplicates, rebuild the gram
index."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app import db
from customers.matching import candidate_ngrams, compare_customer_names
from customers.models import EndCustomer

customers_cli = AppGroup("customers", help="End customer matching.")


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


@customers_cli.command("refresh-grams")
def refresh_grams_command():
    """Rebuild the index of customer-name grams (after loading customers with SQL, or after the
    matcher's normalisation changed)."""
    from customers.grams import rebuild_name_grams

    rows = rebuild_name_grams()
    db.session.commit()
    click.echo(f"{rows} name gram(s) indexed.")
