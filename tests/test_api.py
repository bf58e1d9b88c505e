"""The JSON API: token authentication, roles, partner scoping, deal registration and decisions."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from accounts.models import ApiToken
from app import db
from customers.models import EndCustomer
from deals.models import Conflict, Deal
from tests.conftest import valid_uscc
from tests.test_access import ALL, EXPECTED


@pytest.fixture
def token_for():
    """A plain API token for ``user`` (created through the service, as the CLI does)."""
    from accounts.tokens import create_token

    def make(user, name="test"):
        _token, plain = create_token(user, name)
        db.session.commit()
        return plain

    return make


@pytest.fixture
def api(client, token_for):
    """Call the API as ``user`` (or with an explicit ``token``, or none with token=None)."""

    def call(method, url, user=None, json=None, token="auto", **kwargs):
        headers = kwargs.pop("headers", {})
        if token == "auto":
            token = token_for(user) if user is not None else None
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return client.open(url, method=method, json=json, headers=headers, **kwargs)

    return call


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def partner(make_partner, manager):
    return make_partner(tier="gold", owner=manager)


@pytest.fixture
def partner_user(make_user, partner):
    return make_user("partner", partner=partner)


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def deal_body(sku, **changes):
    body = {
        "customer": {"name": "杭州市西湖区某某科技有限公司", "region": "浙江"},
        "project_name": "数据中心扩容",
        "estimated_value": "1234.5",
        "expected_close_date": in_days(60),
        "lines": [{"sku": sku, "quantity": 3, "unit_price": "8800.00"}],
        "submit": True,
    }
    body.update(changes)
    return body


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- authentication ------------------------------------------------------------------------


def test_me_answers_for_the_token_owner(api, partner_user):
    response = api("GET", "/api/v1/me", partner_user)
    assert response.status_code == 200
    assert response.json == {
        "email": partner_user.email,
        "role": "partner",
        "partner_id": partner_user.partner_id,
    }


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer not-a-real-token", "Basic dXNlcjpwYXNz", "Token abc"],
)
def test_missing_or_bad_token_is_401_with_bearer_challenge(client, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in response.json


def test_revoked_token_is_401(api, make_user, token_for):
    from accounts.tokens import revoke_token

    user = make_user("finance")
    plain = token_for(user)
    assert api("GET", "/api/v1/me", token=plain).status_code == 200
    revoke_token(db.session.scalar(select(ApiToken)))
    db.session.commit()
    response = api("GET", "/api/v1/me", token=plain)
    assert response.status_code == 401 and response.json["error"]


def test_browser_session_does_not_open_the_api(client, login_as, make_product):
    login_as("rep")
    assert client.get("/api/v1/me").status_code == 401
    response = client.post("/api/v1/deals", json=deal_body(make_product().sku))
    assert response.status_code == 401
    assert count(Deal) == 0


def test_api_requests_leave_no_session_cookie(api, make_user):
    response = api("GET", "/api/v1/me", make_user("admin"))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


# --- roles, walked with tokens ----------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_gets_what_the_matrix_says_with_a_token(
    app, api, token_for, make_user, make_partner, make_deal, role
):
    """Every GET route of the API, called with a Bearer token of each role."""
    partner = make_partner()
    plain = token_for(make_user(role, partner=partner if role == "partner" else None))
    args = {"deal_id": make_deal(partner=partner).id, "partner_id": partner.id}
    queries = {"api.match_customers": {"q": "测试客户"}}
    failures = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or "GET" not in rule.methods:
            continue
        with app.test_request_context():
            from flask import url_for

            url = url_for(
                rule.endpoint,
                **{k: args[k] for k in rule.arguments},
                **queries.get(rule.endpoint, {}),
            )
        status = api("GET", url, token=plain).status_code
        allowed = role in EXPECTED[rule.endpoint]
        ok = status in (200, 404) if allowed else status == 403
        if not ok:
            failures.append(f"{role} GET {url} ({rule.endpoint}) -> {status}")
    assert not failures, "\n".join(failures)


def test_role_that_may_not_register_gets_403(api, make_user, make_product):
    for role in ("finance", "manager", "admin"):
        response = api("POST", "/api/v1/deals", make_user(role), json=deal_body(make_product().sku))
        assert response.status_code == 403, role
        assert response.json["error"]
    assert count(Deal) == 0


# --- products and customers ----------------------------------------------------------------


def test_products_lists_active_products_with_money_as_strings(api, partner_user, make_product):
    make_product(sku="SRV-1", list_price="1234.5", line="服务器", name="机架服务器")
    make_product(sku="OLD-1").active = False
    db.session.commit()
    response = api("GET", "/api/v1/products", partner_user)
    assert response.status_code == 200
    assert response.json == {
        "products": [
            {
                "sku": "SRV-1",
                "name": "机架服务器",
                "product_line": "服务器",
                "list_price": "1234.50",
            }
        ]
    }


def test_customer_match_scores_candidates_best_first(api, make_user, make_customer):
    same = make_customer(
        name="深圳市地铁集团有限公司", coverage="direct", owner_rep=make_user("rep")
    )
    near = make_customer(name="深圳市地铁运营有限公司")
    make_customer(name="北京银行股份有限公司")
    response = api("GET", "/api/v1/customers/match?q=地铁集团有限公司", make_user("manager"))
    assert response.status_code == 200
    matches = response.json["matches"]
    assert [m["id"] for m in matches] == [same.id]
    assert matches[0]["score"] == 100.0 and matches[0]["same"] is True
    assert matches[0]["coverage"] == "direct"
    response = api("GET", "/api/v1/customers/match?q=深圳市地铁", make_user("rep"))
    ids = [m["id"] for m in response.json["matches"]]
    assert set(ids) == {same.id, near.id}
    scores = [m["score"] for m in response.json["matches"]]
    assert scores == sorted(scores, reverse=True)


def test_partner_sees_only_id_name_and_score_of_matches(api, make_customer, partner_user):
    customer = make_customer(name="中兴通讯股份有限公司", coverage="channel", segment="strategic")
    response = api("GET", "/api/v1/customers/match?q=中興通訊", partner_user)
    assert response.status_code == 200
    assert response.json["matches"] == [{"id": customer.id, "name": customer.name, "score": 100.0}]


def test_customer_match_needs_a_name(api, partner_user):
    response = api("GET", "/api/v1/customers/match?q=+", partner_user)
    assert response.status_code == 422
    assert "q" in response.json["errors"]


# --- registering deals ------------------------------------------------------------------------


def test_partner_registers_and_submits_a_deal(api, partner_user, make_product):
    product = make_product(sku="SRV-9")
    response = api("POST", "/api/v1/deals", partner_user, json=deal_body("SRV-9"))
    assert response.status_code == 201, response.json
    assert response.json == {
        "id": response.json["id"],
        "status": "submitted",
        "possible_overlap": False,
    }
    assert response.headers["Location"].endswith(f"/api/v1/deals/{response.json['id']}")
    deal = db.session.get(Deal, response.json["id"])
    assert deal.kind == "channel" and deal.partner_id == partner_user.partner_id
    assert deal.stage == "need_identified" and deal.funding_source == "own_budget"
    assert deal.customer.name == "杭州市西湖区某某科技有限公司" and deal.customer.region == "浙江"
    assert [(line.product_id, line.quantity) for line in deal.lines] == [(product.id, 3)]
    assert deal.events[-1].user_id == partner_user.id
    shown = api("GET", f"/api/v1/deals/{deal.id}", partner_user).json
    assert shown["estimated_value"] == "1234.50"
    assert shown["lines"] == [{"sku": "SRV-9", "quantity": 3, "unit_price": "8800.00"}]
    assert shown["customer"] == {"id": deal.customer_id, "name": deal.customer.name}
    assert shown["status"] == "submitted" and shown["possible_overlap"] is False
    assert "conflicts" not in shown and "version" not in shown


def test_partner_can_keep_a_draft(api, partner_user, make_product):
    body = deal_body(
        make_product().sku, submit=False, stage="evaluation", funding_source="external"
    )
    response = api("POST", "/api/v1/deals", partner_user, json=body)
    assert response.status_code == 201
    deal = db.session.get(Deal, response.json["id"])
    assert deal.status == "draft" and deal.stage == "evaluation"
    assert deal.funding_source == "external"


def test_registration_at_a_named_direct_account_reports_possible_overlap(
    api, partner_user, make_customer, make_user, make_product
):
    rep = make_user("rep", name="直销张伟")
    account = make_customer(name="深圳市地铁集团有限公司", coverage="direct", owner_rep=rep)
    body = deal_body(make_product().sku, customer={"name": "地铁集团有限公司(深圳)"})
    response = api("POST", "/api/v1/deals", partner_user, json=body)
    assert response.status_code == 201
    assert response.json["possible_overlap"] is True
    deal = db.session.get(Deal, response.json["id"])
    # The partner may not name the vendor's account: its own record, tied to it by the rules.
    assert deal.customer_id != account.id
    assert deal.customer.created_by_partner_id == partner_user.partner_id
    conflict = db.session.scalar(select(Conflict).where(Conflict.deal_id == deal.id))
    assert (conflict.kind, conflict.account_id) == ("named_account", account.id)
    shown = api("GET", f"/api/v1/deals/{deal.id}", partner_user).json
    assert shown["possible_overlap"] is True
    assert shown["status_label"] == "Possible overlap, under review"
    assert "conflicts" not in shown and "直销张伟" not in str(shown)


def test_known_credit_code_reuses_the_customer(api, partner_user, make_customer, make_product):
    code = valid_uscc(4242)
    known = make_customer(name="华东某研究院", uscc=code)
    body = deal_body(make_product().sku, customer={"name": "完全不同的名字", "uscc": code.lower()})
    response = api("POST", "/api/v1/deals", partner_user, json=body)
    assert response.status_code == 201
    assert db.session.get(Deal, response.json["id"]).customer_id == known.id
    assert count(EndCustomer) == 1


def test_new_customer_with_credit_code_is_recorded(api, partner_user, make_product):
    code = valid_uscc(777)
    body = deal_body(make_product().sku, customer={"name": "新客户有限公司", "uscc": code})
    assert api("POST", "/api/v1/deals", partner_user, json=body).status_code == 201
    customer = db.session.scalar(select(EndCustomer))
    assert customer.uscc == code and customer.name == "新客户有限公司"


def test_rep_creates_a_direct_deal(api, make_user, make_product):
    rep = make_user("rep")
    body = deal_body(make_product().sku)
    del body["submit"]  # a direct deal is open at once
    response = api("POST", "/api/v1/deals", rep, json=body)
    assert response.status_code == 201
    assert response.json["status"] == "approved"
    deal = db.session.get(Deal, response.json["id"])
    assert deal.kind == "direct" and deal.created_by_id == rep.id and deal.partner_id is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"project_name": ""}, "project_name"),
        ({"project_name": 12}, "project_name"),
        ({"estimated_value": "abc"}, "estimated_value"),
        ({"estimated_value": "-5"}, "estimated_value"),
        ({"estimated_value": True}, "estimated_value"),
        ({"expected_close_date": "2030/01/01"}, "expected_close_date"),
        ({"expected_close_date": "2030-02-30"}, "expected_close_date"),
        ({"expected_close_date": "20300101"}, "expected_close_date"),
        ({"expected_close_date": in_days(-1)}, "expected_close_date"),
        ({"expected_close_date": None}, "expected_close_date"),
        ({"stage": "nonsense"}, "stage"),
        ({"funding_source": "lottery"}, "funding_source"),
        ({"customer": {"name": ""}}, "customer.name"),
        ({"customer": {"name": "某公司", "uscc": "91110108000000000X"}}, "customer.uscc"),
        ({"customer": "某公司"}, "customer"),
        ({"lines": []}, "lines"),
        ({"lines": "SRV"}, "lines"),
        ({"lines": [{"sku": "NOPE", "quantity": 1, "unit_price": "1"}]}, "lines[0].sku"),
        ({"lines": [{"quantity": 1, "unit_price": "1"}]}, "lines[0].sku"),
        ({"lines": [{"sku": "SKU-OK", "quantity": 0, "unit_price": "1"}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "SKU-OK", "quantity": "1.5", "unit_price": "1"}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "SKU-OK", "quantity": 1, "unit_price": "-1"}]}, "lines[0].unit_price"),
        ({"lines": ["SKU-OK"]}, "lines[0]"),
        ({"submit": None}, "submit"),
        ({"submit": "yes"}, "submit"),
    ],
)
def test_bad_field_answers_422_on_that_field_and_stores_nothing(
    api, partner_user, make_product, changes, field
):
    make_product(sku="SKU-OK")
    response = api("POST", "/api/v1/deals", partner_user, json=deal_body("SKU-OK", **changes))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert all(isinstance(m, list) and m for m in response.json["errors"].values())
    assert count(Deal) == 0 and count(EndCustomer) == 0


def test_every_bad_field_is_answered_at_once(api, partner_user, make_product):
    make_product(sku="SKU-OK")
    body = deal_body(
        "SKU-OK",
        project_name="",
        expected_close_date="tomorrow",
        lines=[
            {"sku": "SKU-OK", "quantity": 1, "unit_price": "1"},
            {"sku": "SKU-OK", "quantity": -2, "unit_price": "x"},
        ],
    )
    errors = api("POST", "/api/v1/deals", partner_user, json=body).json["errors"]
    assert {"project_name", "expected_close_date", "lines[1].quantity", "lines[1].unit_price"} <= (
        set(errors)
    )
    assert errors["expected_close_date"] == ["Send the date as YYYY-MM-DD."]


def test_inactive_product_is_an_unknown_sku(api, partner_user, make_product):
    product = make_product(sku="GONE-1")
    product.active = False
    db.session.commit()
    response = api("POST", "/api/v1/deals", partner_user, json=deal_body("GONE-1"))
    assert response.status_code == 422
    assert response.json["errors"]["lines[0].sku"] == ["Unknown product SKU 'GONE-1'."]


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", "null", ""])
def test_body_that_is_not_a_json_object_is_400(api, partner_user, payload):
    response = api(
        "POST",
        "/api/v1/deals",
        partner_user,
        data=payload,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json["error"]


# --- reading deals ---------------------------------------------------------------------------


def test_partner_reads_only_its_own_channel_deals(
    api, partner_user, make_deal, make_partner, make_user
):
    own = make_deal(partner=partner_user.partner)
    other = make_deal(partner=make_partner())
    direct = make_deal(kind="direct", created_by=make_user("rep"))
    assert api("GET", f"/api/v1/deals/{own.id}", partner_user).status_code == 200
    for deal_id in (other.id, direct.id, 999999):
        response = api("GET", f"/api/v1/deals/{deal_id}", partner_user)
        assert response.status_code == 404, deal_id
        assert response.is_json and response.json["error"]


def test_deciders_see_conflicts_and_version_other_vendor_roles_do_not(
    api, manager, partner, make_deal, make_customer, make_user
):
    account = make_customer(coverage="direct", owner_rep=make_user("rep"))
    deal = make_deal(partner=partner)
    conflict = Conflict(
        kind="named_account",
        deal_id=deal.id,
        account_id=account.id,
        evidence={"match": {"score": 97.5, "rule": "core_equal"}},
    )
    db.session.add(conflict)
    db.session.commit()
    shown = api("GET", f"/api/v1/deals/{deal.id}", manager).json
    assert shown["version"] == deal.version and shown["possible_overlap"] is True
    assert shown["conflicts"] == [
        {
            "id": conflict.id,
            "kind": "named_account",
            "status": "open",
            "other_deal_id": None,
            "account_id": account.id,
            "score": 97.5,
            "evidence": {"match": {"score": 97.5, "rule": "core_equal"}},
        }
    ]
    for role in ("rep", "finance"):
        shown = api("GET", f"/api/v1/deals/{deal.id}", make_user(role)).json
        assert "conflicts" not in shown and "version" not in shown, role


# --- decisions -------------------------------------------------------------------------------


def test_owning_manager_approves_with_the_version_read(api, manager, partner, make_deal):
    deal = make_deal(partner=partner)
    version = api("GET", f"/api/v1/deals/{deal.id}", manager).json["version"]
    response = api(
        "POST",
        f"/api/v1/deals/{deal.id}/decision",
        manager,
        json={"action": "approve", "note": "ok", "version": version},
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved"
    assert response.json["protection_expires_at"] is not None
    db.session.refresh(deal)
    assert response.json["version"] == deal.version == version + 1  # one decision, one version
    assert deal.status == "approved" and deal.events[-1].user_id == manager.id


def test_reject_and_request_information(api, manager, partner, make_deal):
    asked = make_deal(partner=partner)
    response = api(
        "POST",
        f"/api/v1/deals/{asked.id}/decision",
        manager,
        json={"action": "request_info", "note": "Which budget?", "version": asked.version},
    )
    assert response.status_code == 200 and response.json["status"] == "more_info_requested"
    rejected = make_deal(partner=partner)
    response = api(
        "POST",
        f"/api/v1/deals/{rejected.id}/decision",
        manager,
        json={"action": "reject", "note": "Duplicate", "version": rejected.version},
    )
    assert response.status_code == 200 and response.json["status"] == "rejected"


def test_admin_decides_any_partners_deal(api, make_user, make_deal):
    deal = make_deal()
    response = api(
        "POST",
        f"/api/v1/deals/{deal.id}/decision",
        make_user("admin"),
        json={"action": "reject", "note": "No", "version": deal.version},
    )
    assert response.status_code == 200


def test_who_may_not_decide_gets_403(api, make_user, make_deal, partner, partner_user):
    deal = make_deal(partner=partner)
    body = {"action": "approve", "note": "", "version": deal.version}
    other_manager = make_user("manager")
    for user in (other_manager, partner_user, make_user("rep"), make_user("finance")):
        response = api("POST", f"/api/v1/deals/{deal.id}/decision", user, json=body)
        assert response.status_code == 403, user.role
    db.session.refresh(deal)
    assert deal.status == "submitted"


def test_decision_on_a_missing_deal_is_404(api, manager):
    response = api(
        "POST",
        "/api/v1/deals/999999/decision",
        manager,
        json={"action": "approve", "version": 1},
    )
    assert response.status_code == 404 and response.is_json


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "reject", "note": "  ", "version": 1}, "note"),
        ({"action": "request_info", "version": 1}, "note"),
        ({"action": "ignore", "version": 1}, "action"),
        ({"action": "approve"}, "version"),
        ({"action": "approve", "version": "1"}, "version"),
        ({"action": "approve", "note": 5, "version": 1}, "note"),
    ],
)
def test_bad_decision_is_422(api, manager, partner, make_deal, body, field):
    deal = make_deal(partner=partner)
    response = api("POST", f"/api/v1/deals/{deal.id}/decision", manager, json=body)
    assert response.status_code == 422
    assert field in response.json["errors"]
    db.session.refresh(deal)
    assert deal.status == "submitted"


def test_approving_with_an_open_conflict_is_422(
    api, manager, partner, make_deal, make_customer, make_user
):
    deal = make_deal(partner=partner)
    account = make_customer(coverage="direct", owner_rep=make_user("rep"))
    db.session.add(Conflict(kind="named_account", deal_id=deal.id, account_id=account.id))
    db.session.commit()
    response = api(
        "POST",
        f"/api/v1/deals/{deal.id}/decision",
        manager,
        json={"action": "approve", "version": deal.version},
    )
    assert response.status_code == 422
    assert "Resolve the open conflict" in response.json["error"]
    db.session.refresh(deal)
    assert deal.status == "submitted"


def test_second_decision_with_the_same_version_is_409(api, manager, partner, make_deal, token_for):
    deal = make_deal(partner=partner)
    token = token_for(manager)
    version = deal.version
    first = api(
        "POST",
        f"/api/v1/deals/{deal.id}/decision",
        token=token,
        json={"action": "approve", "version": version},
    )
    assert first.status_code == 200
    second = api(
        "POST",
        f"/api/v1/deals/{deal.id}/decision",
        token=token,
        json={"action": "reject", "note": "Too late", "version": version},
    )
    assert second.status_code == 409
    assert second.json["error"]
    assert second.json["deal"]["status"] == "approved"
    db.session.refresh(deal)
    assert deal.status == "approved"
    assert second.json["deal"]["version"] == deal.version > version


def test_concurrent_change_found_on_write_is_409(api, manager, partner, make_deal, monkeypatch):
    """Another decision lands between reading the deal and writing it (StaleDataError)."""
    from api import views as api_views
    from deals import workflow

    deal = make_deal(partner=partner)

    def approve_after_someone_else(deal, user, version, note=""):
        # Behind the ORM's back, as another process would: the loaded deal keeps its version.
        db.session.execute(
            update(Deal)
            .where(Deal.id == deal.id)
            .values(version=Deal.version + 1)
            .execution_options(synchronize_session=False)
        )
        return workflow.approve_deal(deal, user, version, note)

    monkeypatch.setattr(api_views, "approve_deal", approve_after_someone_else)
    response = api(
        "POST",
        f"/api/v1/deals/{deal.id}/decision",
        manager,
        json={"action": "approve", "version": deal.version},
    )
    assert response.status_code == 409
    assert response.json["deal"]["status"] == "submitted"


def test_unknown_api_address_and_wrong_method_answer_json(client):
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.is_json
    assert missing.get_json() == {"error": "Not found."}
    wrong = client.delete("/api/v1/me")
    assert wrong.status_code == 405 and wrong.is_json
    assert "GET" in wrong.headers["Allow"]
    page = client.get("/no-such-page")
    assert page.status_code == 404 and not page.is_json
    assert client.delete("/login").status_code == 405
