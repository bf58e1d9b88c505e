"""Commitments, stock orders and tier review through the pages."""

from datetime import date

from sqlalchemy import func, select

from accounts.models import AuditLog
from app import db
from partners.models import StockCommitment, StockOrder
from tests.conftest import post_form


def year():
    return str(date.today().year)


def test_manager_records_commitment_and_order_and_sees_attainment(
    client, login_as, make_partner, make_product
):
    manager = login_as("manager")
    partner = make_partner(tier="silver", owner=manager)
    product = make_product(sku="SRV-77", line="服务器")
    response = post_form(
        client,
        f"/partners/{partner.id}/commitments/new",
        {
            "period": year(),
            "amount": "1,000,000",
            "signed_on": "",
            "lines-0-target": "line:服务器",
            "lines-0-quantity": "100",
        },
    )
    assert response.status_code == 302
    response = post_form(
        client,
        f"/partners/{partner.id}/orders/new",
        {
            "number": "PO-2026-001",
            "order_date": date.today().isoformat(),
            "lines-0-product_id": str(product.id),
            "lines-0-quantity": "25",
            "lines-0-unit_price": "10000.00",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/partners/{partner.id}").text
    assert "¥1,000,000.00" in page and "ordered ¥250,000.00" in page
    assert "25.0%" in page  # 250,000 ÷ 1,000,000
    assert "服务器" in page
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"commitment_recorded", "stock_order_recorded"} <= actions


def test_commitment_form_answers_bad_input_by_field(client, login_as, make_partner):
    manager = login_as("manager")
    partner = make_partner(owner=manager)
    response = post_form(
        client,
        f"/partners/{partner.id}/commitments/new",
        {"period": "2026-Q7", "amount": "-10", "lines-0-target": "", "lines-0-quantity": ""},
    )
    assert response.status_code == 200
    assert "Use a period like 2026-Q4" in response.text
    assert "The amount must be above zero." in response.text
    assert 'value="2026-Q7"' in response.text
    assert db.session.scalar(select(func.count()).select_from(StockCommitment)) == 0


def test_second_commitment_for_period_is_refused_in_the_form(client, login_as, make_partner):
    manager = login_as("manager")
    partner = make_partner(owner=manager)
    data = {"period": "2026-Q4", "amount": "500000"}
    assert post_form(client, f"/partners/{partner.id}/commitments/new", data).status_code == 302
    again = post_form(client, f"/partners/{partner.id}/commitments/new", data)
    assert "already has a commitment for 2026-Q4" in again.text


def test_order_with_bad_line_stores_nothing(client, login_as, make_partner, make_product):
    manager = login_as("manager")
    partner = make_partner(owner=manager)
    product = make_product()
    response = post_form(
        client,
        f"/partners/{partner.id}/orders/new",
        {
            "number": "PO-X",
            "order_date": "2026-10-01",
            "lines-0-product_id": str(product.id),
            "lines-0-quantity": "2",
            "lines-0-unit_price": "5",
            "lines-1-product_id": str(product.id),
            "lines-1-quantity": "1.5",
            "lines-1-unit_price": "5",
        },
    )
    assert response.status_code == 200
    assert "positive whole number" in response.text
    assert db.session.scalar(select(func.count()).select_from(StockOrder)) == 0


def test_partner_sees_own_orders_but_not_others(client, login_as, make_partner):
    own, other = make_partner(), make_partner()
    login_as("partner", partner=own)
    assert client.get(f"/partners/{own.id}/orders").status_code == 200
    assert client.get(f"/partners/{other.id}/orders").status_code == 404
    assert client.get(f"/partners/{own.id}/orders/new").status_code == 403


def test_tier_review_proposes_and_applies_with_audit(client, login_as, make_partner, make_product):
    from partners.commitments import OrderLineInput, record_commitment, record_stock_order

    manager = login_as("manager")
    silver = make_partner(tier="silver", owner=manager, name="升级候选有限公司")
    gold = make_partner(tier="gold", owner=manager, name="无承诺金牌有限公司")
    record_commitment(silver, period=year(), amount="6000000", signed_on=None, lines=[], user=None)
    record_stock_order(  # the whole year's commitment already ordered: on track
        silver,
        number="PO-T1",
        order_date=date.today(),
        user=None,
        lines=[OrderLineInput(make_product().id, 600, "10000.00")],
    )
    db.session.commit()
    page = client.get("/tier-review").text
    assert "升级候选有限公司" in page and "promotion" in page
    assert "无承诺金牌有限公司" in page and "no active stock commitment" in page
    response = post_form(
        client,
        "/tier-review/apply",
        {"partner_id": [str(silver.id), str(gold.id)]},
        page_url="/tier-review",
    )
    assert response.status_code == 302
    db.session.refresh(silver)
    db.session.refresh(gold)
    assert silver.tier == "gold"
    assert gold.tier == "registered"
    entries = db.session.scalars(select(AuditLog).where(AuditLog.action == "tier_changed")).all()
    assert {e.entity_id for e in entries} == {silver.id, gold.id}


def test_admin_edits_thresholds_with_validation(client, login_as):
    from partners.settings import get_settings

    login_as("admin")
    bad = post_form(client, "/settings", {"signals_to_flag": "0", "signal_special_share": "1.5"})
    assert bad.status_code == 200
    assert "whole number from 1 to 10" in bad.text and "between 0 and 1" in bad.text
    good = post_form(
        client,
        "/settings",
        {
            "signals_to_flag": "2",
            "signal_special_share": "0.4",
            "special_price_min_pro_rata": "0.8",
            "tier_review_min_pro_rata": "0.5",
            "signal_extra_discount": "0.08",
            "signal_lost_on_price_share": "0.5",
            "signal_special_wins_share": "0.7",
            "at_risk_drop_ratio": "0.5",
        },
    )
    assert good.status_code == 302
    assert get_settings()["signals_to_flag"] == 2
    assert str(get_settings()["signal_special_share"]) == "0.4"


def test_chinese_partner_user_sees_its_company_page_in_chinese(client, login_as, make_partner):
    from partners.commitments import record_commitment

    partner = make_partner(tier="gold")
    record_commitment(partner, period=year(), amount="1234.5", signed_on=None, lines=[], user=None)
    user = login_as("partner", partner=partner)
    user.language = "zh"
    db.session.commit()
    page = client.get("/my-company", follow_redirects=True).text
    assert '<html lang="zh"' in page
    assert "统一社会信用代码" in page and "押货承诺" in page and "金牌" in page
    assert "承诺 ¥1,234.50" in page
    assert "Unified social credit code" not in page and "Gold" not in page


def test_tier_review_pages_its_rows(app, client, login_as, make_partner):
    app.config["ITEMS_PER_PAGE"] = 2
    manager = login_as("manager")
    for n in range(3):
        make_partner(tier="gold", owner=manager, name=f"无承诺伙伴{n}有限公司")
    db.session.commit()
    first = client.get("/tier-review").text
    assert "无承诺伙伴0有限公司" in first and "无承诺伙伴2有限公司" not in first
    assert "Page 1 of 2" in first
    second = client.get("/tier-review?page=2").text
    assert "无承诺伙伴2有限公司" in second and "无承诺伙伴0有限公司" not in second
