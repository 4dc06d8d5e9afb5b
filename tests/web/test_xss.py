"""No stored or reflected payload ever reaches a page, an export or an API's HTML as live markup.

Every payload of the corpus (tests/security/xss_payloads.py) is stored in every place that keeps text
(see tests/security/xss_world.py), then every page the permission matrix knows, the pages of the
payload-bearing objects, the searches for each payload and every export are fetched as the roles that see
the most (ombuds staff, the public, leadership) and parsed: no script that is not ours, no event handler,
no inline style, no script URL, no element our templates never make; CSV cells never start a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from policyflow.models import User
from policyflow.web import create_app
from tests.conftest import STORE
from tests.security import xss_world
from tests.security.markup import formula_cells, live_markup
from tests.security.xss_payloads import PAYLOADS, TEMPLATE_INJECTION
from tests.web.test_permission_matrix import MATRIX

ROLES = {"ombuds": "ombuds", "leadership": "leader2", "anonymous": None}
SKIPPED_RULES = {"/static/<path:filename>", "/healthz", "/readyz", "/api/v1/openapi.json"}


@dataclass
class Site:
    app: Flask
    world: xss_world.XssWorld
    sign_ins: dict[str, str]


@pytest.fixture(scope="module")
def site(engine: Engine) -> Iterator[Site]:
    """One world holding every payload, for the whole module; rolled back at its end."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    with factory() as session:
        world = xss_world.build(session, PAYLOADS)
        session.commit()
        sign_ins = {}
        for role, username in ROLES.items():
            if username:
                user = session.scalar(select(User).where(User.username == username))
                sign_ins[role] = f"{user.id}:{user.session_generation}"
    app = create_app({"TESTING": True, "SECRET_KEY": "xss-secret", "SESSION_FACTORY": factory,
                      "WTF_CSRF_ENABLED": False, "STORE_SETTINGS": STORE})
    yield Site(app, world, sign_ins)
    outer.rollback()
    connection.close()


def _client(site: Site, role: str) -> FlaskClient:
    client = site.app.test_client()
    if role in site.sign_ins:
        with client.session_transaction() as cookie:
            cookie["_user_id"] = site.sign_ins[role]
            cookie["_fresh"] = True
    return client


def _paths(site: Site) -> list[str]:
    """Every GET page of the permission matrix, plus the pages of the payload-bearing objects."""
    values = site.world.base.fields()
    paths = {case.path.format(**values) for route in MATRIX if route.method == "GET" and route.rule not in SKIPPED_RULES
             for case in route.cases}
    code, imported, review = xss_world.XSS_CODE, xss_world.IMPORTED_CODE, site.world.review
    paths |= {f"/policies/{code}", f"/policies/{code}/history", f"/policies/{code}/edit",
              f"/policies/{code}/versions/1", f"/policies/{code}/versions/2", f"/policies/{code}/diff?from=1&to=2",
              f"/policies/{code}/diff?from=1&to=2&view=side", f"/reviews/{review}", f"/reviews/{review}/packet",
              f"/reviews/{review}/equity-assessment", f"/public/policies/{imported}", f"/public/policies/{imported}/diff",
              f"/api/v1/policies/{code}/versions/2", f"/api/v1/policies/{code}/diff?from=1&to=2",
              f"/api/v1/policies/{code}/events", f"/api/v1/policies/{code}/annotations?version=1",
              f"/api/v1/reviews/{review}", "/policies?page=2", "/policies?page=3", "/policies?q=XSS",
              "/search?q=Paragraph", "/search?q=comment", "/search?q=XSS&kind=note", "/concerns/overview"}
    paths |= {f"/policies/{titled}" for titled in site.world.titled[::10]}
    return sorted(paths)


def _html_values(body: Any, key: str = "") -> Iterator[str]:
    """The strings of a JSON body that are meant to be HTML (``html``, ``*_html``, ``snippet``)."""
    if isinstance(body, dict):
        for name, value in body.items():
            yield from _html_values(value, name)
    elif isinstance(body, list):
        for value in body:
            yield from _html_values(value, key)
    elif isinstance(body, str) and (key == "html" or key.endswith("_html") or key == "snippet"):
        yield body


def problems_in(response: Any) -> list[str]:
    mimetype = response.mimetype or ""
    text = response.get_data(as_text=True)
    if mimetype == "text/html":
        return live_markup(text)
    if mimetype == "text/csv":
        return [f"formula cell {cell[:40]!r}" for cell in formula_cells(list(csv.reader(io.StringIO(text))))]
    if "json" in mimetype:
        return [problem for value in _html_values(json.loads(text)) for problem in live_markup(value)]
    return [f"unexpected type {mimetype}"]


def test_the_payloads_were_stored_everywhere(site: Site) -> None:
    """The world really holds the payloads (a refused write would make the page checks vacuous)."""
    stored = site.world.stored
    for place in ("title", "annotation", "public note", "comment", "concern"):
        assert stored.get(place, 0) >= len(PAYLOADS) // 2 if place != "concern" else stored.get(place, 0) >= 10, (place, stored)
    for place in ("hide reason", "equity answers", "action note", "decision note", "recusal", "import"):
        assert stored.get(place) == 1, (place, stored, site.world.refused)


@pytest.mark.parametrize("role", list(ROLES))
def test_no_page_or_export_shows_a_payload_as_markup(site: Site, role: str) -> None:
    client = _client(site, role)
    token_headers: dict[str, str] = {}
    failures: dict[str, list[str]] = {}
    shown = 0
    for path in _paths(site):
        response = client.get(path, headers=token_headers)
        assert response.status_code < 500, (path, response.status_code)
        if response.status_code != 200:
            continue
        shown += 1
        problems = problems_in(response)
        if problems:
            failures[path] = sorted(set(problems))[:5]
    assert not failures, json.dumps(failures, indent=1)
    assert shown > 30


def test_searching_for_a_payload_reflects_it_as_text(site: Site) -> None:
    """Each payload as the query of the search page; every third also on the other pages that echo a query."""
    client = _client(site, "ombuds")
    failures: dict[str, list[str]] = {}
    triage = f"/reviews/{site.world.base.reviews['stakeholder_comment']}/comments"
    for number, payload in enumerate(PAYLOADS):
        query = quote(payload, safe="")
        others = (f"/policies?q={query}", f"/api/v1/search?q={query}", f"{triage}?q={query}") if number % 3 == 0 else ()
        for path in (f"/search?q={query}", *others):
            response = client.get(path)
            assert response.status_code < 500, (path, response.status_code)
            problems = problems_in(response) if response.status_code == 200 else []
            if problems:
                failures[path] = problems[:5]
    assert not failures, json.dumps(failures, indent=1)


def test_template_syntax_in_text_is_shown_literally(site: Site) -> None:
    """Text that looks like a template is never evaluated: ``{{7*7}}`` stays ``{{7*7}}``."""
    page = _client(site, "ombuds").get(f"/policies/{xss_world.XSS_CODE}/versions/1").get_data(as_text=True)
    import html

    shown = html.unescape(page)
    for payload in TEMPLATE_INJECTION:
        assert payload in shown


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil.example\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_formula_start_is_kept_as_text_in_every_export(value: str) -> None:
    """The one rule every CSV export uses (policyflow.core.spreadsheet)."""
    from policyflow.core.spreadsheet import text_cell

    assert text_cell(value) == "'" + value
    assert text_cell("A plain answer") == "A plain answer"
    assert text_cell("") == ""
