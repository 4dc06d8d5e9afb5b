"""The demo's concerns: twenty across policies, channels and groups; one referred, one with consent, one past retention."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.models import Concern, ConcernConsent, ConcernDisclosure, ConcernIdentity, ConcernNote
from policyflow.services import demo_concerns


def test_twenty_concerns_in_every_state_the_office_sees(session: Session) -> None:
    rows = session.scalars(select(Concern).order_by(Concern.id)).all()
    assert len(rows) == len(demo_concerns.DEMO_CONCERNS) == 20
    assert {c.channel for c in rows} == {"phone", "email", "walk_in", "feedback_platform", "school_visit"}
    assert len({link.policy.code for c in rows for link in c.links}) >= 7
    assert len({g for c in rows for g in c.subgroups}) >= 6 and any(link.exact for c in rows for link in c.links)
    referred = [c for c in rows if c.status == "referred"]
    assert len(referred) == 1
    disclosure = session.scalars(select(ConcernDisclosure).where(ConcernDisclosure.concern_id == referred[0].id)).one()
    assert disclosure.grounds == "consent" and disclosure.referral_target == "employee-relations"
    active = session.scalars(select(ConcernConsent).where(ConcernConsent.revoked_at.is_(None))).all()
    assert {c.concern_id for c in active} >= {referred[0].id} and len({c.concern_id for c in active}) == 2
    purged = [c for c in rows if c.notes_purged_at is not None]
    assert len(purged) == 1 and purged[0].themes == ["communication"]
    assert session.scalar(select(func.count()).select_from(ConcernIdentity).where(ConcernIdentity.concern_id == purged[0].id)) == 0
    assert session.scalar(select(func.count()).select_from(ConcernNote).where(ConcernNote.concern_id == purged[0].id)) == 0
    assert all("@" not in c.summary for c in rows)  # summaries are written without names or contacts
