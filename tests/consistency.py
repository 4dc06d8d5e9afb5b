"""What a consistent database looks like, checked over everything in it (used after races and crashes).

``problems(session)`` lists every broken invariant in words (empty when the database is sound):

- every policy's versions are numbered 1..head without a gap, each has the parent before it, the
  head keeps its full text, and every version rebuilds from its patches to text matching its SHA-256;
- the audit trail's hash chain verifies;
- every review's state, ``state_version`` and end agree with its timeline: one transition per
  state change, the last one naming the current state, ended exactly when the stage is final, and
  the version under review exists;
- every outbox message is pending, delivered or failed (never both), and a delivered one says how.
"""

from __future__ import annotations

from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.core.errors import PolicyflowError
from policyflow.models import OutboxMessage, Policy, PolicyVersion, Review, ReviewTransition
from policyflow.services import audit, policies, reviews


def problems(session: Session) -> list[str]:
    session.expire_all()
    found = [*_version_problems(session), *_review_problems(session), *_outbox_problems(session)]
    checked, broken = audit.verify(session)
    if broken is not None:
        found.append(f"audit chain breaks at event {broken} (after {checked} good events)")
    return found


def _version_problems(session: Session) -> list[str]:
    found: list[str] = []
    for policy in session.scalars(select(Policy).order_by(Policy.id)):
        rows = session.scalars(select(PolicyVersion).where(PolicyVersion.policy_id == policy.id)
                               .order_by(PolicyVersion.number)).all()
        numbers = [row.number for row in rows]
        if numbers != list(range(1, policy.head_version_number + 1)):
            found.append(f"{policy.code}: versions {numbers}, head says {policy.head_version_number}")
            continue
        if rows[-1].full_text is None:
            found.append(f"{policy.code}: the head version {rows[-1].number} keeps no full text")
        for previous, row in zip([None, *rows], rows, strict=False):
            if row.parent_id != (previous.id if previous else None):
                found.append(f"{policy.code} v{row.number}: parent is not v{row.number - 1}")
            try:
                policies.version_text(session, policy, row)
            except PolicyflowError as error:
                found.append(f"{policy.code} v{row.number}: {error.message}")
        if policy.published_version_number is not None and policy.published_version_number > policy.head_version_number:
            found.append(f"{policy.code}: published version {policy.published_version_number} does not exist")
    return found


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
