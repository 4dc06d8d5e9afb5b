"""The main pages issue a bounded number of SQL queries, whatever the number of notes and comments.

A page that loads each note's replies, or each comment's author, one query at a time slows down as the
office works; this counts the statements each page sends with 5 notes and comments and again with 60
(replies and authors of several people included) and expects the same count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from policyflow.models import Policy, Review, User
from policyflow.services import annotations, comments, policies
from policyflow.services.actors import Actor
from tests.conftest import api_token, login

CODE = "JFABE"  # the demo policy whose comment period is open
FEW, MANY = 5, 60
WRITERS = (("ombuds", "confidential"), ("reviewer", "internal"), ("ombuds", "public"), ("leader1", "internal"))


class QueryCounter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1

    def of(self, client: FlaskClient, path: str, **kwargs: Any) -> int:
        self.count = 0
        response = client.get(path, **kwargs)
        assert response.status_code == 200, (path, response.status_code)
        return self.count


@pytest.fixture
def counter(engine: Engine) -> Iterator[QueryCounter]:
    counting = QueryCounter(engine)
    event.listen(engine, "before_cursor_execute", counting)
    yield counting
    event.remove(engine, "before_cursor_execute", counting)


def _add(session: Session, review: Review, start: int, stop: int) -> None:
    """Notes (each with a reply by someone else) on the reviewed version, and comments in every mode."""
    policy = review.policy
    text = policies.version_text(session, policy, policies.get_version(session, Actor.system(), policy,
                                                                       review.version_number))
    people = {user.username: Actor.of(user) for user in session.scalars(
        select(User).where(User.username.in_(["ombuds", "reviewer", "leader1", "stakeholder"])))}
    words = [(m, m + 12) for m in range(0, len(text) - 12, max(1, (len(text) - 12) // 70)) if text[m:m + 12].strip()]
    for n in range(start, stop):
        username, visibility = WRITERS[n % len(WRITERS)]
        begin, end = words[n]
        note = annotations.create(session, people[username], policy, review.version_number,
                                  target={"start": begin, "end": end}, body=f"Note {n} on *this* passage.",
                                  visibility=visibility, tags=["equity"] if n % 2 else [], allowed_tags=["equity"])
        annotations.reply(session, people["ombuds" if username != "ombuds" else "reviewer"] if visibility != "confidential"
                          else people["ombuds"], note.id, f"Reply to note {n}.")
        identity = ("public", "confidential", "anonymous")[n % 3]
        comments.submit(session, people["stakeholder"] if n % 2 else Actor.anonymous(), review.id,
                        body=f"Comment number {n}: the {n}th reader thinks paragraph {n} of this draft needs work "
                             f"on point {n * 7}.",
                        identity=identity, name=None if identity == "anonymous" else f"Person {n}",
                        email=None if identity == "anonymous" else f"person{n}@example.org",
                        allowed_categories=["parent_guardian"])
    session.flush()


def _pages(review: Review, published: str) -> dict[str, tuple[str, str | None]]:
    """Page -> (path, who reads it: a username, "api:<username>" for a bearer token, None for the public)."""
    code, number = review.policy.code, review.version_number
    return {
        "policy page": (f"/policies/{code}", "ombuds"),
        "version page (ombuds)": (f"/policies/{code}/versions/{number}", "ombuds"),
        "version page (reviewer)": (f"/policies/{code}/versions/{number}", "reviewer"),
        "redline": (f"/policies/{code}/diff?from={number - 1}&to={number}", "ombuds"),
        "triage": (f"/reviews/{review.id}/comments", "ombuds"),
        "review page": (f"/reviews/{review.id}", "ombuds"),
        "public review page": (f"/public/reviews/{review.id}", None),
        "public policy page": (f"/public/policies/{published}", None),
        "catalogue": ("/policies", "ombuds"),
        "search": ("/search?q=note", "ombuds"),
        "API notes": (f"/api/v1/policies/{code}/annotations?version={number}", "api:ombuds"),
        "API version notes": (f"/api/v1/policies/{code}/versions/{number}/annotations", "api:reviewer"),
        "API comments": (f"/api/v1/reviews/{review.id}/comments", "api:ombuds"),
        "API policies": ("/api/v1/policies", "api:ombuds"),
        "API reviews": ("/api/v1/reviews", "api:ombuds"),
    }


def _counts(app: Flask, counter: QueryCounter, pages: dict[str, tuple[str, str | None]]) -> dict[str, int]:
    counts = {}
    clients: dict[str | None, tuple[FlaskClient, dict[str, str]]] = {}
    for name, (path, reader) in pages.items():
        if reader not in clients:
            client = app.test_client()
            headers: dict[str, str] = {}
            if reader and reader.startswith("api:"):
                headers = api_token(client, reader.removeprefix("api:"))
            elif reader:
                login(client, reader)
            clients[reader] = (client, headers)
        client, headers = clients[reader]
        client.get(path, headers=headers)  # warm: the first request of a process fills per-process caches
        counts[name] = counter.of(client, path, headers=headers)
    return counts


def test_page_queries_do_not_grow_with_notes_and_comments(app: Flask, session: Session, counter: QueryCounter) -> None:
    review = session.scalar(select(Review).join(Policy).where(Policy.code == CODE, Review.ended_at.is_(None)))
    assert review is not None and review.state == "stakeholder_comment"
    published = session.scalar(select(Policy.code).where(Policy.published_version_number.is_not(None))
                               .order_by(Policy.code).limit(1))
    pages = _pages(review, published)
    _add(session, review, 0, FEW)
    few = _counts(app, counter, pages)
    _add(session, review, FEW, MANY)
    many = _counts(app, counter, pages)
    grew = {name: (few[name], many[name]) for name in pages if many[name] != few[name]}
    assert not grew, f"queries with {FEW} vs {MANY} notes and comments: {grew}"
