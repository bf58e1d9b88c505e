"""The deals benchmark: the conflict check on submission and the approval queue page.

For each database: load the data set (bench.seed_data), then submit registrations of existing
customers under realistic name variants through deals.workflow.submit_deal, timing each
submission (and, inside it, detect_conflicts and same_customers), rolling each one back so the
data set stays the same; then log a channel manager in through the login form and time
GET /queue.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import random
import re
import statistics
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, make_url, select, text

import deals.conflicts as conflicts_module
from accounts.models import User, utcnow
from app import _normalise_database_url, create_app, db
from bench.names import name_variant
from bench.seed_data import BENCH_PASSWORD, Dataset, load
from clock import vendor_today
from customers.matching import (
    LATIN_FUZZY_MIN_LENGTH,
    compare_customer_names,
    normalize_customer_name,
)
from customers.models import EndCustomer
from deals.models import CHANNEL, DIRECT, DRAFT, OPEN_STATUSES, SUBMITTED, Deal, DealLine
from deals.workflow import submit_deal
from pricing.models import Product

LATIN_KEY = re.compile(r"[a-z0-9]+")
TARGET_MS = 50.0


# --- databases -------------------------------------------------------------------------------


@dataclass
class Target:
    kind: str  # sqlite | postgresql
    url: str
    label: str
    cleanup: object = None  # callable


def sqlite_target(keep: bool) -> Target:
    folder = Path(tempfile.mkdtemp(prefix="bench_deals_"))
    path = folder / "bench.sqlite"

    def cleanup():
        if keep:
            print(f"  kept {path}")
            return
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()

    return Target("sqlite", f"sqlite:///{path}", f"SQLite (file in {folder})", cleanup)


def postgresql_target(server_url: str, keep: bool) -> Target:
    """A fresh database on the server of ``server_url``, dropped afterwards unless ``keep``."""
    server = make_url(_normalise_database_url(server_url))
    name = f"bench_deals_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.set(database=name)

    def cleanup():
        if keep:
            print(f"  kept database {name}")
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return Target(
        "postgresql",
        url.render_as_string(hide_password=False),
        f"PostgreSQL (database {name} on {server.host}:{server.port or 5432})",
        cleanup,
    )


# --- measurements ------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Submission:
    total_ms: float
    detect_ms: float
    same_ms: float
    variant_kinds: list[str]
    new_record: bool
    latin_long: bool
    key_group: int  # customers in the data set with the submitted name's key
    conflicts: int
    expected: bool  # the original customer has something to conflict with
    found_expected: bool


@dataclass
class FuzzySubmission:
    """A short name or a typo of a customer that has something to conflict with."""

    kind: str  # short_name | homophone_typo
    total_ms: float
    found: bool  # the true customer is among the suggestions or the conflicts
    same: bool  # ... found as the same customer (a conflict at once)


@dataclass
class Result:
    database: str
    version: str
    seed_timings: dict[str, float]
    submissions: list[Submission] = field(default_factory=list)
    fuzzy: list[FuzzySubmission] = field(default_factory=list)
    fuzzy_misses: list[str] = field(default_factory=list)
    queue_ms: list[float] = field(default_factory=list)
    queue_admin_ms: list[float] = field(default_factory=list)
    queue_size: int = 0
    queue_admin_size: int = 0
    plans: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    profile: str = ""


class _Timer:
    """Wraps a function of deals.conflicts to add up the time spent in it."""

    def __init__(self, name: str):
        self.name = name
        self.original = getattr(conflicts_module, name)
        self.elapsed = 0.0

    def __enter__(self):
        original = self.original

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.elapsed += time.perf_counter() - start

        setattr(conflicts_module, self.name, timed)
        return self

    def __exit__(self, *exc):
        setattr(conflicts_module, self.name, self.original)


def _expected_conflicts(customer_id: int, partner_id: int, product_line: str) -> set[int]:
    """Open deals at the original customer that the new registration conflicts with (by rule),
    plus 0 when the customer is a named direct account."""
    now = utcnow()
    expected: set[int] = set()
    customer = db.session.get(EndCustomer, customer_id)
    if customer.coverage == "direct":
        expected.add(0)
    rows = db.session.execute(
        select(Deal.id, Deal.kind, Deal.partner_id, Deal.status, Deal.protection_expires_at)
        .where(Deal.customer_id == customer_id, Deal.status.in_(OPEN_STATUSES))
        .add_columns(
            select(Product.product_line)
            .join(DealLine, DealLine.product_id == Product.id)
            .where(DealLine.deal_id == Deal.id)
            .limit(1)
            .scalar_subquery()
        )
    ).all()
    for deal_id, kind, other_partner, status, expires, line in rows:
        if status == "approved" and expires is not None and expires <= now:
            continue  # effectively expired
        if kind == DIRECT or (other_partner != partner_id and line == product_line):
            expected.add(deal_id)
    return expected


def _draft(customer, partner_id: int, user, product, quantity: int, unit_price, today) -> Deal:
    """A partner's draft registration at ``customer`` with one line, flushed, ready to submit."""
    deal = Deal(
        kind=CHANNEL,
        partner_id=partner_id,
        created_by_id=user.id,
        status=DRAFT,
        customer=customer,
        project_name=f"{customer.name[:8]}数据中心扩容项目",
        estimated_value=Decimal("880000.00"),
        expected_close_date=today + timedelta(days=90),
        stage="evaluation",
        funding_source="own_budget",
    )
    deal.lines = [DealLine(product=product, quantity=quantity, requested_unit_price=unit_price)]
    db.session.add(deal)
    db.session.flush()
    return deal


def run_submissions(
    app, data: Dataset, count: int, rng: random.Random, result: Result, profile: bool
) -> None:
    products = {
        p.id: p for p in db.session.scalars(select(Product).where(Product.active.is_(True)))
    }
    partner_ids = list(data.partner_user_ids)
    users = {u.id: u for u in db.session.scalars(select(User).where(User.role == "partner"))}
    today = vendor_today()
    # A web worker's cache of normalised names starts empty.
    normalize_customer_name.cache_clear()
    profiler = cProfile.Profile() if profile else None
    warmup = 10
    for index in range(count + warmup):
        customer_id = rng.choice(data.deal_customer_ids)  # customers weighted by their deals
        original = data.customer_names[customer_id - 1]
        variant, kinds = name_variant(original.name, rng)
        new_record = rng.random() < 0.5
        partner_id = rng.choice(partner_ids)
        user = users[data.partner_user_ids[partner_id]]
        product = products[rng.choice(data.product_ids)]
        expected = _expected_conflicts(customer_id, partner_id, product.product_line)
        if new_record:
            customer = EndCustomer(region=original.province, industry=original.industry)
            customer.set_name(variant)
            db.session.add(customer)
        else:
            customer = db.session.get(EndCustomer, customer_id)
            kinds = []
        key = customer.name_key
        price = (product.list_price * Decimal("0.7")).quantize(Decimal("0.01"))
        deal = _draft(customer, partner_id, user, product, rng.randint(1, 20), price, today)

        with _Timer("detect_conflicts") as detect, _Timer("same_customers") as same:
            if profiler and index >= warmup:
                profiler.enable()
            start = time.perf_counter()
            found = submit_deal(deal, user)
            elapsed = time.perf_counter() - start
            if profiler and index >= warmup:
                profiler.disable()
        assert deal.status == SUBMITTED
        found_ids = {c.other_deal_id or 0 for c in found} | {
            other["deal_id"] for c in found for other in (c.evidence or {}).get("others", [])
        }
        db.session.rollback()
        if index < warmup:
            continue  # compiled-statement caches and connections warm up
        result.submissions.append(
            Submission(
                total_ms=elapsed * 1000,
                detect_ms=detect.elapsed * 1000,
                same_ms=same.elapsed * 1000,
                variant_kinds=kinds,
                new_record=new_record,
                latin_long=bool(LATIN_KEY.fullmatch(key)) and len(key) >= LATIN_FUZZY_MIN_LENGTH,
                key_group=data.key_counts.get(key, 0),
                conflicts=len(found),
                expected=bool(expected),
                found_expected=bool(expected & found_ids),
            )
        )
        if expected and not expected & found_ids and len(result.misses) < 12:
            verdict = compare_customer_names(original.name, variant)
            result.misses.append(
                f"{original.name} | {customer.name} "
                f"({'new record' if new_record else 'same record'}, "
                f"key group {data.key_counts.get(key, 0)}, verdict {verdict.rule})"
            )
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        result.profile = out.getvalue()


def fuzzy_variant(customer, rng: random.Random) -> tuple[str, str] | None:
    """What a partner types for a company instead of its registered name: its 字号 alone (with
    the city or not), its 字号 with the trade words, or the name with one character of the 字号
    replaced by another of the same sound (an input-method slip). The 字号 is found with the
    data set's own vocabulary (bench.names), not with the matcher. None for names that are not
    a company's (public bodies, branches, banks keep their full names in practice)."""
    from bench.matching import _homophone
    from bench.names import CN_INDUSTRIES

    if customer.kind not in ("company", "company_bracket_region"):
        return None
    norm = normalize_customer_name(customer.name)
    core = norm.core
    trades = sorted((t for t, _ in CN_INDUSTRIES if core.endswith(t)), key=len, reverse=True)
    if not trades or len(core) - len(trades[0]) < 2:
        return None
    trade = trades[0]
    brand = core[: -len(trade)]
    if brand not in customer.name:
        return None
    region = norm.regions[0] if norm.regions else ""
    draw = rng.random()
    if draw < 0.25:
        return "short_name", brand
    if draw < 0.4:
        return "short_name", region + brand
    if draw < 0.5:
        return "short_name", brand + trade
    i = rng.randrange(len(brand))
    other = _homophone(brand[i], rng)
    if other is None:
        return None
    typo = brand[:i] + other + brand[i + 1 :]
    return "homophone_typo", customer.name.replace(brand, typo, 1)


def run_fuzzy_submissions(
    app, data: Dataset, count: int, rng: random.Random, result: Result
) -> None:
    """Registrations under a short name or a typo of a customer that has a named account or an
    open deal to conflict with: is the true customer among the suggestions (or conflicts)?"""
    from deals.models import DealSuggestion

    products = {
        p.id: p for p in db.session.scalars(select(Product).where(Product.active.is_(True)))
    }
    users = {u.id: u for u in db.session.scalars(select(User).where(User.role == "partner"))}
    partner_ids = list(data.partner_user_ids)
    today = vendor_today()
    normalize_customer_name.cache_clear()
    attempts = 0
    while len(result.fuzzy) < count and attempts < count * 50:
        attempts += 1
        customer_id = rng.choice(data.deal_customer_ids)
        original = data.customer_names[customer_id - 1]
        variant = fuzzy_variant(original, rng)
        if variant is None:
            continue
        kind, name = variant
        partner_id = rng.choice(partner_ids)
        product = products[rng.choice(data.product_ids)]
        if not _expected_conflicts(customer_id, partner_id, product.product_line):
            continue
        user = users[data.partner_user_ids[partner_id]]
        customer = EndCustomer(region=original.province, industry=original.industry)
        customer.set_name(name)
        db.session.add(customer)
        deal = _draft(customer, partner_id, user, product, 2, product.list_price, today)
        start = time.perf_counter()
        found = submit_deal(deal, user)
        elapsed = time.perf_counter() - start
        suggested = set(
            db.session.scalars(
                select(DealSuggestion.customer_id).where(DealSuggestion.deal_id == deal.id)
            )
        )
        matched = {c.account_id for c in found if c.account_id} | {
            c.other_deal.customer_id for c in found if c.other_deal is not None
        }
        db.session.rollback()
        result.fuzzy.append(
            FuzzySubmission(
                kind=kind,
                total_ms=elapsed * 1000,
                found=customer_id in suggested | matched,
                same=customer_id in matched,
            )
        )
        if customer_id not in suggested | matched and len(result.fuzzy_misses) < 12:
            verdict = compare_customer_names(original.name, name)
            result.fuzzy_misses.append(
                f"{original.name} | {name} ({kind}; matcher {verdict.verdict} {verdict.rule})"
            )


def run_queue(app, data: Dataset, requests: int, result: Result) -> None:
    from tests.conftest import IsolatedClient, login

    app.test_client_class = IsolatedClient
    for email, timings in ((data.manager_email, result.queue_ms), (data.admin_email, None)):
        client = app.test_client()
        response = login(client, email, BENCH_PASSWORD)
        assert response.status_code == 302, f"login of {email} failed"
        for _ in range(3):  # warm-up
            assert client.get("/queue").status_code == 200
        samples = result.queue_ms if timings is not None else result.queue_admin_ms
        for _ in range(requests):
            start = time.perf_counter()
            page = client.get("/queue")
            samples.append((time.perf_counter() - start) * 1000)
            assert page.status_code == 200
    with app.app_context():
        from partners.models import Partner

        manager_id = db.session.scalar(select(User.id).where(User.email == data.manager_email))
        base = (
            select(db.func.count())
            .select_from(Deal)
            .where(Deal.kind == CHANNEL, Deal.status == SUBMITTED)
        )
        result.queue_admin_size = db.session.scalar(base)
        result.queue_size = db.session.scalar(
            base.join(Partner, Deal.partner_id == Partner.id).where(Partner.owner_id == manager_id)
        )


EXPLAIN_SQL = {
    "sqlite": "EXPLAIN QUERY PLAN ",
    "postgresql": "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ",
}


def _explain(stmt, kind: str) -> str:
    compiled = stmt.compile(db.engine, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positiontup is not None:
        params = tuple(params[name] for name in compiled.positiontup)
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(EXPLAIN_SQL[kind] + str(compiled), params).all()
    return "\n".join("      " + " | ".join(str(c) for c in row) for row in rows)


def explain_queries(data: Dataset, kind: str, result: Result) -> None:
    """Plans of the conflict check's queries and of the queue's page query (copies of the
    statements in deals.conflicts and deals.views, with real values)."""
    from sqlalchemy import func, or_

    from partners.models import Partner

    counts = data.key_counts
    chinese = max(
        (i for i, k in enumerate(data.customer_keys) if not k.isascii()),
        key=lambda i: counts[data.customer_keys[i]],
    )
    latin = next(
        (
            i
            for i, k in enumerate(data.customer_keys)
            if LATIN_KEY.fullmatch(k) and len(k) >= LATIN_FUZZY_MIN_LENGTH
        ),
        None,
    )
    examples = [("Chinese name, most frequent key", chinese)]
    if latin is not None:
        examples.append(("long Latin name", latin))
    for label, index in examples:
        customer = db.session.get(EndCustomer, index + 1)
        key = customer.name_key
        conditions = [EndCustomer.id == customer.id, EndCustomer.name_key == key]
        if customer.uscc:
            conditions.append(EndCustomer.uscc == customer.uscc)
        if LATIN_KEY.fullmatch(key) and len(key) >= LATIN_FUZZY_MIN_LENGTH:
            half = len(key) // 2
            conditions.append(EndCustomer.name_key.startswith(key[:half], autoescape=True))
            conditions.append(EndCustomer.name_key.endswith(key[half:], autoescape=True))
        stmt = select(EndCustomer).where(or_(*conditions)).limit(500)
        result.plans.append(
            f"    same_customers, {label}: {customer.name} (key {key!r}, "
            f"{counts[key]} customers have it)\n{_explain(stmt, kind)}"
        )
    ids = [data.deal_customer_ids[0], data.deal_customer_ids[1]]
    stmt = select(Deal).where(
        Deal.customer_id.in_(ids),
        Deal.kind == CHANNEL,
        Deal.status.in_(OPEN_STATUSES),
        Deal.id != 0,
    )
    result.plans.append(f"    _open_deals_at (channel, 2 customers)\n{_explain(stmt, kind)}")
    manager_id = db.session.scalar(select(User.id).where(User.email == data.manager_email))
    queue = (
        select(Deal)
        .where(Deal.kind == CHANNEL, Deal.status == SUBMITTED)
        .join(Deal.partner)
        .where(Partner.owner_id == manager_id)
        .order_by(Deal.sla_due_at, Deal.id)
    )
    result.plans.append(f"    queue page (manager)\n{_explain(queue.limit(25), kind)}")
    count = select(func.count()).select_from(queue.order_by(None).subquery())
    result.plans.append(f"    queue count (manager)\n{_explain(count, kind)}")


def run_database(target: Target, data: Dataset, args, log=print) -> Result:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": target.url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False}
    )
    with app.app_context():
        log(f"\n== {target.label}")
        start = time.perf_counter()
        timings = load(data, log=log)
        timings["load_total"] = time.perf_counter() - start
        if target.kind == "postgresql":
            version = db.session.scalar(text("SHOW server_version"))
        else:
            version = db.session.scalar(text("SELECT sqlite_version()"))
        result = Result(database=target.kind, version=version, seed_timings=timings)
        log(f"  loaded in {timings['load_total']:.1f} s; {args.submissions} submissions...")
        rng = random.Random(args.seed + 1)
        start = time.perf_counter()
        run_submissions(app, data, args.submissions, rng, result, args.profile)
        log(f"  submissions done in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        run_fuzzy_submissions(app, data, args.fuzzy, rng, result)
        log(
            f"  {args.fuzzy} short-name and typo submissions done in "
            f"{time.perf_counter() - start:.1f} s"
        )
        if args.explain:
            explain_queries(data, target.kind, result)
        db.session.remove()
    run_queue(app, data, args.queue_requests, result)
    with app.app_context():
        db.engine.dispose()
    return result


# --- report --------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:8.1f} ms"


def _row(label: str, values: list[float]) -> str:
    return (
        f"  {label:<44}{_ms(statistics.median(values))}{_ms(percentile(values, 95))}"
        f"{_ms(max(values))}   n={len(values)}"
    )


def report(result: Result, data: Dataset, args) -> str:
    subs = result.submissions
    lines = [
        "",
        f"{result.database} {result.version}: {data.rows('end_customer'):,} customers, "
        f"{data.rows('deal'):,} deals",
        "  seed: generate {:.1f} s (names {:.1f} s, name keys {:.1f} s, deals {:.1f} s, shared "
        "by the databases), load {:.1f} s (insert {:.1f} s, indexes {:.1f} s{})".format(
            data.timings["total"],
            data.timings["names"],
            data.timings["name_keys"],
            data.timings["deals"],
            result.seed_timings["load_total"],
            result.seed_timings["insert"],
            result.seed_timings["indexes"],
            f", VACUUM ANALYZE {result.seed_timings['analyze']:.1f} s"
            if "analyze" in result.seed_timings
            else "",
        ),
        f"  {'':<44}{'p50':>11}{'p95':>11}{'max':>11}",
        _row("conflict check: submit_deal", [s.total_ms for s in subs]),
        _row("  inside it: detect_conflicts", [s.detect_ms for s in subs]),
        _row("  inside that: same_customers", [s.same_ms for s in subs]),
    ]
    groups = {
        "Chinese name, key shared by <= 100": [
            s for s in subs if not s.latin_long and s.key_group <= 100
        ],
        "Chinese name, key shared by 101-500": [
            s for s in subs if not s.latin_long and 100 < s.key_group <= 500
        ],
        "Chinese name, key shared by > 500": [
            s for s in subs if not s.latin_long and s.key_group > 500
        ],
        f"Latin key >= {LATIN_FUZZY_MIN_LENGTH} letters (prefix/suffix)": [
            s for s in subs if s.latin_long
        ],
    }
    for label, group in groups.items():
        if group:
            lines.append(_row("  " + label, [s.total_ms for s in group]))
    if result.queue_ms:
        lines.append(_row(f"GET /queue, manager ({result.queue_size:,} deals)", result.queue_ms))
    if result.queue_admin_ms:
        lines.append(
            _row(f"GET /queue, admin ({result.queue_admin_size:,} deals)", result.queue_admin_ms)
        )
    expected = [s for s in subs if s.expected]
    found = [s for s in expected if s.found_expected]
    with_conflicts = sum(1 for s in subs if s.conflicts)
    p95 = percentile([s.total_ms for s in subs], 95)
    lines += [
        f"  conflicts: {with_conflicts} of {len(subs)} submissions raised at least one "
        f"({sum(s.conflicts for s in subs)} in all); of the {len(expected)} whose original "
        f"customer had an open deal or named account to conflict with, {len(found)} found it "
        f"({100 * len(found) / max(1, len(expected)):.1f} %)",
        f"  target p95 < {TARGET_MS:.0f} ms: {'met' if p95 < TARGET_MS else 'NOT met'} "
        f"(p95 {p95:.1f} ms)",
    ]
    if result.fuzzy:
        fuzzy = result.fuzzy
        lines.append(_row("short names and typos: submit_deal", [f.total_ms for f in fuzzy]))
        everything = [s.total_ms for s in subs] + [f.total_ms for f in fuzzy]
        p95_all = percentile(everything, 95)
        lines.append(
            f"  whole check incl. suggestions, all submissions: p95 {p95_all:.1f} ms "
            f"({'met' if p95_all < TARGET_MS else 'NOT met'})"
        )
        for kind in ("short_name", "homophone_typo"):
            group = [f for f in fuzzy if f.kind == kind]
            if group:
                found = sum(f.found for f in group)
                lines.append(
                    f"  {kind}: true customer suggested or in conflict for {found} of "
                    f"{len(group)} ({100 * found / len(group):.1f} %; as the same customer "
                    f"{sum(f.same for f in group)})"
                )
        found_all = sum(f.found for f in fuzzy)
        share = 100 * found_all / len(fuzzy)
        lines.append(
            f"  target: true customer among the suggestions for >= 95 % of short names and "
            f"typos: {'met' if share >= 95 else 'NOT met'} ({share:.1f} %)"
        )
        if args.verbose and result.fuzzy_misses:
            lines.append("  short names and typos not found (first few):")
            lines += [f"    {m}" for m in result.fuzzy_misses]
    kinds = Counter(k for s in subs for k in s.variant_kinds)
    lines.append(
        "  variants: "
        + ", ".join(f"{k} {n}" for k, n in kinds.most_common())
        + f"; new customer record {sum(s.new_record for s in subs)}, same record "
        f"{sum(not s.new_record for s in subs)}"
    )
    if args.verbose and result.misses:
        lines.append("  conflicts expected but not found (first few):")
        lines += [f"    {m}" for m in result.misses]
    if result.plans:
        lines.append("  query plans:")
        lines += result.plans
    if result.profile:
        lines.append(
            "  profile of the submissions (cumulative; the timings above include the "
            "profiler's overhead, do not quote them):"
        )
        lines.append(result.profile)
    return "\n".join(lines)
