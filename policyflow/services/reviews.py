"""Reviews: start one, see what may happen next, and perform an action, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from policyflow.core.engine import engine_for
from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied, PolicyflowError
from policyflow.core.workflow import Action, WorkflowDefinition, load_workflow, load_workflow_text, workflow_names
from policyflow.models import Policy, Review, ReviewTransition
from policyflow.models.base import utcnow
from policyflow.services import audit, notifications, policies
from policyflow.services.actors import Actor
from policyflow.services.conditions import ConditionContext, unmet_conditions

MAX_NOTE_LENGTH = 5000
_WORKFLOW_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class ActionStatus:
    """One action from the current stage, as the caller may or may not take it."""

    name: str
    label: str
    to: str
    allowed: bool
    reasons: tuple[str, ...]
    roles: tuple[str, ...]
    note_required: bool

    def as_dict(self) -> dict[str, object]:
        return {"action": self.name, "label": self.label, "to": self.to, "allowed": self.allowed,
                "reasons": list(self.reasons), "roles": list(self.roles), "note_required": self.note_required}


def definition_of(review: Review) -> WorkflowDefinition:
    """The definition the review started with, whatever the file says today."""
    return _parsed(review.workflow_source, review.workflow_name)


@lru_cache(maxsize=32)
def _parsed(source: str, name: str) -> WorkflowDefinition:
    # Parsing and validating YAML costs milliseconds; a pinned source never changes.
    return load_workflow_text(source, name, f"pinned definition of {name}")


def load_named_workflow(folder: Path, name: str) -> WorkflowDefinition:
    if not name or set(name) - _WORKFLOW_NAME_CHARS:
        raise InvalidValue(f"Unknown workflow {name!r}.")
    path = folder / f"{name}.yaml"
    known = workflow_names(folder)
    if name not in known or not path.is_file():
        raise InvalidValue(f"Unknown workflow {name!r}; choose one of: {', '.join(known)}.")
    return load_workflow(path)


def active_review(session: Session, policy: Policy, *, lock: bool = False) -> Review | None:
    """The review in flight, if any; ``lock`` holds its row (PostgreSQL) until the transaction ends."""
    query = select(Review).where(Review.policy_id == policy.id, Review.ended_at.is_(None))
    if lock:
        query = query.with_for_update(of=Review, key_share=True)  # SQLite has no row locks: BEGIN IMMEDIATE serializes writers
    return session.scalar(query)


def lock_policy(session: Session, policy: Policy) -> None:
    """Hold the policy's row until the transaction ends and read it afresh.

    Writers take their locks in one order, review -> policy -> audit chain, so two of them never wait
    for each other in a circle. The locks are FOR NO KEY UPDATE: they queue writers of the row but not
    inserts of rows that refer to it (an event or a version naming the policy), which would otherwise
    wait for the lock holder while holding the audit chain it needs."""
    session.flush()  # refresh() would drop the policy's unsaved changes
    session.refresh(policy, with_for_update={"of": Policy, "key_share": True})


def _require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise NotFound("There is no such review.")


def get_review(session: Session, actor: Actor, review_id: int, *, lock: bool = False) -> Review:
    _require_staff(actor)
    query = select(Review).where(Review.id == review_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Review, key_share=True)  # see lock_policy
    review = session.scalar(query)
    if review is None:
        raise NotFound(f"There is no review {review_id}.")
    return review


def list_reviews(session: Session, actor: Actor, *, state: str = "", policy_code: str = "",
                 active_only: bool = False) -> list[Review]:
    if not actor.is_staff:
        raise PermissionDenied("The list of reviews is for district staff; open comment periods are on the public home page.")
    query = select(Review).join(Review.policy).order_by(Review.started_at.desc(), Review.id.desc())
    if state:
        query = query.where(Review.state == state)
    if policy_code:
        query = query.where(Policy.code == policies.normalize_code(policy_code))
    if active_only:
        query = query.where(Review.ended_at.is_(None))
    return list(session.scalars(query))


def _due(definition: WorkflowDefinition, stage: str, entered: datetime, closes_on: date | None = None) -> datetime | None:
    """A comment stage ends the day after its closing date; other stages after their deadline_days."""
    if definition.stage(stage).comments and closes_on is not None:
        return datetime.combine(closes_on + timedelta(days=1), time(0), tzinfo=UTC)
    days = definition.stage(stage).deadline_days
    return entered + timedelta(days=days) if days else None


def start_review(session: Session, actor: Actor, policy: Policy, definition: WorkflowDefinition, *,
                 comment_opens_on: date | None = None, comment_closes_on: date | None = None,
                 legal_basis: str | None = None, now: datetime | None = None, version_number: int | None = None) -> Review:
    """Start ``definition`` on the policy's newest version (or ``version_number``); one active review per policy."""
    if not actor.can_edit_policies:
        raise PermissionDenied("Only ombuds staff and administrators start reviews.")
    # Two people starting a review at once: the second waits here, then finds the first one's review.
    lock_policy(session, policy)
    if active_review(session, policy) is not None:
        raise Conflict(f"Policy {policy.code} already has a review in progress.")
    _check_period(comment_opens_on, comment_closes_on)
    now = now or utcnow()
    review = Review(
        policy_id=policy.id, workflow_name=definition.name, workflow_hash=definition.content_hash,
        workflow_source=definition.source, state=definition.initial,
        version_number=version_number or policy.head_version_number,
        started_by_id=actor.user.id if actor.user else None, started_at=now, stage_entered_at=now,
        stage_due_at=_due(definition, definition.initial, now), comment_opens_on=comment_opens_on,
        comment_closes_on=comment_closes_on, legal_basis=(legal_basis or "").strip() or None,
    )
    review.policy = policy
    session.add(review)
    session.flush()
    session.add(ReviewTransition(review_id=review.id, action=None, from_state=None, to_state=review.state,
                                 actor=actor.label, note=None, occurred_at=now))
    notifications.notify_stage_entered(session, review, definition, now)
    audit.record(session, actor, "review.started", f"review:{review.id}", policy_id=policy.id,
                 data={"workflow": definition.name, "workflow_hash": definition.content_hash,
                       "version": review.version_number, "state": review.state})
    return review


PERIODIC_WORKFLOW = "periodic-review"


def start_due_periodic_reviews(session: Session, folder: Path, now: datetime, lead_days: int) -> list[Review]:
    """Start the periodic review of every published policy whose next review date is within
    ``lead_days`` and that has no review in flight; each policy's owner (or ombuds staff) is told.

    Run by the worker. Each policy is started in a savepoint: another worker starting the same one
    at the same moment meets the one-active-review index, and that policy is simply skipped."""
    definition = load_named_workflow(folder, PERIODIC_WORKFLOW)
    horizon = now.date() + timedelta(days=lead_days)
    in_flight = select(Review.policy_id).where(Review.ended_at.is_(None))
    due = session.scalars(select(Policy).where(Policy.published_version_number.is_not(None),
                                               Policy.next_review_date.is_not(None), Policy.next_review_date <= horizon,
                                               Policy.id.not_in(in_flight)).order_by(Policy.next_review_date, Policy.id)).all()
    started = []
    for policy in due:
        assert policy.next_review_date is not None
        # One periodic review per review date: one withdrawn or rejected this cycle is not started again
        # (reaffirming or publishing moves the date on, which opens the next cycle).
        cycle_start = datetime.combine(policy.next_review_date - timedelta(days=lead_days), time(0), tzinfo=UTC)
        if session.scalar(select(Review.id).where(Review.policy_id == policy.id, Review.workflow_name == PERIODIC_WORKFLOW,
                                                  Review.started_at >= cycle_start).limit(1)) is not None:
            continue
        try:
            with session.begin_nested():
                review = start_review(session, Actor.system(), policy, definition, now=now,
                                      version_number=policy.published_version_number)
                notifications.notify_periodic_review(session, review, now)
        except (IntegrityError, PolicyflowError):
            continue
        started.append(review)
    return started


def overdue_periodic_reviews(session: Session, today: date) -> list[Policy]:
    """Published policies past their review date: no review at all, or one still in flight."""
    return list(session.scalars(select(Policy).where(Policy.published_version_number.is_not(None),
                                                     Policy.next_review_date.is_not(None), Policy.next_review_date < today)
                                .order_by(Policy.next_review_date)))


def _check_period(opens: date | None, closes: date | None) -> None:
    if opens and closes and closes < opens:
        raise InvalidValue("The comment period cannot close before it opens.")


def schedule(session: Session, actor: Actor, review: Review, *, comment_opens_on: date | None,
             comment_closes_on: date | None, legal_basis: str | None) -> Review:
    """Set the comment period dates and the legal basis (ombuds staff, while the review runs)."""
    if not actor.can_edit_policies:
        raise PermissionDenied("Only ombuds staff and administrators schedule reviews.")
    if review.ended_at is not None:
        raise Conflict("This review has ended.")
    _check_period(comment_opens_on, comment_closes_on)
    review.comment_opens_on = comment_opens_on
    review.comment_closes_on = comment_closes_on
    review.legal_basis = (legal_basis or "").strip() or None
    session.flush()
    audit.record(session, actor, "review.scheduled", f"review:{review.id}", policy_id=review.policy_id,
                 data={"comment_opens_on": comment_opens_on.isoformat() if comment_opens_on else None,
                       "comment_closes_on": comment_closes_on.isoformat() if comment_closes_on else None,
                       "legal_basis": review.legal_basis})
    return review


def _status(session: Session, actor: Actor, review: Review, action: Action, now: datetime) -> ActionStatus:
    reasons: list[str] = []
    if not (actor.is_system or set(action.roles) & actor.roles):
        reasons.append(f"Only {_role_words(action.roles)} may {action.label.lower()}.")
    rule = definition_of(review).stage(review.state).approval
    if rule is not None and not actor.is_system and not reasons:
        try:
            _check_independence(session, actor, review, action, rule.publish_action)
        except PermissionDenied as refusal:
            reasons.append(refusal.message)
    reasons.extend(unmet_conditions(ConditionContext(session, review, now), action.conditions))
    return ActionStatus(action.name, action.label, action.dest, not reasons, tuple(reasons), action.roles,
                        action.note_required)


def _role_words(roles: tuple[str, ...]) -> str:
    names = {"admin": "administrators", "ombuds": "ombuds staff", "reviewer": "reviewers",
             "leadership": "leadership", "stakeholder": "stakeholders"}
    words = [names.get(role, role) for role in roles]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def available_actions(session: Session, actor: Actor, review: Review, now: datetime | None = None) -> list[ActionStatus]:
    if review.ended_at is not None:
        return []
    definition = definition_of(review)
    now = now or utcnow()
    return [_status(session, actor, review, action, now) for action in definition.actions_from(review.state)]


def waiting_actions(session: Session, actor: Actor, review: Review, now: datetime | None = None) -> list[ActionStatus]:
    """The actions the review waits for this actor to take: allowed now and moving it forward."""
    if review.ended_at is not None:
        return []
    definition = definition_of(review)
    now = now or utcnow()
    waiting = [
        status for action in definition.actions_from(review.state)
        if definition.moves_forward(action, review.state)
        and (status := _status(session, actor, review, action, now)).allowed
    ]
    if definition.stage(review.state).approval is not None:
        from policyflow.services import decisions  # decisions build on reviews

        if decisions.awaits_decision_from(session, actor, review):
            waiting.insert(0, ActionStatus("decide", "Record your decision", review.state, True, (), ("leadership",), False))
    return waiting


def perform_action(session: Session, actor: Actor, review_id: int, action_name: str, note: str = "", *,
                   expected_state: str | None = None, now: datetime | None = None,
                   effective_date: date | None = None) -> Review:
    """Check role, stage, note and conditions, then move the review, all or nothing.

    ``effective_date`` is for publishing: the day the adopted text takes effect (today or later;
    tomorrow when not given)."""
    review = get_review(session, actor, review_id, lock=True)
    return _perform(session, actor, review, action_name, note, expected_state=expected_state, now=now or utcnow(),
                    effective_date=effective_date, check_roles=True)


def perform_for_decision(session: Session, actor: Actor, review: Review, action_name: str, note: str, now: datetime, *,
                         effective_date: date | None = None) -> Review:
    """The action a leadership decision entails (return to draft, withdraw, publish on quorum).

    The decision itself was the leader's to take, so the action's own role list is not checked
    again (a leader may reject though only ombuds staff may withdraw by hand); its conditions are."""
    return _perform(session, actor, review, action_name, note, expected_state=review.state, now=now,
                    effective_date=effective_date, check_roles=False)


def _perform(session: Session, actor: Actor, review: Review, action_name: str, note: str, *, expected_state: str | None,
             now: datetime, effective_date: date | None, check_roles: bool) -> Review:
    definition = definition_of(review)
    if review.ended_at is not None:
        raise Conflict(f"Review {review.id} has ended ({review.state}); nothing more can happen in it.")
    if expected_state is not None and expected_state != review.state:
        raise Conflict(f"The review moved on to {review.state!r} meanwhile; reload and check before acting.")
    candidates = [a for a in definition.actions if a.name == action_name]
    if not candidates:
        raise InvalidValue(f"The workflow {definition.name!r} has no action {action_name!r}.")
    action = next((a for a in candidates if review.state in a.sources), None)
    if action is None:
        possible = ", ".join(a.name for a in definition.actions_from(review.state)) or "none"
        raise Conflict(f"{candidates[0].label} is not possible in stage "
                       f"{definition.stage(review.state).label!r}; possible here: {possible}.",
                       possible_actions=[a.name for a in definition.actions_from(review.state)])
    if check_roles and not (actor.is_system or set(action.roles) & actor.roles):
        raise PermissionDenied(f"Only {_role_words(action.roles)} may {action.label.lower()}.",
                               roles=list(action.roles))
    rule = definition.stage(review.state).approval
    if check_roles and rule is not None and not actor.is_system:
        _check_independence(session, actor, review, action, rule.publish_action)
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidValue(f"A note is limited to {MAX_NOTE_LENGTH} characters.")
    if action.note_required and not note:
        raise InvalidValue(f"{action.label} needs a note saying why.")
    publishing = definition.stage(action.dest).final and action.dest == "published"
    if effective_date is not None and not publishing:
        raise InvalidValue(f"An effective date is chosen only when publishing, not for {action.label.lower()}.")
    if effective_date is not None and effective_date < now.date():
        raise InvalidValue(f"The effective date {effective_date.isoformat()} has passed; choose today or a later day.")
    if effective_date is not None and effective_date > add_months(now.date(), 12 * MAX_EFFECTIVE_YEARS):
        raise InvalidValue(f"The effective date {effective_date.isoformat()} is more than {MAX_EFFECTIVE_YEARS} years ahead; "
                           "check the year.")
    unmet = unmet_conditions(ConditionContext(session, review, now), action.conditions)
    if unmet:
        raise Conflict("Not yet: " + " ".join(unmet), unmet_conditions=unmet)
    new_state = engine_for(definition).fire(review.state, action.name)
    claimed = session.execute(
        update(Review).where(Review.id == review.id, Review.state_version == review.state_version)
        .values(state=new_state, state_version=review.state_version + 1, stage_entered_at=now,
                stage_due_at=_due(definition, new_state, now, review.comment_closes_on),
                ended_at=now if definition.stage(new_state).final else None)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict("Someone else acted on this review at the same moment; reload and check before acting.")
    from_state = review.state
    session.refresh(review)
    session.add(ReviewTransition(review_id=review.id, action=action.name, from_state=from_state, to_state=new_state,
                                 actor=actor.label, note=note or None, occurred_at=now))
    notifications.notify_stage_entered(session, review, definition, now)
    data: dict[str, object] = {"action": action.name, "from": from_state, "to": new_state, "note": note or None,
                               "version": review.version_number}
    if publishing:
        effective = effective_date or (now + timedelta(days=1)).date()
        next_review = add_months(effective, definition.review_cycle_months)
        policies.publish_version(session, Actor.system(), review.policy, review.version_number,
                                 effective_date=effective, next_review_date=next_review, now=now)
        notifications.notify_followers_published(session, review.policy, review.version_number, now)
        data.update(effective_date=effective.isoformat(), next_review_date=next_review.isoformat())
    elif definition.stage(new_state).final and new_state == "reaffirmed":
        # Kept as it is: the clock for its next review starts again today.
        review.policy.next_review_date = add_months(now.date(), definition.review_cycle_months)
        data.update(next_review_date=review.policy.next_review_date.isoformat())
    audit.record(session, actor, "review.action", f"review:{review.id}", policy_id=review.policy_id, data=data)
    return review


def _check_independence(session: Session, actor: Actor, review: Review, action: Action, publish_action: str) -> None:
    """Where leadership decides, a recused leader takes no action at all, and ombuds staff never publish."""
    from policyflow.models import Recusal  # decisions' model; imported here as decisions build on reviews

    if actor.user is not None and session.scalar(select(Recusal.id).where(Recusal.review_id == review.id,
                                                                         Recusal.user_id == actor.user.id)) is not None:
        raise PermissionDenied("You recused yourself from this review (conflict of interest); you no longer act in it.")
    if action.name == publish_action and "ombuds" in actor.roles:
        raise PermissionDenied("Ombuds staff do not publish: the office is independent and impartial; "
                               "district leadership decides.")


MAX_EFFECTIVE_YEARS = 10  # an effective date further ahead is almost surely a typo (2206 for 2026)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if not 1 <= year <= 9998:
        raise InvalidValue(f"{months} months after {day.isoformat()} is beyond the calendar.")
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def text_may_change(session: Session, policy: Policy) -> None:
    """Raise Conflict unless the policy's text may change now (no review, or an editable stage)."""
    review = active_review(session, policy)
    if review is None:
        return
    stage = definition_of(review).stage(review.state)
    if not stage.editable:
        raise Conflict(f"Policy {policy.code} is in {stage.label.lower()}; its text can change only in an "
                       "editable stage (return the review to draft first).")


def follow_new_version(session: Session, policy: Policy, number: int) -> None:
    """A version saved during an editable stage becomes the version under review; decisions on the
    earlier text stop counting (they stay in the record as dismissed)."""
    review = active_review(session, policy)
    if review is not None:
        review.version_number = number
        from policyflow.services.decisions import dismiss_for_new_version  # decisions build on reviews

        dismiss_for_new_version(session, review, number)
