"""The equity impact assessment of a review: read it, autosave answers (several reviewers, merged per
question), mark it complete or reopen it, and explain what changed after it; plus the condition
``equity_assessment_complete`` and the public view once the policy is published.

Merging: a save sends answers as the writer has them and the ``revision`` they started from. An answer
equal to its value at that revision was not touched and is left alone (a colleague's newer answer
stays); a touched answer that someone else changed since that revision is a conflict (409) carrying
their current answer; different questions merge. Audit events name the questions, never the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.assessment import (
    AnswerField,
    AnswerProblem,
    AssessmentDefinition,
    clean_answers,
    load_assessment,
    missing_required,
    pinned_assessment,
    public_answers,
    validate_answers,
)
from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from policyflow.core.readability import ReadingComparison, compare_reading
from policyflow.models import EquityAnswerChange, EquityAssessment, Review, User
from policyflow.models.base import utcnow
from policyflow.services import audit, policies, reviews
from policyflow.services.actors import Actor

WRITERS = frozenset({"ombuds", "reviewer"})
READERS = frozenset({"ombuds", "reviewer", "leadership", "admin"})
PUBLISHED_STAGE = "published"
MAX_EXPLANATION = 10_000
STATUS_LABELS = {"not_started": "Not started", "in_progress": "In progress", "complete": "Complete"}


@dataclass(frozen=True)
class Contributor:
    name: str
    answers: int  # how many answer changes they made


@dataclass(frozen=True)
class AssessmentState:
    """An assessment as one reader sees it (a review without one yet reads as "not started")."""

    review: Review
    assessment: EquityAssessment | None
    definition: AssessmentDefinition
    answers: dict[str, Any]
    may_write: bool
    last_changes: dict[str, EquityAnswerChange] = field(default_factory=dict)
    contributors: tuple[Contributor, ...] = ()

    @property
    def status(self) -> str:
        return self.assessment.status if self.assessment is not None else "not_started"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def revision(self) -> int:
        return self.assessment.revision if self.assessment is not None else 0

    @property
    def editable(self) -> bool:
        """The answers may change now (by this reader): a writer, a running review, not marked complete."""
        return self.may_write and self.review.ended_at is None and self.status != "complete"

    @property
    def missing(self) -> list[AnswerField]:
        return missing_required(self.definition, self.answers)

    @property
    def assessed_version(self) -> int | None:
        return self.assessment.version_number if self.assessment is not None else None

    @property
    def version_moved(self) -> bool:
        """A later version is under review than the one the completed assessment looked at."""
        return (self.assessment is not None and self.assessment.status == "complete"
                and self.review.version_number > self.assessment.version_number)

    @property
    def changes_explained(self) -> bool:
        return (self.assessment is not None
                and self.assessment.changes_explained_version == self.review.version_number)


def can_read(actor: Actor) -> bool:
    return actor.is_system or bool(actor.roles & READERS)


def can_write(actor: Actor) -> bool:
    return actor.is_system or bool(actor.roles & WRITERS)


def _require_writer(actor: Actor) -> None:
    if not can_write(actor):
        raise PermissionDenied("Only ombuds staff and reviewers write the equity assessment; leadership and "
                               "administrators read it.", roles=sorted(WRITERS))


def _review(session: Session, actor: Actor, review_id: int, *, lock: bool = False) -> Review:
    review = reviews.get_review(session, actor, review_id, lock=lock)  # staff only; others get 404
    if not can_read(actor):
        raise PermissionDenied("The equity assessment is for district staff working on reviews.")
    return review


def for_review(session: Session, review: Review) -> EquityAssessment | None:
    return session.scalar(select(EquityAssessment).where(EquityAssessment.review_id == review.id))


def definition_of(assessment: EquityAssessment) -> AssessmentDefinition:
    """The questions the assessment started with, whatever the file says today."""
    return pinned_assessment(assessment.definition_source)


def current_definition(folder: Path | None = None) -> AssessmentDefinition:
    if folder is None:
        from policyflow.resources import workflows_dir

        folder = workflows_dir()
    return load_assessment(folder)


def _state(session: Session, actor: Actor, review: Review, assessment: EquityAssessment | None,
           folder: Path | None) -> AssessmentState:
    if assessment is None:
        return AssessmentState(review, None, current_definition(folder), {}, can_write(actor))
    changes = session.scalars(select(EquityAnswerChange).where(EquityAnswerChange.assessment_id == assessment.id)
                              .order_by(EquityAnswerChange.revision, EquityAnswerChange.id)).all()
    last: dict[str, EquityAnswerChange] = {}
    counts: dict[str, int] = {}
    for change in changes:
        last[change.question_key] = change
        name = _name(change.changed_by)
        counts[name] = counts.get(name, 0) + 1
    contributors = tuple(Contributor(name, n) for name, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return AssessmentState(review, assessment, definition_of(assessment), dict(assessment.answers or {}), can_write(actor),
                           last, contributors)


def _name(user: User | None) -> str:
    if user is None:
        return "the system"
    return user.display_name or user.username


def get(session: Session, actor: Actor, review_id: int, *, folder: Path | None = None) -> AssessmentState:
    """The assessment for staff: ombuds, reviewers, leadership and administrators read it."""
    review = _review(session, actor, review_id)
    return _state(session, actor, review, for_review(session, review), folder)


def _check_running(review: Review) -> None:
    if review.ended_at is not None:
        raise Conflict(f"Review {review.id} has ended; its equity assessment can no longer change.")


def _set_version(assessment: EquityAssessment, number: int) -> None:
    """Tie the answers to a version; an explanation of changes up to that version is no longer needed."""
    assessment.version_number = number
    if assessment.changes_explained_version is not None and assessment.changes_explained_version <= number:
        assessment.changes_explained = None
        assessment.changes_explained_version = None
        assessment.changes_explained_at = None
        assessment.changes_explained_by_id = None


def _values_at(session: Session, assessment: EquityAssessment, keys: list[str], revision: int) -> dict[str, Any]:
    """Each answer's value at ``revision``: its latest change at or before it (absent: never answered)."""
    rows = session.execute(select(EquityAnswerChange.question_key, EquityAnswerChange.value)
                           .where(EquityAnswerChange.assessment_id == assessment.id,
                                  EquityAnswerChange.question_key.in_(keys),
                                  EquityAnswerChange.revision <= revision)
                           .order_by(EquityAnswerChange.revision, EquityAnswerChange.id)).all()
    return {key: value for key, value in rows}


def _changed_since(session: Session, assessment: EquityAssessment, keys: list[str],
                   revision: int) -> dict[str, list[EquityAnswerChange]]:
    rows = session.scalars(select(EquityAnswerChange)
                           .where(EquityAnswerChange.assessment_id == assessment.id,
                                  EquityAnswerChange.question_key.in_(keys),
                                  EquityAnswerChange.revision > revision)
                           .order_by(EquityAnswerChange.revision, EquityAnswerChange.id)).all()
    found: dict[str, list[EquityAnswerChange]] = {}
    for row in rows:
        found.setdefault(row.question_key, []).append(row)
    return found


def problems_json(problems: list[AnswerProblem]) -> list[dict[str, str]]:
    return [{"question": p.key, "label": p.label, "message": p.message} for p in problems]


def save_answers(session: Session, actor: Actor, review_id: int, answers: Mapping[str, Any], revision: int, *,
                 folder: Path | None = None, now: datetime | None = None) -> AssessmentState:
    """Autosave: merge ``answers`` (question key -> value, None clears) made from ``revision``."""
    review = _review(session, actor, review_id, lock=True)  # one writer at a time per review
    _require_writer(actor)
    _check_running(review)
    now = now or utcnow()
    assessment = for_review(session, review)
    latest = assessment.revision if assessment is not None else 0
    if isinstance(revision, bool) or not isinstance(revision, int) or not 0 <= revision <= latest:
        raise InvalidValue(f"'revision' must be the revision you started from, a whole number from 0 to {latest}.")
    if assessment is None:
        definition = current_definition(folder)
        assessment = EquityAssessment(review_id=review.id, version_number=review.version_number,
                                      definition_hash=definition.content_hash, definition_source=definition.source,
                                      answers={}, status="in_progress", revision=0, created_at=now, updated_at=now)
        session.add(assessment)
        session.flush()
    if assessment.status == "complete":
        raise Conflict("The equity assessment is marked complete; reopen it to change answers.")
    definition = definition_of(assessment)
    cleaned, problems = clean_answers(definition, answers)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InvalidValue(f"The answer to '{first.key}' ({first.label}) is not valid: {first.message}{more}.",
                           problems=problems_json(problems))
    keys = list(cleaned)
    base = _values_at(session, assessment, keys, revision)
    since = _changed_since(session, assessment, keys, revision)
    current = dict(assessment.answers or {})
    me = actor.user.id if actor.user else None
    changes: dict[str, Any] = {}
    conflicts: list[dict[str, Any]] = []
    for key, value in cleaned.items():
        now_value = current.get(key)
        if value == now_value or value == base.get(key):
            continue  # already so, or not touched by this writer (a colleague's newer answer stays)
        others = [row for row in since.get(key, ()) if row.changed_by_id != me]
        if now_value != base.get(key) and others:
            item = definition.field(key)
            conflicts.append({"question": key, "label": item.title if item else key, "current": now_value,
                              "changed_by": _name(others[-1].changed_by), "changed_at": others[-1].changed_at.isoformat()})
            continue
        changes[key] = value
    if conflicts:
        names = "; ".join(f"“{c['label']}” (by {c['changed_by']})" for c in conflicts)
        raise Conflict(f"Not saved: someone else changed {names} since you started. Their answer is kept; "
                       "compare it with yours and save again to replace it.",
                       conflicts=conflicts, revision=assessment.revision,
                       yours={**changes, **{c["question"]: cleaned[c["question"]] for c in conflicts}})
    if changes:
        for key, value in changes.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        assessment.answers = current
        assessment.revision += 1
        assessment.updated_at = now
        _set_version(assessment, review.version_number)
        for key, value in changes.items():
            session.add(EquityAnswerChange(assessment_id=assessment.id, question_key=key, revision=assessment.revision,
                                           value=value, changed_by_id=me, changed_at=now))
        session.flush()
        audit.record(session, actor, "equity.answers_saved", f"review:{review.id}", policy_id=review.policy_id,
                     data={"questions": sorted(changes), "revision": assessment.revision, "version": review.version_number})
    return _state(session, actor, review, assessment, folder)


def _existing(session: Session, review: Review) -> EquityAssessment:
    assessment = for_review(session, review)
    if assessment is None:
        raise Conflict("Nobody has answered the equity assessment yet.")
    return assessment


def complete(session: Session, actor: Actor, review_id: int, *, now: datetime | None = None) -> AssessmentState:
    """Mark complete for the version under review, once every required answer is there and valid."""
    review = _review(session, actor, review_id, lock=True)
    _require_writer(actor)
    _check_running(review)
    assessment = _existing(session, review)
    if assessment.status == "complete":
        raise Conflict("The equity assessment is already marked complete.")
    definition = definition_of(assessment)
    answers = dict(assessment.answers or {})
    invalid = validate_answers(definition, answers)
    if invalid:
        raise InvalidValue(f"Some answers no longer fit their questions: {'; '.join(map(str, invalid))}.",
                           problems=problems_json(invalid))
    missing = missing_required(definition, answers)
    if missing:
        names = "; ".join(item.title for item in missing[:5]) + (f"; and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise Conflict(f"The assessment cannot be marked complete yet: {len(missing)} required answer(s) missing: {names}.",
                       missing=[{"question": item.key, "label": item.title} for item in missing])
    now = now or utcnow()
    assessment.status = "complete"
    assessment.completed_at = now
    assessment.completed_by_id = actor.user.id if actor.user else None
    _set_version(assessment, review.version_number)
    assessment.revision += 1
    assessment.updated_at = now
    session.flush()
    audit.record(session, actor, "equity.completed", f"review:{review.id}", policy_id=review.policy_id,
                 data={"version": assessment.version_number, "revision": assessment.revision,
                       "definition_hash": assessment.definition_hash})
    return _state(session, actor, review, assessment, None)


def reopen(session: Session, actor: Actor, review_id: int, *, now: datetime | None = None) -> AssessmentState:
    """Open a completed assessment for changes again (it must be completed again before moving on)."""
    review = _review(session, actor, review_id, lock=True)
    _require_writer(actor)
    _check_running(review)
    assessment = _existing(session, review)
    if assessment.status != "complete":
        raise Conflict("The equity assessment is not marked complete; there is nothing to reopen.")
    now = now or utcnow()
    assessment.status = "in_progress"
    assessment.completed_at = None
    assessment.completed_by_id = None
    assessment.revision += 1
    assessment.updated_at = now
    session.flush()
    audit.record(session, actor, "equity.reopened", f"review:{review.id}", policy_id=review.policy_id,
                 data={"version": assessment.version_number, "revision": assessment.revision})
    return _state(session, actor, review, assessment, None)


def explain_changes(session: Session, actor: Actor, review_id: int, explanation: str, *,
                    now: datetime | None = None) -> AssessmentState:
    """Answer "what changed after the equity review?" for the version now under review."""
    review = _review(session, actor, review_id, lock=True)
    _require_writer(actor)
    _check_running(review)
    assessment = _existing(session, review)
    if assessment.status != "complete":
        raise Conflict("Complete the equity assessment first; an explanation is for changes made after it.")
    if review.version_number <= assessment.version_number:
        raise Conflict(f"The text has not changed since the assessment of version {assessment.version_number}; "
                       "there is nothing to explain.")
    text = (explanation or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidValue("Say what changed after the equity review, and whether it affects the assessment.")
    if len(text) > MAX_EXPLANATION or "\x00" in text:
        raise InvalidValue(f"The explanation is limited to {MAX_EXPLANATION:,} characters of text.")
    now = now or utcnow()
    assessment.changes_explained = text
    assessment.changes_explained_version = review.version_number
    assessment.changes_explained_at = now
    assessment.changes_explained_by_id = actor.user.id if actor.user else None
    assessment.revision += 1
    assessment.updated_at = now
    session.flush()
    audit.record(session, actor, "equity.changes_explained", f"review:{review.id}", policy_id=review.policy_id,
                 data={"assessed_version": assessment.version_number, "explained_version": review.version_number,
                       "revision": assessment.revision})
    return _state(session, actor, review, assessment, None)


# ---------------------------------------------------------------------------------------------
# The workflow condition
# ---------------------------------------------------------------------------------------------

def unmet_reason(session: Session, review: Review) -> str | None:
    """Why ``equity_assessment_complete`` does not hold (None: it holds), in words for the review page."""
    assessment = for_review(session, review)
    if assessment is None:
        return "not started yet; answer its questions on the assessment page"
    if assessment.status != "complete":
        missing = len(missing_required(definition_of(assessment), assessment.answers or {}))
        if missing:
            return f"not marked complete yet ({missing} required answer(s) missing)"
        return "every required question is answered, but nobody has marked it complete yet"
    if review.version_number > assessment.version_number and assessment.changes_explained_version != review.version_number:
        return (f"the text changed after it (version {assessment.version_number} was assessed, version "
                f"{review.version_number} is under review); answer “What changed after the equity review?” "
                "on the assessment page")
    return None


# ---------------------------------------------------------------------------------------------
# Plain-language check and the redline since the assessment
# ---------------------------------------------------------------------------------------------

def plain_language(session: Session, actor: Actor, review: Review) -> ReadingComparison:
    """Reading grade of the version under review next to the published version's, per section."""
    policy = review.policy
    draft = policies.version_text(session, policy, policies.get_version(session, actor, policy, review.version_number))
    published = None
    if policy.published_version_number is not None:
        published = policies.version_text(session, policy,
                                          policies.get_version(session, actor, policy, policy.published_version_number))
    return compare_reading(draft, published)


def changes_since_assessment(session: Session, actor: Actor, state: AssessmentState) -> policies.Comparison | None:
    if not state.version_moved or state.assessment is None:
        return None
    return policies.compare(session, actor, state.review.policy, state.assessment.version_number, state.review.version_number)


# ---------------------------------------------------------------------------------------------
# Published with the response to comments, once the policy is adopted
# ---------------------------------------------------------------------------------------------

def is_public(session: Session, review: Review) -> bool:
    assessment = for_review(session, review)
    return review.state == PUBLISHED_STAGE and assessment is not None and assessment.status == "complete"


def published(session: Session, review_id: int) -> AssessmentState:
    """The assessment as the public reads it: only once the review published the policy, never internal answers."""
    review = session.get(Review, review_id)
    assessment = for_review(session, review) if review is not None else None
    if review is None or assessment is None or not is_public(session, review):
        raise NotFound("There is no published equity assessment for this review.")
    definition = definition_of(assessment)
    return AssessmentState(review, assessment, definition, public_answers(definition, assessment.answers or {}), False)
