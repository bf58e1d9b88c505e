"""Partners and tier policies: forms, credit code rules, scoping, audit."""

import re

from sqlalchemy import func, select

from accounts.models import AuditLog
from app import db
from partners.models import Partner, TierPolicy
from tests.conftest import post_form, valid_uscc


def partner_form(**overrides):
    data = {
        "name": "杭州云启智联科技有限公司",
        "uscc": valid_uscc(4242),
        "region": "浙江",
        "partner_type": "reseller",
        "tier": "silver",
        "status": "active",
        "owner_id": "0",
        "agreement_start": "2026-01-01",
        "agreement_end": "2026-12-31",
        "notes": "",
        "contacts-0-name": "赵经理",
        "contacts-0-title": "销售总监",
        "contacts-0-phone": "13800000000",
        "contacts-0-email": "zhao@example.cn",
    }
    data.update(overrides)
    return data


def partner_count():
    return db.session.scalar(select(func.count()).select_from(Partner))


def test_manager_creates_partner_with_contact_and_audit(client, login_as):
    manager = login_as("manager")
    response = post_form(client, "/partners/new", partner_form(owner_id=str(manager.id)))
    assert response.status_code == 302
    partner = db.session.scalar(select(Partner))
    assert partner.name == "杭州云启智联科技有限公司"
    assert partner.owner_id == manager.id
    assert [c.name for c in partner.contacts] == ["赵经理"]
    detail = client.get(response.headers["Location"])
    assert "赵经理" in detail.text and partner.uscc in detail.text
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity_type == "Partner"))
    assert entry.action == "create" and entry.user_id == manager.id
    assert entry.after["uscc"] == partner.uscc


def test_invalid_credit_code_is_answered_next_to_the_field_and_nothing_saved(client, login_as):
    login_as("manager")
    bad = valid_uscc(4242)[:-1] + ("0" if valid_uscc(4242)[-1] != "0" else "1")
    response = post_form(client, "/partners/new", partner_form(uscc=bad))
    assert response.status_code == 200
    assert "check character does not match" in response.text
    assert 'id="uscc-error"' in response.text
    assert "杭州云启智联科技有限公司" in response.text  # what was typed stays
    assert partner_count() == 0


def test_short_credit_code_is_refused(client, login_as):
    login_as("admin")
    response = post_form(client, "/partners/new", partner_form(uscc="91110108"))
    assert "has 18 characters" in response.text
    assert partner_count() == 0


def test_duplicate_credit_code_is_refused(client, login_as, make_partner):
    existing = make_partner(name="已有伙伴有限公司")
    login_as("admin")
    response = post_form(client, "/partners/new", partner_form(uscc=existing.uscc))
    assert response.status_code == 200
    assert "already registered for 已有伙伴有限公司" in response.text
    assert partner_count() == 1


def test_agreement_cannot_end_before_it_starts(client, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/partners/new",
        partner_form(agreement_start="2026-06-01", agreement_end="2026-01-01"),
    )
    assert "cannot end before it starts" in response.text
    assert partner_count() == 0


def test_tier_change_is_audited_with_before_and_after(client, login_as, make_partner):
    manager = login_as("manager")
    partner = make_partner(tier="silver", owner=manager)
    data = partner_form(name=partner.name, uscc=partner.uscc, tier="gold", owner_id=str(manager.id))
    response = post_form(client, f"/partners/{partner.id}/edit", data)
    assert response.status_code == 302
    db.session.refresh(partner)
    assert partner.tier == "gold"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "update"))
    assert entry.before["tier"] == "silver" and entry.after["tier"] == "gold"


def test_audit_log_reads_in_the_readers_language(client, login_as, make_partner, make_deal):
    """The log stores codes; the page names fields, actions and values in Chinese."""
    partner = make_partner(tier="silver")
    make_deal(partner=partner, status="submitted")
    admin = login_as("admin")
    data = partner_form(name=partner.name, uscc=partner.uscc, tier="gold", owner_id=str(admin.id))
    assert post_form(client, f"/partners/{partner.id}/edit", data).status_code == 302
    admin.language = "zh"
    db.session.commit()
    page = client.get("/audit").text
    change = re.search(r"<dt>级别</dt><dd>(.*?)</dd>.*?<dt>级别</dt><dd>(.*?)</dd>", page, re.S)
    assert change and change.groups() == ("银牌", "金牌")
    assert ">tier<" not in page and ">silver<" not in page
    history = client.get(f"/partners/{partner.id}").text
    assert re.search(r"已修改: [^<]*级别", history)


def test_manager_cannot_edit_another_managers_partner(client, login_as, make_user, make_partner):
    other = make_user("manager")
    partner = make_partner(owner=other)
    login_as("manager")
    assert client.get(f"/partners/{partner.id}/edit").status_code == 403


def test_partner_user_sees_own_partner_and_404_for_others(client, login_as, make_partner):
    own = make_partner(name="自己的伙伴有限公司")
    other = make_partner(name="别人的伙伴有限公司")
    login_as("partner", partner=own)
    assert "自己的伙伴有限公司" in client.get(f"/partners/{own.id}").text
    response = client.get(f"/partners/{other.id}")
    assert response.status_code == 404
    assert "别人的伙伴" not in response.text
    assert client.get("/my-company").headers["Location"] == f"/partners/{own.id}"


def test_partner_list_filters_by_tier_and_search(client, login_as, make_partner):
    make_partner(tier="gold", name="金牌甲有限公司")
    make_partner(tier="silver", name="银牌乙有限公司")
    login_as("finance")
    gold = client.get("/partners?tier=gold").text
    assert "金牌甲" in gold and "银牌乙" not in gold
    found = client.get("/partners?q=银牌").text
    assert "银牌乙" in found and "金牌甲" not in found


def test_partner_list_paginates(client, login_as, make_partner, app):
    app.config["ITEMS_PER_PAGE"] = 5
    for _ in range(12):
        make_partner()
    login_as("manager")
    first = client.get("/partners").text
    assert "Page 1 of 3" in first
    assert "Page 3 of 3" in client.get("/partners?page=3").text


def test_admin_edits_tier_policy_and_change_is_audited(client, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/tier-policies/gold/edit",
        {
            "discount_percent": "32.5",
            "min_commitment": "6000000",
            "protection_days": "120",
            "approval_limit_percent": "12",
            "rebate_percent": "3",
        },
    )
    assert response.status_code == 302
    policy = db.session.get(TierPolicy, "gold")
    db.session.refresh(policy)
    assert str(policy.discount_rate) == "0.3250"
    assert policy.protection_days == 120
    entry = db.session.scalar(select(AuditLog).where(AuditLog.entity_type == "TierPolicy"))
    assert entry.before["protection_days"] == 180 and entry.after["protection_days"] == 120
    assert "32.50%" in client.get("/tier-policies").text


def test_tier_policy_rejects_out_of_range_values(client, login_as):
    login_as("admin")
    response = post_form(
        client,
        "/tier-policies/silver/edit",
        {
            "discount_percent": "120",
            "min_commitment": "-5",
            "protection_days": "0",
            "approval_limit_percent": "5",
            "rebate_percent": "1",
        },
    )
    assert response.status_code == 200
    assert response.text.count('class="error"') >= 3
    assert 'value="120"' in response.text
    assert db.session.get(TierPolicy, "silver").protection_days == 90
