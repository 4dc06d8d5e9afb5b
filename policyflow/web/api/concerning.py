"""API for concerns, ombuds staff only: ``GET|POST /api/v1/concerns``, ``GET /api/v1/concerns/{id}``.

Every other role gets 403 on the list and 404 on a concern (its existence is confidential too). A
concern's identity and working notes appear only for the staff member handling it and the ombuds lead.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for

from policyflow.core.errors import InvalidValue, PermissionDenied
from policyflow.models import Concern
from policyflow.services import concerns, equity
from policyflow.web.api import _date_field, _require_user, blueprint
from policyflow.web.requests import actor, db, json_body, vocabularies


def concern_json(concern: Concern, view: concerns.ConcernView | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": concern.id, "received_on": concern.received_on.isoformat(), "channel": concern.channel,
        "raised_by": concern.raised_by, "summary": concern.summary, "themes": list(concern.themes or []),
        "subgroups": list(concern.subgroups or []), "school_or_department": concern.school_or_department,
        "status": concern.status, "outcome": concern.outcome, "handler": concern.handler.username,
        "policies": [{"code": link.policy.code, "version": link.version_number, "passage": link.exact} for link in concern.links],
        "closed_at": concern.closed_at.isoformat() if concern.closed_at else None,
        "notes_deleted_at": concern.notes_purged_at.isoformat() if concern.notes_purged_at else None,
        "url": url_for("pages.concern_detail", concern_id=concern.id),
    }
    if view is not None:
        data["sealed"] = view.sealed
        if not view.sealed:
            data["identity"] = ({"name": view.identity.name, "contact": view.identity.contact} if view.identity else None)
            data["notes"] = [{"by": n.author.username, "at": n.created_at.isoformat(), "body": n.body} for n in view.notes]
        data["consents"] = [{"id": c.id, "what": c.what, "with_whom": c.with_whom, "given_on": c.given_on.isoformat(),
                             "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None} for c in view.consents]
    return data


def _require_ombuds() -> None:
    _require_user()
    if not concerns.is_ombuds(actor()):
        raise PermissionDenied("Concerns are for ombuds staff only: the office hears them in confidence.")


@blueprint.get("/concerns")
def list_concerns() -> dict[str, Any]:
    _require_ombuds()
    items = concerns.list_concerns(db(), actor(), status=request.args.get("status", ""), theme=request.args.get("theme", ""),
                                   subgroup=request.args.get("subgroup", ""), policy_code=request.args.get("policy", ""),
                                   q=request.args.get("q", ""))
    return {"items": [concern_json(c) for c in items], "total": len(items)}


@blueprint.get("/concerns/<int:concern_id>")
def get_concern(concern_id: int) -> dict[str, Any]:
    _require_user()
    view = concerns.get(db(), actor(), concern_id)  # 404 for anyone but ombuds staff
    return concern_json(view.concern, view)


@blueprint.post("/concerns")
def record_concern() -> tuple[dict[str, Any], int, dict[str, str]]:
    _require_ombuds()
    body = json_body()
    links = []
    for item in body.get("policies") or []:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            raise InvalidValue("Each entry of 'policies' is an object with a 'code' (and optionally 'version', 'start', 'end').")
        for key in ("version", "start", "end"):
            if item.get(key) is not None and (isinstance(item[key], bool) or not isinstance(item[key], int)):
                raise InvalidValue(f"'{key}' in 'policies' must be a whole number.")
        links.append(concerns.PolicyLink(item["code"], item.get("version"), item.get("start"), item.get("end")))
    definition = equity.current_definition(current_app.config["POLICYFLOW_SETTINGS"].workflows_dir)
    concern = concerns.record(
        db(), actor(), received_on=_date_field(body, "received_on"), channel=body.get("channel"), raised_by=body.get("raised_by"),
        summary=body.get("summary"), themes=body.get("themes") or [], subgroups=body.get("subgroups") or [],
        school_or_department=body.get("school_or_department"), name=body.get("name"), contact=body.get("contact"), links=links,
        allowed_themes=vocabularies().concern_themes, allowed_subgroups=dict(definition.question("groups").options),
        now=current_app.config["CLOCK"]())
    view = concerns.get(db(), actor(), concern.id)
    return concern_json(concern, view), 201, {"Location": url_for("api.get_concern", concern_id=concern.id)}
