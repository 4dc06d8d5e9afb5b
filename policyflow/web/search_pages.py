"""The search page (``/search?q=...``): everyone may search; the service decides what each person finds."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from policyflow.core.errors import InvalidInput, InvalidValue
from policyflow.core.textsearch import MAX_QUERY_CHARS
from policyflow.models import SEARCH_KINDS
from policyflow.services import policies, search
from policyflow.web.pages import _stage_choices, blueprint
from policyflow.web.requests import actor, db, page_number

KIND_CHOICES = (("policy", "Policy text"), ("annotation", "Notes"), ("comment", "Comments"))
assert tuple(kind for kind, _label in KIND_CHOICES) == SEARCH_KINDS


@blueprint.route("/search")
def search_page() -> tuple[str, int]:
    current = actor()
    q = request.args.get("q", "")
    kind = request.args.get("kind", "")
    section = request.args.get("section", "")
    stage = request.args.get("stage", "")
    page = page_number()
    context: dict[str, Any] = {
        "q": q, "kind": kind, "section": section, "stage": stage, "results": None, "message": None, "error": None,
        "kinds": KIND_CHOICES, "sections": policies.sections(db(), current), "stages": _stage_choices(),
        "max_query": MAX_QUERY_CHARS,
    }
    status = 200
    if not q.strip():
        context["message"] = "Type one or more words to search policy texts, notes and comments."
    else:
        try:
            context["results"] = search.search(db(), current, q, kinds=[kind] if kind else (), section=section,
                                               stage=stage, page=page)
        except InvalidInput as refusal:  # no words at all: say what to do, not an error page
            context["message"] = refusal.message
        except InvalidValue as refusal:  # too long, unknown filter: the form stays, with the reason
            context["error"] = refusal.message
            status = refusal.status
    return render_template("search.html", **context), status
