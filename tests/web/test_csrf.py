"""Every state-changing form refuses a request without a valid CSRF token."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from policyflow.web import create_app
from tests.conftest import STORE

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
