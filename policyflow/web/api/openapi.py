"""The OpenAPI 3.1 description of the API; tests validate real responses against it."""

from __future__ import annotations

from typing import Any

from policyflow import __version__

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {"description": "Problem", "content": {"application/problem+json": {"schema": _ref("Problem")}}}
        for status in statuses
    }


_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}, "example": "JFABD"}
_NUMBER = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "current_version": {"type": "integer"}, "base_version": {"type": "integer"},
            "unmet_conditions": {"type": "array", "items": {"type": "string"}},
            "problems": {"type": "array", "description": "Equity assessment answers that are not valid (422).",
                         "items": {"type": "object", "required": ["question", "label", "message"]}},
            "conflicts": {"type": "array", "description": "Equity assessment answers someone else changed since your "
                                                          "revision (409), with their current value.",
                          "items": {"type": "object", "required": ["question", "label", "current", "changed_by", "changed_at"]}},
            "missing": {"type": "array", "description": "Required equity assessment answers still missing (409 on complete).",
                        "items": {"type": "object", "required": ["question", "label"]}},
            "revision": {"type": "integer", "description": "The equity assessment's current revision (409)."},
        },
    },
    "Token": {
        "type": "object", "required": ["token", "id", "name", "prefix"],
        "properties": {"token": {"type": "string"}, "id": {"type": "integer"}, "name": {"type": "string"},
                       "prefix": {"type": "string"}},
    },
    "TokenList": {
        "type": "object", "required": ["items", "total"],
        "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": {
            "type": "object", "required": ["id", "name", "prefix", "created_at", "revoked"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "prefix": {"type": "string"},
                           "created_at": {"type": "string", "format": "date-time"}, "revoked": {"type": "boolean"}}}}},
    },
    "Policy": {
        "type": "object",
        "required": ["code", "title", "section", "owner_department", "head_version", "published_version", "stage",
                     "effective_date", "next_review_date", "updated_at", "url"],
        "properties": {
            "code": {"type": "string"}, "title": {"type": "string"}, "section": {"type": "string"},
            "owner_department": {"type": "string"}, "head_version": {"type": "integer"},
            "published_version": _NULLABLE_INT, "stage": {"type": "string", "enum": ["draft", "published"]},
            "effective_date": _NULLABLE_STRING, "next_review_date": _NULLABLE_STRING,
            "updated_at": {"type": "string", "format": "date-time"}, "url": {"type": "string"},
        },
    },
    "PolicyList": {
        "type": "object", "required": ["items", "total", "page", "page_size", "pages"],
        "properties": {"items": {"type": "array", "items": _ref("Policy")}, "total": {"type": "integer"},
                       "page": {"type": "integer"}, "page_size": {"type": "integer"}, "pages": {"type": "integer"}},
    },
    "NewPolicy": {
        "type": "object", "required": ["code", "title", "text"],
        "properties": {"code": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"},
                       "title": {"type": "string"}, "text": {"type": "string"}, "summary": {"type": "string"},
                       "section": {"type": "string"}, "owner_department": {"type": "string"}},
    },
    "VersionSummary": {
        "type": "object",
        "required": ["policy", "number", "sha256", "summary", "author", "created_at", "published",
                     "words_inserted", "words_deleted", "length"],
        "properties": {
            "policy": {"type": "string"}, "number": {"type": "integer"}, "sha256": {"type": "string"},
            "summary": {"type": "string"}, "author": _NULLABLE_STRING,
            "created_at": {"type": "string", "format": "date-time"}, "published": {"type": "boolean"},
            "words_inserted": {"type": "integer"}, "words_deleted": {"type": "integer"}, "length": {"type": "integer"},
        },
    },
    "Version": {
        "allOf": [_ref("VersionSummary"), {"type": "object", "required": ["text", "html"],
                                           "properties": {"text": {"type": "string"}, "html": {"type": "string"}}}],
    },
    "SavedVersion": {
        "allOf": [_ref("VersionSummary"), {"type": "object", "required": ["created"],
                                           "properties": {"created": {"type": "boolean"}}}],
    },
    "VersionList": {
        "type": "object", "required": ["items", "total"],
        "properties": {"items": {"type": "array", "items": _ref("VersionSummary")}, "total": {"type": "integer"}},
    },
    "NewVersion": {
        "type": "object", "required": ["text", "base_version"],
        "properties": {"text": {"type": "string"}, "summary": {"type": "string"},
                       "base_version": {"type": "integer", "minimum": 0}},
    },
    "Diff": {
        "type": "object", "required": ["policy", "from", "to", "ops", "stats", "html"],
        "properties": {
            "policy": {"type": "string"}, "from": {"type": "integer"}, "to": {"type": "integer"},
            "ops": {"type": "array", "items": {"type": "array", "prefixItems": [
                {"type": "integer", "enum": [-1, 0, 1]}, {"type": "string"}], "minItems": 2, "maxItems": 2}},
            "stats": {"type": "object", "required": ["words_inserted", "words_deleted", "changes"],
                      "properties": {k: {"type": "integer"} for k in
                                     ("words_inserted", "words_deleted", "changes", "chars_inserted", "chars_deleted")}},
            "html": {"type": "string"},
        },
    },
    "ActionStatus": {
        "type": "object", "required": ["action", "label", "to", "allowed", "reasons", "roles", "note_required"],
        "properties": {"action": {"type": "string"}, "label": {"type": "string"}, "to": {"type": "string"},
                       "allowed": {"type": "boolean"}, "reasons": {"type": "array", "items": {"type": "string"}},
                       "roles": {"type": "array", "items": {"type": "string"}}, "note_required": {"type": "boolean"}},
    },
    "Review": {
        "type": "object",
        "required": ["id", "policy", "workflow", "workflow_hash", "state", "stage_label", "final", "version",
                     "started_at", "stage_entered_at", "stage_due_at", "ended_at", "available_actions", "timeline", "url"],
        "properties": {
            "id": {"type": "integer"}, "policy": {"type": "string"}, "workflow": {"type": "string"},
            "workflow_hash": {"type": "string"}, "state": {"type": "string"}, "stage_label": {"type": "string"},
            "final": {"type": "boolean"}, "version": {"type": "integer"},
            "started_at": {"type": "string"}, "stage_entered_at": {"type": "string"},
            "stage_due_at": _NULLABLE_STRING, "ended_at": _NULLABLE_STRING,
            "comment_opens_on": _NULLABLE_STRING, "comment_closes_on": _NULLABLE_STRING, "legal_basis": _NULLABLE_STRING,
            "available_actions": {"type": "array", "items": _ref("ActionStatus")},
            "timeline": {"type": "array", "items": {"type": "object", "required": ["to", "actor", "at"], "properties": {
                "action": _NULLABLE_STRING, "from": _NULLABLE_STRING, "to": {"type": "string"},
                "actor": {"type": "string"}, "note": _NULLABLE_STRING, "at": {"type": "string"}}}},
            "approval": {"oneOf": [{"type": "null"}, _ref("Approval")],
                         "description": "The quorum and every decision; null when the workflow takes no decisions."},
            "url": {"type": "string"},
        },
    },
    "Decision": {
        "type": "object",
        "description": "A leader's decision, bound to the version number and SHA-256 of the text read. A dismissed "
                       "decision (a new version, the same leader deciding again, or a recusal) no longer counts.",
        "required": ["id", "review", "decision", "user", "name", "position", "version", "sha256", "note", "decided_at",
                     "dismissed_at", "dismissed_because"],
        "properties": {
            "id": {"type": "integer"}, "review": {"type": "integer"},
            "decision": {"type": "string", "enum": ["approve", "request_changes", "reject"]},
            "user": {"type": "string"}, "name": {"type": "string"}, "position": _NULLABLE_STRING,
            "version": {"type": "integer"}, "sha256": {"type": "string"}, "note": _NULLABLE_STRING,
            "decided_at": {"type": "string"}, "dismissed_at": _NULLABLE_STRING,
            "dismissed_because": {"oneOf": [{"type": "null"}, {"type": "string", "enum": ["new_version", "superseded", "recused"]}]},
            "review_state": {"type": "string", "description": "The review's stage after the decision (on creation)"},
        },
    },
    "DecisionList": {
        "type": "object", "required": ["items", "total"],
        "properties": {"items": {"type": "array", "items": _ref("Decision")}, "total": {"type": "integer"}},
    },
    "Approval": {
        "type": "object",
        "required": ["stage", "min_approvals", "required_positions", "publish_on_quorum", "version", "sha256", "quorum_met",
                     "shortfall", "approved_by", "decisions", "recusals"],
        "properties": {
            "stage": {"type": "string"}, "min_approvals": {"type": "integer"},
            "required_positions": {"type": "array", "items": {"type": "string"}}, "publish_on_quorum": {"type": "boolean"},
            "version": {"type": "integer"}, "sha256": {"type": "string"}, "quorum_met": {"type": "boolean"},
            "shortfall": _NULLABLE_STRING, "approved_by": {"type": "array", "items": {"type": "string"}},
            "decisions": {"type": "array", "items": _ref("Decision")},
            "recusals": {"type": "array", "items": {"type": "object", "required": ["user", "name", "reason", "recused_at"],
                                                     "properties": {"user": {"type": "string"}, "name": {"type": "string"},
                                                                    "reason": {"type": "string"},
                                                                    "recused_at": {"type": "string"}}}},
        },
    },
    "ReviewList": {
        "type": "object", "required": ["items", "total"],
        "properties": {"items": {"type": "array", "items": _ref("Review")}, "total": {"type": "integer"}},
    },
    "EventList": {
        "type": "object", "required": ["items", "total"],
        "properties": {"total": {"type": "integer"}, "items": {"type": "array", "items": {
            "type": "object", "required": ["seq", "at", "actor", "action", "subject", "data", "hash", "prev_hash"],
            "properties": {"seq": {"type": "integer"}, "at": {"type": "string"}, "actor": {"type": "string"},
                           "action": {"type": "string"}, "subject": {"type": "string"}, "data": {"type": "object"},
                           "hash": {"type": "string"}, "prev_hash": {"type": "string"}}}}},
    },
}

SCHEMAS.update({
    "Annotation": {
        "type": "object",
        "required": ["id", "policy", "version", "target", "placement", "body", "body_html", "tags", "visibility", "status",
                     "blocking", "author", "created_at", "updated_at", "replies"],
        "properties": {
            "id": {"type": "integer"}, "policy": {"type": "string"}, "version": {"type": "integer"},
            "target": {"type": "object", "required": ["exact", "prefix", "suffix", "start", "end"]},
            "placement": {"type": "object", "required": ["version", "status", "original", "score", "start", "end"],
                          "properties": {"status": {"enum": ["exact", "moved", "edited", "orphaned"]},
                                         "start": _NULLABLE_INT, "end": _NULLABLE_INT, "score": {"type": "number"}}},
            "body": {"type": "string"}, "body_html": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "visibility": {"enum": ["confidential", "internal", "public"]}, "status": {"enum": ["open", "resolved"]},
            "blocking": {"type": "boolean"}, "author": {"type": "string"},
            "created_at": {"type": "string"}, "updated_at": {"type": "string"},
            "replies": {"type": "array", "items": {"type": "object", "required": ["id", "body", "author", "created_at"]}},
        },
    },
    "AnnotationList": {
        "type": "object", "required": ["items", "total", "policy", "version"],
        "properties": {"items": {"type": "array", "items": _ref("Annotation")}, "total": {"type": "integer"},
                       "policy": {"type": "string"}, "version": {"type": "integer"}},
    },
    "NewAnnotation": {
        "type": "object", "required": ["target", "body"],
        "properties": {
            "target": {"type": "object", "required": ["start", "end"],
                       "properties": {"exact": {"type": "string"}, "prefix": {"type": "string"}, "suffix": {"type": "string"},
                                      "start": {"type": "integer"}, "end": {"type": "integer"}}},
            "body": {"type": "string"}, "visibility": {"enum": ["confidential", "internal", "public"]},
            "tags": {"type": "array", "items": {"type": "string"}}, "blocking": {"type": "boolean"},
        },
    },
    "AnnotationCollection": {
        "type": "object", "required": ["@context", "type"],
        "properties": {"@context": {"const": "http://www.w3.org/ns/anno.jsonld"},
                       "type": {"enum": ["AnnotationCollection", "AnnotationPage"]}},
    },
})

_ANNOTATION_ID = {"name": "annotation_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_VERSION_QUERY = {"name": "version", "in": "query", "schema": {"type": "integer", "minimum": 1}}

ANNOTATION_PATHS: dict[str, Any] = {
    "/policies/{code}/versions/{number}/annotations": {
        "get": {"summary": "Notes on a version (made there or re-anchored there) that you may see",
                "parameters": [_CODE, _NUMBER],
                "responses": {"200": _json(_ref("AnnotationList"), "Notes"), **_problems(400, 401, 404, 422)}},
        "post": {"summary": "Annotate a passage of the version",
                 "parameters": [_CODE, _NUMBER],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewAnnotation")}}},
                 "responses": {"201": _json(_ref("Annotation"), "Created"), **_problems(400, 401, 403, 404, 422)}},
    },
    "/policies/{code}/annotations": {
        "get": {"summary": "Notes with their placement on a version (default: the newest)",
                "parameters": [_CODE, _VERSION_QUERY],
                "responses": {"200": _json(_ref("AnnotationList"), "Notes"), **_problems(400, 401, 404, 422)}},
    },
    "/policies/{code}/annotations.jsonld": {
        "get": {"summary": "W3C Web Annotation collection of the notes on a version",
                "parameters": [_CODE, _VERSION_QUERY, {"name": "page", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "AnnotationCollection (or AnnotationPage with ?page=)",
                                      "content": {"application/ld+json": {"schema": _ref("AnnotationCollection")}}},
                              **_problems(400, 401, 404, 422)}},
    },
    "/annotations/{annotation_id}": {
        "get": {"summary": "One note", "parameters": [_ANNOTATION_ID],
                "responses": {"200": _json(_ref("Annotation"), "The note"), **_problems(401, 404)}},
        "patch": {"summary": "Edit the body (author) or resolve/reopen (status)", "parameters": [_ANNOTATION_ID],
                  "requestBody": {"required": True, "content": {"application/json": {"schema": {
                      "type": "object", "properties": {"body": {"type": "string"}, "status": {"enum": ["open", "resolved"]}}}}}},
                  "responses": {"200": _json(_ref("Annotation"), "The note"), **_problems(400, 401, 403, 404, 422)}},
        "delete": {"summary": "Delete a note (kept in the audit trail)", "parameters": [_ANNOTATION_ID],
                   "responses": {"204": {"description": "Deleted"}, **_problems(401, 403, 404)}},
    },
    "/annotations/{annotation_id}/placements": {
        "post": {"summary": "Confirm or re-attach a carried note on a later version (author, ombuds)",
                 "parameters": [_ANNOTATION_ID],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["version"],
                     "properties": {"version": {"type": "integer"}, "start": {"type": "integer"}, "end": {"type": "integer"}}}}}},
                 "responses": {"200": _json(_ref("Annotation"), "The note as placed on that version"),
                               **_problems(400, 401, 403, 404, 422)}},
    },
    "/annotations/{annotation_id}/replies": {
        "post": {"summary": "Reply to a note", "parameters": [_ANNOTATION_ID],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["body"], "properties": {"body": {"type": "string"}}}}}},
                 "responses": {"201": _json(_ref("Annotation"), "The note with the reply"), **_problems(400, 401, 403, 404, 422)}},
    },
}

_REVIEW_ID = {"name": "review_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_DATES = {"comment_opens_on": {"type": ["string", "null"], "format": "date"},
          "comment_closes_on": {"type": ["string", "null"], "format": "date"},
          "legal_basis": {"type": ["string", "null"]}}

REVIEW_PATHS: dict[str, Any] = {
    "/policies/{code}/reviews": {
        "post": {
            "summary": "Start a review of the policy's newest version (ombuds, admin)",
            "parameters": [_CODE],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["workflow"],
                "properties": {"workflow": {"type": "string", "example": "standard-review"}, **_DATES}}}}},
            "responses": {"201": _json(_ref("Review"), "Started"), **_problems(400, 401, 403, 404, 409, 422)},
        },
    },
    "/reviews": {
        "get": {
            "summary": "Reviews (staff)",
            "parameters": [{"name": "state", "in": "query", "schema": {"type": "string"}},
                           {"name": "policy", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": _json(_ref("ReviewList"), "Reviews"), **_problems(401, 404)},
        },
    },
    "/reviews/{review_id}": {
        "get": {"summary": "A review with the actions available to the caller", "parameters": [_REVIEW_ID],
                "responses": {"200": _json(_ref("Review"), "The review"), **_problems(401, 404)}},
        "patch": {
            "summary": "Set the comment period and legal basis (ombuds, admin)", "parameters": [_REVIEW_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": _DATES}}}},
            "responses": {"200": _json(_ref("Review"), "Updated"), **_problems(400, 401, 403, 404, 409, 422)},
        },
    },
    "/reviews/{review_id}/actions": {
        "post": {
            "summary": "Perform a workflow action",
            "parameters": [_REVIEW_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["action"],
                "properties": {"action": {"type": "string"}, "note": {"type": "string"},
                               "expected_state": {"type": "string"},
                               "effective_date": {"type": "string", "format": "date",
                                                  "description": "Publishing only: when the text takes effect (today or later; "
                                                                 "default tomorrow)"}}}}}},
            "responses": {"200": _json(_ref("Review"), "The review in its new stage"),
                          **_problems(400, 401, 403, 404, 409, 422)},
        },
    },
    "/reviews/{review_id}/decisions": {
        "get": {"summary": "Every decision in the review, dismissed ones included (staff)", "parameters": [_REVIEW_ID],
                "responses": {"200": _json(_ref("DecisionList"), "Decisions, oldest first"), **_problems(401, 404)}},
        "post": {
            "summary": "Record a leadership decision on the version read",
            "description": "Leadership only; ombuds staff never decide, nobody approves a version they wrote, a recused "
                           "leader decides no more. 409 when 'version' is not the version under review (the problem "
                           "carries 'current_version') or the review is not in its deciding stage. request_changes "
                           "returns the review to draft and reject withdraws it (a note is required for both).",
            "parameters": [_REVIEW_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["decision", "version"],
                "properties": {"decision": {"type": "string", "enum": ["approve", "request_changes", "reject"]},
                               "version": {"type": "integer"}, "note": {"type": "string"},
                               "effective_date": {"type": "string", "format": "date",
                                                  "description": "Where the quorum publishes: when the text takes effect"}}}}}},
            "responses": {"201": _json(_ref("Decision"), "The decision recorded"), **_problems(400, 401, 403, 404, 409, 422)},
        },
    },
    "/reviews/{review_id}/recusals": {
        "post": {
            "summary": "Declare a conflict of interest and recuse (leadership)",
            "parameters": [_REVIEW_ID],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}}}}},
            "responses": {"201": _json({"type": "object", "required": ["review", "user", "reason", "recused_at"]},
                                       "The recusal recorded"), **_problems(400, 401, 403, 404, 409, 422)},
        },
    },
    "/policies/{code}/events": {
        "get": {"summary": "The policy's audit trail (staff)", "parameters": [_CODE],
                "responses": {"200": _json(_ref("EventList"), "Events, oldest first"), **_problems(401, 403, 404)}},
    },
}


# ---------------------------------------------------------------------------------------------
# Equity impact assessment
# ---------------------------------------------------------------------------------------------

_ANSWER = {"description": "text: a string; choice: an option key; multi_choice: a list of option keys; null clears it",
           "type": ["string", "array", "null"], "items": {"type": "string"}}
_QUESTION = {
    "type": "object", "required": ["id", "label", "help", "type", "required", "internal", "options", "follow_up"],
    "properties": {"id": {"type": "string"}, "label": {"type": "string"}, "help": {"type": "string"},
                   "type": {"enum": ["text", "choice", "multi_choice"]}, "required": {"type": "boolean"},
                   "internal": {"type": "boolean", "description": "Never published."},
                   "options": {"type": "array", "items": {"type": "object", "required": ["key", "label"]}},
                   "follow_up": {"type": "array", "description": "Asked for each chosen option; answer key "
                                                                 "'question.option.follow_up'.",
                                 "items": {"type": "object"}}},
}

SCHEMAS.update({
    "EquityAssessment": {
        "type": "object",
        "required": ["review", "policy", "status", "revision", "version", "review_version", "may_write", "definition",
                     "answers", "missing", "completed_at", "completed_by", "changes", "contributors", "last_changed", "url"],
        "properties": {
            "review": {"type": "integer"}, "policy": {"type": "string"},
            "status": {"enum": ["not_started", "in_progress", "complete"]},
            "revision": {"type": "integer", "description": "Send it back with PUT: answers you did not change since are "
                                                           "left as they are now."},
            "version": {**_NULLABLE_INT, "description": "The version the answers were written for (assessed, once complete)."},
            "review_version": {"type": "integer", "description": "The version under review now."},
            "may_write": {"type": "boolean"},
            "definition": {"type": "object", "required": ["title", "hash", "sections"], "properties": {
                "title": {"type": "string"}, "hash": {"type": "string"},
                "sections": {"type": "array", "items": {"type": "object", "required": ["title", "questions"], "properties": {
                    "title": {"type": "string"}, "questions": {"type": "array", "items": _QUESTION}}}}}},
            "answers": {"type": "object", "additionalProperties": _ANSWER},
            "missing": {"type": "array", "items": {"type": "object", "required": ["question", "label"]}},
            "completed_at": _NULLABLE_STRING, "completed_by": _NULLABLE_STRING,
            "changes": {"type": ["object", "null"], "description": "Set when a later version is under review than the one "
                                                                   "assessed: what changed after the equity review?",
                        "required": ["from_version", "to_version", "explained", "explanation"]},
            "contributors": {"type": "array", "items": {"type": "object", "required": ["name", "answers"]}},
            "last_changed": {"type": "object", "additionalProperties": {"type": "object", "required": ["by", "at", "revision"]}},
            "url": {"type": "string"},
        },
    },
})

EQUITY_PATHS: dict[str, Any] = {
    "/reviews/{review_id}/equity-assessment": {
        "get": {"summary": "The review's equity impact assessment (staff: ombuds, reviewers, leadership, admin)",
                "parameters": [_REVIEW_ID],
                "responses": {"200": _json(_ref("EquityAssessment"), "The assessment"), **_problems(401, 403, 404)}},
        "put": {"summary": "Save answers (ombuds, reviewers): merged per question; 409 when someone else changed one of "
                           "your changed answers since 'revision', 422 naming an invalid answer",
                "parameters": [_REVIEW_ID],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["answers", "revision"],
                    "properties": {"answers": {"type": "object", "additionalProperties": _ANSWER},
                                   "revision": {"type": "integer", "minimum": 0}}}}}},
                "responses": {"200": _json(_ref("EquityAssessment"), "Saved"), **_problems(400, 401, 403, 404, 409, 422)}},
    },
    "/reviews/{review_id}/equity-assessment/complete": {
        "post": {"summary": "Mark complete for the version under review (409 listing what is missing)",
                 "parameters": [_REVIEW_ID],
                 "responses": {"200": _json(_ref("EquityAssessment"), "Complete"), **_problems(401, 403, 404, 409, 422)}},
    },
    "/reviews/{review_id}/equity-assessment/reopen": {
        "post": {"summary": "Open a complete assessment for changes again", "parameters": [_REVIEW_ID],
                 "responses": {"200": _json(_ref("EquityAssessment"), "In progress again"), **_problems(401, 403, 404, 409)}},
    },
    "/reviews/{review_id}/equity-assessment/explanation": {
        "post": {"summary": "Answer 'what changed after the equity review?' for a later version under review",
                 "parameters": [_REVIEW_ID],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["explanation"], "properties": {"explanation": {"type": "string"}}}}}},
                 "responses": {"200": _json(_ref("EquityAssessment"), "Explained"),
                               **_problems(400, 401, 403, 404, 409, 422)}},
    },
}


# ---------------------------------------------------------------------------------------------
# Stakeholder comments
# ---------------------------------------------------------------------------------------------

_COUNT = {
    "description": "A count: an integer, or the string \"fewer than 3\" where a count of 1 or 2 is shown to anyone but "
                   "ombuds staff (so no commenter is singled out).",
    "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "const": "fewer than 3"}],
}
_DISPOSITIONS = ["accepted", "partially_accepted", "not_accepted", "out_of_scope"]
_IDENTITY_MODES = ["public", "confidential", "anonymous"]

SCHEMAS.update({
    "Count": _COUNT,
    "Comment": {
        "type": "object",
        "description": "A stakeholder comment. 'name' follows the identity mode (\"Name withheld at the commenter's "
                       "request\" for confidential comments, \"Anonymous\" for anonymous ones) except for ombuds staff; "
                       "'email' and 'disclosure_permitted' appear only for ombuds staff; 'body' is null for a hidden "
                       "comment except for ombuds staff.",
        "required": ["id", "review", "version", "submitted_at", "category", "identity_mode", "name", "passage", "group",
                     "body", "hidden", "hidden_reason", "disposition", "response", "changed_in_version", "filed_via"],
        "properties": {
            "id": {"type": "integer"}, "review": {"type": "integer"}, "version": {"type": "integer"},
            "submitted_at": {"type": "string", "format": "date-time"}, "category": _NULLABLE_STRING,
            "identity_mode": {"enum": _IDENTITY_MODES}, "name": {"type": "string"},
            "passage": {**_NULLABLE_STRING, "description": "The quoted words of the draft the comment is about."},
            "group": {**_NULLABLE_INT, "description": "Near-duplicate group (the id of its first comment)."},
            "body": _NULLABLE_STRING, "hidden": {"type": "boolean"}, "hidden_reason": _NULLABLE_STRING,
            "disposition": {"enum": [*_DISPOSITIONS, None]}, "response": _NULLABLE_STRING,
            "changed_in_version": _NULLABLE_INT,
            "filed_via": {"enum": ["phone", "email", "letter", "in_person", "meeting", None]},
            "email": {**_NULLABLE_STRING, "description": "Ombuds staff only."},
            "disclosure_permitted": {"type": "boolean", "description": "Ombuds staff only."},
        },
    },
    "SubmittedComment": {
        "allOf": [_ref("Comment"), {"type": "object", "required": ["receipt_url"], "properties": {
            "receipt_url": {"type": "string", "description": "The commenter's private link to the status of the comment; "
                                                             "shown only once."}}}],
    },
    "CommentList": {
        "type": "object", "required": ["items", "total", "page", "page_size"],
        "properties": {"items": {"type": "array", "items": _ref("Comment")}, "total": {"type": "integer"},
                       "page": {"type": "integer"}, "page_size": {"type": "integer"}, "pages": {"type": "integer"}},
    },
    "NewComment": {
        "type": "object", "required": ["body", "identity"],
        "properties": {
            "body": {"type": "string", "maxLength": 8000}, "identity": {"enum": _IDENTITY_MODES},
            "name": {"type": "string", "maxLength": 200, "description": "Required unless anonymous (or signed in)."},
            "email": {"type": "string", "description": "Optional; to be told when the comment is answered."},
            "category": {"type": "string", "description": "One of the district's commenter categories."},
            "target": {"type": "object", "required": ["start", "end"],
                       "description": "The passage of the draft under review the comment is about.",
                       "properties": {"start": {"type": "integer", "minimum": 0}, "end": {"type": "integer"},
                                      "exact": {"type": "string"}}},
            "filed_via": {"enum": ["phone", "email", "letter", "in_person", "meeting"],
                          "description": "Ombuds staff filing on someone's behalf: how the comment reached the office."},
        },
    },
    "Disposition": {
        "type": "object", "required": ["disposition", "response"],
        "properties": {"disposition": {"enum": _DISPOSITIONS}, "response": {"type": "string"},
                       "changed_in_version": {"type": ["integer", "null"], "minimum": 1}},
    },
    "CommentReport": {
        "type": "object",
        "required": ["review", "policy", "total", "by_category", "by_disposition", "by_identity", "hidden", "sections"],
        "properties": {
            "review": {"type": "integer"}, "policy": {"type": "string"}, "version": {"type": "integer"},
            "total": _ref("Count"),
            "by_category": {"type": "object", "additionalProperties": _ref("Count")},
            "by_disposition": {"type": "object", "additionalProperties": _ref("Count")},
            "by_identity": {"type": "object", "additionalProperties": _ref("Count")},
            "hidden": _ref("Count"),
            "sections": {"type": "array", "items": {
                "type": "object", "required": ["heading", "count", "groups"],
                "properties": {"heading": {"type": "string"}, "count": _ref("Count"), "groups": {"type": "array", "items": {
                    "type": "object", "required": ["count", "comments"],
                    "properties": {"count": _ref("Count"), "comments": {"type": "array", "items": _ref("Comment")}}}}}}},
        },
    },
})

_COMMENT_ID = {"name": "comment_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_GROUP_ID = {"name": "group_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}
_PAGE_SIZE = {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}

COMMENT_PATHS: dict[str, Any] = {
    "/reviews/{review_id}/comments": {
        "get": {"summary": "A review's comments: staff while it runs; anyone once the response to comments is public",
                "parameters": [_REVIEW_ID, _PAGE, _PAGE_SIZE],
                "responses": {"200": _json(_ref("CommentList"), "A page of comments"), **_problems(400, 401, 404, 422)}},
        "post": {"summary": "Comment while the period is open (no token needed where the stage takes anonymous comments; "
                            "rate limited)",
                 "parameters": [_REVIEW_ID],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewComment")}}},
                 "responses": {"201": _json(_ref("SubmittedComment"), "Saved, with the receipt link"),
                               **_problems(400, 401, 403, 404, 409, 413, 422, 429)}},
    },
    "/reviews/{review_id}/comments/report": {
        "get": {"summary": "The response to comments (JSON or CSV); same visibility as the list",
                "parameters": [_REVIEW_ID, {"name": "format", "in": "query",
                                            "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"}}],
                "responses": {"200": {"description": "The report, or with format=csv one row per comment after a header row",
                                      "content": {"application/json": {"schema": _ref("CommentReport")},
                                                  "text/csv": {"schema": {"type": "string"}}}},
                              **_problems(400, 401, 404, 422)}},
    },
    "/reviews/{review_id}/comment-groups/{group_id}/disposition": {
        "put": {"summary": "Answer every visible comment of a near-duplicate group at once (ombuds)",
                "parameters": [_REVIEW_ID, _GROUP_ID],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Disposition")}}},
                "responses": {"200": _json({"type": "object", "required": ["updated"],
                                            "properties": {"updated": {"type": "integer"}}}, "How many were answered"),
                              **_problems(400, 401, 403, 404, 422)}},
    },
    "/comments/{comment_id}/disposition": {
        "put": {"summary": "Record what the district did with a comment and its response (ombuds)",
                "parameters": [_COMMENT_ID],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Disposition")}}},
                "responses": {"200": _json(_ref("Comment"), "The comment"), **_problems(400, 401, 403, 404, 422)}},
    },
    "/comments/{comment_id}/hide": {
        "post": {"summary": "Hide a comment with a reason; its text is kept for the record (ombuds)",
                 "parameters": [_COMMENT_ID],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["reason"], "properties": {"reason": {"type": "string", "maxLength": 1000}}}}}},
                 "responses": {"200": _json(_ref("Comment"), "The comment"), **_problems(400, 401, 403, 404, 422)}},
    },
    "/comments/{comment_id}/unhide": {
        "post": {"summary": "Show a hidden comment again (ombuds)", "parameters": [_COMMENT_ID],
                 "responses": {"200": _json(_ref("Comment"), "The comment"), **_problems(401, 403, 404)}},
    },
}


# ---------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------

SCHEMAS.update({
    "SearchResult": {
        "type": "object",
        "description": "One hit. 'snippet' is HTML: the matched words in <mark>, everything else escaped. 'name' (comments "
                       "only) follows the identity mode as on the report (\"Name withheld at the commenter's request\", "
                       "\"Anonymous\") except for ombuds staff; only ombuds staff get hidden comments (hidden true).",
        "required": ["kind", "kind_label", "policy_code", "policy_title", "section", "stage", "stage_label", "title", "heading",
                     "passage", "snippet", "snippet_source", "url", "rank", "version", "annotation_id", "visibility",
                     "comment_id", "review_id", "name", "disposition", "hidden"],
        "properties": {
            "kind": {"enum": ["policy", "annotation", "comment"]}, "kind_label": {"type": "string"},
            "policy_code": {"type": "string"}, "policy_title": {"type": "string"}, "section": {"type": "string"},
            "stage": {"type": "string", "description": "'published', 'draft' or the review stage"},
            "stage_label": {"type": "string"}, "title": {"type": "string"},
            "heading": {"type": "string", "description": "Policy text: the heading the words sit under."},
            "passage": {**_NULLABLE_STRING, "description": "The words of the policy a note or comment is about."},
            "snippet": {"type": "string"}, "snippet_source": {"enum": ["text", "response", "heading", "tags"]},
            "url": {"type": "string", "description": "The page to read it on (a path in this site)."},
            "rank": {"type": "number", "description": "Relevance; results come best first."},
            "version": _NULLABLE_INT, "annotation_id": _NULLABLE_INT,
            "visibility": {"enum": ["confidential", "internal", "public", None]},
            "comment_id": _NULLABLE_INT, "review_id": _NULLABLE_INT, "name": _NULLABLE_STRING,
            "disposition": {"enum": [*_DISPOSITIONS, None]}, "hidden": {"type": "boolean"},
        },
    },
    "SearchResults": {
        "type": "object", "required": ["items", "total", "page", "page_size", "pages", "query", "counts"],
        "properties": {"items": {"type": "array", "items": _ref("SearchResult")}, "total": {"type": "integer"},
                       "page": {"type": "integer"}, "page_size": {"type": "integer"}, "pages": {"type": "integer"},
                       "query": {"type": "string"},
                       "counts": {"type": "object", "description": "Hits per kind (before paging).",
                                  "additionalProperties": {"type": "integer"}}},
    },
})

SEARCH_PATHS: dict[str, Any] = {
    "/search": {
        "get": {
            "summary": "Full-text search of policy texts, notes and comments, limited to what the caller may see",
            "description": "Every word of q must match (English stemming; quotes, operators and symbols are ignored). "
                           "Without a token: published policies, drafts in public comment with their public notes, and "
                           "comments once the response to comments is public.",
            "parameters": [
                {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 200}},
                {"name": "kind", "in": "query", "schema": {"type": "string"},
                 "description": "policy, annotation or comment; repeat or separate with commas for several"},
                {"name": "section", "in": "query", "schema": {"type": "string"}, "description": "The policy's section"},
                {"name": "stage", "in": "query", "schema": {"type": "string"},
                 "description": "'published', 'draft' or a review stage such as 'stakeholder_comment'"},
                _PAGE, _PAGE_SIZE,
            ],
            "responses": {"200": _json(_ref("SearchResults"), "A page of results, best first"),
                          **_problems(400, 401, 422)},
        },
    },
}


_CONCERN = {
    "type": "object",
    "description": "A concern (ombuds staff only). 'identity' and 'notes' appear only for the staff member handling it "
                   "and the ombuds lead ('sealed' is then false).",
    "required": ["id", "received_on", "channel", "raised_by", "summary", "themes", "subgroups", "status", "handler", "policies",
                 "url"],
    "properties": {
        "id": {"type": "integer"}, "received_on": {"type": "string", "format": "date"}, "channel": {"type": "string"},
        "raised_by": {"type": "string"}, "summary": {"type": "string"},
        "themes": {"type": "array", "items": {"type": "string"}}, "subgroups": {"type": "array", "items": {"type": "string"}},
        "school_or_department": _NULLABLE_STRING, "status": {"type": "string"}, "outcome": _NULLABLE_STRING,
        "handler": {"type": "string"}, "closed_at": _NULLABLE_STRING, "notes_deleted_at": _NULLABLE_STRING,
        "policies": {"type": "array", "items": {"type": "object", "required": ["code", "version"]}},
        "sealed": {"type": "boolean"}, "identity": {"oneOf": [{"type": "null"}, {"type": "object"}]},
        "notes": {"type": "array", "items": {"type": "object"}}, "consents": {"type": "array", "items": {"type": "object"}},
        "url": {"type": "string"},
    },
}
SCHEMAS.update({
    "Concern": _CONCERN,
    "ConcernList": {"type": "object", "required": ["items", "total"],
                    "properties": {"items": {"type": "array", "items": _ref("Concern")}, "total": {"type": "integer"}}},
})
CONCERN_PATHS: dict[str, Any] = {
    "/concerns": {
        "get": {"summary": "Concerns, de-identified (ombuds staff only; 403 for anyone else)",
                "parameters": [{"name": key, "in": "query", "schema": {"type": "string"}}
                               for key in ("status", "theme", "subgroup", "policy", "q")],
                "responses": {"200": _json(_ref("ConcernList"), "Newest first"), **_problems(401, 403, 422)}},
        "post": {
            "summary": "Record a concern (ombuds staff only); the identity is sealed at once",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["received_on", "channel", "raised_by", "summary"],
                "properties": {"received_on": {"type": "string", "format": "date"}, "channel": {"type": "string"},
                               "raised_by": {"type": "string"}, "summary": {"type": "string"},
                               "themes": {"type": "array", "items": {"type": "string"}},
                               "subgroups": {"type": "array", "items": {"type": "string"}},
                               "school_or_department": {"type": "string"}, "name": {"type": "string"},
                               "contact": {"type": "string"},
                               "policies": {"type": "array", "items": {"type": "object", "required": ["code"]}}}}}}},
            "responses": {"201": _json(_ref("Concern"), "The concern recorded"), **_problems(400, 401, 403, 404, 422)},
        },
    },
    "/concerns/{concern_id}": {
        "get": {"summary": "One concern (404 for anyone but ombuds staff)",
                "parameters": [{"name": "concern_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"200": _json(_ref("Concern"), "The concern"), **_problems(401, 404)}},
    },
}


_EVERY_OPERATION = (400,)  # any query parameter or field with a NUL or a lone surrogate, or a malformed value
_WITH_A_BODY = (400, 413, 422)  # malformed JSON; over the size limit; a field of the wrong type or out of range
_WITH_AN_ID = (404,)  # an id or code that names nothing (or a number beyond what the database holds)


def _with_input_problems(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation documents the problems the shared request parsing (policyflow.web.requests) may answer."""
    for path, item in paths.items():
        for operation in item.values():
            statuses = list(_EVERY_OPERATION)
            if "requestBody" in operation:
                statuses += _WITH_A_BODY
            if "{" in path:
                statuses += _WITH_AN_ID
            missing = [status for status in statuses if str(status) not in operation["responses"]]
            operation["responses"].update(_problems(*missing))
    return paths


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "policyflow API", "version": __version__,
                 "description": "District policies, their versions and redlines. Errors are RFC 9457 problem documents."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}, {}],
        "paths": _with_input_problems({
            **REVIEW_PATHS,
            **ANNOTATION_PATHS,
            **COMMENT_PATHS,
            **EQUITY_PATHS,
            **SEARCH_PATHS,
            **CONCERN_PATHS,
            "/tokens": {
                "post": {
                    "summary": "Exchange a username and password for an API token", "security": [],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["username", "password"],
                        "properties": {"username": {"type": "string"}, "password": {"type": "string"},
                                       "name": {"type": "string"}}}}}},
                    "responses": {"201": _json(_ref("Token"), "The token, shown only once"), **_problems(400, 401, 422)},
                },
                "get": {"summary": "Your tokens", "responses": {"200": _json(_ref("TokenList"), "Tokens"), **_problems(401)}},
            },
            "/tokens/{id}": {
                "delete": {"summary": "Revoke a token",
                           "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                           "responses": {"204": {"description": "Revoked"}, **_problems(401, 403, 404)}},
            },
            "/policies": {
                "get": {
                    "summary": "Policy catalogue (anonymous callers see published policies only)",
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {"name": "section", "in": "query", "schema": {"type": "string"}},
                        {"name": "stage", "in": "query", "schema": {"type": "string", "enum": ["draft", "published"]}},
                        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                        {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    ],
                    "responses": {"200": _json(_ref("PolicyList"), "A page of policies"), **_problems(400, 401, 422)},
                },
                "post": {
                    "summary": "Create a policy with its first version (ombuds, admin)",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewPolicy")}}},
                    "responses": {"201": _json(_ref("Policy"), "Created"), **_problems(400, 401, 403, 409, 413, 422)},
                },
            },
            "/policies/{code}": {
                "get": {"summary": "One policy", "parameters": [_CODE],
                        "responses": {"200": _json(_ref("Policy"), "The policy"), **_problems(401, 404)}},
            },
            "/policies/{code}/versions": {
                "get": {"summary": "Versions, newest first", "parameters": [_CODE],
                        "responses": {"200": _json(_ref("VersionList"), "Versions"), **_problems(401, 404)}},
                "post": {
                    "summary": "Save a new version; unchanged text creates none (200, created false)",
                    "parameters": [_CODE],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewVersion")}}},
                    "responses": {"201": _json(_ref("SavedVersion"), "Created"),
                                  "200": _json(_ref("SavedVersion"), "Unchanged; nothing created"),
                                  **_problems(400, 401, 403, 404, 409, 413, 422)},
                },
            },
            "/policies/{code}/versions/{number}": {
                "get": {"summary": "One version with its text and rendered HTML", "parameters": [_CODE, _NUMBER],
                        "responses": {"200": _json(_ref("Version"), "The version"), **_problems(401, 404)}},
            },
            "/policies/{code}/diff": {
                "get": {
                    "summary": "Word-level diff and redline between two versions",
                    "parameters": [_CODE,
                                   {"name": "from", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 1}},
                                   {"name": "to", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 1}}],
                    "responses": {"200": _json(_ref("Diff"), "The diff"), **_problems(400, 401, 404, 422)},
                },
            },
        }),
    }
