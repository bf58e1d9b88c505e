"""`python -m bench deals|partners|...|concurrency`: seed a large channel, time it.

deals: the conflict check and the approval queue; partners: attainment and signals on the
partners list page; statements: the partner and channel Excel statements; dashboards: each
role's home page; matching: accuracy of the customer-name matcher by kind of pair (pure, no
database); concurrency: partners registering one customer at the same instant (gunicorn).

    python -m bench partners [--db sqlite|postgresql|both] [--partners 2000]
                             [--order-lines 2000000] [--requests 50] [--small] [--explain]
    python -m bench deals [--db sqlite|postgresql|both] [--customers 200000] [--deals 1000000]
                          [--submissions 1000] [--fuzzy 500] [--small] [--keep] [--explain]
                          [--profile] [-v]
    python -m bench statements [--db sqlite|postgresql|both] [--partners 2000] [--lines 2000000]
                               [--big-lines 100000] [--repeat 3] [--small] [--keep]
    python -m bench dashboards [--db sqlite|postgresql|both] [--requests 50] [--small] [--keep]
    python -m bench matching [--pairs 1000] [--seed N] [-v]
    python -m bench concurrency [--db sqlite|postgresql] [--clients 8] [--rounds 30]
                                [--workers 2]

PostgreSQL runs on a fresh database created on the server of BENCH_DATABASE_URL (or
TEST_DATABASE_URL) and dropped at the end (unless --keep); SQLite in a temporary file.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

FULL = {"customers": 200_000, "deals": 1_000_000, "submissions": 1_000}
SMALL = {"customers": 20_000, "deals": 100_000, "submissions": 200}
PARTNERS_FULL = {"partners": 2_000, "order_lines": 2_000_000}
PARTNERS_SMALL = {"partners": 500, "order_lines": 200_000}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    deals = commands.add_parser("deals", help="conflict check on submission and approval queue")
    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    deals.add_argument(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="both" if server else "sqlite",
        help="database(s) to measure (default: both when BENCH_DATABASE_URL or "
        "TEST_DATABASE_URL is set, else sqlite)",
    )
    deals.add_argument("--customers", type=int, help="end customers (default 200,000)")
    deals.add_argument("--deals", type=int, help="deals, one line each (default 1,000,000)")
    deals.add_argument("--submissions", type=int, help="timed submissions (default 1,000)")
    deals.add_argument(
        "--fuzzy", type=int, help="short-name and typo submissions (default: half of --submissions)"
    )
    deals.add_argument("--queue-requests", type=int, default=50)
    deals.add_argument(
        "--small",
        action="store_true",
        help="quick check: 20,000 customers, 100,000 deals, 200 submissions",
    )
    deals.add_argument("--seed", type=int, default=20261123, help="random seed of the data set")
    deals.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    deals.add_argument(
        "--explain", action="store_true", help="print the plans of the candidate query"
    )
    deals.add_argument("--profile", action="store_true", help="cProfile the submissions")
    deals.add_argument("-v", "--verbose", action="store_true", help="list missed conflicts")

    partners = commands.add_parser("partners", help="attainment and signals on the partners list")
    partners.add_argument(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="both" if server else "sqlite",
        help="database(s) to measure (default: both when BENCH_DATABASE_URL or "
        "TEST_DATABASE_URL is set, else sqlite)",
    )
    partners.add_argument("--partners", type=int, help="partners (default 2,000)")
    partners.add_argument(
        "--order-lines", type=int, help="stock order lines, 4 an order (default 2,000,000)"
    )
    partners.add_argument("--requests", type=int, default=50, help="timed page requests")
    partners.add_argument(
        "--small", action="store_true", help="quick check: 500 partners, 200,000 order lines"
    )
    partners.add_argument("--seed", type=int, default=20261123, help="random seed of the data set")
    partners.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    partners.add_argument(
        "--explain", action="store_true", help="print the plans of the grouped order queries"
    )

    statements = commands.add_parser(
        "statements", help="partner and channel statement exports (Excel) on a large channel"
    )
    statements.add_argument(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="both" if server else "sqlite",
        help="database(s) to measure (default: both when BENCH_DATABASE_URL or "
        "TEST_DATABASE_URL is set, else sqlite)",
    )
    statements.add_argument("--partners", type=int, help="partners (default 2,000)")
    statements.add_argument(
        "--lines", type=int, help="stock order lines in the year (default 2,000,000)"
    )
    statements.add_argument(
        "--big-lines", type=int, help="of which the measured partner's (default 100,000)"
    )
    statements.add_argument("--deals", type=int, help="deals, 1-3 lines each (default 60,000)")
    statements.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    statements.add_argument(
        "--small",
        action="store_true",
        help="quick check: 200 partners, 200,000 lines (20,000 of one partner)",
    )
    statements.add_argument("--seed", type=int, default=20261123, help="random seed")
    statements.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    _dashboards_parser(commands, server)
    matching = commands.add_parser(
        "matching", help="accuracy of the customer-name matcher by kind of pair (no database)"
    )
    matching.add_argument("--pairs", type=int, default=1000, help="pairs of each kind")
    matching.add_argument("--seed", type=int, default=20261123, help="random seed")
    matching.add_argument("-v", "--verbose", action="store_true", help="list misjudged pairs")
    concurrency = commands.add_parser(
        "concurrency",
        help="clients registering one customer at the same instant through the API (gunicorn)",
    )
    concurrency.add_argument(
        "--db",
        choices=("sqlite", "postgresql"),
        default="postgresql" if server else "sqlite",
        help="database (default: postgresql when BENCH_DATABASE_URL or TEST_DATABASE_URL is set)",
    )
    concurrency.add_argument("--clients", type=int, default=8, help="simultaneous partners")
    concurrency.add_argument("--rounds", type=int, default=30, help="customers, one a round")
    concurrency.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    concurrency.add_argument("--seed", type=int, default=20261207, help="random seed")
    concurrency.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser


def _dashboards_parser(commands, server) -> None:
    dashboards = commands.add_parser("dashboards", help="each role's dashboard page (GET /)")
    dashboards.add_argument(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="both" if server else "sqlite",
        help="database(s) to measure (default: both when BENCH_DATABASE_URL or "
        "TEST_DATABASE_URL is set, else sqlite)",
    )
    dashboards.add_argument("--customers", type=int, help="end customers (default 200,000)")
    dashboards.add_argument("--deals", type=int, help="deals (default 1,000,000)")
    dashboards.add_argument("--partners", type=int, help="partners (default 2,000)")
    dashboards.add_argument("--order-lines", type=int, help="stock order lines (default 2,000,000)")
    dashboards.add_argument("--requests", type=int, default=50, help="timed requests a role")
    dashboards.add_argument(
        "--small",
        action="store_true",
        help="quick check: 20,000 customers, 100,000 deals, 500 partners, 200,000 order lines",
    )
    dashboards.add_argument("--seed", type=int, default=20261123, help="random seed")
    dashboards.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    dashboards.add_argument("--reuse-sqlite", metavar="PATH", help="time a kept SQLite file")
    dashboards.add_argument(
        "--reuse-postgresql", action="store_true", help="time the kept PostgreSQL data again"
    )


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in (
        "deals",
        "partners",
        "statements",
        "dashboards",
        "matching",
        "concurrency",
        "-h",
        "--help",
    ):
        # `python -m bench [options]` (make bench) runs the one benchmark there is.
        argv = ["deals", *argv]
    args = parser.parse_args(argv)
    if args.command == "matching":
        from bench.matching import run as run_matching

        return run_matching(args)
    if args.command == "concurrency":
        from bench.concurrency import run as run_concurrency

        return run_concurrency(args)
    if args.command == "dashboards":
        from bench.dashboards import run

        sizes = {**SMALL, **PARTNERS_SMALL} if args.small else {**FULL, **PARTNERS_FULL}
        for name, value in sizes.items():
            if hasattr(args, name) and getattr(args, name) is None:
                setattr(args, name, value)
        return run(args)
    if args.command == "statements":
        from bench.statements import run

        return run(args)
    if args.command == "partners":
        from bench.partners import run

        sizes = PARTNERS_SMALL if args.small else PARTNERS_FULL
        for name, value in sizes.items():
            if getattr(args, name) is None:
                setattr(args, name, value)
        return run(args)
    for name, value in (SMALL if args.small else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.fuzzy is None:
        args.fuzzy = args.submissions // 2
    return run_deals(args)


def run_deals(args) -> int:
    from bench.conflicts import postgresql_target, report, run_database, sqlite_target
    from bench.seed_data import generate

    server = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if "postgresql" in kinds and not server:
        print("PostgreSQL needs BENCH_DATABASE_URL or TEST_DATABASE_URL", file=sys.stderr)
        return 2
    started = time.perf_counter()
    print(
        f"deals benchmark: {args.customers:,} customers, {args.deals:,} deals, "
        f"{args.submissions:,} submissions, on {', '.join(kinds)} ({os.cpu_count()} CPUs)"
    )
    t = time.perf_counter()
    data = generate(args.customers, args.deals, seed=args.seed)
    data.timings["total"] = time.perf_counter() - t
    # The data set is millions of Python objects a web worker would not hold: keep the garbage
    # collector from walking them (full collections would add 0.3-0.5 s pauses to the timings).
    gc.collect()
    gc.freeze()
    print(f"generated the data set in {data.timings['total']:.1f} s")
    reports = []
    for kind in kinds:
        if kind == "sqlite":
            target = sqlite_target(args.keep)
        else:
            target = postgresql_target(server, args.keep)
        try:
            result = run_database(target, data, args)
        finally:
            target.cleanup()
        reports.append(report(result, data, args))
        print(reports[-1], flush=True)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
