"""Whole pages served again from the per-process page cache (web.page_cache) must be exactly what the view
would render for that session on the database as it is now: never a page from before a commit (by anyone:
the web, a service in another process, plain SQL), never another session's page or token, never a lost or
repeated message.

These run on a database whose commits are real (``committed_engine``): the suite's usual rolled-back
transaction has no change stamp, so the cache stays off there. Each test makes a policy of its own.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, delete, event, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from policyflow import change_stamp
from policyflow.db import make_session_factory, transaction
from policyflow.models import Policy, User, UserRole
from policyflow.models.base import utcnow
from policyflow.services import annotations, demo, policies
from policyflow.services.actors import Actor
from policyflow.web import create_app
from tests.conftest import STORE

TEXT = ("# Page cache test\n\nStudents experiencing homelessness are enrolled at once, without the usual "
        "records.\n\nFamilies may ask the ombuds office for help at any time.\n")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def factory(committed_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(committed_engine)


def _app(factory: sessionmaker[Session], **config: object) -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret-key", "SESSION_FACTORY": factory,
                       "STORE_SETTINGS": STORE, **config})


@pytest.fixture
def app(factory: sessionmaker[Session]) -> Flask:
    """CSRF on: the token each cached page carries must be the session's own and must work."""
    return _app(factory)


@pytest.fixture
def statements(committed_engine: Engine) -> Iterator[list[str]]:
    """The SQL statements the app sends through its engine (the change stamp reads on a connection of its own)."""
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    event.listen(committed_engine, "before_cursor_execute", count)
    yield sent
    event.remove(committed_engine, "before_cursor_execute", count)


def _display_names(factory: sessionmaker[Session]) -> dict[str, str]:
    with transaction(factory) as session:
        return {name: shown for name, shown in session.execute(select(User.username, User.display_name))}


def _actor(session: Session, username: str) -> Actor:
    return Actor.of(session.scalar(select(User).where(User.username == username)))


@pytest.fixture
def code(factory: sessionmaker[Session]) -> str:
    """A policy of this test's own, with a confidential and an internal note on its version 1."""
    code = f"PC{uuid.uuid4().hex[:8].upper()}"
    with transaction(factory) as session:
        ombuds = _actor(session, "ombuds")
        policies.create_policy(session, ombuds, STORE, code=code, title="Page cache test", text=TEXT, summary="first")
        policy = session.scalar(select(Policy).where(Policy.code == code))
        start = TEXT.index("Students")
        annotations.create(session, ombuds, policy, 1, target={"start": start, "end": start + 8},
                           body="Confidential: a family asked not to be named.", visibility="confidential")
        start = TEXT.index("Families")
        annotations.create(session, ombuds, policy, 1, target={"start": start, "end": start + 8},
                           body="Internal: check with legal.", visibility="internal")
    return code


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    token = _TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    client.get("/")  # shows (and so clears) the "Signed in as" message
    return client


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _served_from_cache(client: FlaskClient, path: str, statements: list[str]) -> str:
    """The page, once a request for it sent no SQL. On PostgreSQL the stamp is the whole server's, so another
    test process committing meanwhile may make a request miss: try for a while."""
    deadline = time.monotonic() + 20
    while True:
        statements.clear()
        page = _page(client, path)
        if not statements:
            return page
        assert time.monotonic() < deadline, f"never served from the cache: {statements[:3]}"


def _ombuds_with_kept_page(app: Flask, code: str, statements: list[str]) -> tuple[FlaskClient, str]:
    """The ombuds signed in, with version 1 of ``code`` rendered once and then served from the cache."""
    path = f"/policies/{code}/versions/1"
    ombuds = _signed_in(app, "ombuds")
    _page(ombuds, path)
    _served_from_cache(ombuds, path, statements)
    return ombuds, path


def _without_token(page: str) -> str:
    return _TOKEN.sub("token", page)


def test_a_page_seen_again_is_served_from_the_cache_with_the_sessions_own_working_token(
        app: Flask, code: str, statements: list[str]) -> None:
    path = f"/policies/{code}/versions/1"
    ombuds = _signed_in(app, "ombuds")
    rendered = _page(ombuds, path)
    cached = _served_from_cache(ombuds, path, statements)
    assert _without_token(cached) == _without_token(rendered)
    assert "Confidential: a family asked not to be named." in cached

    # The token in the cached page is this session's, and a form sent with it is accepted.
    token = _TOKEN.search(cached).group(1)
    added = ombuds.post(f"{path}/annotations", data={"quote": "enrolled at once", "body": "Added with a cached token.",
                                                    "visibility": "internal", "csrf_token": token})
    assert added.status_code == 302, added.get_data(as_text=True)[:300]
    assert "Added with a cached token." in _page(ombuds, path)

    # Another browser of the same person gets its own token, never the first one's.
    other = _signed_in(app, "ombuds")
    _page(other, path)
    theirs = _served_from_cache(other, path, statements)
    their_token = _TOKEN.search(theirs).group(1)
    assert token not in theirs
    assert other.post(f"{path}/annotations", data={"quote": "without the usual", "body": "Their own token works.",
                                                   "visibility": "internal", "csrf_token": their_token}).status_code == 302
    assert ombuds.post(f"{path}/annotations", data={"quote": "without the usual", "body": "A token from elsewhere.",
                                                    "visibility": "internal", "csrf_token": their_token}).status_code == 400


@pytest.mark.parametrize("path", ["/policies/{code}/versions/1", "/policies/{code}", "/policies/{code}/diff?from=1&to=2"])
def test_no_reader_ever_gets_a_page_kept_for_another(app: Flask, factory: sessionmaker[Session], code: str, path: str,
                                                     statements: list[str]) -> None:
    with transaction(factory) as session:
        policy = session.scalar(select(Policy).where(Policy.code == code))
        policies.save_version(session, _actor(session, "ombuds"), STORE, policy, text=TEXT + "\nA second version.\n",
                              summary="second", base_version=1)
    path = path.format(code=code)
    names = _display_names(factory)
    # Everyone signs in first (a sign-in is a commit), so the ombuds' page is in the cache when they ask.
    ombuds, reviewer, stakeholder = (_signed_in(app, name) for name in ("ombuds", "reviewer", "stakeholder"))
    _page(ombuds, path)
    _served_from_cache(ombuds, path, statements)

    for _ in range(2):  # rendered for them, then from the cache: the same page
        seen = _page(reviewer, path)
        assert "Confidential: a family asked not to be named." not in seen
        assert re.search(r'class="who"[^>]*>([^<]+)<', seen).group(1) == names["reviewer"]
    for client in (stakeholder, app.test_client()):
        for _ in range(2):
            response = client.get(path)
            assert response.status_code in (302, 403, 404), response.status_code
            assert b"Confidential" not in response.data and b"Internal: check with legal" not in response.data


def test_a_commit_by_anyone_shows_on_the_very_next_request(app: Flask, factory: sessionmaker[Session],
                                                            committed_engine: Engine, code: str,
                                                            statements: list[str]) -> None:
    ombuds, path = _ombuds_with_kept_page(app, code, statements)

    # Plain SQL, as an administrator at a database prompt would write it.
    with committed_engine.begin() as connection:
        connection.execute(text("UPDATE policies SET title = 'Renamed at the prompt' WHERE code = :code"), {"code": code})
    assert "Renamed at the prompt" in _page(ombuds, path)

    # A service in another process (a second worker, the API, the CLI).
    with transaction(factory) as session:
        policy = session.scalar(select(Policy).where(Policy.code == code))
        start = TEXT.index("records")
        annotations.create(session, _actor(session, "reviewer"), policy, 1, target={"start": start, "end": start + 7},
                           body="A reviewer's note from elsewhere.", visibility="internal")
    assert "A reviewer's note from elsewhere." in _page(ombuds, path)

    # A second worker: a page it keeps is never older than a write made through the first.
    second = _app(factory)
    second_client = _signed_in(second, "ombuds")
    _page(second_client, path)
    _served_from_cache(second_client, path, statements)
    token = _TOKEN.search(_page(ombuds, path)).group(1)
    ombuds.post(f"{path}/annotations", data={"quote": "at any time", "body": "Written through the first worker.",
                                             "visibility": "public", "csrf_token": token})
    assert "Written through the first worker." in _page(second_client, path)


def test_signing_out_and_losing_a_role_take_effect_at_once(app: Flask, factory: sessionmaker[Session], code: str,
                                                           statements: list[str]) -> None:
    path = f"/policies/{code}/versions/1"
    reviewer = _signed_in(app, "reviewer")
    _page(reviewer, path)
    assert "Internal: check with legal." in _served_from_cache(reviewer, path, statements)

    # A copy of the session cookie (another tab, or a stolen one) stops working when its owner signs out.
    copy = app.test_client()
    copy.set_cookie("session", reviewer.get_cookie("session").value)
    assert "Internal: check with legal." in _page(copy, path)
    token = _TOKEN.search(_page(reviewer, path)).group(1)
    assert reviewer.post("/logout", data={"csrf_token": token}).status_code == 302
    response = copy.get(path)
    assert response.status_code in (302, 404) and b"Internal: check with legal." not in response.data

    reviewer = _signed_in(app, "reviewer")
    _page(reviewer, path)
    _served_from_cache(reviewer, path, statements)
    with transaction(factory) as session:
        user_id = session.scalar(select(User.id).where(User.username == "reviewer"))
        session.execute(delete(UserRole).where(UserRole.user_id == user_id, UserRole.role == "reviewer"))
    try:
        response = reviewer.get(path)
        assert b"Internal: check with legal." not in response.data
    finally:
        with transaction(factory) as session:
            session.add(UserRole(user_id=user_id, role="reviewer"))


def test_a_message_shows_once_whatever_was_cached(app: Flask, code: str, statements: list[str]) -> None:
    path = f"/policies/{code}/versions/1"
    ombuds = _signed_in(app, "ombuds")
    page = _page(ombuds, path)
    _served_from_cache(ombuds, path, statements)
    note_id = re.search(r'id="note-(\d+)"', page).group(1)
    response = ombuds.post(f"/annotations/{note_id}/status", data={"status": "resolved", "back": path,
                                                                   "csrf_token": _TOKEN.search(page).group(1)})
    assert response.status_code == 302
    shown = _page(ombuds, path)
    assert 'class="flash flash-success"' in shown
    assert 'class="flash' not in _page(ombuds, path)
    assert 'class="flash' not in _served_from_cache(ombuds, path, statements)


def test_filtered_views_and_unknown_parameters_are_always_rendered(app: Flask, code: str, statements: list[str]) -> None:
    ombuds = _signed_in(app, "ombuds")
    for path in (f"/policies/{code}/versions/1?visibility=confidential", f"/policies/{code}/versions/1?anything=1"):
        for _ in range(3):
            statements.clear()
            _page(ombuds, path)
            assert statements, path
    # The same session cookie from another browser: Flask-Login's session protection runs, so the view does.
    path = f"/policies/{code}/versions/1"
    _served_from_cache(ombuds, path, statements)
    statements.clear()
    assert ombuds.get(path, headers={"User-Agent": "another browser"}).status_code == 200
    assert statements


def test_an_edited_definition_file_and_a_new_day_show_at_once(factory: sessionmaker[Session], code: str,
                                                              statements: list[str], tmp_path: Path) -> None:
    folder = tmp_path / "workflows"
    shutil.copytree(demo_workflows(), folder)
    clock = {"now": utcnow()}
    app = _app(factory, CLOCK=lambda: clock["now"])
    app.config["POLICYFLOW_SETTINGS"] = dataclasses.replace(app.config["POLICYFLOW_SETTINGS"], workflows_dir=folder)
    path = f"/policies/{code}/versions/1"
    ombuds = _signed_in(app, "ombuds")
    _page(ombuds, path)
    assert "tag-added-by-the-district" not in _served_from_cache(ombuds, path, statements)

    vocabulary = folder / "vocabularies.yaml"
    added = "annotation_tags:\n  tag-added-by-the-district: Added by the district\n"
    vocabulary.write_text(vocabulary.read_text().replace("annotation_tags:\n", added, 1))
    assert "tag-added-by-the-district" in _page(ombuds, path)

    _served_from_cache(ombuds, path, statements)
    clock["now"] += timedelta(days=1)
    statements.clear()
    _page(ombuds, path)
    assert statements, "a new day renders the page again (periods and effective dates turn on dates)"


def demo_workflows() -> Path:
    from policyflow.resources import workflows_dir

    return Path(workflows_dir())


def test_the_request_log_names_staff_on_a_cached_page_and_never_anyone_else(app: Flask, code: str,
                                                                           statements: list[str]) -> None:
    lines: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = lines.append  # type: ignore[method-assign]
    logger = logging.getLogger("policyflow.requests")
    logger.addHandler(handler)
    try:
        path = f"/policies/{code}/versions/1"
        ombuds = _signed_in(app, "ombuds")
        _page(ombuds, path)
        lines.clear()
        _served_from_cache(ombuds, path, statements)
        with transaction(app.config["SESSION_FACTORY"]) as session:
            ombuds_id = session.scalar(select(User.id).where(User.username == "ombuds"))
        hit = lines[-1].fields  # type: ignore[attr-defined]
        assert hit["page_cache"] == "hit" and hit["user_id"] == ombuds_id and hit["status"] == 200

        public = f"/public/policies/{_published_code(app)}"
        stakeholder = _signed_in(app, "stakeholder")
        _page(stakeholder, public)
        lines.clear()
        _served_from_cache(stakeholder, public, statements)
        assert lines[-1].fields.get("page_cache") == "hit" and "user_id" not in lines[-1].fields  # type: ignore[attr-defined]
    finally:
        logger.removeHandler(handler)


def _published_code(app: Flask) -> str:
    with transaction(app.config["SESSION_FACTORY"]) as session:
        return session.scalar(select(Policy.code).where(Policy.published_version_number.is_not(None)).order_by(Policy.code))


def test_the_cache_can_be_turned_off(factory: sessionmaker[Session], code: str, statements: list[str]) -> None:
    client = _signed_in(_app(factory, PAGE_CACHE_MB=0), "ombuds")
    for _ in range(3):
        statements.clear()
        _page(client, f"/policies/{code}/versions/1")
        assert statements


def test_the_change_stamp_moves_with_every_commit_and_exists_only_for_real_databases(
        committed_engine: Engine, code: str) -> None:
    stamp = change_stamp.for_bind(committed_engine)
    assert stamp is not None
    before = stamp()
    with committed_engine.begin() as connection:
        connection.execute(update(Policy).where(Policy.code == code).values(section="moved"))
    assert stamp() not in (before, None)
    with committed_engine.connect() as connection:
        assert change_stamp.for_bind(connection) is None
    assert change_stamp.for_bind(create_engine_in_memory()) is None


def create_engine_in_memory() -> Engine:
    from policyflow.db import make_engine

    return make_engine("sqlite://")


def test_a_page_from_the_cache_carries_the_headers_the_app_gave_it(app: Flask, code: str, statements: list[str]) -> None:
    path = f"/policies/{code}/versions/1"
    ombuds = _signed_in(app, "ombuds")
    rendered = ombuds.get(path)
    _served_from_cache(ombuds, path, statements)
    cached = ombuds.get(path)
    for name in ("Content-Type", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                 "X-Frame-Options", "Cache-Control", "Vary"):
        assert cached.headers.get(name) == rendered.headers.get(name), name
    assert cached.headers["Content-Length"] == str(len(cached.data))
    assert cached.headers["X-Request-Id"] not in (rendered.headers["X-Request-Id"], "")
    assert "Set-Cookie" not in cached.headers


def test_a_cookie_that_does_not_verify_or_has_expired_is_never_served_a_kept_page(
        factory: sessionmaker[Session], code: str, statements: list[str]) -> None:
    app = _app(factory, PERMANENT_SESSION_LIFETIME=timedelta(seconds=2))
    ombuds, path = _ombuds_with_kept_page(app, code, statements)
    cookie = ombuds.get_cookie("session").value

    forged = app.test_client()
    forged.set_cookie("session", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    response = forged.get(path)
    assert response.status_code in (302, 404) and b"Confidential" not in response.data

    time.sleep(3)  # Flask refuses a session cookie older than PERMANENT_SESSION_LIFETIME
    response = ombuds.get(path)
    assert response.status_code in (302, 404) and b"Confidential" not in response.data


def test_a_session_without_a_csrf_secret_gets_one_and_a_working_token(app: Flask, code: str,
                                                                      statements: list[str]) -> None:
    ombuds, path = _ombuds_with_kept_page(app, code, statements)
    with ombuds.session_transaction() as held:
        del held["csrf_token"]
    statements.clear()
    page = _page(ombuds, path)
    assert not statements  # still the kept page, with a token for the secret the session gets now
    token = _TOKEN.search(page).group(1)
    response = ombuds.post(f"{path}/annotations", data={"quote": "without the usual", "body": "A fresh secret works.",
                                                       "visibility": "internal", "csrf_token": token})
    assert response.status_code == 302


def test_behind_a_proxy_pages_are_kept_per_forwarded_browser(factory: sessionmaker[Session], code: str,
                                                           statements: list[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYFLOW_PROXY_COUNT", "1")
    app = _app(factory)
    path = f"/policies/{code}/versions/1"
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    ombuds = _signed_in(app, "ombuds")
    ombuds.environ_base.update({"HTTP_X_FORWARDED_FOR": "203.0.113.7", "HTTP_X_FORWARDED_PROTO": "https"})
    _page(ombuds, path)
    cached = _served_from_cache(ombuds, path, statements)
    assert "Confidential: a family asked not to be named." in cached
    assert ombuds.get(path).headers["Strict-Transport-Security"]  # as the app answers over https
    # The same cookie from another address is a matter for Flask-Login's session protection: rendered again.
    statements.clear()
    assert ombuds.get(path, headers={**forwarded, "X-Forwarded-For": "198.51.100.9"}).status_code == 200
    assert statements


def test_a_lost_stamp_connection_costs_one_uncached_request_then_is_replaced(committed_engine: Engine) -> None:
    stamp = change_stamp.for_bind(committed_engine)
    assert stamp is not None
    first = stamp()
    assert first is not None
    if committed_engine.dialect.name == "postgresql":  # the server ends the connection (a restart, a failover)
        pids = [connection.pgconn.backend_pid for connection in stamp._read._idle]  # type: ignore[attr-defined]
        with committed_engine.begin() as connection:
            for pid in pids:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    else:
        stamp._connection.close()  # type: ignore[attr-defined]
    before = stamp()  # None: the connection is gone
    with committed_engine.begin() as connection:  # a commit while the stamp cannot see it
        connection.execute(text("UPDATE policies SET section = section || '.' WHERE code = 'JFABD'"))
    after = stamp()
    assert before is None and after is not None
    assert after != first, "a commit made while the stamp's connection was down must still change the stamp"


def test_visitors_who_are_not_signed_in_share_one_copy_of_a_public_page(app: Flask, statements: list[str]) -> None:
    public = f"/public/policies/{_published_code(app)}"
    first = app.test_client()
    _page(first, public)
    _served_from_cache(first, public, statements)
    other = app.test_client()  # another browser, another address: the same page, already kept
    statements.clear()
    page = other.get(public, headers={"User-Agent": "Another browser"},
                     environ_base={"REMOTE_ADDR": "192.0.2.44"}).get_data(as_text=True)
    assert not statements and "Sign in</a> to follow this policy" in page


def test_a_remember_me_cookie_or_another_day_keeps_a_request_out_of_the_cache(
        app: Flask, code: str, statements: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    ombuds, path = _ombuds_with_kept_page(app, code, statements)
    ombuds.set_cookie("remember_token", "anything")  # Flask-Login would read it: the view must run
    statements.clear()
    _page(ombuds, path)
    assert statements
    ombuds.delete_cookie("remember_token")
    _served_from_cache(ombuds, path, statements)

    class Tomorrow(date):
        @classmethod
        def today(cls) -> date:
            return date.fromordinal(date.today().toordinal() + 1)

    monkeypatch.setattr("policyflow.web.page_cache.date", Tomorrow)  # the server's own date (the pages' "today")
    statements.clear()
    _page(ombuds, path)
    assert statements


def test_when_the_early_answer_cannot_be_worked_out_flask_answers(app: Flask, code: str, statements: list[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ombuds, path = _ombuds_with_kept_page(app, code, statements)

    def unreadable(folder: object) -> None:
        raise OSError("the workflows folder is being replaced")

    monkeypatch.setattr("policyflow.web.page_cache.folder_stamp", unreadable)
    assert ombuds.get("/healthz").status_code == 200  # other paths never compute a key
    response = ombuds.get(path)  # Flask answers, with its error page and headers, not a bare server error
    assert response.status_code == 500 and "Content-Security-Policy" in response.headers
    assert b"Confidential" not in response.data


def test_over_long_request_parts_are_never_kept(app: Flask, code: str, statements: list[str]) -> None:
    """A flood of made-up user agents or queries can neither outgrow the cache's bound nor evict everyone's pages."""
    path = f"/policies/{code}/versions/1"
    ombuds = _signed_in(app, "ombuds")
    for _ in range(3):
        statements.clear()
        assert ombuds.get(path, headers={"User-Agent": "x" * 600}).status_code in (200, 302)
        assert statements
