"""The partner API: summary, price list, commitments and stock orders (exact Decimal strings)."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from accounts.models import AuditLog
from app import db
from partners.commitments import elapsed_share, parse_period
from partners.models import CommitmentLine, StockCommitment, StockOrder, StockOrderLine

D = Decimal


@pytest.fixture
def token_for():
    from accounts.tokens import create_token

    def make(user, name="test"):
        _token, plain = create_token(user, name)
        db.session.commit()
        return plain

    return make


@pytest.fixture
def api(client, token_for):
    """Call the API as ``user`` (or with no token when user is None)."""

    def call(method, url, user=None, json=None):
        headers = {"Authorization": f"Bearer {token_for(user)}"} if user is not None else {}
        return client.open(url, method=method, json=json, headers=headers)

    return call


@pytest.fixture
def manager(make_user):
    return make_user("manager")


@pytest.fixture
def partner(make_partner, manager):
    return make_partner(tier="gold", owner=manager)


@pytest.fixture
def products(make_product):
    return {
        "srv": make_product(sku="SRV-1", line="服务器", list_price="10000.00", name="机架服务器"),
        "sto": make_product(sku="STO-1", line="存储", list_price="1234.55", name="存储阵列"),
    }


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def order_body(partner_id, /, number="ERP-0001", **changes):
    body = {
        "partner_id": partner_id,
        "number": number,
        "date": date.today().isoformat(),
        "lines": [
            {"sku": "SRV-1", "quantity": 3, "unit_price": "7000.00"},
            {"sku": "STO-1", "quantity": "2", "unit_price": 864.185},
        ],
    }
    body.update(changes)
    return body


def commitment_body(**changes):
    body = {
        "period": "2026-Q4",
        "amount": "1000000",
        "signed_on": "2026-09-20",
        "lines": [{"product_line": "服务器", "quantity": 40}, {"sku": "STO-1", "quantity": "10"}],
    }
    body.update(changes)
    return body


# --- GET /partners/<id> ------------------------------------------------------------------


def test_partner_summary_with_current_commitment(api, make_user, partner, products):
    year = str(date.today().year)
    admin = make_user("admin")
    assert (
        api(
            "POST",
            f"/api/v1/partners/{partner.id}/commitments",
            admin,
            json=commitment_body(period=year, amount="1000000.00", lines=[]),
        ).status_code
        == 201
    )
    # 3 × 7000.00 + 2 × 864.19 (half-up) = 22728.38
    assert (
        api("POST", "/api/v1/stock-orders", admin, json=order_body(partner.id)).status_code == 201
    )

    response = api("GET", f"/api/v1/partners/{partner.id}", make_user("finance"))
    assert response.status_code == 200
    data = response.json
    assert (data["id"], data["name"], data["uscc"], data["tier"]) == (
        partner.id,
        partner.name,
        partner.uscc,
        "gold",
    )
    start, end = parse_period(year)
    elapsed = elapsed_share(start, end, date.today())
    pro_rata = (D("22728.38") / (D("1000000.00") * elapsed)).quantize(D("0.0001"), ROUND_HALF_UP)
    assert data["commitment"] == {
        "period": year,
        "amount": "1000000.00",
        "ordered": "22728.38",
        "attainment": "0.0227",
        "pro_rata_attainment": f"{pro_rata:.4f}",
    }
    assert data["price_only"]["flagged"] is False
    signals = {s["name"]: s for s in data["price_only"]["signals"]}
    assert signals["no_commitment"] == {
        "name": "no_commitment",
        "value": "0",
        "threshold": None,
        "fired": False,
    }
    for signal in data["price_only"]["signals"]:
        assert set(signal) == {"name", "value", "threshold", "fired"}
    assert data["at_risk"]["flagged"] is False
    assert data["at_risk"]["evidence"]["last_90_days"] == "22728.38"


def test_partner_summary_without_commitment_is_null(api, make_user, partner):
    for role in ("admin", "manager", "finance"):
        response = api("GET", f"/api/v1/partners/{partner.id}", make_user(role))
        assert response.status_code == 200, role
        assert response.json["commitment"] is None
        assert response.json["at_risk"] == {
            "flagged": False,
            "evidence": response.json["at_risk"]["evidence"],
        }


def test_partner_user_sees_only_its_own_partner(api, make_user, make_partner, partner):
    own = make_user("partner", partner=partner)
    assert api("GET", f"/api/v1/partners/{partner.id}", own).status_code == 200
    other = make_partner()
    response = api("GET", f"/api/v1/partners/{other.id}", own)
    assert response.status_code == 404 and response.json["error"]


def test_partner_summary_401_403_404(api, make_user, partner):
    response = api("GET", f"/api/v1/partners/{partner.id}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert api("GET", f"/api/v1/partners/{partner.id}", make_user("rep")).status_code == 403
    response = api("GET", "/api/v1/partners/999999", make_user("admin"))
    assert response.status_code == 404 and response.json["error"]


# --- GET /partners/<id>/prices -----------------------------------------------------------


def test_price_list_at_tier_discount(api, make_user, partner, products, make_product):
    make_product(sku="OLD-1").active = False
    db.session.commit()
    response = api("GET", f"/api/v1/partners/{partner.id}/prices", make_user("finance"))
    assert response.status_code == 200
    assert response.json == {
        "partner_id": partner.id,
        "tier": "gold",
        "discount_rate": "0.3000",
        "prices": [
            # ordered by product line, then SKU; 1234.55 × 0.7 = 864.185 → 864.19 (half-up)
            {
                "sku": "STO-1",
                "name": "存储阵列",
                "product_line": "存储",
                "list_price": "1234.55",
                "price": "864.19",
            },
            {
                "sku": "SRV-1",
                "name": "机架服务器",
                "product_line": "服务器",
                "list_price": "10000.00",
                "price": "7000.00",
            },
        ],
    }


def test_price_list_partner_user_own_only(api, make_user, make_partner, partner, products):
    own = make_user("partner", partner=partner)
    assert api("GET", f"/api/v1/partners/{partner.id}/prices", own).status_code == 200
    other = make_partner(tier="silver")
    assert api("GET", f"/api/v1/partners/{other.id}/prices", own).status_code == 404
    admin = make_user("admin")
    response = api("GET", f"/api/v1/partners/{other.id}/prices", admin)
    assert response.json["discount_rate"] == "0.2000"
    assert response.json["prices"][1]["price"] == "8000.00"
    assert api("GET", "/api/v1/partners/999999/prices", admin).status_code == 404
    assert api("GET", f"/api/v1/partners/{partner.id}/prices").status_code == 401


# --- POST /partners/<id>/commitments -----------------------------------------------------


def test_record_commitment(api, manager, partner, products):
    response = api(
        "POST",
        f"/api/v1/partners/{partner.id}/commitments",
        manager,
        json=commitment_body(period="2026-q4"),
    )
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/partners/{partner.id}")
    data = response.json
    assert data == {
        "id": data["id"],
        "partner_id": partner.id,
        "period": "2026-Q4",
        "period_start": "2026-10-01",
        "period_end": "2026-12-31",
        "amount": "1000000.00",
        "signed_on": "2026-09-20",
        "lines": [
            {"product_line": "服务器", "sku": None, "quantity": 40},
            {"product_line": None, "sku": "STO-1", "quantity": 10},
        ],
    }
    stored = db.session.get(StockCommitment, data["id"])
    assert stored.amount == D("1000000.00") and stored.created_by_id == manager.id
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "commitment_recorded"))
    assert audit.user_id == manager.id and audit.entity_id == data["id"]


def test_second_commitment_for_the_period_is_409(api, manager, partner, products):
    url = f"/api/v1/partners/{partner.id}/commitments"
    assert api("POST", url, manager, json=commitment_body()).status_code == 201
    response = api("POST", url, manager, json=commitment_body(amount="5"))
    assert response.status_code == 409 and response.json["error"]
    assert count(StockCommitment) == 1 and count(CommitmentLine) == 2


def test_bad_commitment_is_422_by_field(api, manager, partner, products):
    body = commitment_body(
        period="2026-Q5",
        amount="-3",
        signed_on="20/09/2026",
        lines=[
            {"product_line": "打印机", "quantity": 1},
            {"sku": "NOPE-1", "quantity": 2},
            {"sku": "SRV-1", "quantity": "zero"},
            {"quantity": 1},
            "junk",
        ],
    )
    response = api("POST", f"/api/v1/partners/{partner.id}/commitments", manager, json=body)
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) == {
        "period",
        "amount",
        "signed_on",
        "lines[0].product_line",
        "lines[1].sku",
        "lines[2].quantity",
        "lines[3].product_line",
        "lines[4]",
    }
    assert errors["lines[1].sku"] == ["Unknown product SKU 'NOPE-1'."]
    assert all(isinstance(m, list) and m for m in errors.values())
    assert count(StockCommitment) == 0 and count(CommitmentLine) == 0


def test_commitment_with_only_a_body_error_stores_nothing(api, manager, partner, products):
    body = commitment_body(signed_on="yesterday")
    response = api("POST", f"/api/v1/partners/{partner.id}/commitments", manager, json=body)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"signed_on"}
    assert count(StockCommitment) == 0
    audits = select(func.count()).where(AuditLog.action == "commitment_recorded")
    assert db.session.scalar(audits) == 0


def test_commitment_access(api, make_user, make_partner, manager, partner, products):
    other_manager = make_user("manager")
    url = f"/api/v1/partners/{partner.id}/commitments"
    assert api("POST", url, json=commitment_body()).status_code == 401
    for role in ("finance", "rep"):
        assert api("POST", url, make_user(role), json=commitment_body()).status_code == 403
    assert (
        api("POST", url, make_user("partner", partner=partner), json=commitment_body()).status_code
        == 403
    )
    # a manager acts on its own partners and unowned ones only
    response = api("POST", url, other_manager, json=commitment_body())
    assert response.status_code == 403 and response.json["error"]
    unowned = make_partner(owner=None)
    response = api(
        "POST", f"/api/v1/partners/{unowned.id}/commitments", other_manager, json=commitment_body()
    )
    assert response.status_code == 201
    assert api("POST", url, make_user("admin"), json=commitment_body()).status_code == 201
    response = api("POST", "/api/v1/partners/999999/commitments", manager, json=commitment_body())
    assert response.status_code == 404
    assert count(StockCommitment) == 2


# --- POST /stock-orders ------------------------------------------------------------------


def test_record_stock_order(api, manager, partner, products):
    response = api("POST", "/api/v1/stock-orders", manager, json=order_body(partner.id))
    assert response.status_code == 201
    data = response.json
    assert data == {
        "id": data["id"],
        "partner_id": partner.id,
        "number": "ERP-0001",
        "date": date.today().isoformat(),
        "source": "api",
        "total": "22728.38",
        "lines": [
            {"sku": "SRV-1", "quantity": 3, "unit_price": "7000.00"},
            {"sku": "STO-1", "quantity": 2, "unit_price": "864.19"},
        ],
    }
    order = db.session.get(StockOrder, data["id"])
    assert order.source == "api" and order.created_by_id == manager.id
    assert [line.unit_price for line in order.lines] == [D("7000.00"), D("864.19")]
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "stock_order_recorded"))
    assert audit.after["total"] == "22728.38" and audit.user_id == manager.id


def test_order_number_already_recorded_is_409(api, manager, make_partner, partner, products):
    assert (
        api("POST", "/api/v1/stock-orders", manager, json=order_body(partner.id)).status_code == 201
    )
    other = make_partner(owner=manager)
    response = api("POST", "/api/v1/stock-orders", manager, json=order_body(other.id))
    assert response.status_code == 409 and "ERP-0001" in response.json["error"]
    assert count(StockOrder) == 1 and count(StockOrderLine) == 2


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        (
            {
                "lines": [
                    {"sku": "SRV-1", "quantity": 1, "unit_price": "1"},
                    {"sku": "NOPE", "quantity": 1, "unit_price": "1"},
                ]
            },
            {"lines[1].sku"},
        ),
        ({"date": "2026-02-30"}, {"date"}),
        ({"date": None}, {"date"}),
        ({"partner_id": 999999}, {"partner_id"}),
        ({"partner_id": "1"}, {"partner_id"}),
        ({"number": "  "}, {"number"}),
        ({"lines": []}, {"lines"}),
        (
            {"lines": [{"sku": "SRV-1", "quantity": 0, "unit_price": "-1"}, 7]},
            {"lines[0].quantity", "lines[0].unit_price", "lines[1]"},
        ),
    ],
)
def test_bad_order_is_422_and_stores_nothing(api, manager, partner, products, changes, fields):
    response = api("POST", "/api/v1/stock-orders", manager, json=order_body(partner.id, **changes))
    assert response.status_code == 422
    assert set(response.json["errors"]) == fields
    assert count(StockOrder) == 0 and count(StockOrderLine) == 0
    assert (
        db.session.scalar(select(func.count()).where(AuditLog.action == "stock_order_recorded"))
        == 0
    )


def test_stock_order_access(api, make_user, make_partner, partner, products):
    assert api("POST", "/api/v1/stock-orders", json=order_body(partner.id)).status_code == 401
    for role in ("finance", "rep"):
        assert (
            api(
                "POST", "/api/v1/stock-orders", make_user(role), json=order_body(partner.id)
            ).status_code
            == 403
        )
    own = make_user("partner", partner=partner)
    assert api("POST", "/api/v1/stock-orders", own, json=order_body(partner.id)).status_code == 403
    response = api(
        "POST", "/api/v1/stock-orders", make_user("manager"), json=order_body(partner.id)
    )
    assert response.status_code == 403
    assert count(StockOrder) == 0
    response = api("POST", "/api/v1/stock-orders", make_user("admin"), json=order_body(partner.id))
    assert response.status_code == 201


def test_non_object_body_is_400(api, manager, partner):
    response = api("POST", "/api/v1/stock-orders", manager, json=[1, 2])
    assert response.status_code == 400 and response.json["error"]
