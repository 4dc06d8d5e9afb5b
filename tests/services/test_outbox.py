"""Notifications and the outbox through the service layer: who hears about a stage, what is queued, when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.core.errors import NotFound
from policyflow.core.workflow import load_workflow_text
from policyflow.models import Notification, OutboxMessage, Review, User, UserRole
from policyflow.services import accounts, notifications, policies, reviews
from policyflow.services.actors import Actor
from tests import reviewing
from tests.conftest import STORE
from tests.reviewing import NOW, act, complete_assessment, user, who

BASE = "https://policies.riverbend.example.org"
SECRET_NOTE = "A parent raised a confidential concern about the foster care clause."


@pytest.fixture(autouse=True)
def _base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYFLOW_BASE_URL", BASE + "/")


def start(session: Session, code: str, **dates: date) -> Review:
    return reviewing.start(session, code, title="Transportation",
                           text="# Transportation\n\nStudents in foster care keep their ride to school.\n", **dates)


def notes_for(session: Session, review: Review) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.review_id == review.id).order_by(Notification.id)))


def outbox(session: Session, kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(session.scalars(query))


def emails_for(session: Session, review: Review) -> list[OutboxMessage]:
    return [m for m in outbox(session, "email") if f":review-{review.id}:" in m.dedupe_key]


def recipients(session: Session, items: list[Notification]) -> dict[str, str]:
    """username -> notification kind (each user at most once)."""
    found = {username_of(session, item): item.kind for item in items}
    assert len(found) == len(items), "someone was notified twice"
    return found


def username_of(session: Session, item: Notification) -> str:
    found = session.get(User, item.user_id)
    assert found is not None
    return found.username


def test_entering_a_stage_notifies_its_roles_in_the_app_and_by_email(session: Session) -> None:
    review = start(session, "NOTE1")
    assert notes_for(session, review) == []  # draft notifies nobody
    act(session, review, "ombuds", "submit_for_equity_review")
    items = notes_for(session, review)
    assert recipients(session, items) == {"ombuds": "stage_changed", "reviewer": "stage_changed"}
    assert all(item.url == f"/reviews/{review.id}" and item.policy_id == review.policy_id for item in items)
    assert all(item.created_at == NOW and item.read_at is None for item in items)
    assert "NOTE1 Transportation is now in Equity review" in items[0].message
    assert "Monday 23 March 2026" in items[0].message  # due 21 days later

    emails = emails_for(session, review)
    assert sorted(m.payload["to"] for m in emails) == ["ombuds@riverbend.example.org", "reviewer@riverbend.example.org"]
    for message in emails:
        assert message.available_at == NOW and message.delivered_at is None and message.attempts == 0
        assert message.payload["subject"] == "[policyflow] NOTE1 Transportation: Equity review"
        assert f"{BASE}/reviews/{review.id}\n" in message.payload["body"]
        assert f"{BASE}/notifications" in message.payload["body"]
        assert message.dedupe_key.endswith(f":v{review.state_version}:user-{message.payload['user_id']}")


def test_nothing_confidential_travels_in_notifications_or_email(session: Session) -> None:
    review = start(session, "NOTE2")
    act(session, review, "ombuds", "submit_for_equity_review")
    act(session, review, "ombuds", "return_to_draft", SECRET_NOTE, now=NOW + timedelta(days=1))
    act(session, review, "ombuds", "submit_for_equity_review", SECRET_NOTE, now=NOW + timedelta(days=2))
    texts = [n.message for n in notes_for(session, review)]
    texts += [str(m.payload) for m in outbox(session) if f"review-{review.id}:" in m.dedupe_key]
    assert texts and not any("confidential" in text.lower() or "parent" in text for text in texts)


def test_leadership_is_asked_for_a_decision_in_approval(session: Session) -> None:
    review = start(session, "NOTE3", comment_opens_on=date(2026, 3, 3), comment_closes_on=date(2026, 3, 20))
    act(session, review, "ombuds", "submit_for_equity_review")
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    before = {n.id for n in notes_for(session, review)}
    act(session, review, "ombuds", "close_comment_period", now=NOW + timedelta(days=25))
    entered = [n for n in notes_for(session, review) if n.id not in before]
    assert recipients(session, entered) == {"leader1": "decision_needed", "leader2": "decision_needed"}
    assert "waiting for your decision in Leadership approval" in entered[0].message
    subjects = {m.payload["subject"] for m in emails_for(session, review) if m.dedupe_key.startswith("email:decision_needed")}
    assert subjects == {"[policyflow] Decision needed: NOTE3 Transportation"}
    # The comment stage told the ombuds office only (its notify roles), nobody twice.
    comment_stage = [n for n in notes_for(session, review) if "Public comment" in n.message]
    assert recipients(session, comment_stage) == {"ombuds": "stage_changed"}


def test_email_preference_inactive_accounts_and_missing_addresses(session: Session) -> None:
    notifications.set_email_preference(session, user(session, "reviewer"), False)
    assert user(session, "reviewer").email_notifications is False
    user(session, "ombuds").email = None
    extra = User(username="ombuds2", display_name="Former ombuds", email="former@riverbend.example.org",
                 password_hash="x", is_active=False)
    session.add(extra)
    session.flush()
    session.add(UserRole(user_id=extra.id, role="ombuds"))
    session.flush()
    review = start(session, "NOTE4")
    act(session, review, "ombuds", "submit_for_equity_review")
    assert recipients(session, notes_for(session, review)) == {"ombuds": "stage_changed", "reviewer": "stage_changed"}
    assert emails_for(session, review) == []  # one turned e-mail off, one has no address, one is inactive
    notifications.set_email_preference(session, user(session, "reviewer"), True)
    assert user(session, "reviewer").email_notifications is True


def test_new_accounts_get_email_by_default(session: Session) -> None:
    created = accounts.create_user(session, Actor.system(), "newreviewer", "a-long-password", ["reviewer"])
    assert created.email_notifications is True


def test_stakeholders_are_sent_to_the_public_page(session: Session) -> None:
    definition = load_workflow_text(
        "title: Tiny\ninitial: draft\nstages:\n"
        "  draft: {label: Draft, editable: true}\n"
        "  comment: {label: Comment, public: true, deadline_days: 1, notify: [stakeholder, ombuds]}\n"
        "  done: {label: Done, final: true}\n"
        "actions:\n"
        "  - {name: open, label: Open, from: draft, to: comment, roles: [ombuds]}\n"
        "  - {name: finish, label: Finish, from: comment, to: done, roles: [ombuds]}\n",
        "tiny", "tiny.yaml")
    version = policies.create_policy(session, who(session, "ombuds"), STORE, code="NOTE5", title="Tiny",
                                     text="# Tiny\n", summary="Draft.")
    review = reviews.start_review(session, who(session, "ombuds"), version.policy, definition, now=NOW)
    act(session, review, "ombuds", "open")
    urls = {username_of(session, n): n.url for n in notes_for(session, review)}
    assert urls == {"ombuds": f"/reviews/{review.id}", "stakeholder": f"/public/reviews/{review.id}"}
    # A one-day deadline has no room for a reminder two days before: only the overdue job.
    assert [m.kind for m in outbox(session) if f":review-{review.id}:" in m.dedupe_key and m.kind != "email"] == ["overdue"]


def test_deadline_jobs_are_scheduled_once_per_stage_entry(session: Session) -> None:
    review = start(session, "NOTE6", comment_opens_on=date(2026, 3, 3), comment_closes_on=date(2026, 3, 30))
    assert [m for m in outbox(session) if f"review-{review.id}:" in m.dedupe_key] == []  # draft has no deadline
    act(session, review, "ombuds", "submit_for_equity_review")
    opened = NOW + timedelta(days=5)
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period", now=opened)
    version = review.state_version
    jobs = {m.kind: m for m in outbox(session) if f"review-{review.id}:v{version}" in m.dedupe_key and m.kind != "email"}
    assert set(jobs) == {"reminder", "overdue", "timed_action"}
    # A comment stage ends when its period does: the start of the day after the closing date.
    due = datetime(2026, 3, 31, tzinfo=UTC)
    assert jobs["reminder"].available_at == due - timedelta(days=2)
    assert jobs["overdue"].available_at == jobs["timed_action"].available_at == due
    assert jobs["timed_action"].payload == {"review_id": review.id, "state_version": version, "stage": "stakeholder_comment",
                                           "due_at": due.isoformat(),
                                           "action": "close_comment_period"}
    assert jobs["timed_action"].dedupe_key == f"timed:close_comment_period:review-{review.id}:v{version}"
    # The equity review's jobs are still there (the worker drops them as stale), and again adds nothing.
    assert {m.kind for m in outbox(session) if f"review-{review.id}:v{version - 1}" in m.dedupe_key} >= {"reminder", "overdue"}
    count = len(outbox(session))
    assert notifications.schedule_deadline_jobs(session, review, reviews.definition_of(review), opened) == []
    assert len(outbox(session)) == count


def test_enqueuing_the_same_key_twice_is_a_no_op(session: Session) -> None:
    assert notifications.enqueue_email(session, to="a@example.org", subject="One", body="Body", dedupe_key="test:once", now=NOW)
    assert not notifications.enqueue_email(session, to="b@example.org", subject="Two", body="Other", dedupe_key="test:once",
                                           now=NOW + timedelta(hours=1))
    rows = [m for m in outbox(session) if m.dedupe_key == "test:once"]
    assert len(rows) == 1 and rows[0].payload == {"to": "a@example.org", "subject": "One", "body": "Body"}


def test_listing_and_marking_notifications_read(session: Session) -> None:
    review = start(session, "NOTE7")
    act(session, review, "ombuds", "submit_for_equity_review")
    act(session, review, "ombuds", "return_to_draft", "Fix the title.", now=NOW + timedelta(hours=1))
    act(session, review, "ombuds", "submit_for_equity_review", now=NOW + timedelta(hours=2))
    reviewer = user(session, "reviewer")
    mine = [n for n in notifications.list_notifications(session, reviewer) if n.review_id == review.id]
    assert [n.created_at for n in mine] == [NOW + timedelta(hours=2), NOW]  # newest first
    unread_before = notifications.unread_count(session, reviewer)
    read = notifications.mark_read(session, reviewer, mine[1].id, now=NOW + timedelta(hours=3))
    assert read.read_at == NOW + timedelta(hours=3)
    assert notifications.mark_read(session, reviewer, mine[1].id, now=NOW + timedelta(days=9)).read_at == read.read_at
    assert notifications.unread_count(session, reviewer) == unread_before - 1
    assert mine[1].id not in {n.id for n in notifications.list_notifications(session, reviewer, unread_only=True)}
    with pytest.raises(NotFound):
        notifications.mark_read(session, user(session, "leader1"), mine[0].id)  # not theirs
    with pytest.raises(NotFound):
        notifications.mark_read(session, reviewer, 10**9)
    ombuds = user(session, "ombuds")
    ombuds_unread = notifications.unread_count(session, ombuds)
    assert notifications.mark_all_read(session, reviewer) == unread_before - 1
    assert notifications.unread_count(session, reviewer) == 0
    assert notifications.list_notifications(session, reviewer, unread_only=True) == []
    assert notifications.unread_count(session, ombuds) == ombuds_unread  # nobody else's
    assert session.scalar(select(func.count()).select_from(Notification)
                          .where(Notification.user_id == reviewer.id, Notification.read_at.is_(None))) == 0
