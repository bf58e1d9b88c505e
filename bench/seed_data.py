"""A large, realistic channel data set, generated once in memory and bulk-loaded into a database.

The data set (``generate``) is plain rows, so the same customers and deals go into SQLite and
PostgreSQL. Loading (``load``) drops the big tables' indexes, inserts in batches (SQLite:
executemany through SQLAlchemy Core; PostgreSQL: COPY through psycopg), then builds the indexes
again, which is several times faster than inserting into indexed tables.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, text
from werkzeug.security import generate_password_hash

from accounts.models import ADMIN, FINANCE, MANAGER, PARTNER, REP, AuditLog, User, utcnow
from app import db
from bench.names import CustomerName, NameFactory, name_variant
from customers.matching import name_province, name_search_key, suggestion_grams
from customers.models import EndCustomer
from deals.models import (
    APPROVED,
    CHANNEL,
    DIRECT,
    DIRECT_DEAL,
    DRAFT,
    EXPIRED,
    LOST,
    LOST_REASONS,
    MORE_INFO,
    PARTNER_OVERLAP,
    REJECTED,
    SUBMITTED,
    WON,
    Conflict,
    Deal,
    DealLine,
)
from deals.sla import add_working_days
from partners.models import Partner, TierPolicy
from pricing.models import Product
from seed import PARTNER_SUFFIX, PARTNER_WORDS, PRODUCT_LINES, PROJECTS, TIER_POLICIES, make_uscc

BENCH_PASSWORD = "bench-pass-1"
MANAGERS = 6
REPS = 12
PARTNERS = 300
# Share of customers that are named direct accounts, and of records that are a second record
# of an existing customer under another spelling (as real master data has).
NAMED_ACCOUNT_SHARE = 0.015
DUPLICATE_SHARE = 0.01
USCC_SHARE = 2 / 3

CHANNEL_STATUSES = (
    (DRAFT, 2),
    (SUBMITTED, 4),
    (MORE_INFO, 1),
    (APPROVED, 14),
    (EXPIRED, 24),
    (REJECTED, 10),
    (WON, 24),
    (LOST, 21),
)
DIRECT_STATUSES = ((APPROVED, 20), (WON, 40), (LOST, 40))
STAGES = ("need_identified", "project_approved", "technical_screening", "evaluation")
STAGES += ("final_decision",)
FUNDING = ("own_budget", "superior_allocation", "external")
COMPETITORS = ("华为, 新华三", "浪潮", "锐捷, 深信服", "戴尔", "联想", "")
DISCOUNTS = (Decimal("0.60"), Decimal("0.65"), Decimal("0.70"), Decimal("0.75"), Decimal("0.80"))
DIVISIONS = ("110108", "310115", "440305", "330106", "320106", "510107", "420106", "370102")
# Protection days of each tier, as seeded by seed.TIER_POLICIES.
PROTECTION_DAYS = {tier: values[2] for tier, values in TIER_POLICIES.items()}


@dataclass
class Dataset:
    """Rows for every table, in insertion order, plus what the benchmark needs to know."""

    now: datetime
    tables: dict[str, tuple[list[str], list[tuple]]] = field(default_factory=dict)
    customer_names: list[CustomerName] = field(default_factory=list)  # index = id - 1
    customer_keys: list[str] = field(default_factory=list)
    key_counts: Counter = field(default_factory=Counter)
    deal_customer_ids: list[int] = field(default_factory=list)
    partner_user_ids: dict[int, int] = field(default_factory=dict)  # partner id -> user id
    manager_email: str = "bench-manager1@example.com"
    admin_email: str = "bench-admin@example.com"
    product_ids: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def rows(self, table: str) -> int:
        return len(self.tables[table][1])


def _name_keys(name: str) -> tuple[str, str]:
    """The matching keys EndCustomer.set_name stores: (name_key, name_region)."""
    return name_search_key(name), name_province(name)


def _sorted_grams(name: str) -> list[str]:
    """customers.matching.suggestion_grams of a name (what the gram index holds), in order."""
    return sorted(suggestion_grams(name))


def _on_all_cores(function, names: list[str], processes: int) -> list:
    """``function`` of every name (tens of µs each), on all cores for a large list."""
    if processes <= 1 or len(names) < 20_000:
        return [function(n) for n in names]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return pool.map(function, names, chunksize=2_000)


def generate(customers: int, deals: int, seed: int = 20261123, processes: int = 2) -> Dataset:
    """Build every row in memory (deterministic for a given seed)."""
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    data = Dataset(now=now)
    started = time.perf_counter()

    # --- tier policies, users, partners, products -------------------------------------
    data.tables["tier_policy"] = (
        ["tier", "discount_rate", "min_commitment", "protection_days", "approval_limit"]
        + ["rebate_rate", "updated_at"],
        [
            (tier, Decimal(d), Decimal(m), days, Decimal(limit), Decimal(rebate), now)
            for tier, (d, m, days, limit, rebate) in TIER_POLICIES.items()
        ],
    )
    password_hash = generate_password_hash(BENCH_PASSWORD)  # one hash: scrypt is slow on purpose
    user_cols = ["id", "email", "name", "password_hash", "role", "partner_id", "active"]
    user_cols += ["created_at"]
    users: list[tuple] = []

    def add_user(email: str, name: str, role: str, partner_id: int | None = None) -> int:
        users.append((len(users) + 1, email, name, password_hash, role, partner_id, True, now))
        return len(users)

    add_user(data.admin_email, "Bench Admin", ADMIN)
    add_user("bench-finance@example.com", "Bench Finance", FINANCE)
    managers = [
        add_user(f"bench-manager{i}@example.com", f"渠道经理{i}", MANAGER)
        for i in range(1, MANAGERS + 1)
    ]
    reps = [add_user(f"bench-rep{i}@example.com", f"直销经理{i}", REP) for i in range(1, REPS + 1)]

    partner_rows = []
    partner_tiers: dict[int, str] = {}
    factory = NameFactory(rng)
    used_uscc: set[str] = set()

    def uscc() -> str:
        while True:
            code = make_uscc(rng, rng.choice(DIVISIONS))
            if code not in used_uscc:
                used_uscc.add(code)
                return code

    seen_partner_names: set[str] = set()
    for pid in range(1, PARTNERS + 1):
        tier = "gold" if pid <= 30 else "silver" if pid <= 120 else "registered"
        while True:
            name = (
                factory.city()
                + rng.choice(PARTNER_WORDS)
                + factory.brand()
                + rng.choice(PARTNER_SUFFIX)
            )
            if name not in seen_partner_names:
                seen_partner_names.add(name)
                break
        partner_rows.append(
            (
                pid,
                name,
                uscc(),
                "",
                ("distributor", "reseller", "integrator")[pid % 3],
                tier,
                "active",
                managers[pid % MANAGERS],  # bench-manager1 owns one partner in six
                date(now.year, 1, 1),
                date(now.year, 12, 31),
                "",
                now,
            )
        )
        partner_tiers[pid] = tier
        data.partner_user_ids[pid] = add_user(
            f"bench-partner{pid}@example.com", f"伙伴用户{pid}", PARTNER, pid
        )
    # Partners and users refer to each other: vendor users, then partners, then partner users.
    data.tables["user_account"] = (user_cols, [u for u in users if u[5] is None])
    data.tables["user_account:partners"] = (user_cols, [u for u in users if u[5] is not None])
    data.tables["partner"] = (
        ["id", "name", "uscc", "region", "partner_type", "tier", "status", "owner_id"]
        + ["agreement_start", "agreement_end", "notes", "created_at"],
        partner_rows,
    )

    product_rows = []
    products: list[tuple[int, str, Decimal]] = []
    for line, (prefix, names) in PRODUCT_LINES.items():
        for number, name in enumerate(names, start=1):
            list_price = Decimal(rng.choice([8, 12, 18, 25, 36, 48, 66, 88, 120, 180]) * 1000)
            pid = len(product_rows) + 1
            active = not (prefix == "SW" and number == 8)
            product_rows.append(
                (
                    pid,
                    f"{prefix}-{number:03d}",
                    name,
                    line,
                    list_price,
                    (list_price * Decimal("0.55")).quantize(Decimal("0.01")),
                    active,
                    now,
                )
            )
            if active:
                products.append((pid, line, list_price))
    data.product_ids = [p[0] for p in products]
    data.tables["product"] = (
        ["id", "sku", "name", "product_line", "list_price", "floor_price", "active", "updated_at"],
        product_rows,
    )

    # --- end customers ------------------------------------------------------------------
    originals = factory.unique_names(int(customers * (1 - DUPLICATE_SHARE)))
    names = list(originals)
    seen = {c.name for c in names}
    while len(names) < customers:
        base = rng.choice(originals)
        variant, _ = name_variant(base.name, rng)
        if variant not in seen:
            seen.add(variant)
            names.append(
                CustomerName(variant, base.industry, base.province, base.kind, base.public)
            )
    rng.shuffle(names)
    data.customer_names = names
    data.timings["names"] = time.perf_counter() - started
    t = time.perf_counter()
    keys_and_regions = _on_all_cores(_name_keys, [c.name for c in names], processes)
    data.customer_keys = [key for key, _ in keys_and_regions]
    regions = [region for _, region in keys_and_regions]
    data.key_counts = Counter(data.customer_keys)
    data.timings["name_keys"] = time.perf_counter() - t

    customer_rows = []
    named_accounts: list[int] = []
    for cid, (customer, key, region) in enumerate(
        zip(names, data.customer_keys, regions, strict=True), start=1
    ):
        named = rng.random() < NAMED_ACCOUNT_SHARE
        if named:
            named_accounts.append(cid)
        segment = "top" if named else rng.choices(["important", "normal"], weights=[1, 4])[0]
        customer_rows.append(
            (
                cid,
                customer.name,
                key,
                region,
                key[::-1],
                uscc() if rng.random() < USCC_SHARE else None,
                customer.province,
                customer.industry,
                "strategic" if named and rng.random() < 0.2 else segment,
                "direct" if named else "channel",
                rng.choice(reps) if named else None,
                now - timedelta(days=rng.randint(0, 1800)),
            )
        )
    data.tables["end_customer"] = (
        ["id", "name", "name_key", "name_region", "name_key_reversed", "uscc", "region"]
        + ["industry", "segment", "coverage"]
        + ["owner_rep_id", "created_at"],
        customer_rows,
    )
    t = time.perf_counter()
    grams = _on_all_cores(_sorted_grams, [c.name for c in names], processes)
    data.tables["customer_name_gram"] = (
        ["gram", "customer_id"],
        [(gram, cid) for cid, own in enumerate(grams, start=1) for gram in own],
    )
    data.timings["name_grams"] = time.perf_counter() - t

    # --- deals, one line each ------------------------------------------------------------
    t = time.perf_counter()
    partner_ids = list(partner_tiers)
    partner_weights = [
        {"gold": 5, "silver": 2, "registered": 1}[partner_tiers[p]] for p in partner_ids
    ]
    # Draw partners in bulk: rng.choices with weights is the slow part otherwise.
    partner_draws = rng.choices(partner_ids, weights=partner_weights, k=deals)
    channel_status_draws = rng.choices(
        [s for s, _ in CHANNEL_STATUSES], weights=[w for _, w in CHANNEL_STATUSES], k=deals
    )
    direct_status_draws = rng.choices(
        [s for s, _ in DIRECT_STATUSES], weights=[w for _, w in DIRECT_STATUSES], k=deals
    )
    hot = max(1, customers // 10)  # a tenth of the customers buy most often
    named_set = set(named_accounts)
    deal_rows = []
    line_rows = []
    submitted_channel: list[int] = []
    for did in range(1, deals + 1):
        cid = rng.randint(1, hot) if rng.random() < 0.3 else rng.randint(1, customers)
        customer_name = names[cid - 1].name
        direct = rng.random() < (0.5 if cid in named_set else 0.06)
        if direct:
            kind, partner_id, creator = DIRECT, None, rng.choice(reps)
            status = direct_status_draws[did - 1]
        else:
            partner_id = partner_draws[did - 1]
            kind, creator = CHANNEL, data.partner_user_ids[partner_id]
            status = channel_status_draws[did - 1]
        submitted_at = decided_at = sla_due_at = protection = None
        lost_reason = None
        if status == DRAFT:
            created = now - timedelta(days=rng.uniform(0, 30))
        elif status in (SUBMITTED, MORE_INFO):
            submitted_at = now - timedelta(days=rng.uniform(0, 7 if status == SUBMITTED else 25))
            created = submitted_at - timedelta(days=rng.uniform(0, 5))
            sla_due_at = add_working_days(submitted_at, 2)
        else:
            if kind == CHANNEL and status == APPROVED:
                # Most approved registrations are still protected; a few ran out and wait for
                # `flask deals expire` (effective status: expired).
                days = PROTECTION_DAYS[partner_tiers[partner_id]]
                decided_at = now - timedelta(days=rng.uniform(0, days * 1.1))
                protection = decided_at + timedelta(days=days)
            elif kind == CHANNEL and status == EXPIRED:
                days = PROTECTION_DAYS[partner_tiers[partner_id]]
                decided_at = now - timedelta(days=rng.uniform(days, 1400))
                protection = decided_at + timedelta(days=days)
            else:
                decided_at = now - timedelta(days=rng.uniform(1, 1400))
            submitted_at = decided_at - timedelta(days=rng.uniform(0.1, 4))
            created = submitted_at - timedelta(days=rng.uniform(0, 10))
            if status == LOST:
                lost_reason = rng.choice(list(LOST_REASONS))
        if kind == DIRECT:
            decided_at = None if status == APPROVED else decided_at
        if kind == CHANNEL and status == SUBMITTED:
            submitted_channel.append(did)
        deal_rows.append(
            (
                did,
                kind,
                partner_id,
                cid,
                creator,
                f"{customer_name[:8]}{rng.choice(PROJECTS)}",
                Decimal(rng.randint(5, 2000) * 10000),
                (created + timedelta(days=rng.randint(20, 300))).date(),
                rng.choice(STAGES),
                rng.choice(FUNDING),
                rng.choice(COMPETITORS),
                status,
                lost_reason,
                False,
                False,
                submitted_at,
                sla_due_at,
                decided_at,
                protection,
                1,
                created,
                decided_at or submitted_at or created,
            )
        )
        product_id, _line, list_price = rng.choice(products)
        line_rows.append(
            (
                did,
                did,
                product_id,
                rng.randint(1, 50),
                (list_price * rng.choice(DISCOUNTS)).quantize(Decimal("0.01")),
            )
        )
        data.deal_customer_ids.append(cid)
    data.tables["deal"] = (
        ["id", "kind", "partner_id", "customer_id", "created_by_id", "project_name"]
        + ["estimated_value", "expected_close_date", "stage", "funding_source", "competitors"]
        + ["status", "lost_reason", "strategic_exception", "fulfilment_partner", "submitted_at"]
        + ["sla_due_at", "decided_at", "protection_expires_at", "version", "created_at"]
        + ["updated_at"],
        deal_rows,
    )
    data.tables["deal_line"] = (
        ["id", "deal_id", "product_id", "quantity", "requested_unit_price"],
        line_rows,
    )

    # --- conflicts: open ones on a fifth of the queue, resolved ones on older deals -----------
    conflict_rows = []
    evidence = json.dumps({"seeded": True})
    for did in submitted_channel:
        if rng.random() < 0.2:
            other = rng.randint(1, deals)
            kind = PARTNER_OVERLAP if deal_rows[other - 1][1] == CHANNEL else DIRECT_DEAL
            conflict_rows.append(
                (len(conflict_rows) + 1, kind, did, other, None, "open", evidence, None, "")
                + (None, None, now - timedelta(days=rng.uniform(0, 7)))
            )
    for _ in range(deals // 50):
        did, other = rng.randint(1, deals), rng.randint(1, deals)
        conflict_rows.append(
            (len(conflict_rows) + 1, PARTNER_OVERLAP, did, other, None, "resolved", evidence)
            + ("channel_keeps", "", managers[0], now, now - timedelta(days=rng.uniform(7, 900)))
        )
    data.tables["conflict"] = (
        ["id", "kind", "deal_id", "other_deal_id", "account_id", "status", "evidence"]
        + ["resolution", "resolution_note", "resolved_by_id", "resolved_at", "created_at"],
        conflict_rows,
    )
    data.timings["deals"] = time.perf_counter() - t
    return data


# --- loading -------------------------------------------------------------------------------

# A key is a table name, or "table:part" for rows that must go in after another table's.
LOAD_ORDER = (
    "tier_policy",
    "user_account",
    "partner",
    "user_account:partners",
    "product",
    "end_customer",
    "customer_name_gram",
    "deal",
    "deal_line",
    "conflict",
)
BIG_TABLES = ("end_customer", "customer_name_gram", "deal", "deal_line", "conflict")
BATCH = 20_000

# Imported for their tables (db.create_all needs every model registered).
_MODELS = (AuditLog, User, Partner, TierPolicy, Product, EndCustomer, Deal, DealLine, Conflict)


def load(data: Dataset, log=print) -> dict[str, float]:
    """Create the schema and load the data set into the app's database; returns timings.

    No ANALYZE on SQLite: the deals figures were measured with SQLite's default plans."""
    return bulk_load(data, LOAD_ORDER, BIG_TABLES, fill=fill_partner_stats, analyze_sqlite=False)


def bulk_load(
    data: Dataset,
    load_order: tuple[str, ...],
    big_tables: tuple[str, ...],
    *,
    fill=None,
    analyze_sqlite: bool = True,
    drop_first: bool = False,
    log=print,
) -> dict[str, float]:
    """The benchmarks' loader: schema, the tables of ``load_order`` in bulk (SQLite executemany,
    PostgreSQL COPY; a name ``table:part`` loads a further part of ``table``) with the indexes
    of ``big_tables`` built afterwards, then ``fill(timings, log)`` for the stored aggregates a
    bulk load goes around, then the id sequences and ANALYZE. Returns timings."""
    timings: dict[str, float] = {}
    engine = db.engine
    dialect = engine.dialect.name
    if drop_first:
        db.drop_all()
    db.create_all()
    tables = db.metadata.tables
    big_indexes = [ix for name in big_tables for ix in tables[name].indexes]

    t = time.perf_counter()
    with engine.begin() as conn:
        for index in big_indexes:
            index.drop(conn)
    if dialect == "postgresql":
        _copy_postgresql(data, load_order, log)
    else:
        _insert_sqlite(data, load_order, log)
    timings["insert"] = time.perf_counter() - t

    t = time.perf_counter()
    with engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")
        for index in big_indexes:
            index.create(conn)
    timings["indexes"] = time.perf_counter() - t
    log(f"  indexes built in {timings['indexes']:.1f} s")

    if fill is not None:
        fill(timings, log)

    t = time.perf_counter()
    if dialect == "postgresql":
        with engine.begin() as conn:
            for name in load_order:
                if ":" not in name and "id" in tables[name].c:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {name}))"
                        )
                    )
        # ANALYZE cannot run inside a transaction block.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    elif analyze_sqlite:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    if dialect == "postgresql" or analyze_sqlite:
        timings["analyze"] = time.perf_counter() - t
        analyze = "VACUUM ANALYZE" if dialect == "postgresql" else "ANALYZE"
        log(f"  {analyze} in {timings['analyze']:.1f} s")
    engine.dispose()  # the measurements start from fresh connections with default settings
    return timings


def fill_partner_stats(timings: dict[str, float], log=print) -> None:
    """The price-only statistics and the open pipeline the pages read are kept current by the
    workflow; after a bulk load fill them as `flask deals refresh-stats` and
    `flask deals refresh-pipeline` do."""
    from deals.partner_stats import refresh_partner_stats
    from deals.pipeline import rebuild_pipeline

    t = time.perf_counter()
    ids = list(db.session.scalars(select(Partner.id)))
    for start in range(0, len(ids), 200):
        refresh_partner_stats(ids[start : start + 200])
    rows = rebuild_pipeline()
    db.session.commit()
    timings["partner_stats"] = time.perf_counter() - t
    log(f"  partner statistics and pipeline ({rows:,} rows) in {timings['partner_stats']:.1f} s")


def fill_order_totals(timings: dict[str, float], log=print) -> None:
    """The stock-order day totals, as `flask partners refresh-order-totals` fills them."""
    from partners.order_totals import rebuild_order_totals

    t = time.perf_counter()
    rows = rebuild_order_totals()
    db.session.commit()
    timings["order_totals"] = time.perf_counter() - t
    log(f"  order totals ({rows:,} partner-days) in {timings['order_totals']:.1f} s")


def _completed(name: str, data: Dataset) -> tuple[list[str], list[tuple]]:
    """The rows of ``name`` with any column the data set does not know (one added to the model
    since) filled with its default, so the benchmark keeps working as the schema grows."""
    columns, rows = data.tables[name]
    table = db.metadata.tables[name.split(":")[0]]
    extra, values = [], []
    for column in table.columns:
        if column.key in columns:
            continue
        default = column.default
        if default is not None and default.is_scalar:
            value = default.arg
        elif default is not None and default.is_callable:
            value = default.arg({})  # SQLAlchemy wraps column defaults to take a context
        elif column.nullable or column.server_default is not None:
            continue  # NULL, or the database's own default
        else:
            raise RuntimeError(f"bench: no value for the new column {name}.{column.key}")
        extra.append(column.key)
        values.append(value)
    if not extra:
        return columns, rows
    tail = tuple(values)
    return columns + extra, [row + tail for row in rows]


def _insert_sqlite(data: Dataset, load_order: tuple[str, ...], log) -> None:
    raw = db.engine.raw_connection()
    try:
        # Loading only: the measurements use the app's own connections and settings.
        raw.execute("PRAGMA synchronous = OFF")
        raw.execute("PRAGMA cache_size = -262144")
        for name in load_order:
            columns, rows = _completed(name, data)
            table = db.metadata.tables[name.split(":")[0]]
            t = time.perf_counter()
            # SQLAlchemy Core compiles the INSERT and converts each value the way the app's
            # column types store them on SQLite (dates as ISO text, money as REAL).
            stmt = table.insert().compile(dialect=db.engine.dialect, column_keys=columns)
            dialect = db.engine.dialect
            processors = [
                table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
            ]
            order = stmt.positiontup
            position = [columns.index(c) for c in order]
            sql = str(stmt)
            cursor = raw.cursor()
            for start in range(0, len(rows), BATCH):
                batch = []
                for row in rows[start : start + BATCH]:
                    batch.append(
                        tuple(processors[i](row[i]) if processors[i] else row[i] for i in position)
                    )
                cursor.executemany(sql, batch)
            raw.commit()
            if len(rows) > 1000:
                log(f"  {name}: {len(rows):,} rows in {time.perf_counter() - t:.1f} s")
    finally:
        raw.close()


def _copy_postgresql(data: Dataset, load_order: tuple[str, ...], log) -> None:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET synchronous_commit = off")
        for name in load_order:
            columns, rows = _completed(name, data)
            t = time.perf_counter()
            quoted = ", ".join(f'"{c}"' for c in columns)
            table = name.split(":")[0]
            with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
            raw.commit()
            if len(rows) > 1000:
                log(f"  {name}: {len(rows):,} rows in {time.perf_counter() - t:.1f} s")
    finally:
        raw.close()
