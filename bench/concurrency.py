"""`python -m bench concurrency`: partners submitting the same customers at the same moment.

Serves the app with gunicorn (2 sync workers by default, as the README's deployment) on a fresh
PostgreSQL database (or a SQLite file with --db sqlite), then, round after round, has every
client register one new customer through `POST /api/v1/deals` at the same instant, each under a
spelling of its own that the matcher calls the same customer. Afterwards it counts, from the
database: duplicate customer records (more than one record for a round's customer) and missed
conflicts (a registration other than the first at a customer without an open partner overlap).
Both must be 0; it prints them with the request latencies.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spellings(rng: random.Random, clients: int) -> list[list[str]]:
    """Per round, one spelling per client of one new customer, all judged the same customer
    with the same name key (so the per-customer lock is what keeps them apart)."""
    from bench.names import NameFactory, name_variant
    from customers.matching import compare_customer_names, name_search_key

    factory = NameFactory(rng)
    rounds: list[list[str]] = []
    seen_keys: set[str] = set()
    while True:
        drawn = factory.draw()
        if drawn.kind not in ("company", "company_bracket_region", "public_city"):
            continue
        original = drawn.name
        key = name_search_key(original)
        if not key or key in seen_keys:
            continue
        names = [original]
        for _ in range(clients * 20):
            if len(names) == clients:
                break
            variant, _ = name_variant(original, rng)
            if (
                name_search_key(variant) == key
                and compare_customer_names(original, variant).same
                and len(variant) <= 200
            ):
                names.append(variant)
        while len(names) < clients:
            names.append(original)
        rng.shuffle(names)
        seen_keys.add(key)
        rounds.append(names)
        yield names


def _seed(app, clients: int) -> tuple[list[str], str]:
    """A manager, one partner (with a user and an API token) per client, one product."""
    from accounts.models import User
    from accounts.tokens import create_token
    from app import db
    from partners.models import Partner
    from pricing.models import Product
    from seed import seed_tier_policies
    from tests.conftest import valid_uscc

    with app.app_context():
        db.create_all()
        seed_tier_policies()
        manager = User(email="manager@bench.example.com", name="经理", role="manager")
        manager.set_password("bench-password-1")
        db.session.add(manager)
        db.session.add(
            Product(
                sku="BENCH-SRV",
                name="服务器",
                product_line="服务器",
                list_price=Decimal("10000.00"),
                floor_price=Decimal("6000.00"),
            )
        )
        db.session.flush()
        tokens = []
        for n in range(clients):
            partner = Partner(
                name=f"并发伙伴{n + 1}科技有限公司",
                uscc=valid_uscc(900000 + n),
                tier="gold",
                region="北京",
                status="active",
                partner_type="reseller",
                owner_id=manager.id,
            )
            db.session.add(partner)
            db.session.flush()
            user = User(
                email=f"partner{n + 1}@bench.example.com",
                name=f"伙伴{n + 1}",
                role="partner",
                partner_id=partner.id,
            )
            user.set_password("bench-password-1")
            db.session.add(user)
            db.session.flush()
            tokens.append(create_token(user, "bench")[1])
        db.session.commit()
        db.engine.dispose()
    return tokens, "BENCH-SRV"


def _start_server(url: str, workers: int, port: int, instance: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        FLASK_SECRET_KEY="bench-concurrency",
        FLASK_RATELIMIT_ENABLED="false",
    )
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(instance / "gunicorn.log").open("wb"),
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                if response.status == 200:
                    return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    process.kill()
    log = (instance / "gunicorn.log").read_text(errors="replace")[-2000:]
    raise SystemExit("gunicorn did not start: " + log)


def _post(port: int, token: str, body: dict) -> tuple[int, float, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/deals",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload = response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        status, payload = error.code, {"error": error.read().decode()[:300]}
    return status, (time.perf_counter() - start) * 1000, payload


def run(args) -> int:
    from app import create_app, db
    from bench.conflicts import postgresql_target, sqlite_target
    from clock import vendor_today
    from customers.models import EndCustomer
    from deals.models import PARTNER_OVERLAP, Conflict, Deal

    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if args.db == "postgresql":
        if not server:
            raise SystemExit(
                "Set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server."
            )
        target = postgresql_target(server, args.keep)
    else:
        target = sqlite_target(args.keep)
    rng = random.Random(args.seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": target.url, "SECRET_KEY": "bench"})
    tokens, sku = _seed(app, args.clients)
    port = _free_port()
    instance = Path(tempfile.mkdtemp(prefix="bench_concurrency_"))
    process = _start_server(target.url, args.workers, port, instance)
    print(
        f"== {target.label}: gunicorn -w {args.workers}, "
        f"{args.clients} clients, {args.rounds} rounds"
    )
    latencies: list[float] = []
    failures: list[str] = []
    expected: dict[int, list[str]] = {}
    close = (vendor_today() + timedelta(days=60)).isoformat()
    try:
        spellings = _spellings(rng, args.clients)
        for round_no in range(args.rounds):
            names = next(spellings)
            expected[round_no] = names
            barrier = threading.Barrier(args.clients)

            def client(index: int, name: str, round_no=round_no, barrier=barrier) -> None:
                body = {
                    "submit": True,
                    "project_name": f"第{round_no + 1}轮 {name[:20]} 扩容",
                    "estimated_value": "500000.00",
                    "expected_close_date": close,
                    "stage": "evaluation",
                    "funding_source": "own_budget",
                    "customer": {"name": name},
                    "lines": [{"sku": sku, "quantity": 2, "unit_price": "9000.00"}],
                }
                barrier.wait(timeout=30)
                status, ms, payload = _post(port, tokens[index], body)
                latencies.append(ms)
                if status != 201:
                    failures.append(f"round {round_no + 1}, client {index + 1}: {status} {payload}")

            threads = [
                threading.Thread(target=client, args=(i, name)) for i, name in enumerate(names)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)

    duplicates = missed = 0
    with app.app_context():
        from customers.matching import name_search_key

        deals = db.session.execute(
            select(Deal.id, Deal.customer_id, Deal.first_submitted_at, EndCustomer.name_key).join(
                EndCustomer, EndCustomer.id == Deal.customer_id
            )
        ).all()
        by_key: dict[str, list] = {}
        for row in deals:
            by_key.setdefault(row.name_key, []).append(row)
        for names in expected.values():
            key = name_search_key(names[0])
            records = db.session.scalar(
                select(func.count()).select_from(EndCustomer).where(EndCustomer.name_key == key)
            )
            duplicates += max(0, records - 1)
            registered = sorted(by_key.get(key, []), key=lambda r: (r.first_submitted_at, r.id))
            held = set(
                db.session.scalars(
                    select(Conflict.deal_id).where(
                        Conflict.kind == PARTNER_OVERLAP,
                        Conflict.status == "open",
                        Conflict.deal_id.in_([r.id for r in registered]),
                    )
                )
            )
            missed += sum(1 for r in registered[1:] if r.id not in held)
            if registered and registered[0].id in held:
                missed += 1  # the first registrant must never be held
        conflicts = db.session.scalar(select(func.count()).select_from(Conflict))
        db.engine.dispose()
    target.cleanup()
    ordered = sorted(latencies)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)] if ordered else float("nan")
    print(
        f"  requests {len(latencies)}, failed {len(failures)}; latency p50 "
        f"{statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms"
    )
    print(f"  conflicts recorded {conflicts} (expected {args.rounds * (args.clients - 1)})")
    print(f"  duplicate customers: {duplicates}")
    print(f"  missed conflicts: {missed}")
    for failure in failures[:5]:
        print("  " + failure)
    return 0 if duplicates == 0 and missed == 0 and not failures else 1
