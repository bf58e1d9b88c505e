"""At phone width (375 px) every role's main pages fit: the page itself never scrolls sideways;
wide tables scroll inside their own box instead."""

import pytest

from tests.browser import screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
DEMO_EMAILS = [
    "admin@example.com",
    "manager@example.com",
    "rep@example.com",
    "finance@example.com",
    "partner@example.com",
]
# Pages worth a picture in the README (role, path).
SCREENSHOTS = {
    ("manager@example.com", "/"),
    ("finance@example.com", "/statements?scope=channel&period=2026"),
}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, server, email, password="demo1234"):
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + "/")


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def main_pages(page, server) -> list[str]:
    """Home, every page of the role's menu, and the statement figures for those who have them."""
    links = page.locator("#main-menu a")  # folded at phone width: read the links, not the view
    paths = ["/"]
    for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        if href and href.startswith("/") and href not in paths:
            paths.append(href)
    if "/statements" in paths:
        paths.append("/statements?scope=channel&period=2026")
    return paths


@pytest.mark.parametrize("email", DEMO_EMAILS)
def test_main_pages_fit_a_phone_screen(phone, demo_server, email):
    log_in(phone, demo_server, email)
    paths = main_pages(phone, demo_server)
    assert len(paths) > 1
    too_wide = {}
    for path in paths:
        response = phone.goto(demo_server.url + path)
        assert response.status == 200, path
        width = page_width(phone)
        if width > PHONE["width"] + 1:
            too_wide[path] = width
        if (email, path) in SCREENSHOTS:
            slug = path.strip("/").split("?")[0].replace("/", "-") or "home"
            screenshot(phone, f"phone-{email.split('@')[0]}-{slug}")
    assert too_wide == {}


def test_the_menu_stays_usable_at_phone_width(phone, demo_server):
    log_in(phone, demo_server, "manager@example.com")
    nav = phone.get_by_role("navigation", name="Main")
    # The menu starts folded behind its button, so the page starts near the top of the screen.
    toggle = phone.get_by_role("button", name="Menu")
    assert not nav.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert toggle.bounding_box()["height"] >= 40
    toggle.click()
    assert nav.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    link = nav.get_by_role("link", name="Statements")
    assert link.bounding_box()["height"] >= 40  # a finger-sized target
    link.click()
    phone.wait_for_url(demo_server.url + "/statements")
    button = phone.get_by_role("button", name="Show figures")
    box = button.bounding_box()
    assert box["height"] >= 40 and box["x"] + box["width"] <= PHONE["width"]
