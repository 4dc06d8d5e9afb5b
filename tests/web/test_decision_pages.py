"""The review page's leadership decisions: quorum, the decision form, recusal, publishing with a date."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from policyflow.models import Review
from tests.conftest import login
from tests.reviewing import NOW, act, complete_assessment, start

LATER = NOW + timedelta(days=40)


def _in_approval(app: Flask, session: Session, code: str = "DPAGE") -> Review:
    app.config["CLOCK"] = lambda: LATER
    review = start(session, code, comment_opens_on=date(2026, 3, 10), comment_closes_on=date(2026, 4, 9))
    act(session, review, "ombuds", "submit_for_equity_review")
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    act(session, review, "ombuds", "close_comment_period", now=LATER)
    session.commit()
    return review


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_leaders_decide_on_the_page_and_a_leader_publishes(client: FlaskClient, app: Flask, session: Session) -> None:
    review = _in_approval(app, session)
    path = f"/reviews/{review.id}"
    login(client, "leader1")
    page = _page(client, path)
    assert "Leadership decisions" in page and "needs <strong>2</strong> approvals" in page
    assert "including the Chief Equity and Social Justice Officer" in page and 'name="version" value="1"' in page
    assert "Not yet: still needed 2 more approvals (0 of 2 so far)" in page
    missing_note = client.post(f"{path}/decisions", data={"decision": "reject", "version": "1", "note": ""})
    assert missing_note.status_code == 422 and "needs a note saying why" in missing_note.get_data(as_text=True)
    stale = client.post(f"{path}/decisions", data={"decision": "approve", "version": "3"})
    assert stale.status_code == 409 and "You read version 3, but version 1 is under review" in stale.get_data(as_text=True)
    done = client.post(f"{path}/decisions", data={"decision": "approve", "version": "1", "note": "Clear and fair."})
    assert done.status_code == 302
    page = _page(client, path)
    assert "Your decision on version 1 is recorded: approve." in page and "Clear and fair." in page
    assert re.search(r"<dt>Approved by</dt><dd>Dr. Priya Raman \(Superintendent\)</dd>", page)
    client.post("/logout")
    login(client, "leader2")
    client.post(f"{path}/decisions", data={"decision": "approve", "version": "1"})
    page = _page(client, path)
    assert '<span class="badge badge-ok">Met</span>' in page and 'type="date" id="effective-publish"' in page
    past = client.post(f"{path}/actions", data={"action": "publish", "expected_state": "approval",
                                                 "effective_date": "2020-01-01"})
    assert past.status_code == 422 and "has passed" in past.get_data(as_text=True)
    published = client.post(f"{path}/actions", data={"action": "publish", "expected_state": "approval",
                                                      "effective_date": "2026-09-01"})
    assert published.status_code == 302
    session.expire_all()
    assert review.policy.effective_date == date(2026, 9, 1) and review.policy.next_review_date == date(2029, 9, 1)
    public = _page(client, f"/public/policies/{review.policy.code}")
    assert "1 September 2026" in public


def test_ombuds_see_the_record_but_no_decision_form(client: FlaskClient, app: Flask, session: Session) -> None:
    review = _in_approval(app, session, "DPAGE2")
    login(client, "ombuds")
    page = _page(client, f"/reviews/{review.id}")
    assert "Leadership decisions" in page and "Record my decision" not in page and "Recuse from this review" not in page
    refused = client.post(f"/reviews/{review.id}/decisions", data={"decision": "approve", "version": "1"})
    assert refused.status_code == 403 and "Ombuds staff do not record decisions" in refused.get_data(as_text=True)


def test_a_leader_recuses_on_the_page(client: FlaskClient, app: Flask, session: Session) -> None:
    review = _in_approval(app, session, "DPAGE3")
    login(client, "leader2")
    client.post(f"/reviews/{review.id}/decisions", data={"decision": "approve", "version": "1"})
    empty = client.post(f"/reviews/{review.id}/recusals", data={"reason": " "})
    assert empty.status_code == 422
    assert client.post(f"/reviews/{review.id}/recusals", data={"reason": "I sit on the vendor's board."}).status_code == 302
    page = _page(client, f"/reviews/{review.id}")
    assert "Your recusal is recorded" in page and "I sit on the vendor&#39;s board." in page
    assert "No: recused" in page and "Record my decision" not in page and "You recused yourself" in page


def test_a_stakeholder_follows_a_policy_and_hears_of_its_publication(client: FlaskClient, app: Flask,
                                                                     session: Session) -> None:
    from sqlalchemy import select

    from policyflow.models import Notification, PolicySubscription
    from tests.reviewing import approve

    review = _in_approval(app, session, "DFOL")
    code = review.policy.code
    # Not yet published: nothing public to follow.
    assert client.post(f"/policies/{code}/follow", data={"follow": "yes"}).status_code == 302  # to sign in
    login(client, "stakeholder")
    assert client.post(f"/policies/{code}/follow", data={"follow": "yes"}).status_code == 404
    approve(session, review, now=LATER)
    act(session, review, "leader1", "publish", now=LATER)
    session.commit()
    page = _page(client, f"/public/policies/{code}")
    assert "Follow this policy" in page
    assert client.post(f"/policies/{code}/follow", data={"follow": "yes"}).status_code == 302
    page = _page(client, f"/public/policies/{code}")
    assert "You follow DFOL: you will hear when a new version is published." in page and "Stop following" in page
    assert session.scalar(select(PolicySubscription).where(PolicySubscription.policy_id == review.policy_id)) is not None
    client.post(f"/policies/{code}/follow", data={"follow": "no"})
    assert "You no longer follow DFOL." in _page(client, f"/public/policies/{code}")
    session.expire_all()
    assert session.scalar(select(PolicySubscription).where(PolicySubscription.policy_id == review.policy_id)) is None
    assert session.scalars(select(Notification).where(Notification.kind == "policy_published",
                                                      Notification.policy_id == review.policy_id)).all() == []


def test_a_future_effective_date_says_which_text_applies_until_then(client: FlaskClient, app: Flask, session: Session) -> None:
    from policyflow.core.workflow import load_workflow
    from policyflow.services import policies, reviews
    from tests.conftest import STORE
    from tests.reviewing import STANDARD, approve, who

    review = _in_approval(app, session, "DFUT")
    approve(session, review, now=LATER)
    reviews.perform_action(session, who(session, "leader1"), review.id, "publish", now=LATER, effective_date=LATER.date())
    policies.save_version(session, who(session, "ombuds"), STORE, review.policy, text="# Reviewed\n\nA new rule.\n",
                          summary="Second edition.", base_version=1)
    second = reviews.start_review(session, who(session, "ombuds"), review.policy, load_workflow(STANDARD), now=LATER,
                                  comment_opens_on=LATER.date(), comment_closes_on=LATER.date() + timedelta(days=5))
    act(session, second, "ombuds", "submit_for_equity_review", now=LATER)
    complete_assessment(session, second, now=LATER)
    act(session, second, "ombuds", "open_comment_period", now=LATER)
    act(session, second, "ombuds", "close_comment_period", now=LATER + timedelta(days=6))
    approve(session, second, now=LATER + timedelta(days=6))
    reviews.perform_action(session, who(session, "leader1"), second.id, "publish", now=LATER + timedelta(days=6),
                           effective_date=date(2026, 8, 1))
    session.commit()
    app.config["CLOCK"] = lambda: LATER + timedelta(days=7)
    page = _page(client, f"/public/policies/{review.policy.code}")
    assert "Version 2 was adopted on" in page and "takes effect on 1 August 2026. Until then, version 1 applies" in page
    app.config["CLOCK"] = lambda: LATER + timedelta(days=200)
    assert "Until then" not in _page(client, f"/public/policies/{review.policy.code}")
