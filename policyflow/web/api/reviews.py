"""API for reviews: start, list, read with available actions, act, schedule; and audit events."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from sqlalchemy import select

from policyflow.core.errors import InvalidValue, PermissionDenied
from policyflow.models import Decision, Event, Review
from policyflow.services import decisions, policies, reviews
from policyflow.web.api import _date_field, _require_user, blueprint
from policyflow.web.requests import actor, db, json_body, json_field


def review_json(review: Review) -> dict[str, Any]:
    definition = reviews.definition_of(review)
    stage = definition.stage(review.state)
    return {
        "id": review.id,
        "policy": review.policy.code,
        "workflow": review.workflow_name,
        "workflow_hash": review.workflow_hash,
        "state": review.state,
        "stage_label": stage.label,
        "final": stage.final,
        "version": review.version_number,
        "started_at": review.started_at.isoformat(),
        "stage_entered_at": review.stage_entered_at.isoformat(),
        "stage_due_at": review.stage_due_at.isoformat() if review.stage_due_at else None,
        "ended_at": review.ended_at.isoformat() if review.ended_at else None,
        "comment_opens_on": review.comment_opens_on.isoformat() if review.comment_opens_on else None,
        "comment_closes_on": review.comment_closes_on.isoformat() if review.comment_closes_on else None,
        "legal_basis": review.legal_basis,
        "available_actions": [status.as_dict() for status in reviews.available_actions(db(), actor(), review)],
        "timeline": [
            {"action": t.action, "from": t.from_state, "to": t.to_state, "actor": t.actor, "note": t.note,
             "at": t.occurred_at.isoformat()}
            for t in review.transitions
        ],
        "approval": _approval_json(review),
        "url": url_for("pages.review", review_id=review.id),
    }


def decision_json(decision: Decision) -> dict[str, Any]:
    return {"id": decision.id, "review": decision.review_id, "decision": decision.decision, "user": decision.user.username,
            "name": decision.user.display_name, "position": decision.position, "version": decision.version_number,
            "sha256": decision.version_sha256, "note": decision.note or None, "decided_at": decision.decided_at.isoformat(),
            "dismissed_at": decision.dismissed_at.isoformat() if decision.dismissed_at else None,
            "dismissed_because": decision.dismissed_because}


def _approval_json(review: Review) -> dict[str, Any] | None:
    """The quorum, every decision (dismissed ones marked) and recusals; None for a workflow without decisions."""
    stage = decisions.deciding_stage(review)
    if stage is None or stage.approval is None:
        return None
    status = decisions.quorum(db(), review)
    return {
        "stage": stage.name, "min_approvals": stage.approval.min_approvals,
        "required_positions": list(stage.approval.required_positions), "publish_on_quorum": stage.approval.publish_on_quorum,
        "version": status.version_number, "sha256": status.sha256, "quorum_met": status.met, "shortfall": status.shortfall or None,
        "approved_by": [user.username for user in status.approvers],
        "decisions": [decision_json(d) for d in decisions.history(db(), actor(), review)],
        "recusals": [{"user": r.user.username, "name": r.user.display_name, "reason": r.reason,
                      "recused_at": r.recused_at.isoformat()} for r in decisions.recusals(db(), review)],
    }


@blueprint.post("/policies/<code>/reviews")
def start_review(code: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    _require_user()
    policy = policies.get_policy(db(), actor(), code)
    body = json_body()
    definition = reviews.load_named_workflow(current_app.config["POLICYFLOW_SETTINGS"].workflows_dir,
                                             json_field(body, "workflow", str))
    review = reviews.start_review(
        db(), actor(), policy, definition, comment_opens_on=_date_field(body, "comment_opens_on"),
        comment_closes_on=_date_field(body, "comment_closes_on"),
        legal_basis=json_field(body, "legal_basis", str, required=False), now=current_app.config["CLOCK"](),
    )
    return review_json(review), 201, {"Location": url_for("api.get_review", review_id=review.id)}


@blueprint.get("/reviews")
def list_reviews() -> dict[str, Any]:
    _require_user()
    items = reviews.list_reviews(db(), actor(), state=request.args.get("state", ""),
                                 policy_code=request.args.get("policy", ""))
    return {"items": [review_json(r) for r in items], "total": len(items)}


@blueprint.get("/reviews/<int:review_id>")
def get_review(review_id: int) -> dict[str, Any]:
    _require_user()
    return review_json(reviews.get_review(db(), actor(), review_id))


@blueprint.patch("/reviews/<int:review_id>")
def schedule_review(review_id: int) -> dict[str, Any]:
    _require_user()
    body = json_body()
    review = reviews.get_review(db(), actor(), review_id)
    # PATCH: a field left out keeps its value; null clears it.
    reviews.schedule(
        db(), actor(), review,
        comment_opens_on=_date_field(body, "comment_opens_on") if "comment_opens_on" in body else review.comment_opens_on,
        comment_closes_on=_date_field(body, "comment_closes_on") if "comment_closes_on" in body else review.comment_closes_on,
        legal_basis=json_field(body, "legal_basis", str, required=False) if "legal_basis" in body else review.legal_basis,
    )
    return review_json(review)


@blueprint.post("/reviews/<int:review_id>/actions")
def act(review_id: int) -> dict[str, Any]:
    _require_user()
    body = json_body()
    review = reviews.perform_action(db(), actor(), review_id, json_field(body, "action", str),
                                    json_field(body, "note", str, required=False, default=""),
                                    expected_state=json_field(body, "expected_state", str, required=False),
                                    now=current_app.config["CLOCK"](), effective_date=_date_field(body, "effective_date"))
    return review_json(review)


@blueprint.post("/reviews/<int:review_id>/decisions")
def decide(review_id: int) -> tuple[dict[str, Any], int]:
    """A leader's decision on the version they read: 409 when that is not the version under review."""
    _require_user()
    body = json_body()
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int | None):
        raise InvalidValue("The field 'version' must be a whole number: the version you read.")
    record = decisions.decide(db(), actor(), review_id, decision=json_field(body, "decision", str), version=version,
                              note=json_field(body, "note", str, required=False, default=""),
                              effective_date=_date_field(body, "effective_date"), now=current_app.config["CLOCK"]())
    return {**decision_json(record), "review_state": reviews.get_review(db(), actor(), review_id).state}, 201


@blueprint.get("/reviews/<int:review_id>/decisions")
def list_decisions(review_id: int) -> dict[str, Any]:
    _require_user()
    review = reviews.get_review(db(), actor(), review_id)
    items = [decision_json(d) for d in decisions.history(db(), actor(), review)]
    return {"items": items, "total": len(items)}


@blueprint.post("/reviews/<int:review_id>/recusals")
def recuse(review_id: int) -> tuple[dict[str, Any], int]:
    """A leader declares a conflict of interest in the review."""
    _require_user()
    body = json_body()
    recusal = decisions.recuse(db(), actor(), review_id, json_field(body, "reason", str), now=current_app.config["CLOCK"]())
    return {"review": review_id, "user": recusal.user.username, "reason": recusal.reason,
            "recused_at": recusal.recused_at.isoformat()}, 201


@blueprint.get("/policies/<code>/events")
def policy_events(code: str) -> dict[str, Any]:
    _require_user()
    policy = policies.get_policy(db(), actor(), code)
    if not actor().is_staff:
        raise PermissionDenied("The audit trail is for district staff.")
    rows = db().scalars(select(Event).where(Event.policy_id == policy.id).order_by(Event.seq)).all()
    items = [{"seq": e.seq, "at": e.occurred_at.isoformat(), "actor": e.actor, "action": e.action,
              "subject": e.subject, "data": e.data, "hash": e.hash, "prev_hash": e.prev_hash} for e in rows]
    return {"items": items, "total": len(items)}
