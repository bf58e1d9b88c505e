"""Special price requests: marked on submission, decided line by line at the right level,
only for partners on track with their commitment unless the deal is a strategic exception."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounts.models import AuditLog
from app import db
from deals.models import DealLine
from deals.special_prices import SpecialPriceRefused, decide_special_price
from deals.workflow import DealError, approve_deal, submit_deal
from partners.commitments import OrderLineInput, record_commitment, record_stock_order


@pytest.fixture
def setup(make_user, make_partner, make_product, make_deal):
    manager = make_user("manager")
    admin = make_user("admin")
    partner = make_partner(tier="gold", owner=manager)  # 30 % off, manager limit 10 %
    product = make_product(list_price="10000.00", floor_price="5500.00")  # tier price 7000.00

    def deal_at(price, on_track=True):
        if on_track and not getattr(partner, "_committed", False):
            year = str(date.today().year)
            record_commitment(
                partner, period=year, amount="100000", signed_on=None, lines=[], user=None
            )
            record_stock_order(
                partner,
                number=f"PO-{partner.id}",
                order_date=date.today(),
                user=None,
                lines=[OrderLineInput(product.id, 10, "10000.00")],
            )
            partner._committed = True
        user = make_user("partner", partner=partner)
        deal = make_deal(
            partner=partner, product=product, unit_price=price, status="draft", created_by=user
        )
        submit_deal(deal, user)
        db.session.commit()
        return deal

    return {"manager": manager, "admin": admin, "partner": partner, "deal_at": deal_at}


def test_lines_below_tier_price_wait_for_a_decision(setup):
    assert setup["deal_at"]("7000.00").lines[0].special_status == "none"
    assert setup["deal_at"]("6999.99").lines[0].special_status == "pending"


def test_deal_approval_never_approves_a_special_price_silently(setup):
    deal = setup["deal_at"]("6500.00")
    with pytest.raises(DealError, match="Decide each special price"):
        approve_deal(deal, setup["manager"], deal.version)


def test_manager_approves_within_limit_and_price_is_kept(setup):
    deal = setup["deal_at"]("6000.00")  # exactly 10 % beyond tier
    decide_special_price(deal, deal.lines[0], setup["manager"], approve=True, note="项目竞争")
    approve_deal(deal, setup["manager"], deal.version)
    db.session.commit()
    line = db.session.get(DealLine, deal.lines[0].id)
    assert line.special_status == "approved" and line.approved_unit_price == Decimal("6000.00")
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "special_price_approved"))
    assert "¥6,000.00" in entry.summary and "10.00 % beyond tier" in entry.summary


@pytest.mark.parametrize("price", ["5999.99", "5400.00"])  # beyond the limit; below the floor
def test_deeper_or_below_floor_only_admin(setup, price):
    deal = setup["deal_at"](price)
    with pytest.raises(SpecialPriceRefused, match="Only an admin"):
        decide_special_price(deal, deal.lines[0], setup["manager"], approve=True)
    decide_special_price(deal, deal.lines[0], setup["admin"], approve=True)
    assert deal.lines[0].special_status == "approved"


def test_refused_special_price_falls_back_to_tier_price(setup):
    deal = setup["deal_at"]("6500.00")
    decide_special_price(deal, deal.lines[0], setup["manager"], approve=False)
    approve_deal(deal, setup["manager"], deal.version)
    assert deal.lines[0].approved_unit_price == Decimal("7000.00")


def test_no_special_price_without_commitment_unless_strategic(setup):
    deal = setup["deal_at"]("6500.00", on_track=False)
    with pytest.raises(SpecialPriceRefused, match="no active stock commitment"):
        decide_special_price(deal, deal.lines[0], setup["manager"], approve=True)
    deal.strategic_exception = True
    decide_special_price(deal, deal.lines[0], setup["manager"], approve=True)
    assert deal.lines[0].special_status == "approved"


def test_behind_partner_gets_no_special_price_and_page_says_why(setup, client):
    from tests.conftest import login

    partner = setup["partner"]
    record_commitment(
        partner,
        period=str(date.today().year),
        amount="99000000",
        signed_on=None,
        lines=[],
        user=None,
    )
    db.session.commit()
    deal = setup["deal_at"]("6500.00", on_track=False)
    with pytest.raises(SpecialPriceRefused, match="of pro-rata, below the 80%"):
        decide_special_price(deal, deal.lines[0], setup["manager"], approve=True)
    login(client, setup["manager"].email)
    page = client.get(f"/deals/{deal.id}").text
    assert "below the 80% required" in page
    assert "disabled" in page
