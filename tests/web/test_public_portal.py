"""The public portal without an account: open comment periods on the home page, a draft's public page
with its comment form, comments in every identity mode, the period's boundaries, receipts, rate
limiting, CSRF, and what must never be reachable (drafts in other stages, internal notes)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from policyflow.core.workflow import load_workflow
from policyflow.models import Comment, CommentConsent, Event, Policy, PolicyVersion, Review
from policyflow.services import annotations, comments, policies, reviews
from policyflow.services.comments import WITHHELD
from policyflow.web import create_app
from tests.conftest import STORE, login
from tests.reviewing import NOW, STANDARD, act, complete_assessment, start, user, who

TEXT = ("# Transportation\n\nStudents living more than two miles from school ride the bus.\n\n"
        "## Eligibility\n\nStudents in foster care keep their route when they move.\n")
OPENS, CLOSES = date(2026, 3, 5), date(2026, 4, 4)
INSIDE = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
BEFORE = datetime(2026, 3, 4, 23, 0, tzinfo=UTC)
LAST_DAY = datetime(2026, 4, 4, 23, 30, tzinfo=UTC)
AFTER = datetime(2026, 4, 5, 0, 30, tzinfo=UTC)
NAME = "Casey SEALEDNAME Rivers"
EMAIL = "casey.sealed@example.org"


@pytest.fixture
def generous(app: Flask) -> Flask:
    app.config["COMMENT_RATE_LIMIT"] = "1000 per hour"
    app.config["CLOCK"] = lambda: INSIDE
    return app


def open_review(session: Session, code: str = "PUBX", *, summary: str | None = None) -> Review:
    """A new policy whose standard review is in its comment period (5 March to 4 April 2026)."""
    review = start(session, code, text=TEXT, title="Student transportation", comment_opens_on=OPENS, comment_closes_on=CLOSES)
    act(session, review, "ombuds", "submit_for_equity_review")
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    review.public_summary = summary
    session.commit()
    return review


def stored(session: Session, review_id: int) -> list[Comment]:
    session.expire_all()
    return list(session.scalars(select(Comment).where(Comment.review_id == review_id).order_by(Comment.id)))


def send(client: FlaskClient, review_id: int, **fields: str) -> TestResponse:
    data = {"body": "Please keep the two-mile rule.", "identity": "anonymous", **fields}
    return client.post(f"/public/reviews/{review_id}/comments", data=data)


def receipt_path(page: str) -> str:
    found = re.search(r'href="http://localhost(/public/comments/receipt/[A-Za-z0-9_-]+)"', page)
    assert found, page[:2000]
    return found.group(1)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def test_home_lists_open_comment_periods(client: FlaskClient, app: Flask, session: Session) -> None:
    review = open_review(session)
    app.config["CLOCK"] = lambda: INSIDE
    page = client.get("/").get_data(as_text=True)
    assert f'href="/public/reviews/{review.id}"' in page and "Student transportation" in page
    assert "Comments accepted through 4 April 2026" in page
    app.config["CLOCK"] = lambda: AFTER
    assert f'href="/public/reviews/{review.id}"' not in client.get("/").get_data(as_text=True)
    app.config["CLOCK"] = lambda: BEFORE
    assert f'href="/public/reviews/{review.id}"' not in client.get("/").get_data(as_text=True)


def test_public_review_page_shows_draft_summary_and_form(client: FlaskClient, generous: Flask, session: Session) -> None:
    review = open_review(session)
    page = client.get(f"/public/reviews/{review.id}").get_data(as_text=True)
    assert "Students in foster care keep their route" in page
    assert "has not written a plain-language summary" in page
    assert "This is a new policy" in page  # nothing published to compare with
    assert 'id="comment-form"' in page and 'name="csrf_token"' in page
    assert 'maxlength="8000"' in page
    for value in ("public", "confidential", "anonymous"):
        assert f'id="identity-{value}"' in page and f'<label for="identity-{value}">' in page
    assert "<legend>How should we handle your name?</legend>" in page
    assert "we cannot write back to you" in page and "Name withheld at the commenter&#39;s request" in page
    assert 'data-commentable="yes"' in page and "js/public-comment.js" in page
    for term, label in (("parent_guardian", "Parent or guardian"), ("organization", "Organization")):
        assert f'<option value="{term}">{label}</option>' in page
    assert 'value=""' in page.split('id="comment-name"')[1].split(">")[0]  # no one's name prefilled for a visitor
    review.public_summary = "Buses would pick up **more** students."
    session.commit()
    page = client.get(f"/public/reviews/{review.id}").get_data(as_text=True)
    assert "<strong>more</strong>" in page and "has not written" not in page


def test_signed_in_user_gets_name_prefilled(client: FlaskClient, generous: Flask, session: Session) -> None:
    review = open_review(session)
    login(client, "stakeholder")
    page = client.get(f"/public/reviews/{review.id}").get_data(as_text=True)
    display = user(session, "stakeholder").display_name
    assert f'value="{display}"' in page.split('id="comment-name"')[1].split(">")[0].replace("&#39;", "'")
    assert "You are signed in as" in page


def test_redline_against_published_version_and_stats(client: FlaskClient, generous: Flask, session: Session) -> None:
    ombuds = who(session, "ombuds")
    version = policies.create_policy(session, ombuds, STORE, code="PUBR", title="Bus routes", text=TEXT, summary="First.")
    policies.publish_version(session, ombuds, version.policy, 1, effective_date=date(2025, 7, 1))
    policies.save_version(session, ombuds, STORE, version.policy, text=TEXT.replace("two miles", "one mile"),
                          summary="Shorter walk.", base_version=1)
    review = reviews.start_review(session, ombuds, version.policy, load_workflow(STANDARD), now=NOW,
                                  comment_opens_on=OPENS, comment_closes_on=CLOSES)
    act(session, review, "ombuds", "submit_for_equity_review")
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    session.commit()
    page = client.get(f"/public/reviews/{review.id}").get_data(as_text=True)
    assert "Changes from the policy in effect" in page
    assert re.search(r'<ins id="change-1" class="rl-ins">[^<]*one mile', page) or "one mile</ins>" in page
    assert '<del' in page and "two miles" in page
    assert "words added" in page  # change statistics stand in for the missing summary
    # The published policy page points readers to the open draft.
    published = client.get("/public/policies/PUBR").get_data(as_text=True)
    assert f'href="/public/reviews/{review.id}"' in published
    assert "one mile" not in published  # the published text only


def test_public_notes_shown_internal_and_confidential_never(client: FlaskClient, generous: Flask, session: Session) -> None:
    review = open_review(session)
    policy = review.policy
    span = TEXT.index("foster care"), TEXT.index("foster care") + len("foster care")
    public = annotations.create(session, who(session, "reviewer"), policy, review.version_number,
                                target={"start": span[0], "end": span[1]}, body="PUBLICNOTE: what *foster care* means here.",
                                visibility="public", tags=[], allowed_tags=None)
    annotations.create(session, who(session, "reviewer"), policy, review.version_number,
                       target={"start": span[0], "end": span[1]}, body="INTERNALNOTE staff only", visibility="internal",
                       tags=[], allowed_tags=None)
    annotations.create(session, who(session, "ombuds"), policy, review.version_number,
                       target={"start": span[0], "end": span[1]}, body="CONFIDENTIALNOTE a family's concern",
                       visibility="confidential", tags=[], allowed_tags=None)
    session.commit()
    for username in (None, "stakeholder", "ombuds"):
        if username:
            login(client, username)
        page = client.get(f"/public/reviews/{review.id}").get_data(as_text=True)
        assert "PUBLICNOTE" in page and "<em>foster care</em>" in page, username
        assert f'id="note-{public.id}"' in page and f'id="hl-{public.id}"' in page
        assert re.search(rf'<mark class="[^"]*vis-public[^"]*" data-notes="{public.id}">foster care</mark>', page)
        assert "INTERNALNOTE" not in page and "CONFIDENTIALNOTE" not in page, username
        assert "vis-internal" not in page and "vis-confidential" not in page
        if username:
            client.post("/logout")


# ---------------------------------------------------------------------------------------------
# Never reachable
# ---------------------------------------------------------------------------------------------

def test_review_in_a_non_public_stage_is_404_and_its_text_absent(client: FlaskClient, generous: Flask,
                                                                 session: Session) -> None:
    secret = "# Secret\n\nUNRELEASEDDRAFT words nobody outside may read.\n"
    review = start(session, "PUBS", text=secret, comment_opens_on=OPENS, comment_closes_on=CLOSES)
    session.commit()
    for stage_action in (None, "submit_for_equity_review"):
        if stage_action:
            act(session, review, "ombuds", stage_action)
            session.commit()
        for path in (f"/public/reviews/{review.id}", "/public/policies/PUBS", "/public/policies/PUBS/diff?from=1&to=1", "/"):
            response = client.get(path)
            assert "UNRELEASEDDRAFT" not in response.get_data(as_text=True), path
            if path != "/":
                assert response.status_code == 404, path
        posted = send(client, review.id, body="Trying anyway")
        assert posted.status_code == 404
        assert "UNRELEASEDDRAFT" not in posted.get_data(as_text=True)
    assert stored(session, review.id) == []
    assert client.get("/public/reviews/999999").status_code == 404


def test_review_after_the_comment_stage_is_404(client: FlaskClient, generous: Flask, session: Session) -> None:
    review = open_review(session)
    act(session, review, "ombuds", "return_to_draft", note="Rewrite the eligibility section.")
    session.commit()
    page = client.get(f"/public/reviews/{review.id}")
    assert page.status_code == 404 and "foster care keep their route" not in page.get_data(as_text=True)


def test_public_redline_only_between_published_versions(client: FlaskClient, session: Session) -> None:
    page = client.get("/public/policies/JD").get_data(as_text=True)
    links = re.findall(r'href="(/public/policies/JD/diff\?[^"]+)"', page)
    assert links and "/policies/JD/diff" not in page.replace("/public/policies/JD/diff", "")
    assert "Next review" in page and "Effective" in page
    diff = client.get(links[0].replace("&amp;", "&"))
    assert diff.status_code == 200
    html = diff.get_data(as_text=True)
    assert "What changed" in html and 'class="redline"' in html
    policy = session.scalar(select(Policy).where(Policy.code == "JD"))
    unpublished = session.scalars(select(PolicyVersion.number).where(PolicyVersion.policy_id == policy.id,
                                                                     PolicyVersion.published_at.is_(None))).all()
    published = session.scalars(select(PolicyVersion.number).where(PolicyVersion.policy_id == policy.id,
                                                                   PolicyVersion.published_at.is_not(None))).all()
    for number in unpublished:
        assert client.get(f"/public/policies/JD/diff?from={published[0]}&to={number}").status_code == 404
        assert client.get(f"/public/policies/JD/diff?from={number}&to={published[-1]}").status_code == 404
    assert client.get("/public/policies/JD/diff?from=x").status_code == 400
    assert client.get("/public/policies/JD/diff?from=999&to=1").status_code == 404


# ---------------------------------------------------------------------------------------------
# Commenting
# ---------------------------------------------------------------------------------------------

def test_anonymous_visitor_comments_anonymously_and_nothing_identifies_them(client: FlaskClient, generous: Flask,
                                                                           session: Session) -> None:
    review = open_review(session)
    response = send(client, review.id, body="Keep the bus for everyone.", name=NAME, email=EMAIL,
                    category="parent_guardian", quote="foster care keep")
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    page = response.get_data(as_text=True)
    assert "Thank you" in page and "we cannot tell you when the district responds" in page
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    [comment] = stored(session, review.id)
    assert (comment.author_id, comment.name, comment.email) == (None, None, None)
    assert comment.identity_mode == "anonymous" and comment.category == "parent_guardian"
    assert comment.exact == "foster care keep" and TEXT[comment.start:comment.end] == "foster care keep"
    assert NAME not in page and EMAIL not in page
    receipt = client.get(receipt_path(page))
    assert receipt.status_code == 200 and "Keep the bus for everyone." in receipt.get_data(as_text=True)


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("mode", ["public", "confidential", "anonymous"])
def test_comment_in_each_mode(client: FlaskClient, generous: Flask, session: Session, mode: str, signed_in: bool) -> None:
    review = open_review(session)
    account = user(session, "stakeholder")
    if signed_in:
        login(client, "stakeholder")
        fields = {"name": "", "email": ""}  # the account's name and e-mail are used
    else:
        fields = {"name": NAME, "email": EMAIL}
    response = send(client, review.id, body=f"A {mode} comment.", identity=mode, **fields)
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    page = response.get_data(as_text=True)
    [comment] = stored(session, review.id)
    assert comment.identity_mode == mode
    if mode == "anonymous":
        assert (comment.author_id, comment.name, comment.email) == (None, None, None)
        assert "cannot tell you when the district responds" in page
    elif signed_in:
        assert (comment.author_id, comment.name, comment.email) == (account.id, account.display_name, account.email)
    else:
        assert (comment.author_id, comment.name, comment.email) == (None, NAME, EMAIL)
        assert "We will send an e-mail" in page
    # The audit trail says a comment arrived, never who sent it, not even a signed-in commenter's username.
    [event] = session.scalars(select(Event).where(Event.subject == f"comment:{comment.id}")).all()
    assert event.actor == "anonymous" and "stakeholder" not in str(event.data)
    receipt = client.get(receipt_path(page)).get_data(as_text=True)
    assert f"A {mode} comment." in receipt
    assert NAME not in receipt and EMAIL not in receipt and account.display_name not in receipt.split("</header>")[1]
    assert ("Allow my name to be shown" in receipt) == (mode == "confidential")


def test_anonymous_visitor_must_give_a_name_for_a_named_comment(client: FlaskClient, generous: Flask,
                                                                session: Session) -> None:
    review = open_review(session)
    response = send(client, review.id, identity="public", name="", email="", body="My words stay in the form.")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Give your name" in page and 'id="name-error"' in page and 'aria-invalid="true"' in page
    assert 'href="#comment-name"' in page
    assert "My words stay in the form.</textarea>" in page
    assert re.search(r'<input type="radio" id="identity-public"[^>]* checked', page)
    response = send(client, review.id, identity="confidential", name=NAME, email="not-an-address")
    assert response.status_code == 422 and 'id="email-error"' in response.get_data(as_text=True)
    assert f'value="{NAME}"' in response.get_data(as_text=True)
    response = send(client, review.id, identity="", body="x")
    assert response.status_code == 422 and 'id="identity-error"' in response.get_data(as_text=True)
    response = send(client, review.id, body="   ")
    assert response.status_code == 422 and 'id="body-error"' in response.get_data(as_text=True)
    response = send(client, review.id, category="martian")
    assert response.status_code == 422 and 'id="category-error"' in response.get_data(as_text=True)
    response = send(client, review.id, quote="words that are not in the draft")
    assert response.status_code == 422 and 'id="quote-error"' in response.get_data(as_text=True)
    response = send(client, review.id, body="x" * (comments.MAX_BODY + 1))
    assert response.status_code == 422 and "limited to 8,000 characters" in response.get_data(as_text=True)
    assert stored(session, review.id) == []


@pytest.mark.parametrize(("when", "words"), [(BEFORE, "opens on March 5, 2026"), (AFTER, "closed on April 4, 2026")])
def test_comment_outside_the_period_is_refused_and_nothing_stored(client: FlaskClient, generous: Flask, session: Session,
                                                                  when: datetime, words: str) -> None:
    review = open_review(session)
    generous.config["CLOCK"] = lambda: when
    page = client.get(f"/public/reviews/{review.id}").get_data(as_text=True)
    assert 'id="comment-form"' not in page and words in page
    response = send(client, review.id, body="LATEWORDS that arrive at the wrong time.", identity="public", name=NAME)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert words in html and "Your comment was not sent" in html and 'id="comment-form"' not in html
    assert "LATEWORDS that arrive at the wrong time.</textarea>" in html  # the visitor can copy what they wrote
    assert stored(session, review.id) == []


def test_last_day_of_the_period_still_takes_comments(client: FlaskClient, generous: Flask, session: Session) -> None:
    review = open_review(session)
    generous.config["CLOCK"] = lambda: LAST_DAY
    assert send(client, review.id).status_code == 200
    assert len(stored(session, review.id)) == 1


def test_without_anonymous_comments_visitors_are_asked_to_sign_in(client: FlaskClient, generous: Flask, session: Session,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    review = open_review(session)
    real_period = comments.period

    def named_only(review: Review, now: datetime | None = None) -> comments.Period:
        window = real_period(review, now)
        return comments.Period(window.accepting, False, window.opens_on, window.closes_on, window.reason)

    monkeypatch.setattr(comments, "period", named_only)
    page = client.get(f"/public/reviews/{review.id}").get_data(as_text=True)
    assert 'id="comment-form"' not in page and "Sign in to comment" in page
    response = send(client, review.id, identity="public", name=NAME)
    assert response.status_code == 403 and "Sign in to comment" in response.get_data(as_text=True)
    assert stored(session, review.id) == []
    login(client, "stakeholder")
    assert 'id="comment-form"' in client.get(f"/public/reviews/{review.id}").get_data(as_text=True)
    assert send(client, review.id, identity="confidential").status_code == 200
    assert len(stored(session, review.id)) == 1


# ---------------------------------------------------------------------------------------------
# Receipts
# ---------------------------------------------------------------------------------------------

def test_receipt_shows_status_disposition_and_hiding(client: FlaskClient, generous: Flask, session: Session) -> None:
    review = open_review(session)
    page = send(client, review.id, body="Add a stop near the shelter.", identity="confidential", name=NAME,
                email=EMAIL).get_data(as_text=True)
    path = receipt_path(page)
    receipt = client.get(path)
    html = receipt.get_data(as_text=True)
    assert receipt.headers["Cache-Control"] == "no-store" and receipt.headers["Referrer-Policy"] == "no-referrer"
    assert "Add a stop near the shelter." in html and "has not answered yet" in html and "10 March 2026" in html
    assert NAME not in html and EMAIL not in html
    [comment] = stored(session, review.id)
    comments.set_disposition(session, who(session, "ombuds"), comment.id, disposition="partially_accepted",
                             response="RESPONSEWORDS: a stop is added on school days.", now=INSIDE)
    session.commit()
    html = client.get(path).get_data(as_text=True)
    assert "Partially accepted" in html and "RESPONSEWORDS: a stop is added on school days." in html
    comments.hide(session, who(session, "ombuds"), comment.id, "Personal information about a student", now=INSIDE)
    session.commit()
    html = client.get(path).get_data(as_text=True)
    assert "Hidden by the ombuds office" in html and "Personal information about a student" in html
    assert "Add a stop near the shelter." not in html
    assert client.get("/public/comments/receipt/not-a-real-token").status_code == 404


def test_receipt_consent_form_flips_disclosure(client: FlaskClient, generous: Flask, session: Session) -> None:
    review = open_review(session)
    page = send(client, review.id, identity="confidential", name=NAME).get_data(as_text=True)
    path = receipt_path(page)
    html = client.get(path).get_data(as_text=True)
    assert "Your name is withheld" in html and 'name="granted" value="yes"' in html
    granted = client.post(f"{path}/disclosure", data={"granted": "yes"})
    assert granted.status_code == 302 and granted.headers["Location"].endswith(path)
    [comment] = stored(session, review.id)
    assert comment.disclosure_permitted is True
    html = client.get(path).get_data(as_text=True)
    assert "You allowed us to show your name" in html and 'name="granted" value="no"' in html
    assert comments.shown_name(comment, who(session, "stakeholder")) == NAME
    assert client.post(f"{path}/disclosure", data={"granted": "no"}).status_code == 302
    [comment] = stored(session, review.id)
    assert comment.disclosure_permitted is False
    assert comments.shown_name(comment, who(session, "stakeholder")) == WITHHELD
    consents = session.scalars(select(CommentConsent).where(CommentConsent.comment_id == comment.id)
                               .order_by(CommentConsent.id)).all()
    assert [c.granted for c in consents] == [True, False] and all(c.recorded_by_id is None for c in consents)
    assert client.post(f"{path}/disclosure", data={"granted": "maybe"}).status_code == 422


def test_receipt_of_other_modes_has_no_consent_form(client: FlaskClient, generous: Flask, session: Session) -> None:
    review = open_review(session)
    for mode in ("public", "anonymous"):
        path = receipt_path(send(client, review.id, identity=mode, name=NAME, body=f"{mode} words").get_data(as_text=True))
        assert "Allow my name" not in client.get(path).get_data(as_text=True)
        assert client.post(f"{path}/disclosure", data={"granted": "yes"}).status_code == 422
    # What a commenter wrote is shown as text, never as markup.
    path = receipt_path(send(client, review.id, body='<script>alert("x")</script> <b>bold</b>').get_data(as_text=True))
    html = client.get(path).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html and "<b>bold" not in html


# ---------------------------------------------------------------------------------------------
# Abuse protection
# ---------------------------------------------------------------------------------------------

def test_rate_limit_refuses_the_third_comment_readably(client: FlaskClient, app: Flask, session: Session) -> None:
    review = open_review(session)
    app.config["CLOCK"] = lambda: INSIDE
    app.config["COMMENT_RATE_LIMIT"] = "2 per hour"
    assert send(client, review.id, body="First.").status_code == 200
    assert send(client, review.id, body="Second.").status_code == 200
    third = send(client, review.id, body="THIRDCOMMENT")
    assert third.status_code == 429
    assert "You have sent many comments in a short time" in third.get_data(as_text=True)
    assert len(stored(session, review.id)) == 2
    assert session.scalar(select(func.count()).where(Comment.body == "THIRDCOMMENT")) == 0
    # Reading is never limited.
    assert client.get(f"/public/reviews/{review.id}").status_code == 200


@pytest.fixture
def csrf_client(session_factory: sessionmaker[Session]) -> FlaskClient:
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SESSION_FACTORY": session_factory, "STORE_SETTINGS": STORE,
                      "CLOCK": lambda: INSIDE, "COMMENT_RATE_LIMIT": "1000 per hour"})
    return app.test_client()


def test_public_forms_need_a_csrf_token(csrf_client: FlaskClient, session: Session) -> None:
    review = open_review(session)
    page = csrf_client.get(f"/public/reviews/{review.id}").get_data(as_text=True)
    token = re.search(r'id="comment-form"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"body": "Hello", "identity": "confidential", "name": NAME}
    for bad in ({}, {"csrf_token": "forged"}):
        response = csrf_client.post(f"/public/reviews/{review.id}/comments", data={**data, **bad})
        assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
    assert stored(session, review.id) == []
    sent = csrf_client.post(f"/public/reviews/{review.id}/comments", data={**data, "csrf_token": token})
    assert sent.status_code == 200
    path = receipt_path(sent.get_data(as_text=True))
    for bad in ({}, {"csrf_token": "forged"}):
        response = csrf_client.post(f"{path}/disclosure", data={"granted": "yes", **bad})
        assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
    receipt = csrf_client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', receipt).group(1)
    assert csrf_client.post(f"{path}/disclosure", data={"granted": "yes", "csrf_token": token}).status_code == 302
    assert stored(session, review.id)[0].disclosure_permitted is True

