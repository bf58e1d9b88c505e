"""Notifications: who is told what, in which language, by list and email, and that telling never
breaks the action that caused it."""

from __future__ import annotations

import logging
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import utcnow
from app import db
from deals.models import Deal
from deals.workflow import approve_deal, submit_deal
from notifications import services
from notifications.mail import wait_for_emails
from notifications.models import Notification
from tests.conftest import csrf_from, login, post_form
from tests.test_registration import registration_form


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="王经理")


@pytest.fixture
def other_manager(make_user):
    return make_user("manager", name="李经理")


@pytest.fixture
def partner_a(make_partner, manager):
    return make_partner(tier="gold", name="甲伙伴科技有限公司", owner=manager)


@pytest.fixture
def partner_b(make_partner, other_manager):
    return make_partner(tier="silver", name="乙伙伴科技有限公司", owner=other_manager)


@pytest.fixture(autouse=True)
def _emails_finish(app):
    """Emails go out on other threads: let them finish before the tables are emptied."""
    yield
    wait_for_emails(app)


def told(user) -> list[tuple[str, int | None]]:
    """(kind, deal id) of every notification a user has, oldest first."""
    db.session.expire_all()
    return [
        (n.kind, n.deal_id)
        for n in db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    ]


def submitted(make_deal, make_user, partner, **kwargs):
    """A registration taken from draft through the real submission."""
    user = make_user("partner", partner=partner)
    deal = make_deal(partner=partner, status="draft", created_by=user, **kwargs)
    submit_deal(deal, user)
    db.session.commit()
    return deal


def decide(client, deal, action, **fields):
    page = client.get(f"/deals/{deal.id}")
    data = {"csrf_token": csrf_from(page.text), "action": action, "version": str(deal.version)}
    data.update(fields)
    return client.post(f"/deals/{deal.id}/decide", data=data)


def closed_port() -> int:
    """A local port nobody listens on: an SMTP server that refuses every connection."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- who is told -------------------------------------------------------------------------------


def test_partner_submission_tells_its_manager_and_nobody_else(
    client, login_as, make_user, make_product, partner_a, partner_b, manager, other_manager
):
    colleague = make_user("partner", partner=partner_a)
    stranger = make_user("partner", partner=partner_b)
    author = login_as("partner", partner=partner_a)
    response = post_form(client, "/registrations/new", registration_form(make_product()))
    assert response.status_code == 302, response.text
    deal = db.session.scalar(select(Deal))
    assert told(manager) == [("deal_submitted", deal.id)]
    assert told(other_manager) == told(colleague) == told(stranger) == told(author) == []

    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    login(client, manager.email)
    page = client.get("/notifications").text
    assert "New registration: 星河数据中心扩容" in page
    assert "甲伙伴科技有限公司 submitted 星河数据中心扩容" in page


@pytest.mark.parametrize(
    "action, fields, kind, text",
    [
        ("approve", {"note": "ok"}, "deal_approved", "Its protection runs until"),
        ("reject", {"note": "客户已有直销合同"}, "deal_rejected", "Reason: 客户已有直销合同"),
        ("request_info", {"note": "请补充预算批复"}, "more_info_requested", "请补充预算批复"),
    ],
)
def test_a_decision_tells_every_active_user_of_the_partner_only(
    client, make_deal, make_user, partner_a, partner_b, manager, action, fields, kind, text
):
    deal = submitted(make_deal, make_user, partner_a, project_name="华东机房项目")
    users = [make_user("partner", partner=partner_a) for _ in range(2)]
    gone = make_user("partner", partner=partner_a)
    gone.active = False
    stranger = make_user("partner", partner=partner_b)
    db.session.commit()
    login(client, manager.email)
    assert decide(client, deal, action, **fields).status_code == 302
    db.session.refresh(deal)
    assert deal.status != "submitted"  # the decision itself went through
    for user in users:
        assert told(user) == [(kind, deal.id)]
    assert told(gone) == told(stranger) == []
    assert told(manager) == [("deal_submitted", deal.id)]  # from the submission only

    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    login(client, users[0].email)
    page = client.get("/notifications").text
    assert "华东机房项目" in page and text in page


def test_a_conflict_tells_the_manager_of_the_flagged_registration(
    make_deal, make_user, make_customer, make_product, partner_a, partner_b, manager, other_manager
):
    first = submitted(
        make_deal, make_user, partner_a, customer=make_customer(name="中兴通讯股份有限公司")
    )
    second = submitted(
        make_deal,
        make_user,
        partner_b,
        customer=make_customer(name="中興通訊股份有限公司"),
        product=make_product(line="服务器"),
    )
    [conflict_notice] = db.session.scalars(
        select(Notification).where(Notification.kind == "conflict_opened")
    ).all()
    assert conflict_notice.user_id == other_manager.id and conflict_notice.deal_id == second.id
    assert conflict_notice.conflict_id is not None
    assert told(manager) == [("deal_submitted", first.id)]
    assert told(other_manager) == [("deal_submitted", second.id), ("conflict_opened", second.id)]


def test_resolving_a_conflict_by_rejecting_tells_the_partner(
    client, make_deal, make_user, make_customer, partner_a, manager
):
    account = make_customer(name="中国平安保险(集团)股份有限公司", coverage="direct")
    deal = submitted(make_deal, make_user, partner_a, customer=account)
    partner_user = make_user("partner", partner=partner_a)
    conflict_id = db.session.scalar(
        select(Notification.conflict_id).where(Notification.kind == "conflict_opened")
    )
    login(client, manager.email)
    page = client.get(f"/conflicts/{conflict_id}")
    client.post(
        f"/conflicts/{conflict_id}/resolve",
        data={"csrf_token": csrf_from(page.text), "resolution": "direct_keeps", "note": "直销在跟"},
    )
    assert told(partner_user) == [("deal_rejected", deal.id)]


def test_a_rolled_back_action_notifies_nobody(make_deal, make_user, partner_a, manager):
    deal = submitted(make_deal, make_user, partner_a)
    partner_user = make_user("partner", partner=partner_a)
    approve_deal(deal, manager, deal.version)
    db.session.rollback()
    assert told(partner_user) == []
    assert services.OUTBOX not in db.session.info


def test_a_failure_to_notify_is_logged_and_the_action_still_commits(make_user, partner_a, caplog):
    user = make_user("partner", partner=partner_a)
    user.name = "改了名字"
    db.session.flush()
    added = services.notify(
        [user.id],
        services.DEAL_APPROVED,
        params={"project": object()},  # not JSON
    )
    db.session.commit()
    assert added == 0
    assert "could not add deal_approved notifications" in caplog.text
    db.session.expire_all()
    assert user.name == "改了名字" and told(user) == []


# --- the periodic check --------------------------------------------------------------------------


def test_due_command_warns_once_of_protection_ending_and_of_passed_sla(
    runner, make_deal, make_user, partner_a, partner_b, manager, other_manager
):
    author = make_user("partner", partner=partner_a)

    def deal(status, partner=partner_a, **kwargs):
        creator = author if partner is partner_a else None
        return make_deal(partner=partner, status=status, created_by=creator, **kwargs)

    ending = deal("approved", protection_days=3)
    deal("approved", protection_days=20)  # not yet
    deal("approved", protection_days=-1)  # already over
    late = deal("submitted")
    late.sla_due_at = utcnow() - timedelta(hours=3)
    waiting = deal("more_info_requested")
    waiting.sla_due_at = utcnow() - timedelta(hours=3)  # the partner's turn: no SLA warning
    deal("submitted", partner=partner_b)  # within its SLA
    db.session.commit()
    colleague = make_user("partner", partner=partner_a)
    stranger = make_user("partner", partner=partner_b)

    result = runner.invoke(args=["notifications", "due"])
    assert result.exit_code == 0, result.output
    # both users of partner A hear that protection ends; A's manager that the SLA passed
    assert "3 notification(s) added." in result.output
    again = runner.invoke(args=["notifications", "due"])
    assert "0 notification(s) added." in again.output

    assert told(author) == told(colleague) == [("protection_ending", ending.id)]
    assert told(manager) == [("sla_passed", late.id)]
    assert told(other_manager) == told(stranger) == []


def test_an_extension_warns_again_when_the_new_end_comes_near(runner, make_deal, make_user):
    deal = make_deal(status="approved", protection_days=5)
    user = make_user("partner", partner=deal.partner)
    runner.invoke(args=["notifications", "due"])
    deal.protection_expires_at = deal.protection_expires_at + timedelta(days=1)
    db.session.commit()
    runner.invoke(args=["notifications", "due"])
    assert told(user) == [("protection_ending", deal.id)] * 2


# --- email ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": closed_port()}])
def test_a_refusing_smtp_server_does_not_break_approving_and_is_recorded(
    app, client, runner, make_deal, make_user, partner_a, manager
):
    deal = submitted(make_deal, make_user, partner_a)
    partner_user = make_user("partner", partner=partner_a)
    login(client, manager.email)
    response = decide(client, deal, "approve")
    assert response.status_code == 302
    db.session.refresh(deal)
    assert deal.status == "approved"
    wait_for_emails(app)
    db.session.expire_all()
    notice = db.session.scalar(select(Notification).where(Notification.user_id == partner_user.id))
    assert notice.emailed_at is None and notice.email_attempts == 1
    assert "Connection" in notice.email_error or "refused" in notice.email_error.lower()

    unsent = db.session.scalars(select(Notification).where(Notification.emailed_at.is_(None))).all()
    result = runner.invoke(args=["notifications", "send-pending"])
    assert f"0 email(s) sent, {len(unsent)} failed." in result.output
    db.session.expire_all()
    assert notice.email_attempts == 2 and notice.email_error


@pytest.mark.parametrize("app_config", [{"MAIL_BACKEND": "locmem"}])
def test_each_recipient_reads_the_email_in_its_own_language(
    app, client, make_deal, make_user, partner_a, manager
):
    deal = submitted(make_deal, make_user, partner_a, project_name="华东机房项目")
    chinese = make_user("partner", partner=partner_a)
    chinese.language = "zh"
    english = make_user("partner", partner=partner_a)
    db.session.commit()
    app.extensions["mailman"].outbox = []
    login(client, manager.email)
    decide(client, deal, "approve")
    wait_for_emails(app)
    by_recipient = {m.to[0]: m for m in app.extensions["mailman"].outbox}
    zh = by_recipient[chinese.email]
    assert zh.subject == "报备已批准：华东机房项目"
    assert "保护期至" in zh.body and "年" in zh.body  # the date written the Chinese way
    assert f"http://localhost/deals/{deal.id}" in zh.body
    en = by_recipient[english.email]
    assert en.subject == "Registration approved: 华东机房项目"
    assert "Its protection runs until" in en.body
    db.session.expire_all()
    assert all(
        n.emailed_at is not None and n.email_error is None
        for n in db.session.scalars(select(Notification))
    )


def test_without_mail_server_the_email_is_written_to_the_log(
    app, client, make_deal, make_user, partner_a, manager, caplog
):
    caplog.set_level(logging.INFO, logger="app.notifications")
    deal = submitted(make_deal, make_user, partner_a, project_name="日志项目")
    partner_user = make_user("partner", partner=partner_a)
    login(client, manager.email)
    decide(client, deal, "approve")
    wait_for_emails(app)
    assert f"To: {partner_user.email}" in caplog.text
    assert "Subject: Registration approved: 日志项目" in caplog.text
    db.session.expire_all()
    notice = db.session.scalar(select(Notification).where(Notification.user_id == partner_user.id))
    assert notice.emailed_at is not None


def test_two_senders_never_send_the_same_email_twice(app, make_user, partner_a):
    from notifications.mail import deliver

    user = make_user("partner", partner=partner_a)
    services.notify([user.id], services.DEAL_APPROVED, params={"project": "x"})
    db.session.info.pop(services.OUTBOX)  # as if the process died before sending
    db.session.commit()
    notice_id = db.session.scalar(select(Notification.id))
    assert deliver(notice_id) is True
    assert deliver(notice_id) is None  # already sent: the second sender backs off


# --- the list ------------------------------------------------------------------------------------


def _notify(user, n=1, **params):
    for i in range(n):
        services.notify(
            [user.id],
            services.DEAL_APPROVED,
            deal_id=1,
            params={"project": f"项目{i:02d}", "expires": utcnow(), **params},
        )
    db.session.commit()


UNREAD_BADGE = re.compile(r'class="notifications-link"[^>]*>[^<]*<span class="badge"[^>]*>(\d+)<')


def unread_badge(client) -> int:
    match = UNREAD_BADGE.search(client.get("/").text)
    return int(match.group(1)) if match else 0


def test_unread_count_shows_in_the_top_bar_and_goes_down_when_read(client, login_as):
    user = login_as("partner")
    assert unread_badge(client) == 0
    _notify(user, 3)
    assert unread_badge(client) == 3

    page = client.get("/notifications")
    first = db.session.scalars(select(Notification.id).order_by(Notification.id)).first()
    response = client.post(
        f"/notifications/{first}/open", data={"csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/deals/1"
    assert unread_badge(client) == 2

    second = first + 1
    response = post_form(client, f"/notifications/{second}/read", {}, page_url="/notifications")
    assert response.status_code == 302
    assert unread_badge(client) == 1

    response = post_form(client, "/notifications/read", {}, page_url="/notifications")
    assert response.status_code == 302
    assert unread_badge(client) == 0
    assert "Nothing unread." in client.get("/notifications").text


def test_list_paginates_newest_first(client, login_as, app):
    user = login_as("manager")
    _notify(user, 30)
    first_page = client.get("/notifications").text
    assert first_page.index("项目29") < first_page.index("项目28")
    assert "项目05" in first_page and "项目04" not in first_page
    assert "Page 1 of 2" in first_page
    second_page = client.get("/notifications?page=2").text
    assert "项目04" in second_page and "项目00" in second_page and "项目29" not in second_page


def test_the_list_speaks_the_readers_language(client, login_as):
    user = login_as("partner")
    user.language = "zh"
    db.session.commit()
    _notify(user)
    page = client.get("/notifications").text
    assert "报备已批准：项目00" in page and "1 条未读" in page


def test_another_users_notification_answers_404(client, login_as, make_user):
    other = make_user("partner")
    _notify(other)
    notice_id = db.session.scalar(select(Notification.id))
    login_as("partner")
    token = csrf_from(client.get("/notifications").text)
    for url in (f"/notifications/{notice_id}/read", f"/notifications/{notice_id}/open"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404
    assert told(other) == [("deal_approved", 1)]
    db.session.expire_all()
    assert db.session.get(Notification, notice_id).read_at is None
    assert "项目00" not in client.get("/notifications").text


def test_marking_read_needs_the_forms_csrf_token(client, login_as):
    user = login_as("partner")
    _notify(user)
    notice_id = db.session.scalar(select(Notification.id))
    assert client.post(f"/notifications/{notice_id}/read").status_code == 400
    assert client.post("/notifications/read").status_code == 400
    assert unread_badge(client) == 1
