"""The review pipeline: where reviews stand, how long each stage takes, what is overdue.

Built from the stage timeline (``review_transitions``), so it needs no bookkeeping of its own and
also covers reviews that ended long ago.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from policyflow.core.errors import PermissionDenied
from policyflow.models import Review
from policyflow.services.actors import Actor
from policyflow.services.reviews import definition_of


@dataclass(frozen=True)
class StageVisit:
    """One stay of one review in one stage."""

    review: Review
    stage: str
    label: str
    entered_at: datetime
    left_at: datetime | None  # None: still there
    days: float
    overdue: bool  # still there after the stage's due date


@dataclass
class StageFigures:
    stage: str
    label: str
    now_in_stage: int = 0
    overdue: int = 0
    durations: list[float] = field(default_factory=list)  # days, finished stays and ongoing ones

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.durations) if self.durations else None

    @property
    def longest_days(self) -> float | None:
        return max(self.durations) if self.durations else None


@dataclass
class Pipeline:
    stages: list[StageFigures]
    overdue: list[StageVisit]
    active: int
    ended: int


def _require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied("The review pipeline is for district staff.")


def visits(session: Session, actor: Actor, now: datetime) -> Iterator[StageVisit]:
    """Every stage stay of every review, oldest review first."""
    _require_staff(actor)
    for review in session.scalars(select(Review).options(selectinload(Review.transitions)).order_by(Review.id)):
        definition = definition_of(review)
        steps = review.transitions
        for index, step in enumerate(steps):
            stage = definition.stage(step.to_state)
            if stage.final:
                continue  # a review does not spend time in its end
            left = steps[index + 1].occurred_at if index + 1 < len(steps) else None
            until = left or now
            days = max(0.0, (until - step.occurred_at).total_seconds() / 86400)
            overdue = left is None and review.ended_at is None and review.stage_due_at is not None and review.stage_due_at < now
            yield StageVisit(review, stage.name, stage.label, step.occurred_at, left, days, overdue)


def pipeline(session: Session, actor: Actor, now: datetime) -> Pipeline:
    """Per stage: reviews in it now, overdue ones, median and longest stay (days)."""
    figures: dict[str, StageFigures] = {}
    overdue: list[StageVisit] = []
    for visit in visits(session, actor, now):
        entry = figures.setdefault(visit.stage, StageFigures(visit.stage, visit.label))
        entry.durations.append(visit.days)
        if visit.left_at is None and visit.review.ended_at is None:
            entry.now_in_stage += 1
        if visit.overdue:
            entry.overdue += 1
            overdue.append(visit)
    reviews = session.scalars(select(Review.ended_at)).all()
    order = ["draft", "equity_review", "stakeholder_comment", "approval"]
    ranked = sorted(figures.values(), key=lambda f: (order.index(f.stage) if f.stage in order else len(order), f.stage))
    return Pipeline(ranked, sorted(overdue, key=lambda v: v.review.stage_due_at or now),
                    active=sum(1 for ended in reviews if ended is None), ended=sum(1 for ended in reviews if ended is not None))
