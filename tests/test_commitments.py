"""Stock commitments, orders and attainment, with exact Decimal figures; tier review rules."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app import db
from partners.commitments import (
    CommitmentError,
    CommitmentLineInput,
    DuplicateRecord,
    OrderLineInput,
    attainments,
    elapsed_share,
    parse_period,
    record_commitment,
    record_stock_order,
)
from partners.models import StockOrder
from partners.tiers import annualised, propose_tier

D = Decimal


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-H2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_periods(period, start, end):
    assert parse_period(period) == (start, end)


@pytest.mark.parametrize("bad", ["2026-Q5", "26-Q1", "2026-H3", "Q4", ""])
def test_bad_periods_are_refused(bad):
    with pytest.raises(ValueError):
        parse_period(bad)


def test_elapsed_share_counts_whole_days():
    start, end = parse_period("2026-Q4")  # 92 days
    assert elapsed_share(start, end, date(2026, 9, 30)) == D("0")
    assert elapsed_share(start, end, date(2026, 10, 1)) == D("0.0109")  # 1/92
    assert elapsed_share(start, end, date(2026, 11, 15)) == D("0.5000")  # 46/92
    assert elapsed_share(start, end, date(2027, 1, 5)) == D("1")


def test_attainment_overall_pro_rata_and_per_line(app, make_partner, make_product):
    partner = make_partner(tier="silver")
    server = make_product(sku="SRV-1", line="服务器", list_price="10000.00")
    storage = make_product(sku="STO-1", line="存储", list_price="5000.00")
    record_commitment(
        partner,
        period="2026-Q4",
        amount="1000000",
        signed_on=date(2026, 9, 20),
        lines=[
            CommitmentLineInput(quantity=50, product_line="服务器"),
            CommitmentLineInput(quantity=10, product_id=storage.id),
        ],
        user=None,
    )
    record_stock_order(
        partner,
        number="PO-1",
        order_date=date(2026, 10, 10),
        user=None,
        lines=[OrderLineInput(server.id, 20, "8000.00"), OrderLineInput(storage.id, 4, "4000.05")],
    )
    record_stock_order(  # outside the period: does not count
        partner,
        number="PO-0",
        order_date=date(2026, 9, 30),
        user=None,
        lines=[OrderLineInput(server.id, 100, "8000.00")],
    )
    db.session.commit()
    result = attainments([partner.id], date(2026, 11, 15))[partner.id]
    assert result.ordered == D("176000.20")  # 20 × 8000 + 4 × 4000.05
    assert result.attainment == D("0.1760")
    assert result.elapsed == D("0.5000")
    assert result.pro_rata_attainment == D("0.3520")
    assert result.behind
    assert result.shortfall == D("823999.80")
    lines = {line["label"]: line for line in result.lines}
    assert lines["服务器"]["ordered"] == 20 and lines["服务器"]["attainment"] == D("0.4000")
    assert lines["STO-1"]["ordered"] == 4 and lines["STO-1"]["attainment"] == D("0.4000")


def test_second_commitment_for_same_period_is_refused(app, make_partner):
    partner = make_partner()
    record_commitment(partner, period="2026", amount="100", signed_on=None, lines=[], user=None)
    with pytest.raises(DuplicateRecord):
        record_commitment(partner, period="2026", amount="200", signed_on=None, lines=[], user=None)


def test_commitment_bad_input_by_field(app, make_partner):
    partner = make_partner()
    with pytest.raises(CommitmentError) as caught:
        record_commitment(
            partner,
            period="2026-Q9",
            amount="-5",
            signed_on=None,
            lines=[CommitmentLineInput(quantity="1.5", product_line="不存在")],
            user=None,
        )
    assert set(caught.value.errors) == {
        "period",
        "amount",
        "lines[0].quantity",
        "lines[0].product_line",
    }


def test_duplicate_order_number_stores_nothing(app, make_partner, make_product):
    partner = make_partner()
    product = make_product()
    record_stock_order(
        partner,
        number="PO-9",
        order_date=date(2026, 10, 1),
        user=None,
        lines=[OrderLineInput(product.id, 1, "10")],
    )
    db.session.commit()
    with pytest.raises(DuplicateRecord):
        record_stock_order(
            partner,
            number="PO-9",
            order_date=date(2026, 10, 2),
            user=None,
            lines=[OrderLineInput(product.id, 1, "10")],
        )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(StockOrder)) == 1


MINIMUMS = {"gold": D("5000000"), "silver": D("1000000"), "registered": D("0")}


@pytest.mark.parametrize(
    ("current", "annual", "pro_rata", "proposed", "change"),
    [
        ("silver", D("6000000"), D("1.1"), "gold", "promotion"),
        ("silver", D("1000000"), D("0.9"), "silver", "none"),  # exactly the silver minimum
        ("gold", D("4999999.99"), D("1.0"), "silver", "demotion"),  # just below gold minimum
        ("gold", D("6000000"), D("0.49"), "silver", "demotion"),  # behind: one level down
        ("gold", D("6000000"), D("0.50"), "gold", "none"),  # exactly at the threshold
        ("silver", None, None, "registered", "demotion"),  # no commitment
        ("registered", D("1200000"), D("0.2"), "registered", "none"),  # behind, already lowest
    ],
)
def test_tier_proposals(current, annual, pro_rata, proposed, change):
    proposal = propose_tier(current, annual, pro_rata, MINIMUMS, D("0.50"))
    assert proposal.proposed == proposed
    assert proposal.change == change
    assert proposal.reason


def test_annualised_commitment():
    assert annualised(D("300000"), "2026-Q4") == D("1200000")
    assert annualised(D("600000"), "2026-H2") == D("1200000")
    assert annualised(D("1200000"), "2026") == D("1200000")
