"""Reviews over HTTP: the API (checked against openapi.json) and the review page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import api_token, login
from tests.reviewing import complete_assessment_over_api
from tests.web.test_api import conforms

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def set_clock(app: Flask, when: datetime) -> None:
    app.config["CLOCK"] = lambda: when


def new_policy(client: FlaskClient, headers: dict[str, str], code: str) -> None:
    response = client.post("/api/v1/policies", headers=headers, json={
        "code": code, "title": "Review me", "text": "# Review me\n\nText.\n", "summary": "Draft."})
    assert response.status_code == 201


def test_review_lifecycle_over_the_api(client: FlaskClient, app: Flask) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    ombuds, leader = api_token(client, "ombuds"), api_token(client, "leader1")
    set_clock(app, NOW)
    new_policy(client, ombuds, "RAPI")
    started = client.post("/api/v1/policies/RAPI/reviews", headers=ombuds, json={"workflow": "standard-review"})
    review = conforms(spec, started, "post", "/policies/{code}/reviews")
    assert review["state"] == "draft" and review["version"] == 1
    path = f"/api/v1/reviews/{review['id']}"
    twice = client.post("/api/v1/policies/RAPI/reviews", headers=ombuds, json={"workflow": "standard-review"})
    assert conforms(spec, twice, "post", "/policies/{code}/reviews")["status"] == 409
    leader_view = conforms(spec, client.get(path, headers=leader), "get", "/reviews/{review_id}")
    submit = next(a for a in leader_view["available_actions"] if a["action"] == "submit_for_equity_review")
    assert not submit["allowed"] and "ombuds" in submit["reasons"][0]
    refused = client.post(f"{path}/actions", headers=leader, json={"action": "submit_for_equity_review"})
    assert conforms(spec, refused, "post", "/reviews/{review_id}/actions")["status"] == 403
    moved = client.post(f"{path}/actions", headers=ombuds, json={"action": "submit_for_equity_review"})
    assert conforms(spec, moved, "post", "/reviews/{review_id}/actions")["state"] == "equity_review"
    unmet = client.post(f"{path}/actions", headers=ombuds, json={"action": "open_comment_period"})
    problem = conforms(spec, unmet, "post", "/reviews/{review_id}/actions")
    assert unmet.status_code == 409 and problem["unmet_conditions"]
    scheduled = client.patch(path, headers=ombuds, json={"comment_opens_on": "2026-03-05", "comment_closes_on": "2026-04-04"})
    assert conforms(spec, scheduled, "patch", "/reviews/{review_id}")["comment_closes_on"] == "2026-04-04"
    bad_dates = client.patch(path, headers=ombuds, json={"comment_closes_on": "2026-02-01"})
    assert bad_dates.status_code == 422
    assert "Equity impact assessment: not started yet" in problem["unmet_conditions"][0]
    complete_assessment_over_api(client, review["id"], ombuds)
    opened = client.post(f"{path}/actions", headers=ombuds, json={"action": "open_comment_period"})
    assert opened.status_code == 200, opened.get_json()
    set_clock(app, NOW + timedelta(days=40))
    client.post(f"{path}/actions", headers=ombuds, json={"action": "close_comment_period"})
    stale = client.post(f"{path}/actions", headers=leader, json={"action": "publish", "expected_state": "draft"})
    assert stale.status_code == 409
    unapproved = client.post(f"{path}/actions", headers=leader, json={"action": "publish"})
    assert "Not enough approvals of version 1" in conforms(spec, unapproved, "post", "/reviews/{review_id}/actions")["detail"]
    # Decisions: bound to the version read; the wrong one is a 409 naming the current version.
    decide = f"{path}/decisions"
    wrong = conforms(spec, client.post(decide, headers=leader, json={"decision": "approve", "version": 2}), "post",
                     "/reviews/{review_id}/decisions")
    assert wrong["status"] == 409 and wrong["current_version"] == 1
    assert conforms(spec, client.post(decide, headers=ombuds, json={"decision": "approve", "version": 1}), "post",
                    "/reviews/{review_id}/decisions")["status"] == 403
    assert client.post(decide, headers=leader, json={"decision": "approve", "version": "1"}).status_code == 422
    assert client.post(decide, headers=leader, json={"decision": "reject", "version": 1}).status_code == 422  # no note
    first = conforms(spec, client.post(decide, headers=leader, json={"decision": "approve", "version": 1}), "post",
                     "/reviews/{review_id}/decisions")
    assert first["decision"] == "approve" and len(first["sha256"]) == 64 and first["review_state"] == "approval"
    second_leader = api_token(client, "leader2")
    client.post(decide, headers=second_leader, json={"decision": "approve", "version": 1})
    approval = conforms(spec, client.get(path, headers=leader), "get", "/reviews/{review_id}")["approval"]
    assert approval["quorum_met"] and approval["approved_by"] == ["leader1", "leader2"] and approval["shortfall"] is None
    history = conforms(spec, client.get(decide, headers=ombuds), "get", "/reviews/{review_id}/decisions")
    assert [d["user"] for d in history["items"]] == ["leader1", "leader2"]
    past = client.post(f"{path}/actions", headers=leader, json={"action": "publish", "effective_date": "2026-01-01"})
    assert conforms(spec, past, "post", "/reviews/{review_id}/actions")["status"] == 422
    published = conforms(spec, client.post(f"{path}/actions", headers=leader, json={"action": "publish",
                                                                                    "effective_date": "2026-05-01"}),
                         "post", "/reviews/{review_id}/actions")
    assert published["state"] == "published" and published["final"] and published["available_actions"] == []
    adopted = client.get("/api/v1/policies/RAPI").get_json()
    assert (adopted["effective_date"], adopted["next_review_date"]) == ("2026-05-01", "2029-05-01")
    assert client.get("/api/v1/policies/RAPI").get_json()["published_version"] == 1
    listed = conforms(spec, client.get("/api/v1/reviews?policy=RAPI", headers=ombuds), "get", "/reviews")
    assert [r["id"] for r in listed["items"]] == [review["id"]]
    events = conforms(spec, client.get("/api/v1/policies/RAPI/events", headers=ombuds), "get", "/policies/{code}/events")
    assert [e["action"] for e in events["items"]].count("review.action") == 4
    stakeholder = client.get(path, headers=api_token(client, "stakeholder"))
    assert conforms(spec, stakeholder, "get", "/reviews/{review_id}")["status"] == 404


def test_review_page_shows_actions_and_reasons(client: FlaskClient, app: Flask) -> None:
    set_clock(app, NOW)
    login(client, "ombuds")
    client.post("/policies/new", data={"code": "RPAGE", "title": "Page review", "text": "# Page\n\nText.\n",
                                       "summary": "Draft."})
    started = client.post("/policies/RPAGE/reviews", data={"workflow": "standard-review"})
    assert started.status_code == 302
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Submit for equity review" in page and 'aria-current="step"' in page
    moved = client.post(started.headers["Location"] + "/actions", data={"action": "submit_for_equity_review"})
    assert moved.status_code == 302
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "Set the opening and closing dates of the comment period first." in page and "disabled" in page
    missing_note = client.post(started.headers["Location"] + "/actions", data={"action": "return_to_draft"})
    assert missing_note.status_code == 422 and "needs a note" in missing_note.get_data(as_text=True)
    locked = client.post("/policies/RPAGE/edit", data={"text": "# Changed\n", "summary": "x", "base_version": 1,
                                                       "action": "save"})
    assert locked.status_code == 409 and "editable stage" in locked.get_data(as_text=True)


def test_workflow_pages(client: FlaskClient) -> None:
    login(client, "reviewer")
    page = client.get("/workflows/standard-review").get_data(as_text=True)
    assert "<svg" in page and "Leadership approval" in page and "stateDiagram-v2" in page
    assert "(current)" not in page
    review_id = client.get("/api/v1/reviews?policy=GAE", headers=api_token(client, "reviewer")).get_json()["items"][0]["id"]
    page = client.get(f"/workflows/standard-review?review={review_id}").get_data(as_text=True)
    assert "Leadership approval (current)" in page
    assert client.get("/workflows/unknown").status_code == 404
    client.post("/logout")
    assert client.get("/workflows/standard-review").status_code == 302
