"""The leadership packet and the review pipeline report (pages and CSV)."""

from __future__ import annotations

import csv
import io

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.models import Policy, Review
from tests.conftest import login


def _review(session: Session, code: str) -> Review:
    return session.scalars(select(Review).join(Policy).where(Policy.code == code).order_by(Review.id.desc())).first()


def test_the_packet_gathers_what_leadership_reads(client: FlaskClient, session: Session) -> None:
    review = _review(session, "GAE")
    login(client, "leader2")
    response = client.get(f"/reviews/{review.id}/packet")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for heading in ("1. What changes", "2. Equity review", "3. Public comment", "4. Notes still open", "5. Decisions", "6. Timeline"):
        assert heading in page
    assert "<ins" in page or "<del" in page  # the redline against the published version
    equity = page.split('id="equity-heading"')[1].split('id="comments-heading"')[0]
    assert "Assessment of version" in equity and "<strong>complete</strong>" in equity and "What is this policy for" in equity
    assert "The full response to comments" in page and "What the district did" in page
    assert "Dr. Priya Raman (Superintendent)" in page
    assert "Still needed: 1 more approval (1 of 2 so far) and an approval from the Chief Equity" in page
    assert "A family raised this with the ombuds office in confidence" not in page  # confidential notes stay with ombuds
    assert f'href="/reviews/{review.id}/packet"' in client.get(f"/reviews/{review.id}").get_data(as_text=True)


def test_the_packet_is_for_staff(client: FlaskClient, session: Session) -> None:
    review = _review(session, "GAE")
    assert client.get(f"/reviews/{review.id}/packet").status_code == 302  # to sign in
    login(client, "stakeholder")
    assert client.get(f"/reviews/{review.id}/packet").status_code == 403
    assert client.get("/reports/pipeline").status_code == 403 and client.get("/reports/pipeline.csv").status_code == 403


def test_the_pipeline_shows_time_in_each_stage_and_what_is_overdue(client: FlaskClient, app: Flask, session: Session) -> None:
    login(client, "ombuds")
    page = client.get("/reports/pipeline").get_data(as_text=True)
    assert "Time in each stage" in page and "Equity review" in page and "Median stay (days)" in page
    overdue = page.split('id="overdue-heading"')[1]
    assert "JICFB" in overdue and "days late" in overdue
    response = client.get("/reports/pipeline.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    jicfb = [r for r in rows if r["policy"] == "JICFB"]
    assert [r["stage"] for r in jicfb] == ["draft", "equity_review"]
    assert jicfb[0]["left_at"] and float(jicfb[0]["days"]) == 4.0 and jicfb[1]["overdue"] == "true" and not jicfb[1]["left_at"]
    jd = [r for r in rows if r["policy"] == "JD"]
    assert [r["stage"] for r in jd] == ["draft", "equity_review", "stakeholder_comment", "approval"]  # no time in 'published'


def test_the_packet_never_carries_confidential_notes_even_when_ombuds_print_it(client: FlaskClient, session: Session) -> None:
    review = _review(session, "GAE")
    login(client, "ombuds")
    page = client.get(f"/reviews/{review.id}/packet").get_data(as_text=True)
    assert "A family raised this with the ombuds office in confidence" not in page
    assert "Confidential notes of the ombuds office are never part of this packet." in page
