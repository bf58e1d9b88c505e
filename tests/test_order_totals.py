"""Stored stock-order day totals: kept with each recorded order, equal to a rebuild from the
lines, filled by the migration, and giving the same at-risk, attainment and finance figures as
the order lines."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app import db
from partners.commitments import OrderLineInput, attainments, record_commitment, record_stock_order
from partners.models import StockOrder, StockOrderTotal
from partners.order_totals import rebuild_order_totals
from partners.signals import at_risk, at_risk_for, months_back
from tests.test_migrations import fresh_database_url  # noqa: F401 (fixture)

D = Decimal
TODAY = date.today()


def stored_totals() -> dict:
    db.session.expire_all()
    return {
        (t.partner_id, t.order_date): (t.gap_days, t.orders, t.lines, t.quantity, t.amount_cents)
        for t in db.session.scalars(select(StockOrderTotal))
    }


def record(partner, product, day, *lines):
    return record_stock_order(
        partner,
        number=f"PO-{partner.id}-{day.isoformat()}-{random.random():.12f}",
        order_date=day,
        lines=[OrderLineInput(product.id, quantity, price) for quantity, price in lines],
        user=None,
    )


@pytest.fixture
def ordering(app, make_partner, make_product):
    """Two partners with orders recorded out of date order, two on one day, one dated back."""
    gold, silver = make_partner(tier="gold"), make_partner(tier="silver")
    server = make_product(list_price="10000.00")
    record(gold, server, TODAY - timedelta(days=3), (2, "9000.10"))
    record(gold, server, TODAY - timedelta(days=40), (1, "9999.99"), (3, "0.01"))
    record(gold, server, TODAY - timedelta(days=3), (1, "8500.00"))  # the same day again
    record(gold, server, TODAY - timedelta(days=20), (5, "1234.56"))  # between two order days
    record(gold, server, TODAY - timedelta(days=400), (1, "100.00"))  # before the window
    record(silver, server, TODAY - timedelta(days=10), (7, "333.33"))
    db.session.commit()
    return gold, silver, server


def test_totals_kept_with_each_order_equal_a_rebuild_from_the_lines(ordering):
    gold, _silver, _server = ordering
    kept = stored_totals()
    assert kept[(gold.id, TODAY - timedelta(days=3))] == (17, 2, 2, 3, 2650020)
    assert kept[(gold.id, TODAY - timedelta(days=20))] == (20, 1, 1, 5, 617280)
    assert kept[(gold.id, TODAY - timedelta(days=400))][0] is None  # its first order day
    rebuild_order_totals()
    db.session.commit()
    assert stored_totals() == kept


def test_refresh_command_rebuilds_the_totals_from_the_lines(ordering, runner):
    kept = stored_totals()
    db.session.execute(StockOrderTotal.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["partners", "refresh-order-totals"])
    assert result.exit_code == 0, result.output
    assert "5 partner-day row(s)" in result.output
    assert stored_totals() == kept


def test_a_rebuild_of_some_partners_leaves_the_others(ordering):
    gold, silver, _server = ordering
    kept = stored_totals()
    db.session.execute(
        StockOrderTotal.__table__.delete().where(StockOrderTotal.partner_id == silver.id)
    )
    assert rebuild_order_totals([silver.id]) == 1
    db.session.commit()
    assert stored_totals() == kept


def test_refused_order_leaves_the_totals_unchanged(ordering):
    gold, _silver, server = ordering
    kept = stored_totals()
    number = db.session.scalar(select(StockOrder.number).where(StockOrder.partner_id == gold.id))
    with pytest.raises(ValueError):
        record_stock_order(
            gold,
            number=number,
            order_date=TODAY,
            lines=[OrderLineInput(server.id, 1, "1.00")],
            user=None,
        )
    db.session.rollback()
    assert stored_totals() == kept


def test_at_risk_from_the_totals_equals_the_rule_on_the_order_days(app, make_partner, make_product):
    """Random ordering histories: the flags, reasons and evidence from the stored totals are the
    rule's own on the order lines' days and amounts."""
    rng = random.Random(6)
    product = make_product()
    partners = [make_partner() for _ in range(8)]
    lines: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for index, partner in enumerate(partners):
        step = 2 + index * 5  # from every other day to every 37 days
        silent = rng.choice([0, 0, 60, 150])  # some stopped ordering a while ago
        for _ in range(rng.randint(0, 25)):
            day = TODAY - timedelta(days=silent + rng.randint(0, 500 // step) * step)
            price = D(rng.randint(100, 999999)) / 100
            record(partner, product, day, (rng.randint(1, 9), str(price)))
            lines[partner.id].append(day)
    db.session.commit()
    ids = [p.id for p in partners]
    drop = D("0.5")
    stored = at_risk_for(ids, TODAY, drop)
    assert {r.flagged for r in stored.values()} == {True, False}
    since, recent = TODAY - timedelta(days=365), TODAY - timedelta(days=90)
    for partner in partners:
        orders = db.session.scalars(
            select(StockOrder).where(StockOrder.partner_id == partner.id)
        ).all()
        by_day: dict[date, Decimal] = defaultdict(Decimal)
        for order in orders:
            for line in order.lines:
                by_day[order.order_date] += line.amount
        window = {d: a for d, a in by_day.items() if d > since}
        monthly = {m: D(0) for m in months_back(TODAY, 12)}
        for d, a in window.items():
            if f"{d.year:04d}-{d.month:02d}" in monthly:  # the window's first month is partial
                monthly[f"{d.year:04d}-{d.month:02d}"] += a
        expected = at_risk(
            today=TODAY,
            last_90_days=sum((a for d, a in window.items() if d > recent), D(0)),
            last_12_months=sum(window.values(), D(0)),
            order_dates=list(window),
            monthly=monthly,
            drop_ratio=drop,
        )
        got = stored[partner.id]
        assert got.flagged == expected.flagged
        assert [str(r) for r in got.reasons] == [str(r) for r in expected.reasons]
        assert got.evidence == expected.evidence
    lean = at_risk_for(ids, TODAY, drop, with_monthly=False)
    assert {p: r.flagged for p, r in lean.items()} == {p: r.flagged for p, r in stored.items()}


def test_attainment_reads_the_totals_of_the_commitment_period(ordering):
    gold, _silver, _server = ordering
    record_commitment(
        gold,
        period=str(TODAY.year),
        amount="100000.00",
        signed_on=None,
        lines=[],
        user=None,
    )
    db.session.commit()
    progress = attainments([gold.id], TODAY)[gold.id]
    in_year = {
        TODAY - timedelta(days=3): D("26500.20"),
        TODAY - timedelta(days=20): D("6172.80"),
        TODAY - timedelta(days=40): D("10000.02"),
    }
    assert progress.ordered == sum(
        (a for d, a in in_year.items() if d.year == TODAY.year), D("0.00")
    )
    assert attainments([gold.id], TODAY, with_lines=False)[gold.id].ordered == progress.ordered


def test_migration_fills_the_totals_from_existing_orders(fresh_database_url):  # noqa: F811
    from flask_migrate import upgrade

    from app import create_app
    from partners.models import Partner, StockOrderLine, TierPolicy
    from pricing.models import Product

    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "SECRET_KEY": "x"})
    with app.app_context():
        upgrade(revision="9d1e5b7c3a21")
        db.session.add(
            TierPolicy(
                tier="gold",
                discount_rate=D("0.3"),
                min_commitment=D("0"),
                protection_days=90,
                approval_limit=D("0.1"),
                rebate_rate=D("0.02"),
            )
        )
        partner = Partner(name="伙伴", uscc="91110108000000001X", tier="gold")
        product = Product(
            sku="S-1", name="P", product_line="L", list_price=D("10"), floor_price=D("5")
        )
        db.session.add_all([partner, product])
        db.session.flush()
        for number, day, quantity, price in (
            ("A", date(2026, 1, 5), 2, "10.05"),
            ("B", date(2026, 1, 5), 1, "0.10"),
            ("C", date(2026, 1, 9), 3, "7.77"),
        ):
            db.session.add(
                StockOrder(
                    partner_id=partner.id,
                    number=number,
                    order_date=day,
                    lines=[
                        StockOrderLine(
                            product_id=product.id, quantity=quantity, unit_price=D(price)
                        )
                    ],
                )
            )
        db.session.commit()
        upgrade()
        migrated = stored_totals()
        assert migrated == {
            (partner.id, date(2026, 1, 5)): (None, 2, 2, 3, 2020),
            (partner.id, date(2026, 1, 9)): (4, 1, 1, 3, 2331),
        }
        rebuild_order_totals()
        db.session.commit()
        assert stored_totals() == migrated
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("whole_channel", [500, 1])  # 1: the whole-channel reading path
def test_at_risk_memos_equal_the_rule_and_are_forgotten_when_orders_change(
    app, make_partner, make_product, monkeypatch, whole_channel
):
    """The dashboards' at-risk memos (PartnerOrderHistory) give the rule's own results, are
    read instead of the totals once written, and are never used or kept across an order."""
    from partners import signals
    from partners.models import PartnerOrderHistory
    from partners.order_totals import forget_order_history

    monkeypatch.setattr(signals, "WHOLE_CHANNEL", whole_channel)
    rng = random.Random(7)
    product = make_product()
    partners = [make_partner() for _ in range(6)]
    for index, partner in enumerate(partners[1:]):  # the first has never ordered
        step = 3 + index * 9
        silent = rng.choice([0, 60, 150])
        for _ in range(rng.randint(2, 20)):
            day = TODAY - timedelta(days=silent + rng.randint(0, 400 // step) * step)
            record(partner, product, day, (rng.randint(1, 9), f"{rng.randint(100, 99999)}.25"))
    db.session.commit()
    ids = [p.id for p in partners]
    drop = D("0.5")

    def results(day=TODAY, remembered=False):
        got = at_risk_for(ids, day, drop, with_monthly=False, remembered=remembered)
        db.session.commit()
        return {p: (r.flagged, [str(x) for x in r.reasons], r.evidence) for p, r in got.items()}

    def memos():
        db.session.expire_all()
        return {m.partner_id: m for m in db.session.scalars(select(PartnerOrderHistory))}

    live = results()
    assert {flagged for flagged, _, _ in live.values()} == {True, False}
    assert results(remembered=True) == live
    assert {m.as_of for m in memos().values()} == {TODAY} and len(memos()) == len(ids)

    def not_called(*args, **kwargs):
        raise AssertionError("read from the totals although the memos are there")

    with monkeypatch.context() as patched:
        patched.setattr(signals, "order_history", not_called)
        assert results(remembered=True) == live

    ordering, quiet = partners[0], partners[1]
    record(ordering, product, TODAY, (3, "123.45"))
    db.session.commit()
    kept = memos()
    assert kept[ordering.id].as_of is None and kept[quiet.id].as_of == TODAY
    live = results()
    assert live[ordering.id][2]["last_90_days"] == "370.35"
    assert results(remembered=True) == live

    tomorrow = TODAY + timedelta(days=1)  # another day: every memo is worked out again
    assert results(tomorrow, remembered=True) == results(tomorrow)
    assert {m.as_of for m in memos().values()} == {tomorrow}

    # An order recorded while the memos are being worked out: that partner's is not kept.
    later = TODAY + timedelta(days=2)
    worked_out = signals.order_history

    def with_an_order_meanwhile(*args, **kwargs):
        found = worked_out(*args, **kwargs)
        forget_order_history([quiet.id])
        return found

    with monkeypatch.context() as patched:
        patched.setattr(signals, "order_history", with_an_order_meanwhile)
        assert results(later, remembered=True) == results(later)
    kept = memos()
    assert kept[quiet.id].as_of is None
    assert {m.as_of for p, m in kept.items() if p != quiet.id} == {later}

    rebuild_order_totals()  # a rebuild forgets every memo
    db.session.commit()
    assert {m.as_of for m in memos().values()} == {None}


def test_remember_at_risk_command_writes_todays_memos(ordering, runner):
    from zoneinfo import ZoneInfo

    from partners.models import PartnerOrderHistory

    result = runner.invoke(args=["partners", "remember-at-risk"])
    assert result.exit_code == 0, result.output
    assert "ready for 2 partner(s)" in result.output
    db.session.expire_all()
    memos = db.session.scalars(select(PartnerOrderHistory)).all()
    vendor_today = datetime.now(tz=ZoneInfo("Asia/Shanghai")).date()
    assert len(memos) == 2 and {m.as_of for m in memos} == {vendor_today}
