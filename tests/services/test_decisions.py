"""Leadership decisions: bound to the exact version, quorum rules, independence and impartiality,
publishing with an effective date, recusal, and what a new version does to earlier approvals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from policyflow.core.workflow import load_workflow
from policyflow.models import Decision, Event, Notification, OutboxMessage, PolicySubscription, PolicyVersion, Review
from policyflow.resources import workflows_dir
from policyflow.services import accounts, decisions, policies, reviews
from policyflow.services.actors import Actor
from tests.conftest import STORE
from tests.reviewing import NOW, act, approve, complete_assessment, explain_changes, start, user, who

LATER = NOW + timedelta(days=40)


def in_approval(session: Session, code: str = "DEC1") -> Review:
    review = start(session, code, comment_opens_on=date(2026, 3, 10), comment_closes_on=date(2026, 4, 9))
    act(session, review, "ombuds", "submit_for_equity_review")
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    act(session, review, "ombuds", "close_comment_period", now=LATER)
    assert review.state == "approval"
    return review


def decide(session: Session, review: Review, username: str, decision: str = "approve", note: str = "",
           version: int | None = None) -> Decision:
    return decisions.decide(session, who(session, username), review.id, decision=decision, note=note,
                            version=review.version_number if version is None else version, now=LATER)


def new_version(session: Session, review: Review, text: str) -> None:
    policies.save_version(session, who(session, "ombuds"), STORE, review.policy, text=text, summary="Revised.",
                          base_version=review.policy.head_version_number)
    session.flush()


def test_a_decision_is_bound_to_the_exact_version_read(session: Session) -> None:
    review = in_approval(session)
    record = decide(session, review, "leader1")
    sha = session.scalar(select(PolicyVersion.sha256).where(PolicyVersion.policy_id == review.policy_id,
                                                            PolicyVersion.number == review.version_number))
    assert (record.version_number, record.version_sha256, record.position) == (1, sha, "Superintendent")
    with pytest.raises(Conflict, match="You read version 7, but version 1 is under review") as stale:
        decide(session, review, "leader2", version=7)
    assert stale.value.status == 409 and stale.value.extra["current_version"] == 1
    with pytest.raises(InvalidValue, match="Say which version you read"):
        decisions.decide(session, who(session, "leader2"), review.id, decision="approve", version=None)
    with pytest.raises(InvalidValue, match="A decision is one of: approve, request_changes, reject"):
        decide(session, review, "leader2", "maybe")
    events = session.scalars(select(Event).where(Event.action == "review.decision")).all()
    assert events[-1].data["sha256"] == sha and events[-1].data["version"] == 1


def test_the_quorum_needs_two_approvals_including_the_equity_officer(session: Session) -> None:
    review = in_approval(session)
    with pytest.raises(Conflict, match=r"2 more approvals \(0 of 2 so far\) and an approval from the Chief Equity"):
        act(session, review, "leader1", "publish", now=LATER)
    decide(session, review, "leader1")
    status = decisions.quorum(session, review)
    assert not status.met and status.positions_missing == ["Chief Equity and Social Justice Officer"]
    # A third leader without the position does not make up for the equity officer.
    third = accounts.create_user(session, Actor.system(), "leader3", "demo-password-123", ["leadership"],
                                 display_name="Third Leader", position="Chief Financial Officer")
    decisions.decide(session, Actor.of(third), review.id, decision="approve", version=1, now=LATER)
    assert decisions.quorum(session, review).shortfall == "an approval from the Chief Equity and Social Justice Officer"
    decide(session, review, "leader2")
    assert decisions.quorum(session, review).met
    notified = session.scalars(select(Notification).where(Notification.kind == "quorum_reached",
                                                          Notification.review_id == review.id)).all()
    assert {n.user_id for n in notified} >= {user(session, "leader1").id, user(session, "ombuds").id}
    act(session, review, "leader1", "publish", now=LATER)
    assert review.state == "published"


def test_ombuds_staff_never_decide(session: Session) -> None:
    review = in_approval(session)
    with pytest.raises(PermissionDenied, match="Ombuds staff do not record decisions: the office is independent and impartial"):
        decide(session, review, "ombuds")
    # Not even an ombuds who also holds a leadership role.
    both = accounts.create_user(session, Actor.system(), "ombudslead", "demo-password-123", ["ombuds", "leadership"])
    with pytest.raises(PermissionDenied, match="Ombuds staff do not record decisions"):
        decisions.decide(session, Actor.of(both), review.id, decision="approve", version=1)
    for username in ("reviewer", "admin"):
        with pytest.raises(PermissionDenied, match="Only district leadership"):
            decide(session, review, username)
    with pytest.raises(NotFound):  # a stakeholder does not even learn the review exists
        decide(session, review, "stakeholder")
    assert session.scalars(select(Decision).where(Decision.review_id == review.id)).all() == []


def test_the_author_of_the_version_cannot_approve_it(session: Session) -> None:
    review = in_approval(session)
    act(session, review, "leader1", "return_to_draft", "Tighten section 2.", now=LATER)
    writer = accounts.create_user(session, Actor.system(), "writer", "demo-password-123", ["leadership", "admin"],
                                  display_name="Writing Leader", position="Chief Equity and Social Justice Officer")
    policies.save_version(session, Actor.of(writer), STORE, review.policy, text="# Reviewed\n\nRevised by a leader.\n",
                          summary="Leader's edit.", base_version=1)
    explain_changes(session, review)
    for action in ("submit_for_equity_review", "open_comment_period", "close_comment_period"):
        act(session, review, "ombuds", action, now=LATER + timedelta(days=1))
    with pytest.raises(PermissionDenied, match="You wrote version 2, so you cannot approve it; another leader must"):
        decisions.decide(session, Actor.of(writer), review.id, decision="approve", version=2)
    # They may still ask for changes.
    decisions.decide(session, Actor.of(writer), review.id, decision="request_changes", version=2, note="On reflection, no.")
    assert review.state == "draft"


def test_recused_leaders_do_not_count_and_cannot_decide(session: Session) -> None:
    review = in_approval(session)
    decide(session, review, "leader2")
    decisions.recuse(session, who(session, "leader2"), review.id, "My spouse runs the contracted bus company.", now=LATER)
    status = decisions.quorum(session, review)
    assert status.approvers == [] and status.positions_missing == ["Chief Equity and Social Justice Officer"]
    dismissed = session.scalars(select(Decision).where(Decision.review_id == review.id)).one()
    assert (dismissed.dismissed_because, dismissed.decision) == ("recused", "approve")  # kept in the record
    with pytest.raises(PermissionDenied, match="You recused yourself from this review"):
        decide(session, review, "leader2")
    with pytest.raises(PermissionDenied, match="recused"):
        decisions.recuse(session, who(session, "leader2"), review.id, "Again.")
    with pytest.raises(InvalidValue, match="Say what the conflict of interest is"):
        decisions.recuse(session, who(session, "leader1"), review.id, "  ")
    with pytest.raises(PermissionDenied):
        decisions.recuse(session, who(session, "ombuds"), review.id, "Not mine to declare.")
    event = session.scalars(select(Event).where(Event.action == "review.recused")).one()
    assert "spouse" not in str(event.data)  # the reason stays in the review's record, not the audit trail's data


def test_a_new_version_dismisses_earlier_approvals(session: Session) -> None:
    review = in_approval(session)
    approve(session, review, now=LATER)
    assert decisions.quorum(session, review).met
    decide(session, review, "leader1", "request_changes", "Section 2 must name a contact person.")
    assert review.state == "draft" and review.transitions[-1].note.startswith("Changes requested by Dr. Priya Raman")
    new_version(session, review, "# Reviewed\n\nStudents in foster care keep their school. Call the liaison.\n")
    assert review.version_number == 2
    explain_changes(session, review)
    rows = session.scalars(select(Decision).where(Decision.review_id == review.id).order_by(Decision.id)).all()
    assert [(r.decision, r.dismissed_because) for r in rows] == [
        ("approve", "superseded"), ("approve", "new_version"), ("request_changes", "new_version")]
    for action in ("submit_for_equity_review", "open_comment_period", "close_comment_period"):
        act(session, review, "ombuds", action, now=LATER)
    assert decisions.quorum(session, review).approvers == []
    with pytest.raises(Conflict, match="You read version 1, but version 2 is under review"):
        decide(session, review, "leader2", version=1)
    approve(session, review, now=LATER)
    assert decisions.quorum(session, review).met and len(decisions.history(session, who(session, "ombuds"), review)) == 5


def test_a_changed_decision_supersedes_the_earlier_one(session: Session) -> None:
    review = in_approval(session)
    decide(session, review, "leader2")
    decide(session, review, "leader1")
    assert decisions.quorum(session, review).met
    with pytest.raises(InvalidValue, match="needs a note saying why"):
        decide(session, review, "leader2", "reject")
    decide(session, review, "leader2", "reject", "The district cannot fund this in the current budget.")
    assert review.state == "withdrawn" and review.ended_at is not None
    assert review.transitions[-1].note == "Rejected by Marcus Hill (Chief Equity and Social Justice Officer): " \
                                          "The district cannot fund this in the current budget."
    with pytest.raises(Conflict, match="decisions are recorded in Leadership approval"):
        decide(session, review, "leader1")


def test_decisions_only_in_the_deciding_stage(session: Session) -> None:
    review = start(session, "DEC2")
    with pytest.raises(Conflict, match="The review is in Draft; decisions are recorded in Leadership approval"):
        decide(session, review, "leader1")


def test_publishing_sets_the_effective_and_next_review_dates_and_tells_followers(session: Session) -> None:
    review = in_approval(session)
    follower = user(session, "stakeholder")
    session.add(PolicySubscription(user_id=follower.id, policy_id=review.policy_id))
    approve(session, review, now=LATER)
    with pytest.raises(InvalidValue, match="has passed; choose today or a later day"):
        reviews.perform_action(session, who(session, "leader1"), review.id, "publish", now=LATER,
                               effective_date=LATER.date() - timedelta(days=1))
    with pytest.raises(InvalidValue, match="An effective date is chosen only when publishing"):
        reviews.perform_action(session, who(session, "ombuds"), review.id, "return_to_draft", "x", now=LATER,
                               effective_date=LATER.date())
    reviews.perform_action(session, who(session, "leader1"), review.id, "publish", now=LATER, effective_date=date(2026, 7, 1))
    policy = review.policy
    assert (policy.published_version_number, policy.effective_date, policy.next_review_date) == (
        1, date(2026, 7, 1), date(2029, 7, 1))
    told = session.scalars(select(Notification).where(Notification.kind == "policy_published")).all()
    assert [n.user_id for n in told] == [follower.id] and "takes effect on 01 July 2026" in told[0].message
    mail = [m.payload for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email"))
            if m.payload["subject"].startswith("[policyflow] Published:")]
    assert [m["to"] for m in mail] == [follower.email] and f"/public/policies/{policy.code}" in mail[0]["body"]
    event = session.scalars(select(Event).where(Event.action == "review.action").order_by(Event.seq.desc())).first()
    assert event.data["effective_date"] == "2026-07-01" and event.data["next_review_date"] == "2029-07-01"


def test_an_expedited_review_publishes_on_reaching_its_quorum(session: Session) -> None:
    version = policies.create_policy(session, who(session, "ombuds"), STORE, code="DEC3", title="Urgent", text="# Urgent\n\nText.\n",
                                     summary="Draft.")
    definition = load_workflow(workflows_dir() / "expedited-review.yaml")
    review = reviews.start_review(session, who(session, "ombuds"), version.policy, definition, now=NOW,
                                  comment_opens_on=date(2026, 3, 3), comment_closes_on=date(2026, 3, 13))
    reviews.schedule(session, who(session, "ombuds"), review, comment_opens_on=date(2026, 3, 3),
                     comment_closes_on=date(2026, 3, 13), legal_basis="State law SB 123 requires it by July.")
    act(session, review, "ombuds", "submit_for_equity_review", now=LATER)
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period", now=LATER)
    act(session, review, "ombuds", "close_comment_period", now=LATER)
    decide(session, review, "leader1")
    assert review.state == "approval"  # the Superintendent alone is not the quorum: the equity officer must approve
    decide(session, review, "leader2")
    assert review.state == "published" and review.policy.published_version_number == 1
    assert review.transitions[-1].note == "Published on reaching the approval quorum."


def test_add_months_keeps_the_day_or_takes_the_last() -> None:
    assert reviews.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert reviews.add_months(date(2024, 2, 29), 36) == date(2027, 2, 28)
    assert reviews.add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)


def test_a_recused_leader_takes_no_action_and_ombuds_never_publish(session: Session) -> None:
    review = in_approval(session)
    approve(session, review, now=LATER)
    decisions.recuse(session, who(session, "leader1"), review.id, "My child attends the pilot school.", now=LATER)
    status = {a.name: a for a in reviews.available_actions(session, who(session, "leader1"), review, LATER)}
    assert not status["return_to_draft"].allowed and "recused" in status["return_to_draft"].reasons[0]
    for action in ("return_to_draft", "publish"):
        with pytest.raises(PermissionDenied, match="You recused yourself"):
            reviews.perform_action(session, who(session, "leader1"), review.id, action, "Changes.", now=LATER)
    both = accounts.create_user(session, Actor.system(), "dualrole", "demo-password-123", ["ombuds", "leadership"])
    with pytest.raises(PermissionDenied, match="Ombuds staff do not publish"):
        reviews.perform_action(session, Actor.of(both), review.id, "publish", now=LATER)


def test_an_effective_date_years_away_is_a_typo_not_a_crash(session: Session) -> None:
    review = in_approval(session)
    approve(session, review, now=LATER)
    for far in (date(2206, 7, 1), date(9998, 6, 1)):
        with pytest.raises(InvalidValue, match="years ahead; check the year"):
            reviews.perform_action(session, who(session, "leader1"), review.id, "publish", now=LATER, effective_date=far)
    with pytest.raises(InvalidValue, match="beyond the calendar"):
        reviews.add_months(date(9998, 6, 1), 36)


def test_leaders_hear_once_when_the_quorum_is_reached(session: Session) -> None:
    review = in_approval(session)
    approve(session, review, now=LATER)
    third = accounts.create_user(session, Actor.system(), "leader3", "demo-password-123", ["leadership"])
    decisions.decide(session, Actor.of(third), review.id, decision="approve", version=1, now=LATER)
    notices = session.scalars(select(Notification).where(Notification.kind == "quorum_reached",
                                                         Notification.review_id == review.id,
                                                         Notification.user_id == user(session, "ombuds").id)).all()
    assert len(notices) == 1
    with pytest.raises(InvalidValue, match="effective date goes with the approval that publishes"):
        decisions.decide(session, who(session, "leader1"), review.id, decision="approve", version=1,
                         effective_date=date(2026, 9, 1), now=LATER)
