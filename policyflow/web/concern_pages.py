"""Pages for concerns (ombuds staff only): intake, the list, and one concern with its informal path,
working notes, consent, referral and the documented exception."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from policyflow.core.errors import InvalidValue, PermissionDenied, PolicyflowError
from policyflow.core.spreadsheet import text_cell
from policyflow.models import CONCERN_CHANNELS, CONCERN_RAISERS, CONCERN_STATUSES
from policyflow.services import concerns, equity
from policyflow.web.pages import _requires, blueprint
from policyflow.web.requests import actor, db, form_date, vocabularies

ombuds_required = _requires(concerns.is_ombuds, "Concerns are for ombuds staff only: the office hears them in confidence.")
CHANNEL_LABELS = {"phone": "Phone", "email": "E-mail", "walk_in": "Walk-in", "feedback_platform": "The district's feedback platform",
                  "school_visit": "School visit"}
RAISER_LABELS = {"student": "Student", "parent_guardian": "Parent or guardian", "employee": "Employee",
                 "community_member": "Community member", "organization": "Organization"}
STATUS_LABELS = {"open": "Open", "informal_resolution": "In informal resolution", "resolved": "Resolved", "referred": "Referred"}


def _now() -> datetime:
    return current_app.config["CLOCK"]()


def subgroups() -> dict[str, str]:
    """The student and staff groups of the equity assessment: one list for concerns and assessments."""
    definition = equity.current_definition(current_app.config["POLICYFLOW_SETTINGS"].workflows_dir)
    return dict(definition.question("groups").options)


def _labels() -> dict[str, Any]:
    words = vocabularies()
    return {"channels": CHANNEL_LABELS, "raisers": RAISER_LABELS, "statuses": STATUS_LABELS, "themes": words.concern_themes,
            "subgroups": subgroups(), "targets": words.referral_targets,
            "grounds": concerns.EXCEPTION_GROUNDS}


@blueprint.route("/concerns")
@ombuds_required
def concern_list() -> str:
    filters = {key: request.args.get(key, "") for key in ("status", "theme", "subgroup", "policy", "q")}
    if filters["status"] and filters["status"] not in CONCERN_STATUSES:
        raise InvalidValue(f"The status is one of: {', '.join(CONCERN_STATUSES)}.")
    items = concerns.list_concerns(db(), actor(), status=filters["status"], theme=filters["theme"], subgroup=filters["subgroup"],
                                   policy_code=filters["policy"], q=filters["q"])
    return render_template("concerns/list.html", items=items, filters=filters, labels=_labels())


def _intake(error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("concerns/new.html", labels=_labels(), channels=CONCERN_CHANNELS, raisers=CONCERN_RAISERS,
                           error=error, form=request.form, today=_now().date()), status


@blueprint.route("/concerns/new", methods=["GET", "POST"])
@ombuds_required
def concern_new() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _intake()
    codes = [code.strip().upper() for code in request.form.get("policies", "").replace(";", ",").split(",") if code.strip()]
    try:
        links = [concerns.PolicyLink(code) for code in codes]
        quote = " ".join(request.form.get("passage", "").split())
        if quote:
            if not codes:
                raise InvalidValue("Name the policy the passage is from.")
            links[0] = _passage_link(codes[0], quote)
        concern = concerns.record(
            db(), actor(), received_on=form_date("received_on"), channel=request.form.get("channel"),
            raised_by=request.form.get("raised_by"), summary=request.form.get("summary"),
            themes=request.form.getlist("themes"), subgroups=request.form.getlist("subgroups"),
            school_or_department=request.form.get("school_or_department"), name=request.form.get("name"),
            contact=request.form.get("contact"), links=links,
            allowed_themes=vocabularies().concern_themes, allowed_subgroups=subgroups(), now=_now())
    except PolicyflowError as error:
        db().rollback()
        return _intake(error.message, error.status)
    flash(f"Concern {concern.id} recorded. The person's name and contact are sealed: only you and the ombuds lead can read them.",
          "success")
    return redirect(url_for("pages.concern_detail", concern_id=concern.id))


def _passage_link(code: str, quote: str) -> concerns.PolicyLink:
    """The exact words typed (or pasted) from the policy's newest version, found in its text."""
    from policyflow.services import policies

    policy = policies.get_policy(db(), actor(), code)
    text = policies.version_text(db(), policy, policies.get_version(db(), actor(), policy, policy.head_version_number))
    start = text.find(quote)
    if start < 0:
        raise InvalidValue(f"The passage was not found in {policy.code} version {policy.head_version_number}; "
                           "copy the words exactly as they appear.")
    return concerns.PolicyLink(policy.code, policy.head_version_number, start, start + len(quote))


def _detail(concern_id: int, error: str | None = None, status: int = 200) -> tuple[str, int]:
    view = concerns.get(db(), actor(), concern_id)
    return render_template("concerns/show.html", view=view, concern=view.concern, labels=_labels(), error=error,
                           next_statuses=concerns.NEXT_STATUSES.get(view.concern.status, ()), today=_now().date()), status


@blueprint.route("/concerns/<int:concern_id>")
@ombuds_required
def concern_detail(concern_id: int) -> tuple[str, int]:
    return _detail(concern_id)


def _act(concern_id: int, done: str, change: Any) -> Response | tuple[str, int]:
    try:
        change()
    except PolicyflowError as error:
        db().rollback()
        if isinstance(error, PermissionDenied):
            raise
        return _detail(concern_id, error.message, error.status)
    flash(done, "success")
    return redirect(url_for("pages.concern_detail", concern_id=concern_id))


@blueprint.route("/concerns/<int:concern_id>/status", methods=["POST"])
@ombuds_required
def concern_status(concern_id: int) -> Response | tuple[str, int]:
    status = request.form.get("status", "")
    return _act(concern_id, f"The concern is now {STATUS_LABELS.get(status, status).lower()}.",
                lambda: concerns.set_status(db(), actor(), concern_id, status, outcome=request.form.get("outcome"), now=_now()))


@blueprint.route("/concerns/<int:concern_id>/notes", methods=["POST"])
@ombuds_required
def concern_note(concern_id: int) -> Response | tuple[str, int]:
    return _act(concern_id, "Working note added.",
                lambda: concerns.add_note(db(), actor(), concern_id, request.form.get("body"), now=_now()))


@blueprint.route("/concerns/<int:concern_id>/consents", methods=["POST"])
@ombuds_required
def concern_consent(concern_id: int) -> Response | tuple[str, int]:
    return _act(concern_id, "Consent recorded.", lambda: concerns.record_consent(
        db(), actor(), concern_id, what=request.form.get("what"), with_whom=request.form.get("with_whom"),
        given_on=form_date("given_on"), now=_now()))


@blueprint.route("/concerns/<int:concern_id>/consents/<int:consent_id>/revoke", methods=["POST"])
@ombuds_required
def concern_consent_revoke(concern_id: int, consent_id: int) -> Response | tuple[str, int]:
    return _act(concern_id, "Consent withdrawn: nothing more is shared on it.",
                lambda: concerns.revoke_consent(db(), actor(), concern_id, consent_id, now=_now()))


@blueprint.route("/concerns/<int:concern_id>/referral", methods=["POST"])
@ombuds_required
def concern_referral(concern_id: int) -> Response | tuple[str, int]:
    consent = request.form.get("consent_id", "")
    return _act(concern_id, "Referral recorded, with what was shared.", lambda: concerns.refer(
        db(), actor(), concern_id, target=request.form.get("target"), shared=request.form.get("shared"),
        consent_id=int(consent) if consent.isdigit() else None, allowed_targets=vocabularies().referral_targets, now=_now()))


@blueprint.route("/concerns/<int:concern_id>/exception", methods=["POST"])
@ombuds_required
def concern_exception(concern_id: int) -> Response | tuple[str, int]:
    return _act(concern_id, "The disclosure and its justification are recorded; the ombuds lead has been told.",
                lambda: concerns.disclose_on_exception(
                    db(), actor(), concern_id, grounds=request.form.get("grounds"), shared=request.form.get("shared"),
                    shared_with=request.form.get("shared_with"), justification=request.form.get("justification"), now=_now()))


@blueprint.route("/policies/<code>/concerns")
@ombuds_required
def policy_concerns(code: str) -> str:
    """Policy analysis: what concerns say about this policy, and a heat layer over the passages they point at."""
    from policyflow.core.highlight import Highlight, highlight_html
    from policyflow.services import policies

    session, current = db(), actor()
    policy = policies.get_policy(session, current, code)
    analysis = concerns.policy_analysis(session, current, policy)
    version = policies.get_version(session, current, policy, analysis.version_number)
    source = policies.version_text(session, policy, version)
    # Each passage is one layer; where several overlap the mark is darker (at most three shades).
    layers = [Highlight(number, start, end, "concern-heat") for number, (start, end, _n) in enumerate(analysis.passages, 1)]
    heat = highlight_html(source, policies.version_html(session, policy, version), layers, base_class="heat",
                          anchor_prefix="passage-")
    return render_template("concerns/policy.html", policy=policy, analysis=analysis, heat=heat, labels=_labels(),
                           shown=lambda n: concerns.shown_count(n, analysis.masked), excerpt=lambda s, e: source[s:e])


@blueprint.app_template_global()
def concerns_about(policy: Any) -> list[Any]:
    """Concerns pointing at the policy, offered as the rationale when ombuds staff start a review."""
    return concerns.about_policy(db(), actor(), policy)


@blueprint.app_template_global()
def review_rationale(review: Any) -> dict[str, Any]:
    """The concerns behind a review, de-identified, with small counts masked for all but the ombuds lead."""
    current = actor()
    masked = not concerns.is_lead(current)
    return {"rows": concerns.rationale(db(), current, review), "labels": _labels(),
            "shown": lambda n: concerns.shown_count(n, masked)}


@blueprint.route("/concerns/overview")
@ombuds_required
def concern_dashboard() -> str:
    today = _now().date()
    board = concerns.dashboard(db(), actor(), today)
    return render_template("concerns/dashboard.html", board=board, labels=_labels(), today=today,
                           shown=lambda n: concerns.shown_count(n, board.masked))


REPORT_TABLES = (("theme", "By theme"), ("subgroup", "By student group"), ("channel", "By channel"),
                 ("outcome", "By outcome"), ("policy", "By policy"))


def _year() -> int:
    raw = request.args.get("year", "")
    if not raw:
        return _now().year
    if not raw.isdigit():
        raise InvalidValue(f"'year' is a year such as 2026, not {raw[:20]!r}.")
    return int(raw)


@blueprint.route("/concerns/annual-report")
@ombuds_required
def concern_annual_report() -> str:
    report = concerns.annual_report(db(), actor(), _year())
    labels = _labels()
    names = {"theme": labels["themes"], "subgroup": labels["subgroups"], "channel": CHANNEL_LABELS, "outcome": STATUS_LABELS}
    return render_template("concerns/annual.html", report=report, tables=REPORT_TABLES, names=names,
                           shown=lambda n: concerns.shown_count(n, True))


@blueprint.route("/concerns/annual-report.csv")
@ombuds_required
def concern_annual_report_csv() -> Response:
    """The same figures as CSV, small counts suppressed ("fewer than 3") as in the printed report."""
    import csv
    import io

    report = concerns.annual_report(db(), actor(), _year())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["year", "table", "key", "concerns"])
    writer.writerow([report.year, "total", "", concerns.shown_count(report.total, True)])
    for table, _title in REPORT_TABLES:
        for key, count in sorted(report.tables[table].items()):
            writer.writerow([report.year, table, text_cell(str(key)), concerns.shown_count(count, True)])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="concerns-{report.year}.csv"'
    return response
