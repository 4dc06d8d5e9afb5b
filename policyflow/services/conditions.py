"""Evaluators for the named workflow conditions (the registry YAML refers to by name)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from policyflow.core.conditions import CONDITIONS
from policyflow.models import Review


@dataclass(frozen=True)
class ConditionContext:
    session: Session
    review: Review
    now: datetime


Evaluator = Callable[[ConditionContext], bool]
EVALUATORS: dict[str, Evaluator] = {}


def condition(name: str) -> Callable[[Evaluator], Evaluator]:
    if name not in CONDITIONS:
        raise KeyError(f"{name!r} is not in policyflow.core.conditions.CONDITIONS")

    def register(evaluator: Evaluator) -> Evaluator:
        EVALUATORS[name] = evaluator
        return evaluator

    return register


@condition("comment_period_scheduled")
def _comment_period_scheduled(context: ConditionContext) -> bool:
    return context.review.comment_opens_on is not None and context.review.comment_closes_on is not None


@condition("comment_period_ended")
def _comment_period_ended(context: ConditionContext) -> bool:
    closes = context.review.comment_closes_on
    return closes is not None and context.now.date() > closes


@condition("legal_basis_documented")
def _legal_basis_documented(context: ConditionContext) -> bool:
    return bool((context.review.legal_basis or "").strip())


@condition("text_changed_since_published")
def _text_changed_since_published(context: ConditionContext) -> bool:
    return context.review.version_number != context.review.policy.published_version_number


@condition("no_open_blocking_annotations")
def _no_open_blocking_annotations(context: ConditionContext) -> bool:
    from policyflow.services.annotations import open_blocking  # annotations build on reviews' models

    return not open_blocking(context.session, context.review.policy)


@condition("all_comments_dispositioned")
def _all_comments_dispositioned(context: ConditionContext) -> bool:
    from policyflow.services.comments import any_undecided  # comments build on reviews' models

    return not any_undecided(context.session, context.review)


@condition("approval_quorum_met")
def _approval_quorum_met(context: ConditionContext) -> bool:
    from policyflow.services.decisions import quorum  # decisions build on reviews' models

    return quorum(context.session, context.review).met


Details = Callable[[ConditionContext], dict[str, object]]
DETAILS: dict[str, Details] = {}  # the numbers an unmet sentence quotes, worked out only when it is unmet


def _details(name: str) -> Callable[[Details], Details]:
    def register(details: Details) -> Details:
        DETAILS[name] = details
        return details

    return register


@_details("no_open_blocking_annotations")
def _blocking_details(context: ConditionContext) -> dict[str, object]:
    from policyflow.services.annotations import open_blocking

    return {"blocking": len(open_blocking(context.session, context.review.policy))}


@_details("all_comments_dispositioned")
def _undecided_details(context: ConditionContext) -> dict[str, object]:
    from policyflow.services.comments import undecided_count

    return {"undecided": undecided_count(context.session, context.review)}


@_details("approval_quorum_met")
def _quorum_details(context: ConditionContext) -> dict[str, object]:
    from policyflow.services.decisions import quorum

    status = quorum(context.session, context.review)
    return {"version": context.review.version_number, "shortfall": status.shortfall}


@condition("equity_assessment_complete")
def _equity_assessment_complete(context: ConditionContext) -> bool:
    from policyflow.services.equity import unmet_reason  # the assessment builds on reviews' models

    return unmet_reason(context.session, context.review) is None


@_details("equity_assessment_complete")
def _equity_details(context: ConditionContext) -> dict[str, object]:
    from policyflow.services.equity import unmet_reason

    return {"equity": unmet_reason(context.session, context.review) or ""}


def unmet_conditions(context: ConditionContext, names: tuple[str, ...]) -> list[str]:
    """The sentences of every condition in ``names`` that does not hold, in order."""
    unmet = []
    for name in names:
        if not EVALUATORS[name](context):
            closes = context.review.comment_closes_on
            values: dict[str, object] = {"closes": closes.isoformat() if closes else "an unset date"}
            if name in DETAILS:
                values.update(DETAILS[name](context))
            unmet.append(CONDITIONS[name].unmet.format(**values))
    return unmet
