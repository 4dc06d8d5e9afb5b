"""The pinned demo accounts and the demo policy histories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.core.diffing import DELETE, EQUAL, INSERT, diff
from policyflow.core.workflow import load_workflow
from policyflow.models import Policy, User
from policyflow.models.base import utcnow
from policyflow.resources import demo_dir, workflows_dir
from policyflow.services import accounts, annotations, importer, policies, reviews
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
    _demo_notes(session)
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


def _demo_notes(session: Session) -> None:
    """Notes of every visibility and status on the policies under review; some made on the
    previous version and carried over by re-anchoring, among them edited and orphaned ones."""
    users = {user.username: Actor.of(user) for user in session.scalars(select(User))}
    for code in ("KB", "JICFB", "JFABE", "GAE"):
        policy = session.scalar(select(Policy).where(Policy.code == code))
        assert policy is not None, code
        head = policy.head_version_number
        old_text = _text(session, policy, head - 1)
        new_text = _text(session, policy, head)
        for target, body, username, visibility in _passages_on_previous(old_text, new_text):
            annotations.create(session, users[username], policy, head - 1, target=target, body=body, visibility=visibility,
                               tags=["clarity"] if visibility == "internal" else ["equity"])
        annotations.place_on_new_version(session, policy, head - 1, old_text, head, new_text)
        paragraphs = [p for p in new_text.split("\n\n") if len(p) > 120 and not p.startswith(("#", "|"))]
        notes = (
            ("ombuds", "confidential", "A family raised this with the ombuds office in confidence; keep their name out of "
             "the review.", ["family-impact"], False),
            ("reviewer", "internal", "Legal should confirm this timeline against state law before the equity review.",
             ["legal", "timeline"], code == "KB"),
            ("reviewer", "public", "Plain-language suggestion: say who to call and how quickly they will answer.",
             ["clarity"], False),
        )
        for index, (username, visibility, body, tags, blocking) in enumerate(notes):
            paragraph = paragraphs[index % len(paragraphs)]
            quote = " ".join(paragraph.split(" ")[:8])
            start = new_text.index(quote)
            note = annotations.create(session, users[username], policy, head, target={"start": start, "end": start + len(quote)},
                                      body=body, visibility=visibility, tags=tags, blocking=blocking)
            if index == 2:
                annotations.reply(session, users["ombuds"], note.id, "Agreed; the next draft will add the phone line.")
                annotations.set_status(session, users["ombuds"], note.id, "resolved")


def _text(session: Session, policy: Policy, number: int) -> str:
    system = Actor.system()
    return policies.version_text(session, policy, policies.get_version(session, system, policy, number))


def _passages_on_previous(old: str, new: str) -> list[tuple[dict[str, int], str, str, str]]:
    """Passages of the previous version: one unchanged, one reworded, one deleted (if the edit has them)."""
    found: list[tuple[dict[str, int], str, str, str]] = []
    position = 0
    ops = diff(old, new)
    kept = edited = deleted = False
    for index, (op, chunk) in enumerate(ops):
        if op == EQUAL and not kept and len(chunk) > 200:
            middle = position + len(chunk) // 2
            start = old.rfind(" ", position, middle) + 1
            end = old.find(" ", start + 40)
            if 0 < start < end <= position + len(chunk):
                found.append(({"start": start, "end": end}, "This commitment should stay as written.", "reviewer",
                              "internal"))
                kept = True
        elif op == DELETE and not deleted and len(chunk.strip()) > 40 and chunk.strip()[:40] not in new:
            start = position + len(chunk) - len(chunk.lstrip())
            end = start + min(len(chunk.strip()), 120)
            found.append(({"start": start, "end": end}, "Is removing this intended? Families relied on it.", "ombuds",
                          "confidential"))
            deleted = True
        elif (op == DELETE and not edited and 0 < len(chunk) <= 30 and index > 0 and ops[index - 1][0] == EQUAL
              and len(ops[index - 1][1]) > 30 and index + 1 < len(ops) and ops[index + 1][0] == INSERT):
            start = old.rfind(" ", position - 30, position) + 1
            end = old.find(" ", position + len(chunk) + 15)
            if 0 < start < position and end > position + len(chunk):
                found.append(({"start": start, "end": end}, "The wording here changed; check it still says what we meant.",
                               "reviewer", "public"))
                edited = True
        if op != INSERT:
            position += len(chunk)
    return found
