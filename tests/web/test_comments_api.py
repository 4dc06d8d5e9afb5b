"""Stakeholder comments over the API (every response checked against openapi.json): sealed identities,
the comment period, moderation, dispositions, the response-to-comments report and rate limiting."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from policyflow.models import Comment
from policyflow.services.comments import WITHHELD
from policyflow.web.api.commenting import CSV_COLUMNS, CSV_IDENTITY_COLUMNS
from tests.conftest import api_token
from tests.reviewing import NOW, complete_assessment_over_api
from tests.web.test_api import conforms

TEXT = ("# Transportation\n\nStudents living more than two miles from school ride the bus.\n\n"
        "## Eligibility\n\nStudents in foster care keep their route when they move.\n")
OPEN = NOW + timedelta(days=5)  # 2026-03-07, inside the period 2026-03-05..2026-04-04
AFTER = NOW + timedelta(days=34)  # 2026-04-05, the day after the period closed
SEALED_NAME = "Casey SEALEDNAME Rivers"
SEALED_EMAIL = "sealed-person@example.org"
COMMENTS = "/reviews/{review_id}/comments"
REPORT = "/reviews/{review_id}/comments/report"
STAFF_NON_OMBUDS = ("reviewer", "leader1", "admin")


@pytest.fixture
def spec(client: FlaskClient) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


@pytest.fixture
def generous(app: Flask) -> Flask:
    """Most tests send more anonymous comments than the production limit allows in an hour."""
    app.config["COMMENT_RATE_LIMIT"] = "1000 per hour"
    return app


def set_clock(app: Flask, when: datetime) -> None:
    app.config["CLOCK"] = lambda: when


def open_review(client: FlaskClient, app: Flask, code: str) -> int:
    """A new policy whose standard review is in its comment period (clock inside the period)."""
    ombuds = api_token(client, "ombuds")
    set_clock(app, NOW)
    assert client.post("/api/v1/policies", headers=ombuds, json={
        "code": code, "title": "Transportation", "text": TEXT, "summary": "Draft."}).status_code == 201
    review = client.post(f"/api/v1/policies/{code}/reviews", headers=ombuds, json={
        "workflow": "standard-review", "comment_opens_on": "2026-03-05", "comment_closes_on": "2026-04-04"}).get_json()
    for action in ("submit_for_equity_review", "open_comment_period"):
        if action == "open_comment_period":
            complete_assessment_over_api(client, review["id"], ombuds)
        moved = client.post(f"/api/v1/reviews/{review['id']}/actions", headers=ombuds, json={"action": action})
        assert moved.status_code == 200, moved.get_json()
    set_clock(app, OPEN)
    return review["id"]


def close_period(client: FlaskClient, app: Flask, review_id: int) -> None:
    """End the period (every comment must be answered first): the response to comments becomes public."""
    set_clock(app, AFTER)
    moved = client.post(f"/api/v1/reviews/{review_id}/actions", headers=api_token(client, "ombuds"),
                        json={"action": "close_comment_period"})
    assert moved.status_code == 200 and moved.get_json()["state"] == "approval", moved.get_json()


def post(client: FlaskClient, review_id: int, body: dict, headers: dict[str, str] | None = None) -> TestResponse:
    return client.post(f"/api/v1/reviews/{review_id}/comments", json=body, headers=headers or {})


def stored(session: Session, review_id: int) -> list[Comment]:
    session.expire_all()
    return list(session.scalars(select(Comment).where(Comment.review_id == review_id).order_by(Comment.id)))


def csv_rows(spec: dict, response: TestResponse) -> list[list[str]]:
    """The CSV report: documented media type, a header row."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert "text/csv" in spec["paths"][REPORT]["get"]["responses"]["200"]["content"]
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def answer_all(client: FlaskClient, spec: dict, session: Session, review_id: int) -> None:
    ombuds = api_token(client, "ombuds")
    for comment in stored(session, review_id):
        if comment.hidden_at is None and comment.disposition is None:
            answered = client.put(f"/api/v1/comments/{comment.id}/disposition", headers=ombuds,
                                  json={"disposition": "not_accepted", "response": "Thank you; the text stays."})
            conforms(spec, answered, "put", "/comments/{comment_id}/disposition")


def test_anonymous_comment_without_token_stores_no_identity(client: FlaskClient, generous: Flask, spec: dict,
                                                            session: Session) -> None:
    review_id = open_review(client, generous, "CAPI1")
    start = TEXT.index("foster care")
    response = post(client, review_id, {
        "body": "Please keep **foster** students on their route.", "identity": "anonymous",
        "name": "Should Not Be Kept", "email": "not-kept@example.org", "category": "parent_guardian",
        "target": {"start": start, "end": start + len("foster care"), "exact": "foster care"}})
    assert response.status_code == 201, response.get_json()
    row = conforms(spec, response, "post", COMMENTS)
    assert row["name"] == "Anonymous" and row["identity_mode"] == "anonymous" and row["passage"] == "foster care"
    assert "email" not in row and "Should Not Be Kept" not in response.get_data(as_text=True)
    assert row["receipt_url"].startswith("http") and "/public/comments/receipt/" in row["receipt_url"]
    (comment,) = stored(session, review_id)
    assert (comment.author_id, comment.name, comment.email, comment.filed_by_id) == (None, None, None, None)
    assert comment.category == "parent_guardian" and comment.start == start
    assert row["receipt_url"].rsplit("/", 1)[1] not in comment.receipt_hash  # only the hash is kept
    # A public comment without an account shows its name to everyone.
    public = conforms(spec, post(client, review_id, {"body": "Buses are late.", "identity": "public", "name": "Pat Doe"}),
                      "post", COMMENTS)
    assert public["name"] == "Pat Doe" and public["passage"] is None
    # Signed in, a comment is under the account unless anonymous.
    mine = post(client, review_id, {"body": "As a parent: thanks.", "identity": "public"}, api_token(client, "stakeholder"))
    assert conforms(spec, mine, "post", COMMENTS)["name"] == "Jordan Lee (Parent)"
    hidden_self = post(client, review_id, {"body": "Anonymous, signed in.", "identity": "anonymous"},
                       api_token(client, "stakeholder"))
    assert conforms(spec, hidden_self, "post", COMMENTS)["name"] == "Anonymous"
    assert stored(session, review_id)[-1].author_id is None


def test_comment_needs_a_public_stage(client: FlaskClient, generous: Flask, spec: dict, session: Session) -> None:
    ombuds = api_token(client, "ombuds")
    set_clock(generous, NOW)
    client.post("/api/v1/policies", headers=ombuds, json={"code": "CAPI0", "title": "T", "text": TEXT, "summary": "D."})
    review = client.post("/api/v1/policies/CAPI0/reviews", headers=ombuds, json={"workflow": "standard-review"}).get_json()
    refused = post(client, review["id"], {"body": "Early.", "identity": "anonymous"})
    assert conforms(spec, refused, "post", COMMENTS)["status"] == 404
    assert conforms(spec, post(client, 999_999, {"body": "x", "identity": "anonymous"}), "post", COMMENTS)["status"] == 404
    assert stored(session, review["id"]) == []


def test_confidential_identity_only_for_ombuds_everywhere(client: FlaskClient, generous: Flask, spec: dict,
                                                          session: Session) -> None:
    review_id = open_review(client, generous, "CAPI2")
    sealed = post(client, review_id, {"body": "My child was bullied on bus 12.", "identity": "confidential",
                                      "name": SEALED_NAME, "email": SEALED_EMAIL, "category": "parent_guardian"})
    row = conforms(spec, sealed, "post", COMMENTS)
    assert row["name"] == WITHHELD and "email" not in row and SEALED_NAME not in sealed.get_data(as_text=True)
    by_account = post(client, review_id, {"body": "Confidential from my account.", "identity": "confidential"},
                      api_token(client, "stakeholder"))
    assert conforms(spec, by_account, "post", COMMENTS)["name"] == WITHHELD
    secrets = (SEALED_NAME, SEALED_EMAIL, "Jordan Lee", "stakeholder@riverbend.example.org")

    ombuds = api_token(client, "ombuds")
    listed = conforms(spec, client.get(f"/api/v1/reviews/{review_id}/comments", headers=ombuds), "get", COMMENTS)
    assert listed["total"] == 2 and listed["page"] == 1
    names = {item["name"]: item for item in listed["items"]}
    assert names[SEALED_NAME]["email"] == SEALED_EMAIL and names[SEALED_NAME]["disclosure_permitted"] is False
    assert names["Jordan Lee (Parent)"]["email"] == "stakeholder@riverbend.example.org"

    def assert_sealed(headers: dict[str, str]) -> None:
        listing = client.get(f"/api/v1/reviews/{review_id}/comments", headers=headers)
        body = conforms(spec, listing, "get", COMMENTS)
        assert [item["name"] for item in body["items"]] == [WITHHELD, WITHHELD]
        assert all("email" not in item and "disclosure_permitted" not in item for item in body["items"])
        report = client.get(f"/api/v1/reviews/{review_id}/comments/report", headers=headers)
        conforms(spec, report, "get", REPORT)
        exported = client.get(f"/api/v1/reviews/{review_id}/comments/report?format=csv", headers=headers)
        rows = csv_rows(spec, exported)
        assert tuple(rows[0]) == CSV_COLUMNS and {r[rows[0].index("name")] for r in rows[1:]} == {WITHHELD}
        for response in (listing, report, exported):
            text = response.get_data(as_text=True)
            assert not [secret for secret in secrets if secret in text], (headers, response.request.url)

    # The audit trail records that comments arrived, never who sent them.
    events = client.get("/api/v1/policies/CAPI2/events", headers=api_token(client, "reviewer"))
    trail = conforms(spec, events, "get", "/policies/{code}/events")["items"]
    assert [e["actor"] for e in trail if e["action"] == "comment.submitted"] == ["anonymous", "anonymous"]
    assert not [secret for secret in secrets if secret in events.get_data(as_text=True)]
    # While the review runs: staff who are not ombuds see it sealed; the public and stakeholders see nothing.
    for username in STAFF_NON_OMBUDS:
        assert_sealed(api_token(client, username))
    for headers in ({}, api_token(client, "stakeholder")):
        for path in (COMMENTS, REPORT, REPORT + "?format=csv"):
            hidden = client.get("/api/v1" + path.format(review_id=review_id), headers=headers)
            assert conforms(spec, hidden, "get", path.split("?")[0])["status"] == 404
            assert SEALED_NAME not in hidden.get_data(as_text=True)
    # Once the response to comments is public: everyone sees the comments, never the sealed names.
    answer_all(client, spec, session, review_id)
    close_period(client, generous, review_id)
    for headers in ({}, api_token(client, "stakeholder"), *(api_token(client, u) for u in STAFF_NON_OMBUDS)):
        assert_sealed(headers)
    # Ombuds staff see names and contact details in every output.
    report = conforms(spec, client.get(f"/api/v1/reviews/{review_id}/comments/report", headers=ombuds), "get", REPORT)
    reported = [c for s in report["sections"] for g in s["groups"] for c in g["comments"]]
    assert {c["name"] for c in reported} == {SEALED_NAME, "Jordan Lee (Parent)"}
    rows = csv_rows(spec, client.get(f"/api/v1/reviews/{review_id}/comments/report?format=csv", headers=ombuds))
    assert tuple(rows[0]) == CSV_COLUMNS + CSV_IDENTITY_COLUMNS
    assert [SEALED_NAME, SEALED_EMAIL] in [[r[rows[0].index("name")], r[rows[0].index("email")]] for r in rows[1:]]


def test_comment_period_boundaries(client: FlaskClient, generous: Flask, spec: dict, session: Session) -> None:
    review_id = open_review(client, generous, "CAPI3")
    set_clock(generous, NOW)  # 2026-03-02: the period opens on 2026-03-05
    early = post(client, review_id, {"body": "Too early.", "identity": "anonymous"})
    assert early.status_code == 409 and "opens on March 5, 2026" in conforms(spec, early, "post", COMMENTS)["detail"]
    set_clock(generous, NOW.replace(month=4, day=4, hour=23, minute=59))  # the last day still counts
    assert post(client, review_id, {"body": "Just in time.", "identity": "anonymous"}).status_code == 201
    set_clock(generous, AFTER)
    late = post(client, review_id, {"body": "Too late.", "identity": "confidential", "name": "Late Larry"},
                api_token(client, "stakeholder"))
    problem = conforms(spec, late, "post", COMMENTS)
    assert late.status_code == 409 and problem["detail"] == (
        "The comment period closed on April 4, 2026. Your comment was not saved.")
    assert [c.body for c in stored(session, review_id)] == ["Just in time."]


BAD_INPUTS = [
    # (why, raw body, content type, status, words in the detail)
    ("no body", {"identity": "anonymous"}, None, 422, "'body' is required"),
    ("empty body", {"body": "   ", "identity": "anonymous"}, None, 422, "Write your comment"),
    ("body not text", {"body": ["x"], "identity": "anonymous"}, None, 422, "'body' must be a string"),
    ("no identity", {"body": "Hello."}, None, 422, "'identity' is required"),
    ("unknown identity", {"body": "Hello.", "identity": "secret"}, None, 422, "'public', 'confidential' or 'anonymous'"),
    ("unknown category", {"body": "Hello.", "identity": "anonymous", "category": "alien"}, None, 422, "Unknown category"),
    ("too long", {"body": "x" * 8_001, "identity": "anonymous"}, None, 422, "limited to 8,000 characters"),
    ("no name", {"body": "Hello.", "identity": "public"}, None, 422, "Give your name"),
    ("bad e-mail", {"body": "Hello.", "identity": "confidential", "name": "A", "email": "nope"}, None, 422,
     "does not look like an e-mail"),
    ("target outside", {"body": "Hello.", "identity": "anonymous", "target": {"start": 10, "end": 100_000}}, None, 422,
     "outside the draft's text"),
    ("target backwards", {"body": "Hello.", "identity": "anonymous", "target": {"start": 20, "end": 10}}, None, 422,
     "outside the draft's text"),
    ("target misquoted", {"body": "Hello.", "identity": "anonymous", "target": {"start": 0, "end": 5, "exact": "Other"}},
     None, 422, "does not match"),
    ("target not an object", {"body": "Hello.", "identity": "anonymous", "target": [1, 2]}, None, 422, "'target'"),
    ("filed by the public", {"body": "Hello.", "identity": "anonymous", "filed_via": "phone"}, None, 403, "ombuds staff"),
    ("malformed JSON", b'{"body": "Hello.", "identity": ', "application/json", 400, "not valid JSON"),
    ("not an object", b'["Hello."]', "application/json", 400, "JSON object"),
    ("form post", b"body=Hello.&identity=anonymous", "application/x-www-form-urlencoded", 400, "application/json"),
]


def test_bad_inputs_are_clear_problems_and_store_nothing(client: FlaskClient, generous: Flask, spec: dict,
                                                         session: Session) -> None:
    review_id = open_review(client, generous, "CAPI4")
    for why, body, content_type, status, words in BAD_INPUTS:
        if isinstance(body, bytes):
            response = client.post(f"/api/v1/reviews/{review_id}/comments", data=body, content_type=content_type)
        else:
            response = post(client, review_id, body)
        problem = conforms(spec, response, "post", COMMENTS)
        assert response.status_code == status, (why, problem)
        assert words in problem["detail"], (why, problem["detail"])
    assert stored(session, review_id) == []


def test_moderation_and_dispositions(client: FlaskClient, generous: Flask, spec: dict, session: Session) -> None:
    review_id = open_review(client, generous, "CAPI5")
    ombuds, reviewer = api_token(client, "ombuds"), api_token(client, "reviewer")
    first = conforms(spec, post(client, review_id, {"body": "Bus stops should be lit.", "identity": "anonymous"}),
                     "post", COMMENTS)
    abusive = conforms(spec, post(client, review_id, {"body": "ABUSIVE-WORDS about the driver Mr. X.",
                                                      "identity": "anonymous"}), "post", COMMENTS)
    campaign = "Keep every bus route in the district exactly as it is today, for the sake of our families."
    group = [conforms(spec, post(client, review_id, {"body": body, "identity": "anonymous"}), "post", COMMENTS)
             for body in (campaign, campaign, campaign.replace("today", "today!") + " Thank you")]
    assert len({row["group"] for row in group}) == 1 and group[0]["group"] == group[0]["id"]

    disposition = f"/api/v1/comments/{first['id']}/disposition"
    answer = {"disposition": "accepted", "response": "We will add lighting.", "changed_in_version": 1}
    template = "/comments/{comment_id}/disposition"
    assert conforms(spec, client.put(disposition, json=answer), "put", template)["status"] == 401
    refused = client.put(disposition, headers=reviewer, json=answer)
    assert conforms(spec, refused, "put", template)["status"] == 403
    assert conforms(spec, client.put(disposition, headers=ombuds, json={**answer, "disposition": "maybe"}), "put",
                    template)["status"] == 422
    assert conforms(spec, client.put(disposition, headers=ombuds, json={**answer, "changed_in_version": 9}), "put",
                    template)["status"] == 422
    assert conforms(spec, client.put(disposition, headers=ombuds, json={**answer, "response": " "}), "put",
                    template)["status"] == 422
    assert conforms(spec, client.put("/api/v1/comments/999999/disposition", headers=ombuds, json=answer), "put",
                    template)["status"] == 404
    answered = conforms(spec, client.put(disposition, headers=ombuds, json=answer), "put", template)
    assert (answered["disposition"], answered["response"], answered["changed_in_version"]) == (
        "accepted", "We will add lighting.", 1)

    group_path = f"/api/v1/reviews/{review_id}/comment-groups/{group[0]['group']}/disposition"
    group_template = "/reviews/{review_id}/comment-groups/{group_id}/disposition"
    bulk = {"disposition": "not_accepted", "response": "Routes change with enrolment."}
    assert conforms(spec, client.put(group_path, headers=reviewer, json=bulk), "put", group_template)["status"] == 403
    missing = client.put(f"/api/v1/reviews/{review_id}/comment-groups/999999/disposition", headers=ombuds, json=bulk)
    assert conforms(spec, missing, "put", group_template)["status"] == 404
    assert conforms(spec, client.put(group_path, headers=ombuds, json=bulk), "put", group_template) == {"updated": 3}
    assert {c.disposition for c in stored(session, review_id) if c.group_id == group[0]["group"]} == {"not_accepted"}

    hide, hide_template = f"/api/v1/comments/{abusive['id']}/hide", "/comments/{comment_id}/hide"
    no_reason = client.post(hide, headers=ombuds, json={})
    assert no_reason.status_code == 422 and "Say why" in conforms(spec, no_reason, "post", hide_template)["detail"]
    blank = client.post(hide, headers=ombuds, json={"reason": "   "})
    assert conforms(spec, blank, "post", hide_template)["status"] == 422
    assert conforms(spec, client.post(hide, headers=reviewer, json={"reason": "Abuse."}), "post", hide_template)["status"] == 403
    hidden = conforms(spec, client.post(hide, headers=ombuds, json={"reason": "Abusive language"}), "post", hide_template)
    assert hidden["hidden"] and hidden["hidden_reason"] == "Abusive language" and hidden["body"].startswith("ABUSIVE-WORDS")
    for username in STAFF_NON_OMBUDS:
        listing = client.get(f"/api/v1/reviews/{review_id}/comments", headers=api_token(client, username))
        item = next(i for i in conforms(spec, listing, "get", COMMENTS)["items"] if i["id"] == abusive["id"])
        assert item["hidden"] and item["body"] is None and item["hidden_reason"] == "Abusive language"
        assert "ABUSIVE-WORDS" not in listing.get_data(as_text=True)
        for path in (REPORT, REPORT + "?format=csv"):
            exported = client.get("/api/v1" + path.format(review_id=review_id), headers=api_token(client, username))
            assert exported.status_code == 200 and "ABUSIVE-WORDS" not in exported.get_data(as_text=True)
    ombuds_list = conforms(spec, client.get(f"/api/v1/reviews/{review_id}/comments", headers=ombuds), "get", COMMENTS)
    assert any(i["body"].startswith("ABUSIVE-WORDS") for i in ombuds_list["items"])
    assert stored(session, review_id)[1].body.startswith("ABUSIVE-WORDS")  # kept for the record

    unhide, unhide_template = f"/api/v1/comments/{abusive['id']}/unhide", "/comments/{comment_id}/unhide"
    assert conforms(spec, client.post(unhide, headers=reviewer), "post", unhide_template)["status"] == 403
    shown = conforms(spec, client.post(unhide, headers=ombuds), "post", unhide_template)
    assert not shown["hidden"] and shown["hidden_reason"] is None
    conforms(spec, client.post(hide, headers=ombuds, json={"reason": "Abusive language"}), "post", hide_template)
    # Hidden with a reason counts as answered: the period can close, and the public sees why it was hidden.
    close_period(client, generous, review_id)
    public = conforms(spec, client.get(f"/api/v1/reviews/{review_id}/comments"), "get", COMMENTS)
    item = next(i for i in public["items"] if i["id"] == abusive["id"])
    assert item["body"] is None and item["hidden_reason"] == "Abusive language"
    assert "ABUSIVE-WORDS" not in client.get(f"/api/v1/reviews/{review_id}/comments/report").get_data(as_text=True)


def test_ombuds_files_on_behalf_of_a_caller(client: FlaskClient, generous: Flask, spec: dict, session: Session) -> None:
    review_id = open_review(client, generous, "CAPI6")
    ombuds = api_token(client, "ombuds")
    filed = post(client, review_id, {"body": "A grandparent called about bus 7.", "identity": "confidential",
                                     "name": "Caller Grandparent", "filed_via": "phone"}, ombuds)
    row = conforms(spec, filed, "post", COMMENTS)
    assert row["filed_via"] == "phone" and row["name"] == "Caller Grandparent" and row["email"] is None
    unknown = post(client, review_id, {"body": "x", "identity": "anonymous", "filed_via": "pigeon"}, ombuds)
    assert conforms(spec, unknown, "post", COMMENTS)["status"] == 422
    reviewer = post(client, review_id, {"body": "x", "identity": "anonymous", "filed_via": "phone"},
                    api_token(client, "reviewer"))
    assert conforms(spec, reviewer, "post", COMMENTS)["status"] == 403
    (comment,) = stored(session, review_id)
    assert comment.author_id is None and comment.filed_by_id is not None


def test_report_masks_small_counts_for_everyone_but_ombuds(client: FlaskClient, generous: Flask, spec: dict,
                                                           session: Session) -> None:
    review_id = open_review(client, generous, "CAPI7")
    start = TEXT.index("foster care")
    on_passage = {"start": start, "end": start + len("foster care")}
    for number in range(3):
        post(client, review_id, {"body": f"Student view number {number} on routes.", "identity": "anonymous",
                                 "category": "student", "target": on_passage})
    post(client, review_id, {"body": "One parent: consider walking groups.", "identity": "public", "name": "Lee Park",
                             "category": "parent_guardian"})
    ombuds = conforms(spec, client.get(f"/api/v1/reviews/{review_id}/comments/report", headers=api_token(client, "ombuds")),
                      "get", REPORT)
    assert ombuds["total"] == 4 and ombuds["policy"] == "CAPI7" and ombuds["review"] == review_id
    assert ombuds["by_category"] == {"parent_guardian": 1, "student": 3}
    assert ombuds["by_identity"] == {"anonymous": 3, "public": 1} and ombuds["by_disposition"] == {"none": 4}
    assert ombuds["hidden"] == 0
    assert [s["heading"] for s in ombuds["sections"]] == ["The policy as a whole", "Eligibility"]
    assert [s["count"] for s in ombuds["sections"]] == [1, 3]

    def masked(report: dict) -> None:
        assert report["total"] == 4 and report["hidden"] == 0
        assert report["by_category"] == {"parent_guardian": "fewer than 3", "student": 3}
        assert report["by_identity"] == {"anonymous": 3, "public": "fewer than 3"}
        assert [s["count"] for s in report["sections"]] == ["fewer than 3", 3]

    masked(conforms(spec, client.get(f"/api/v1/reviews/{review_id}/comments/report", headers=api_token(client, "leader1")),
                    "get", REPORT))
    answer_all(client, spec, session, review_id)
    close_period(client, generous, review_id)
    public = conforms(spec, client.get(f"/api/v1/reviews/{review_id}/comments/report?format=json"), "get", REPORT)
    masked(public)
    assert public["by_disposition"] == {"not_accepted": 4}
    responses = {c["response"] for s in public["sections"] for g in s["groups"] for c in g["comments"]}
    assert responses == {"Thank you; the text stays."}
    rows = csv_rows(spec, client.get(f"/api/v1/reviews/{review_id}/comments/report?format=csv"))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 5
    unknown = client.get(f"/api/v1/reviews/{review_id}/comments/report?format=xml")
    assert conforms(spec, unknown, "get", REPORT)["status"] == 422
    paged = conforms(spec, client.get(f"/api/v1/reviews/{review_id}/comments?page=2&page_size=3"), "get", COMMENTS)
    assert (paged["total"], paged["page"], paged["page_size"], len(paged["items"])) == (4, 2, 3, 1)
    assert conforms(spec, client.get(f"/api/v1/reviews/{review_id}/comments?page_size=500"), "get", COMMENTS)["status"] == 422
    assert conforms(spec, client.get(f"/api/v1/reviews/{review_id}/comments?page=x"), "get", COMMENTS)["status"] == 400


def test_csv_neutralises_spreadsheet_formulas(client: FlaskClient, generous: Flask, spec: dict) -> None:
    review_id = open_review(client, generous, "CAPI8")
    post(client, review_id, {"body": '=HYPERLINK("http://evil.example","click")', "identity": "public", "name": "@Mallory"})
    rows = csv_rows(spec, client.get(f"/api/v1/reviews/{review_id}/comments/report?format=csv",
                                     headers=api_token(client, "ombuds")))
    header, row = rows[0], rows[1]
    assert row[header.index("body")] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert row[header.index("name")] == "'@Mallory" and row[header.index("disclosure_permitted")] == "false"


def test_anonymous_comments_are_rate_limited(client: FlaskClient, app: Flask, spec: dict, session: Session) -> None:
    review_id = open_review(client, app, "CAPI9")
    app.config["COMMENT_RATE_LIMIT"] = "2 per hour"
    for number in range(2):
        assert post(client, review_id, {"body": f"Comment {number}.", "identity": "anonymous"}).status_code == 201
    limited = post(client, review_id, {"body": "One too many.", "identity": "anonymous"})
    problem = conforms(spec, limited, "post", COMMENTS)
    assert limited.status_code == 429 and "wait a while" in problem["detail"]
    # Reading is not limited, and ombuds staff filing for callers are not counted.
    assert client.get(f"/api/v1/reviews/{review_id}/comments", headers=api_token(client, "ombuds")).status_code == 200
    filed = post(client, review_id, {"body": "Filed by phone.", "identity": "public", "name": "A Caller",
                                     "filed_via": "phone"}, api_token(client, "ombuds"))
    assert filed.status_code == 201
    assert [c.body for c in stored(session, review_id)] == ["Comment 0.", "Comment 1.", "Filed by phone."]
