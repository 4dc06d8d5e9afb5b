"""API for full-text search: ``GET /api/v1/search?q=...`` (with or without a token; results per caller)."""

from __future__ import annotations

from typing import Any

from flask import request

from policyflow.services import search
from policyflow.web.api import MAX_PAGE_SIZE, blueprint
from policyflow.web.requests import actor, db, query_int


def _kinds() -> list[str]:
    """``kind`` may repeat (``?kind=policy&kind=comment``) or list kinds separated by commas."""
    return [part.strip() for value in request.args.getlist("kind") for part in value.split(",") if part.strip()]


@blueprint.get("/search")
def search_everything() -> dict[str, Any]:
    result = search.search(
        db(), actor(), request.args.get("q", ""), kinds=_kinds(), section=request.args.get("section", ""),
        stage=request.args.get("stage", ""), page=query_int("page", 1),
        page_size=query_int("page_size", search.PAGE_SIZE, maximum=MAX_PAGE_SIZE),
    )
    return {"items": [item.as_dict() for item in result.items], "total": result.total, "page": result.page,
            "page_size": result.page_size, "pages": result.pages, "query": result.query, "counts": result.counts}
