"""What a consistent database looks like, checked over everything in it (used after races and crashes).

``problems(session)`` lists every broken invariant in words (empty when the database is sound):

- everything ``policyflow check`` checks (services.integrity): versions numbered 1..head, each the child
  of the one before, the head keeping its full text, each rebuilding to its SHA-256; the audit chain;
- every review's state, ``state_version`` and end agree with its timeline: one transition per
  state change, the last one naming the current state, ended exactly when the stage is final, and
  the version under review exists;
- every outbox message is pending, delivered or failed (never both), and a delivered one says how.
"""

from __future__ import annotations

from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.models import OutboxMessage, Review, ReviewTransition
from policyflow.services import integrity, reviews


def problems(session: Session) -> list[str]:
    session.expire_all()
    integrity_report = integrity.check(session)  # versions and the audit chain, as ``policyflow check`` sees them
    found = [broken.problem for broken in integrity_report.broken]
    if integrity_report.audit_broken_at is not None:
        found.append(f"audit chain breaks at event {integrity_report.audit_broken_at} "
                     f"(after {integrity_report.events} good events)")
    return [*found, *_review_problems(session), *_outbox_problems(session)]


def _review_problems(session: Session) -> list[str]:
    found: list[str] = []
    for review in session.scalars(select(Review).order_by(Review.id)):
        timeline = session.scalars(select(ReviewTransition).where(ReviewTransition.review_id == review.id)
                                   .order_by(ReviewTransition.id)).all()
        where = f"review {review.id} ({review.policy.code})"
        if len(timeline) != review.state_version:
            found.append(f"{where}: state_version {review.state_version} but {len(timeline)} transitions")
        if not timeline or timeline[-1].to_state != review.state:
            found.append(f"{where}: state {review.state!r} is not where its timeline ends")
        if any(later.from_state != earlier.to_state for earlier, later in pairwise(timeline)):
            found.append(f"{where}: its timeline does not join up")
        final = reviews.definition_of(review).stage(review.state).final
        if final != (review.ended_at is not None):
            found.append(f"{where}: in {review.state!r} but ended_at is {review.ended_at}")
        if not 1 <= review.version_number <= review.policy.head_version_number:
            found.append(f"{where}: reviews version {review.version_number}, which does not exist")
    active = session.execute(select(Review.policy_id, func.count()).where(Review.ended_at.is_(None))
                             .group_by(Review.policy_id).having(func.count() > 1)).all()
    found.extend(f"policy {policy_id}: {count} reviews in flight" for policy_id, count in active)
    return found


def _outbox_problems(session: Session) -> list[str]:
    found: list[str] = []
    for message in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
        if message.delivered_at is not None and message.failed_at is not None:
            found.append(f"outbox {message.id}: both delivered and failed")
        if (message.delivered_at is not None or message.failed_at is not None) and not message.outcome:
            found.append(f"outbox {message.id}: finished without an outcome")
        if message.delivered_at is not None and message.locked_until is not None:
            found.append(f"outbox {message.id}: delivered but still claimed")
    return found
