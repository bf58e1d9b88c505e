"""Deal workflow: submission with conflict detection, decisions, locking, expiry, conflicts."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import AuditLog, utcnow
from app import db
from deals.models import Conflict, Deal
from deals.workflow import submit_deal
from tests.conftest import csrf_from, login


@pytest.fixture
def manager(make_user):
    return make_user("manager", name="王经理")


@pytest.fixture
def partner_a(make_partner, manager):
    return make_partner(tier="gold", name="甲伙伴科技有限公司", owner=manager)


@pytest.fixture
def partner_b(make_partner, manager):
    return make_partner(tier="silver", name="乙伙伴科技有限公司", owner=manager)


def submitted(make_deal, make_user, partner, **kwargs):
    """A registration taken from draft through the real submission (conflict detection runs)."""
    user = make_user("partner", partner=partner)
    deal = make_deal(partner=partner, status="draft", created_by=user, **kwargs)
    submit_deal(deal, user)
    db.session.commit()
    return deal


def conflicts_of(deal):
    return db.session.scalars(
        select(Conflict).where((Conflict.deal_id == deal.id) | (Conflict.other_deal_id == deal.id))
    ).all()


def decide(client, deal, action, version=None, **fields):
    page = client.get(f"/deals/{deal.id}")
    data = {"csrf_token": csrf_from(page.text), "action": action}
    data["version"] = str(version if version is not None else deal.version)
    data.update(fields)
    return client.post(f"/deals/{deal.id}/decide", data=data)


# --- conflict detection -----------------------------------------------------------------


def test_registration_at_a_named_account_opens_a_conflict_and_partner_sees_only_overlap(
    client, make_deal, make_user, make_customer, partner_a
):
    rep = make_user("rep", name="直销张伟")
    account = make_customer(name="深圳市地铁集团有限公司", coverage="direct", owner_rep=rep)
    same_customer = make_customer(name="地铁集团有限公司(深圳)")
    user = make_user("partner", partner=partner_a)
    deal = make_deal(partner=partner_a, customer=same_customer, status="draft", created_by=user)
    submit_deal(deal, user)
    db.session.commit()
    [conflict] = conflicts_of(deal)
    assert conflict.kind == "named_account" and conflict.account_id == account.id
    assert conflict.evidence["match"]["rule"] == "core_equal"
    assert conflict.evidence["match"]["normalized_a"] == conflict.evidence["match"]["normalized_b"]
    login(client, user.email)
    page = client.get(f"/deals/{deal.id}").text
    assert "Possible overlap, under review" in page
    assert "直销张伟" not in page and "深圳市地铁集团有限公司" not in page


def test_two_partners_same_customer_overlapping_line_conflict_with_evidence(
    make_deal, make_user, make_customer, make_product, partner_a, partner_b
):
    server = make_product(line="服务器")
    first = submitted(
        make_deal,
        make_user,
        partner_a,
        customer=make_customer(name="中兴通讯股份有限公司"),
        product=server,
    )
    second = submitted(
        make_deal,
        make_user,
        partner_b,
        customer=make_customer(name="中興通訊股份有限公司"),
        product=make_product(line="服务器"),
    )
    [conflict] = conflicts_of(second)
    assert conflict.kind == "partner_overlap"
    assert conflict.deal_id == second.id and conflict.other_deal_id == first.id
    assert conflict.evidence["product_lines"] == ["服务器"]


def test_no_conflict_without_overlapping_product_line_or_for_different_customer(
    make_deal, make_user, make_customer, make_product, partner_a, partner_b
):
    customer = make_customer(name="南京市第一医院")
    submitted(
        make_deal, make_user, partner_a, customer=customer, product=make_product(line="服务器")
    )
    other_line = submitted(
        make_deal, make_user, partner_b, customer=customer, product=make_product(line="存储")
    )
    other_hospital = submitted(
        make_deal,
        make_user,
        partner_b,
        customer=make_customer(name="南京市第二医院"),
        product=make_product(line="服务器"),
    )
    assert conflicts_of(other_line) == [] and conflicts_of(other_hospital) == []


def test_same_credit_code_decides_even_with_different_names(
    make_deal, make_user, make_customer, make_product, partner_a, partner_b
):
    from tests.conftest import valid_uscc

    product = make_product()
    submitted(
        make_deal,
        make_user,
        partner_a,
        product=product,
        customer=make_customer(name="华东某研究院", uscc=valid_uscc(31337)),
    )
    # A different record with the same code cannot exist (unique), so the second partner
    # registers the very same customer record.
    customer = db.session.scalar(select(Deal)).customer
    second = submitted(make_deal, make_user, partner_b, product=product, customer=customer)
    assert [c.kind for c in conflicts_of(second)] == ["partner_overlap"]


def test_direct_deal_creation_flags_open_channel_registration(
    make_deal, make_user, make_customer, make_product, partner_a
):
    from deals.conflicts import detect_conflicts

    customer = make_customer(name="杭州第一中学")
    product = make_product()
    channel = submitted(make_deal, make_user, partner_a, customer=customer, product=product)
    rep = make_user("rep")
    direct = make_deal(
        kind="direct",
        customer=make_customer(name="浙江省杭州市第一中学"),
        product=product,
        status="approved",
        created_by=rep,
    )
    detect_conflicts(direct)
    db.session.commit()
    [conflict] = conflicts_of(channel)
    assert conflict.kind == "direct_deal" and conflict.other_deal_id == direct.id


def test_registration_against_open_direct_deal_conflicts(
    make_deal, make_user, make_customer, make_product, partner_a
):
    customer = make_customer(name="福建省人民医院")
    make_deal(kind="direct", customer=customer, status="approved", created_by=make_user("rep"))
    deal = submitted(make_deal, make_user, partner_a, customer=customer)
    assert [c.kind for c in conflicts_of(deal)] == ["direct_deal"]
    other = submitted(make_deal, make_user, partner_a, customer=make_customer(name="福建省立医院"))
    assert conflicts_of(other) == []


# --- decisions ----------------------------------------------------------------------------


def test_manager_approves_and_protection_follows_the_tier(
    client, make_deal, make_user, partner_a, manager
):
    deal = submitted(make_deal, make_user, partner_a)
    login(client, manager.email)
    response = decide(client, deal, "approve", note="ok")
    assert response.status_code == 302
    db.session.refresh(deal)
    assert deal.status == "approved"
    days = (deal.protection_expires_at - utcnow()).days
    assert 178 <= days <= 180  # gold: 180 days
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "approved"))
    assert entry.user_id == manager.id and entry.entity_id == deal.id
    assert "approved" in client.get(f"/deals/{deal.id}").text.lower()


def test_approval_waits_for_open_conflict(
    client, make_deal, make_user, make_customer, partner_a, manager
):
    rep = make_user("rep")
    account = make_customer(name="某某集团有限公司", coverage="direct", owner_rep=rep)
    deal = submitted(make_deal, make_user, partner_a, customer=account)
    login(client, manager.email)
    response = decide(client, deal, "approve")
    db.session.refresh(deal)
    assert deal.status == "submitted"
    follow = client.get(response.headers["Location"]).text
    assert "Resolve the open conflict" in follow


def test_second_manager_deciding_the_same_deal_is_told_it_changed(
    app, make_deal, make_user, partner_a, manager
):
    admin = make_user("admin")
    deal = submitted(make_deal, make_user, partner_a)
    first, second = app.test_client(), app.test_client()
    login(first, manager.email)
    login(second, admin.email)
    page_first = first.get(f"/deals/{deal.id}").text
    page_second = second.get(f"/deals/{deal.id}").text  # both see version 1
    version = deal.version
    approve = first.post(
        f"/deals/{deal.id}/decide",
        data={"csrf_token": csrf_from(page_first), "action": "approve", "version": version},
    )
    assert approve.status_code == 302
    reject = second.post(
        f"/deals/{deal.id}/decide",
        data={
            "csrf_token": csrf_from(page_second),
            "action": "reject",
            "version": version,
            "note": "duplicate",
        },
        follow_redirects=True,
    )
    assert "changed by someone else" in reject.text
    assert "approved" in reject.text.lower()
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).status == "approved"


def test_reject_needs_a_reason_and_keeps_the_deal(client, make_deal, make_user, partner_a, manager):
    deal = submitted(make_deal, make_user, partner_a)
    login(client, manager.email)
    page = decide(client, deal, "reject", note="  ")
    assert "reason" in client.get(page.headers["Location"]).text
    db.session.refresh(deal)
    assert deal.status == "submitted"


def test_request_information_and_partner_answer_puts_deal_back_in_queue(
    client, app, make_deal, make_user, partner_a, manager
):
    deal = submitted(make_deal, make_user, partner_a)
    login(client, manager.email)
    decide(client, deal, "request_info", note="请补充预算批复文件")
    db.session.refresh(deal)
    assert deal.status == "more_info_requested"
    partner_client = app.test_client()
    login(partner_client, deal.created_by.email)
    page = partner_client.get(f"/deals/{deal.id}")
    assert "请补充预算批复文件" in page.text
    response = partner_client.post(
        f"/registrations/{deal.id}/answer",
        data={"csrf_token": csrf_from(page.text), "answer": "已上传批复"},
    )
    assert response.status_code == 302
    db.session.refresh(deal)
    assert deal.status == "submitted"
    assert (
        "Submitted" in client.get("/queue").text or deal.project_name in client.get("/queue").text
    )


def test_manager_cannot_decide_for_another_managers_partner(
    client, make_deal, make_user, make_partner
):
    other_manager = make_user("manager")
    partner = make_partner(owner=other_manager)
    deal = submitted(make_deal, make_user, partner)
    login(client, make_user("manager").email)
    assert decide(client, deal, "approve").status_code == 403
    assert deal.project_name not in client.get("/queue").text


def test_queue_orders_by_sla_and_marks_overdue(client, make_deal, make_user, partner_a, manager):
    late = submitted(make_deal, make_user, partner_a, project_name="迟到项目")
    fresh = submitted(make_deal, make_user, partner_a, project_name="新项目")
    late.sla_due_at = utcnow() - timedelta(hours=3)
    db.session.commit()
    login(client, manager.email)
    queue = client.get("/queue").text
    assert queue.index("迟到项目") < queue.index("新项目")
    assert "overdue" in queue
    assert fresh.project_name in queue


def test_strategic_exception_and_extension_are_audited(
    client, make_deal, make_user, partner_a, manager
):
    deal = submitted(make_deal, make_user, partner_a)
    login(client, manager.email)
    decide(client, deal, "strategic", strategic="1")
    db.session.refresh(deal)
    assert deal.strategic_exception
    decide(client, deal, "approve")
    db.session.refresh(deal)
    before = deal.protection_expires_at
    decide(client, deal, "extend", days="30")
    db.session.refresh(deal)
    assert (deal.protection_expires_at - before).days == 30
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"strategic_exception", "approved", "protection_extended"} <= actions


# --- expiry ---------------------------------------------------------------------------------


def test_deal_past_protection_shows_expired_before_and_after_the_command(
    client, runner, make_deal, partner_a, manager
):
    deal = make_deal(partner=partner_a, status="approved", protection_days=-1)
    login(client, manager.email)
    assert "Expired" in client.get(f"/deals/{deal.id}").text
    assert deal.project_name in client.get("/deals?status=expired").text
    result = runner.invoke(args=["deals", "expire"])
    assert "1 deal(s) expired." in result.output
    db.session.refresh(deal)
    assert deal.status == "expired"
    assert runner.invoke(args=["deals", "expire"]).output.startswith("0 deal(s)")


# --- conflicts pages --------------------------------------------------------------------------


def test_manager_resolves_conflict_direct_keeps_rejects_the_registration(
    client, make_deal, make_user, make_customer, partner_a, manager
):
    rep = make_user("rep")
    account = make_customer(name="中国平安保险(集团)股份有限公司", coverage="direct", owner_rep=rep)
    deal = submitted(make_deal, make_user, partner_a, customer=account)
    [conflict] = conflicts_of(deal)
    login(client, manager.email)
    listing = client.get("/conflicts").text
    assert "中国平安保险" in listing
    page = client.get(f"/conflicts/{conflict.id}")
    response = client.post(
        f"/conflicts/{conflict.id}/resolve",
        data={"csrf_token": csrf_from(page.text), "resolution": "direct_keeps", "note": "直销在跟"},
    )
    assert response.status_code == 302
    db.session.refresh(conflict)
    db.session.refresh(deal)
    assert conflict.status == "resolved" and conflict.resolved_by_id == manager.id
    assert deal.status == "rejected"


def test_rep_sees_and_comments_on_conflicts_touching_its_accounts_only(
    client, make_deal, make_user, make_customer, partner_a
):
    rep = make_user("rep")
    other_rep = make_user("rep")
    mine = make_customer(name="国家电网有限公司", coverage="direct", owner_rep=rep)
    theirs = make_customer(name="招商银行股份有限公司", coverage="direct", owner_rep=other_rep)
    [my_conflict] = conflicts_of(submitted(make_deal, make_user, partner_a, customer=mine))
    [their_conflict] = conflicts_of(submitted(make_deal, make_user, partner_a, customer=theirs))
    login(client, rep.email)
    listing = client.get("/conflicts").text
    assert "国家电网" in listing and "招商银行" not in listing
    assert client.get(f"/conflicts/{their_conflict.id}").status_code == 404
    page = client.get(f"/conflicts/{my_conflict.id}")
    client.post(
        f"/conflicts/{my_conflict.id}/comments",
        data={"csrf_token": csrf_from(page.text), "body": "这是我的重点客户"},
    )
    assert "这是我的重点客户" in client.get(f"/conflicts/{my_conflict.id}").text
    resolve = client.post(f"/conflicts/{my_conflict.id}/resolve", data={"resolution": "rejected"})
    assert resolve.status_code in (400, 403)


# --- command line ------------------------------------------------------------------------------


def test_customers_compare_prints_verdict_first(runner):
    same = runner.invoke(
        args=["customers", "compare", "联想（北京）有限公司", "联想(北京)有限公司"]
    )
    assert same.output.splitlines()[0] == "same"
    assert "core_equal" in same.output
    different = runner.invoke(args=["customers", "compare", "山东省财政厅", "山西省财政厅"])
    assert different.output.splitlines()[0] == "different"
    possible = runner.invoke(args=["customers", "compare", "腾迅", "深圳市腾讯计算机系统有限公司"])
    assert possible.exit_code == 0
    assert possible.output.splitlines()[0] == "possible"
    evidence = json.loads(possible.output.split("\n", 1)[1])
    assert evidence["verdict"] == "possible" and evidence["rule"] == "homophone_typo"


def test_customers_compare_file_prints_one_line_per_pair_in_order(runner, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(
        "kind\tname_a\tname_b\tuscc_a\tuscc_b\n"
        "x\t联想（北京）有限公司\t联想(北京)有限公司\t\t\n"
        "y\t腾迅\t腾讯\t\t\n"
        "z\t山东省财政厅\t山西省财政厅\t\t\n"
        "w\t华为技术有限公司\t华为\t91440300708461136T\t91440300708461136T\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["customers", "compare", "--file", str(pairs)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "same\tcore_equal\t100.0",
        "possible\thomophone_typo\t50.0",
        "different\tregion_differs\t100.0",
        "same\tuscc_equal\t66.7",
    ]


def test_customers_compare_file_of_a_thousand_pairs_takes_seconds(runner, tmp_path):
    import time

    pairs = tmp_path / "pairs.tsv"
    rows = [f"慕舍{i}电子有限公司\t慕舍{i}电子(深圳)有限公司" for i in range(1000)]
    pairs.write_text("name_a\tname_b\n" + "\n".join(rows) + "\n", encoding="utf-8")
    started = time.perf_counter()
    result = runner.invoke(args=["customers", "compare", "--file", str(pairs)])
    assert time.perf_counter() - started < 5
    assert result.exit_code == 0 and len(result.output.splitlines()) == 1000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a\tname_b\nx\ty\n", "name_a"),
        (None, "cannot read"),
        (b"\xff\xfe\x00\x81", "cannot read"),
    ],
)
def test_customers_compare_file_errors_are_clear(runner, tmp_path, content, message):
    pairs = tmp_path / "pairs.tsv"
    if isinstance(content, str):
        pairs.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        pairs.write_bytes(content)
    result = runner.invoke(args=["customers", "compare", "--file", str(pairs)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, KeyError)


def test_customers_duplicates_lists_likely_duplicates(runner, make_customer):
    make_customer(name="南京烽火星空通信发展有限公司")
    make_customer(name="烽火星空通信发展(南京)有限公司")
    make_customer(name="北京理工大学")
    make_customer(name="北京工业大学")
    result = runner.invoke(args=["customers", "duplicates"])
    assert "1 likely duplicate pair(s)." in result.output
    assert "烽火星空通信发展(南京)有限公司" in result.output
    assert "理工" not in result.output


def test_nothing_written_when_submission_fails(make_deal, make_user, partner_a, app):
    from deals.workflow import DealError

    user = make_user("partner", partner=partner_a)
    deal = make_deal(partner=partner_a, status="approved", created_by=user)
    with pytest.raises(DealError):
        submit_deal(deal, user)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Conflict)) == 0


def test_manager_works_in_chinese_and_the_stored_history_stays_english(
    client, make_deal, make_user, make_customer, partner_a, manager
):
    from deals.models import DealEvent

    rep = make_user("rep", name="直销李娜")
    account = make_customer(name="浙江省人民医院", coverage="direct", owner_rep=rep)
    deal = submitted(make_deal, make_user, partner_a, customer=account)
    [conflict] = conflicts_of(deal)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    login(client, manager.email)

    queue = client.get("/queue").text
    assert "<h1>审批队列</h1>" in queue and ">冲突</span>" in queue
    detail = client.get(f"/conflicts/{conflict.id}").text
    assert "渠道报备撞上直销指名客户" in detail and "同一客户记录" in detail
    assert "<legend>处理决定</legend>" in detail
    response = client.post(
        f"/conflicts/{conflict.id}/resolve",
        data={"csrf_token": csrf_from(detail), "resolution": "direct_keeps"},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert "冲突已处理：归直销跟进。" in page

    # The history is stored as codes and English, whoever wrote it...
    event = db.session.scalar(select(DealEvent).where(DealEvent.action == "rejected"))
    assert event.note == "Direct keeps it" and event.to_status == "rejected"
    # ...and read in the reader's language.
    page = client.get(f"/deals/{deal.id}").text
    assert "<h2>审批记录</h2>" in page
    assert "<strong>已驳回</strong>" in page and "<blockquote>归直销跟进</blockquote>" in page
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(f"/deals/{deal.id}").text
    assert "<strong>Rejected</strong>" in page
    assert "<blockquote>Direct keeps it</blockquote>" in page


def test_the_api_answers_in_english_whatever_the_browser_language(
    client, make_deal, make_user, partner_a
):
    from accounts.tokens import create_token

    deal = submitted(make_deal, make_user, partner_a)
    _token, token = create_token(make_user("admin"), "test")
    db.session.commit()
    response = client.get(
        f"/api/v1/deals/{deal.id}",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"},
    )
    assert response.status_code == 200, response.text
    assert response.json["status_label"] == "Submitted"
