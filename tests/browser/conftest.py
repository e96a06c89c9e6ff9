"""Real Chromium driven by Playwright against a live server started by the tests.

Debian's Chromium, never a downloaded browser. Every test gets fresh browser
contexts (no cookies, storage or cache from another test). A JavaScript error or
a console error fails the test; a failed test leaves a screenshot and the HTML of
every page it had open in test-artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Route,
    expect,
    sync_playwright,
)
from pytest_django.live_server_helper import LiveServer

from tests.browser.pages import AXE_JS, AXE_URL_PATH
from tests.e2e import require_tools

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
# Long enough for a loaded CI machine, short enough that a broken page fails fast.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)

_SESSION_KEY = pytest.StashKey["BrowserSession"]()


@dataclass
class BrowserSession:
    """The contexts one test opened and the errors their pages reported."""

    browser: Browser
    base_url: str
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def new_context(self, **options) -> BrowserContext:
        options.setdefault("locale", "ja-JP")
        options.setdefault("timezone_id", "Asia/Tokyo")
        # No colour transitions: axe must judge the colours a person reads, not a
        # frame halfway through a hover fade.
        options.setdefault("reduced_motion", "reduce")
        context = self.browser.new_context(base_url=self.base_url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        # The copy button is tested by reading the clipboard back.
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.base_url)
        context.on("page", self._watch)
        context.route(self.base_url + AXE_URL_PATH, self._serve_axe)
        self.contexts.append(context)
        return context

    @staticmethod
    def _serve_axe(route: Route) -> None:
        route.fulfill(path=AXE_JS, content_type="text/javascript; charset=utf-8")

    def new_page(self, **options) -> Page:
        return self.new_context(**options).new_page()

    def allow_console_error(self, pattern: str) -> None:
        """An error the test provokes on purpose (a 404 or 403 page logs one)."""
        self.allowed.append(re.compile(pattern))

    def _watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        if message.location.get("url"):
            text += f" ({message.location['url']})"
        if not any(pattern.search(text) for pattern in self.allowed):
            self.errors.append(f"{page.url}: console error: {text}")

    def save_artifacts(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", name).strip("_")
        pages = [page for context in self.contexts for page in context.pages]
        for number, page in enumerate(pages, start=1):
            path = ARTIFACTS / f"{stem}-{number}"
            try:
                page.screenshot(path=f"{path}.png", full_page=True)
                Path(f"{path}.html").write_text(page.content())
            except Error as error:  # a crashed or closed page must not hide the real failure
                Path(f"{path}.txt").write_text(f"{page.url}: no screenshot: {error}\n")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    # pytest-django's, but on 127.0.0.1: "localhost" may be ::1 for Chromium and
    # 127.0.0.1 for the server. A file SQLite or PostgreSQL test database is
    # shared through transactional_db, which the live_server fixture brings in.
    server = LiveServer("127.0.0.1:0")
    yield server
    server.stop()


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    require_tools(CHROMIUM)
    # Playwright's sync API keeps an asyncio loop running in this thread while it is
    # started, and Django's ORM refuses to run beside a running loop. The tests'
    # own ORM calls are plain synchronous code, so the guard is a false alarm here;
    # it is lifted only while the browser is up (package scope).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser(
    request: pytest.FixtureRequest, chromium: Browser, live_server: LiveServer
) -> Iterator[BrowserSession]:
    session = BrowserSession(chromium, live_server.url)
    request.node.stash[_SESSION_KEY] = session
    yield session
    session.close()


@pytest.fixture
def page(browser: BrowserSession) -> Page:
    return browser.new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield
    session = item.stash.get(_SESSION_KEY, None)
    if session is not None and session.errors:
        pytest.fail("JavaScript or console errors:\n" + "\n".join(session.errors), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    session = item.stash.get(_SESSION_KEY, None)
    # After the call and before teardown closes the contexts: the pages are still there.
    if session is not None and report.when == "call" and report.failed:
        session.save_artifacts(item.nodeid)
    return report
