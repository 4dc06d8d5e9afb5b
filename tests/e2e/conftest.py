"""Browser tests: a live server on a throwaway SQLite database, one Chromium per session, axe on every page.

Debian's Chromium (/usr/bin/chromium) is driven through Playwright; ``playwright install`` is never
needed. Without Chromium or Playwright the tests are skipped on a developer's machine and fail in CI
(``CI=true``), so a green CI always means the browser tests ran.

Every page a test loads must pass axe-core's WCAG 2.1 A/AA rules. ``visit`` navigates and checks;
``check_a11y`` checks the current state after in-page changes (a preview, a conflict, change
navigation). A page load that no check followed fails the test at teardown, so a new test cannot
forget the audit by clicking through to a page it never checks.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI") == "true"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
DEMO_PASSWORD = "demo-password"
TIMEOUT_MS = 10_000


def _unavailable(reason: str) -> None:
    """Skip on a developer's machine, fail in CI: browser tests must never silently vanish there."""
    if IN_CI:
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class LiveServer:
    url: str
    database_url: str
    app: Any = None  # tests may move its CLOCK (config) forward, and must put it back


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app on 127.0.0.1, backed by a migrated SQLite database holding the demo data."""
    from werkzeug.serving import make_server

    from policyflow import migrate
    from policyflow.db import make_engine, make_session_factory, transaction
    from policyflow.services import demo
    from policyflow.services.policies import StoreSettings
    from policyflow.web import create_app

    folder = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite:///{folder / 'db.sqlite3'}"
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with transaction(make_session_factory(engine)) as session:
        demo.load(session, StoreSettings())
    engine.dispose()

    # create_app reads the environment when called; set it only for that call.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POLICYFLOW_INSTANCE_PATH", str(folder / "instance"))
        env.setenv("POLICYFLOW_DATABASE_URL", database_url)
        env.setenv("POLICYFLOW_SECRET_KEY", "e2e-secret-key")
        env.setenv("POLICYFLOW_BASE_URL", "http://127.0.0.1")
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "e2e-secret-key"})

    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", database_url=database_url, app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.config["SESSION_FACTORY"].kw["bind"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        _unavailable(f"playwright is not importable: {error}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def axe() -> Any:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError as error:
        _unavailable(f"axe-playwright-python is not importable: {error}")
    return Axe()


def format_violations(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"{len(violations)} WCAG 2.1 A/AA violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


@dataclass
class Audit:
    """Which loaded pages axe has checked; a load that no check followed is a test failure."""

    axe: Any
    unchecked: str | None = None
    missed: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def loaded(self, url: str) -> None:
        if self.unchecked is not None:
            self.missed.append(self.unchecked)
        self.unchecked = url

    def check(self, page: Any, label: str = "") -> None:
        where = page.url + (f" [{label}]" if label else "")
        self.checked.append(where)
        self.unchecked = None
        key = page.evaluate(FINGERPRINT)
        if key in _PASSED:
            return  # the very same document, at the same size and focus, already passed
        violations = self.axe.run(page, options=AXE_OPTIONS).response["violations"]
        assert not violations, format_violations(where, violations)
        _PASSED.add(key)


# What axe's result depends on: the markup (less the CSRF token, which changes on every render), the
# viewport and the focused element; the stylesheets are the same all session. A document whose
# fingerprint already passed is not audited again, which keeps the suite fast without skipping a page.
FINGERPRINT = """() => {
  const html = document.documentElement.outerHTML.replace(/name="csrf_token" value="[^"]*"/g, "");
  const focused = document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : "";
  return [innerWidth, innerHeight, focused, html].join("\u0000");
}"""
_PASSED: set[str] = set()


@pytest.fixture
def audit(axe: Any) -> Audit:
    return Audit(axe)


@pytest.fixture
def context(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser profile (no cookies) per test."""
    ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


def track(page: Any, audit: Audit) -> Any:
    page.on("load", lambda loaded: audit.loaded(loaded.url))
    return page


@pytest.fixture
def page(context: Any, audit: Audit) -> Iterator[Any]:
    page = track(context.new_page(), audit)
    yield page
    assert not audit.missed and audit.unchecked is None, (
        f"pages loaded without an axe check: {[*audit.missed, *filter(None, [audit.unchecked])]}"
    )


@pytest.fixture
def new_page(context: Any, audit: Audit) -> Any:
    """Another tab in the same profile (same signed-in user), audited like ``page``."""

    def make() -> Any:
        return track(context.new_page(), audit)

    return make


@pytest.fixture
def visit(audit: Audit) -> Any:
    """Navigate, check the HTTP status, wait for scripts, then run axe on the page."""

    def go(page: Any, path: str, status: int = 200) -> Any:
        response = page.goto(path, wait_until="load")
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"{path}: HTTP {response.status}, expected {status}"
        audit.check(page)
        return response

    return go


@pytest.fixture
def check_a11y(audit: Audit) -> Any:
    """Run axe on the page as it is now (after a click, a form submission or a script change)."""
    return audit.check


@pytest.fixture(scope="session")
def signed_in_cookies() -> dict[str, list[dict[str, Any]]]:
    """Session cookies per user, so each user signs in through the form once per test session."""
    return {}


@pytest.fixture
def login(visit: Any, audit: Audit, signed_in_cookies: dict[str, list[dict[str, Any]]]) -> Any:
    """Sign in through the form the first time; later, reuse that user's cookies (argon2 is slow on purpose).

    ``fresh=True`` always uses the form and keeps the cookies out of the cache (for tests that sign out,
    which ends every session of that user).
    """

    def sign_in(page: Any, username: str, *, fresh: bool = False) -> None:
        if not fresh and username in signed_in_cookies:
            page.context.add_cookies(signed_in_cookies[username])
            return
        visit(page, "/login")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Sign in").click()
        assert page.url.endswith("/dashboard"), page.url
        audit.check(page)
        assert page.locator(".flash-success").inner_text().startswith("Signed in as ")
        if not fresh:
            signed_in_cookies[username] = page.context.cookies()

    return sign_in
