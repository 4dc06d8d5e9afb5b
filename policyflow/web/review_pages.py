"""Pages for reviews: start one from a policy, follow its stages, take the next action."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from policyflow.core.conditions import CONDITIONS
from policyflow.core.diagram import workflow_svg
from policyflow.core.errors import InvalidValue, NotFound, PolicyflowError
from policyflow.core.workflow import to_mermaid
from policyflow.models import Review
from policyflow.services import annotations, concerns, decisions, policies, reviews
from policyflow.web.fragments import cached_section
from policyflow.web.pages import blueprint, editor_required, staff_required
from policyflow.web.requests import actor, db, form_date


def _now() -> Any:
    return current_app.config["CLOCK"]()


def anchor_health_section(review: Review) -> str:
    """The anchor-health box, rendered once per (policy notes stamp, version, visibilities the reader may read)."""
    policy, current = review.policy, actor()
    key = ("anchor-health", policy.id, policy.notes_stamp, review.version_number,
           annotations.reader_class(current).readable)
    return cached_section(key, lambda: render_template("reviews/_anchor_health.html", review=review,
                                                       health=anchor_health(review)))


def anchor_health(review: Review) -> dict[str, Any]:
    """How the notes of earlier versions landed on the version under review."""
    current = actor()
    placed = [p for p in annotations.on_version(db(), current, review.policy, review.version_number) if p.status != "original"]
    if not placed:
        return {"total": 0}
    text = policies.version_text(db(), review.policy, policies.get_version(db(), current, review.policy, review.version_number))
    counts = {status: sum(1 for p in placed if p.status == status) for status in ("exact", "moved", "edited", "orphaned")}
    return {
        "total": len(placed), "counts": counts,
        "edited": [(p, text[p.start:p.end]) for p in placed if p.status == "edited" and p.start is not None],
        "orphaned": [p for p in placed if p.status == "orphaned"],
    }


def decision_panel(review: Review) -> dict[str, Any] | None:
    """The quorum, the decision record and what the signed-in person may do; None without a deciding stage."""
    stage = decisions.deciding_stage(review)
    if stage is None or stage.approval is None:
        return None
    session, current = db(), actor()
    may, why_not = decisions.may_decide(session, current, review)
    recused = {r.user_id for r in decisions.recusals(session, review)}
    return {
        "stage": stage, "rule": stage.approval, "quorum": decisions.quorum(session, review),
        "history": decisions.history(session, current, review), "recusals": decisions.recusals(session, review),
        "may_decide": may, "why_not": why_not, "labels": decisions.DECISION_LABELS,
        "may_recuse": (current.user is not None and "leadership" in current.roles and "ombuds" not in current.roles
                       and current.user.id not in recused and review.ended_at is None),
        "author_id": decisions.version_author_id(session, review),
    }


def render_review(review: Review, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    definition = reviews.definition_of(review)
    panel = decision_panel(review)
    return render_template(
        "reviews/show.html", review=review, definition=definition,
        stage=definition.stage(review.state), actions=reviews.available_actions(db(), actor(), review, _now()),
        error=error, now=_now(), health=anchor_health_section(review), decisions=panel,
        publish_action=panel["rule"].publish_action if panel else "publish",
    ), status


@blueprint.route("/policies/<code>/reviews", methods=["POST"])
@editor_required
def start_review(code: str) -> Response | tuple[str, int]:
    policy = policies.get_policy(db(), actor(), code)
    definition = reviews.load_named_workflow(current_app.config["POLICYFLOW_SETTINGS"].workflows_dir,
                                             request.form.get("workflow", ""))
    review = reviews.start_review(db(), actor(), policy, definition, comment_opens_on=form_date("comment_opens_on"),
                                  comment_closes_on=form_date("comment_closes_on"),
                                  legal_basis=request.form.get("legal_basis"), now=_now())
    chosen = request.form.getlist("concerns")
    if chosen:
        if not all(value.isdigit() for value in chosen):
            raise InvalidValue("Choose concerns from the list.")
        concerns.link_to_review(db(), actor(), review, [int(value) for value in chosen])
    flash(f"{definition.title} started on {policy.code} version {review.version_number}.", "success")
    return redirect(url_for("pages.review", review_id=review.id))


@blueprint.route("/reviews/<int:review_id>")
@staff_required
def review(review_id: int) -> tuple[str, int]:
    return render_review(reviews.get_review(db(), actor(), review_id))


@blueprint.route("/reviews/<int:review_id>/actions", methods=["POST"])
@staff_required
def review_action(review_id: int) -> Response | tuple[str, int]:
    action = request.form.get("action", "")
    try:
        reviewed = reviews.perform_action(db(), actor(), review_id, action, request.form.get("note", ""),
                                          expected_state=request.form.get("expected_state") or None, now=_now(),
                                          effective_date=form_date("effective_date"))
    except PolicyflowError as error:
        db().rollback()
        return render_review(reviews.get_review(db(), actor(), review_id), error=error.message, status=error.status)
    stage = reviews.definition_of(reviewed).stage(reviewed.state)
    flash(f"Done: the review is now in {stage.label.lower()}.", "success")
    return redirect(url_for("pages.review", review_id=review_id))


@blueprint.route("/reviews/<int:review_id>/decisions", methods=["POST"])
@staff_required
def review_decision(review_id: int) -> Response | tuple[str, int]:
    try:
        record = decisions.decide(db(), actor(), review_id, decision=request.form.get("decision", ""),
                                  version=request.form.get("version", ""), note=request.form.get("note", ""),
                                  effective_date=form_date("effective_date"), now=_now())
    except PolicyflowError as error:
        db().rollback()
        return render_review(reviews.get_review(db(), actor(), review_id), error=error.message, status=error.status)
    review = reviews.get_review(db(), actor(), review_id)
    stage = reviews.definition_of(review).stage(review.state)
    flash(f"Your decision on version {record.version_number} is recorded: {decisions.DECISION_LABELS[record.decision].lower()}. "
          f"The review is in {stage.label.lower()}.", "success")
    return redirect(url_for("pages.review", review_id=review_id) + "#decisions-heading")


@blueprint.route("/reviews/<int:review_id>/recusals", methods=["POST"])
@staff_required
def review_recusal(review_id: int) -> Response | tuple[str, int]:
    try:
        decisions.recuse(db(), actor(), review_id, request.form.get("reason", ""), now=_now())
    except PolicyflowError as error:
        db().rollback()
        return render_review(reviews.get_review(db(), actor(), review_id), error=error.message, status=error.status)
    flash("Your recusal is recorded. You no longer decide in this review and do not count toward its approvals.", "success")
    return redirect(url_for("pages.review", review_id=review_id) + "#decisions-heading")


@blueprint.route("/reviews/<int:review_id>/schedule", methods=["POST"])
@editor_required
def review_schedule(review_id: int) -> Response | tuple[str, int]:
    current = reviews.get_review(db(), actor(), review_id)
    try:
        reviews.schedule(db(), actor(), current, comment_opens_on=form_date("comment_opens_on"),
                         comment_closes_on=form_date("comment_closes_on"), legal_basis=request.form.get("legal_basis"))
    except PolicyflowError as error:
        db().rollback()
        return render_review(reviews.get_review(db(), actor(), review_id), error=error.message, status=error.status)
    flash("Review dates saved.", "success")
    return redirect(url_for("pages.review", review_id=review_id))


@blueprint.route("/workflows/<name>")
@staff_required
def workflow(name: str) -> str:
    review_id = request.args.get("review", type=int)
    current_review = reviews.get_review(db(), actor(), review_id) if review_id else None
    if current_review is not None:
        definition = reviews.definition_of(current_review)  # the definition the review runs on
    else:
        try:
            definition = reviews.load_named_workflow(current_app.config["POLICYFLOW_SETTINGS"].workflows_dir, name)
        except InvalidValue as unknown:
            raise NotFound(unknown.message) from None
    current = current_review.state if current_review else None
    return render_template("workflows/show.html", definition=definition, review=current_review,
                           svg=workflow_svg(definition, current), mermaid=to_mermaid(definition, current),
                           conditions=CONDITIONS)
