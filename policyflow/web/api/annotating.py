"""API for annotations: list and create on a version, reply, resolve, edit, delete, W3C export."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from werkzeug.wrappers import Response

from policyflow.core.errors import InvalidValue
from policyflow.core.rendering import render_markdown
from policyflow.models import Annotation, Policy
from policyflow.services import annotations, policies
from policyflow.services.annotations import CONTEXT_CHARS, Placed
from policyflow.web.api import _require_user, blueprint
from policyflow.web.requests import actor, db, json_body, json_field, query_int, vocabularies

JSONLD_PAGE_SIZE = 100


def _base_url() -> str:
    return current_app.config["POLICYFLOW_SETTINGS"].base_url


def _selectors(text: str, start: int, end: int) -> dict[str, Any]:
    return {"exact": text[start:end], "prefix": text[max(0, start - CONTEXT_CHARS):start],
            "suffix": text[end:end + CONTEXT_CHARS], "start": start, "end": end}


def annotation_json(item: Placed, text: str) -> dict[str, Any]:
    note: Annotation = item.annotation
    return {
        "id": note.id,
        "policy": note.policy.code,
        "version": note.version_number,
        "target": {"exact": note.exact, "prefix": note.prefix, "suffix": note.suffix, "start": note.start, "end": note.end},
        "placement": {
            "version": item.version_number, "status": "exact" if item.status == "original" else item.status,
            "original": item.status == "original", "score": item.score, "start": item.start, "end": item.end,
            "exact": text[item.start:item.end] if item.start is not None and item.end is not None else None,
        },
        "body": note.body,
        "body_html": render_markdown(note.body),
        "tags": list(note.tags or []),
        "visibility": note.visibility,
        "status": note.status,
        "blocking": note.blocking,
        "author": note.author.display_name if note.author else "policyflow",
        "created_at": note.created_at.isoformat(),
        "updated_at": note.updated_at.isoformat(),
        "replies": [{"id": r.id, "body": r.body, "author": r.author.display_name if r.author else "policyflow",
                     "created_at": r.created_at.isoformat()} for r in note.replies if r.deleted_at is None],
    }


def _version_and_text(policy: Policy, number: int) -> str:
    version = policies.get_version(db(), actor(), policy, number)
    return policies.version_text(db(), policy, version)


def _listing(code: str, number: int) -> dict[str, Any]:
    policy = policies.get_policy(db(), actor(), code)
    text = _version_and_text(policy, number)
    items = [annotation_json(item, text) for item in annotations.on_version(db(), actor(), policy, number)]
    return {"items": items, "total": len(items), "policy": policy.code, "version": number}


@blueprint.get("/policies/<code>/versions/<int:number>/annotations")
def version_annotations(code: str, number: int) -> dict[str, Any]:
    return _listing(code, number)


@blueprint.get("/policies/<code>/annotations")
def policy_annotations(code: str) -> dict[str, Any]:
    policy = policies.get_policy(db(), actor(), code)
    number = query_int("version", policy.head_version_number)
    return _listing(code, number)


@blueprint.post("/policies/<code>/versions/<int:number>/annotations")
def create_annotation(code: str, number: int) -> tuple[dict[str, Any], int]:
    _require_user()
    policy = policies.get_policy(db(), actor(), code)
    body = json_body()
    target = json_field(body, "target", dict)
    tags = body.get("tags") or []
    if not isinstance(tags, list):
        raise InvalidValue("The field 'tags' must be a list of words.")
    blocking = body.get("blocking", False)
    if not isinstance(blocking, bool):
        raise InvalidValue("The field 'blocking' must be true or false.")
    note = annotations.create(db(), actor(), policy, number, target=target, body=json_field(body, "body", str),
                              visibility=json_field(body, "visibility", str, required=False, default="internal"),
                              tags=tags, blocking=blocking, allowed_tags=vocabularies().annotation_tags)
    text = _version_and_text(policy, number)
    return annotation_json(Placed(note, number, "original", note.start, note.end, 1.0), text), 201


def _one(annotation_id: int) -> dict[str, Any]:
    note = annotations.get(db(), actor(), annotation_id)
    text = _version_and_text(note.policy, note.version_number)
    return annotation_json(Placed(note, note.version_number, "original", note.start, note.end, 1.0), text)


@blueprint.get("/annotations/<int:annotation_id>")
def get_annotation(annotation_id: int) -> dict[str, Any]:
    _require_user()
    return _one(annotation_id)


@blueprint.post("/annotations/<int:annotation_id>/replies")
def reply_annotation(annotation_id: int) -> tuple[dict[str, Any], int]:
    _require_user()
    annotations.reply(db(), actor(), annotation_id, json_field(json_body(), "body", str))
    return _one(annotation_id), 201


@blueprint.patch("/annotations/<int:annotation_id>")
def change_annotation(annotation_id: int) -> dict[str, Any]:
    _require_user()
    body = json_body()
    if "body" in body:
        annotations.edit(db(), actor(), annotation_id, json_field(body, "body", str))
    if "status" in body:
        annotations.set_status(db(), actor(), annotation_id, json_field(body, "status", str))
    return _one(annotation_id)


@blueprint.post("/annotations/<int:annotation_id>/placements")
def reattach_annotation(annotation_id: int) -> dict[str, Any]:
    """Confirm a carried note's placement on a version ({version}) or point it at new words ({version, start, end})."""
    _require_user()
    body = json_body()
    number = json_field(body, "version", int)
    start, end = json_field(body, "start", int, required=False), json_field(body, "end", int, required=False)
    if (start is None) != (end is None):
        raise InvalidValue("Give both 'start' and 'end', or neither to confirm the placement as it is.")
    annotations.reattach(db(), actor(), annotation_id, number, start=start, end=end)
    note = annotations.get(db(), actor(), annotation_id)
    placed = next(item for item in annotations.on_version(db(), actor(), note.policy, number) if item.annotation.id == note.id)
    return annotation_json(placed, _version_and_text(note.policy, number))


@blueprint.delete("/annotations/<int:annotation_id>")
def delete_annotation(annotation_id: int) -> tuple[str, int]:
    _require_user()
    annotations.delete(db(), actor(), annotation_id)
    return "", 204


def _w3c(item: Placed, policy: Policy, text: str, base: str) -> dict[str, Any]:
    note = item.annotation
    annotation: dict[str, Any] = {
        "id": f"{base}/api/v1/annotations/{note.id}",
        "type": "Annotation",
        "motivation": "commenting",
        "created": note.created_at.isoformat(),
        "modified": note.updated_at.isoformat(),
        "creator": {"type": "Person", "name": note.author.display_name if note.author else "policyflow"},
        "body": {"type": "TextualBody", "value": note.body, "format": "text/markdown", "purpose": "commenting"},
        "target": {"source": f"{base}/policies/{policy.code}/versions/{item.version_number}", "type": "Text",
                   "format": "text/markdown"},
    }
    if item.start is not None and item.end is not None:
        quote = _selectors(text, item.start, item.end)
        annotation["target"]["selector"] = [
            {"type": "TextQuoteSelector", "exact": quote["exact"], "prefix": quote["prefix"], "suffix": quote["suffix"]},
            {"type": "TextPositionSelector", "start": item.start, "end": item.end},
        ]
    if note.tags:
        annotation["body"] = [annotation["body"], *({"type": "TextualBody", "value": tag, "purpose": "tagging"}
                                                    for tag in note.tags)]
    return annotation


@blueprint.get("/policies/<code>/annotations.jsonld")
def annotations_jsonld(code: str) -> Response:
    policy = policies.get_policy(db(), actor(), code)
    number = query_int("version", policy.head_version_number)
    text = _version_and_text(policy, number)
    base = _base_url()
    items = [item for item in annotations.on_version(db(), actor(), policy, number) if item.start is not None]
    collection_id = f"{base}/api/v1/policies/{policy.code}/annotations.jsonld?version={number}"
    pages = max(1, -(-len(items) // JSONLD_PAGE_SIZE))

    def page_document(index: int) -> dict[str, Any]:
        chunk = items[(index - 1) * JSONLD_PAGE_SIZE:index * JSONLD_PAGE_SIZE]
        page: dict[str, Any] = {"id": f"{collection_id}&page={index}", "type": "AnnotationPage", "partOf": collection_id,
                                "startIndex": (index - 1) * JSONLD_PAGE_SIZE,
                                "items": [_w3c(item, policy, text, base) for item in chunk]}
        if index < pages:
            page["next"] = f"{collection_id}&page={index + 1}"
        if index > 1:
            page["prev"] = f"{collection_id}&page={index - 1}"
        return page

    requested = request.args.get("page")
    if requested is not None:
        document = {"@context": "http://www.w3.org/ns/anno.jsonld", **page_document(query_int("page", 1, maximum=pages))}
    else:
        document = {"@context": "http://www.w3.org/ns/anno.jsonld", "id": collection_id, "type": "AnnotationCollection",
                    "label": f"Notes on {policy.code} version {number}", "total": len(items),
                    "first": page_document(1), "last": f"{collection_id}&page={pages}"}
    response = current_app.response_class(current_app.json.dumps(document), mimetype="application/ld+json")
    response.headers["Content-Type"] = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
    return response
