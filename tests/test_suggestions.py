"""Possible matches: suggested to the channel manager beside the deal, turned into a conflict or
dismissed by a person (remembered, audited), never shown to the partner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.models import AuditLog
from app import db
from deals.models import Conflict, DealSuggestion
from deals.workflow import request_information, submit_deal
from tests.conftest import csrf_from, login
from tests.test_deals import conflicts_of, submitted


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="赵经理")


@pytest.fixture
def short_name_deal(make_deal, make_user, make_customer, make_partner, manager):
    """A partner registers 海康威视 while the vendor's direct team owns the full name."""
    rep = make_user("rep", name="直销刘洋")
    account = make_customer(
        name="杭州海康威视数字技术股份有限公司", coverage="direct", owner_rep=rep
    )
    make_customer(name="杭州数字技术服务有限公司")  # shares words, is not it
    partner = make_partner(owner=manager, name="丙伙伴科技有限公司")
    deal = submitted(make_deal, make_user, partner, customer=make_customer(name="海康威视"))
    return deal, account


def _suggestions(deal):
    return db.session.scalars(select(DealSuggestion).where(DealSuggestion.deal_id == deal.id)).all()


def test_a_short_name_of_a_named_account_is_suggested_not_decided(short_name_deal):
    deal, account = short_name_deal
    assert conflicts_of(deal) == []  # possible is never a conflict by itself
    [suggestion] = _suggestions(deal)
    assert suggestion.customer_id == account.id and suggestion.status == "open"
    assert suggestion.rule == "short_name"


def test_manager_sees_the_suggestion_in_the_queue_and_beside_the_deal(
    client, short_name_deal, manager
):
    deal, account = short_name_deal
    login(client, manager.email)
    queue = client.get("/queue").text
    assert 'data-testid="suggestion-flag"' in queue and "1 possible match to review" in queue
    page = client.get(f"/deals/{deal.id}").text
    assert 'data-testid="suggestions"' in page
    assert account.name in page and "a short name of the other" in page


def test_the_partner_never_learns_of_a_suggestion(client, short_name_deal, make_user):
    deal, account = short_name_deal
    user = make_user("partner", partner=deal.partner)
    login(client, user.email)
    page = client.get(f"/deals/{deal.id}").text
    assert account.name not in page and "possible match" not in page
    assert "Possible overlap, under review" not in page  # nothing is held


def _decide(client, deal, suggestion, action):
    page = client.get(f"/deals/{deal.id}").text
    return client.post(
        f"/deals/{deal.id}/suggestions/{suggestion.id}/{action}",
        data={"csrf_token": csrf_from(page)},
    )


def test_turning_a_suggestion_into_a_conflict_holds_the_deal(client, short_name_deal, manager):
    deal, account = short_name_deal
    [suggestion] = _suggestions(deal)
    login(client, manager.email)
    response = _decide(client, deal, suggestion, "convert")
    assert response.status_code == 302
    [conflict] = conflicts_of(deal)
    assert conflict.kind == "named_account" and conflict.account_id == account.id
    assert conflict.evidence["match"]["rule"] == "short_name"
    assert conflict.evidence["confirmed_by"] == manager.email
    db.session.refresh(suggestion)
    assert suggestion.status == "converted" and suggestion.conflict_id == conflict.id
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "suggestion_converted"))
    page = client.get(f"/deals/{deal.id}").text
    assert "open conflict" in page


def test_a_dismissal_is_remembered_and_audited(client, short_name_deal, manager):
    deal, _ = short_name_deal
    [suggestion] = _suggestions(deal)
    login(client, manager.email)
    assert _decide(client, deal, suggestion, "dismiss").status_code == 302
    db.session.refresh(suggestion)
    assert suggestion.status == "dismissed" and suggestion.decided_by_id == manager.id
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "suggestion_dismissed"))
    # Asked for more information and resubmitted: the dismissed match is not suggested again.
    request_information(deal, manager, deal.version, "请补充")
    db.session.commit()
    submit_deal(deal, deal.created_by)
    db.session.commit()
    assert [s.status for s in _suggestions(deal)] == ["dismissed"]
    assert db.session.scalar(select(Conflict.id)) is None
    # Deciding it again is refused with a message, not an error page.
    again = _decide(client, deal, suggestion, "convert")
    assert again.status_code == 302
    assert "already been decided" in client.get(again.headers["Location"]).text


def test_another_managers_partner_cannot_be_decided(client, short_name_deal, make_user):
    deal, _ = short_name_deal
    [suggestion] = _suggestions(deal)
    login(client, make_user("manager").email)
    page = client.get(f"/deals/{deal.id}").text
    response = client.post(
        f"/deals/{deal.id}/suggestions/{suggestion.id}/dismiss",
        data={"csrf_token": csrf_from(page)},
    )
    assert response.status_code == 403


def test_no_suggestion_where_nothing_would_conflict(
    make_deal, make_user, make_customer, make_partner, manager
):
    make_customer(name="杭州海康威视数字技术股份有限公司")  # channel, nobody registered it
    deal = submitted(
        make_deal, make_user, make_partner(owner=manager), customer=make_customer(name="海康威视")
    )
    assert _suggestions(deal) == []


def test_the_api_shows_suggestions_to_managers_only(app, short_name_deal, manager, make_user):
    from accounts.tokens import create_token

    deal, account = short_name_deal
    _, manager_token = create_token(manager, "t")
    _, partner_token = create_token(make_user("partner", partner=deal.partner), "t")
    db.session.commit()
    client = app.test_client()
    seen = client.get(
        f"/api/v1/deals/{deal.id}", headers={"Authorization": f"Bearer {manager_token}"}
    ).get_json()
    [item] = seen["suggestions"]
    assert item == {
        "customer_id": account.id,
        "name": account.name,
        "rule": "short_name",
        "score": item["score"],
    }
    assert isinstance(item["score"], float)
    partner_view = client.get(
        f"/api/v1/deals/{deal.id}", headers={"Authorization": f"Bearer {partner_token}"}
    ).get_json()
    assert "suggestions" not in partner_view and "conflicts" not in partner_view


def test_of_two_managers_deciding_one_suggestion_the_second_is_told(short_name_deal, manager):
    """Another manager's decision committed meanwhile: this one is refused, nothing written."""
    from deals.conflicts import convert_suggestion
    from deals.suggestions import SuggestionError

    deal, _ = short_name_deal
    [suggestion] = _suggestions(deal)
    with db.engine.begin() as other:  # the other manager's request, already committed
        other.execute(
            DealSuggestion.__table__.update()
            .where(DealSuggestion.__table__.c.id == suggestion.id)
            .values(status="dismissed", decided_by_id=manager.id)
        )
    assert suggestion.status == "open"  # as this manager's page still shows it
    with pytest.raises(SuggestionError):
        convert_suggestion(suggestion, manager)
    db.session.rollback()
    assert conflicts_of(deal) == []
    db.session.refresh(suggestion)
    assert suggestion.status == "dismissed"
