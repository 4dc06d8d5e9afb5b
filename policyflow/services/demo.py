"""The pinned demo accounts and the demo policy histories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.core.workflow import load_workflow
from policyflow.models import Policy, User
from policyflow.models.base import utcnow
from policyflow.resources import demo_dir, workflows_dir
from policyflow.services import accounts, importer, reviews
from policyflow.services.actors import Actor
from policyflow.services.importer import ImportReport
from policyflow.services.policies import StoreSettings

DEMO_PASSWORD = "demo-password"  # noqa: S105 - the pinned, documented demo password


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]


DEMO_USERS = (
    DemoUser("admin", "Alex Morgan (Administrator)", ("admin",)),
    DemoUser("ombuds", "Rosa Delgado (Ombuds)", ("ombuds",)),
    DemoUser("reviewer", "Sam Okafor (Legal Reviewer)", ("reviewer",)),
    DemoUser("leader1", "Dr. Priya Raman (Superintendent)", ("leadership",)),
    DemoUser("leader2", "Marcus Hill (Deputy Superintendent)", ("leadership",)),
    DemoUser("stakeholder", "Jordan Lee (Parent)", ("stakeholder",)),
)


def is_empty(session: Session) -> bool:
    users = session.scalar(select(func.count()).select_from(User)) or 0
    policy_count = session.scalar(select(func.count()).select_from(Policy)) or 0
    return users == 0 and policy_count == 0


def load(session: Session, settings: StoreSettings) -> ImportReport:
    """Create the demo users and import the demo policies (their full revision histories)."""
    system = Actor.system()
    for demo_user in DEMO_USERS:
        accounts.create_user(session, system, demo_user.username, DEMO_PASSWORD, list(demo_user.roles),
                             display_name=demo_user.display_name,
                             email=f"{demo_user.username}@riverbend.example.org")
    files = importer.read_directory(demo_dir() / "policies", settings.max_text_bytes)
    report = importer.import_files(session, system, settings, files)
    _demo_reviews(session, utcnow())
    return report


def _demo_reviews(session: Session, now: datetime) -> None:
    """Reviews in every stage of the standard workflow, one of them overdue, each with a history."""
    definition = load_workflow(workflows_dir() / "standard-review.yaml")
    users = {user.username: Actor.of(user) for user in session.scalars(select(User))}
    ombuds, leader = users["ombuds"], users["leader1"]

    def begin(code: str, started: datetime, **dates: date) -> int:
        policy = session.scalar(select(Policy).where(Policy.code == code))
        assert policy is not None, code
        return reviews.start_review(session, ombuds, policy, definition, now=started, **dates).id

    def step(review_id: int, actor: Actor, action: str, when: datetime, note: str = "") -> None:
        reviews.perform_action(session, actor, review_id, action, note, now=when)

    # KB: a draft being prepared.
    begin("KB", now - timedelta(days=3))
    # JICFB: in equity review for 30 days (due after 21): overdue.
    review = begin("JICFB", now - timedelta(days=34))
    step(review, ombuds, "submit_for_equity_review", now - timedelta(days=30))
    # JFABE: open for stakeholder comment.
    review = begin("JFABE", now - timedelta(days=20), comment_opens_on=(now - timedelta(days=5)).date(),
                   comment_closes_on=(now + timedelta(days=25)).date())
    step(review, ombuds, "submit_for_equity_review", now - timedelta(days=19))
    step(review, ombuds, "open_comment_period", now - timedelta(days=5),
         "Equity review done with the Family Engagement and Special Education reviewers.")
    # GAE: comment period over, waiting for leadership.
    review = begin("GAE", now - timedelta(days=70), comment_opens_on=(now - timedelta(days=45)).date(),
                   comment_closes_on=(now - timedelta(days=15)).date())
    step(review, ombuds, "submit_for_equity_review", now - timedelta(days=68))
    step(review, ombuds, "open_comment_period", now - timedelta(days=45))
    step(review, ombuds, "close_comment_period", now - timedelta(days=14), "All comments have a response.")
    # JD: its current version went through the whole review in 2021.
    adopted = datetime(2021, 8, 22, 15, tzinfo=UTC)
    review = begin("JD", adopted - timedelta(days=90), comment_opens_on=(adopted - timedelta(days=50)).date(),
                   comment_closes_on=(adopted - timedelta(days=20)).date())
    step(review, ombuds, "submit_for_equity_review", adopted - timedelta(days=85))
    step(review, ombuds, "open_comment_period", adopted - timedelta(days=50))
    step(review, ombuds, "close_comment_period", adopted - timedelta(days=19))
    step(review, leader, "publish", adopted, "Adopted by the Board of Education.")
    # AC: a review withdrawn when state guidance changed.
    review = begin("AC", now - timedelta(days=60))
    step(review, ombuds, "withdraw", now - timedelta(days=40), "Paused until the new state nondiscrimination guidance is out.")
