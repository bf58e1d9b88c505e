"""Command line: creating users, loading the demo data."""

from sqlalchemy import func, select

from accounts.models import User
from app import db


def test_users_create_makes_a_user_who_can_log_in(runner, client):
    from tests.conftest import login

    result = runner.invoke(
        args=["users", "create", "ops@example.com", "--role", "admin", "--password", "longpass1"]
    )
    assert result.exit_code == 0, result.output
    assert "Created ops@example.com" in result.output
    assert login(client, "ops@example.com", "longpass1").status_code == 302


def test_users_create_partner_user_needs_an_existing_partner(runner, make_partner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "p@example.com",
            "--role",
            "partner",
            "--partner",
            "9999",
            "--password",
            "longpass1",
        ]
    )
    assert result.exit_code != 0
    assert "no partner with id 9999" in result.output
    partner = make_partner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "p@example.com",
            "--role",
            "partner",
            "--partner",
            str(partner.id),
            "--password",
            "longpass1",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "p@example.com"))
    assert user.partner_id == partner.id


def test_users_create_refuses_duplicate_email(runner, make_user):
    make_user("admin", email="dup@example.com")
    result = runner.invoke(
        args=["users", "create", "dup@example.com", "--role", "finance", "--password", "longpass1"]
    )
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_seed_demo_loads_a_realistic_channel_once(runner):
    from stdnum.cn import uscc

    from customers.models import EndCustomer
    from partners.models import Partner
    from pricing.models import Product

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "partner@example.com" in result.output
    partners = db.session.scalars(select(Partner)).all()
    assert 25 <= len(partners) <= 35
    assert {p.tier for p in partners} == {"gold", "silver", "registered"}
    assert all(uscc.is_valid(p.uscc) for p in partners)
    assert db.session.scalar(select(func.count()).select_from(Product)) == 40
    vendors = select(func.count()).select_from(EndCustomer)
    assert db.session.scalar(vendors.where(EndCustomer.created_by_partner_id.is_(None))) == 200
    # and the short names partners typed for two named accounts (possible matches to review)
    typed = db.session.scalars(
        select(EndCustomer.name).where(EndCustomer.created_by_partner_id.is_not(None))
    ).all()
    assert sorted(typed) == ["中国石油", "中国移动"]
    named = db.session.scalar(
        select(func.count()).select_from(EndCustomer).where(EndCustomer.coverage == "direct")
    )
    assert named >= 10
    gold_user = db.session.scalar(select(User).where(User.email == "partner@example.com"))
    assert gold_user.partner.tier == "gold"
    silver_user = db.session.scalar(select(User).where(User.email == "partner2@example.com"))
    assert silver_user.partner.tier == "silver"
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0
    assert "already has data" in again.output
