"""Printable reports for staff: the leadership packet of a review, and the review pipeline."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import current_app, render_template
from werkzeug.wrappers import Response

from policyflow.core.redline import change_stats, inline_html
from policyflow.core.spreadsheet import text_cell
from policyflow.services import annotations, comments, decisions, pipeline, policies, reviews
from policyflow.web.pages import blueprint, staff_required
from policyflow.web.requests import actor, db


@blueprint.route("/reviews/<int:review_id>/packet")
@staff_required
def review_packet(review_id: int) -> str:
    """Everything leadership reads before deciding, on one printable page with a stable address."""
    session, current = db(), actor()
    review = reviews.get_review(session, current, review_id)
    definition = reviews.definition_of(review)
    policy = review.policy
    base = policy.published_version_number if policy.published_version_number not in (None, review.version_number) else None
    comparison = policies.compare(session, current, policy, base, review.version_number) if base else None
    version = policies.get_version(session, current, policy, review.version_number)
    # The packet is printed for leadership: confidential notes (ombuds only) never go in it, whoever prints it.
    open_notes = [placed for placed in annotations.on_version(session, current, policy, review.version_number)
                  if placed.annotation.status == "open" and placed.annotation.visibility != "confidential"]
    notes = [placed for placed in open_notes if placed.status != "orphaned"]
    orphaned = [placed for placed in open_notes if placed.status == "orphaned"]
    comment_report = comments.report(session, current, review.id, page=1, page_size=1)
    stage = decisions.deciding_stage(review)
    return render_template(
        "reviews/packet.html", review=review, definition=definition, stage=definition.stage(review.state), policy=policy,
        version=version, comparison=comparison, redline=inline_html(comparison.ops) if comparison else None,
        stats=change_stats(comparison.ops) if comparison else None, notes=notes, orphaned=orphaned,
        unchanged=policy.published_version_number == review.version_number, comment_report=comment_report,
        text_html=policies.version_html(session, policy, version),
        rule=stage.approval if stage else None, quorum=decisions.quorum(session, review) if stage else None,
        history=decisions.history(session, current, review), recusals=decisions.recusals(session, review),
        labels=decisions.DECISION_LABELS, disposition_labels=comments.DISPOSITION_LABELS,
    )


@blueprint.route("/reports/pipeline")
@staff_required
def pipeline_report() -> str:
    now = current_app.config["CLOCK"]()
    return render_template("reports/pipeline.html", pipeline=pipeline.pipeline(db(), actor(), now), now=now)


CSV_COLUMNS = ("review", "policy", "title", "workflow", "stage", "entered_at", "left_at", "days", "overdue", "review_ended_at")


@blueprint.route("/reports/pipeline.csv")
@staff_required
def pipeline_csv() -> Response:
    """Every stage stay of every review, one row each, for a spreadsheet."""
    now = current_app.config["CLOCK"]()
    visits = list(pipeline.visits(db(), actor(), now))

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for visit in visits:
            writer.writerow([visit.review.id, visit.review.policy.code, text_cell(visit.review.policy.title),
                             visit.review.workflow_name, visit.stage, visit.entered_at.isoformat(),
                             visit.left_at.isoformat() if visit.left_at else "", f"{visit.days:.1f}",
                             "true" if visit.overdue else "false",
                             visit.review.ended_at.isoformat() if visit.review.ended_at else ""])
        yield buffer.getvalue()

    response = Response(rows(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="review-pipeline.csv"'
    return response
