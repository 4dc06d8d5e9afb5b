"""Equity assessment pages and API: answering with and without the script, conflicts, completion, the
redline and "what changed" box, the review page box, and the public assessment after publication."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from policyflow.models import Policy, Review
from policyflow.services import equity, policies
from policyflow.web import create_app
from tests.conftest import STORE, api_token, login
from tests.reviewing import NOW, act, complete_assessment, filled_answers, start, who
from tests.web.test_api import conforms

INTERNAL_DEMO_NOTE = "one-year check-in"  # the JD demo assessment's internal note
PERIOD = {"comment_opens_on": date(2026, 3, 3), "comment_closes_on": date(2026, 3, 20)}


def demo_review(session: Session, code: str) -> Review:
    review = session.scalar(select(Review).join(Review.policy).where(Policy.code == code))
    assert review is not None, code
    return review


@pytest.fixture
def fresh(app: Flask, session: Session) -> Review:
    """A new policy in equity review, visible to the app's sessions."""
    app.config["CLOCK"] = lambda: NOW
    review = start(session, "EQP", **PERIOD)
    act(session, review, "ombuds", "submit_for_equity_review")
    session.commit()
    return review


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:800])
    return response.get_data(as_text=True)


def test_writers_get_the_form_readers_the_answers(client: FlaskClient, session: Session) -> None:
    review = demo_review(session, "JICFB")
    url = f"/reviews/{review.id}/equity-assessment"
    assert client.get(url).status_code == 302  # sign in first
    login(client, "reviewer")
    html = page(client, url)
    assert 'id="equity-form"' in html and 'data-autosave-url="/reviews/' in html and "js/equity.js" in html
    assert '<label for="answer-purpose">' in html and 'aria-describedby="answer-purpose-help"' in html
    assert "<legend>Which student, family and staff groups does this policy affect?" in html
    assert 'id="answer-groups-lgbtqia" name="groups" value="lgbtqia" checked' in html
    assert 'id="answer-groups-lgbtqia-follow-up">' in html and 'id="answer-groups-black-follow-up" hidden>' in html
    assert "Sam Okafor (Legal Reviewer): 4 answers" in html and "Mark complete" in html
    assert "Still to answer before it can be marked complete" in html and 'href="#answer-groups-lgbtqia-burdens"' in html
    assert "Reading grade level by section" in html and "Grade, published version" in html
    login(client, "leader1")
    html = page(client, url)
    assert 'id="equity-form"' not in html and "js/equity.js" not in html
    assert "Ombuds staff and reviewers write it; you can read it here." in html
    assert "Students can talk to someone outside their school first, in confidence." in html
    login(client, "stakeholder")
    page(client, url, 403)


def test_the_form_saves_without_the_script(client: FlaskClient, session: Session, fresh: Review) -> None:
    login(client, "reviewer")
    url = f"/reviews/{fresh.id}/equity-assessment"
    form = {"revision": "0", "_fields": ["groups", "engagement_level"], "purpose": "Keep students in their school.\r\n",
            "groups": ["latinx", "foster-care"], "engagement_level": "consulted",
            "groups.latinx.benefits": "Rides in Spanish-speaking neighborhoods.", "tracking": ""}
    saved = client.post(url, data=form)
    assert saved.status_code == 302 and saved.headers["Location"] == url
    html = page(client, url)
    assert "Your answers are saved." in html
    assert 'id="answer-groups-foster-care-follow-up">' in html  # its questions show now
    state = equity.get(session, who(session, "reviewer"), fresh.id)
    assert state.answers == {"purpose": "Keep students in their school.", "groups": ["latinx", "foster-care"],
                             "engagement_level": "consulted", "groups.latinx.benefits": "Rides in Spanish-speaking neighborhoods."}
    # Nothing chosen clears a choice; the revision in the form says what the page showed.
    cleared = client.post(url, data={"revision": str(state.revision), "_fields": ["groups", "engagement_level"],
                                      "engagement_level": ""})
    assert cleared.status_code == 302
    session.expire_all()  # the app wrote through its own session
    assert equity.get(session, who(session, "reviewer"), fresh.id).answers == {
        "purpose": "Keep students in their school.", "groups.latinx.benefits": "Rides in Spanish-speaking neighborhoods."}


def test_a_conflict_keeps_your_answer_and_shows_theirs(client: FlaskClient, session: Session, fresh: Review) -> None:
    equity.save_answers(session, who(session, "reviewer"), fresh.id, {"purpose": "Theirs, saved first."}, 0, now=NOW)
    session.commit()
    login(client, "ombuds")
    url = f"/reviews/{fresh.id}/equity-assessment"
    refused = client.post(url, data={"revision": "0", "purpose": "Mine, from an old page.", "tracking": "Each semester."})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "Sam Okafor (Legal Reviewer) changed this answer while you were working." in html
    assert "Theirs, saved first." in html and ">Mine, from an old page.</textarea>" in html
    assert ">Each semester.</textarea>" in html  # the other change is kept in the form too
    assert 'name="revision" value="1"' in html and 'href="#answer-purpose"' in html
    assert 'aria-describedby="answer-purpose-help answer-purpose-conflict"' in html
    assert client.post(url, data={"revision": "1", "purpose": "Mine, from an old page.",
                                  "tracking": "Each semester."}).status_code == 302
    session.expire_all()
    assert equity.get(session, who(session, "ombuds"), fresh.id).answers == {"purpose": "Mine, from an old page.",
                                                                             "tracking": "Each semester."}


def test_an_invalid_answer_is_marked_at_its_question(client: FlaskClient, fresh: Review) -> None:
    login(client, "reviewer")
    response = client.post(f"/reviews/{fresh.id}/equity-assessment",
                           data={"revision": "0", "_fields": "engagement_level", "engagement_level": "telepathy",
                                 "purpose": "Kept."})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "&#39;telepathy&#39; is not one of the options" in html and 'id="answer-engagement_level-error"' in html
    assert ">Kept.</textarea>" in html


def test_mark_complete_lists_what_is_missing_then_reopen(client: FlaskClient, session: Session, fresh: Review) -> None:
    login(client, "reviewer")
    base = f"/reviews/{fresh.id}/equity-assessment"
    equity.save_answers(session, who(session, "reviewer"), fresh.id, {"purpose": "Why."}, 0, now=NOW)
    session.commit()
    refused = client.post(f"{base}/complete")
    assert refused.status_code == 409
    assert "7 required answer(s) missing" in refused.get_data(as_text=True)
    state = equity.get(session, who(session, "reviewer"), fresh.id)
    equity.save_answers(session, who(session, "reviewer"), fresh.id, filled_answers(state.definition), state.revision)
    session.commit()
    assert client.post(f"{base}/complete").status_code == 302
    html = page(client, base)
    assert "The equity assessment is marked complete for version 1." in html and "Reopen for changes" in html
    assert 'id="equity-form"' not in html
    review_page = page(client, f"/reviews/{fresh.id}")
    assert "Equity impact assessment" in review_page and "for version 1, by Sam Okafor" in review_page
    assert client.post(f"{base}/reopen").status_code == 302
    assert 'id="equity-form"' in page(client, base)
    login(client, "leader1")
    assert client.post(f"{base}/complete").status_code == 403


def test_autosave_endpoint(client: FlaskClient, session: Session, fresh: Review) -> None:
    url = f"/reviews/{fresh.id}/equity-assessment/autosave"
    login(client, "reviewer")
    saved = client.post(url, json={"answers": {"groups": ["black"]}, "revision": 0})
    assert saved.status_code == 200
    body = saved.get_json()
    assert body["revision"] == 1 and body["status"] == "in_progress"
    assert {"question": "groups.black.benefits", "label": "Black students, families and staff: Anticipated benefits",
            "field": "answer-groups-black-benefits"} in body["missing"]
    login(client, "ombuds")
    conflict = client.post(url, json={"answers": {"groups": ["latinx"]}, "revision": 0})
    assert conflict.status_code == 409 and conflict.mimetype == "application/problem+json"
    assert conflict.get_json()["conflicts"][0]["current"] == ["black"] and conflict.get_json()["revision"] == 1
    assert client.post(url, json={"answers": {"purpose": 5}, "revision": 1}).status_code == 422
    assert client.post(url, data="not json").status_code == 400
    login(client, "leader1")
    refused = client.post(url, json={"answers": {"purpose": "x"}, "revision": 1})
    assert refused.status_code == 403 and "read it" in refused.get_json()["detail"]


def test_autosave_needs_the_csrf_token(session_factory: sessionmaker[Session], session: Session, fresh: Review) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SESSION_FACTORY": session_factory, "STORE_SETTINGS": STORE})
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "reviewer", "password": "demo-password", "csrf_token": token})
    url = f"/reviews/{fresh.id}/equity-assessment/autosave"
    assert client.post(url, json={"answers": {"purpose": "x"}, "revision": 0}).status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get(f"/reviews/{fresh.id}/equity-assessment").get_data(as_text=True)).group(1)
    ok = client.post(url, json={"answers": {"purpose": "x"}, "revision": 0}, headers={"X-CSRFToken": token})
    assert ok.status_code == 200 and ok.get_json()["revision"] == 1


def test_a_later_version_shows_the_redline_and_asks_what_changed(client: FlaskClient, app: Flask, session: Session,
                                                                  fresh: Review) -> None:
    complete_assessment(session, fresh)
    act(session, fresh, "ombuds", "return_to_draft", "Name who arranges the bus.")
    policies.save_version(session, who(session, "ombuds"), STORE, fresh.policy, base_version=1, summary="Bus.",
                          text="# Reviewed\n\nStudents in foster care keep their school. The district arranges the bus.\n")
    act(session, fresh, "ombuds", "submit_for_equity_review")
    session.commit()
    login(client, "reviewer")
    base = f"/reviews/{fresh.id}/equity-assessment"
    html = page(client, base)
    assert "What changed after the equity review?" in html and '<ins class="rl-ins"' in html
    assert "The assessment was completed for version 1" in html and 'id="explanation"' in html
    review_page = page(client, f"/reviews/{fresh.id}")
    assert "the text changed after it (version 1 was assessed, version 2 is under review)" in review_page
    assert client.post(f"{base}/explanation", data={"explanation": " "}).status_code == 422
    assert client.post(f"{base}/explanation", data={"explanation": "Names who arranges the bus; no answer changes."}
                       ).status_code == 302
    login(client, "leader1")
    html = page(client, base)
    assert "Names who arranges the bus; no answer changes." in html and 'id="explanation"' not in html
    login(client, "ombuds")
    assert client.post(f"/reviews/{fresh.id}/actions", data={"action": "open_comment_period"}).status_code == 302


def test_leadership_reads_the_assessment_on_the_review_page_at_approval(client: FlaskClient, session: Session) -> None:
    review = demo_review(session, "GAE")
    login(client, "leader1")
    html = page(client, f"/reviews/{review.id}")
    assert "The answers, for leadership's decision" in html
    assert "The grievance forms need a Spanish translation before publication." in html  # staff read internal notes
    assert "Read the equity assessment" in html
    html = page(client, f"/reviews/{review.id}/report")
    assert f'href="/reviews/{review.id}/equity-assessment"' in html


def test_public_only_after_publication_and_never_internal(client: FlaskClient, session: Session) -> None:
    for code in ("GAE", "JFABE", "JICFB", "KB"):
        page(client, f"/public/reviews/{demo_review(session, code).id}/equity-assessment", 404)
    page(client, "/public/reviews/999999/equity-assessment", 404)
    jd = demo_review(session, "JD")
    html = page(client, f"/public/reviews/{jd.id}/equity-assessment")
    assert "defiance can no longer lead to suspension" in html and "Anticipated benefits" in html
    assert "Black students, families and staff" in html and "Students in foster care" not in html  # chosen groups only
    assert INTERNAL_DEMO_NOTE not in html and "Notes for the review team" not in html and "Internal" not in html
    report = page(client, f"/public/reviews/{jd.id}/report")
    assert f'href="/public/reviews/{jd.id}/equity-assessment"' in report


# ---------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------

def test_api(client: FlaskClient, session: Session, fresh: Review) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    path, template = f"/api/v1/reviews/{fresh.id}/equity-assessment", "/reviews/{review_id}/equity-assessment"
    reviewer, ombuds, leader = (api_token(client, name) for name in ("reviewer", "ombuds", "leader1"))
    empty = conforms(spec, client.get(path, headers=leader), "get", template)
    assert empty["status"] == "not_started" and empty["revision"] == 0 and empty["may_write"] is False
    assert [q["id"] for q in empty["definition"]["sections"][1]["questions"]] == ["groups", "other_groups"]
    saved = conforms(spec, client.put(path, headers=reviewer, json={"answers": {"purpose": "Why.", "groups": ["aapi"]},
                                                                    "revision": 0}), "put", template)
    assert saved["revision"] == 1 and saved["answers"] == {"purpose": "Why.", "groups": ["aapi"]}
    assert saved["last_changed"]["purpose"]["by"] == "reviewer" and saved["contributors"][0]["answers"] == 2
    invalid = client.put(path, headers=reviewer, json={"answers": {"engagement_level": "telepathy"}, "revision": 1})
    problem = conforms(spec, invalid, "put", template)
    assert invalid.status_code == 422 and "'engagement_level'" in problem["detail"]
    assert problem["problems"][0]["question"] == "engagement_level"
    stale = client.put(path, headers=ombuds, json={"answers": {"purpose": "Other."}, "revision": 0})
    assert stale.status_code == 409 and conforms(spec, stale, "put", template)["conflicts"][0]["current"] == "Why."
    forbidden = client.put(path, headers=leader, json={"answers": {"purpose": "Mine."}, "revision": 1})
    assert conforms(spec, forbidden, "put", template)["status"] == 403
    assert client.put(path, headers=reviewer, json={"answers": ["purpose"], "revision": 1}).status_code == 422
    assert client.put(path, headers=reviewer, json={"answers": {}}).status_code == 422  # revision is required
    stakeholder = client.get(path, headers=api_token(client, "stakeholder"))
    assert conforms(spec, stakeholder, "get", template)["status"] == 404
    assert conforms(spec, client.get(path), "get", template)["status"] == 401
    missing = client.post(f"{path}/complete", headers=reviewer)
    assert conforms(spec, missing, "post", template + "/complete")["missing"][0]["question"] == "groups.aapi.benefits"
    state = equity.get(session, who(session, "reviewer"), fresh.id)
    client.put(path, headers=reviewer, json={"answers": filled_answers(state.definition), "revision": 1})
    done = conforms(spec, client.post(f"{path}/complete", headers=reviewer), "post", template + "/complete")
    assert done["status"] == "complete" and done["version"] == 1 and done["completed_by"] == "reviewer"
    nothing = client.post(f"{path}/explanation", headers=reviewer, json={"explanation": "Nothing."})
    assert conforms(spec, nothing, "post", template + "/explanation")["status"] == 409
    reopened = conforms(spec, client.post(f"{path}/reopen", headers=ombuds), "post", template + "/reopen")
    assert reopened["status"] == "in_progress" and reopened["changes"] is None
