"""JSON API under /api/v1 (DESIGN.md section 6): bearer tokens, problem+json errors."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, g, jsonify, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from policyflow.core.errors import InvalidInput, InvalidValue, NotAuthenticated, PermissionDenied
from policyflow.core.redline import inline_html
from policyflow.models import Policy, PolicyVersion
from policyflow.services import accounts, policies
from policyflow.web.api.openapi import openapi_document
from policyflow.web.limits import limit_sign_ins
from policyflow.web.requests import actor, db, json_body, json_field, query_int, store_settings

blueprint = Blueprint("api", __name__)
MAX_PAGE_SIZE = 100


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@blueprint.before_request
def _authenticate() -> None:
    header = request.headers.get("Authorization", "")
    if not header:
        if request.method not in _SAFE_METHODS and current_user.is_authenticated and request.endpoint != "api.create_token":
            # The API is exempt from CSRF tokens because it takes bearer tokens; a browser's sign-in cookie
            # would otherwise let another site make changes in the user's name.
            raise PermissionDenied("Changes through the API need an API token ('Authorization: Bearer <token>'), "
                                   "not the browser's sign-in; get one from POST /api/v1/tokens.")
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Use 'Authorization: Bearer <token>'; get a token from POST /api/v1/tokens.")
    user = accounts.user_for_token(db(), token.strip())
    if user is None:
        raise NotAuthenticated("The API token is unknown or revoked.")
    g.api_user = user


def _require_user() -> None:
    if actor().user is None:
        raise NotAuthenticated("This request needs an API token: POST /api/v1/tokens with your username and password.")


def _date_field(body: dict[str, Any], name: str) -> date | None:
    raw = json_field(body, name, str, required=False)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidValue(f"The field '{name}' must be a date written as YYYY-MM-DD.") from None


def policy_json(policy: Policy) -> dict[str, Any]:
    return {
        "code": policy.code,
        "title": policy.title,
        "section": policy.section,
        "owner_department": policy.owner_department,
        "head_version": policy.head_version_number,
        "published_version": policy.published_version_number,
        "stage": policy.stage,
        "effective_date": policy.effective_date.isoformat() if policy.effective_date else None,
        "next_review_date": policy.next_review_date.isoformat() if policy.next_review_date else None,
        "updated_at": policy.updated_at.isoformat(),
        "url": url_for("pages.policy", code=policy.code),
    }


def version_json(policy: Policy, version: PolicyVersion, *, with_text: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "policy": policy.code,
        "number": version.number,
        "sha256": version.sha256,
        "summary": version.summary,
        "author": version.author.username if version.author else None,
        "created_at": version.created_at.isoformat(),
        "published": version.published_at is not None,
        "words_inserted": version.words_inserted,
        "words_deleted": version.words_deleted,
        "length": version.text_length,
    }
    if with_text:
        body["text"] = policies.version_text(db(), policy, version)
        body["html"] = policies.version_html(db(), policy, version)
    return body


@blueprint.post("/tokens")
@limit_sign_ins
def create_token() -> tuple[dict[str, Any], int]:
    body = json_body()
    user = accounts.authenticate(db(), json_field(body, "username", str), json_field(body, "password", str))
    name = json_field(body, "name", str, required=False, default="API token")
    row, token = accounts.create_token(db(), user, name)
    return {"token": token, "id": row.id, "name": row.name, "prefix": row.prefix}, 201


@blueprint.get("/tokens")
def list_tokens() -> dict[str, Any]:
    _require_user()
    rows = accounts.list_tokens(db(), actor().user)
    items = [{"id": r.id, "name": r.name, "prefix": r.prefix, "created_at": r.created_at.isoformat(),
              "revoked": r.revoked_at is not None} for r in rows]
    return {"items": items, "total": len(items)}


@blueprint.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int) -> tuple[str, int]:
    _require_user()
    accounts.revoke_token(db(), actor(), token_id)
    return "", 204


@blueprint.get("/policies")
def list_policies() -> dict[str, Any]:
    page = policies.search_policies(
        db(), actor(), query=request.args.get("q", ""), section=request.args.get("section", ""),
        stage=request.args.get("stage", ""), page=query_int("page", 1),
        page_size=query_int("page_size", policies.PAGE_SIZE, maximum=MAX_PAGE_SIZE),
    )
    return {"items": [policy_json(p) for p in page.items], "total": page.total, "page": page.page,
            "page_size": page.page_size, "pages": page.pages}


@blueprint.post("/policies")
def create_policy() -> tuple[dict[str, Any], int, dict[str, str]]:
    _require_user()
    body = json_body()
    version = policies.create_policy(
        db(), actor(), store_settings(), code=json_field(body, "code", str), title=json_field(body, "title", str),
        text=json_field(body, "text", str), summary=json_field(body, "summary", str, required=False, default="First version."),
        section=json_field(body, "section", str, required=False, default=""),
        owner_department=json_field(body, "owner_department", str, required=False, default=""),
    )
    location = url_for("api.get_policy", code=version.policy.code)
    return policy_json(version.policy), 201, {"Location": location}


@blueprint.get("/policies/<code>")
def get_policy(code: str) -> dict[str, Any]:
    return policy_json(policies.get_policy(db(), actor(), code))


@blueprint.get("/policies/<code>/versions")
def list_versions(code: str) -> dict[str, Any]:
    policy = policies.get_policy(db(), actor(), code)
    items = [version_json(policy, v, with_text=False) for v in policies.list_versions(db(), actor(), policy)]
    return {"items": items, "total": len(items)}


@blueprint.post("/policies/<code>/versions")
def save_version(code: str) -> tuple[dict[str, Any], int] | tuple[dict[str, Any], int, dict[str, str]]:
    _require_user()
    policy = policies.get_policy(db(), actor(), code)
    body = json_body()
    result = policies.save_version(
        db(), actor(), store_settings(), policy, text=json_field(body, "text", str),
        summary=json_field(body, "summary", str, required=False, default=""),
        base_version=json_field(body, "base_version", int),
    )
    payload = version_json(policy, result.version, with_text=False) | {"created": result.created}
    if not result.created:
        return payload, 200
    location = url_for("api.get_version", code=policy.code, number=result.version.number)
    return payload, 201, {"Location": location}


@blueprint.get("/policies/<code>/versions/<int:number>")
def get_version(code: str, number: int) -> dict[str, Any]:
    policy = policies.get_policy(db(), actor(), code)
    return version_json(policy, policies.get_version(db(), actor(), policy, number), with_text=True)


@blueprint.get("/policies/<code>/diff")
def get_diff(code: str) -> dict[str, Any]:
    policy = policies.get_policy(db(), actor(), code)
    if "from" not in request.args or "to" not in request.args:
        raise InvalidInput("Give both versions: ?from=N&to=M.")
    comparison = policies.compare(db(), actor(), policy, query_int("from", 1), query_int("to", 1))
    return {
        "policy": policy.code,
        "from": comparison.old.number,
        "to": comparison.new.number,
        "ops": [[op, text] for op, text in comparison.ops],
        "stats": comparison.stats.as_dict(),
        "html": inline_html(comparison.ops),
    }


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


from policyflow.web.api import annotating as _annotating  # noqa: E402,F401 - registers the annotation routes
from policyflow.web.api import assessing as _assessing  # noqa: E402,F401 - registers the equity assessment routes
from policyflow.web.api import commenting as _commenting  # noqa: E402,F401 - registers the comment routes
from policyflow.web.api import concerning as _concerning  # noqa: E402,F401 - registers the concern routes
from policyflow.web.api import reviews as _reviews  # noqa: E402,F401 - registers the review routes
from policyflow.web.api import searching as _searching  # noqa: E402,F401 - registers the search route
