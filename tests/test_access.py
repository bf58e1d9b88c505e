"""Every registered route against the intended access matrix, for every role and anonymous.

A new route without an entry here (or without a declared decision) fails these tests.
"""

import pytest

ALL = {"admin", "manager", "rep", "finance", "partner"}
VENDOR = {"admin", "manager", "rep", "finance"}
PUBLIC = "public"

EXPECTED = {
    "index": PUBLIC,
    "accounts.login": PUBLIC,
    "accounts.logout": PUBLIC,
    "accounts.list_users": {"admin"},
    "accounts.create_user_view": {"admin"},
    "accounts.edit_user": {"admin"},
    "accounts.audit_log": {"admin"},
    "partners.list_partners": VENDOR,
    "partners.partner_detail": ALL,
    "partners.my_partner": {"partner"},
    "partners.create_partner_view": {"admin", "manager"},
    "partners.edit_partner": {"admin", "manager"},
    "partners.list_tier_policies": {"admin", "manager", "finance"},
    "partners.edit_tier_policy": {"admin"},
    "partners.new_commitment": {"admin", "manager"},
    "partners.new_stock_order": {"admin", "manager"},
    "partners.list_stock_orders": ALL,
    "partners.tier_review": {"admin", "manager"},
    "partners.apply_tier_changes": {"admin", "manager"},
    "partners.edit_settings": {"admin"},
    "pricing.list_products": VENDOR,
    "pricing.create_product": {"admin"},
    "pricing.edit_product": {"admin"},
    # Reps do not read partners' tier discounts or tier prices (list prices: /products).
    "pricing.price_list": ALL - {"rep"},
    "pricing.price_list_xlsx": ALL - {"rep"},
    "customers.list_customers": VENDOR,
    "customers.customer_detail": VENDOR,
    "customers.create_customer": {"admin", "manager", "rep"},
    "customers.edit_customer": {"admin", "manager", "rep"},
    "deals.list_deals": VENDOR,
    "deals.deal_detail": ALL,
    "deals.approval_queue": {"admin", "manager"},
    "deals.decide": {"admin", "manager"},
    "deals.list_conflicts": {"admin", "manager", "rep", "finance"},
    "deals.conflict_detail": {"admin", "manager", "rep", "finance"},
    "deals.resolve_conflict": {"admin", "manager"},
    "deals.comment_conflict": {"admin", "manager", "rep"},
    "deals.decide_special_price": {"admin", "manager"},
    "deals.decide_suggestion": {"admin", "manager"},
    "deals.close_deal": {"admin", "manager", "partner"},
    "registrations.list_registrations": {"partner"},
    "registrations.new_registration": {"partner"},
    "registrations.edit_registration": {"partner"},
    "registrations.answer_request": {"partner"},
    "registrations.customer_search": {"admin", "manager", "rep", "partner"},
    "registrations.new_direct_deal": {"rep"},
    "registrations.list_direct_deals": {"rep"},
    "accounts.profile": ALL,
    "accounts.set_language": ALL,
    "accounts.create_token": ALL,
    "accounts.revoke_token": ALL,
    # The JSON API answers Bearer tokens only (tests/test_api.py walks it with tokens).
    "api.me": ALL,
    "api.products": ALL,
    "api.match_customers": ALL,
    "api.get_deal": ALL,
    "api.create_deal": {"partner", "rep"},
    "api.decide_deal": {"admin", "manager"},
    "api.get_partner": {"admin", "manager", "finance", "partner"},
    "api.partner_prices": ALL - {"rep"},
    "api.create_commitment": {"admin", "manager"},
    "api.create_stock_order": {"admin", "manager"},
    "finance.statements": {"admin", "manager", "finance", "partner"},
    "finance.partner_statement": {"admin", "manager", "finance", "partner"},
    "finance.channel_statement": {"admin", "manager", "finance"},
    "finance.statement_job": {"admin", "manager", "finance", "partner"},
    "finance.statement_job_status": {"admin", "manager", "finance", "partner"},
    "finance.download_statement_job": {"admin", "manager", "finance", "partner"},
    "finance.imports": {"admin", "manager", "finance"},
    "finance.import_template": {"admin", "manager", "finance"},
    "finance.upload_import": {"admin", "manager", "finance"},
    "api_statements.partner_statement": {"admin", "manager", "finance", "partner"},
    "api_statements.channel_statement": {"admin", "manager", "finance"},
    "notifications.list_notifications": ALL,
    "notifications.mark_notification_read": ALL,
    "notifications.open_notification": ALL,
    "notifications.mark_all_notifications_read": ALL,
}


def is_token_only(endpoint: str) -> bool:
    """API endpoints ignore the browser session: without a Bearer token they answer 401."""
    return endpoint.split(".", 1)[0] in ("api", "api_statements")


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule


def test_every_route_declares_its_access_and_matches_the_matrix(app):
    seen = set()
    for rule in routes(app):
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "allowed_roles", None)
        assert declared is not None, f"{rule.endpoint} has no access decision"
        assert rule.endpoint in EXPECTED, f"{rule.endpoint} is missing from the access matrix"
        expected = EXPECTED[rule.endpoint]
        assert declared == (expected if expected == PUBLIC else frozenset(expected)), rule.endpoint
        seen.add(rule.endpoint)
    assert seen == set(EXPECTED), f"matrix lists routes that do not exist: {set(EXPECTED) - seen}"


@pytest.fixture
def sample_args(make_partner, make_product, make_customer, make_user, make_deal):
    from accounts.tokens import create_token
    from app import db
    from deals.models import Conflict, DealSuggestion
    from finance.jobs import create_job
    from finance.statements import StatementScope, statement_period

    partner = make_partner()
    account = make_customer(coverage="direct", owner_rep=make_user("rep"))
    finance = make_user("finance")
    token, _plain = create_token(finance, "walker")
    # Submitted: a draft is the partner's alone (vendor roles get 404, see the last section).
    deal = make_deal(partner=partner, status="submitted")
    conflict = Conflict(kind="named_account", deal_id=deal.id, account_id=account.id, evidence={})
    db.session.add(conflict)
    suggestion = DealSuggestion(
        deal_id=deal.id, customer_id=account.id, rule="short_name", score=80, evidence={}
    )
    db.session.add(suggestion)
    job = create_job(finance, StatementScope(partner_id=partner.id), statement_period("2026"), "en")
    db.session.commit()

    def claim(user):
        """Make the logged-in manager own the partner and the rep own the named account."""
        if user.role == "manager":
            partner.owner_id = user.id
        if user.role == "rep":
            account.owner_rep_id = user.id
        db.session.commit()

    return {
        "partner": partner,
        "claim": claim,
        "args": {
            "deal_id": deal.id,
            "line_id": deal.lines[0].id,
            "conflict_id": conflict.id,
            "suggestion_id": suggestion.id,
            "action": "dismiss",
            "partner_id": partner.id,
            "product_id": make_product().id,
            "customer_id": make_customer().id,
            "user_id": finance.id,
            "token_id": token.id,
            "tier": "gold",
            "job_id": job.id,
            "kind": "stock_orders",
            "notification_id": 1,
        },
    }


def _url(app, rule, args):
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{k: args[k] for k in rule.arguments})


@pytest.mark.parametrize("role", sorted(ALL) + ["anonymous"])
def test_each_role_gets_what_the_matrix_says(app, client, login_as, sample_args, role):
    if role != "anonymous":
        user = login_as(role, partner=sample_args["partner"] if role == "partner" else None)
        sample_args["claim"](user)
    failures = []
    for rule in routes(app):
        if "GET" not in rule.methods:
            continue
        expected = EXPECTED[rule.endpoint]
        url = _url(app, rule, sample_args["args"])
        response = client.get(url)
        status = response.status_code
        if is_token_only(rule.endpoint):
            ok = status == 401 and response.is_json
        elif expected == PUBLIC:
            ok = status in (200, 302)
        elif role == "anonymous":
            ok = status == 302
        elif role in expected:
            ok = status in (200, 302)
        else:
            ok = status in (403, 404)
        if not ok:
            failures.append(f"{role} GET {url} ({rule.endpoint}) -> {status}")
    assert not failures, "\n".join(failures)


def test_post_only_routes_refuse_requests_without_csrf(client, login_as, app, sample_args):
    login_as("admin")
    for rule in routes(app):
        if "POST" in rule.methods and "GET" not in rule.methods:
            url = _url(app, rule, sample_args["args"])
            # CSRF-exempt API routes must not accept the session instead: 401 without a token.
            expected = 401 if is_token_only(rule.endpoint) else 400
            assert client.post(url).status_code == expected, rule.endpoint


# --- confidentiality between partners and between roles ---------------------------------------
# Each row: a route (page or API) that must not show one party what belongs to another. A new
# route or field that leaks one of these fails here.


@pytest.fixture
def api_call(client):
    """Call the API as ``user`` with a fresh Bearer token; returns the response."""
    from accounts.tokens import create_token
    from app import db

    def call(method, url, user, json=None):
        _token, plain = create_token(user, "confidentiality")
        db.session.commit()
        return client.open(
            url, method=method, json=json, headers={"Authorization": f"Bearer {plain}"}
        )

    return call


@pytest.fixture
def api_get(api_call):
    return lambda url, user: api_call("GET", url, user)


@pytest.fixture
def customers_of_two_partners(make_partner, make_customer, make_user, make_deal):
    """Customers named 机密测试… of every origin, as partner A's user should (not) find them."""
    partner_a, partner_b = make_partner(), make_partner()
    rep = make_user("rep")
    visible = {
        "vendor_channel": make_customer(name="机密测试渠道客户有限公司"),
        "a_created": make_customer(name="机密测试甲方客户有限公司", created_by_partner=partner_a),
        "b_created_a_registered": make_customer(
            name="机密测试共同客户有限公司", created_by_partner=partner_b
        ),
    }
    hidden = {
        "b_draft_prospect": make_customer(
            name="机密测试乙方新客户有限公司", region="浙江", created_by_partner=partner_b
        ),
        "named_account": make_customer(
            name="机密测试直销大客户有限公司", coverage="direct", owner_rep=rep
        ),
        "named_account_a_registered": make_customer(
            name="机密测试直销另一客户有限公司", coverage="direct", owner_rep=rep
        ),
    }
    make_deal(partner=partner_b, customer=hidden["b_draft_prospect"], status="draft")
    make_deal(partner=partner_a, customer=visible["b_created_a_registered"], status="rejected")
    make_deal(partner=partner_a, customer=hidden["named_account_a_registered"], status="draft")
    return {"partner_a": partner_a, "visible": visible, "hidden": hidden}


def test_partner_typeahead_shows_only_own_and_vendor_channel_customers(
    client, login_as, customers_of_two_partners
):
    login_as("partner", partner=customers_of_two_partners["partner_a"])
    found = client.get("/registrations/customers.json?q=机密测试").get_json()["customers"]
    visible = customers_of_two_partners["visible"].values()
    assert sorted(c["id"] for c in found) == sorted(c.id for c in visible)
    for customer in customers_of_two_partners["hidden"].values():
        assert customer.name not in str(found)


def test_partner_api_match_shows_only_own_and_vendor_channel_customers(
    api_get, make_user, customers_of_two_partners
):
    user = make_user("partner", partner=customers_of_two_partners["partner_a"])
    response = api_get("/api/v1/customers/match?q=机密测试", user)
    assert response.status_code == 200
    visible = customers_of_two_partners["visible"].values()
    assert sorted(m["id"] for m in response.json["matches"]) == sorted(c.id for c in visible)
    for customer in customers_of_two_partners["hidden"].values():
        # Not even by the exact name, which the matching rules would score as the same.
        exact = api_get(f"/api/v1/customers/match?q={customer.name}", user).json["matches"]
        assert customer.id not in [m["id"] for m in exact]


def test_vendor_roles_still_find_every_customer(
    client, api_get, login_as, make_user, customers_of_two_partners
):
    everyone = {
        c.id for group in ("visible", "hidden") for c in customers_of_two_partners[group].values()
    }
    login_as("manager")
    found = client.get("/registrations/customers.json?q=机密测试").get_json()["customers"]
    assert {c["id"] for c in found} == everyone
    matches = api_get("/api/v1/customers/match?q=机密测试", make_user("rep")).json["matches"]
    assert {m["id"] for m in matches} == everyone


@pytest.mark.parametrize("which", ["b_draft_prospect", "named_account", "no_such_customer"])
def test_partner_cannot_register_against_a_customer_it_may_not_see(
    client, login_as, make_product, customers_of_two_partners, which
):
    from sqlalchemy import func, select

    from app import db
    from deals.models import Deal
    from tests.conftest import post_form
    from tests.test_registration import registration_form

    login_as("partner", partner=customers_of_two_partners["partner_a"])
    customer = customers_of_two_partners["hidden"].get(which)
    customer_id = customer.id if customer is not None else 999_999
    deals_before = db.session.scalar(select(func.count()).select_from(Deal))
    data = registration_form(make_product(), customer_query="", customer_id=str(customer_id))
    response = post_form(client, "/registrations/new", data)
    # Answered as for an id that does not exist: a field message, the same words, no name.
    assert response.status_code == 200
    assert "Unknown customer: choose one from the list." in response.text
    if customer is not None:
        assert customer.name not in response.text
    assert db.session.scalar(select(func.count()).select_from(Deal)) == deals_before


def test_customers_a_partner_enters_record_their_partner(
    client, api_call, login_as, make_product, make_user
):
    from app import db
    from deals.models import Deal
    from tests.conftest import post_form
    from tests.test_registration import IN_TWO_MONTHS, registration_form

    user = login_as("partner")
    response = post_form(client, "/registrations/new", registration_form(make_product()))
    assert response.status_code == 302
    deal = db.session.get(Deal, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert deal.customer.created_by_partner_id == user.partner_id
    body = {
        "project_name": "接口项目",
        "estimated_value": "1000.00",
        "expected_close_date": IN_TWO_MONTHS,
        "customer": {"name": "机密测试接口新客户有限公司"},
        "lines": [{"sku": make_product().sku, "quantity": 1, "unit_price": "9000.00"}],
        "submit": False,
    }
    created = api_call("POST", "/api/v1/deals", user, json=body)
    assert created.status_code == 201, created.json
    assert db.session.get(Deal, created.json["id"]).customer.created_by_partner_id == (
        user.partner_id
    )
    # A rep's new customer is the vendor's own.
    rep_deal = api_call(
        "POST",
        "/api/v1/deals",
        make_user("rep"),
        json=body | {"customer": {"name": "机密测试直销新客户有限公司"}},
    )
    assert rep_deal.status_code == 201, rep_deal.json
    assert db.session.get(Deal, rep_deal.json["id"]).customer.created_by_partner_id is None


def test_partner_api_naming_another_partners_prospect_learns_nothing_of_it(
    api_call, make_user, make_product, customers_of_two_partners
):
    """One organisation keeps one record (customers.identity), so the registration names the same
    record; the partner is told only what it typed itself."""
    from app import db
    from deals.models import Deal
    from tests.test_registration import IN_TWO_MONTHS

    prospect = customers_of_two_partners["hidden"]["b_draft_prospect"]
    user = make_user("partner", partner=customers_of_two_partners["partner_a"])
    body = {
        "project_name": "接口项目",
        "estimated_value": "1000.00",
        "expected_close_date": IN_TWO_MONTHS,
        "customer": {"name": prospect.name},
        "lines": [{"sku": make_product().sku, "quantity": 1, "unit_price": "9000.00"}],
        "submit": False,
    }
    created = api_call("POST", "/api/v1/deals", user, json=body)
    assert created.status_code == 201, created.json
    assert set(created.json) == {"id", "status", "possible_overlap"}
    assert created.json["possible_overlap"] is False
    deal = db.session.get(Deal, created.json["id"])
    assert deal.customer_id == prospect.id
    shown = api_call("GET", f"/api/v1/deals/{deal.id}", user).json
    assert shown["customer"] == {"id": deal.customer_id, "name": prospect.name}
    assert prospect.region not in str(shown)


@pytest.mark.parametrize("role", ["admin", "manager", "rep", "finance"])
def test_vendor_roles_get_404_for_a_draft_and_never_list_or_count_it(
    client, api_get, login_as, make_user, make_partner, make_deal, role
):
    partner = make_partner()
    draft = make_deal(partner=partner, status="draft", project_name="机密草稿项目")
    submitted = make_deal(partner=partner, status="submitted", project_name="已提交项目")
    user = login_as(role)
    if role == "manager":
        partner.owner_id = user.id
        from app import db

        db.session.commit()
    assert client.get(f"/deals/{draft.id}").status_code == 404
    assert api_get(f"/api/v1/deals/{draft.id}", user).status_code == 404
    for url in ("/deals", "/deals?status=draft", f"/deals?partner={partner.id}"):
        page = client.get(url)
        assert page.status_code == 200 and "机密草稿项目" not in page.text, url
    if role in ("admin", "manager"):
        assert "机密草稿项目" not in client.get("/queue").text
    # The partner's record beside a submitted deal counts no draft.
    page = client.get(f"/deals/{submitted.id}")
    assert page.status_code == 200 and "Draft" not in page.text
    # The partner itself still has its draft.
    partner_user = make_user("partner", partner=partner)
    assert api_get(f"/api/v1/deals/{draft.id}", partner_user).status_code == 200


def test_rep_sees_only_the_conflicts_it_is_party_to_on_a_deal_and_in_the_api(
    client, api_get, login_as, make_partner, make_customer, make_deal
):
    from app import db
    from deals.models import Conflict
    from tests.conftest import valid_uscc

    rep = login_as("rep")
    partner_a = make_partner(name="甲方伙伴有限公司")
    partner_b = make_partner(name="乙方伙伴有限公司")
    code = valid_uscc(880011)
    deal_a = make_deal(partner=partner_a, customer=make_customer(name="机密客户有限公司"))
    deal_b = make_deal(partner=partner_b, customer=make_customer(name="机密客户(北京)有限公司"))
    account = make_customer(name="代表自己的大客户有限公司", coverage="direct", owner_rep=rep)
    evidence = {
        "customer_a": deal_b.customer.name,
        "customer_b": deal_a.customer.name,
        "uscc_a": code,
        "uscc_b": code,
        "match": {"rule": "uscc_equal", "same": True, "score": 87.5},
        "product_lines": ["服务器"],
    }
    db.session.add_all(
        [
            Conflict(kind="partner_overlap", deal=deal_b, other_deal=deal_a, evidence=evidence),
            Conflict(kind="named_account", deal=deal_a, account=account, evidence={}),
        ]
    )
    db.session.commit()
    page = client.get(f"/deals/{deal_a.id}")
    assert page.status_code == 200
    assert account.name in page.text  # the conflict at its own named account
    for secret in ("乙方伙伴有限公司", "机密客户(北京)有限公司", code, "87.5"):
        assert secret not in page.text, secret
    shown = api_get(f"/api/v1/deals/{deal_a.id}", rep).json
    assert "conflicts" not in shown
    for secret in ("乙方伙伴有限公司", "机密客户(北京)有限公司", code, "87.5"):
        assert secret not in str(shown), secret
    # The other partner's deal: no conflict of the rep's, so no overlap either.
    other = api_get(f"/api/v1/deals/{deal_b.id}", rep).json
    assert other["possible_overlap"] is False and "甲方伙伴有限公司" not in str(other)
    assert "甲方伙伴有限公司" not in client.get(f"/deals/{deal_b.id}").text


INTERNAL_FLAGS = ("price_only", "at_risk")


def test_partner_api_has_no_internal_flags_about_itself(api_get, make_user, make_partner):
    partner = make_partner()
    user = make_user("partner", partner=partner)
    summary = api_get(f"/api/v1/partners/{partner.id}", user)
    assert summary.status_code == 200
    for field in INTERNAL_FLAGS:
        assert field not in summary.json  # absent, not null
    # Every other API answer a partner user gets about itself: no flag either.
    for url in ("/api/v1/me", f"/api/v1/partners/{partner.id}/prices", "/api/v1/products"):
        response = api_get(url, user)
        assert response.status_code == 200, url
        for field in INTERNAL_FLAGS:
            assert field not in str(response.json), url
    # Vendor staff still read them.
    vendor = api_get(f"/api/v1/partners/{partner.id}", make_user("manager")).json
    assert all(field in vendor for field in INTERNAL_FLAGS)


def test_rep_reads_no_tier_discount_or_tier_price(
    client, api_get, login_as, make_partner, make_product, make_deal
):
    partner = make_partner(tier="silver")
    product = make_product(list_price="10000.00")
    deal = make_deal(partner=partner, product=product, unit_price="9500.00")
    rep = login_as("rep")
    assert client.get(f"/prices?partner={partner.id}").status_code in (403, 404)
    assert client.get(f"/prices.xlsx?partner={partner.id}").status_code in (403, 404)
    assert api_get(f"/api/v1/partners/{partner.id}/prices", rep).status_code in (403, 404)
    # The silver discount is 20.00%: its tier price ¥8,000.00; neither on the rep's pages.
    for url in (f"/partners/{partner.id}", f"/deals/{deal.id}"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "20.00%" not in page.text and "8,000.00" not in page.text, url
    # List prices stay where they are.
    assert "10,000.00" in client.get("/products").text
    assert api_get("/api/v1/products", rep).json["products"][0]["list_price"] == "10000.00"
