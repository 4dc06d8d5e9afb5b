"""API for stakeholder comments: list and submit, dispositions, moderation, the report exports.

Confidentiality is the service's: every comment goes out through ``comments.comment_row``, which
shows names per their identity mode and adds contact details only for ombuds staff.
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Iterator
from typing import Any

from flask import current_app, g, request
from werkzeug.wrappers import Response

from policyflow.core.errors import InvalidValue
from policyflow.core.spreadsheet import text_cell
from policyflow.services import comments
from policyflow.web.api import MAX_PAGE_SIZE, _require_user, blueprint
from policyflow.web.limits import limit_comments
from policyflow.web.requests import actor, db, json_body, json_field, query_int, vocabularies

# The columns of the CSV export, in the order of ``comments.comment_row``; ombuds staff get the identity columns too.
CSV_COLUMNS = ("id", "review", "version", "submitted_at", "category", "identity_mode", "name", "passage", "group", "body",
               "hidden", "hidden_reason", "disposition", "response", "changed_in_version", "filed_via")
CSV_IDENTITY_COLUMNS = ("email", "disclosure_permitted")
_CSV_CHUNK = 500  # rows per streamed chunk
_FREE_TEXT = frozenset({"name", "passage", "body", "hidden_reason", "response", "email", "category"})
_BOOLEANS = frozenset({"hidden", "disclosure_permitted"})


def _base_url() -> str:
    return current_app.config["POLICYFLOW_SETTINGS"].base_url


def _now() -> Any:
    return current_app.config["CLOCK"]()


def _count(count: int, public: bool) -> int | str:
    """A count as the caller may see it: the number, or "fewer than 3" for small counts in public views."""
    shown = comments.shown_count(count, public)
    return count if shown == str(count) else shown


def _counts(counts: dict[str, int], public: bool) -> dict[str, int | str]:
    return {key: _count(value, public) for key, value in sorted(counts.items())}


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    return json_field(body, name, str, required=False)


# ---------------------------------------------------------------------------------------------
# Listing and submitting
# ---------------------------------------------------------------------------------------------

@blueprint.get("/reviews/<int:review_id>/comments")
def list_comments(review_id: int) -> dict[str, Any]:
    """Staff while the review runs; everyone (no token needed) once the response to comments is public."""
    page = query_int("page", 1)
    page_size = query_int("page_size", MAX_PAGE_SIZE, maximum=MAX_PAGE_SIZE)
    who = actor()
    items, total = comments.list_for(db(), who, review_id, page=page, page_size=page_size)
    ombuds = comments.sees_identities(who)
    return {"items": [comments.comment_row(comment, who, ombuds) for comment in items], "total": total, "page": page,
            "page_size": page_size, "pages": max(1, -(-total // page_size))}


@blueprint.post("/reviews/<int:review_id>/comments")
@limit_comments
def submit_comment(review_id: int) -> tuple[dict[str, Any], int]:
    """Take a comment while the period is open; no token needed where the stage takes anonymous comments."""
    body = json_body()
    text = json_field(body, "body", str)
    identity = json_field(body, "identity", str)
    target = body.get("target")
    if target is not None and not isinstance(target, dict):
        raise InvalidValue("The field 'target' must be an object with 'start' and 'end' (and optionally 'exact').")
    who = actor()
    submitted = comments.submit(
        db(), who, review_id, body=text, identity=identity, name=_optional_text(body, "name"),
        email=_optional_text(body, "email"), category=_optional_text(body, "category"), target=target,
        allowed_categories=vocabularies().comment_categories, filed_via=_optional_text(body, "filed_via"), now=_now(),
    )
    row = comments.comment_row(submitted.comment, who)
    row["receipt_url"] = f"{_base_url()}/public/comments/receipt/{submitted.receipt_token}"
    return row, 201


# ---------------------------------------------------------------------------------------------
# Moderation and dispositions (ombuds staff)
# ---------------------------------------------------------------------------------------------

def _disposition_fields(body: dict[str, Any]) -> dict[str, Any]:
    version = body.get("changed_in_version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise InvalidValue("The field 'changed_in_version' must be a version number (an integer) or null.")
    return {"disposition": json_field(body, "disposition", str), "response": json_field(body, "response", str),
            "changed_in_version": version, "base_url": _base_url(), "now": _now()}


@blueprint.put("/comments/<int:comment_id>/disposition")
def disposition_comment(comment_id: int) -> dict[str, Any]:
    _require_user()
    body = json_body()
    comment = comments.set_disposition(db(), actor(), comment_id, **_disposition_fields(body))
    return comments.comment_row(comment, actor())


@blueprint.put("/reviews/<int:review_id>/comment-groups/<int:group_id>/disposition")
def disposition_group(review_id: int, group_id: int) -> dict[str, Any]:
    _require_user()
    body = json_body()
    updated = comments.disposition_group(db(), actor(), review_id, group_id, **_disposition_fields(body))
    return {"updated": updated}


@blueprint.post("/comments/<int:comment_id>/hide")
def hide_comment(comment_id: int) -> dict[str, Any]:
    _require_user()
    reason = json_field(json_body(), "reason", str, required=False, default="")
    comment = comments.hide(db(), actor(), comment_id, reason, now=_now())
    return comments.comment_row(comment, actor())


@blueprint.post("/comments/<int:comment_id>/unhide")
def unhide_comment(comment_id: int) -> dict[str, Any]:
    _require_user()
    comment = comments.unhide(db(), actor(), comment_id)
    return comments.comment_row(comment, actor())


# ---------------------------------------------------------------------------------------------
# The response-to-comments report
# ---------------------------------------------------------------------------------------------

def _report_json(review_id: int) -> dict[str, Any]:
    who = actor()
    report = comments.report(db(), who, review_id)
    ombuds, public = comments.sees_identities(who), report.public
    return {
        "review": report.review.id,
        "policy": report.review.policy.code,
        "version": report.review.version_number,
        "total": _count(report.total, public),
        "by_category": _counts(report.by_category, public),
        "by_disposition": _counts(report.by_disposition, public),
        "by_identity": _counts(report.by_identity, public),
        "hidden": _count(report.hidden, public),
        "sections": [
            {"heading": section.heading, "count": _count(section.count, public),
             "groups": [{"count": _count(len(group.members), public),
                         "comments": [comments.comment_row(member, who, ombuds) for member in group.members]}
                        for group in section.groups]}
            for section in report.sections
        ],
    }


def _csv_lines(rows: Iterator[dict[str, Any]], columns: tuple[str, ...]) -> Iterator[list[Any]]:
    """Rows as CSV cells: booleans as true/false, and free text that a spreadsheet would run as a formula
    (=, +, -, @ ...) prefixed with an apostrophe so it is shown as text, never evaluated."""
    pick = operator.itemgetter(*columns)
    texts = [i for i, column in enumerate(columns) if column in _FREE_TEXT]
    flags = [i for i, column in enumerate(columns) if column in _BOOLEANS]
    for row in rows:
        cells = list(pick(row))
        for i in texts:
            if cells[i]:
                cells[i] = text_cell(cells[i])
        for i in flags:
            cells[i] = "true" if cells[i] else "false"
        yield cells  # None is written as an empty cell


def _csv_response(review_id: int) -> Response:
    """The report's rows as CSV, streamed: the request's session stays open until the last row is sent."""
    who = actor()
    session = db()
    rows = comments.export_rows(session, who, review_id)  # refuses (404) before anything is sent
    columns = CSV_COLUMNS + (CSV_IDENTITY_COLUMNS if comments.sees_identities(who) else ())
    # The request teardown must not close the session under the stream; the stream closes it.
    g.pop("db", None)

    def generate() -> Iterator[str]:
        try:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(columns)
            for number, cells in enumerate(_csv_lines(rows, columns), 1):
                writer.writerow(cells)
                if number % _CSV_CHUNK == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue()
        finally:
            session.close()

    response = Response(generate(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="review-{review_id}-comments.csv"'
    response.call_on_close(session.close)  # also when the client goes away before the end
    return response


@blueprint.get("/reviews/<int:review_id>/comments/report")
def comments_report(review_id: int) -> dict[str, Any] | Response:
    """The response to comments: JSON (default) or CSV; same visibility as the list."""
    wanted = request.args.get("format", "json").strip().lower() or "json"
    if wanted == "json":
        return _report_json(review_id)
    if wanted == "csv":
        return _csv_response(review_id)
    raise InvalidValue(f"The report comes as format=json or format=csv, not {wanted[:20]!r}.")

