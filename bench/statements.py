"""The statements benchmark: a partner statement and a channel statement on a large channel.

Seeds, from a fixed seed, 2,000 partners with 2,000,000 stock order lines dated in the
statement year (one partner holding 100,000 of them), 5 % more lines in the year before, stock
commitments, and deals with approved special prices. Loads them in bulk (SQLite: executemany;
PostgreSQL: COPY), then measures, each run in a fresh Python process (so its peak resident
memory is the export's own, interpreter and libraries included):

(a) the partner statement of the large partner for the year (finance.exports.export_statement:
    grouped figures, then the workbook streamed into a file), against writing the same cells
    with bare openpyxl write-only mode in the same run (the rows read into lists beforehand,
    untimed; every number or date cell a WriteOnlyCell with its number_format set, text as
    plain strings, the same header, freeze panes, column widths, totals formulas and
    autofilter). Targets: at most 1.2 × the bare write, peak memory under 150 MB.
(b) the channel statement for the year. Targets: under 10 s, peak memory under 200 MB.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

YEAR = 2025
BATCH = 20_000
BIG_TABLES = ("stock_order", "stock_order_line", "end_customer", "deal", "deal_line")
LOAD_ORDER = (
    "tier_policy",
    "user_account",
    "partner",
    "user_account:partners",
    "product",
    "stock_commitment",
    "stock_order",
    "stock_order_line",
    "end_customer",
    "deal",
    "deal_line",
)
TIER_SHARES = (("gold", 0.1), ("silver", 0.3), ("registered", 0.6))
ORDER_WEIGHT = {"gold": 6, "silver": 2, "registered": 1}
REGIONS = ("北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "山东", "福建", "河南")
MANAGERS = 20
PRODUCTS = 200
CUSTOMERS = 20_000
LINES_PER_ORDER = (1, 9)  # uniform: 5 on average
TARGET_RATIO = 1.2
TARGET_PARTNER_MB = 150
TARGET_CHANNEL_S = 10.0
TARGET_CHANNEL_MB = 200


@dataclass
class Sizes:
    partners: int = 2_000
    lines: int = 2_000_000  # order lines dated in YEAR
    big_lines: int = 100_000  # of which the large partner's
    deals: int = 60_000
    seed: int = 20261123


@dataclass
class Loaded:
    """What the measurements need to know about the loaded data set."""

    finance_user_id: int = 0
    big_partner_id: int = 1
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# --- the data set, generated as it is loaded ------------------------------------------------------


class DataSet:
    """Rows per table as generators (2 million lines are never all in memory)."""

    def __init__(self, sizes: Sizes):
        from seed import TIER_POLICIES, make_uscc

        self.sizes = sizes
        self.rng = random.Random(sizes.seed)
        self.now = datetime(YEAR + 1, 1, 15, 8, 0, tzinfo=UTC)
        self.tier_policies = TIER_POLICIES
        rng = self.rng
        tiers = []
        for tier, share in TIER_SHARES:
            tiers += [tier] * round(sizes.partners * share)
        tiers = (tiers + ["registered"] * sizes.partners)[: sizes.partners]
        rng.shuffle(tiers)
        tiers[0] = "gold"  # the large partner
        self.partner_tiers = tiers
        codes: set[str] = set()
        self.partner_codes = []
        while len(self.partner_codes) < sizes.partners:
            code = make_uscc(rng, rng.choice(("110108", "310115", "440305", "330106")))
            if code not in codes:
                codes.add(code)
                self.partner_codes.append(code)
        self.list_prices = [
            Decimal(rng.choice(("800", "1200", "3600", "8800", "12000", "25000", "99999.99")))
            for _ in range(PRODUCTS)
        ]
        # Order lines per partner: the large partner its share, the rest by tier weight.
        others = sizes.lines - sizes.big_lines
        weights = [ORDER_WEIGHT[t] * rng.uniform(0.5, 1.5) for t in tiers[1:]]
        scale = others / sum(weights)
        counts = [int(w * scale) for w in weights]
        counts[0] += others - sum(counts)
        self.lines_per_partner = [sizes.big_lines, *counts]
        self.finance_user_id = 1
        self.manager_ids = list(range(2, 2 + MANAGERS))
        self.partner_user_id = 2 + MANAGERS

    # -- small tables --

    def tier_policy(self):
        columns = ["tier", "discount_rate", "min_commitment", "protection_days"]
        columns += ["approval_limit", "rebate_rate"]
        rows = [
            (tier, Decimal(d), Decimal(m), days, Decimal(limit), Decimal(rebate))
            for tier, (d, m, days, limit, rebate) in self.tier_policies.items()
        ]
        return columns, iter(rows)

    def user_account(self):
        from werkzeug.security import generate_password_hash

        hashed = generate_password_hash("bench-pass-1")
        columns = ["id", "email", "name", "password_hash", "role", "partner_id"]
        rows = [(1, "bench-finance@example.com", "财务 Bench", hashed, "finance", None)]
        rows += [
            (uid, f"bench-manager{uid}@example.com", f"渠道经理{uid}", hashed, "manager", None)
            for uid in self.manager_ids
        ]
        return columns, iter(rows)

    def user_account_partners(self):
        columns = ["id", "email", "name", "password_hash", "role", "partner_id"]
        row = (self.partner_user_id, "bench-partner@example.com", "伙伴用户", "x", "partner", 1)
        return columns, iter([row])

    def partner(self):
        columns = ["id", "name", "uscc", "region", "tier", "owner_id"]
        columns += ["agreement_start", "agreement_end"]

        def rows():
            for index, tier in enumerate(self.partner_tiers):
                pid = index + 1
                name = (
                    "大客户伙伴科技有限公司" if pid == 1 else f"渠道伙伴{pid:04d}信息技术有限公司"
                )
                yield (
                    pid,
                    name,
                    self.partner_codes[index],
                    REGIONS[pid % len(REGIONS)],
                    tier,
                    self.manager_ids[pid % MANAGERS],
                    date(YEAR, 1, 1),
                    date(YEAR, 12, 31),
                )

        return columns, rows()

    def product(self):
        columns = ["id", "sku", "name", "product_line", "list_price", "floor_price"]
        lines = ("服务器", "存储", "网络", "安全", "软件")
        rows = (
            (
                pid,
                f"BN-{pid:04d}",
                f"产品 {pid} 型号 {pid * 7 % 1000:03d}",
                lines[pid % len(lines)],
                self.list_prices[pid - 1],
                (self.list_prices[pid - 1] * Decimal("0.55")).quantize(Decimal("0.01")),
            )
            for pid in range(1, PRODUCTS + 1)
        )
        return columns, rows

    def stock_commitment(self):
        columns = ["id", "partner_id", "period", "period_start", "period_end", "amount"]

        def rows():
            cid = 0
            for index, tier in enumerate(self.partner_tiers):
                if tier == "registered":
                    continue
                pid = index + 1
                expected = self.lines_per_partner[index] * Decimal(9000)
                amount = (expected * Decimal(str(self.rng.uniform(0.8, 1.4)))).quantize(
                    Decimal("1")
                )
                cid += 1
                yield cid, pid, str(YEAR), date(YEAR, 1, 1), date(YEAR, 12, 31), amount
                if pid % 4 == 0:  # some also commit a quarter: nested, not counted twice
                    cid += 1
                    quarter = (amount / 4).quantize(Decimal("0.01"))
                    yield cid, pid, f"{YEAR}-Q2", date(YEAR, 4, 1), date(YEAR, 6, 30), quarter

        return columns, rows()

    def _orders(self) -> Iterator[tuple]:
        """(order id, partner id, number, date, lines) — the year, plus 5 % the year before."""
        rng = random.Random(self.sizes.seed + 1)
        order_id = 0
        days = (date(YEAR, 12, 31) - date(YEAR, 1, 1)).days + 1
        for index, lines in enumerate(self.lines_per_partner):
            pid = index + 1
            for year_start, total in (
                (date(YEAR, 1, 1), lines),
                (date(YEAR - 1, 1, 1), lines // 20),
            ):
                left = total
                while left > 0:
                    count = min(left, rng.randint(*LINES_PER_ORDER))
                    left -= count
                    order_id += 1
                    day = year_start + timedelta(days=rng.randrange(days))
                    yield order_id, pid, f"SO-{pid:04d}-{order_id:08d}", day, count

    def stock_order(self):
        columns = ["id", "partner_id", "number", "order_date", "source"]
        return columns, (
            (oid, pid, number, day, "import") for oid, pid, number, day, _ in self._orders()
        )

    def stock_order_line(self):
        columns = ["id", "order_id", "product_id", "quantity", "unit_price"]
        rng = random.Random(self.sizes.seed + 2)
        discount = {t: Decimal(p[0]) for t, p in self.tier_policies.items()}

        def rows():
            line_id = 0
            for oid, pid, _, _, count in self._orders():
                keep = 1 - discount[self.partner_tiers[pid - 1]]
                for _ in range(count):
                    line_id += 1
                    product = rng.randrange(PRODUCTS)
                    price = (self.list_prices[product] * keep).quantize(Decimal("0.01"))
                    yield line_id, oid, product + 1, rng.randint(1, 40), price

        return columns, rows()

    def end_customer(self):
        columns = ["id", "name", "name_key", "region"]
        return columns, (
            (cid, f"某某客户{cid:05d}有限公司", f"某某客户{cid:05d}", REGIONS[cid % len(REGIONS)])
            for cid in range(1, CUSTOMERS + 1)
        )

    def _deals(self) -> Iterator[tuple]:
        rng = random.Random(self.sizes.seed + 3)
        year_start = datetime(YEAR, 1, 1, tzinfo=UTC)
        weights = [self.lines_per_partner[i] for i in range(len(self.partner_tiers))]
        partners = rng.choices(range(1, len(weights) + 1), weights=weights, k=self.sizes.deals)
        for did, pid in enumerate(partners, start=1):
            status = rng.choices(
                ("approved", "won", "expired", "lost", "rejected", "submitted"),
                weights=(15, 20, 15, 20, 10, 20),
            )[0]
            decided = None
            if status != "submitted":
                decided = year_start + timedelta(days=rng.uniform(-60, 365))
            yield did, pid, status, decided, rng.randint(1, 3)

    def deal(self):
        columns = ["id", "kind", "partner_id", "customer_id", "created_by_id", "project_name"]
        columns += ["estimated_value", "expected_close_date", "stage", "funding_source"]
        columns += ["status", "submitted_at", "decided_at"]
        rng = random.Random(self.sizes.seed + 4)

        def rows():
            for did, pid, status, decided, _ in self._deals():
                yield (
                    did,
                    "channel",
                    pid,
                    rng.randint(1, CUSTOMERS),
                    self.partner_user_id,
                    f"项目{did:06d} 数据中心扩容",
                    Decimal(rng.randint(10, 500) * 10000),
                    date(YEAR, 12, 31),
                    "evaluation",
                    "own_budget",
                    status,
                    decided - timedelta(days=2) if decided else self.now,
                    decided,
                )

        return columns, rows()

    def deal_line(self):
        columns = ["id", "deal_id", "product_id", "quantity", "requested_unit_price"]
        columns += ["special_status", "special_decided_by_id", "special_note"]
        columns += ["approved_unit_price"]
        rng = random.Random(self.sizes.seed + 5)
        discount = {t: Decimal(p[0]) for t, p in self.tier_policies.items()}

        def rows():
            line_id = 0
            for did, pid, status, _decided, count in self._deals():
                keep = 1 - discount[self.partner_tiers[pid - 1]]
                for _ in range(count):
                    line_id += 1
                    product = rng.randrange(PRODUCTS)
                    tier_price = (self.list_prices[product] * keep).quantize(Decimal("0.01"))
                    special = rng.random() < 0.25
                    price = (
                        (tier_price * Decimal(str(rng.uniform(0.85, 0.98)))).quantize(
                            Decimal("0.01")
                        )
                        if special
                        else tier_price
                    )
                    decided = status in ("approved", "won", "expired", "lost")
                    yield (
                        line_id,
                        did,
                        product + 1,
                        rng.randint(1, 20),
                        price,
                        ("approved" if decided else "pending") if special else "none",
                        self.manager_ids[pid % MANAGERS] if special and decided else None,
                        "战略项目特价" if special else "",
                        price if decided else None,
                    )

        return columns, rows()

    def table(self, name: str):
        return getattr(self, name.replace(":", "_"))()


# --- loading -------------------------------------------------------------------------------------


def _with_defaults(table, columns: list[str], rows: Iterator[tuple]):
    """Fill the columns the data set does not give with their model defaults."""
    extra, values = [], []
    for column in table.columns:
        if column.key in columns:
            continue
        default = column.default
        if default is not None and default.is_scalar:
            extra.append(column.key)
            values.append(default.arg)
        elif default is not None and default.is_callable:
            extra.append(column.key)
            values.append(default.arg({}))
    if not extra:
        return columns, rows
    tail = tuple(values)
    return columns + extra, (row + tail for row in rows)


def load(data: DataSet, log=print) -> Loaded:
    """Create the schema and load the data set into the app's database (db.engine)."""
    from app import db
    from partners.order_totals import rebuild_order_totals

    loaded = Loaded()
    engine = db.engine
    db.create_all()
    tables = db.metadata.tables
    indexes = [ix for name in BIG_TABLES for ix in tables[name].indexes]
    started = time.perf_counter()
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    raw = engine.raw_connection()
    try:
        postgresql = engine.dialect.name == "postgresql"
        cursor = raw.cursor()
        if postgresql:
            cursor.execute("SET synchronous_commit = off")
        else:
            raw.execute("PRAGMA synchronous = OFF")
        for name in LOAD_ORDER:
            table = tables[name.split(":")[0]]
            columns, rows = _with_defaults(table, *data.table(name))
            t = time.perf_counter()
            count = 0
            if postgresql:
                quoted = ", ".join(f'"{c}"' for c in columns)
                with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            else:
                dialect = engine.dialect
                stmt = table.insert().compile(dialect=dialect, column_keys=columns)
                processors = [
                    table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
                ]
                position = [columns.index(c) for c in stmt.positiontup]
                sql = str(stmt)
                batch = []
                for row in rows:
                    batch.append(
                        tuple(processors[i](row[i]) if processors[i] else row[i] for i in position)
                    )
                    if len(batch) == BATCH:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    count += len(batch)
            raw.commit()
            loaded.rows[name] = loaded.rows.get(name, 0) + count
            if count > 10_000:
                log(f"  {name}: {count:,} rows in {time.perf_counter() - t:.1f} s")
    finally:
        raw.close()
    loaded.seconds["insert"] = time.perf_counter() - started
    t = time.perf_counter()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET maintenance_work_mem = '256MB'")
        for index in indexes:
            index.create(conn)
    loaded.seconds["indexes"] = time.perf_counter() - t
    t = time.perf_counter()
    rebuild_order_totals()  # as `flask partners refresh-order-totals` does
    db.session.commit()
    loaded.seconds["order_totals"] = time.perf_counter() - t
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for name in ("user_account", "partner", "product", "stock_commitment"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    )
                )
        t = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        loaded.seconds["analyze"] = time.perf_counter() - t
    else:
        t = time.perf_counter()
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        loaded.seconds["analyze"] = time.perf_counter() - t
    engine.dispose()
    loaded.finance_user_id = data.finance_user_id
    return loaded


# --- measurements, each in a fresh process ----------------------------------------------------


def _peak_mb() -> float:
    """Peak resident memory of this process so far, in MB (VmHWM: Linux's ru_maxrss would also
    count the parent the process was forked from before it executed Python)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bench_app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})


def _scope_and_period(kind: str, partner_id: int):
    from finance.statements import StatementScope, statement_period

    scope = StatementScope() if kind == "channel" else StatementScope(partner_id=partner_id)
    return scope, statement_period(str(YEAR))


def _run_export(url: str, kind: str, partner_id: int, user_id: int, results) -> None:
    """Child process: the export as the app runs it, into a file on disk."""
    app = _bench_app(url)
    with app.app_context():
        from accounts.models import User
        from app import db
        from finance.exports import consistent_snapshot, export_statement

        user = db.session.get(User, user_id)
        scope, period = _scope_and_period(kind, partner_id)
        before = _peak_mb()
        phases = {}
        with tempfile.TemporaryFile() as out:
            started = time.perf_counter()
            consistent_snapshot()
            result = export_statement(
                user,
                scope,
                period,
                out,
                via="bench",
                on_figures=lambda s: phases.setdefault("figures", time.perf_counter() - started),
            )
            elapsed = time.perf_counter() - started
            size = out.tell()
        db.session.rollback()  # the audit entry: the benchmark leaves the data as it was
        results.put(
            {
                "seconds": elapsed,
                "figures_seconds": phases.get("figures"),
                "peak_mb": _peak_mb(),
                "start_mb": before,
                "rows": result.rows,
                "partners": result.statement.totals.partners,
                "bytes": size,
            }
        )


def _bare_sheets(kind: str, partner_id: int):
    """The statement's tables as lists of values (read untimed, before the bare write)."""
    from finance import workbook as w
    from finance.statements import (
        build_statement,
        granted_deal_rows,
        monthly_order_rows,
        order_line_rows,
        special_price_rows,
    )

    scope, period = _scope_and_period(kind, partner_id)
    statement = build_statement(scope, period)
    labels = w.labels_for("en")
    sheets = [("Summary", w.SUMMARY_COLUMNS, list(w._summary_rows(statement, labels)), "B2")]
    if kind == "channel":
        sheets.append(("Orders by month", w.MONTHLY_COLUMNS, list(monthly_order_rows(statement))))
        sheets.append(
            ("Special prices", w.SPECIAL_COLUMNS, list(special_price_rows(scope, period)))
        )
    else:
        sheets.append(("Stock orders", w.ORDER_COLUMNS, list(order_line_rows(partner_id, period))))
        deals = list(w._deal_rows(granted_deal_rows(scope, period), labels))
        sheets.append(("Approved deals", w.DEAL_COLUMNS, deals))
        special = [c for c in w.SPECIAL_COLUMNS if c.key not in ("partner", "uscc")]
        rows = list(w._without_partner(special_price_rows(scope, period)))
        sheets.append(("Special prices", special, rows))
    return [(s[0], s[1], s[2], s[3] if len(s) > 3 else "A2") for s in sheets]


def bare_openpyxl_write(sheets, out) -> int:
    """The same cells written the plain openpyxl write-only way."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from finance.workbook import NUMBER_FORMATS

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    cells = 0
    for title, columns, rows, freeze in sheets:
        ws = wb.create_sheet(title)
        ws.freeze_panes = freeze
        for index in range(1, len(columns) + 1):
            ws.column_dimensions[get_column_letter(index)].width = 16
        header = []
        for column in columns:
            cell = WriteOnlyCell(ws, value=column.key)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        # As the statement writes them: whole numbers in General format, the rest formatted.
        formats = [None if c.kind == "int" else NUMBER_FORMATS.get(c.kind) for c in columns]
        for row in rows:
            values = []
            for value, number_format in zip(row, formats, strict=True):
                if number_format is None or value is None:
                    values.append(value)
                else:
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = number_format
                    values.append(cell)
            ws.append(values)
            cells += len(values)
        last = len(rows) + 1
        totals = ["Total"]
        for index, column in enumerate(columns[1:], start=2):
            letter = get_column_letter(index)
            totals.append(f"=SUM({letter}2:{letter}{last})" if column.total == "sum" else None)
        ws.append(totals)
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last}"
    wb.save(out)
    return cells


def _run_bare(url: str, kind: str, partner_id: int, results) -> None:
    """Child process: read the rows (untimed), then time the bare openpyxl write."""
    app = _bench_app(url)
    with app.app_context():
        sheets = _bare_sheets(kind, partner_id)
        before = _peak_mb()
        with tempfile.TemporaryFile() as out:
            started = time.perf_counter()
            cells = bare_openpyxl_write(sheets, out)
            elapsed = time.perf_counter() - started
            size = out.tell()
        results.put({"seconds": elapsed, "peak_mb": _peak_mb(), "start_mb": before})
        results.put({"cells": cells, "bytes": size})


def in_child(target, *args) -> list[dict]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=target, args=(*args, results))
    process.start()
    found = [results.get(timeout=1800)]
    if target is _run_bare:
        found.append(results.get(timeout=60))
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"benchmark process failed ({process.exitcode})")
    return found


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Report:
    label: str
    loaded: Loaded
    partner_runs: list[dict] = field(default_factory=list)
    bare_runs: list[dict] = field(default_factory=list)
    bare_cells: int = 0
    channel_runs: list[dict] = field(default_factory=list)

    def text(self) -> str:
        def med(runs, key):
            return statistics.median(r[key] for r in runs)

        partner_s, bare_s = med(self.partner_runs, "seconds"), med(self.bare_runs, "seconds")
        # Each export is paired with the bare write run right after it, so a busy moment on
        # the machine weighs on both sides of a ratio: the median of the paired ratios.
        ratios = [
            p["seconds"] / b["seconds"]
            for p, b in zip(self.partner_runs, self.bare_runs, strict=True)
        ]
        ratio = statistics.median(ratios)
        best = min(r["seconds"] for r in self.partner_runs) / min(
            r["seconds"] for r in self.bare_runs
        )
        partner_mb = max(r["peak_mb"] for r in self.partner_runs)
        channel_s = med(self.channel_runs, "seconds")
        channel_mb = max(r["peak_mb"] for r in self.channel_runs)
        p, c = self.partner_runs[0], self.channel_runs[0]
        ok = {True: "met", False: "NOT met"}
        lines = [
            f"\n== {self.label}",
            "  loaded: "
            + ", ".join(f"{k} {v:,}" for k, v in self.loaded.rows.items() if v > 1000)
            + "; "
            + ", ".join(f"{k} {v:.1f} s" for k, v in self.loaded.seconds.items()),
            f"  (a) partner statement, {p['rows']:,} detail rows, {p['bytes'] / 1e6:.1f} MB file:",
            "      export (median of {}): {:.2f} s [{}] (figures {:.2f} s); bare openpyxl "
            "write of the same {:,} cells: {:.2f} s [{}]".format(
                len(self.partner_runs),
                partner_s,
                ", ".join(f"{r['seconds']:.2f}" for r in self.partner_runs),
                med(self.partner_runs, "figures_seconds"),
                self.bare_cells,
                bare_s,
                ", ".join(f"{r['seconds']:.2f}" for r in self.bare_runs),
            ),
            f"      ratio {ratio:.2f}, median of the runs' ratios "
            f"[{', '.join(f'{r:.2f}' for r in ratios)}], best against best {best:.2f} "
            f"(target ≤ {TARGET_RATIO}: {ok[ratio <= TARGET_RATIO]});\n      "
            f"peak RSS {partner_mb:.0f} MB, {p['start_mb']:.0f} MB before the export "
            f"(target < {TARGET_PARTNER_MB} MB: {ok[partner_mb < TARGET_PARTNER_MB]}); "
            f"bare write peak {max(r['peak_mb'] for r in self.bare_runs):.0f} MB "
            "(rows held in lists)",
            f"  (b) channel statement, {c['partners']:,} partners, {c['rows']:,} detail rows, "
            f"{c['bytes'] / 1e6:.1f} MB file:",
            "      {:.2f} s (median of {}: {}; figures {:.2f} s) (target < {:.0f} s: {}); "
            "peak RSS {:.0f} MB, {:.0f} MB before (target < {} MB: {})".format(
                channel_s,
                len(self.channel_runs),
                ", ".join(f"{r['seconds']:.2f}" for r in self.channel_runs),
                med(self.channel_runs, "figures_seconds"),
                TARGET_CHANNEL_S,
                ok[channel_s < TARGET_CHANNEL_S],
                channel_mb,
                c["start_mb"],
                TARGET_CHANNEL_MB,
                ok[channel_mb < TARGET_CHANNEL_MB],
            ),
        ]
        return "\n".join(lines)


def run_database(target, sizes: Sizes, repeat: int, log=print) -> Report:
    from app import db

    app = _bench_app(target.url)
    with app.app_context():
        log(f"\n{target.label}: loading")
        loaded = load(DataSet(sizes), log)
        db.engine.dispose()
    log(f"  loaded in {sum(loaded.seconds.values()):.1f} s; measuring")
    report = Report(target.label, loaded)
    for run in range(repeat):
        report.partner_runs += in_child(
            _run_export, target.url, "partner", loaded.big_partner_id, loaded.finance_user_id
        )
        bare, sizes_found = in_child(_run_bare, target.url, "partner", loaded.big_partner_id)
        report.bare_runs.append(bare)
        report.bare_cells = sizes_found["cells"]
        report.channel_runs += in_child(
            _run_export, target.url, "channel", loaded.big_partner_id, loaded.finance_user_id
        )
        log(
            f"  run {run + 1}: partner {report.partner_runs[-1]['seconds']:.2f} s, bare "
            f"{bare['seconds']:.2f} s, channel {report.channel_runs[-1]['seconds']:.2f} s"
        )
    return report


def run(args) -> int:
    from bench.conflicts import postgresql_target, sqlite_target

    sizes = Sizes(seed=args.seed)
    if args.small:
        sizes = Sizes(partners=200, lines=200_000, big_lines=20_000, deals=6_000, seed=args.seed)
    for name in ("partners", "lines", "big_lines", "deals"):
        if getattr(args, name, None):
            setattr(sizes, name, getattr(args, name))
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if "postgresql" in kinds and not server:
        print("PostgreSQL needs BENCH_DATABASE_URL or TEST_DATABASE_URL", file=sys.stderr)
        return 2
    started = time.perf_counter()
    print(
        f"statements benchmark: {sizes.partners:,} partners, {sizes.lines:,} order lines in "
        f"{YEAR} ({sizes.big_lines:,} of one partner), {sizes.deals:,} deals, on "
        f"{', '.join(kinds)} ({os.cpu_count()} CPUs), {args.repeat} run(s) each"
    )
    for kind in kinds:
        target = (
            sqlite_target(args.keep) if kind == "sqlite" else postgresql_target(server, args.keep)
        )
        try:
            report = run_database(target, sizes, args.repeat)
        finally:
            target.cleanup()
        print(report.text(), flush=True)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    return 0
