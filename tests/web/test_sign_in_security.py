"""Sign-in throttling, session invalidation, password changes, cookie flags and what the request log keeps."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policyflow.models import ApiToken, Event, User
from policyflow.services import accounts
from policyflow.services.actors import Actor
from policyflow.web import create_app
from policyflow.web.request_log import JsonLines
from policyflow.web.request_log import log as request_log
from tests.conftest import STORE, login

PASSWORD = "demo-password"


def _app(session_factory: sessionmaker[Session], **config: object) -> Flask:
    # A secret of its own: the limiter's counts are keyed with it, so no other test's attempts count here.
    return create_app({"TESTING": True, "SECRET_KEY": f"secret-{uuid.uuid4().hex}", "SESSION_FACTORY": session_factory,
                       "WTF_CSRF_ENABLED": False, "STORE_SETTINGS": STORE, **config})


def test_failed_sign_ins_are_throttled_per_account_with_a_clear_message(session_factory: sessionmaker[Session]) -> None:
    client = _app(session_factory, LOGIN_RATE_LIMIT="3 per 15 minutes").test_client()
    for _ in range(3):
        assert client.post("/login", data={"username": "ombuds", "password": "wrong-password"}).status_code == 401
    refused = client.post("/login", data={"username": "ombuds", "password": PASSWORD})  # even the right one waits
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "Too many failed sign-in attempts" in page and "wait 15 minutes" in page
    assert int(refused.headers["Retry-After"]) > 0
    # The same account through the API's token exchange is throttled too; another account is not.
    api = client.post("/api/v1/tokens", json={"username": "OMBUDS ", "password": PASSWORD})
    assert api.status_code == 429 and "Too many failed sign-in attempts" in api.get_json()["detail"]
    assert client.post("/login", data={"username": "reviewer", "password": PASSWORD}).status_code == 302


def test_a_strangers_failures_do_not_lock_the_owner_out(session_factory: sessionmaker[Session]) -> None:
    """Anyone who knows the ombuds' user name could otherwise keep the office out of its own tool."""
    app = _app(session_factory, LOGIN_RATE_LIMIT="2 per 15 minutes")
    stranger, owner = app.test_client(), app.test_client()
    def attempt(client: FlaskClient, address: str, password: str) -> int:
        return client.post("/login", data={"username": "ombuds", "password": password},
                           environ_base={"REMOTE_ADDR": address}).status_code
    assert [attempt(stranger, "198.51.100.7", "wrong-password") for _ in range(3)] == [401, 401, 429]
    assert attempt(owner, "203.0.113.20", PASSWORD) == 302  # the owner, elsewhere, signs in
    # Guessing from many addresses meets the account's overall ceiling: ten times the allowance.
    spread = [attempt(app.test_client(), f"192.0.2.{n}", "wrong-password") for n in range(1, 20)]
    assert spread[:18] == [401] * 18 and spread[18] == 429  # 20 failures in all, 2 of them the first stranger's
    assert attempt(app.test_client(), "203.0.113.21", PASSWORD) == 429


def test_successful_sign_ins_do_not_count(session_factory: sessionmaker[Session]) -> None:
    app = _app(session_factory, LOGIN_RATE_LIMIT="2 per 15 minutes")
    for _ in range(4):
        client = app.test_client()
        assert client.post("/login", data={"username": "leader1", "password": PASSWORD}).status_code == 302


def test_one_visitor_guessing_many_accounts_is_throttled(session_factory: sessionmaker[Session]) -> None:
    client = _app(session_factory, LOGIN_RATE_LIMIT="1 per 15 minutes").test_client()
    statuses = [client.post("/login", data={"username": f"guess{n}", "password": "x" * 10}).status_code for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]  # four times one account's allowance


def test_the_limiter_never_stores_a_username_or_an_address(session_factory: sessionmaker[Session]) -> None:
    from policyflow.web.limits import limiter

    client = _app(session_factory).test_client()
    client.post("/login", data={"username": "ombuds", "password": "wrong-password"})
    keys = " ".join(str(key) for key in [*limiter.storage.storage, *limiter.storage.events])  # memory storage's counters
    assert keys and "ombuds" not in keys and "127.0.0.1" not in keys


def _signed_in(app: Flask, username: str = "stakeholder") -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def test_changing_the_password_signs_out_every_other_browser(session_factory: sessionmaker[Session], session: Session) -> None:
    app = _app(session_factory)
    here, elsewhere = _signed_in(app), _signed_in(app)
    token = app.test_client().post("/api/v1/tokens", json={"username": "stakeholder", "password": PASSWORD}).get_json()["token"]
    assert elsewhere.get("/notifications").status_code == 200
    wrong = here.post("/account/password", data={"current_password": "not-it-at-all", "new_password": "a-new-passphrase"})
    assert wrong.status_code == 401 and "current password is not right" in wrong.get_data(as_text=True)
    short = here.post("/account/password", data={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.get_data(as_text=True)
    changed = here.post("/account/password", data={"current_password": PASSWORD, "new_password": "a-new-passphrase",
                                                   "revoke_tokens": "on"})
    assert changed.status_code == 302
    assert here.get("/notifications").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/notifications").status_code == 302  # the other one must sign in again
    assert app.test_client().get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": "stakeholder", "password": PASSWORD}).status_code == 401
    assert fresh.post("/login", data={"username": "stakeholder", "password": "a-new-passphrase"}).status_code == 302
    session.expire_all()
    assert session.scalar(select(Event).where(Event.action == "user.password_changed").order_by(Event.id.desc())).data == \
        {"tokens_revoked": 1}


def test_guessing_the_current_password_is_throttled_like_signing_in(session_factory: sessionmaker[Session]) -> None:
    """Someone at a browser left signed in cannot guess the password by trying to change it."""
    app = _app(session_factory, LOGIN_RATE_LIMIT="3 per 15 minutes")
    borrowed = _signed_in(app, "reviewer")
    for guess in ("guess-number-1", "guess-number-2", "guess-number-3"):
        assert borrowed.post("/account/password", data={"current_password": guess,
                                                        "new_password": "a-new-passphrase"}).status_code == 401
    refused = borrowed.post("/account/password", data={"current_password": PASSWORD, "new_password": "a-new-passphrase"})
    assert refused.status_code == 429 and "Too many failed sign-in attempts" in refused.get_data(as_text=True)
    assert app.test_client().post("/login", data={"username": "reviewer", "password": PASSWORD}).status_code == 429
    assert _signed_in(app, "leader1").post("/account/password", data={  # another account is not held back
        "current_password": PASSWORD, "new_password": "a-new-passphrase"}).status_code == 302


def test_keeping_api_tokens_is_a_choice(session_factory: sessionmaker[Session], session: Session) -> None:
    app = _app(session_factory)
    here = _signed_in(app)
    token = app.test_client().post("/api/v1/tokens", json={"username": "stakeholder", "password": PASSWORD}).get_json()["token"]
    assert here.post("/account/password", data={"current_password": PASSWORD, "new_password": "a-new-passphrase"}).status_code == 302
    assert app.test_client().get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_password_page_is_for_signed_in_users(session_factory: sessionmaker[Session]) -> None:
    app = _app(session_factory)
    assert app.test_client().get("/account/password").headers["Location"].startswith("/login?next=/account/password")
    page = _signed_in(app).get("/account/password").get_data(as_text=True)
    assert 'autocomplete="new-password"' in page and "every other browser signed in as you is signed out" in page


def test_an_administrator_resets_a_password_and_ends_every_session(session_factory: sessionmaker[Session], session: Session) -> None:
    app = _app(session_factory)
    signed_in = _signed_in(app, "reviewer")
    with session_factory() as writer:
        accounts.reset_password(writer, Actor.system(), "Reviewer", "reset-by-the-admin")
        writer.commit()
    assert signed_in.get("/dashboard").status_code == 302
    assert app.test_client().post("/login", data={"username": "reviewer", "password": "reset-by-the-admin"}).status_code == 302
    stakeholder = Actor.of(session.scalar(select(User).where(User.username == "stakeholder")))
    with pytest.raises(accounts.PermissionDenied):
        accounts.reset_password(session, stakeholder, "reviewer", "not-allowed-to")


def test_session_cookie_is_secure_when_served_over_https(session_factory: sessionmaker[Session],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYFLOW_BASE_URL", "https://policies.example.org")
    client = _app(session_factory).test_client()
    response = client.post("/login", data={"username": "ombuds", "password": PASSWORD}, base_url="https://policies.example.org")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/policies", "/public/policies/JD", "/api/v1/no-such-thing"])
def test_security_headers_on_pages_api_and_errors(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    csp = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert csp["script-src"] == "'self'" and "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.fixture
def request_lines() -> Iterator[list[str]]:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.setFormatter(JsonLines())
    request_log.addHandler(handler)
    level = request_log.level
    request_log.setLevel(logging.INFO)  # as the app's own handler sets it, whichever is added first
    yield lines
    request_log.removeHandler(handler)
    request_log.setLevel(level)


def test_request_log_lines_carry_nothing_personal(session_factory: sessionmaker[Session], session: Session,
                                                  request_lines: list[str]) -> None:
    from policyflow.models import Review

    app = _app(session_factory, COMMENT_RATE_LIMIT="1000 per hour")
    review = session.scalar(select(Review).where(Review.state == "stakeholder_comment"))
    client = app.test_client()
    secret = {"name": "Xiomara Quiñones-Vega", "email": "xiomara.qv@example.org", "body": "My son was sent home twice."}
    confidential = client.post(f"/public/reviews/{review.id}/comments", data={**secret, "identity": "confidential"},
                               environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert confidential.status_code == 200
    receipt = re.search(r"/public/comments/receipt/([\w-]+)", confidential.get_data(as_text=True)).group(1)
    client.get(f"/public/comments/receipt/{receipt}", environ_base={"REMOTE_ADDR": "203.0.113.77"})
    client.post(f"/public/reviews/{review.id}/comments", data={"body": "Anonymous words here.", "identity": "anonymous"},
                environ_base={"REMOTE_ADDR": "198.51.100.9"})
    client.get("/search?q=Xiomara", environ_base={"REMOTE_ADDR": "203.0.113.77"})
    signed_in_stakeholder = _signed_in(app, "stakeholder")  # an account holder may still comment anonymously
    assert signed_in_stakeholder.post(f"/public/reviews/{review.id}/comments",
                                      data={"body": "Anonymous words again.", "identity": "anonymous"}).status_code == 200
    staff = _signed_in(app, "ombuds")
    staff.get(f"/reviews/{review.id}/comments")
    everything = "\n".join(request_lines)
    for private in (*secret.values(), "Xiomara", receipt, "203.0.113.77", "198.51.100.9", "Anonymous words", "demo-password"):
        assert private not in everything, private
    records = [json.loads(line) for line in request_lines]
    routes = [(r["method"], r["route"], r["status"]) for r in records]
    assert ("POST", "/public/reviews/<int:review_id>/comments", 200) in routes
    assert ("GET", "/public/comments/receipt/<token>", 200) in routes
    stakeholder = session.scalar(select(User).where(User.username == "stakeholder"))
    assert not any(r.get("user_id") == stakeholder.id for r in records)  # only staff are named, never a commenter
    receipt_line = next(r for r in records if r["route"] == "/public/comments/receipt/<token>")
    assert receipt_line["ids"] == {} and "user_id" not in receipt_line  # the secret link is not logged, nor anyone
    triage = next(r for r in records if r["route"] == "/reviews/<int:review_id>/comments")
    ombuds = session.scalar(select(User).where(User.username == "ombuds"))
    assert triage["ids"] == {"review_id": review.id} and triage["user_id"] == ombuds.id and triage["duration_ms"] >= 0
    assert all(len(r["request_id"]) == 16 for r in records)


def test_a_request_whose_commit_fails_is_logged_as_the_error_it_became(session_factory: sessionmaker[Session],
                                                                        request_lines: list[str]) -> None:
    from policyflow.web.requests import db

    app = _app(session_factory, PROPAGATE_EXCEPTIONS=False)  # a 500 page, as in production
    app.logger.disabled = True

    @app.route("/_test/unfinished-write")
    def unfinished_write() -> str:
        db().add(User(username="ombuds", display_name="A second ombuds", password_hash="x"))  # fails on commit
        return "written?"

    response = app.test_client().get("/_test/unfinished-write")
    assert response.status_code == 500
    logged = [json.loads(line) for line in request_lines if '"/_test/unfinished-write"' in line]
    assert [line["status"] for line in logged] == [500]


def test_unrevoked_tokens_survive_nothing_else(session: Session) -> None:
    """The reset revokes every token (the person may not know which program leaked it)."""
    user = session.scalar(select(User).where(User.username == "leader2"))
    accounts.create_token(session, user, "one")
    accounts.create_token(session, user, "two")
    accounts.reset_password(session, Actor.system(), "leader2", "another-long-one")
    assert all(t.revoked_at is not None for t in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))
