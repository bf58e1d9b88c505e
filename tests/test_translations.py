"""Every page speaks Chinese and English: untranslated text fails here, not in front of a user."""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser

import pytest

from i18n import AREAS, ROOT, missing_translations, python_files, template_files
from tests.conftest import post_form

# Words that stay as they are in a Chinese page (codes, units, product words).
KEEP = {"CNY", "SKU", "API", "ID", "CSV", "XLSX", "Excel", "USCC", "SLA", "OK", "PDF", "JSON"}
TEXT_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")

ALL_TEMPLATES = [path for area in AREAS for path in template_files(area)]
ALL_PYTHON = [path for area in AREAS for path in python_files(area)]


class _BareText(HTMLParser):
    """Collects visible text and text attributes that hold English words."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value:
                self._check(value)
            is_button = tag == "input" and dict(attrs).get("type") in ("submit", "button")
            if is_button and name == "value":
                self._check(value or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._check(data)

    def _check(self, text):
        words = [w for w in WORD.findall(text) if w not in KEEP]
        if words:
            self.found.append(" ".join(text.split()))


def bare_text(source: str) -> list[str]:
    """English text a template writes outside ``_()`` / ``{% trans %}`` (expressions removed)."""
    # {% trans %} ... {% endtrans %} blocks are translated: drop them whole.
    source = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", " ", source, flags=re.S)
    parser = _BareText()
    parser.feed(JINJA.sub(" ", source))
    parser.close()
    return parser.found


@pytest.mark.parametrize("path", ALL_TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_untranslatable_text(path):
    assert bare_text(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("area", AREAS, ids=lambda a: a.name)
def test_every_message_has_a_chinese_translation(area):
    assert missing_translations(area, "zh") == []


def _untranslated_calls(tree: ast.AST) -> list[str]:
    """flash("..."), form labels and validator messages given as plain strings."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        first = node.args[0] if node.args else None
        literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
        if name == "flash" and (literal or isinstance(first, ast.JoinedStr)):
            found.append(f"line {node.lineno}: flash({ast.unparse(first)})")
        if name and name.endswith("Field") and literal and first.value.strip():
            found.append(f"line {node.lineno}: {name}({first.value!r})")
        for keyword in node.keywords:
            if keyword.arg == "message" and isinstance(keyword.value, ast.Constant | ast.JoinedStr):
                found.append(f"line {node.lineno}: message={ast.unparse(keyword.value)}")
    return found


@pytest.mark.parametrize("path", ALL_PYTHON, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_messages_go_through_gettext(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert _untranslated_calls(tree) == []


def test_bare_text_finds_english_outside_gettext():
    assert bare_text("<p>Save the deal</p>") == ["Save the deal"]
    assert bare_text('<input placeholder="Search">') == ["Search"]
    assert bare_text("<p>{{ _('Save the deal') }}</p>") == []
    assert bare_text("<p>{% trans n=3 %}{{ n }} deals{% endtrans %}</p>") == []
    assert bare_text("<td>¥{{ x }} CNY</td><script>let a = 'b';</script>") == []


def test_accept_language_decides_before_the_user_chooses(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh"' in page.text and "渠道管理后台" in page.text
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en"' in page.text and "Channel back-office" in page.text
    page = client.get("/login")
    assert '<html lang="en"' in page.text


def test_the_language_chosen_on_the_profile_wins_over_the_browser(client, login_as):
    login_as("manager")
    response = post_form(client, "/profile/language", {"language": "zh"}, page_url="/profile")
    assert response.status_code == 302
    page = client.get("/profile", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh"' in page and "退出" in page
    post_form(client, "/profile/language", {"language": "en"}, page_url="/profile")
    page = client.get("/profile", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en"' in page and "Log out" in page


def test_an_unknown_language_is_refused_and_nothing_changes(client, login_as, app):
    from accounts.models import User
    from app import db

    user = login_as("manager")
    response = post_form(client, "/profile/language", {"language": "fr"}, page_url="/profile")
    assert response.status_code == 400
    assert db.session.get(User, user.id).language is None


def test_money_dates_and_percentages_follow_the_locale(app):
    from datetime import date
    from decimal import Decimal

    from flask_babel import refresh

    from i18n import day, money, percent

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert money(Decimal("1234.5")) == "¥1,234.50"
        assert day(date(2026, 3, 9)) == "2026年3月9日"
        assert percent(Decimal("0.255"), 1) == "25.5%"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refresh()  # the test's app context outlives the first request's locale
        assert money(Decimal("1234.5")) == "¥1,234.50"
        assert day(date(2026, 3, 9)) == "Mar 9, 2026"


def test_a_message_reads_the_same_in_every_catalogue():
    """Flask-Babel merges the catalogues and the last one wins: the same English must not
    have two Chinese translations (give the message a context or other words instead)."""
    from babel.messages.pofile import read_po

    seen: dict[str, dict[str, str]] = {}
    for area in AREAS:
        po_file = area.po_file("zh")
        if not po_file.exists():
            continue
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale="zh"):
                if message.id and message.string and not message.context:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    seen.setdefault(key, {})[area.name] = str(message.string)
    differing = {k: v for k, v in seen.items() if len(set(v.values())) > 1}
    assert differing == {}
