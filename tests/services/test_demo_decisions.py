"""The demo's leadership decisions and review dates: what a newcomer sees on the dashboard and review pages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.models import Decision, Policy, Review
from policyflow.models.base import utcnow
from policyflow.services import decisions


def _review(session: Session, code: str) -> Review:
    return session.scalars(select(Review).join(Policy).where(Policy.code == code).order_by(Review.id.desc())).first()


def test_one_review_waits_for_approval_with_one_approval_recorded(session: Session) -> None:
    review = _review(session, "GAE")
    assert review.state == "approval"
    status = decisions.quorum(session, review)
    assert [u.username for u in status.approvers] == ["leader1"] and not status.met
    assert status.positions_missing == ["Chief Equity and Social Justice Officer"]


def test_the_published_review_was_approved_by_the_quorum(session: Session) -> None:
    review = _review(session, "JD")
    assert review.state == "published"
    rows = session.scalars(select(Decision).where(Decision.review_id == review.id)).all()
    assert sorted((d.user.username, d.decision) for d in rows) == [("leader1", "approve"), ("leader2", "approve")]
    assert {d.position for d in rows} == {"Superintendent", "Chief Equity and Social Justice Officer"}


def test_published_policies_have_review_dates_one_due_soon_and_one_overdue(session: Session) -> None:
    today = utcnow().date()
    published = session.scalars(select(Policy).where(Policy.published_version_number.is_not(None))).all()
    dates = {p.code: p.next_review_date for p in published}
    assert all(dates.values())
    assert today < dates["ADF"] <= today + timedelta(days=60)  # within the periodic review lead time
    assert dates["IHBEA"] < today  # overdue: shown on the dashboard
    adf = next(p for p in published if p.code == "ADF")
    assert adf.owner_id is not None
