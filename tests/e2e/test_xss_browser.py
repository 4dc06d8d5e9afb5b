"""In a real browser, no stored payload runs: ``window.__xss`` stays undefined and no dialog opens.

A payload subset that sets ``window.__xss = 1`` when executed is stored in every place that keeps text
(tests/security/xss_world.py) in a database of this module's own (the shared live server's data stays
as the other browser tests expect), and the pages that show it are opened as ombuds staff and the public.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import DEMO_PASSWORD, TIMEOUT_MS, _free_port
from tests.security.xss_payloads import BROWSER_PAYLOADS


@pytest.fixture(scope="module")
def xss_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    from werkzeug.serving import make_server

    from policyflow import migrate
    from policyflow.db import make_engine, make_session_factory, transaction
    from policyflow.services import demo
    from policyflow.web import create_app
    from tests.conftest import STORE
    from tests.security import xss_world

    folder: Path = tmp_path_factory.mktemp("xss-e2e")
    database_url = f"sqlite:///{folder / 'db.sqlite3'}"
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with transaction(make_session_factory(engine)) as session:
        demo.load(session, STORE)
        world = xss_world.build(session, BROWSER_PAYLOADS * 2)
    engine.dispose()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POLICYFLOW_INSTANCE_PATH", str(folder / "instance"))
        env.setenv("POLICYFLOW_DATABASE_URL", database_url)
        app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "xss-e2e-secret"})
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="xss-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", world
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.config["SESSION_FACTORY"].kw["bind"].dispose()


def _pages(world: Any) -> list[str]:
    base = world.base
    code, review, commented = "XSSALL", world.review, base.reviews["stakeholder_comment"]
    return [f"/policies/{code}", f"/policies/{code}/versions/1", f"/policies/{code}/diff?from=1&to=2",
            f"/policies/{code}/diff?from=1&to=2&view=side", f"/policies/{code}/history", f"/reviews/{review}",
            f"/reviews/{commented}/comments", f"/reviews/{base.reviews['published']}/report",
            f"/reviews/{base.reviews['equity_review']}/equity-assessment", f"/reviews/{base.reviews['approval']}/packet",
            f"/policies/{base.codes['stakeholder_comment']}/versions/{base.note_version}", "/policies?q=XSS",
            f"/concerns/{base.concern + 1}", "/concerns", "/notifications", "/dashboard",
            "/search?q=" + quote(BROWSER_PAYLOADS[0]), "/public/policies/XSSIMP", f"/public/reviews/{commented}",
            f"/public/reviews/{base.reviews['published']}/report"]


def test_no_stored_payload_runs_in_the_browser(browser: Any, xss_site: tuple[str, Any]) -> None:
    url, world = xss_site
    context = browser.new_context(base_url=url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/login")
    page.fill("input[name=username]", "ombuds")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    executed = {}
    for path in _pages(world):
        page.goto(path)
        page.wait_for_load_state("load")
        if page.evaluate("typeof window.__xss") != "undefined":
            executed[path] = page.evaluate("window.__xss")
    public = browser.new_context(base_url=url).new_page()
    public.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in [p for p in _pages(world) if p.startswith(("/public", "/search"))]:
        public.goto(path)
        public.wait_for_load_state("load")
        if public.evaluate("typeof window.__xss") != "undefined":
            executed["public " + path] = 1
    context.close()
    assert not executed, executed
    assert not dialogs, dialogs
