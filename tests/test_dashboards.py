"""Each role's dashboard at /: figures equal the lists they link to, scoped to the role,
charts inline with no request to the internet, Chinese when the browser asks for it."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from accounts.models import utcnow
from app import db

URL_RE = re.compile(r"https?://[^\s\"'<>)]+")
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
DEAL_LINK_RE = re.compile(r'href="/deals/(\d+)"')


def figure(page: str, name: str) -> str:
    """The text of the element marked data-figure=name."""
    found = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', page)
    assert found, f"no figure {name}"
    return found.group(1).strip()


def link_of(page: str, name: str) -> str:
    found = re.search(rf'<a href="([^"]+)" data-figure="{name}"', page)
    assert found, f"no link on figure {name}"
    return html.unescape(found.group(1))


def listed_deal_ids(page: str) -> set[int]:
    return {int(i) for i in DEAL_LINK_RE.findall(page)}


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, re.S)


def _overdue(deal, days=1):
    deal.sla_due_at = utcnow() - timedelta(days=days)
    db.session.commit()
    return deal


@pytest.fixture
def managed(make_user, make_partner, make_deal):
    """Two managers with a gold and a silver partner each, and deals of every kind."""
    mine, other = make_user("manager"), make_user("manager")
    gold = make_partner(tier="gold", owner=mine)
    silver = make_partner(tier="silver", owner=mine)
    foreign = make_partner(tier="gold", owner=other)
    deals = {
        "overdue1": _overdue(make_deal(partner=gold)),
        "overdue2": _overdue(make_deal(partner=silver), days=3),
        "waiting": make_deal(partner=gold),
        "approved": make_deal(partner=gold, status="approved", protection_days=20),
        "passed": make_deal(partner=gold, status="approved", protection_days=-1),
        "rejected": make_deal(partner=silver, status="rejected"),
        "foreign": _overdue(make_deal(partner=foreign)),
        "foreign_open": make_deal(partner=foreign, status="approved", protection_days=40),
    }
    return {"mine": mine, "other": other, "gold": gold, "silver": silver, "deals": deals}


def test_manager_overdue_figure_equals_the_queue_it_links_to(client, managed):
    from tests.conftest import login

    login(client, managed["mine"].email)
    page = client.get("/").text
    assert figure(page, "overdue") == "2"
    queue = client.get(link_of(page, "overdue")).text
    assert queue.count('class="overdue"') == 2
    assert listed_deal_ids(queue) == {
        managed["deals"][k].id for k in ("overdue1", "overdue2", "waiting")
    }


def test_manager_pipeline_by_tier_counts_open_deals_of_its_partners_and_links_to_them(
    client, managed
):
    from tests.conftest import login

    login(client, managed["mine"].email)
    page = client.get("/").text
    deals = managed["deals"]
    gold_open = {deals[k].id for k in ("overdue1", "waiting", "approved")}
    links = re.findall(r'<a href="([^"]*tier=gold[^"]*)">(\d+)</a>', page)
    assert len(links) == 1
    url, count = html.unescape(links[0][0]), int(links[0][1])
    assert count == len(gold_open)
    assert "owner=me" in url and "status=open" in url
    listing = client.get(url).text
    assert listed_deal_ids(listing) == gold_open
    # The list shows the filters it came with, so filtering further keeps them.
    assert re.search(r'<option value="open" selected>', listing)
    assert re.search(r'<option value="gold" selected>', listing)
    assert re.search(r'name="owner" value="me" checked', listing)
    stage = re.findall(r'<a href="([^"]*stage=evaluation[^"]*)">(\d+)</a>', page)
    assert int(stage[0][1]) == 4  # every fixture deal is at the evaluation stage: 3 gold, 1 silver
    assert len(listed_deal_ids(client.get(html.unescape(stage[0][0])).text)) == 4


def test_admin_sees_the_whole_channel(client, login_as, managed):
    login_as("admin")
    page = client.get("/").text
    assert figure(page, "overdue") == "3"
    gold = re.findall(r'<a href="([^"]*tier=gold[^"]*)">(\d+)</a>', page)
    assert int(gold[0][1]) == 5  # the other manager's two open deals count too
    assert "owner=me" not in gold[0][0]


def test_manager_open_conflicts_equal_the_conflicts_list(client, managed, make_customer, make_deal):
    from deals.models import Conflict
    from tests.conftest import login

    deals = managed["deals"]
    db.session.add_all(
        [
            Conflict(kind="partner_overlap", deal_id=deals["waiting"].id, evidence={}),
            Conflict(kind="partner_overlap", deal_id=deals["foreign"].id, evidence={}),
            Conflict(
                kind="partner_overlap", deal_id=deals["overdue1"].id, evidence={}, status="resolved"
            ),
        ]
    )
    db.session.commit()
    login(client, managed["mine"].email)
    page = client.get("/").text
    assert figure(page, "open-conflicts") == "1"
    listed = client.get(link_of(page, "open-conflicts")).text
    assert len(set(re.findall(r'href="/conflicts/(\d+)"', listed))) == 1


def test_manager_attainment_flags_partners_behind_pro_rata(pinned_clock, client, managed):
    """Gold ordered 900 of 1,000,000 (behind on any day of the year), silver its whole 1,000
    (never behind): the dashboard flags gold only, whatever the date."""
    from clock import vendor_today
    from partners.commitments import OrderLineInput, attainments, record_stock_order
    from partners.models import StockCommitment
    from tests.conftest import login

    today = vendor_today()
    assert today == pinned_clock.date()
    gold, silver = managed["gold"], managed["silver"]
    for partner, amount, ordered in ((gold, "1000000.00", "900"), (silver, "1000.00", "1000")):
        db.session.add(
            StockCommitment(
                partner_id=partner.id,
                period=str(today.year),
                period_start=date(today.year, 1, 1),
                period_end=date(today.year, 12, 31),
                amount=Decimal(amount),
                signed_on=date(today.year, 1, 1),
                created_by_id=managed["mine"].id,
            )
        )
        record_stock_order(  # as the app records orders: the day's total is kept with it
            partner,
            number=f"SO-{partner.id}",
            order_date=today,
            lines=[OrderLineInput(_product(), 1, ordered)],
            user=None,
        )
    db.session.commit()
    login(client, managed["mine"].email)
    page = client.get("/").text
    assert "2 partners with a current commitment, 1 behind pro-rata" in page
    behind = re.search(r'<tr class="behind">\s*<td><a href="/partners/(\d+)"', page)
    assert behind and int(behind.group(1)) == gold.id
    expected = attainments([gold.id], today)[gold.id]
    from i18n import percent

    with client.application.test_request_context():
        assert percent(expected.attainment, 1) in page


def _product():
    from pricing.models import Product

    product = db.session.scalar(db.select(Product).limit(1))
    if product is None:
        product = Product(
            sku="BENCH-1",
            name="服务器",
            product_line="服务器",
            list_price=Decimal("1000.00"),
            floor_price=Decimal("500.00"),
        )
        db.session.add(product)
        db.session.flush()
    return product.id


def test_partner_sees_only_its_own_deals_and_expiries(client, login_as, make_partner, make_deal):
    mine, other = make_partner(tier="silver"), make_partner(tier="gold")
    submitted = make_deal(partner=mine)
    expiring = make_deal(partner=mine, status="approved", protection_days=10)
    make_deal(partner=mine, status="approved", protection_days=60)
    make_deal(partner=other)
    make_deal(partner=other, status="approved", protection_days=5)
    login_as("partner", partner=mine)
    page = client.get("/").text
    counts = dict(re.findall(r'data-status="([a-z_]+)">(\d+)<', page))
    assert counts == {"submitted": "1", "approved": "2"}
    listed = client.get("/registrations?status=submitted").text
    assert listed_deal_ids(listed) == {submitted.id}
    assert listed_deal_ids(page) == {expiring.id}  # only the protection ending within 30 days
    assert "Next tier: Gold" in page


def test_partner_next_tier_gap_from_its_commitment(client, login_as, make_partner):
    from partners.models import StockCommitment

    partner = make_partner(tier="silver")
    today = date.today()
    db.session.add(
        StockCommitment(
            partner_id=partner.id,
            period=str(today.year),
            period_start=date(today.year, 1, 1),
            period_end=date(today.year, 12, 31),
            amount=Decimal("2000000.00"),
            signed_on=date(today.year, 1, 1),
        )
    )
    db.session.commit()
    login_as("partner", partner=partner)
    page = client.get("/").text
    gold = db.session.get(__import__("partners.models").models.TierPolicy, "gold")
    gap = Decimal(gold.min_commitment) - Decimal("2000000.00")
    from i18n import money

    with client.application.test_request_context():
        assert money(gap) in figure(page, "next-tier")


def test_rep_sees_its_direct_deals_and_open_conflicts(
    client, login_as, make_user, make_deal, make_customer
):
    from deals.models import Conflict

    rep = login_as("rep")
    mine = make_deal(kind="direct", status="approved", created_by=rep)
    make_deal(kind="direct", status="won", created_by=rep)
    make_deal(kind="direct", status="approved", created_by=make_user("rep"))
    channel = make_deal()
    db.session.add(
        Conflict(kind="direct_deal", deal_id=channel.id, other_deal_id=mine.id, evidence={})
    )
    db.session.commit()
    page = client.get("/").text
    counts = dict(re.findall(r'data-status="([a-z_]+)">(\d+)<', page))
    assert counts == {"approved": "1", "won": "1"}
    assert listed_deal_ids(client.get("/direct-deals?status=approved").text) == {mine.id}
    assert figure(page, "open-conflicts") == "1"


def test_finance_figures_equal_the_channel_statement(client, login_as, make_partner):
    from finance.statements import StatementScope, build_statement, statement_period
    from partners.commitments import OrderLineInput, record_stock_order

    gold, silver = make_partner(tier="gold"), make_partner(tier="silver")
    today = date.today()
    for partner, price in ((gold, "12345.67"), (silver, "999.99")):
        record_stock_order(
            partner,
            number=f"F-{partner.id}",
            order_date=today,
            lines=[OrderLineInput(_product(), 3, price)],
            user=None,
        )
    db.session.commit()
    login_as("finance")
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    page = client.get("/").text
    totals = build_statement(StatementScope(), statement_period(quarter)).totals
    from i18n import money

    footer = re.search(r'<tr data-tier="total">(.*?)</tr>', page, re.S).group(1)
    with client.application.test_request_context():
        assert money(totals.ordered) in footer
        assert money(totals.rebate) in footer
    assert f"period={quarter}" in page  # tier rows link to the channel statement of the period
    other = client.get(f"/?period={today.year - 1}").text
    assert f"Period {today.year - 1} by tier" in other
    bad = client.get("/?period=nonsense")
    assert bad.status_code == 200 and 'role="alert"' in bad.text


@pytest.mark.parametrize("role", ["admin", "manager", "rep", "finance", "partner"])
def test_dashboard_charts_are_inline_svg_without_internet_urls(client, login_as, make_deal, role):
    user = login_as(role)
    if role == "partner":
        make_deal(partner=user.partner)
    page = client.get("/").text
    charts = svgs(page)
    assert charts, "no chart"
    for svg in charts:
        assert "<title>" in svg and "<desc>" in svg
        assert "<script" not in svg
        assert set(URL_RE.findall(svg)) <= NAMESPACES
    urls = set(URL_RE.findall(page))
    assert urls <= NAMESPACES, urls
    assert "dashboards.css" in page


def test_dashboard_in_chinese(client, make_user, managed):
    from tests.conftest import login

    login(client, managed["mine"].email)
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "审批队列" in page
    assert "按级别的在途商机" in page
    svg = svgs(page)[0]
    assert "金牌" in svg  # chart labels are translated too


def test_anonymous_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
