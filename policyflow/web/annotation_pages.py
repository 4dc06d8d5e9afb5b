"""Notes on the version page: highlights in the text, cards beside it, forms to add and answer."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from policyflow.core.errors import InvalidValue, PolicyflowError
from policyflow.core.highlight import Highlight, highlight_html, source_span_for_quote
from policyflow.models import Policy, PolicyVersion
from policyflow.services import annotations, policies
from policyflow.services.actors import Actor
from policyflow.web.fragments import BACK_SLOT, CSRF_SLOT, cached_section
from policyflow.web.pages import blueprint, staff_required
from policyflow.web.requests import actor, db, flash_problem, safe_next, vocabularies

FILTERS = ("tag", "status", "visibility", "author")


def notes_section(policy: Policy, version: PolicyVersion, current: Actor) -> str:
    """The version's text with its notes, as this reader's class sees them, filtered by the query string.

    Cached per process (web.fragments) under everything it is rendered from: the version, the policy's notes
    stamp (changed by every write to its notes, in any process), the reader's class and the filters. The caller
    has already checked, in the services, that the reader may see the policy and the version."""
    filters = {name: request.args.get(name, "") for name in FILTERS}
    reader = annotations.reader_class(current)
    suggested_tags = vocabularies().annotation_tags  # the district may edit the list at any time
    key = ("version-notes", policy.id, policy.code, version.id, version.sha256, policy.notes_stamp, reader,
           tuple(suggested_tags.items()))
    if any(filters.values()):
        key = None  # a filtered view is rare, and its words are the visitor's: caching them would let anyone evict the rest
    return cached_section(key, lambda: render_template(
        "policies/_version_notes.html", policy=policy, version=version, csrf_slot=CSRF_SLOT, back_slot=BACK_SLOT,
        **_notes_context(policy, version, current, reader, filters, suggested_tags)))


def _notes_context(policy: Policy, version: PolicyVersion, current: Actor, reader: annotations.ReaderClass,
                   filters: dict[str, str], suggested_tags: dict[str, str]) -> dict[str, Any]:
    """Everything the notes section shows; from the reader only what ``reader`` carries."""
    html = policies.version_html(db(), policy, version)
    context: dict[str, Any] = {"notes": [], "all_notes": [], "highlighted_html": html, "filters": filters, "tags": [],
                               "authors": [], "writable": list(reader.writable), "may_block": reader.may_block,
                               "readable": list(reader.readable), "may_reattach_any": reader.may_reattach_any,
                               "reader_id": reader.user_id, "suggested_tags": suggested_tags}
    if not reader.readable:
        return context
    placed = annotations.on_version(db(), current, policy, version.number)

    def keep(item: annotations.Placed) -> bool:
        note = item.annotation
        author = note.author.username if note.author else ""
        return ((not filters["tag"] or filters["tag"] in (note.tags or []))
                and (not filters["status"] or note.status == filters["status"])
                and (not filters["visibility"] or note.visibility == filters["visibility"])
                and (not filters["author"] or author == filters["author"]))

    shown = [item for item in placed if keep(item)]
    highlights = [Highlight(item.annotation.id, item.start, item.end, f"vis-{item.annotation.visibility}")
                  for item in shown if item.start is not None and item.end is not None]
    source = policies.version_text(db(), policy, version)
    context.update(
        notes=shown, all_notes=placed, highlighted_html=highlight_html(source, html, highlights),
        tags=sorted({tag for item in placed for tag in (item.annotation.tags or [])}),
        authors=sorted({item.annotation.author.username for item in placed if item.annotation.author}),
    )
    return context


@blueprint.route("/policies/<code>/versions/<int:number>/annotations", methods=["POST"])
@staff_required
def add_note(code: str, number: int) -> Response:
    current = actor()
    policy = policies.get_policy(db(), current, code)
    version = policies.get_version(db(), current, policy, number)
    source = policies.version_text(db(), policy, version)
    try:
        occurrence = int(request.form.get("occurrence") or 1)
    except ValueError:
        occurrence = 1
    span = source_span_for_quote(source, policies.version_html(db(), policy, version), request.form.get("quote", ""),
                                 occurrence)
    back = url_for("pages.version", code=policy.code, number=number)
    if span is None:
        flash("That passage was not found in this version; select the words in the text or copy them exactly.", "error")
        return redirect(back + "#add-note")
    tags = [tag for tag in request.form.get("tags", "").replace(";", ",").split(",") if tag.strip()]
    try:
        note = annotations.create(db(), current, policy, number, target={"start": span[0], "end": span[1]},
                                  body=request.form.get("body", ""), visibility=request.form.get("visibility", "internal"),
                                  tags=tags, blocking=request.form.get("blocking") == "on",
                                  allowed_tags=vocabularies().annotation_tags)
    except PolicyflowError as error:
        flash_problem(error)
        return redirect(back + "#add-note")
    flash("Note added.", "success")
    return redirect(back + f"#note-{note.id}")


@blueprint.route("/annotations/<int:annotation_id>/replies", methods=["POST"])
@staff_required
def reply_note(annotation_id: int) -> Response:
    return _act(annotation_id, lambda: annotations.reply(db(), actor(), annotation_id, request.form.get("body", "")),
                "Reply added.")


@blueprint.route("/annotations/<int:annotation_id>/status", methods=["POST"])
@staff_required
def note_status(annotation_id: int) -> Response:
    status = request.form.get("status", "")
    return _act(annotation_id, lambda: annotations.set_status(db(), actor(), annotation_id, status),
                "Note resolved." if status == "resolved" else "Note reopened.")


def _act(annotation_id: int, change: Any, done: str) -> Response:
    back = safe_next(request.form.get("back"))
    if back is None:
        raise InvalidValue("The form lost its way back; reload the page.")
    try:
        change()
    except PolicyflowError as error:
        flash_problem(error)
    else:
        flash(done, "success")
    return redirect(back + f"#note-{annotation_id}")


@blueprint.route("/annotations/<int:annotation_id>/placements/<int:number>", methods=["POST"])
@staff_required
def reattach_note(annotation_id: int, number: int) -> Response:
    current = actor()
    back = safe_next(request.form.get("back"))
    if back is None:
        raise InvalidValue("The form lost its way back; reload the page.")
    try:
        span = None
        quote = request.form.get("quote", "").strip()
        if quote:
            note = annotations.get(db(), current, annotation_id)
            version = policies.get_version(db(), current, note.policy, number)
            source = policies.version_text(db(), note.policy, version)
            span = source_span_for_quote(source, policies.version_html(db(), note.policy, version), quote,
                                         int(request.form.get("occurrence") or 1))
            if span is None:
                raise InvalidValue("Those words are not in this version; select them in the text or copy them exactly.")
        annotations.reattach(db(), current, annotation_id, number, start=span[0] if span else None,
                             end=span[1] if span else None)
    except PolicyflowError as error:
        flash_problem(error)
    else:
        flash("Note re-attached." if quote else "Placement confirmed.", "success")
    return redirect(back + f"#note-{annotation_id}")
