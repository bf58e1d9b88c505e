"""Every page each role can open: every input has a label, the page says its language, and a
form's error messages are tied to their field.

Walks the same routes and sample records as the access matrix (tests/test_access.py), so a
new page is checked as soon as it is registered.
"""

from html.parser import HTMLParser

import pytest

from tests.test_access import ALL, EXPECTED, PUBLIC, _url, is_token_only, routes, sample_args

__all__ = ["sample_args"]  # the fixture, shared with the access matrix

UNLABELLED_TYPES = {"hidden", "submit", "button", "image", "reset"}


class FormControls(HTMLParser):
    """Collects the form controls of a page and what names them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.label_depth = 0
        self.label_for: set[str] = set()
        self.controls: list[dict] = []
        self.ids: set[str] = set()
        self.html_lang: str | None = None
        self.described_by: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if attrs.get("aria-describedby"):
            self.described_by.extend(attrs["aria-describedby"].split())
        if tag == "html":
            self.html_lang = attrs.get("lang")
        elif tag == "label":
            self.label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and (attrs.get("type") or "text") in UNLABELLED_TYPES:
                return
            self.controls.append({**attrs, "_tag": tag, "_in_label": self.label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label" and self.label_depth:
            self.label_depth -= 1

    def unlabelled(self) -> list[str]:
        missing = []
        for control in self.controls:
            named = (
                control["_in_label"]
                or control.get("id") in self.label_for
                or control.get("aria-label")
                or control.get("aria-labelledby")
            )
            if not named:
                missing.append(f"<{control['_tag']} name={control.get('name')!r}>")
        return missing


def pages_for(app, client, role, args):
    """(url, html) of every page the role may open with a GET."""
    for rule in routes(app):
        expected = EXPECTED[rule.endpoint]
        if "GET" not in rule.methods or is_token_only(rule.endpoint):
            continue
        if expected != PUBLIC and role not in expected:
            continue
        url = _url(app, rule, args)
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            yield url, response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("role", sorted(ALL))
def test_every_input_on_every_page_has_a_label(app, client, login_as, sample_args, role, language):
    user = login_as(role, partner=sample_args["partner"] if role == "partner" else None)
    sample_args["claim"](user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9" if language == "zh" else "en"
    failures, checked = [], 0
    for url, page in pages_for(app, client, role, sample_args["args"]):
        parser = FormControls()
        parser.feed(page)
        checked += len(parser.controls)
        if parser.html_lang is None or not parser.html_lang.startswith(language):
            failures.append(f"{url}: <html lang={parser.html_lang!r}>, expected {language}")
        missing = parser.unlabelled()
        if missing:
            failures.append(f"{url}: no label for {', '.join(missing)}")
        dangling = [ref for ref in parser.described_by if ref not in parser.ids]
        if dangling:
            failures.append(f"{url}: aria-describedby points at nothing: {dangling}")
    assert checked, "no form control found at all: the walk is broken"
    assert not failures, "\n".join(failures)
