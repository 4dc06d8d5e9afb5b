"""Pages of the equity impact assessment: answer (autosaved by a small script, or saved with the form
button without one), mark complete or reopen, explain later changes, the plain-language check; the box on
the review page; and the public assessment once the policy is published."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from policyflow.core.assessment import AnswerField, AssessmentDefinition
from policyflow.core.errors import Conflict, InvalidInput, InvalidValue, PolicyflowError
from policyflow.core.readability import TARGET_GRADE
from policyflow.core.redline import inline_html
from policyflow.models import Review
from policyflow.services import equity, reviews
from policyflow.web.errors import problem
from policyflow.web.pages import blueprint, staff_required
from policyflow.web.requests import actor, db

FIELDS_MARKER = "_fields"  # names the choice questions in the form, so "nothing chosen" is told from "not in the form"


def _now() -> datetime:
    return current_app.config["CLOCK"]()


def _folder() -> Any:
    return current_app.config["POLICYFLOW_SETTINGS"].workflows_dir


def answers_from_form(definition: AssessmentDefinition, form: MultiDict[str, str]) -> dict[str, Any]:
    """The answers a submitted form holds: text boxes as typed, choices (none chosen: cleared)."""
    present = set(form.getlist(FIELDS_MARKER))
    answers: dict[str, Any] = {}
    for item in definition.fields():
        kind = item.question.type
        if kind == "multi_choice":
            if item.key in present:
                answers[item.key] = form.getlist(item.key)
        elif kind == "choice":
            if item.key in present or item.key in form:
                answers[item.key] = form.get(item.key) or None
        elif item.key in form:
            answers[item.key] = form.get(item.key, "").replace("\r\n", "\n")
    return answers


def render_assessment(state: equity.AssessmentState, *, error: str | None = None, status: int = 200,
                      values: dict[str, Any] | None = None, revision: int | None = None,
                      problems: list[dict[str, Any]] | None = None, conflicts: list[dict[str, Any]] | None = None,
                      explanation: str | None = None) -> tuple[str, int]:
    """The assessment page; after a refused save, ``values`` are what the writer sent, kept for them."""
    review = state.review
    comparison = equity.changes_since_assessment(db(), actor(), state)
    workflow = reviews.definition_of(review)
    return render_template(
        "reviews/equity.html", state=state, review=review, definition=state.definition,
        stage=workflow.stage(review.state), values=values if values is not None else state.answers,
        revision=state.revision if revision is None else revision, error=error,
        problems={p["question"]: p["message"] for p in problems or ()},
        conflicts={c["question"]: c for c in conflicts or ()},
        reading=equity.plain_language(db(), actor(), review), target_grade=TARGET_GRADE,
        comparison=comparison, redline=inline_html(comparison.ops) if comparison else None,
        explanation=explanation, field_of=lambda key: state.definition.field(key),
        autosave_url=url_for("pages.equity_autosave", review_id=review.id),
    ), status


@blueprint.route("/reviews/<int:review_id>/equity-assessment")
@staff_required
def equity_assessment(review_id: int) -> tuple[str, int]:
    return render_assessment(equity.get(db(), actor(), review_id, folder=_folder()))


def _form_revision() -> int:
    raw = request.form.get("revision", "")
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput("The form is missing its revision; reload the page and try again.") from None


@blueprint.route("/reviews/<int:review_id>/equity-assessment", methods=["POST"])
@staff_required
def equity_save(review_id: int) -> Response | tuple[str, int]:
    """Saving without the script: the whole form, merged like an autosave."""
    state = equity.get(db(), actor(), review_id, folder=_folder())
    answers = answers_from_form(state.definition, request.form)
    revision = _form_revision()
    try:
        equity.save_answers(db(), actor(), review_id, answers, revision, folder=_folder(), now=_now())
    except Conflict as error:
        db().rollback()
        state = equity.get(db(), actor(), review_id, folder=_folder())
        if "conflicts" not in error.extra:
            return render_assessment(state, error=error.message, status=error.status)
        # Their answers stand; the writer's own changes stay in the form, to compare and save again.
        values = {**state.answers, **error.extra.get("yours", {})}
        return render_assessment(state, error=error.message, status=409, values=values,
                                 revision=error.extra["revision"], conflicts=error.extra["conflicts"])
    except InvalidValue as error:
        db().rollback()
        state = equity.get(db(), actor(), review_id, folder=_folder())
        return render_assessment(state, error=error.message, status=error.status, values={**state.answers, **answers},
                                 revision=revision, problems=error.extra.get("problems"))
    except PolicyflowError as error:
        db().rollback()
        return render_assessment(equity.get(db(), actor(), review_id, folder=_folder()), error=error.message,
                                 status=error.status)
    flash("Your answers are saved.", "success")
    return redirect(url_for("pages.equity_assessment", review_id=review_id))


def _missing_json(items: list[AnswerField]) -> list[dict[str, str]]:
    return [{"question": item.key, "label": item.title, "field": item.html_id} for item in items]


@blueprint.route("/reviews/<int:review_id>/equity-assessment/autosave", methods=["POST"])
@staff_required
def equity_autosave(review_id: int) -> Response:
    """The page script's autosave: JSON ``{answers, revision}`` with the CSRF token in a header."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("answers"), dict):
        return problem(400, "invalid-input", "Invalid input", "Send {\"answers\": {...}, \"revision\": N} as JSON.")
    try:
        state = equity.save_answers(db(), actor(), review_id, body["answers"], body.get("revision"), folder=_folder(),
                                    now=_now())
    except PolicyflowError as error:
        db().rollback()
        return problem(error.status, error.slug, error.title, error.message, **error.extra)
    return jsonify({"revision": state.revision, "status": state.status, "missing": _missing_json(state.missing),
                    "saved_at": _now().isoformat()})


def _refused(review_id: int, error: PolicyflowError, *, explanation: str | None = None) -> tuple[str, int]:
    db().rollback()
    state = equity.get(db(), actor(), review_id, folder=_folder())
    return render_assessment(state, error=error.message, status=error.status, explanation=explanation)


@blueprint.route("/reviews/<int:review_id>/equity-assessment/complete", methods=["POST"])
@staff_required
def equity_complete(review_id: int) -> Response | tuple[str, int]:
    try:
        state = equity.complete(db(), actor(), review_id, now=_now())
    except PolicyflowError as error:
        return _refused(review_id, error)
    flash(f"The equity assessment is marked complete for version {state.assessed_version}.", "success")
    return redirect(url_for("pages.equity_assessment", review_id=review_id))


@blueprint.route("/reviews/<int:review_id>/equity-assessment/reopen", methods=["POST"])
@staff_required
def equity_reopen(review_id: int) -> Response | tuple[str, int]:
    try:
        equity.reopen(db(), actor(), review_id, now=_now())
    except PolicyflowError as error:
        return _refused(review_id, error)
    flash("The equity assessment is open for changes again. Mark it complete when you are done.", "success")
    return redirect(url_for("pages.equity_assessment", review_id=review_id))


@blueprint.route("/reviews/<int:review_id>/equity-assessment/explanation", methods=["POST"])
@staff_required
def equity_explain(review_id: int) -> Response | tuple[str, int]:
    text = request.form.get("explanation", "")
    try:
        equity.explain_changes(db(), actor(), review_id, text, now=_now())
    except PolicyflowError as error:
        return _refused(review_id, error, explanation=text)
    flash("Your explanation of what changed after the equity review is saved.", "success")
    return redirect(url_for("pages.equity_assessment", review_id=review_id))


# ---------------------------------------------------------------------------------------------
# The box on the review page, and the public assessment
# ---------------------------------------------------------------------------------------------

@blueprint.app_template_global()
def equity_summary(review: Review) -> equity.AssessmentState | None:
    """The review's assessment for its page; None when its workflow has no equity review and none exists."""
    state = equity.get(db(), actor(), review.id, folder=_folder())
    if state.assessment is None and not any(s.name == "equity_review" for s in reviews.definition_of(review).stages):
        return None
    return state


@blueprint.app_template_global()
def equity_unmet(review: Review) -> str | None:
    return equity.unmet_reason(db(), review)


@blueprint.app_template_global()
def equity_is_public(review: Review) -> bool:
    return equity.is_public(db(), review)


@blueprint.route("/public/reviews/<int:review_id>/equity-assessment")
def public_equity_assessment(review_id: int) -> str:
    state = equity.published(db(), review_id)
    return render_template("public/equity.html", state=state, review=state.review, definition=state.definition,
                           values=state.answers)
