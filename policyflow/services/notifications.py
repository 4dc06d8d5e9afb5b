"""Notifications: who hears about a review's stage and deadlines, in the app and by e-mail.

Everything here runs inside the caller's transaction: a stage change, its in-app notifications,
its e-mails and its deadline jobs are committed together or not at all. E-mails and deadline jobs
are rows in the outbox (``OutboxMessage``); ``policyflow worker`` delivers them later.

What a notification or e-mail says is deliberately thin: the policy's code and title, the stage,
its due date and a link. Notes, comments, annotations and anything confidential stay behind the
link, where the reader's permissions apply.
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from policyflow import config
from policyflow.core.errors import NotFound
from policyflow.core.workflow import Stage, WorkflowDefinition
from policyflow.models import Notification, OutboxMessage, Policy, PolicySubscription, Review, User, UserRole
from policyflow.models.base import utcnow
from policyflow.services.actors import STAFF_ROLES

REMINDER_BEFORE = timedelta(days=2)  # the "deadline near" reminder goes out this long before a stage is due
DEFAULT_LIST_LIMIT = 100
# Roles that may share a leadership decision without making it someone else's (administrators can do anything).
_LEADERSHIP_DECIDES_WITH = frozenset({"leadership", "admin"})
_ROLE_WORDS = {"admin": "an administrator", "ombuds": "on the ombuds staff", "reviewer": "a reviewer",
               "leadership": "in district leadership", "stakeholder": "a stakeholder"}


# ---------------------------------------------------------------------------------------------
# The outbox
# ---------------------------------------------------------------------------------------------

def enqueue(session: Session, kind: str, payload: dict[str, Any], *, dedupe_key: str, available_at: datetime,
            now: datetime | None = None) -> bool:
    """Add one outbox message unless one with ``dedupe_key`` exists; True when it was added."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(OutboxMessage).values(
        kind=kind, payload=payload, dedupe_key=dedupe_key, available_at=available_at, attempts=0, created_at=now,
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxMessage.id)
    return session.execute(statement).first() is not None


def enqueue_emails(session: Session, mails: list[tuple[str, str, str, str]], *, now: datetime | None = None) -> None:
    """Queue many plain-text e-mails (to, subject, body, dedupe key) in one statement; duplicates are skipped.

    For answers to a mass campaign: thousands of single INSERTs would take seconds inside one request."""
    if not mails:
        return
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"]), [
        {"kind": "email", "payload": {"to": to, "subject": subject, "body": body}, "dedupe_key": key,
         "available_at": now, "attempts": 0, "created_at": now} for to, subject, body, key in mails])


def enqueue_email(session: Session, *, to: str, subject: str, body: str, dedupe_key: str, now: datetime | None = None,
                  user_id: int | None = None, available_at: datetime | None = None) -> bool:
    """Queue one plain-text e-mail. With ``user_id`` the worker checks, when sending, that the account
    is still active and still wants e-mail."""
    now = now or utcnow()
    payload: dict[str, Any] = {"to": to, "subject": subject, "body": body}
    if user_id is not None:
        payload["user_id"] = user_id
    return enqueue(session, "email", payload, dedupe_key=dedupe_key, available_at=available_at or now, now=now)


# ---------------------------------------------------------------------------------------------
# Who hears about what
# ---------------------------------------------------------------------------------------------

def leadership_decides(definition: WorkflowDefinition, stage: str) -> bool:
    """Whether the stage waits for a decision only leadership (or an administrator) may take, e.g. publish."""
    return any("leadership" in action.roles and set(action.roles) <= _LEADERSHIP_DECIDES_WITH
               for action in definition.actions_from(stage))


def _users_with_roles(session: Session, roles: set[str]) -> list[User]:
    if not roles:
        return []
    with_role = select(UserRole.user_id).where(UserRole.role.in_(sorted(roles)))
    return list(session.scalars(select(User).where(User.is_active.is_(True), User.id.in_(with_role)).order_by(User.id)))


def review_path(review: Review, user: User) -> str:
    """Where ``user`` reads the review: the staff page, or the public page for everyone else."""
    return f"/reviews/{review.id}" if user.roles & STAFF_ROLES else f"/public/reviews/{review.id}"


def _day(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def _why(user: User, roles: set[str]) -> str:
    if not roles:
        return "following a policy"
    role = next((r for r in ("leadership", "ombuds", "reviewer", "admin", "stakeholder") if r in roles & user.roles), "")
    return _ROLE_WORDS.get(role, "a policyflow user")


def _email_body(user: User, lines: list[str], url: str, base_url: str, roles: set[str]) -> str:
    """Plain text wrapped at 72 columns; links stay whole on lines of their own."""
    def fill(text: str) -> str:
        return textwrap.fill(text, width=72, break_long_words=False, break_on_hyphens=False)

    return "\n".join([
        fill(f"Hello {user.display_name},"), "", *(fill(line) for line in lines), "", "Open it here:", url, "",
        "-- ",
        fill(f"You receive this e-mail because you are {_why(user, roles)} in policyflow. "
             "Turn these e-mails off on your notifications page:"),
        f"{base_url}/notifications",
        "",
    ])


def _tell(session: Session, review: Review, user: User, kind: str, message: str, subject: str, lines: list[str],
          dedupe_key: str, roles: set[str], now: datetime, base_url: str) -> Notification:
    """One in-app notification, and its e-mail if the user has an address and wants e-mail."""
    path = review_path(review, user)
    notification = Notification(user_id=user.id, kind=kind, review_id=review.id, policy_id=review.policy_id,
                                message=message, url=path, created_at=now)
    session.add(notification)
    if user.email and user.email_notifications:
        enqueue_email(session, to=user.email, subject=subject, user_id=user.id, now=now, dedupe_key=dedupe_key,
                      body=_email_body(user, lines, base_url + path, base_url, roles))
    return notification


def notify_stage_entered(session: Session, review: Review, definition: WorkflowDefinition, now: datetime, *,
                         base_url: str | None = None) -> list[Notification]:
    """Everything that follows from the review entering its current stage.

    Active users with one of the stage's ``notify`` roles get a ``stage_changed`` notification;
    where the stage waits for a leadership decision (an action only leadership may take, such as
    publish), leadership gets ``decision_needed`` instead. Each recipient who has an e-mail address
    and e-mail turned on also gets one e-mail through the outbox. Then the stage's deadline jobs
    are scheduled (:func:`schedule_deadline_jobs`).
    """
    base_url = (base_url or config.base_url()).rstrip("/")
    stage = definition.stage(review.state)
    policy = review.policy
    deciding = leadership_decides(definition, stage.name)
    roles = set(stage.notify) | ({"leadership"} if deciding else set())
    due = f" It is due on {_day(review.stage_due_at)}." if review.stage_due_at else ""
    created = []
    for user in _users_with_roles(session, roles):
        if deciding and "leadership" in user.roles:
            kind = "decision_needed"
            message = f"{policy.code} {policy.title}: waiting for your decision in {stage.label}.{due}"
            subject = f"[policyflow] Decision needed: {policy.code} {policy.title}"
        else:
            kind = "stage_changed"
            message = f"{policy.code} {policy.title} is now in {stage.label}.{due}"
            subject = f"[policyflow] {policy.code} {policy.title}: {stage.label}"
        lines = [f"The review of policy {policy.code} ({policy.title}) is now in the stage {stage.label}.{due}"]
        if kind == "decision_needed":
            lines.append("It is waiting for a decision from district leadership.")
        created.append(_tell(session, review, user, kind, message, subject, lines,
                             f"email:{kind}:review-{review.id}:v{review.state_version}:user-{user.id}", roles, now, base_url))
    schedule_deadline_jobs(session, review, definition, now)
    session.flush()
    return created


def notify_quorum_reached(session: Session, review: Review, now: datetime, *, base_url: str | None = None) -> list[Notification]:
    """Leadership and ombuds staff hear that the version under review has the approvals it needs."""
    base_url = (base_url or config.base_url()).rstrip("/")
    policy = review.policy
    created = []
    for user in _users_with_roles(session, {"leadership", "ombuds"}):
        lines = [f"Version {review.version_number} of policy {policy.code} ({policy.title}) has the approvals it needs.",
                 "It can now be published."]
        created.append(_tell(session, review, user, "quorum_reached",
                             f"{policy.code} {policy.title}: approvals complete; ready to publish.",
                             f"[policyflow] Ready to publish: {policy.code} {policy.title}", lines,
                             f"email:quorum:review-{review.id}:v{review.version_number}:user-{user.id}",
                             {"leadership", "ombuds"}, now, base_url))
    session.flush()
    return created


def notify_followers_published(session: Session, policy: Policy, number: int, now: datetime, *,
                               base_url: str | None = None) -> list[Notification]:
    """Everyone following the policy hears that a new version is the adopted text."""
    base_url = (base_url or config.base_url()).rstrip("/")
    followers = session.scalars(select(User).join(PolicySubscription, PolicySubscription.user_id == User.id)
                                .where(PolicySubscription.policy_id == policy.id, User.is_active.is_(True)).order_by(User.id))
    effective = f" It takes effect on {policy.effective_date:%d %B %Y}." if policy.effective_date else ""
    created = []
    for user in followers:
        path = f"/public/policies/{policy.code}"
        notification = Notification(user_id=user.id, kind="policy_published", policy_id=policy.id,
                                    message=f"{policy.code} {policy.title}: version {number} was published.{effective}",
                                    url=path, created_at=now)
        session.add(notification)
        if user.email and user.email_notifications:
            lines = [f"The district published a new version of policy {policy.code} ({policy.title}).{effective}",
                     "You receive this because you follow the policy; unfollow it on the policy's page."]
            enqueue_email(session, to=user.email, subject=f"[policyflow] Published: {policy.code} {policy.title}",
                          user_id=user.id, now=now, dedupe_key=f"email:published:{policy.code}:v{number}:user-{user.id}",
                          body=_email_body(user, lines, base_url + path, base_url, set()))
        created.append(notification)
    session.flush()
    return created


def notify_periodic_review(session: Session, review: Review, now: datetime, *, base_url: str | None = None) -> list[Notification]:
    """The policy's owner (or, without one, ombuds staff) hears that its periodic review has started."""
    base_url = (base_url or config.base_url()).rstrip("/")
    policy = review.policy
    owner = session.get(User, policy.owner_id) if policy.owner_id else None
    recipients = [owner] if owner is not None and owner.is_active else _users_with_roles(session, {"ombuds"})
    due = f" Its review date is {policy.next_review_date:%d %B %Y}." if policy.next_review_date else ""
    created = []
    for user in recipients:
        lines = [f"Policy {policy.code} ({policy.title}) is due for its periodic review, and the review has started.{due}",
                 "Read it with fresh eyes: reaffirm it as it is, or begin a revision."]
        created.append(_tell(session, review, user, "periodic_review", f"{policy.code} {policy.title}: periodic review started.{due}",
                             f"[policyflow] Periodic review: {policy.code} {policy.title}", lines,
                             f"email:periodic:review-{review.id}:user-{user.id}", user.roles & {"ombuds", "leadership", "reviewer"},
                             now, base_url))
    session.flush()
    return created


def schedule_deadline_jobs(session: Session, review: Review, definition: WorkflowDefinition, now: datetime) -> list[str]:
    """Queue the current stage's deadline work; returns the dedupe keys of the jobs added.

    A ``reminder`` two days before the stage is due (when that is still ahead), an ``overdue``
    job when it is due, and for each timed action of this stage (``when: deadline``) a
    ``timed_action`` job when it is due. Every key carries the review id and its
    ``state_version``: once the review moves on, the worker drops these jobs as stale, and
    scheduling the same stage entry twice adds nothing.
    """
    due = review.stage_due_at
    if due is None or review.ended_at is not None:
        return []
    base = {"review_id": review.id, "state_version": review.state_version, "stage": review.state,
            "due_at": due.isoformat()}
    where = f"review-{review.id}:v{review.state_version}"
    jobs: list[tuple[str, dict[str, Any], str, datetime]] = []
    if due - REMINDER_BEFORE > now:
        jobs.append(("reminder", base, f"reminder:{where}", due - REMINDER_BEFORE))
    jobs.append(("overdue", base, f"overdue:{where}", due))
    for timed in definition.timed:
        if timed.stage == review.state and timed.when == "deadline":
            jobs.append(("timed_action", {**base, "action": timed.action}, f"timed:{timed.action}:{where}", due))
    return [key for kind, payload, key, at in jobs
            if enqueue(session, kind, payload, dedupe_key=key, available_at=at, now=now)]


def deadline_recipients_roles(definition: WorkflowDefinition, stage: Stage) -> set[str]:
    """Who hears about a stage's deadline: its notify roles, the ombuds office, and leadership where it decides."""
    roles = set(stage.notify) | {"ombuds"}
    if leadership_decides(definition, stage.name):
        roles.add("leadership")
    return roles


def notify_deadline(session: Session, review: Review, definition: WorkflowDefinition, kind: str, now: datetime, *,
                    base_url: str | None = None) -> list[Notification]:
    """``deadline_near`` or ``overdue`` for the review's current stage (run by the worker)."""
    if kind not in ("deadline_near", "overdue"):
        raise ValueError(f"not a deadline notification: {kind!r}")
    base_url = (base_url or config.base_url()).rstrip("/")
    stage = definition.stage(review.state)
    policy = review.policy
    due = review.stage_due_at
    assert due is not None, "only stages with a deadline have deadline jobs"
    roles = deadline_recipients_roles(definition, stage)
    if kind == "deadline_near":
        message = f"{policy.code} {policy.title}: {stage.label} is due on {_day(due)}."
        subject = f"[policyflow] Due soon: {policy.code} {policy.title} ({stage.label})"
        lines = [f"The stage {stage.label} of the review of policy {policy.code} ({policy.title}) is due on {_day(due)}."]
    else:
        message = f"{policy.code} {policy.title}: {stage.label} was due on {_day(due)} and is overdue."
        subject = f"[policyflow] Overdue: {policy.code} {policy.title} ({stage.label})"
        lines = [f"The stage {stage.label} of the review of policy {policy.code} ({policy.title}) was due on "
                 f"{_day(due)} and is now overdue."]
    created = [
        _tell(session, review, user, kind, message, subject, lines,
              f"email:{kind}:review-{review.id}:v{review.state_version}:user-{user.id}", roles, now, base_url)
        for user in _users_with_roles(session, roles)
    ]
    session.flush()
    return created


# ---------------------------------------------------------------------------------------------
# A user's notifications
# ---------------------------------------------------------------------------------------------

def list_notifications(session: Session, user: User, unread_only: bool = False, *,
                       limit: int = DEFAULT_LIST_LIMIT) -> list[Notification]:
    """The user's notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))


def unread_count(session: Session, user: User, *, at_most: int | None = None) -> int:
    """How many of the user's notifications are unread, counting no further than ``at_most``: the badge on
    every page says "99+" beyond that, so a long-neglected inbox costs each page no more than a short one."""
    unread = select(Notification.id).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if at_most is not None:
        unread = unread.limit(at_most)
    return session.scalar(select(func.count()).select_from(unread.subquery())) or 0


def mark_read(session: Session, user: User, notification_id: int, *, now: datetime | None = None) -> Notification:
    """Mark one of the user's own notifications read (another user's is reported as not found)."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound(f"There is no notification {notification_id}.")
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        session.flush()
    return notification


def mark_all_read(session: Session, user: User, *, now: datetime | None = None) -> int:
    """Mark every unread notification of the user read; returns how many."""
    result = session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow()).execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def set_email_preference(session: Session, user: User, enabled: bool) -> User:
    """Whether the user's notifications are also e-mailed (in-app notifications always appear)."""
    user.email_notifications = bool(enabled)
    session.flush()
    return user
