"""API for a review's equity impact assessment: read it, save answers (merged per question), complete,
reopen, and explain what changed after it."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from policyflow.core.assessment import Question
from policyflow.services import equity
from policyflow.web.api import _require_user, blueprint
from policyflow.web.requests import actor, db, json_body, json_field


def _question_json(question: Question) -> dict[str, Any]:
    return {"id": question.id, "label": question.label, "help": question.help, "type": question.type,
            "required": question.required, "internal": question.internal,
            "options": [{"key": key, "label": label} for key, label in question.options],
            "follow_up": [_question_json(follow) for follow in question.follow_up]}


def assessment_json(state: equity.AssessmentState) -> dict[str, Any]:
    assessment = state.assessment
    changes = None
    if state.version_moved and assessment is not None:
        changes = {"from_version": assessment.version_number, "to_version": state.review.version_number,
                   "explained": state.changes_explained,
                   "explanation": assessment.changes_explained if state.changes_explained else None}
    completed_by = assessment.completed_by if assessment is not None else None
    return {
        "review": state.review.id,
        "policy": state.review.policy.code,
        "status": state.status,
        "revision": state.revision,
        "version": state.assessed_version,
        "review_version": state.review.version_number,
        "may_write": state.editable,
        "definition": {"title": state.definition.title, "hash": state.definition.content_hash,
                       "sections": [{"title": section.title, "questions": [_question_json(q) for q in section.questions]}
                                    for section in state.definition.sections]},
        "answers": state.answers,
        "missing": [{"question": item.key, "label": item.title} for item in state.missing],
        "completed_at": assessment.completed_at.isoformat() if assessment is not None and assessment.completed_at else None,
        "completed_by": completed_by.username if completed_by is not None else None,
        "changes": changes,
        "contributors": [{"name": c.name, "answers": c.answers} for c in state.contributors],
        "last_changed": {key: {"by": change.changed_by.username if change.changed_by else None,
                               "at": change.changed_at.isoformat(), "revision": change.revision}
                         for key, change in state.last_changes.items()},
        "url": url_for("pages.equity_assessment", review_id=state.review.id),
    }


def _folder() -> Any:
    return current_app.config["POLICYFLOW_SETTINGS"].workflows_dir


@blueprint.get("/reviews/<int:review_id>/equity-assessment")
def get_assessment(review_id: int) -> dict[str, Any]:
    _require_user()
    return assessment_json(equity.get(db(), actor(), review_id, folder=_folder()))


@blueprint.put("/reviews/<int:review_id>/equity-assessment")
def save_assessment(review_id: int) -> dict[str, Any]:
    _require_user()
    body = json_body()
    answers = json_field(body, "answers", dict)
    revision = json_field(body, "revision", int)
    return assessment_json(equity.save_answers(db(), actor(), review_id, answers, revision, folder=_folder(),
                                               now=current_app.config["CLOCK"]()))


@blueprint.post("/reviews/<int:review_id>/equity-assessment/complete")
def complete_assessment(review_id: int) -> dict[str, Any]:
    _require_user()
    return assessment_json(equity.complete(db(), actor(), review_id, now=current_app.config["CLOCK"]()))


@blueprint.post("/reviews/<int:review_id>/equity-assessment/reopen")
def reopen_assessment(review_id: int) -> dict[str, Any]:
    _require_user()
    return assessment_json(equity.reopen(db(), actor(), review_id, now=current_app.config["CLOCK"]()))


@blueprint.post("/reviews/<int:review_id>/equity-assessment/explanation")
def explain_changes(review_id: int) -> dict[str, Any]:
    _require_user()
    body = json_body()
    return assessment_json(equity.explain_changes(db(), actor(), review_id, json_field(body, "explanation", str),
                                                  now=current_app.config["CLOCK"]()))
