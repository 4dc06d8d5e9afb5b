"""Helpers shared by the tests that run reviews: who acts, a policy under review, an action, a completed
equity assessment (the comment period opens only after one)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.assessment import AssessmentDefinition
from policyflow.core.workflow import load_workflow
from policyflow.models import Review, User
from policyflow.resources import workflows_dir
from policyflow.services import equity, policies, reviews
from policyflow.services.actors import Actor
from tests.conftest import STORE

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STANDARD = workflows_dir() / "standard-review.yaml"


def user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    assert found is not None, username
    return found


def who(session: Session, username: str) -> Actor:
    return Actor.of(user(session, username))


def start(session: Session, code: str, *, text: str = "# Reviewed\n\nStudents in foster care keep their school.\n",
          title: str = "Reviewed policy", now: datetime = NOW, **dates: date) -> Review:
    """A new policy and a standard review of its first version, started by ombuds staff."""
    version = policies.create_policy(session, who(session, "ombuds"), STORE, code=code, title=title, text=text,
                                     summary="Draft.")
    return reviews.start_review(session, who(session, "ombuds"), version.policy, load_workflow(STANDARD), now=now,
                                **dates)


def act(session: Session, review: Review, username: str, action: str, note: str = "", now: datetime = NOW) -> Review:
    moved = reviews.perform_action(session, who(session, username), review.id, action, note, now=now)
    session.flush()
    return moved


def approve(session: Session, review: Review, *usernames: str, now: datetime = NOW) -> None:
    """Leaders approve the version under review (by default the two the standard quorum needs)."""
    from policyflow.services import decisions

    for username in usernames or ("leader1", "leader2"):
        decisions.decide(session, who(session, username), review.id, decision="approve", version=review.version_number, now=now)
    session.flush()


def filled_answers(definition: AssessmentDefinition) -> dict[str, Any]:
    """An answer to every required question (the first option of each choice, follow-ups for it)."""
    answers: dict[str, Any] = {}
    for question in definition.questions:
        if not question.required:
            continue
        first = question.options[0][0] if question.options else None
        answers[question.id] = {"text": f"Answered for the test: {question.id}.", "choice": first,
                                "multi_choice": [first]}[question.type]
        for follow in question.follow_up:
            key = f"{question.id}.{first}.{follow.id}"
            answers[key] = f"Answered for the test: {key}." if follow.type == "text" else follow.options[0][0]
    return answers


def complete_assessment(session: Session, review: Review, username: str = "reviewer", now: datetime = NOW) -> None:
    """Answer every required question of the review's equity assessment and mark it complete."""
    actor = who(session, username)
    state = equity.get(session, actor, review.id)
    state = equity.save_answers(session, actor, review.id, filled_answers(state.definition), state.revision, now=now)
    equity.complete(session, actor, review.id, now=now)
    session.flush()


def complete_assessment_over_api(client: FlaskClient, review_id: int, headers: dict[str, str]) -> None:
    """The same through the API, for tests that drive a review with tokens (``headers``: a writer's token)."""
    path = f"/api/v1/reviews/{review_id}/equity-assessment"
    current = client.get(path, headers=headers).get_json()
    saved = client.put(path, headers=headers, json={"answers": filled_answers(equity.current_definition()),
                                                    "revision": current["revision"]})
    assert saved.status_code == 200, saved.get_json()
    done = client.post(f"{path}/complete", headers=headers)
    assert done.status_code == 200, done.get_json()


def complete_assessment_in(database_url: str, review_id: int) -> None:
    """The same in a database of its own (the browser tests' live server), committed."""
    from policyflow.db import make_engine, make_session_factory, transaction

    engine = make_engine(database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            review = session.get(Review, review_id)
            assert review is not None, review_id
            complete_assessment(session, review, now=datetime.now(UTC))
    finally:
        engine.dispose()


def explain_changes(session: Session, review: Review, username: str = "reviewer", now: datetime = NOW) -> None:
    """Answer "what changed after the equity review?" for the version now under review."""
    equity.explain_changes(session, who(session, username), review.id,
                           "Wording only: the changes do not alter who is affected or how.", now=now)
    session.flush()
