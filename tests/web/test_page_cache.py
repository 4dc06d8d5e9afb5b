"""The version page's notes section is kept per process (web.fragments); it must never show a note as it was,
nor one reader's notes to another.

Two app instances share one database, as two gunicorn workers do: a change made through either (or by any
other process, like the API or the CLI) shows on the very next request to both, whatever each had cached.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policyflow.models import Policy, Review, User, UserRole
from policyflow.services import annotations, comments
from policyflow.services.actors import Actor
from policyflow.web import create_app
from tests.conftest import STORE, login

PAGE = "/policies/KB/versions/5"
_TOKENS = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def other_app(session_factory: sessionmaker[Session]) -> Flask:
    """A second worker: its own per-process caches, the same database."""
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret-key", "SESSION_FACTORY": session_factory,
                       "WTF_CSRF_ENABLED": False, "STORE_SETTINGS": STORE})


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def _page(client: FlaskClient, query: str = "", path: str = PAGE) -> str:
    response = client.get(path + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _card(page: str, note_id: int | str) -> str:
    start = page.index(f'id="note-{note_id}"')
    return page[start:page.index("</li>", start)]


def _quote(page: str, words: int = 5) -> str:
    paragraph = page.split('<article class="policy-text"')[1].split("<p>")[2].split("</p>")[0]
    return " ".join(re.sub(r"<[^>]+>", "", paragraph).split()[:words])


def test_every_change_to_notes_shows_at_once_on_both_workers(app: Flask, other_app: Flask, session: Session) -> None:
    first, second = _signed_in(app, "ombuds"), _signed_in(other_app, "ombuds")
    before = _page(second)  # both workers have the section cached now
    # The same page but for the session's token (signed with the time: two fetches may differ by a second).
    assert _TOKENS.sub("token", _page(first)) == _TOKENS.sub("token", before)

    added = first.post(f"{PAGE}/annotations", data={"quote": _quote(before), "body": "Cache check: first words.",
                                                     "visibility": "internal"})
    note_id = added.headers["Location"].rsplit("#note-", 1)[1]
    assert "Cache check: first words." in _card(_page(second), note_id)

    assert first.post(f"/annotations/{note_id}/replies", data={"body": "A reply, seen at once.", "back": PAGE}).status_code == 302
    assert "A reply, seen at once." in _card(_page(second), note_id)

    first.post(f"/annotations/{note_id}/status", data={"status": "resolved", "back": PAGE})
    card = _card(_page(second), note_id)
    assert 'class="badge">resolved<' in card and ">Reopen<" in card

    ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
    annotations.edit(session, ombuds, int(note_id), "Edited elsewhere (the API, another worker).")
    session.flush()
    for client in (first, second):
        assert "Edited elsewhere" in _card(_page(client), note_id)

    annotations.delete(session, ombuds, int(note_id))
    session.flush()
    for client in (first, second):
        assert f'id="note-{note_id}"' not in _page(client)


def test_a_re_attached_note_shows_its_new_place_at_once(app: Flask, other_app: Flask) -> None:
    first, second = _signed_in(app, "ombuds"), _signed_in(other_app, "ombuds")
    path = "/policies/GAE/versions/5"  # the demo carries edited and orphaned notes to it
    page = _page(second, path=path)
    note_id = re.search(r'action="/annotations/(\d+)/placements/5"', page).group(1)
    assert "placed by a person" not in _card(page, note_id)
    moved = first.post(f"/annotations/{note_id}/placements/5", data={"quote": _quote(page, 4), "back": path})
    assert moved.status_code == 302
    card = _card(_page(second, path=path), note_id)
    assert "placed by a person" in card and "reattach-form" not in card


def test_a_role_change_shows_on_the_next_request(app: Flask, session: Session) -> None:
    ombuds_page = _page(_signed_in(app, "ombuds"))  # the ombuds' section, confidential notes and all, is cached
    assert "vis-confidential" in ombuds_page
    reviewer = session.scalar(select(User).where(User.username == "reviewer"))
    client = _signed_in(app, "reviewer")
    assert "vis-confidential" not in _page(client)
    session.add(UserRole(user_id=reviewer.id, role="ombuds"))
    session.flush()
    session.expire_all()
    assert "vis-confidential" in _page(client)
    session.execute(UserRole.__table__.delete().where(UserRole.user_id == reviewer.id, UserRole.role == "ombuds"))
    session.flush()
    session.expire_all()
    assert "vis-confidential" not in _page(client)


def test_no_reader_gets_a_section_cached_for_the_ombuds(app: Flask) -> None:
    ombuds = _signed_in(app, "ombuds")
    ombuds.post(f"{PAGE}/annotations", data={"quote": _quote(_page(ombuds)), "body": "SEALED family concern",
                                             "visibility": "confidential"})
    for query in ("", "?visibility=confidential", "?status=open"):
        assert "SEALED family concern" in _page(ombuds, query)
        for username in ("reviewer", "leader1", "admin"):
            page = _page(_signed_in(app, username), query)
            assert "SEALED family concern" not in page and "vis-confidential" not in page, (username, query)


def test_each_session_gets_its_own_token_and_way_back(app: Flask) -> None:
    one, two = _signed_in(app, "ombuds"), _signed_in(app, "ombuds")
    first, second = _page(one, "?status=open"), _page(two, "?status=open")
    mine, theirs = set(_TOKENS.findall(first)), set(_TOKENS.findall(second))
    assert len(mine) == 1 and len(theirs) == 1 and mine != theirs  # the cached cards carry the reader's own token
    assert 'name="back" value="/policies/KB/versions/5?status=open"' in first
    assert 'name="back" value="/policies/KB/versions/5?status=resolved"' in _page(one, "?status=resolved")
    assert "slot-" not in first


def test_triage_shows_new_and_answered_comments_at_once_on_both_workers(app: Flask, other_app: Flask,
                                                                         session: Session) -> None:
    review = session.scalar(select(Review).join(Policy).where(Policy.code == "JFABE", Review.ended_at.is_(None)))
    path = f"/reviews/{review.id}/comments?q=Cache+check"
    first, second = _signed_in(app, "ombuds"), _signed_in(other_app, "ombuds")
    for client in (first, second):
        assert "No comment matches these filters." in client.get(path).get_data(as_text=True)
    sent = comments.submit(session, Actor.anonymous(), review.id, body="Cache check: buses from the first day.",
                           identity="anonymous", allowed_categories=[]).comment
    session.flush()
    for client in (first, second):
        assert f'id="group-{sent.id}"' in client.get(path).get_data(as_text=True)
    ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
    comments.set_disposition(session, ombuds, sent.id, disposition="accepted", response="Cache check: answered.")
    session.flush()
    for client in (first, second):
        assert "Cache check: answered." in client.get(path).get_data(as_text=True)


def test_an_edited_tag_list_is_offered_at_once(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    settings = app.config["POLICYFLOW_SETTINGS"]
    shutil.copytree(settings.workflows_dir, tmp_path / "workflows")
    app.config["POLICYFLOW_SETTINGS"] = dataclasses.replace(settings, workflows_dir=tmp_path / "workflows")
    login(client, "reviewer")
    assert '<option value="equity">' in client.get(PAGE).get_data(as_text=True)
    vocabulary = tmp_path / "workflows" / "vocabularies.yaml"
    vocabulary.write_text(vocabulary.read_text().replace("  equity: Equity", "  equity-impact: Equity"))
    os.utime(vocabulary, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))  # a later modification time, surely
    page = client.get(PAGE).get_data(as_text=True)
    assert '<option value="equity-impact">' in page and '<option value="equity">' not in page


def test_filtered_views_are_not_kept_and_readers_without_forms_get_no_session(app: Flask, client: FlaskClient,
                                                                              session: Session) -> None:
    sections = app.extensions["policyflow.sections"]
    login(client, "ombuds")
    client.get(PAGE)
    kept = len(sections)
    for word in ("alpha", "beta", "gamma"):  # a visitor's words in the query never fill the cache
        assert client.get(f"{PAGE}?tag={word}").status_code == 200
    assert len(sections) == kept
    published = session.scalar(select(Policy).where(Policy.published_version_number.is_not(None)))
    visitor = app.test_client()
    page = visitor.get(f"/policies/{published.code}/versions/{published.published_version_number}")
    assert page.status_code == 200 and "csrf_token" not in page.get_data(as_text=True)
    assert "Set-Cookie" not in page.headers  # a public reader is not given a session (a tracking handle)
