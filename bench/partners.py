"""The partners benchmark: attainment and signals for the partners list page.

For each database: bulk-load 2,000 partners with their stock commitments, stock orders
(2,000,000 order lines over the last 18 months) and stored deal statistics, then log an admin in
through the login form and time GET /partners?page=N (25 partners a page: price-only flags from
deals.partner_stats.price_only_for, at-risk flags from partners.signals.at_risk_for), and time
partners.commitments.attainments, at_risk_for and price_only_for directly for pages of 25
partner ids.

    python -m bench partners [--db sqlite|postgresql|both] [--partners 2000]
                             [--order-lines 2000000] [--requests 50] [--small] [--explain]
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select, text
from werkzeug.security import generate_password_hash

from accounts.models import ADMIN, MANAGER, utcnow
from app import create_app, db
from bench.conflicts import Target, _explain, percentile
from bench.seed_data import BENCH_PASSWORD, Dataset, bulk_load, fill_order_totals
from seed import PARTNER_SUFFIX, PARTNER_WORDS, PRODUCT_LINES, TIER_POLICIES, make_uscc
from seed import REGIONS as SEED_REGIONS

TARGET_MS = 300.0
LINES_PER_ORDER = 4
HISTORY_DAYS = 548  # 18 months
DIVISIONS = ("110108", "310115", "440305", "330106", "320106", "510107", "420106", "370102")
REGIONS = ("北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "山东")
DISCOUNTS = (Decimal("0.62"), Decimal("0.68"), Decimal("0.72"), Decimal("0.78"), Decimal("0.85"))
# How partners order: (share of partners, description) drawn per partner.
#   steady: orders throughout; declining: orders thin out towards today;
#   stopped: no order for the last 2-10 months; never: no stock order at all.
PATTERNS = (("steady", 70), ("declining", 12), ("stopped", 13), ("never", 5))
TIER_WEIGHT = {"gold": 8.0, "silver": 3.0, "registered": 1.0}

LOAD_ORDER = (
    "tier_policy",
    "user_account",
    "partner",
    "product",
    "stock_commitment",
    "commitment_line",
    "stock_order",
    "stock_order_line",
    "partner_deal_stats",
)
BIG_TABLES = ("stock_order", "stock_order_line")


@dataclass
class PartnerData:
    dataset: Dataset
    today: date
    partner_ids: list[int]
    patterns: dict[str, int] = field(default_factory=dict)
    commitments: int = 0
    orders: int = 0


def generate(partners: int, order_lines: int, seed: int) -> PartnerData:
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    today = now.date()
    data = Dataset(now=now)
    t = time.perf_counter()

    data.tables["tier_policy"] = (
        ["tier", "discount_rate", "min_commitment", "protection_days", "approval_limit"]
        + ["rebate_rate", "updated_at"],
        [
            (tier, Decimal(d), Decimal(m), days, Decimal(limit), Decimal(rebate), now)
            for tier, (d, m, days, limit, rebate) in TIER_POLICIES.items()
        ],
    )
    password_hash = generate_password_hash(BENCH_PASSWORD)
    data.tables["user_account"] = (
        ["id", "email", "name", "password_hash", "role", "partner_id", "active", "created_at"],
        [
            (1, data.admin_email, "Bench Admin", password_hash, ADMIN, None, True, now),
            (2, data.manager_email, "渠道经理1", password_hash, MANAGER, None, True, now),
        ],
    )

    # --- partners: 7.5 % gold, 22.5 % silver, the rest registered, shuffled over the names ---
    tiers = ["gold"] * (partners * 3 // 40) + ["silver"] * (partners * 9 // 40)
    tiers += ["registered"] * (partners - len(tiers))
    rng.shuffle(tiers)
    used_uscc: set[str] = set()
    used_names: set[str] = set()
    partner_rows = []
    cities = [region for region, _ in SEED_REGIONS]
    for pid, tier in enumerate(tiers, start=1):
        while True:
            code = make_uscc(rng, rng.choice(DIVISIONS))
            if code not in used_uscc:
                used_uscc.add(code)
                break
        while True:
            name = (
                rng.choice(cities)
                + rng.choice(PARTNER_WORDS)
                + f"{rng.randint(1, 9999):04d}"
                + rng.choice(PARTNER_SUFFIX)
            )
            if name not in used_names:
                used_names.add(name)
                break
        partner_rows.append(
            (
                pid,
                name,
                code,
                rng.choice(REGIONS),
                ("distributor", "reseller", "integrator")[pid % 3],
            )
            + (tier, "active" if rng.random() < 0.95 else "suspended", 1 + pid % 2)
            + (date(today.year, 1, 1), date(today.year, 12, 31), "", now)
        )
    data.tables["partner"] = (
        ["id", "name", "uscc", "region", "partner_type", "tier", "status", "owner_id"]
        + ["agreement_start", "agreement_end", "notes", "created_at"],
        partner_rows,
    )

    # --- 40 products ---
    product_rows = []
    prices: list[tuple[int, str, list[Decimal]]] = []
    for line, (prefix, names) in PRODUCT_LINES.items():
        for number, name in enumerate(names, start=1):
            list_price = Decimal(rng.choice([8, 12, 18, 25, 36, 48, 66, 88, 120, 180]) * 1000)
            product_id = len(product_rows) + 1
            product_rows.append(
                (product_id, f"{prefix}-{number:03d}", name, line, list_price)
                + ((list_price * Decimal("0.55")).quantize(Decimal("0.01")), True, now)
            )
            # A few shared Decimal objects per product keep 2,000,000 lines small in memory.
            prices.append(
                (product_id, line, [(list_price * d).quantize(Decimal("0.01")) for d in DISCOUNTS])
            )
    data.product_ids = [p[0] for p in prices]
    data.tables["product"] = (
        ["id", "sku", "name", "product_line", "list_price", "floor_price", "active", "updated_at"],
        product_rows,
    )

    # --- ordering pattern per partner ---
    start_day = today - timedelta(days=HISTORY_DAYS)
    pattern_names = [p for p, _ in PATTERNS]
    pattern_draws = rng.choices(pattern_names, weights=[w for _, w in PATTERNS], k=partners)
    windows = []  # (first day offset, last day offset, skew exponent) in days since start_day
    weights = []
    patterns: dict[str, int] = {}
    for index, tier in enumerate(tiers):
        pattern = pattern_draws[index]
        patterns[pattern] = patterns.get(pattern, 0) + 1
        first = rng.randint(0, 120) if rng.random() < 0.2 else 0  # some joined later
        last = HISTORY_DAYS
        skew = 1.0
        if pattern == "stopped":
            last = HISTORY_DAYS - rng.randint(60, 300)
        elif pattern == "declining":
            skew = 0.5  # dates drawn as u ** 0.5: denser early, thinner towards today
        first = min(first, last - 30)
        windows.append((first, last, skew))
        weights.append(0.0 if pattern == "never" else TIER_WEIGHT[tier] * rng.uniform(0.3, 1.7))

    orders = max(1, order_lines // LINES_PER_ORDER)
    t_orders = time.perf_counter()
    partner_draws = rng.choices(range(1, partners + 1), weights=weights, k=orders)
    partner_draws.sort()  # orders of one partner together, like imports would be
    order_rows = []
    line_rows = []
    quantities = list(range(1, 41))
    sources = ("form", "import", "import", "api")
    day_cache = [start_day + timedelta(days=d) for d in range(HISTORY_DAYS + 1)]
    created_cache: dict[int, object] = {}
    line_id = 0
    per_partner_year: dict[int, Decimal] = {}
    year_start_offset = (date(today.year, 1, 1) - start_day).days
    random_ = rng.random
    for order_id, pid in enumerate(partner_draws, start=1):
        first, last, skew = windows[pid - 1]
        u = random_()
        offset = first + int((last - first) * (u**skew if skew != 1.0 else u))
        day = day_cache[offset]
        created = created_cache.get(offset)
        if created is None:
            created = created_cache[offset] = now - timedelta(days=HISTORY_DAYS - offset)
        order_rows.append(
            (order_id, pid, f"SO{order_id:08d}", day, sources[order_id % 4], 1, created)
        )
        total = 0
        for _ in range(LINES_PER_ORDER):
            line_id += 1
            product_id, _line, options = prices[int(random_() * len(prices))]
            price = options[int(random_() * len(options))]
            quantity = quantities[int(random_() * 12) if random_() < 0.8 else int(random_() * 40)]
            line_rows.append((line_id, order_id, product_id, quantity, price))
            if offset >= year_start_offset:
                total += quantity * price
        if offset >= year_start_offset:
            per_partner_year[pid] = per_partner_year.get(pid, 0) + total
    data.timings["orders"] = time.perf_counter() - t_orders
    data.tables["stock_order"] = (
        ["id", "partner_id", "number", "order_date", "source", "created_by_id", "created_at"],
        order_rows,
    )
    data.tables["stock_order_line"] = (
        ["id", "order_id", "product_id", "quantity", "unit_price"],
        line_rows,
    )

    # --- commitments: this calendar year, for most gold and silver partners ---
    elapsed = max(0.05, (today - date(today.year, 1, 1)).days / 365)
    commitment_rows = []
    commitment_lines = []
    lines_by_name = list(PRODUCT_LINES)
    for pid, tier in enumerate(tiers, start=1):
        if tier == "registered" or rng.random() < 0.15:
            continue
        expected = Decimal(per_partner_year.get(pid, 0)) / Decimal(str(elapsed))
        minimum = Decimal(TIER_POLICIES[tier][1])
        # Committed around what the partner orders at its pace: some ahead, some behind.
        amount = max(minimum, expected * Decimal(str(round(rng.uniform(0.7, 1.6), 2))))
        cid = len(commitment_rows) + 1
        commitment_rows.append(
            (cid, pid, str(today.year), date(today.year, 1, 1), date(today.year, 12, 31))
            + (amount.quantize(Decimal("1000")), date(today.year, 1, rng.randint(5, 28)), 2, now)
        )
        if rng.random() < 0.3:  # a third also commit quantities of one or two product lines
            for line in rng.sample(lines_by_name, rng.randint(1, 2)):
                commitment_lines.append(
                    (len(commitment_lines) + 1, cid, line, None, rng.randint(20, 400))
                )
    data.tables["stock_commitment"] = (
        ["id", "partner_id", "period", "period_start", "period_end", "amount", "signed_on"]
        + ["created_by_id", "created_at"],
        commitment_rows,
    )
    data.tables["commitment_line"] = (
        ["id", "commitment_id", "product_line", "product_id", "quantity"],
        commitment_lines,
    )

    # --- stored deal statistics (deals.partner_stats), one row per partner ---
    stats_rows = []
    for pid, tier in enumerate(tiers, start=1):
        deals = int(rng.uniform(0, 3) * {"gold": 120, "silver": 50, "registered": 12}[tier])
        special = int(deals * rng.uniform(0, 0.9))
        lost = int(deals * rng.uniform(0.1, 0.4))
        won = int(deals * rng.uniform(0.1, 0.4))
        stats_rows.append(
            (pid, deals, special, deals)
            + (Decimal(str(round(deals * rng.uniform(0, 0.12), 6))), lost)
            + (int(lost * rng.uniform(0, 0.9)), won, int(won * rng.uniform(0, 0.9)), now)
        )
    data.tables["partner_deal_stats"] = (
        ["partner_id", "deals", "deals_with_special", "lines", "extra_discount_sum", "lost"]
        + ["lost_on_price", "won", "won_with_special", "updated_at"],
        stats_rows,
    )
    data.timings["total"] = time.perf_counter() - t
    return PartnerData(
        dataset=data,
        today=today,
        partner_ids=list(range(1, partners + 1)),
        patterns=patterns,
        commitments=len(commitment_rows),
        orders=len(order_rows),
    )


# --- loading ---------------------------------------------------------------------------------


def load(data: Dataset, log=print) -> dict[str, float]:
    return bulk_load(data, LOAD_ORDER, BIG_TABLES, fill=fill_order_totals, log=log)


# --- measurements ---------------------------------------------------------------------------


@dataclass
class Result:
    database: str
    version: str
    timings: dict[str, float]
    page_ms: list[float] = field(default_factory=list)
    direct_ms: dict[str, list[float]] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    plans: list[str] = field(default_factory=list)


def _page_ids(page: int) -> list[int]:
    from partners.models import Partner

    return list(
        db.session.scalars(select(Partner.id).order_by(Partner.name).limit(25).offset(25 * page))
    )


def time_functions(pdata: PartnerData, pages: list[int], result: Result) -> None:
    from deals.partner_stats import price_only_for
    from partners.commitments import attainments
    from partners.settings import get_settings
    from partners.signals import at_risk_for

    today = pdata.today
    ratio = get_settings()["at_risk_drop_ratio"]
    functions = {
        "attainments": lambda ids: attainments(ids, today),
        "at_risk_for": lambda ids: at_risk_for(ids, today, ratio),
        "price_only_for": lambda ids: price_only_for(ids, today),
    }
    for name in functions:
        result.direct_ms[name] = []
    result.flagged = {"attained": 0, "at_risk": 0, "price_only": 0, "partners": 0}
    for warm, page in [(True, pages[0]), (True, pages[1])] + [(False, p) for p in pages]:
        ids = _page_ids(page)
        for name, function in functions.items():
            start = time.perf_counter()
            found = function(ids)
            elapsed = (time.perf_counter() - start) * 1000
            db.session.rollback()  # a fresh transaction and identity map, as per request
            if warm:
                continue
            result.direct_ms[name].append(elapsed)
            if name == "attainments":
                result.flagged["attained"] += len(found)
            elif name == "at_risk_for":
                result.flagged["at_risk"] += sum(r.flagged for r in found.values())
            else:
                result.flagged["price_only"] += sum(r.flagged for r in found.values())
        if not warm:
            result.flagged["partners"] += len(ids)


def time_page(app, data: Dataset, pages: list[int], result: Result) -> None:
    from tests.conftest import IsolatedClient, login

    app.test_client_class = IsolatedClient
    client = app.test_client()
    response = login(client, data.admin_email, BENCH_PASSWORD)
    assert response.status_code == 302, "admin login failed"
    for page in pages[:3]:  # warm-up
        assert client.get(f"/partners?page={page + 1}").status_code == 200
    for page in pages:
        start = time.perf_counter()
        response = client.get(f"/partners?page={page + 1}")
        result.page_ms.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200


def explain(pdata: PartnerData, kind: str, result: Result) -> None:
    """Plans of the grouped queries for one page (the statements the code runs, real values)."""
    from partners.commitments import current_commitments, ordered_in_commitments_query
    from partners.signals import order_history_query

    ids = _page_ids(3)
    today = pdata.today
    history = order_history_query(ids, today)
    result.plans.append(f"    order_history (at_risk_for)\n{_explain(history, kind)}")
    commitments = current_commitments(ids, today)
    if commitments:
        ordered = ordered_in_commitments_query(list(commitments.values()))
        result.plans.append(
            f"    attainments, ordered ({len(commitments)} commitments)\n{_explain(ordered, kind)}"
        )
    db.session.rollback()


def run_database(target: Target, pdata: PartnerData, args, log=print) -> Result:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": target.url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}
    )
    rng = random.Random(args.seed + 2)
    pages_total = max(1, len(pdata.partner_ids) // 25)
    pages = [rng.randrange(pages_total) for _ in range(args.requests)]
    with app.app_context():
        log(f"\n== {target.label}")
        start = time.perf_counter()
        timings = load(pdata.dataset, log=log)
        timings["load_total"] = time.perf_counter() - start
        if target.kind == "postgresql":
            version = db.session.scalar(text("SHOW server_version"))
        else:
            version = db.session.scalar(text("SELECT sqlite_version()"))
        result = Result(database=target.kind, version=version, timings=timings)
        log(f"  loaded in {timings['load_total']:.1f} s; timing...")
        time_functions(pdata, pages, result)
        if args.explain:
            explain(pdata, target.kind, result)
        db.session.remove()
    time_page(app, pdata.dataset, pages, result)
    with app.app_context():
        db.engine.dispose()
    return result


def _row(label: str, values: list[float]) -> str:
    return (
        f"  {label:<44}{statistics.median(values):8.1f} ms{percentile(values, 95):8.1f} ms"
        f"{max(values):8.1f} ms   n={len(values)}"
    )


def report(result: Result, pdata: PartnerData, args) -> str:
    data = pdata.dataset
    t = result.timings
    p95 = percentile(result.page_ms, 95)
    f = result.flagged
    lines = [
        "",
        f"{result.database} {result.version}: {data.rows('partner'):,} partners, "
        f"{data.rows('stock_order'):,} stock orders, {data.rows('stock_order_line'):,} order "
        f"lines, {pdata.commitments:,} commitments",
        f"  seed: generate {data.timings['total']:.1f} s, load {t['load_total']:.1f} s "
        f"(insert {t['insert']:.1f} s, indexes {t['indexes']:.1f} s, analyze "
        f"{t['analyze']:.1f} s)",
        f"  {'':<44}{'p50':>11}{'p95':>11}{'max':>11}",
        _row("GET /partners?page=N (admin, 25 a page)", result.page_ms),
    ]
    for name, values in result.direct_ms.items():
        lines.append(_row(f"  {name} (25 partner ids)", values))
    lines += [
        f"  over the timed pages: {f['partners']} partners, {f['attained']} with a current "
        f"commitment, {f['at_risk']} at risk, {f['price_only']} price-only",
        f"  target p95 < {TARGET_MS:.0f} ms: {'met' if p95 < TARGET_MS else 'NOT met'} "
        f"(p95 {p95:.1f} ms)",
    ]
    if result.plans:
        lines.append("  query plans:")
        lines += result.plans
    return "\n".join(lines)


def run(args) -> int:
    import os
    import sys

    from bench.conflicts import postgresql_target, sqlite_target

    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if "postgresql" in kinds and not server:
        print("PostgreSQL needs BENCH_DATABASE_URL or TEST_DATABASE_URL", file=sys.stderr)
        return 2
    started = time.perf_counter()
    print(
        f"partners benchmark: {args.partners:,} partners, {args.order_lines:,} order lines, "
        f"{args.requests} requests, on {', '.join(kinds)} ({os.cpu_count()} CPUs)"
    )
    pdata = generate(args.partners, args.order_lines, args.seed)
    gc.collect()
    gc.freeze()
    print(
        f"generated the data set in {pdata.dataset.timings['total']:.1f} s; patterns "
        + ", ".join(f"{k} {v}" for k, v in sorted(pdata.patterns.items()))
    )
    for kind in kinds:
        target = sqlite_target(args.keep) if kind == "sqlite" else None
        if kind == "postgresql":
            target = postgresql_target(server, args.keep)
        try:
            result = run_database(target, pdata, args)
        finally:
            target.cleanup()
        print(report(result, pdata, args), flush=True)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    return 0
