"""Helpers shared by the tests that run reviews: who acts, a policy under review, an action."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.workflow import load_workflow
from policyflow.models import Review, User
from policyflow.resources import workflows_dir
from policyflow.services import policies, reviews
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
