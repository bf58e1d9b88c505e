"""First registrant first: a later registration's overlap never holds the earlier one; one
conflict lists every earlier registration; the later one's manager sees the protection."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts.models import AuditLog
from app import db
from customers.models import EndCustomer
from deals.models import Conflict
from tests.conftest import login
from tests.test_deals import conflicts_of, decide, submitted


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="李经理")


def test_first_registrant_is_approved_while_a_later_overlap_is_open(
    client, make_deal, make_user, make_customer, make_product, make_partner, manager
):
    first_partner = make_partner(tier="gold", owner=manager)
    later_partner = make_partner(tier="registered", owner=manager)
    customer = make_customer(name="成都市第七中学")
    server = make_product(line="服务器")
    first = submitted(make_deal, make_user, first_partner, customer=customer, product=server)
    later = submitted(make_deal, make_user, later_partner, customer=customer, product=server)
    [conflict] = conflicts_of(later)
    assert conflict.deal_id == later.id and conflict.other_deal_id == first.id

    login(client, manager.email)
    decide(client, first, "approve")
    db.session.refresh(first)
    assert first.status == "approved"  # not held by the latecomer's overlap

    page = client.get(f"/deals/{later.id}").text
    assert 'data-testid="protected-by"' in page
    assert "Customer protected by another registration until" in page
    decide(client, later, "approve")
    db.session.refresh(later)
    assert later.status == "submitted"  # the later one waits for a person

    partner_user = make_user("partner", partner=later_partner)
    partner_client = client.application.test_client()
    login(partner_client, partner_user.email)
    partner_page = partner_client.get(f"/deals/{later.id}").text
    assert "Possible overlap, under review" in partner_page
    assert "protected by another registration" not in partner_page
    assert first_partner.name not in partner_page


def test_the_earlier_registration_is_not_flagged_by_a_later_one(
    client, make_deal, make_user, make_customer, make_product, make_partner, manager
):
    first_partner, later_partner = make_partner(owner=manager), make_partner(owner=manager)
    customer = make_customer(name="武汉钢铁有限公司")
    server = make_product(line="服务器")
    first = submitted(make_deal, make_user, first_partner, customer=customer, product=server)
    submitted(make_deal, make_user, later_partner, customer=customer, product=server)
    user = make_user("partner", partner=first_partner)
    login(client, user.email)
    page = client.get(f"/deals/{first.id}").text
    assert "Possible overlap, under review" not in page


def test_a_registration_at_a_busy_customer_opens_one_conflict_listing_every_earlier_one(
    make_deal, make_user, make_customer, make_product, make_partner, manager
):
    customer = make_customer(name="深圳市南山区人民医院")
    server = make_product(line="服务器")
    earlier = [
        submitted(
            make_deal, make_user, make_partner(owner=manager), customer=customer, product=server
        )
        for _ in range(4)
    ]
    last = submitted(
        make_deal, make_user, make_partner(owner=manager), customer=customer, product=server
    )
    [conflict] = conflicts_of(last)
    assert conflict.other_deal_id == earlier[0].id
    assert [o["deal_id"] for o in conflict.evidence["others"]] == [d.id for d in earlier]
    total = db.session.scalar(select(func.count()).select_from(Conflict))
    assert total == 4  # the 2nd, 3rd, 4th and 5th registrations: one each, not one per pair
    opened = db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action == "conflict_opened")
    )
    assert opened == 4


def test_a_resubmitted_earlier_registration_keeps_its_place(
    client, make_deal, make_user, make_customer, make_product, make_partner, manager
):
    """Asked for more information and answering after a later partner registered, the first
    registrant is still first: the answer opens no conflict on its registration."""
    from deals.workflow import request_information, submit_deal

    first_partner, later_partner = make_partner(owner=manager), make_partner(owner=manager)
    customer = make_customer(name="广州地铁集团有限公司")
    server = make_product(line="服务器")
    first = submitted(make_deal, make_user, first_partner, customer=customer, product=server)
    request_information(first, manager, first.version, "预算来源?")
    db.session.commit()
    later = submitted(make_deal, make_user, later_partner, customer=customer, product=server)
    submit_deal(first, first.created_by)
    db.session.commit()
    assert [c.deal_id for c in conflicts_of(first)] == [later.id]


def test_the_web_form_reuses_a_customer_named_the_same_way(
    client, make_partner, make_user, make_product, make_customer
):
    """The web registration and the API name customers by one rule: a new customer that the
    matcher calls the same as a known one reuses that record."""
    from tests.conftest import post_form
    from tests.test_registration import registration_form

    known = make_customer(name="中兴通讯股份有限公司")
    user = make_user("partner", partner=make_partner())
    login(client, user.email)
    data = registration_form(make_product(), customer_query="中興通訊股份有限公司")
    response = post_form(client, "/registrations/new", data)
    assert response.status_code == 302, response.text
    assert db.session.scalars(select(EndCustomer.name)).all() == [known.name]
