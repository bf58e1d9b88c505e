"""In a real Chromium: a partner registers a deal, the manager approves it, and resolves a conflict.

The tests share the module's demo server and run in order: the second one approves the deal the
first one submitted. The third one (conflict) stands on its own.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

import pytest
from sqlalchemy import select

from tests.browser import screenshot

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

PASSWORD = "demo1234"
PROJECT_NAME = "浏览器测试数据中心扩容项目"
GOLD_DISCOUNT = Decimal("0.30")

# What the first test leaves for the second one.
journey: dict = {}


def log_in(page, server, email, password=PASSWORD):
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")


def nav_link(page, label):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=label)


@pytest.fixture
def new_page(browser):
    """A page in a fresh browser context (its own cookies), for a second user."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    yield context.new_page()
    context.close()


def pick_customer_and_product(app):
    """A channel customer nobody has registered (so no conflict) and the cheapest product."""
    from customers.models import EndCustomer
    from deals.models import Deal
    from pricing.models import Product

    with app.app_context():
        from app import db

        used = select(Deal.customer_id)
        candidates = db.session.scalars(
            select(EndCustomer)
            .where(
                EndCustomer.coverage == "channel",
                EndCustomer.owner_rep_id.is_(None),
                EndCustomer.id.not_in(used),
            )
            .order_by(EndCustomer.id)
        ).all()
        taken = {
            c.name[:4]
            for c in db.session.scalars(select(EndCustomer).where(EndCustomer.id.in_(used)))
        }
        # Prefer a company name whose start matches no registered customer (no fuzzy overlap).
        customer = next(
            (c for c in candidates if c.name.endswith("有限公司") and c.name[:4] not in taken),
            candidates[0],
        )
        product = db.session.scalars(
            select(Product)
            .where(Product.active.is_(True))
            .order_by(Product.list_price, Product.sku)
        ).first()
        return (
            {"id": customer.id, "name": customer.name},
            {"id": product.id, "sku": product.sku, "list_price": product.list_price},
        )


def test_partner_registers_a_deal(page, demo_server):
    customer, product = pick_customer_and_product(demo_server.app)
    # At or above the gold tier price, whole yuan rounded up: no special price needed.
    unit_price = (product["list_price"] * (1 - GOLD_DISCOUNT)).quantize(
        Decimal("1"), rounding=ROUND_CEILING
    )
    close_date = (date.today() + timedelta(days=90)).isoformat()

    log_in(page, demo_server, "partner@example.com")
    nav_link(page, "Registrations").click()
    page.get_by_role("link", name="New registration").click()
    page.wait_for_url(re.compile(r"/registrations/new$"))
    assert page.locator("h1").inner_text() == "New registration"

    # Customer type-ahead: type part of the name, pick the suggestion.
    search = page.get_by_role("combobox", name="End customer")
    search.press_sequentially(customer["name"][:-2], delay=30)
    option = page.get_by_role("listbox", name="Matching customers").get_by_role(
        "option", name=customer["name"]
    )
    option.first.click()
    assert search.input_value() == customer["name"]
    assert page.locator("#customer_id").input_value() == str(customer["id"])
    assert (
        "Existing customer selected: " + customer["name"]
        in page.locator("#customer-picked").inner_text()
    )
    assert page.locator("#new-customer").is_hidden()

    page.get_by_label("Project name").fill(PROJECT_NAME)
    page.get_by_label("Estimated value (CNY)").fill("1,200,000")
    page.get_by_label("Expected close date").fill(close_date)
    page.get_by_label("Stage").select_option(label="Evaluation")
    page.get_by_label("Funding source").select_option(label="Own budget")
    line = page.get_by_role("group", name="Line 1")
    line.get_by_label("Product").select_option(value=str(product["id"]))
    line.get_by_label("Quantity").fill("1.5")
    line.get_by_label("Requested unit price (CNY)").fill(str(unit_price))
    screenshot(page, "registration-form")
    page.get_by_role("button", name="Submit", exact=True).click()

    # Back on the form: the message sits next to the quantity and what was typed is kept.
    error = page.locator("#lines-0-quantity-error")
    error.wait_for()
    assert error.inner_text() == "The quantity must be a positive whole number."
    quantity = page.get_by_role("group", name="Line 1").get_by_label("Quantity")
    assert quantity.get_attribute("aria-invalid") == "true"
    assert quantity.get_attribute("aria-describedby") == "lines-0-quantity-error"
    assert quantity.input_value() == "1.5"
    assert page.get_by_label("Project name").input_value() == PROJECT_NAME
    assert page.get_by_label("Estimated value (CNY)").input_value() == "1,200,000"
    assert page.get_by_label("Expected close date").input_value() == close_date
    assert page.get_by_role("combobox", name="End customer").input_value() == customer["name"]
    assert page.locator("#customer_id").input_value() == str(customer["id"])
    line = page.get_by_role("group", name="Line 1")
    assert line.get_by_label("Product").input_value() == str(product["id"])
    assert line.get_by_label("Requested unit price (CNY)").input_value() == str(unit_price)
    # Only the quantity is wrong.
    assert page.locator("p.error").count() == 1
    screenshot(page, "registration-error")

    quantity.fill("2")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(re.compile(r"/deals/\d+$"))
    expect(page.locator(".flash[role=status]")).to_have_text("Submitted.")
    expect(page.get_by_test_id("deal-status")).to_have_text("Submitted")
    assert page.locator("h1").inner_text() == PROJECT_NAME
    body = page.locator("main").inner_text()
    assert customer["name"] in body
    assert "¥1,200,000.00" in body
    screenshot(page, "deal-submitted-partner")
    journey["deal_url"] = page.url
    journey["customer"] = customer


def test_manager_approves_the_deal(new_page, demo_server):
    if "deal_url" not in journey:
        pytest.skip("the registration test did not submit a deal")
    page = new_page
    log_in(page, demo_server, "manager@example.com")
    nav_link(page, "Approval queue").click()
    page.wait_for_url(re.compile(r"/queue"))
    row = page.get_by_role("row").filter(has_text=PROJECT_NAME)
    assert row.count() == 1
    assert journey["customer"]["name"] in row.inner_text()
    screenshot(page, "queue")
    row.get_by_role("link", name=PROJECT_NAME).click()
    page.wait_for_url(journey["deal_url"])
    assert page.get_by_test_id("deal-status").inner_text() == "Submitted"

    page.get_by_role("button", name="Approve (180 days protection)").click()
    expect(page.get_by_test_id("deal-status")).to_have_text("Approved")
    facts = page.locator("dl.facts").first
    match = re.search(r"Protection until\s+(.+)", facts.inner_text())
    assert match, facts.inner_text()
    shown = match.group(1).strip()  # as the locale writes a day: "Sep 3, 2026"
    # Gold: 180 days of protection (counted in UTC, so allow a day either way).
    until = datetime.fromisoformat(facts.locator("time").first.get_attribute("datetime")).date()
    assert abs((until - (date.today() + timedelta(days=180))).days) <= 1
    expect(page.locator(".flash[role=status]")).to_have_text(
        f"Deal approved; protection runs until {shown}."
    )
    screenshot(page, "deal-approved")


def open_partner_overlap(app, manager_email):
    """An open partner_overlap conflict between two partners both owned by the manager."""
    from accounts.models import User
    from deals.models import Conflict

    with app.app_context():
        from app import db

        manager = db.session.scalar(select(User).where(User.email == manager_email))
        for conflict in db.session.scalars(
            select(Conflict)
            .where(Conflict.kind == "partner_overlap", Conflict.status == "open")
            .order_by(Conflict.id)
        ):
            other = conflict.other_deal
            if (
                other is not None
                and conflict.deal.partner.owner_id == manager.id
                and other.partner is not None
                and other.partner.owner_id == manager.id
            ):
                return {
                    "id": conflict.id,
                    "project": conflict.deal.project_name,
                    "other_project": other.project_name,
                }
    return None


def test_manager_resolves_a_partner_overlap(new_page, demo_server):
    page = new_page
    email = "manager@example.com"
    conflict = open_partner_overlap(demo_server.app, email)
    if conflict is None:
        email = "admin@example.com"
        conflict = open_partner_overlap(demo_server.app, "manager2@example.com")
    assert conflict is not None, "the demo data has no open partner_overlap conflict"

    log_in(page, demo_server, email)
    nav_link(page, "Conflicts").click()
    page.get_by_label("Status").select_option(label="Open")
    page.get_by_label("Kind").select_option(label="Two partners registering the same customer")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"status=open"))
    card = (
        page.locator("article.conflict")
        .filter(has_text=conflict["project"])
        .filter(has_text=conflict["other_project"])
        .first
    )
    card.get_by_role("link", name="Two partners registering the same customer").click()
    page.wait_for_url(demo_server.url + f"/conflicts/{conflict['id']}")
    assert "open" in page.locator("h1").inner_text()

    page.get_by_label("Channel keeps it").check()
    page.get_by_label("Note").fill("两家伙伴确认由先报备方跟进（浏览器测试）")
    page.get_by_role("button", name="Resolve conflict").click()
    expect(page.locator(".flash[role=status]")).to_have_text("Conflict resolved: Channel keeps it.")
    assert "resolved" in page.locator("h1").inner_text()
    decision = page.locator("section.card").first.inner_text()
    assert "Channel keeps it by" in decision
    assert "两家伙伴确认由先报备方跟进（浏览器测试）" in decision
    assert page.get_by_role("button", name="Resolve conflict").count() == 0
    screenshot(page, "conflict-resolved")


def _yuan(text: str) -> Decimal:
    """'¥1,234.50' as shown on a page → Decimal('1234.50')."""
    return Decimal(re.sub(r"[^\d.\-]", "", text))


def test_finance_downloads_a_statement_and_it_reads_back(new_page, demo_server, tmp_path):
    from openpyxl import load_workbook

    from partners.models import Partner

    with demo_server.app.app_context():
        from app import db

        partner = db.session.scalars(
            select(Partner).where(Partner.tier == "gold").order_by(Partner.id)
        ).first()
        partner_id, partner_name, uscc = partner.id, partner.name, partner.uscc
    year = str(date.today().year)

    page = new_page
    log_in(page, demo_server, "finance@example.com")
    nav_link(page, "Statements").click()
    page.get_by_role("radio", name="One partner").check()
    page.locator("select[name=partner]").select_option(value=str(partner_id))
    page.get_by_label("Period").fill(year)
    page.get_by_role("button", name="Show figures").click()
    page.wait_for_url(re.compile(r"period=" + year))
    row = page.locator("table tbody tr").filter(has_text=partner_name)
    cells = row.locator("td")
    shown_committed = _yuan(cells.nth(3).inner_text())
    shown_ordered = _yuan(cells.nth(4).inner_text())
    assert shown_ordered > 0
    screenshot(page, "statement-figures")

    page.get_by_role("button", name="Export to Excel").click()
    page.wait_for_url(re.compile(r"/statements/jobs/\d+$"))
    link = page.locator("#job-download a")
    expect(link).to_be_visible(timeout=30_000)
    screenshot(page, "statement-export-done")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"statement-{uscc}-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    wb = load_workbook(saved)
    summary = wb["Summary"]
    assert summary["A2"].value == partner_name and summary["B2"].value == uscc
    assert summary["H2"].data_type == "n" and summary["I2"].data_type == "n"
    assert Decimal(str(summary["H2"].value)).quantize(Decimal("0.01")) == shown_committed
    assert Decimal(str(summary["I2"].value)).quantize(Decimal("0.01")) == shown_ordered
    assert "¥" in summary["I2"].number_format or "CNY" in summary["I2"].number_format
    assert summary["I3"].value == "=SUM(I2:I2)"
    orders = wb[wb.sheetnames[1]]
    # The order lines add up to the ordered amount the page showed.
    header = [c.value for c in orders[1]]
    amount_column = next(i for i, h in enumerate(header) if h and "Amount" in str(h))
    total = Decimal(0) + sum(
        Decimal(str(r[amount_column]))
        for r in orders.iter_rows(min_row=2, values_only=True)
        if isinstance(r[amount_column], int | float) and r[0] is not None and r[0] != "Total"
    )
    assert total.quantize(Decimal("0.01")) == shown_ordered


def test_user_switches_to_chinese_and_sees_the_dashboard_in_chinese(new_page, demo_server):
    page = new_page
    log_in(page, demo_server, "manager@example.com")
    assert page.locator("html").get_attribute("lang") == "en"
    nav_link(page, "Profile").click()
    page.get_by_label("Language").select_option(value="zh")
    page.get_by_role("button", name="Save language").click()
    expect(page.locator(".flash[role=status]")).to_have_text("语言已保存。")
    assert page.locator("html").get_attribute("lang") == "zh"

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="首页").click()
    page.wait_for_url(demo_server.url + "/")
    expect(page.locator("h1")).to_contain_text("渠道")
    body = page.locator("main").inner_text()
    assert "审批" in body  # the approval queue's health
    assert page.locator("main svg").count() >= 1  # the charts are drawn
    assert not re.search(r"\b(Approval queue|Overdue|Pipeline)\b", body)
    screenshot(page, "dashboard-manager-zh")

    # Back to English for the other tests of this server.
    page.goto(demo_server.url + "/profile")
    page.get_by_label("语言").select_option(value="en")
    page.get_by_role("button", name="保存语言").click()
    expect(page.locator(".flash[role=status]")).to_have_text("Language saved.")


def test_finance_imports_stock_orders_and_sees_the_page_working_meanwhile(
    new_page, demo_server, tmp_path
):
    """While the file is checked the page says so, with the time spent, and the button cannot
    send it twice; then the outcome is shown and the orders are recorded."""
    from openpyxl import Workbook

    from partners.models import Partner, StockOrder
    from pricing.models import Product

    with demo_server.app.app_context():
        from app import db

        partner = db.session.scalars(select(Partner).order_by(Partner.id)).first()
        product = db.session.scalars(select(Product).order_by(Product.id)).first()
        uscc, sku, price = partner.uscc, product.sku, str(product.list_price)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        ["Order number", "Partner credit code", "Order date", "SKU", "Quantity", "Unit price (CNY)"]
    )
    for number in ("BROWSER-IMPORT-1", "BROWSER-IMPORT-2"):
        sheet.append([number, uscc, date.today().isoformat(), sku, 3, price])
    upload = tmp_path / "orders.xlsx"
    workbook.save(upload)

    page = new_page
    log_in(page, demo_server, "finance@example.com")
    nav_link(page, "Imports").click()
    section = page.locator("#import-stock_orders")
    section.get_by_label("Excel file (.xlsx)").set_input_files(str(upload))
    # First hold the form in the page (a listener after ours cancels the submission), so the
    # waiting state can be read without a request in flight.
    page.evaluate(
        """() => window.addEventListener("submit", window.holdSubmit = (event) => {
            event.preventDefault();
        })"""
    )
    button = section.get_by_role("button", name=re.compile("^Import"))
    button.click()
    status = section.get_by_role("status")
    expect(status).to_contain_text("Every row is checked before anything is written")
    expect(status).to_contain_text(re.compile(r"\d+ s so far"))
    expect(button).to_be_disabled()
    expect(status).to_contain_text(re.compile(r"[2-9] s so far"), timeout=5_000)
    # Then let it go: the file is imported and the outcome shown.
    page.evaluate(
        """() => {
            window.removeEventListener("submit", window.holdSubmit);
            document.querySelector("#import-stock_orders form").requestSubmit();
        }"""
    )
    expect(page.locator(".flash[role=status]")).to_contain_text("2 created")
    with demo_server.app.app_context():
        from app import db

        numbers = set(
            db.session.scalars(
                select(StockOrder.number).where(StockOrder.number.like("BROWSER-IMPORT-%"))
            )
        )
    assert numbers == {"BROWSER-IMPORT-1", "BROWSER-IMPORT-2"}


def _open_suggestions(app, typed: str) -> dict:
    """The demo registration whose customer a partner typed as ``typed``, with its suggestion."""
    from customers.models import EndCustomer
    from deals.models import Deal, DealSuggestion

    with app.app_context():
        from app import db

        row = db.session.execute(
            select(Deal.id, Deal.project_name, DealSuggestion.id)
            .join(EndCustomer, EndCustomer.id == Deal.customer_id)
            .join(DealSuggestion, DealSuggestion.deal_id == Deal.id)
            .where(EndCustomer.name == typed, DealSuggestion.status == "open")
        ).first()
        assert row is not None, f"the demo data has no open suggestion for {typed}"
        return {"deal_id": row[0], "project": row[1], "suggestion_id": row[2]}


@pytest.mark.parametrize(
    ("typed", "button", "flash", "status"),
    [
        (
            "中国移动",
            "Same customer: open a conflict",
            "Same customer: a conflict is open on this deal.",
            "Turned into a conflict",
        ),
        (
            "中国石油",
            "Another customer: dismiss",
            "Suggestion dismissed: another customer.",
            "Dismissed",
        ),
    ],
    ids=["convert", "dismiss"],
)
def test_manager_decides_a_possible_match_from_the_queue(
    new_page, demo_server, typed, button, flash, status
):
    page = new_page
    found = _open_suggestions(demo_server.app, typed)
    log_in(page, demo_server, "manager@example.com")
    nav_link(page, "Approval queue").click()
    row = page.locator("tr").filter(has=page.locator(f'a[href="/deals/{found["deal_id"]}"]'))
    expect(row.get_by_test_id("suggestion-flag")).to_have_text("1 possible match to review")
    row.locator(f'a[href="/deals/{found["deal_id"]}"]').first.click()
    page.wait_for_url(demo_server.url + f"/deals/{found['deal_id']}")
    suggestions = page.get_by_test_id("suggestions")
    expect(suggestions).to_contain_text(typed)
    expect(suggestions).to_contain_text("a short name of the other")
    suggestions.get_by_role("button", name=button).click()
    expect(page.locator(".flash[role=status]")).to_have_text(flash)
    expect(page.locator(f'tr[data-suggestion="{found["suggestion_id"]}"]')).to_contain_text(status)
    if typed == "中国移动":
        expect(page.locator(".lead")).to_contain_text("open conflict")
        screenshot(page, "suggestion-converted")
    else:
        expect(page.locator(".lead")).not_to_contain_text("open conflict")
