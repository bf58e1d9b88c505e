"""Products, end customers and users: forms, rules and the audit trail."""

from sqlalchemy import func, select

from accounts.models import AuditLog, User
from app import db
from customers.models import EndCustomer
from pricing.models import Product
from tests.conftest import post_form, valid_uscc


def test_admin_creates_product_and_others_only_read(client, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/products/new",
        {
            "sku": "srv-900",
            "name": "R9000 服务器",
            "product_line": "服务器",
            "list_price": "12345.675",
            "floor_price": "8000",
            "active": "y",
        },
    )
    assert response.status_code == 302
    product = db.session.scalar(select(Product))
    assert product.sku == "SRV-900"
    assert str(product.list_price) == "12345.68"  # half-up to cents
    assert db.session.scalar(select(AuditLog).where(AuditLog.entity_type == "Product"))


def test_floor_above_list_price_is_refused(client, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/products/new",
        {
            "sku": "X-1",
            "name": "x",
            "product_line": "网络",
            "list_price": "100",
            "floor_price": "150",
        },
    )
    assert "cannot be above the list price" in response.text
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_duplicate_sku_is_refused(client, login_as, make_product):
    make_product(sku="NET-001")
    login_as("admin")
    response = post_form(
        client,
        "/products/new",
        {
            "sku": "net-001",
            "name": "dup",
            "product_line": "网络",
            "list_price": "100",
            "floor_price": "50",
        },
    )
    assert "already has this SKU" in response.text


def test_manager_reads_products_but_cannot_edit(client, login_as, make_product):
    product = make_product(name="可见产品")
    login_as("manager")
    assert "可见产品" in client.get("/products").text
    assert client.get(f"/products/{product.id}/edit").status_code == 403


def test_rep_creates_named_account_with_credit_code(client, login_as):
    rep = login_as("rep")
    response = post_form(
        client,
        "/customers/new",
        {
            "name": "深圳市地铁集团有限公司",
            "uscc": valid_uscc(777),
            "region": "广东",
            "industry": "交通",
            "segment": "top",
            "coverage": "direct",
            "owner_rep_id": str(rep.id),
        },
    )
    assert response.status_code == 302
    customer = db.session.scalar(select(EndCustomer))
    assert customer.is_named_account and customer.owner_rep_id == rep.id
    assert customer.name_key  # normalised name stored for matching
    assert "深圳市地铁集团有限公司" in client.get("/customers?q=地铁").text


def test_named_account_needs_an_owner_rep(client, login_as):
    login_as("manager")
    response = post_form(
        client,
        "/customers/new",
        {
            "name": "某某集团",
            "uscc": "",
            "segment": "top",
            "coverage": "direct",
            "owner_rep_id": "0",
        },
    )
    assert "needs its owning rep" in response.text
    assert db.session.scalar(select(func.count()).select_from(EndCustomer)) == 0


def test_customer_with_invalid_credit_code_keeps_input(client, login_as):
    login_as("rep")
    response = post_form(
        client,
        "/customers/new",
        {
            "name": "南京市第一医院",
            "uscc": "91320100ABCDEFGHI1",
            "segment": "normal",
            "coverage": "channel",
            "owner_rep_id": "0",
        },
    )
    assert response.status_code == 200
    assert "南京市第一医院" in response.text
    assert 'id="uscc-error"' in response.text
    assert db.session.scalar(select(func.count()).select_from(EndCustomer)) == 0


def test_rep_cannot_edit_another_reps_account(client, login_as, make_user, make_customer):
    other = make_user("rep")
    customer = make_customer(coverage="direct", owner_rep=other)
    login_as("rep")
    assert client.get(f"/customers/{customer.id}/edit").status_code == 403


def test_admin_creates_partner_user_and_it_is_audited(client, login_as, make_partner):
    partner = make_partner()
    login_as("admin")
    response = post_form(
        client,
        "/users/new",
        {
            "email": "New.User@Example.com",
            "name": "新用户",
            "role": "partner",
            "partner_id": str(partner.id),
            "password": "longpass1",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.user@example.com"))
    assert user.partner_id == partner.id
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity_type == "User"))
    assert "password" not in (entry.after or {})
    audit_page = client.get("/audit?entity=User").text
    assert "new.user@example.com" in audit_page


def test_partner_user_without_partner_is_refused(client, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/users/new",
        {
            "email": "x@example.com",
            "name": "x",
            "role": "partner",
            "partner_id": "0",
            "password": "longpass1",
        },
    )
    assert "must belong to a partner" in response.text
    assert 'value="x@example.com"' in response.text
