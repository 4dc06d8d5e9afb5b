"""Staff pages for comments: triage with near-duplicate groups, moderation, dispositions, the report.

The public response to comments (``/public/reviews/<id>/report``) lives here too: it is the same report,
read as an anonymous visitor would, with small counts masked.
"""

from __future__ import annotations

import itertools
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, stream_template, stream_with_context, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from policyflow.core.errors import InvalidValue, NotFound, PermissionDenied, PolicyflowError
from policyflow.core.spreadsheet import text_cell
from policyflow.models import DISPOSITIONS, FILING_CHANNELS, IDENTITY_MODES, Comment, Review, User
from policyflow.services import comments, equity, policies, reviews
from policyflow.services.actors import Actor
from policyflow.web.fragments import BACK_SLOT, CSRF_SLOT, cached_section
from policyflow.web.page_cache import cached_page
from policyflow.web.pages import blueprint, staff_required
from policyflow.web.requests import actor, db, flash_problem, page_number, vocabularies

PAGE_SIZE = 25
GROUP_PAGE_LIMIT = 500
NAMES_SHOWN = 50  # names listed under one group of the report
MAX_FILTER = 200
RECEIPT_ENDPOINT = "pages.public_receipt"  # policyflow.web.public_pages
CHUNK_ROWS = 1000  # rows per chunk of a streamed export
CHANNEL_LABELS = {"phone": "phone", "email": "e-mail", "letter": "letter", "in_person": "in person", "meeting": "a meeting"}
NOT_ANSWERED = "Not yet answered"
NO_CATEGORY = "No category given"
# The columns of an export with no rows (otherwise the first row names them).
EXPORT_FIELDS = ("id", "review", "version", "submitted_at", "category", "identity_mode", "name", "passage", "group", "body",
                 "hidden", "hidden_reason", "disposition", "response", "changed_in_version", "filed_via")
OMBUDS_EXPORT_FIELDS = ("email", "disclosure_permitted")


def _now() -> datetime:
    return current_app.config["CLOCK"]()


def _require_ombuds(doing: str) -> Actor:
    current = actor()
    if not comments.sees_identities(current):
        raise PermissionDenied(f"Only ombuds staff can {doing}.")
    return current


def _disposition_label(value: str | None) -> str:
    return comments.DISPOSITION_LABELS.get(value or "", NOT_ANSWERED)


def _category_label(value: str | None, labels: dict[str, str]) -> str:
    if not value or value == "not_given":
        return NO_CATEGORY
    return labels.get(value, value)


@blueprint.app_template_global()
def comment_labels() -> dict[str, Any]:
    """Labels the comment templates share."""
    return {"dispositions": comments.DISPOSITION_LABELS, "identities": comments.IDENTITY_LABELS,
            "channels": CHANNEL_LABELS, "categories": vocabularies().comment_categories, "not_answered": NOT_ANSWERED,
            "no_category": NO_CATEGORY}


# ---------------------------------------------------------------------------------------------
# The "Comments" box on the review page
# ---------------------------------------------------------------------------------------------

@blueprint.app_template_global()
def comment_summary(review: Review) -> dict[str, Any] | None:
    """Counts for the review page; None when the review's workflow takes no comments and it has none."""
    session = db()
    numbers = comments.review_counts(session, review)
    counts, total = numbers.by_disposition, numbers.total
    if not total and not any(stage.comments for stage in reviews.definition_of(review).stages):
        return None
    return {
        "total": total, "undecided": counts.get("none", 0), "hidden": numbers.hidden,
        "by_disposition": [(comments.DISPOSITION_LABELS[d], counts[d]) for d in DISPOSITIONS if counts.get(d)],
        "may_triage": comments.sees_identities(actor()),
        "public": comments.report_is_public(session, review),
    }


# ---------------------------------------------------------------------------------------------
# Triage
# ---------------------------------------------------------------------------------------------

def _choice(name: str, allowed: Iterable[str]) -> str:
    value = request.args.get(name, "").strip()
    if value and value not in allowed:
        abort(400, description=f"Unknown value {value[:40]!r} for '{name}'.")
    return value


def _filters() -> comments.Filters:
    # 'passage' is yes, no or words the passage contains (as in comments.Filters); the form sends words apart.
    words = " ".join(request.args.get("passage_words", "").split())[:MAX_FILTER]
    passage = " ".join(request.args.get("passage", "").split())[:MAX_FILTER]
    return comments.Filters(
        category=_choice("category", vocabularies().comment_categories),
        disposition=_choice("disposition", (*DISPOSITIONS, "none")),
        hidden=_choice("hidden", ("yes", "no")),
        passage=words or passage,
        q=" ".join(request.args.get("q", "").split())[:MAX_FILTER],
    )


def _filers(items: Iterable[Comment]) -> dict[int, str]:
    """Who filed comments on someone's behalf, in one query for the whole page."""
    ids = {c.filed_by_id for c in items if c.filed_by_id is not None}
    if not ids:
        return {}
    return dict(db().execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _triage_context(review: Review) -> dict[str, Any]:
    return {"review": review, "period": comments.period(review, _now()),
            "head_version": review.policy.head_version_number, "filing_channels": FILING_CHANNELS,
            "identity_modes": IDENTITY_MODES, "dispositions": DISPOSITIONS, "shown_name": comments.shown_name,
            "shown_email": comments.shown_email}


@blueprint.route("/reviews/<int:review_id>/comments")
@cached_page(query=("page",))  # outermost: a page kept was rendered past staff_required, for this session
@staff_required
def comment_triage(review_id: int) -> str:
    current = actor()
    filters = _filters()
    page = comments.triage(db(), current, review_id, filters, page=page_number(), page_size=PAGE_SIZE)
    review = reviews.get_review(db(), current, review_id)
    key = ("triage-groups", review.id, review.comments_stamp, filters, page.page, page.page_size,
           comments.sees_identities(current))
    groups = cached_section(key, lambda: render_template(
        "comments/_triage_groups.html", page=page, filers=_filers(row.first for row in page.rows), back=BACK_SLOT,
        csrf_token=lambda: CSRF_SLOT, **_triage_context(review)))
    return render_template("comments/triage.html", page=page, filters=filters, groups=groups,
                           passage_choice=filters.passage if filters.passage in ("yes", "no") else "",
                           passage_words="" if filters.passage in ("yes", "no") else filters.passage,
                           filtered=any(vars(filters).values()), back=request.full_path.rstrip("?"),
                           **_triage_context(review))


@blueprint.route("/reviews/<int:review_id>/comments/groups/<int:group_id>")
@staff_required
def comment_group(review_id: int, group_id: int) -> str:
    current = actor()
    members = comments.group_members(db(), current, review_id, group_id, limit=GROUP_PAGE_LIMIT + 1)
    review = reviews.get_review(db(), current, review_id)
    if not members:
        raise NotFound(f"Review {review_id} has no comment group {group_id}.")
    total, undecided = db().execute(
        select(func.count(), func.count().filter(Comment.disposition.is_(None), Comment.hidden_at.is_(None)))
        .where(Comment.review_id == review_id, Comment.group_id == group_id)).one()
    return render_template("comments/group.html", group_id=group_id, members=members[:GROUP_PAGE_LIMIT], total=total,
                           undecided=undecided, filers=_filers(members), back=request.path, **_triage_context(review))


# ---------------------------------------------------------------------------------------------
# Changes from the triage page: every form posts here and goes back with a message
# ---------------------------------------------------------------------------------------------

def _back(review_id: int) -> str:
    """Back to the triage page the form was on (with its filters); only paths under this review's triage."""
    back = request.form.get("back", "")
    prefix = f"/reviews/{review_id}/comments"
    if back == prefix or back.startswith((prefix + "?", prefix + "/")):
        return back
    return url_for("pages.comment_triage", review_id=review_id)


def _change(review_id: int, anchor: str, change: Callable[[], str]) -> Response:
    try:
        done = change()
    except PolicyflowError as error:
        flash_problem(error)
    else:
        flash(done, "success")
    return redirect(_back(review_id) + anchor)


def _comment_of(review_id: int, comment_id: int) -> Comment:
    comment = comments.get(db(), actor(), comment_id)
    if comment.review_id != review_id:
        raise NotFound(f"Review {review_id} has no comment {comment_id}.")
    return comment


def _answer_fields() -> dict[str, Any]:
    return {"disposition": request.form.get("disposition", ""),
            "response": request.form.get("response", "").replace("\r\n", "\n"),
            "changed_in_version": request.form.get("changed_in_version", "").strip() or None,
            "base_url": current_app.config["POLICYFLOW_SETTINGS"].base_url, "now": _now()}


@blueprint.route("/reviews/<int:review_id>/comments/<int:comment_id>/disposition", methods=["POST"])
@staff_required
def comment_disposition(review_id: int, comment_id: int) -> Response:
    current = _require_ombuds("record dispositions")
    comment = _comment_of(review_id, comment_id)

    def change() -> str:
        answered = comments.set_disposition(db(), current, comment.id, **_answer_fields())
        return f"Comment {answered.id} answered: {_disposition_label(answered.disposition)}."

    return _change(review_id, f"#comment-{comment_id}", change)


@blueprint.route("/reviews/<int:review_id>/comments/groups/<int:group_id>/disposition", methods=["POST"])
@staff_required
def comment_group_disposition(review_id: int, group_id: int) -> Response:
    current = _require_ombuds("record dispositions")

    def change() -> str:
        fields = _answer_fields()
        count = comments.disposition_group(db(), current, review_id, group_id, **fields)
        noun = "comment" if count == 1 else "comments"
        return f"{count} {noun} of the group answered: {_disposition_label(fields['disposition'])}."

    return _change(review_id, f"#group-{group_id}", change)


@blueprint.route("/reviews/<int:review_id>/comments/<int:comment_id>/hide", methods=["POST"])
@staff_required
def comment_hide(review_id: int, comment_id: int) -> Response:
    current = _require_ombuds("hide comments")
    comment = _comment_of(review_id, comment_id)

    def change() -> str:
        comments.hide(db(), current, comment.id, request.form.get("reason", ""), now=_now())
        return f"Comment {comment.id} is hidden; the public sees only the reason."

    return _change(review_id, f"#comment-{comment_id}", change)


@blueprint.route("/reviews/<int:review_id>/comments/<int:comment_id>/unhide", methods=["POST"])
@staff_required
def comment_unhide(review_id: int, comment_id: int) -> Response:
    current = _require_ombuds("show hidden comments again")
    comment = _comment_of(review_id, comment_id)

    def change() -> str:
        comments.unhide(db(), current, comment.id)
        return f"Comment {comment.id} is shown again."

    return _change(review_id, f"#comment-{comment_id}", change)


@blueprint.route("/reviews/<int:review_id>/comments/<int:comment_id>/disclosure", methods=["POST"])
@staff_required
def comment_disclosure(review_id: int, comment_id: int) -> Response:
    current = _require_ombuds("record a commenter's permission to show their name")
    comment = _comment_of(review_id, comment_id)
    granted = request.form.get("granted", "")
    if granted not in ("yes", "no"):
        abort(400, description="'granted' is 'yes' or 'no'.")

    def change() -> str:
        comments.set_disclosure(db(), current, comment, granted == "yes", now=_now())
        if granted == "yes":
            return f"Recorded: the commenter of comment {comment.id} allows their name to be shown."
        return f"Recorded: the name on comment {comment.id} is withheld again."

    return _change(review_id, f"#comment-{comment_id}", change)


def _passage_target(review: Review, quote: str) -> dict[str, int] | None:
    """The first place the quoted words stand in the draft under review (what the caller was reading)."""
    quote = quote.strip()
    if not quote:
        return None
    text = policies.version_text(db(), review.policy,
                                 policies.get_version(db(), actor(), review.policy, review.version_number))
    start = text.find(quote)
    if start < 0:
        raise InvalidValue("Those words are not in the draft under review; copy them exactly or leave the passage empty.")
    return {"start": start, "end": start + len(quote)}


def _receipt_link(token: str) -> str | None:
    """The public portal's receipt page for a new comment (the status of the comment, without a name)."""
    if RECEIPT_ENDPOINT not in current_app.view_functions:
        return None
    return current_app.config["POLICYFLOW_SETTINGS"].base_url.rstrip("/") + url_for(RECEIPT_ENDPOINT, token=token)


@blueprint.route("/reviews/<int:review_id>/comments/new", methods=["POST"])
@staff_required
def comment_file(review_id: int) -> Response:
    """Ombuds staff file a comment for someone who called, wrote or came in (recorded as such)."""
    current = _require_ombuds("file a comment on someone's behalf")
    review = reviews.get_review(db(), current, review_id)

    def change() -> str:
        channel = request.form.get("filed_via", "")
        if not channel:
            raise InvalidValue("Say how the comment reached the office (phone, e-mail, letter, in person, a meeting).")
        submitted = comments.submit(
            db(), current, review.id, body=request.form.get("body", ""), identity=request.form.get("identity", ""),
            name=request.form.get("name") or None, email=request.form.get("email") or None,
            category=request.form.get("category") or None, target=_passage_target(review, request.form.get("passage", "")),
            allowed_categories=tuple(vocabularies().comment_categories), filed_via=channel, now=_now())
        link = _receipt_link(submitted.receipt_token)
        receipt = (f"Give the commenter their receipt link: {link}" if link
                   else f"Give the commenter their receipt code: {submitted.receipt_token}")
        return f"Comment {submitted.comment.id} filed on the commenter's behalf. {receipt}"

    return _change(review_id, "#file-comment", change)


# ---------------------------------------------------------------------------------------------
# The response to comments
# ---------------------------------------------------------------------------------------------

@dataclass
class Answer:
    disposition: str
    response: str
    changed_in_version: int | None
    count: int


@dataclass
class ShownName:
    name: str
    count: int
    sealed: bool  # a confidential name only ombuds staff may read


@dataclass
class HiddenComment:
    id: int
    reason: str
    name: str | None  # only for ombuds staff
    body: str | None  # only for ombuds staff


@dataclass
class GroupView:
    id: int
    count: int
    passage: str | None
    body: str | None  # the words the group shares (its first shown comment)
    categories: list[tuple[str, int]]
    names: list[ShownName]
    answers: list[Answer]
    undecided: int
    hidden: list[HiddenComment] = field(default_factory=list)
    more_names: int = 0  # names beyond the first NAMES_SHOWN (a mass campaign): all of them are in the downloads


def _group_view(group: comments.ReportGroup, viewer: Actor, ombuds: bool, labels: dict[str, str]) -> GroupView:
    """One group of the report as the viewer may read it: its shared words, names, categories and answers."""
    first, members = group.first, group.members
    names: dict[str, ShownName] = {}
    categories: dict[str, int] = {}
    answers: dict[tuple[str, str, int | None], Answer] = {}
    undecided = 0
    for comment in members:
        label = _category_label(comment.category, labels)
        categories[label] = categories.get(label, 0) + 1
        if comment.hidden_at is not None:
            continue  # the public learns that a comment was hidden and why, not whose it was
        name = comments.shown_name(comment, viewer)
        sealed = ombuds and comment.identity_mode == "confidential" and not comment.disclosure_permitted
        entry = names.setdefault(f"{sealed}:{name}", ShownName(name, 0, sealed))
        entry.count += 1
        if comment.disposition is None:
            undecided += 1
        else:
            key = (comment.disposition, comment.response or "", comment.changed_in_version)
            answers.setdefault(key, Answer(*key, 0)).count += 1
    hidden = [group.full.get(c.id, c) for c in members if c.hidden_at is not None]
    return GroupView(
        id=first.group_id or first.id, count=len(members), passage=first.exact,
        body=first.body if first.hidden_at is None else None,
        categories=sorted(categories.items(), key=lambda item: -item[1]),
        names=list(itertools.islice(names.values(), NAMES_SHOWN)), more_names=max(0, len(names) - NAMES_SHOWN),
        answers=list(answers.values()), undecided=undecided,
        hidden=[HiddenComment(c.id, c.hidden_reason or "", comments.shown_name(c, viewer) if ombuds else None,
                              c.body if ombuds else None) for c in hidden],
    )


def _statistics(report: comments.Report, masked: bool) -> dict[str, list[tuple[str, str]]]:
    vocabulary = vocabularies().comment_categories
    order = {term: n for n, term in enumerate(vocabulary)}
    categories = sorted(report.by_category.items(), key=lambda item: (item[0] == "not_given", order.get(item[0], len(order)),
                                                                      item[0]))
    dispositions = [(d, report.by_disposition[d]) for d in (*DISPOSITIONS, "none") if report.by_disposition.get(d)]
    return {
        "categories": [(_category_label(term, vocabulary), comments.shown_count(n, masked)) for term, n in categories],
        "dispositions": [(_disposition_label(d), comments.shown_count(n, masked)) for d, n in dispositions],
        "identities": [(comments.IDENTITY_LABELS[m], comments.shown_count(report.by_identity[m], masked))
                       for m in IDENTITY_MODES if report.by_identity.get(m)],
    }


def _report_page(viewer: Actor, review_id: int, *, public: bool) -> Response:
    # A page of groups by default; ?page=all is the whole report on one page, for printing.
    whole = request.args.get("page") == "all"
    report = comments.report(db(), viewer, review_id, page=None if whole else page_number())
    review = report.review
    ombuds = comments.sees_identities(viewer)
    labels = vocabularies().comment_categories
    # Built while the page streams out, a group at a time.
    sections = ((section, (_group_view(group, viewer, ombuds, labels) for group in section.groups))
                for section in report.sections)
    endpoint = "pages.public_comment_report" if public else "pages.comment_report"
    # Streamed: the whole report of tens of thousands of comments reaches the reader section by section.
    # Everything the template reads is loaded here, so it needs no database.
    return current_app.response_class(stream_template(
        "comments/report.html", review=review, report=report, sections=sections, public=public, ombuds=ombuds, whole=whole,
        page_link=lambda number: url_for(endpoint, review_id=review.id, page=number),
        statistics=_statistics(report, masked=public), total=comments.shown_count(report.total, public),
        hidden=comments.shown_count(report.hidden, public),
        linkable=set(policies.visible_version_numbers(db(), viewer, review.policy)),
        stage=reviews.definition_of(review).stage(review.state),
        csv_url=url_for(endpoint + "_csv", review_id=review.id), json_url=url_for(endpoint + "_json", review_id=review.id),
        equity_url=_equity_url(review, public=public),
    ))


def _equity_url(review: Review, *, public: bool) -> str | None:
    """Where the report links to the review's equity assessment: the public one only once the policy is published."""
    if equity.is_public(db(), review):
        return url_for("pages.public_equity_assessment", review_id=review.id)
    if not public and equity.for_review(db(), review) is not None:
        return url_for("pages.equity_assessment", review_id=review.id)
    return None


@blueprint.route("/reviews/<int:review_id>/report")
@staff_required
def comment_report(review_id: int) -> Response:
    return _report_page(actor(), review_id, public=False)


@blueprint.route("/public/reviews/<int:review_id>/report")
def public_comment_report(review_id: int) -> Response:
    return _report_page(Actor.anonymous(), review_id, public=True)


# ---------------------------------------------------------------------------------------------
# Exports: streamed, one pass over the rows, no query per row
# ---------------------------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_JSON = json.JSONEncoder(ensure_ascii=False, default=str)


def _csv_line(values: Iterable[Any]) -> str:
    """One RFC 4180 record. Every text is quoted (always valid, and three times faster than the csv module
    here, which the 2-second target for 50,000 comments needs); text a spreadsheet would run as a formula
    starts with ' instead; flags are true/false."""
    cells = []
    for value in values:
        kind = type(value)
        if value is None:
            cells.append("")
        elif kind is str:
            cells.append('"' + text_cell(value).replace('"', '""') + '"')
        elif kind is bool:
            cells.append("true" if value else "false")
        else:
            cells.append(str(value))
    return ",".join(cells) + "\r\n"


def _csv_chunks(rows: Iterator[dict[str, Any]], ombuds: bool) -> Iterator[str]:
    """The header, then CSV text a thousand rows at a time."""
    first = next(rows, None)
    header = list(first) if first is not None else [*EXPORT_FIELDS, *(OMBUDS_EXPORT_FIELDS if ombuds else ())]
    yield ",".join(header) + "\r\n"
    if first is None:
        return
    pick = operator.itemgetter(*header)
    chunk: list[str] = []
    for row in itertools.chain((first,), rows):
        chunk.append(_csv_line(pick(row)))
        if len(chunk) == CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)


def _json_chunks(review: dict[str, Any], rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield '{"review": ' + _JSON.encode(review) + ', "items": ['
    chunk: list[str] = []
    for n, row in enumerate(rows):
        chunk.append(("," if n else "") + _JSON.encode(row))
        if len(chunk) == CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk) + "]}"


def _export(viewer: Actor, review_id: int, kind: str) -> Response:
    session = db()
    rows = comments.export_rows(session, viewer, review_id)  # refuses (404) before anything is streamed
    review = session.get(Review, review_id)
    assert review is not None  # export_rows found it
    about = {"id": review.id, "policy": review.policy.code, "title": review.policy.title, "version": review.version_number,
             "state": review.state, "public": not viewer.is_staff}
    # The stream outlives the view: it takes the request's session over and closes it after the last row
    # (the request's own commit would otherwise close it before the first row is read).
    g.pop("db", None)
    chunks = _csv_chunks(rows, comments.sees_identities(viewer)) if kind == "csv" else _json_chunks(about, rows)

    def stream() -> Iterator[str]:
        try:
            yield from chunks
        finally:
            session.rollback()
            session.close()

    name = f"review-{review.id}-{_SAFE_NAME.sub('-', review.policy.code)}-response-to-comments.{kind}"
    response = Response(stream_with_context(stream()),
                        mimetype="text/csv" if kind == "csv" else "application/json")
    if kind == "csv":
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/reviews/<int:review_id>/report.csv")
@staff_required
def comment_report_csv(review_id: int) -> Response:
    return _export(actor(), review_id, "csv")


@blueprint.route("/reviews/<int:review_id>/report.json")
@staff_required
def comment_report_json(review_id: int) -> Response:
    return _export(actor(), review_id, "json")


@blueprint.route("/public/reviews/<int:review_id>/report.csv")
def public_comment_report_csv(review_id: int) -> Response:
    return _export(Actor.anonymous(), review_id, "csv")


@blueprint.route("/public/reviews/<int:review_id>/report.json")
def public_comment_report_json(review_id: int) -> Response:
    return _export(Actor.anonymous(), review_id, "json")
