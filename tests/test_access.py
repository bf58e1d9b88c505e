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
    "pricing.price_list": ALL,
    "pricing.price_list_xlsx": ALL,
    "deals.list_customers": VENDOR,
    "deals.customer_detail": VENDOR,
    "deals.create_customer": {"admin", "manager", "rep"},
    "deals.edit_customer": {"admin", "manager", "rep"},
    "deals.list_deals": VENDOR,
    "deals.deal_detail": ALL,
    "deals.approval_queue": {"admin", "manager"},
    "deals.decide": {"admin", "manager"},
    "deals.list_conflicts": {"admin", "manager", "rep", "finance"},
    "deals.conflict_detail": {"admin", "manager", "rep", "finance"},
    "deals.resolve_conflict": {"admin", "manager"},
    "deals.comment_conflict": {"admin", "manager", "rep"},
    "deals.decide_special_price": {"admin", "manager"},
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
    "api.partner_prices": ALL,
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
    from deals.models import Conflict
    from finance.jobs import create_job
    from finance.statements import StatementScope, statement_period

    partner = make_partner()
    account = make_customer(coverage="direct", owner_rep=make_user("rep"))
    finance = make_user("finance")
    token, _plain = create_token(finance, "walker")
    deal = make_deal(partner=partner, status="draft")
    conflict = Conflict(kind="named_account", deal_id=deal.id, account_id=account.id, evidence={})
    db.session.add(conflict)
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
