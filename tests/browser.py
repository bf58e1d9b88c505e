"""Live server and Chromium for the browser tests (Playwright driving Debian's chromium)."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app, db

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The browser's path; skip (or fail in CI, where REQUIRE_BROWSER=1) when it is missing."""
    path = chromium_path()
    if path is None:
        reason = "Chromium is not installed (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(reason + " but REQUIRE_BROWSER is set")
        pytest.skip(reason)
    return path


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The app with the demo data on its own SQLite file, served on a free local port."""
    from seed import seed_demo

    db_file = tmp_path_factory.mktemp("live") / "demo.sqlite"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}",
            "SECRET_KEY": "browser-test",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        seed_demo()
        db.session.commit()
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
