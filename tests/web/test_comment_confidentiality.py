"""The confidentiality matrix for comments: each identity mode x each role x each output.

A confidential commenter's name and any commenter's e-mail appear only in what ombuds staff read; a
public name appears wherever the comment does; an anonymous comment keeps no identity at all. The
outputs: staff and public pages, the report and its exports, the JSON API, the audit views and the
e-mails in the outbox, and search (the page and the API, searching the confidential comment's words).
"""

from __future__ import annotations

import html

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.models import Comment, OutboxMessage
from tests.conftest import api_token, login
from tests.web.test_comment_pages import PUBLIC_EMAIL, SECRET_EMAIL, SECRET_NAME, Setup, _close, setup  # noqa: F401

ROLES = ("visitor", "stakeholder", "reviewer", "leader1", "admin", "ombuds")
SEARCH = "/search?q=foster+placement+missed"  # words of the confidential comment


def _outputs(review_id: int, code: str) -> list[tuple[str, bool]]:
    """(URL, whether it uses the API token) of every output that shows comments or their traces."""
    web = [f"/public/reviews/{review_id}/report", f"/public/reviews/{review_id}/report.csv",
           f"/public/reviews/{review_id}/report.json", f"/reviews/{review_id}", f"/reviews/{review_id}/comments",
           f"/reviews/{review_id}/report", f"/reviews/{review_id}/report.csv", f"/reviews/{review_id}/report.json",
           f"/policies/{code}/history", "/", f"/public/policies/{code}", SEARCH]
    api = [f"/api/v1{SEARCH}", f"/api/v1/reviews/{review_id}/comments", f"/api/v1/reviews/{review_id}/comments/report?format=json",
           f"/api/v1/reviews/{review_id}/comments/report?format=csv", f"/api/v1/policies/{code}/events",
           f"/api/v1/reviews/{review_id}"]
    return [(url, False) for url in web] + [(url, True) for url in api]


def _read(app: Flask, role: str, review_id: int, code: str) -> dict[str, tuple[int, str]]:
    client: FlaskClient = app.test_client()
    headers: dict[str, str] = {}
    if role != "visitor":
        login(client, role)
        headers = api_token(app.test_client(), role)
    seen = {}
    for url, with_token in _outputs(review_id, code):
        response = client.get(url, headers=headers if with_token else {})
        seen[url] = (response.status_code, html.unescape(response.get_data(as_text=True)))
    return seen


def test_each_name_appears_exactly_where_it_may(app: Flask, session: Session, setup: Setup) -> None:  # noqa: F811
    _close(session, setup)
    review_id, code = setup.review.id, setup.review.policy.code
    public_name = setup.public.name
    assert public_name
    for role in ROLES:
        seen = _read(app, role, review_id, code)
        readable = {url: body for url, (status, body) in seen.items() if status == 200}
        assert f"/public/reviews/{review_id}/report" in readable, role  # everyone reads the public report
        everything = "\n".join(readable.values())
        if role == "ombuds":
            # The office sees the sealed name and the contacts, in triage, the reports, the exports and the API.
            for url in (f"/reviews/{review_id}/comments", f"/reviews/{review_id}/report.csv",
                        f"/api/v1/reviews/{review_id}/comments"):
                assert SECRET_NAME in readable[url], url
            assert SECRET_EMAIL in readable[f"/reviews/{review_id}/comments"]
            assert SECRET_NAME in readable[SEARCH] and SECRET_NAME in readable[f"/api/v1{SEARCH}"]
            # ... but not where anyone else could read over its shoulder: the public report and exports.
            for url in (f"/public/reviews/{review_id}/report", f"/public/reviews/{review_id}/report.csv",
                        f"/public/reviews/{review_id}/report.json"):
                assert SECRET_NAME not in readable[url] and "@" not in readable[url].replace("@media", ""), url
        else:
            assert SECRET_NAME not in everything, role
            assert SECRET_EMAIL not in everything and PUBLIC_EMAIL not in everything, role
            assert "Name withheld at the commenter's request" in readable[f"/public/reviews/{review_id}/report"]
            assert "Name withheld at the commenter's request" in readable[SEARCH], role  # search finds it, name sealed
        assert public_name in readable[f"/public/reviews/{review_id}/report"], role
        # No output, for anyone, carries a name in the audit trail.
        for url in (f"/policies/{code}/history", f"/api/v1/policies/{code}/events"):
            if url in readable:
                assert SECRET_NAME not in readable[url] and public_name not in readable[url], (role, url)


def test_anonymous_rows_and_e_mails(session: Session, setup: Setup) -> None:  # noqa: F811
    _close(session, setup)
    rows = session.scalars(select(Comment).where(Comment.review_id == setup.review.id,
                                                 Comment.identity_mode == "anonymous")).all()
    assert rows and all((r.author_id, r.name, r.email) == (None, None, None) for r in rows)
    # E-mails: the commenter hears about their own comment; no one else's message names a commenter.
    for message in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email")):
        text = str(message.payload)
        if SECRET_NAME in text or SECRET_EMAIL in text:
            assert message.payload["to"] == SECRET_EMAIL and SECRET_NAME not in message.payload["body"]
        if setup.public.name in message.payload["body"]:
            raise AssertionError(f"an e-mail names a commenter: {message.payload['subject']}")
