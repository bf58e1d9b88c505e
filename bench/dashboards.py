"""The dashboards benchmark: each role's home page on the benchmark data set.

Builds the deals benchmark's channel (bench.seed_data: 200,000 customers, 1,000,000 deals, 300
partners with their users) and the partners benchmark's ordering history (bench.partners: 2,000
partners, 2,000,000 stock order lines over 18 months, commitments), merged into one data set:
the deals data set's partners keep their ids, tiers and owners, the partners data set adds
partners 301-2,000 (owned round-robin by the same six channel managers) and the orders and
commitments of all 2,000. A share of the lines of approved, won and expired registrations get an
approved special price, so the finance dashboard has discounts to add up.

Then, per database, it logs each role in through the login form and times GET / (the dashboard)
through the test client: admin (all 2,000 partners), a channel manager (a sixth of them),
finance (this quarter), a direct sales rep and a gold partner's user; p50 / p95 / max over
--requests requests each, after three warm-up requests.

    python -m bench dashboards [--db sqlite|postgresql|both] [--customers 200000]
        [--deals 1000000] [--partners 2000] [--order-lines 2000000] [--requests 50] [--small]
        [--keep] [--reuse-sqlite PATH] [--reuse-postgresql]

PostgreSQL runs in the database of BENCH_DATABASE_URL (or TEST_DATABASE_URL) itself, whose
tables are dropped and created again (so use a database of its own, e.g. test_d); --keep keeps
the data and --reuse-postgresql / --reuse-sqlite time the pages again without reloading.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from app import create_app, db
from bench.conflicts import percentile
from bench.partners import BIG_TABLES as PARTNERS_BIG_TABLES
from bench.seed_data import (
    BENCH_PASSWORD,
    Dataset,
    bulk_load,
    fill_order_totals,
    fill_partner_stats,
)
from bench.seed_data import BIG_TABLES as DEALS_BIG_TABLES
from bench.seed_data import LOAD_ORDER as DEALS_LOAD_ORDER

TARGET_MS = 300.0
DEALS_PARTNERS = 300  # partners of the deals data set (bench.seed_data.PARTNERS)
MANAGER_IDS = tuple(range(3, 9))  # the deals data set's six channel managers
SPECIAL_SHARE = 0.15
PARTNER_USER_OF = 6  # a gold partner owned by bench-manager1
ROLES = (
    ("admin", "bench-admin@example.com"),
    ("manager", "bench-manager1@example.com"),
    ("finance", "bench-finance@example.com"),
    ("rep", "bench-rep1@example.com"),
    ("partner", f"bench-partner{PARTNER_USER_OF}@example.com"),
)
# The deals data set's tables, then the ordering history of the partners benchmark.
LOAD_ORDER = DEALS_LOAD_ORDER + (
    "stock_commitment",
    "commitment_line",
    "stock_order",
    "stock_order_line",
)
BIG_TABLES = DEALS_BIG_TABLES + PARTNERS_BIG_TABLES


# --- the data set ---------------------------------------------------------------------------------


def generate(args) -> Dataset:
    """The deals data set with the partners data set's partners, orders and commitments."""
    from bench.partners import generate as generate_partners
    from bench.seed_data import generate as generate_deals
    from seed import make_uscc

    t = time.perf_counter()
    data = generate_deals(args.customers, args.deals, seed=args.seed)
    print(f"  deals data set in {time.perf_counter() - t:.1f} s", flush=True)
    t = time.perf_counter()
    orders = generate_partners(args.partners, args.order_lines, args.seed).dataset
    print(f"  partners data set in {time.perf_counter() - t:.1f} s", flush=True)

    columns, rows = data.tables["partner"]
    used = {row[2] for row in rows}
    rng = random.Random(args.seed + 3)
    extra = []
    for row in orders.tables["partner"][1]:
        if row[0] <= DEALS_PARTNERS:
            continue
        code = row[2]
        while code in used:
            code = make_uscc(rng, "110108")
        used.add(code)
        owner = MANAGER_IDS[row[0] % len(MANAGER_IDS)]
        extra.append(row[:2] + (code,) + row[3:7] + (owner,) + row[8:])
    data.tables["partner"] = (columns, rows + extra)

    # Orders and commitments of every partner; the admin (id 1 in both) recorded them.
    columns, rows = orders.tables["stock_commitment"]
    created_by = columns.index("created_by_id")
    data.tables["stock_commitment"] = (
        columns,
        [row[:created_by] + (1,) + row[created_by + 1 :] for row in rows],
    )
    for name in ("commitment_line", "stock_order", "stock_order_line"):
        data.tables[name] = orders.tables[name]
    # Stock order lines reference the partners data set's 40 products: the deals data set has
    # the same 40 (seed.PRODUCT_LINES), in the same order.

    # Approved special prices on some lines of granted registrations.
    deal_columns, deal_rows = data.tables["deal"]
    kind_at, status_at = deal_columns.index("kind"), deal_columns.index("status")
    columns, rows = data.tables["deal_line"]
    special_rows = []
    for row in rows:
        deal = deal_rows[row[1] - 1]
        granted = deal[kind_at] == "channel" and deal[status_at] in ("approved", "won", "expired")
        if granted and rng.random() < SPECIAL_SHARE:
            price = (row[4] * Decimal("0.9")).quantize(Decimal("0.01"))
            special_rows.append(row[:4] + (price, "approved", price))
        else:
            special_rows.append(row + ("none", None))
    data.tables["deal_line"] = (
        columns + ["special_status", "approved_unit_price"],
        special_rows,
    )
    data.timings["total"] = time.perf_counter() - t
    return data


def load(data: Dataset, log=print) -> dict[str, float]:
    """Schema, then bulk inserts (indexes of the big tables built afterwards), the stored
    stock-order day totals, deal statistics and open pipeline as the refresh commands fill
    them, then ANALYZE."""

    def fill(timings: dict[str, float], log) -> None:
        fill_order_totals(timings, log)
        fill_partner_stats(timings, log)

    return bulk_load(data, LOAD_ORDER, BIG_TABLES, fill=fill, drop_first=True, log=log)


def _add_stored_tables(log=print) -> None:
    """A kept database loaded by an older version of this benchmark: bring its schema to the
    models' (as the migrations do: new tables and indexes, the replaced decision-time index
    dropped) and fill the stored aggregates it lacks, so --reuse-* can time the current code
    without reloading."""
    from sqlalchemy import inspect

    from deals.pipeline import rebuild_pipeline
    from partners.order_totals import rebuild_order_totals

    engine = db.engine
    fresh = {t for t in db.metadata.tables if not inspect(engine).has_table(t)}
    db.metadata.create_all(engine, checkfirst=True)
    inspector = inspect(engine)
    t = time.perf_counter()
    with engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            existing = {ix["name"] for ix in inspector.get_indexes(table.name)}
            if table.name == "deal" and "ix_deal_decided_at" in existing:
                conn.exec_driver_sql("DROP INDEX ix_deal_decided_at")
            for index in table.indexes:
                if index.name not in existing and table.name not in fresh:
                    index.create(conn)
                    log(f"  index {index.name} created")
    if "stock_order_total" in fresh:
        rows = rebuild_order_totals()
        log(f"  order totals ({rows:,} partner-days) filled")
    if "partner_pipeline" in fresh:
        rows = rebuild_pipeline()
        log(f"  pipeline ({rows:,} partner-stage rows) filled")
    db.session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    log(f"  schema brought up to date in {time.perf_counter() - t:.1f} s")


# --- measurements ---------------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    version: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    page_ms: dict[str, list[float]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


def time_pages(app, requests: int, result: Result) -> None:
    from tests.conftest import IsolatedClient, login

    app.test_client_class = IsolatedClient
    for role, email in ROLES:
        client = app.test_client()
        response = login(client, email, BENCH_PASSWORD)
        assert response.status_code == 302, f"login of {email} failed"
        for _ in range(3):  # warm-up
            page = client.get("/")
            assert page.status_code == 200 and "<svg" in page.text, f"{role} dashboard failed"
        samples = result.page_ms.setdefault(role, [])
        for _ in range(requests):
            start = time.perf_counter()
            page = client.get("/")
            samples.append((time.perf_counter() - start) * 1000)
            assert page.status_code == 200


def count_rows(result: Result) -> None:
    for name in ("partner", "end_customer", "deal", "stock_order_line", "stock_commitment"):
        result.sizes[name] = db.session.scalar(text(f"SELECT count(*) FROM {name}"))


def run_database(kind: str, url: str, data: Dataset | None, args, log=print) -> Result:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}
    )
    result = Result(database=kind)
    with app.app_context():
        if data is not None:
            start = time.perf_counter()
            result.timings = load(data, log=log)
            result.timings["load_total"] = time.perf_counter() - start
            log(f"  loaded in {result.timings['load_total']:.1f} s; timing...")
        else:
            _add_stored_tables(log)
        if kind == "postgresql":
            result.version = db.session.scalar(text("SHOW server_version"))
        else:
            result.version = db.session.scalar(text("SELECT sqlite_version()"))
        count_rows(result)
        db.session.remove()
    time_pages(app, args.requests, result)
    with app.app_context():
        db.engine.dispose()
    return result


def report(result: Result) -> str:
    s = result.sizes
    lines = [
        "",
        f"{result.database} {result.version}: {s['partner']:,} partners, "
        f"{s['end_customer']:,} customers, {s['deal']:,} deals, "
        f"{s['stock_order_line']:,} stock order lines, {s['stock_commitment']:,} commitments",
    ]
    if result.timings:
        t = result.timings
        lines.append(
            f"  load {t['load_total']:.1f} s (insert {t['insert']:.1f} s, indexes "
            f"{t['indexes']:.1f} s, order totals {t['order_totals']:.1f} s, partner statistics "
            f"{t['partner_stats']:.1f} s, analyze "
            f"{t['analyze']:.1f} s)"
        )
    lines.append(f"  {'GET / (dashboard)':<36}{'p50':>11}{'p95':>11}{'max':>11}")
    met = True
    for role, values in result.page_ms.items():
        p95 = percentile(values, 95)
        met = met and p95 < TARGET_MS
        lines.append(
            f"  {role:<36}{statistics.median(values):8.1f} ms{p95:8.1f} ms"
            f"{max(values):8.1f} ms   n={len(values)}"
        )
    lines.append(f"  target p95 < {TARGET_MS:.0f} ms for every role: {'met' if met else 'NOT met'}")
    return "\n".join(lines)


def run(args) -> int:
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if args.reuse_sqlite or args.reuse_postgresql:
        kinds = (["sqlite"] if args.reuse_sqlite else []) + (
            ["postgresql"] if args.reuse_postgresql else []
        )
    if "postgresql" in kinds and not server:
        print("PostgreSQL needs BENCH_DATABASE_URL or TEST_DATABASE_URL", file=sys.stderr)
        return 2
    started = time.perf_counter()
    print(
        f"dashboards benchmark: {args.customers:,} customers, {args.deals:,} deals, "
        f"{args.partners:,} partners, {args.order_lines:,} order lines, {args.requests} requests "
        f"a role, on {', '.join(kinds)} ({os.cpu_count()} CPUs)",
        flush=True,
    )
    reusing = bool(args.reuse_sqlite or args.reuse_postgresql)
    data = None
    if not reusing:
        data = generate(args)
        gc.collect()
        gc.freeze()  # millions of rows the collector need not walk during the timings
        print(f"generated the data set in {data.timings['total']:.1f} s", flush=True)
    for kind in kinds:
        if kind == "sqlite":
            if args.reuse_sqlite:
                path = Path(args.reuse_sqlite)
            else:
                path = Path(tempfile.mkdtemp(prefix="bench_dashboards_")) / "bench.sqlite"
            url = f"sqlite:///{path}"
            label = f"SQLite ({path})"
        else:
            from bench.conflicts import _normalise_database_url

            url = _normalise_database_url(server)
            label = f"PostgreSQL ({url.rsplit('@', 1)[-1]})"
        print(f"\n== {label}", flush=True)
        try:
            result = run_database(kind, url, data, args)
        finally:
            if kind == "sqlite" and not (args.keep or args.reuse_sqlite):
                for file in path.parent.iterdir():
                    file.unlink()
                path.parent.rmdir()
            elif kind == "postgresql" and not (args.keep or args.reuse_postgresql):
                app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
                with app.app_context():
                    db.drop_all()
                    db.engine.dispose()
            else:
                print(f"  kept {label}")
        print(report(result), flush=True)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    return 0
