"""Leadership decisions: approve, request changes or reject, bound to the exact text read.

Independence and impartiality are rules here, not advice: ombuds staff never record decisions (the
office advises and does not decide), nobody approves a version they wrote, and a leader who declares
a conflict of interest recuses and no longer counts. Any new version dismisses earlier decisions,
so an approval always means "I read *this* text" (its SHA-256 is stored with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from policyflow.core.workflow import ApprovalRule, Stage
from policyflow.models import DECISIONS, Decision, PolicyVersion, Recusal, Review, User
from policyflow.models.base import utcnow
from policyflow.services import audit, notifications, reviews
from policyflow.services.actors import Actor

MAX_NOTE = 4_500  # the review's timeline note adds who asked for changes (at most 5,000 in all)
DECISION_LABELS = {"approve": "Approve", "request_changes": "Request changes", "reject": "Reject"}


def deciding_stage(review: Review) -> Stage | None:
    """The stage of the review's workflow where leadership decides (None when it has none)."""
    definition = reviews.definition_of(review)
    current = definition.stage(review.state)
    if current.approval is not None:
        return current
    return next((stage for stage in definition.stages if stage.approval is not None), None)


def _rule(review: Review) -> ApprovalRule | None:
    stage = deciding_stage(review)
    return stage.approval if stage else None


def active_decisions(session: Session, review: Review) -> list[Decision]:
    """Decisions that still count: on the version under review, not superseded, not recused."""
    return list(session.scalars(select(Decision).where(Decision.review_id == review.id, Decision.dismissed_at.is_(None),
                                                       Decision.version_number == review.version_number)
                                .order_by(Decision.id)))


def history(session: Session, actor: Actor, review: Review) -> list[Decision]:
    """Every decision ever recorded in the review, dismissed ones included (staff only)."""
    if not actor.is_staff:
        raise NotFound(f"There is no review {review.id}.")
    return list(session.scalars(select(Decision).where(Decision.review_id == review.id).order_by(Decision.id)))


def recusals(session: Session, review: Review) -> list[Recusal]:
    return list(session.scalars(select(Recusal).where(Recusal.review_id == review.id).order_by(Recusal.id)))


def version_author_id(session: Session, review: Review) -> int | None:
    return session.scalar(select(PolicyVersion.author_id).where(PolicyVersion.policy_id == review.policy_id,
                                                                PolicyVersion.number == review.version_number))


@dataclass
class QuorumStatus:
    needed: int
    approvers: list[User]
    positions_needed: tuple[str, ...]
    positions_missing: list[str]
    version_number: int
    sha256: str
    ineligible: dict[int, str] = field(default_factory=dict)  # user id -> why their approval does not count

    @property
    def met(self) -> bool:
        return len(self.approvers) >= self.needed and not self.positions_missing

    @property
    def shortfall(self) -> str:
        """What is still missing, in words (empty when the quorum is met)."""
        parts = []
        if len(self.approvers) < self.needed:
            more = self.needed - len(self.approvers)
            parts.append(f"{more} more {'approval' if more == 1 else 'approvals'} ({len(self.approvers)} of {self.needed} so far)")
        if self.positions_missing:
            parts.append("an approval from the " + " and the ".join(self.positions_missing))
        return " and ".join(parts)


def _why_ineligible(user: User, author_id: int | None, recused: set[int]) -> str | None:
    if user.id in recused:
        return "recused (conflict of interest)"
    if "ombuds" in user.roles:
        return "ombuds staff do not decide"
    if "leadership" not in user.roles or not user.is_active:
        return "no longer a member of leadership"
    if user.id == author_id:
        return "wrote the version under review"
    return None


def quorum(session: Session, review: Review) -> QuorumStatus:
    """Who approved the version under review and whether that meets the workflow's quorum."""
    rule = _rule(review) or ApprovalRule()
    sha = session.scalar(select(PolicyVersion.sha256).where(PolicyVersion.policy_id == review.policy_id,
                                                            PolicyVersion.number == review.version_number)) or ""
    recused = {r.user_id for r in recusals(session, review)}
    author_id = version_author_id(session, review)
    approvers: list[User] = []
    ineligible: dict[int, str] = {}
    for decision in active_decisions(session, review):
        if decision.decision != "approve" or decision.version_sha256 != sha:
            continue
        why = _why_ineligible(decision.user, author_id, recused)
        if why:
            ineligible[decision.user_id] = why
        elif decision.user not in approvers:
            approvers.append(decision.user)
    held = {(user.position or "").strip().casefold() for user in approvers}
    missing = [position for position in rule.required_positions if position.casefold() not in held]
    return QuorumStatus(rule.min_approvals, approvers, rule.required_positions, missing, review.version_number, sha,
                        ineligible)


def _check_decider(session: Session, actor: Actor, review: Review, doing: str) -> User:
    if actor.user is None:
        raise PermissionDenied(f"Sign in to {doing}.")
    if "ombuds" in actor.roles:
        raise PermissionDenied("Ombuds staff do not record decisions: the office is independent and impartial; "
                               "it guides the review and leaves the decision to district leadership.")
    if "leadership" not in actor.roles:
        raise PermissionDenied(f"Only district leadership may {doing}.", roles=["leadership"])
    recused = session.scalar(select(Recusal).where(Recusal.review_id == review.id, Recusal.user_id == actor.user.id))
    if recused is not None:
        raise PermissionDenied(f"You recused yourself from this review on {recused.recused_at:%d %B %Y} "
                               "(conflict of interest); you no longer decide in it.")
    return actor.user


def _clean_note(note: Any) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        raise InvalidValue("'note' is text.")
    note = note.replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE:
        raise InvalidValue(f"A note is limited to {MAX_NOTE:,} characters.")
    return note


def _version_number(value: Any) -> int:
    if isinstance(value, bool) or value in (None, ""):
        raise InvalidValue("Say which version you read: 'version' is the version number shown on the page.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidValue(f"'version' is a version number, not {str(value)[:20]!r}.") from None


def decide(session: Session, actor: Actor, review_id: int, *, decision: Any, version: Any, note: Any = "",
           effective_date: date | None = None, now: datetime | None = None) -> Decision:
    """Record a leader's decision on the version they read; request_changes and reject move the review."""
    now = now or utcnow()
    review = reviews.get_review(session, actor, review_id, lock=True)
    if decision not in DECISIONS:
        raise InvalidValue(f"A decision is one of: {', '.join(DECISIONS)}.")
    user = _check_decider(session, actor, review, "record a decision")
    stage = reviews.definition_of(review).stage(review.state)
    rule = stage.approval
    if review.ended_at is not None or rule is None:
        where = deciding_stage(review)
        raise Conflict(f"The review is in {stage.label}; decisions are recorded in "
                       f"{where.label if where else 'a stage that takes decisions'}.")
    number = _version_number(version)
    if number != review.version_number:
        raise Conflict(f"You read version {number}, but version {review.version_number} is under review. "
                       f"Read version {review.version_number} before deciding.", current_version=review.version_number)
    note = _clean_note(note)
    if decision != "approve" and not note:
        raise InvalidValue(f"{DECISION_LABELS[decision]} needs a note saying why; it goes back to the people working on the policy.")
    if decision == "approve" and version_author_id(session, review) == user.id:
        raise PermissionDenied(f"You wrote version {number}, so you cannot approve it; another leader must.")
    sha = session.scalar(select(PolicyVersion.sha256).where(PolicyVersion.policy_id == review.policy_id,
                                                            PolicyVersion.number == number))
    met_before = quorum(session, review).met
    session.execute(update(Decision).where(Decision.review_id == review.id, Decision.user_id == user.id,
                                           Decision.dismissed_at.is_(None))
                    .values(dismissed_at=now, dismissed_because="superseded").execution_options(synchronize_session=False))
    _expire_loaded_decisions(session, review)
    record = Decision(review_id=review.id, user_id=user.id, decision=decision, version_number=number, version_sha256=sha,
                      note=note, position=user.position, decided_at=now)
    session.add(record)
    session.flush()
    audit.record(session, actor, "review.decision", f"review:{review.id}", policy_id=review.policy_id,
                 data={"decision": decision, "version": number, "sha256": sha, "note": note or None})
    if decision == "request_changes":
        reviews.perform_for_decision(session, actor, review, rule.request_changes_action,
                                     f"Changes requested by {user.display_name}: {note}", now)
    elif decision == "reject":
        reviews.perform_for_decision(session, actor, review, rule.reject_action, f"Rejected by {user.display_name}: {note}", now)
    elif quorum(session, review).met and not met_before:
        if rule.publish_on_quorum:
            reviews.perform_for_decision(session, actor, review, rule.publish_action,
                                         "Published on reaching the approval quorum.", now, effective_date=effective_date)
        else:
            notifications.notify_quorum_reached(session, review, now)
    elif effective_date is not None:
        raise InvalidValue("An effective date goes with the approval that publishes the policy; this one does not.")
    return record


def recuse(session: Session, actor: Actor, review_id: int, reason: Any, *, now: datetime | None = None) -> Recusal:
    """A leader declares a conflict of interest: recorded, their decisions stop counting, they decide no more."""
    now = now or utcnow()
    review = reviews.get_review(session, actor, review_id, lock=True)
    user = _check_decider(session, actor, review, "recuse")
    if review.ended_at is not None:
        raise Conflict(f"Review {review.id} has ended; there is nothing left to recuse from.")
    reason = _clean_note(reason)
    if not reason:
        raise InvalidValue("Say what the conflict of interest is (it is kept in the review's record).")
    session.execute(update(Decision).where(Decision.review_id == review.id, Decision.user_id == user.id,
                                           Decision.dismissed_at.is_(None))
                    .values(dismissed_at=now, dismissed_because="recused").execution_options(synchronize_session=False))
    _expire_loaded_decisions(session, review)
    recusal = Recusal(review_id=review.id, user_id=user.id, reason=reason, recused_at=now)
    session.add(recusal)
    session.flush()
    audit.record(session, actor, "review.recused", f"review:{review.id}", policy_id=review.policy_id,
                 data={"version": review.version_number})
    return recusal


def dismiss_for_new_version(session: Session, review: Review, number: int, now: datetime | None = None) -> int:
    """A new version under review: earlier decisions no longer count (they read other words)."""
    result = session.execute(update(Decision).where(Decision.review_id == review.id, Decision.dismissed_at.is_(None),
                                                    Decision.version_number != number)
                             .values(dismissed_at=now or utcnow(), dismissed_because="new_version")
                             .execution_options(synchronize_session=False))
    _expire_loaded_decisions(session, review)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _expire_loaded_decisions(session: Session, review: Review) -> None:
    """Decisions already loaded re-read their dismissal after a set-based UPDATE."""
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Decision) and loaded.review_id == review.id:
            session.expire(loaded, ["dismissed_at", "dismissed_because"])


def may_decide(session: Session, actor: Actor, review: Review) -> tuple[bool, str]:
    """Whether the actor may record a decision now, and if not, why (for the review page)."""
    try:
        _check_decider(session, actor, review, "record a decision")
    except PermissionDenied as refusal:
        return False, str(refusal)
    if review.ended_at is not None or reviews.definition_of(review).stage(review.state).approval is None:
        return False, "Decisions are recorded when the review reaches leadership approval."
    return True, ""


def awaits_decision_from(session: Session, actor: Actor, review: Review) -> bool:
    """Whether the review waits for this leader: they may decide and have no decision on this version yet."""
    if not may_decide(session, actor, review)[0] or actor.user is None:
        return False
    return not any(d.user_id == actor.user.id for d in active_decisions(session, review))
