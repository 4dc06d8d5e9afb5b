"""Every state-changing form refuses a request without a valid CSRF token.

The list of forms is the app's own routes: each page route that takes POST, PUT, PATCH or DELETE is
sent without a token and with a forged one, signed in as ombuds staff (who may do the most), and must
be refused before anything is written. A new route is covered without anyone adding it here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from policyflow.models import Event, User
from policyflow.web import create_app
from tests.conftest import REPO, STORE

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
SAMPLE = {"code": "JD", "name": "standard-review", "token": "a-receipt", "filename": "x"}


def _routes(app: Flask, *, api: bool) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") != api:
            continue
        for method in sorted(rule.methods & WRITES):
            path = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else SAMPLE[m.group(2)], rule.rule)
            found.append((method, path))
    return sorted(found)


_APP = create_app({"TESTING": True, "SECRET_KEY": "k", "DATABASE_URL": "sqlite://"})
PAGE_WRITES = _routes(_APP, api=False)
API_WRITES = [(method, path) for method, path in _routes(_APP, api=True) if path != "/api/v1/tokens"]

FORMS = [
    ("/login", {"username": "ombuds", "password": "demo-password"}),
    ("/logout", {}),
    ("/policies/new", {"code": "CSRF1", "title": "t", "text": "x"}),
    ("/policies/JD/edit", {"text": "x", "summary": "x", "base_version": "5", "action": "save"}),
]


@pytest.fixture
def csrf_client(session_factory: sessionmaker[Session]) -> FlaskClient:
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SESSION_FACTORY": session_factory, "STORE_SETTINGS": STORE})
    return app.test_client()


def _token(client: FlaskClient, path: str = "/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


@pytest.mark.parametrize(("path", "data"), FORMS)
def test_missing_or_wrong_token_is_refused(csrf_client: FlaskClient, path: str, data: dict[str, str]) -> None:
    token = _token(csrf_client)
    csrf_client.post("/login", data={"username": "ombuds", "password": "demo-password", "csrf_token": token})
    for bad in ({}, {"csrf_token": "forged"}):
        response = csrf_client.post(path, data={**data, **bad})
        assert response.status_code == 400, path
        assert "security token" in response.get_data(as_text=True)


def test_the_generated_list_covers_the_forms() -> None:
    assert len(PAGE_WRITES) >= 35 and ("POST", "/reviews/1/actions") in PAGE_WRITES and ("POST", "/logout") in PAGE_WRITES


@pytest.mark.parametrize(("method", "path"), PAGE_WRITES)
def test_every_page_write_refuses_a_missing_or_forged_token(csrf_client: FlaskClient, session: Session,
                                                             method: str, path: str) -> None:
    ombuds = session.scalar(select(User).where(User.username == "ombuds"))
    with csrf_client.session_transaction() as cookie:
        cookie["_user_id"] = f"{ombuds.id}:{ombuds.session_generation}"
        cookie["csrf_token"] = "the-real-one"
    events = session.scalar(select(func.count(Event.id)))
    for bad in ({}, {"csrf_token": "forged"}):
        response = csrf_client.open(path, method=method, data={"body": "x", "action": "withdraw", "note": "x", **bad})
        assert response.status_code == 400, (method, path, response.status_code)
        assert "security token" in response.get_data(as_text=True)
    # The autosave script sends JSON with the token in a header: a forged header is refused too.
    response = csrf_client.open(path, method=method, json={"answers": {}}, headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400, (method, path)
    assert session.scalar(select(func.count(Event.id))) == events  # nothing was written


@pytest.mark.parametrize(("method", "path"), API_WRITES)
def test_every_api_write_refuses_the_browser_sign_in(client: FlaskClient, session: Session, method: str, path: str) -> None:
    """The API needs no CSRF token because it never acts on a cookie: a signed-in browser is refused."""
    ombuds = session.scalar(select(User).where(User.username == "ombuds"))
    with client.session_transaction() as cookie:
        cookie["_user_id"] = f"{ombuds.id}:{ombuds.session_generation}"
    events = session.scalar(select(func.count(Event.id)))
    response = client.open(path, method=method, json={"body": "x", "action": "withdraw", "note": "x"})
    assert response.status_code == 403 and "API token" in response.get_json()["detail"], (method, path)
    assert session.scalar(select(func.count(Event.id))) == events


def test_every_form_in_the_templates_carries_the_token() -> None:
    templates = sorted((REPO / "templates").rglob("*.html"))
    assert templates
    missing = []
    for template in templates:
        text = template.read_text(encoding="utf-8")
        for form in re.finditer(r"<form\b[^>]*>(.*?)</form>", text, re.S | re.I):
            opening = form.group(0)[: form.group(0).index(">") + 1]
            if re.search(r'method="post"', opening, re.I) and "csrf_token" not in form.group(1):
                missing.append(f"{Path(template).relative_to(REPO)}: {opening}")
    assert not missing, "POST forms without a CSRF token: " + "; ".join(missing)


def test_valid_token_is_accepted(csrf_client: FlaskClient) -> None:
    token = _token(csrf_client)
    response = csrf_client.post("/login", data={"username": "ombuds", "password": "demo-password", "csrf_token": token})
    assert response.status_code == 302


def test_the_api_refuses_changes_made_with_the_browser_sign_in(client) -> None:
    """The API is exempt from CSRF tokens because it takes bearer tokens: a sign-in cookie must not do."""
    from tests.conftest import api_token, login

    login(client, "ombuds")
    body = {"code": "CSRFAPI", "title": "Forged", "text": "# Forged\n\nText.\n", "summary": "Forged."}
    refused = client.post("/api/v1/policies", json=body)
    assert refused.status_code == 403 and "need an API token" in refused.get_json()["detail"]
    assert client.get("/api/v1/policies/CSRFAPI").status_code == 404
    assert client.get("/api/v1/policies").status_code == 200  # reading is harmless
    token = api_token(client, "ombuds")  # exchanging credentials for a token still works
    assert client.post("/api/v1/policies", json=body, headers=token).status_code == 201
