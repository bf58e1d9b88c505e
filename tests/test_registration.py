"""Deal entry pages: a partner's registration form and list, the customer type-ahead, answering
a request for information, and a rep's direct deals."""

from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from accounts.models import utcnow
from app import db
from customers.models import EndCustomer
from deals.models import Conflict, Deal
from tests.conftest import csrf_from, post_form, valid_uscc

IN_TWO_MONTHS = (date.today() + timedelta(days=60)).isoformat()


def registration_form(product, **overrides):
    """A valid registration for a new customer typed into the search box (no pick)."""
    data = {
        "customer_query": "苏州星河数据有限公司",
        "customer_id": "",
        "new_customer-name": "",
        "new_customer-uscc": "",
        "new_customer-region": "江苏",
        "new_customer-industry": "制造",
        "project_name": "星河数据中心扩容",
        "estimated_value": "1,250,000",
        "expected_close_date": IN_TWO_MONTHS,
        "stage": "evaluation",
        "funding_source": "own_budget",
        "competitors": "友商A",
        "lines-0-product_id": str(product.id),
        "lines-0-quantity": "4",
        "lines-0-unit_price": "8800.00",
        "lines-1-product_id": "",
        "lines-1-quantity": "",
        "lines-1-unit_price": "",
        "lines-2-product_id": "",
        "lines-2-quantity": "",
        "lines-2-unit_price": "",
        "contacts-0-name": "王主任",
        "contacts-0-role": "decision_maker",
        "contacts-0-title": "信息中心主任",
        "contacts-1-name": "",
        "contacts-1-role": "",
        "contacts-1-title": "",
        "action": "submit",
    }
    data.update(overrides)
    return data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def flashes(client) -> list[str]:
    """The messages flashed since the last call (the redirects are not followed)."""
    with client.session_transaction() as session:
        return [message for _, message in session.pop("_flashes", [])]


def detail_url(deal) -> str:
    return f"/deals/{deal.id}"


@pytest.fixture
def partner_user(login_as, make_partner):
    return login_as("partner", partner=make_partner(name="自家伙伴有限公司"))


@pytest.fixture
def own_deal(partner_user, make_deal):
    """A deal of the logged-in partner user's company, created by that user."""

    def make(**kwargs):
        return make_deal(partner=partner_user.partner, created_by=partner_user, **kwargs)

    return make


def test_partner_submits_registration_with_lines_and_contacts(client, partner_user, make_product):
    product = make_product()
    response = post_form(client, "/registrations/new", registration_form(product))
    assert response.status_code == 302, response.text
    deal = db.session.scalar(select(Deal))
    assert response.headers["Location"] == detail_url(deal)
    assert flashes(client) == ["Submitted."]
    assert deal.status == "submitted" and deal.kind == "channel"
    assert deal.partner_id == partner_user.partner_id and deal.created_by_id == partner_user.id
    assert deal.sla_due_at is not None and deal.submitted_at is not None
    assert str(deal.estimated_value) == "1250000.00"
    assert [
        (line.product_id, line.quantity, str(line.requested_unit_price)) for line in deal.lines
    ] == [(product.id, 4, "8800.00")]
    assert [(c.name, c.role, c.title) for c in deal.contacts] == [
        ("王主任", "decision_maker", "信息中心主任")
    ]
    assert deal.customer.name == "苏州星河数据有限公司" and deal.customer.region == "江苏"


def test_save_draft_stores_a_draft_without_sla(client, partner_user, make_product):
    response = post_form(
        client, "/registrations/new", registration_form(make_product(), action="draft")
    )
    assert response.status_code == 302
    deal = db.session.scalar(select(Deal))
    assert deal.status == "draft" and deal.sla_due_at is None
    assert flashes(client) == ["Draft saved."]


def test_form_page_offers_active_products_and_two_buttons(client, partner_user, make_product):
    make_product(sku="SRV-100", name="机架服务器", list_price="12345.00")
    retired = make_product(sku="OLD-1")
    retired.active = False
    db.session.commit()
    page = client.get("/registrations/new").text
    assert "SRV-100 · 机架服务器 · ¥12,345.00" in page
    assert "OLD-1" not in page
    assert 'value="draft"' in page and 'value="submit"' in page
    assert 'name="lines-2-quantity"' in page  # three rows without script
    assert "deal_form.js" in page


BAD_INPUTS = [
    ({"project_name": "  "}, "project_name", "Enter the project name."),
    ({"estimated_value": "0"}, "estimated_value", "must be a positive amount"),
    ({"estimated_value": "-100"}, "estimated_value", "must be a positive amount"),
    ({"estimated_value": "lots"}, "estimated_value", "must be a positive amount"),
    ({"expected_close_date": "2020-01-01"}, "expected_close_date", "cannot be in the past"),
    (
        {"expected_close_date": (date.today() + timedelta(days=600)).isoformat()},
        "expected_close_date",
        "within 18 months",
    ),
    ({"expected_close_date": "2026-13-45"}, "expected_close_date", "Enter a valid date."),
    ({"stage": "whatever"}, "stage", "Choose the stage"),
    ({"lines-0-product_id": "999999"}, "lines-0-product_id", "Unknown product"),
    ({"lines-0-quantity": "1.5"}, "lines-0-quantity", "positive whole number"),
    ({"lines-0-quantity": "0"}, "lines-0-quantity", "positive whole number"),
    ({"lines-0-unit_price": "-1"}, "lines-0-unit_price", "The price must be a positive amount."),
    ({"lines-0-unit_price": "abc"}, "lines-0-unit_price", "The price must be a positive amount."),
    ({"new_customer-uscc": "91110108MA01ABCDE0"}, "new_customer-uscc", "not"),
    ({"new_customer-uscc": "9111"}, "new_customer-uscc", "has 18 characters"),
    ({"customer_query": ""}, "customer_query", "Choose an existing customer or enter a new one"),
    ({"contacts-0-role": ""}, "contacts-0-role", "Choose the contact's role."),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUTS)
def test_bad_input_is_answered_by_field_keeping_input_and_storing_nothing(
    client, partner_user, make_product, overrides, field, message
):
    product = make_product()
    data = registration_form(product, **overrides)
    if field == "customer_query":
        data["new_customer-region"] = data["new_customer-industry"] = ""
    deals, customers = count(Deal), count(EndCustomer)
    response = post_form(client, "/registrations/new", data)
    assert response.status_code == 200
    assert f'id="{field}-error"' in response.text
    error_line = response.text.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert str(escape(message)) in error_line
    # What was typed is still there, including the line and the contact.
    assert 'value="王主任"' in response.text
    assert f'value="{data["lines-0-quantity"]}"' in response.text
    if field != "lines-0-product_id":
        assert f'<option selected value="{product.id}">' in response.text
    assert "友商A" in response.text
    assert (count(Deal), count(EndCustomer)) == (deals, customers)


def test_partner_in_chinese_gets_the_form_and_its_field_errors_in_chinese(
    client, partner_user, make_product
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9,en;q=0.5"
    product = make_product()
    page = client.get("/registrations/new").text
    assert '<html lang="zh"' in page
    assert "<h1>新建报备</h1>" in page
    assert '<label for="project_name">项目名称</label>' in page
    assert '<label for="lines-0-quantity">数量</label>' in page
    assert ">保存草稿</button>" in page and ">提交</button>" in page
    assert "Project name" not in page and "Save draft" not in page

    data = registration_form(product, estimated_value="很多", project_name="星河二期")
    response = post_form(client, "/registrations/new", data)
    assert response.status_code == 200
    error = response.text.split('id="estimated_value-error"', 1)[1].split("</p>", 1)[0]
    assert "预计金额必须是正数。" in error
    # What was typed is kept, and nothing is stored.
    assert 'value="很多"' in response.text and 'value="星河二期"' in response.text
    assert 'value="王主任"' in response.text
    assert count(Deal) == 0


def test_a_bad_line_after_a_blank_row_is_reported_on_its_own_row(
    client, partner_user, make_product
):
    product = make_product()
    data = registration_form(product)
    data.update(
        {
            "lines-0-product_id": "",
            "lines-0-quantity": "",
            "lines-0-unit_price": "",
            "lines-1-product_id": str(product.id),
            "lines-1-quantity": "2",
            "lines-1-unit_price": "9000",
            "lines-2-product_id": str(product.id),
            "lines-2-quantity": "-3",
            "lines-2-unit_price": "9000",
            # A fourth row added by the script is kept when the page comes back.
            "lines-3-product_id": str(product.id),
            "lines-3-quantity": "7",
            "lines-3-unit_price": "7777",
        }
    )
    response = post_form(client, "/registrations/new", data)
    assert response.status_code == 200
    assert 'id="lines-2-quantity-error"' in response.text
    assert 'id="lines-1-quantity-error"' not in response.text
    assert 'name="lines-3-unit_price" type="text" value="7777"' in response.text
    assert count(Deal) == 0


def test_no_product_line_is_answered_above_the_lines(client, partner_user, make_product):
    data = registration_form(
        make_product(),
        **{"lines-0-product_id": "", "lines-0-quantity": "", "lines-0-unit_price": ""},
    )
    response = post_form(client, "/registrations/new", data)
    assert response.status_code == 200
    assert "Add at least one product line." in response.text
    assert count(Deal) == 0


def test_new_customer_is_created_with_its_credit_code(client, partner_user, make_product):
    code = valid_uscc(777001)
    data = registration_form(
        make_product(),
        customer_query="",
        **{"new_customer-name": "无锡蓝海医疗器械有限公司", "new_customer-uscc": code.lower()},
    )
    assert post_form(client, "/registrations/new", data).status_code == 302
    customer = db.session.scalar(select(EndCustomer))
    assert (customer.name, customer.uscc, customer.industry) == (
        "无锡蓝海医疗器械有限公司",
        code,
        "制造",
    )
    assert db.session.scalar(select(Deal)).customer_id == customer.id


def test_new_customer_with_a_known_credit_code_reuses_that_customer(
    client, partner_user, make_product, make_customer
):
    code = valid_uscc(777002)
    existing = make_customer(name="常州已知客户有限公司", uscc=code)
    data = registration_form(make_product(), **{"new_customer-uscc": code})
    assert post_form(client, "/registrations/new", data).status_code == 302
    assert count(EndCustomer) == 1
    assert db.session.scalar(select(Deal)).customer_id == existing.id


def test_picked_customer_is_used_and_shown_again_after_an_error(
    client, partner_user, make_product, make_customer
):
    customer = make_customer(name="南京已选客户有限公司", region="江苏")
    product = make_product()
    data = registration_form(product, customer_query="", customer_id=str(customer.id))
    bad = dict(data, project_name="")
    response = post_form(client, "/registrations/new", bad)
    assert response.status_code == 200
    assert 'value="南京已选客户有限公司"' in response.text
    assert "Existing customer selected: 南京已选客户有限公司" in response.text
    assert post_form(client, "/registrations/new", data).status_code == 302
    assert db.session.scalar(select(Deal)).customer_id == customer.id
    assert count(EndCustomer) == 1


def test_submission_that_overlaps_says_so_without_naming_anyone(
    client, partner_user, make_product, make_customer, make_user
):
    rep = make_user("rep", name="直销代表张三")
    make_customer(name="国家电网某省公司", coverage="direct", owner_rep=rep)
    # The partner cannot pick the named account: it types the customer, the rules match it.
    data = registration_form(make_product(), customer_query="国家电网某省公司")
    response = post_form(client, "/registrations/new", data)
    assert response.status_code == 302
    assert flashes(client) == ["Submitted: possible overlap, under review."]
    assert count(Conflict) == 1


def test_partner_edits_own_draft_and_submits_it(client, partner_user, own_deal, make_product):
    product = make_product()
    deal = own_deal(status="draft", product=product, project_name="草稿项目")
    page = client.get(f"/registrations/{deal.id}/edit")
    assert page.status_code == 200
    assert 'value="草稿项目"' in page.text and ">Submit<" in page.text
    data = registration_form(
        product, customer_query="", customer_id=str(deal.customer_id), project_name="改名项目"
    )
    response = post_form(client, f"/registrations/{deal.id}/edit", data)
    assert response.status_code == 302
    db.session.refresh(deal)
    assert (deal.status, deal.project_name) == ("submitted", "改名项目")
    assert count(Deal) == 1
    # Once submitted it can no longer be edited.
    response = client.get(f"/registrations/{deal.id}/edit")
    assert response.status_code == 302 and response.headers["Location"] == detail_url(deal)


def test_more_info_deal_is_edited_and_resubmitted(client, partner_user, own_deal, make_product):
    product = make_product()
    deal = own_deal(status="more_info_requested", product=product)
    assert ">Resubmit<" in client.get(f"/registrations/{deal.id}/edit").text
    data = registration_form(product, customer_query="", customer_id=str(deal.customer_id))
    assert post_form(client, f"/registrations/{deal.id}/edit", data).status_code == 302
    db.session.refresh(deal)
    assert deal.status == "submitted" and deal.events[-1].action == "information_provided"


def test_partner_cannot_open_other_partners_registration(
    client, partner_user, make_deal, make_partner
):
    other = make_deal(partner=make_partner(), status="draft")
    assert client.get(f"/registrations/{other.id}/edit").status_code == 404
    page = client.get("/registrations/new")
    token = csrf_from(page.text)
    response = client.post(
        f"/registrations/{other.id}/answer", data={"csrf_token": token, "answer": "x"}
    )
    assert response.status_code == 404


def test_partner_list_shows_only_own_registrations(
    client, partner_user, own_deal, make_deal, make_partner, make_customer
):
    mine = own_deal(
        project_name="我方项目",
        customer=make_customer(name="我方客户有限公司"),
    )
    make_deal(
        partner=make_partner(name="别家伙伴有限公司"),
        project_name="别家项目",
        customer=make_customer(name="别家客户有限公司"),
    )
    page = client.get("/registrations").text
    assert "我方项目" in page and "我方客户有限公司" in page and "¥100,000.00" in page
    assert f'href="{detail_url(mine)}"' in page
    assert "别家项目" not in page and "别家客户" not in page and "别家伙伴" not in page
    assert "1 in all" in page
    assert "我方项目" in client.get("/registrations?q=我方客户").text
    assert "我方项目" not in client.get("/registrations?q=别家").text


def test_list_shows_possible_overlap_and_never_the_other_party(
    client, partner_user, own_deal, make_deal, make_partner, make_customer
):
    customer = make_customer(name="重叠客户有限公司")
    mine = own_deal(customer=customer, project_name="我方重叠项目")
    theirs = make_deal(
        partner=make_partner(name="竞争伙伴有限公司"), customer=customer, project_name="对方项目"
    )
    db.session.add(
        Conflict(kind="partner_overlap", deal_id=mine.id, other_deal_id=theirs.id, evidence={})
    )
    db.session.commit()
    page = client.get("/registrations").text
    assert "Possible overlap, under review" in page
    assert "Submitted" not in page.split("<tbody>", 1)[1]
    assert "竞争伙伴" not in page and "对方项目" not in page


def test_status_filter_reads_approved_past_protection_as_expired(client, partner_user, own_deal):
    own_deal(status="approved", protection_days=30, project_name="保护中")
    own_deal(status="approved", protection_days=-1, project_name="已过期")
    own_deal(status="draft", project_name="草稿")
    approved = client.get("/registrations?status=approved").text
    assert "保护中" in approved and "已过期" not in approved and "草稿" not in approved
    expired = client.get("/registrations?status=expired").text
    assert "已过期" in expired and "保护中" not in expired
    assert "Expired" in expired
    assert "草稿" in client.get("/registrations?status=draft").text


def test_registration_list_paginates(client, partner_user, own_deal, app, make_customer):
    app.config["ITEMS_PER_PAGE"] = 2
    customer = make_customer()
    for _ in range(5):
        own_deal(customer=customer)
    assert "Page 1 of 3" in client.get("/registrations").text
    assert "Page 3 of 3" in client.get("/registrations?page=3").text


def test_customer_search_hides_coverage_from_partners(
    client, partner_user, make_customer, make_user
):
    make_customer(name="深圳市腾达通信有限公司", coverage="channel", segment="strategic")
    make_customer(name="无关客户有限公司")
    found = client.get("/registrations/customers.json?q=腾达").get_json()["customers"]
    assert [c["name"] for c in found] == ["深圳市腾达通信有限公司"]
    assert set(found[0]) == {"id", "name", "region", "industry"}
    assert client.get("/registrations/customers.json?q=腾").get_json() == {"customers": []}


def test_customer_search_matches_normalised_name_and_code_for_vendor_staff(
    client, login_as, make_customer
):
    code = valid_uscc(777003)
    make_customer(name="深圳市腾达通信有限公司", uscc=code, segment="strategic")
    login_as("rep")
    # The normalised key ignores the region and legal form typed differently.
    by_key = client.get("/registrations/customers.json?q=腾达通信股份").get_json()["customers"]
    assert [c["name"] for c in by_key] == ["深圳市腾达通信有限公司"]
    assert by_key[0]["segment"] == "Strategic" and by_key[0]["coverage"] == "Channel"
    by_code = client.get(f"/registrations/customers.json?q={code}").get_json()["customers"]
    assert len(by_code) == 1


def test_answer_puts_a_more_info_deal_back_in_the_queue(client, partner_user, own_deal):
    deal = own_deal(status="more_info_requested")
    page = client.get("/registrations/new")
    token = csrf_from(page.text)
    blank = client.post(
        f"/registrations/{deal.id}/answer", data={"csrf_token": token, "answer": " "}
    )
    assert blank.headers["Location"] == detail_url(deal)
    assert flashes(client) == ["Write your answer."]
    db.session.refresh(deal)
    assert deal.status == "more_info_requested"

    response = client.post(
        f"/registrations/{deal.id}/answer",
        data={"csrf_token": token, "answer": "预算已批复，附批文编号。"},
    )
    assert response.status_code == 302 and response.headers["Location"] == detail_url(deal)
    assert flashes(client) == ["Your answer was sent; the deal is back in the approval queue."]
    db.session.refresh(deal)
    assert deal.status == "submitted" and deal.sla_due_at > utcnow()
    assert any(e.note == "预算已批复，附批文编号。" for e in deal.events)


def test_rep_creates_direct_deal_and_sees_it_listed(client, login_as, make_product, make_customer):
    rep = login_as("rep")
    customer = make_customer(name="杭州直销客户有限公司")
    data = registration_form(make_product(), customer_query="", customer_id=str(customer.id))
    data["action"] = "create"
    page = client.get("/direct-deals/new").text
    assert "Create direct deal" in page and 'value="draft"' not in page
    response = post_form(client, "/direct-deals/new", data)
    assert response.status_code == 302
    deal = db.session.scalar(select(Deal))
    assert response.headers["Location"] == detail_url(deal)
    assert (deal.kind, deal.status, deal.created_by_id, deal.partner_id) == (
        "direct",
        "approved",
        rep.id,
        None,
    )
    assert flashes(client) == ["Direct deal created."]
    listing = client.get("/direct-deals").text
    assert "星河数据中心扩容" in listing and "杭州直销客户有限公司" in listing


def test_direct_deal_over_a_channel_registration_points_to_conflicts(
    client, login_as, make_product, make_customer, make_deal
):
    customer = make_customer(name="宁波港务集团有限公司")
    product = make_product()
    make_deal(customer=customer, product=product, status="submitted")
    login_as("rep")
    data = registration_form(product, customer_query="", customer_id=str(customer.id))
    data["action"] = "create"
    assert post_form(client, "/direct-deals/new", data).status_code == 302
    assert flashes(client) == [
        "Direct deal created. It overlaps with a channel registration; see Conflicts."
    ]


def test_direct_deal_bad_input_stores_nothing(client, login_as, make_product):
    login_as("rep")
    data = registration_form(make_product(), **{"lines-0-quantity": "1.5"})
    response = post_form(client, "/direct-deals/new", data)
    assert response.status_code == 200
    assert 'id="lines-0-quantity-error"' in response.text
    assert (count(Deal), count(EndCustomer)) == (0, 0)


def test_rep_lists_only_own_direct_deals(client, login_as, make_deal, make_user):
    rep = login_as("rep")
    make_deal(kind="direct", created_by=rep, status="approved", project_name="我的直销")
    make_deal(
        kind="direct", created_by=make_user("rep"), status="approved", project_name="同事直销"
    )
    page = client.get("/direct-deals").text
    assert "我的直销" in page and "同事直销" not in page


def test_each_form_is_for_its_role_only(client, login_as):
    login_as("rep")
    assert client.get("/registrations/new").status_code == 403
    assert client.get("/registrations/customers.json?q=ab").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/direct-deals").text)})
    login_as("partner")
    assert client.get("/direct-deals/new").status_code == 403
