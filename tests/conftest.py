"""Fixtures: app (on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set), client, runner,
factories, and a login helper that goes through the real login form."""

from __future__ import annotations

import itertools
import os
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app, db

pytest_plugins = ["tests.browser"]  # live server and Chromium fixtures

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
PASSWORD = "secret-pass-1"
_counter = itertools.count(1)


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory):
    """One database per kind for the whole run; each test starts from empty tables."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite'}"
    else:
        url = _worker_database(os.environ["TEST_DATABASE_URL"])
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test"})
    with app.app_context():
        _drop_everything()
        db.create_all()
        db.engine.dispose()
    return url


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own on the same server
    (``<name>_gw0``, ...), created when missing; a plain run uses ``url`` as it is."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists.scalar() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_everything():
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def test_config(database_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return config


_SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Moments on the vendor's clock where calendars bite: a new year still 31 December in UTC, a
#: leap day, half-year and quarter ends, the last evening of a year, a Friday evening before a
#: weekend. Date-sensitive tests run at each of them (``pinned_clock``).
PINNED_MOMENTS = {
    "new-year-morning": datetime(2027, 1, 1, 7, 30, tzinfo=_SHANGHAI),
    "leap-day": datetime(2028, 2, 29, 10, 0, tzinfo=_SHANGHAI),
    "half-year-end": datetime(2026, 6, 30, 17, 0, tzinfo=_SHANGHAI),
    "quarter-end": datetime(2026, 9, 30, 17, 0, tzinfo=_SHANGHAI),
    "year-end-evening": datetime(2026, 12, 31, 23, 30, tzinfo=_SHANGHAI),
    "friday-evening": datetime(2026, 12, 11, 19, 45, tzinfo=_SHANGHAI),
}


@pytest.fixture(params=list(PINNED_MOMENTS), ids=list(PINNED_MOMENTS))
def pinned_clock(request):
    """The clock stands at one of PINNED_MOMENTS (and ticks on from it) for the whole test.

    Request it before the fixtures that create records, so they are made at that moment too.
    """
    moment = PINNED_MOMENTS[request.param]
    with time_machine.travel(moment, tick=True):
        yield moment


@pytest.fixture
def app_config():
    """Extra config for one test (override this fixture or update the dict)."""
    return {}


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production.

    The fixture keeps an app context open for the test's own queries; without this, requests
    would share its ``g`` (and Flask-Login's cached user) with each other and with the test.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, app_config):
    app = create_app(test_config(database_url, **app_config))
    app.test_client_class = IsolatedClient
    with app.app_context():
        _seed_tier_policies()
        db.session.commit()
        yield app
        # The test's own session first: on SQLite an uncommitted write of the test would hold
        # the write lock the email threads wait for (5 s each).
        db.session.remove()
        # Emails go out on the app's own threads after each commit: let them finish before the
        # tables are emptied, so none writes into the next test's rows.
        from notifications.mail import wait_for_emails

        wait_for_emails(app)
        _empty_tables()
        db.engine.dispose()


def _empty_tables():
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


def _seed_tier_policies():
    from seed import seed_tier_policies

    seed_tier_policies()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- factories ---------------------------------------------------------------


@pytest.fixture
def make_user(app):
    from accounts.models import User

    def make(role="manager", email=None, partner=None, name=None, password=PASSWORD):
        n = next(_counter)
        user = User(
            email=email or f"{role}{n}@test.example.com",
            name=name or f"{role.title()} {n}",
            role=role,
            partner_id=partner.id if partner is not None else None,
        )
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


def valid_uscc(seed: int) -> str:
    """A valid unified social credit code, different for each seed."""
    from stdnum.cn import uscc

    body = f"91110108{seed:09d}"
    return body + uscc.calc_check_digit(body)


@pytest.fixture
def make_partner(app):
    from partners.models import Partner

    def make(tier="gold", name=None, owner=None, uscc=None, region="北京", status="active"):
        n = next(_counter)
        partner = Partner(
            name=name or f"测试伙伴{n}科技有限公司",
            uscc=uscc or valid_uscc(n),
            tier=tier,
            region=region,
            status=status,
            partner_type="reseller",
            owner_id=owner.id if owner is not None else None,
        )
        db.session.add(partner)
        db.session.commit()
        return partner

    return make


@pytest.fixture
def make_product(app):
    from pricing.models import Product

    def make(sku=None, list_price="10000.00", floor_price="6000.00", line="服务器", name=None):
        n = next(_counter)
        product = Product(
            sku=sku or f"TST-{n:04d}",
            name=name or f"测试产品 {n}",
            product_line=line,
            list_price=Decimal(list_price),
            floor_price=Decimal(floor_price),
        )
        db.session.add(product)
        db.session.commit()
        return product

    return make


@pytest.fixture
def make_customer(app):
    from customers.models import EndCustomer

    def make(
        name=None,
        uscc=None,
        coverage="channel",
        segment="normal",
        owner_rep=None,
        region="",
        created_by_partner=None,
    ):
        n = next(_counter)
        name = name or f"测试客户{n}有限公司"
        customer = EndCustomer(
            created_by_partner_id=created_by_partner.id if created_by_partner else None,
            uscc=uscc,
            coverage=coverage,
            segment=segment,
            region=region,
            owner_rep_id=owner_rep.id if owner_rep is not None else None,
        )
        customer.set_name(name)
        db.session.add(customer)
        db.session.commit()
        return customer

    return make


# --- logging in through the real form -------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
META_CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html) or META_CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, email, password=PASSWORD, next_url=None):
    """Log in through the login form (with its CSRF token), as a user would."""
    page = client.get("/login")
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(
        url,
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
    )


def post_form(client, url, data, page_url=None):
    """Submit a form the way a browser does: fetch the page for its CSRF token, then post."""
    page = client.get(page_url or url)
    payload = {"csrf_token": csrf_from(page.text)}
    payload.update(data)
    return client.post(url, data=payload)


@pytest.fixture
def login_as(client, make_user, make_partner):
    """Log the test client in as a new user of ``role``; returns the user."""

    def do(role, partner=None, **kwargs):
        if role == "partner" and partner is None:
            partner = make_partner()
        user = make_user(role, partner=partner, **kwargs)
        response = login(client, user.email)
        assert response.status_code == 302, response.text
        return user

    return do


@pytest.fixture
def make_deal(app, make_partner, make_product, make_customer, make_user):
    """A deal saved straight to the database (status as given; no workflow side effects)."""
    from datetime import date, timedelta

    from accounts.models import utcnow
    from deals.models import Deal, DealLine

    def make(
        partner=None,
        customer=None,
        product=None,
        status="submitted",
        kind="channel",
        created_by=None,
        quantity=2,
        unit_price="9000.00",
        project_name=None,
        protection_days=None,
    ):
        if kind == "channel" and partner is None:
            partner = make_partner()
        customer = customer or make_customer()
        product = product or make_product()
        creator = created_by or make_user(
            "partner" if kind == "channel" else "rep", partner=partner
        )
        n = next(_counter)
        now = utcnow()
        deal = Deal(
            kind=kind,
            partner_id=partner.id if partner is not None else None,
            customer_id=customer.id,
            created_by_id=creator.id,
            project_name=project_name or f"测试项目 {n}",
            estimated_value=Decimal("100000.00"),
            expected_close_date=date.today() + timedelta(days=60),
            stage="evaluation",
            funding_source="own_budget",
            status=status,
            submitted_at=now if status != "draft" else None,
            sla_due_at=now + timedelta(days=2) if status == "submitted" else None,
            protection_expires_at=(
                now + timedelta(days=protection_days) if protection_days is not None else None
            ),
        )
        deal.lines = [
            DealLine(
                product_id=product.id, quantity=quantity, requested_unit_price=Decimal(unit_price)
            )
        ]
        db.session.add(deal)
        db.session.commit()
        return deal

    return make
