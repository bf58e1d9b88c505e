"""In a real Chromium: each demo role logs in through the form and sees its home page."""

import pytest

from tests.browser import SCREENSHOTS, screenshot

pytestmark = pytest.mark.browser

DEMO_ROLES = [
    ("admin@example.com", "Administrator", ["Users", "Audit log", "Tier policies"]),
    ("manager@example.com", "Channel manager", ["Partners", "End customers"]),
    ("rep@example.com", "Direct sales rep", ["End customers"]),
    ("finance@example.com", "Finance", ["Partners"]),
    ("partner@example.com", "Partner user", ["My company"]),
    ("partner2@example.com", "Partner user", ["My company"]),
]


def log_in(page, server, email, password="demo1234"):
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize(("email", "role_label", "menu"), DEMO_ROLES)
def test_demo_user_logs_in_and_sees_its_home_page(page, demo_server, email, role_label, menu):
    log_in(page, demo_server, email)
    page.wait_for_url(demo_server.url + "/")
    assert role_label.lower() in page.locator("main").inner_text().lower()
    nav = page.get_by_role("navigation", name="Main")
    for label in menu:
        assert nav.get_by_role("link", name=label).is_visible()
    if email != "admin@example.com":
        assert nav.get_by_role("link", name="Users").count() == 0
    screenshot(page, "home-" + email.split("@")[0])


def test_wrong_password_shows_error_in_browser(page, demo_server):
    log_in(page, demo_server, "manager@example.com", "not-the-password")
    error = page.locator("#password-error")
    assert error.inner_text() == "Email or password is not correct."
    assert page.get_by_label("Email").input_value() == "manager@example.com"


def test_partner_user_sees_only_its_company(page, demo_server):
    log_in(page, demo_server, "partner@example.com")
    page.wait_for_url(demo_server.url + "/")
    page.get_by_role("link", name="My company").first.click()
    assert "Gold" in page.locator("h1").inner_text()
    screenshot(page, "partner-company")
    response = page.goto(demo_server.url + "/partners")
    assert response.status == 403


def test_manager_dashboard_prints_its_charts_without_the_menu(page, demo_server):
    """Printed (print media, as Chromium prints it): no menu or filters, every chart and its
    table on the paper, bars in a colour dark enough for a black-and-white printer."""
    log_in(page, demo_server, "manager@example.com")
    page.wait_for_url(demo_server.url + "/")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    charts = page.locator("figure.chart svg")
    assert charts.count() >= 3
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box and box["width"] > 250 and box["height"] > 80
    bar_colours = page.eval_on_selector_all(
        "figure.chart svg .rect.reactive",
        "rects => rects.map(r => getComputedStyle(r).fill)",
    )
    assert bar_colours
    for colour in set(bar_colours):
        red, green, blue = (int(x) for x in colour[colour.index("(") + 1 : -1].split(",")[:3])
        assert 0.2126 * red + 0.7152 * green + 0.0722 * blue < 140, colour  # dark on white paper
    assert page.get_by_role("table").count() >= 4
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    (SCREENSHOTS / "manager-dashboard-print.pdf").write_bytes(pdf)
