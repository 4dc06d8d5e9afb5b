"""The equity impact assessment service: who may read and write, autosave merging and conflicts,
completion, the condition guarding the equity review, later versions, audit events, publication."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from policyflow.core.workflow import load_workflow
from policyflow.models import EquityAnswerChange, Event, Review
from policyflow.resources import workflows_dir
from policyflow.services import equity, policies, reviews
from policyflow.services.actors import Actor
from tests.conftest import STORE
from tests.reviewing import NOW, act, approve, complete_assessment, filled_answers, start, who

SECRET = "A confidential worry about one family, never copied into the audit trail."
PERIOD = {"comment_opens_on": date(2026, 3, 3), "comment_closes_on": date(2026, 3, 20)}


@pytest.fixture
def review(session: Session) -> Review:
    review = start(session, "EQ1", **PERIOD)
    act(session, review, "ombuds", "submit_for_equity_review")
    return review


def save(session: Session, username: str, review: Review, answers: dict, revision: int) -> equity.AssessmentState:
    state = equity.save_answers(session, who(session, username), review.id, answers, revision, now=NOW)
    session.flush()
    return state


@pytest.mark.parametrize(("username", "reads", "writes"), [
    ("ombuds", True, True), ("reviewer", True, True), ("leader1", True, False), ("admin", True, False),
    ("stakeholder", False, False),
])
def test_who_reads_and_who_writes(session: Session, review: Review, username: str, reads: bool, writes: bool) -> None:
    actor = who(session, username)
    if not reads:
        with pytest.raises(NotFound):  # the review itself is not disclosed
            equity.get(session, actor, review.id)
    else:
        state = equity.get(session, actor, review.id)
        assert state.status == "not_started" and state.revision == 0 and state.may_write is writes
    if writes:
        assert save(session, username, review, {"purpose": "Why."}, 0).revision == 1
    else:
        with pytest.raises((PermissionDenied, NotFound)) as refused:
            save(session, username, review, {"purpose": "Why."}, 0)
        if reads:
            assert refused.type is PermissionDenied and "leadership and administrators read it" in refused.value.message
    with pytest.raises(NotFound):
        equity.get(session, Actor.anonymous(), review.id)


def test_different_questions_merge(session: Session, review: Review) -> None:
    first = save(session, "reviewer", review, {"purpose": "Stable schools."}, 0)
    assert first.revision == 1 and first.assessment is not None
    assert first.assessment.definition_hash == equity.current_definition().content_hash
    # Ombuds staff opened the page before the reviewer saved (revision 0) and answer another question.
    merged = save(session, "ombuds", review, {"data_considered": "Attendance by group."}, 0)
    assert merged.revision == 2
    assert merged.answers == {"purpose": "Stable schools.", "data_considered": "Attendance by group."}
    # A whole form sent from revision 0 leaves the reviewer's answer alone: it was not touched there.
    again = save(session, "ombuds", review, {"purpose": None, "data_considered": "Attendance and discipline by group."}, 0)
    assert again.answers["purpose"] == "Stable schools." and again.revision == 3
    assert [c.name for c in again.contributors] == ["Rosa Delgado (Ombuds)", "Sam Okafor (Legal Reviewer)"]
    assert again.last_changes["purpose"].changed_by.username == "reviewer"
    assert again.last_changes["data_considered"].revision == 3
    # Saving what is already there changes nothing.
    assert save(session, "reviewer", review, {"purpose": "Stable schools."}, 0).revision == 3


def test_the_same_question_changed_by_someone_else_is_a_conflict(session: Session, review: Review) -> None:
    save(session, "reviewer", review, {"purpose": "Stable schools.", "tracking": "Each semester."}, 0)
    with pytest.raises(Conflict) as conflict:
        save(session, "ombuds", review, {"purpose": "Fewer school moves.", "mitigations": "Rides first."}, 0)
    extra = conflict.value.extra
    assert conflict.value.status == 409 and "Sam Okafor" in conflict.value.message
    assert extra["revision"] == 1
    assert extra["conflicts"] == [{"question": "purpose", "label": "What is this policy for, and what results does the "
                                   "district intend?", "current": "Stable schools.", "changed_by": "Sam Okafor (Legal Reviewer)",
                                   "changed_at": NOW.isoformat()}]
    assert extra["yours"] == {"purpose": "Fewer school moves.", "mitigations": "Rides first."}
    state = equity.get(session, who(session, "ombuds"), review.id)
    assert state.answers == {"purpose": "Stable schools.", "tracking": "Each semester."}  # nothing half-saved
    # Having seen their answer (the current revision), the writer may replace it.
    assert save(session, "ombuds", review, {"purpose": "Fewer school moves."}, extra["revision"]).answers["purpose"] == (
        "Fewer school moves.")
    # One's own earlier change is never a conflict (a second tab, an autosave racing itself).
    assert save(session, "ombuds", review, {"purpose": "Fewer moves, better attendance."}, 1).revision == 3


def test_invalid_answers_are_refused_naming_the_question(session: Session, review: Review) -> None:
    with pytest.raises(InvalidValue) as invalid:
        save(session, "reviewer", review, {"groups": ["martians"], "purpose": "Fine."}, 0)
    assert "'groups'" in invalid.value.message and "martians" in invalid.value.message
    assert invalid.value.extra["problems"][0]["question"] == "groups"
    with pytest.raises(InvalidValue, match="revision"):
        save(session, "reviewer", review, {"purpose": "Fine."}, 7)
    assert equity.get(session, who(session, "reviewer"), review.id).answers == {}


def test_completion_needs_every_required_answer(session: Session, review: Review) -> None:
    reviewer = who(session, "reviewer")
    with pytest.raises(Conflict, match="Nobody has answered"):
        equity.complete(session, reviewer, review.id)
    answers = filled_answers(equity.current_definition())
    save(session, "reviewer", review, {**answers, "groups.black.barriers": None, "tracking": None}, 0)
    with pytest.raises(Conflict) as missing:
        equity.complete(session, reviewer, review.id)
    assert [m["question"] for m in missing.value.extra["missing"]] == ["groups.black.barriers", "tracking"]
    assert "2 required answer(s) missing" in missing.value.message
    with pytest.raises(PermissionDenied):
        equity.complete(session, who(session, "leader1"), review.id)
    save(session, "ombuds", review, {"groups.black.barriers": "Bus schedules.", "tracking": "Each semester."}, 1)
    done = equity.complete(session, reviewer, review.id, now=NOW + timedelta(hours=1))
    assert done.status == "complete" and done.missing == []
    assert done.assessment.completed_by.username == "reviewer" and done.assessment.completed_at == NOW + timedelta(hours=1)
    assert done.assessed_version == review.version_number == 1
    with pytest.raises(Conflict, match="reopen it"):
        save(session, "ombuds", review, {"tracking": "Monthly."}, done.revision)
    with pytest.raises(Conflict, match="already"):
        equity.complete(session, reviewer, review.id)
    reopened = equity.reopen(session, who(session, "ombuds"), review.id)
    assert reopened.status == "in_progress" and reopened.assessment.completed_at is None
    assert save(session, "ombuds", review, {"tracking": "Monthly."}, reopened.revision).answers["tracking"] == "Monthly."


def test_the_condition_guards_leaving_the_equity_review(session: Session, review: Review) -> None:
    with pytest.raises(Conflict) as unmet:
        act(session, review, "ombuds", "open_comment_period")
    assert unmet.value.extra["unmet_conditions"] == [
        "Equity impact assessment: not started yet; answer its questions on the assessment page."]
    save(session, "reviewer", review, {"purpose": "Stable schools."}, 0)
    statuses = {s.name: s for s in reviews.available_actions(session, who(session, "ombuds"), review, NOW)}
    assert statuses["open_comment_period"].reasons == (
        "Equity impact assessment: not marked complete yet (7 required answer(s) missing).",)
    complete_assessment(session, review)
    assert equity.unmet_reason(session, review) is None
    act(session, review, "ombuds", "open_comment_period")
    assert review.state == "stakeholder_comment"


def test_reopened_during_comments_holds_the_approval(session: Session, review: Review) -> None:
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    equity.reopen(session, who(session, "reviewer"), review.id)
    later = NOW + timedelta(days=30)
    with pytest.raises(Conflict) as unmet:
        act(session, review, "ombuds", "close_comment_period", now=later)
    assert unmet.value.extra["unmet_conditions"] == [
        "Equity impact assessment: every required question is answered, but nobody has marked it complete yet."]
    equity.complete(session, who(session, "reviewer"), review.id)
    act(session, review, "ombuds", "close_comment_period", now=later)
    assert review.state == "approval"


def _new_version(session: Session, review: Review, text: str) -> None:
    policy = review.policy
    policies.save_version(session, who(session, "ombuds"), STORE, policy, text=text, summary="Clearer.",
                          base_version=policy.head_version_number)
    session.flush()


def test_a_later_version_needs_an_explanation_before_the_comment_period(session: Session, review: Review) -> None:
    complete_assessment(session, review)
    act(session, review, "ombuds", "return_to_draft", "Say who arranges the bus.")
    _new_version(session, review, "# Reviewed\n\nStudents in foster care keep their school. The district arranges the bus.\n")
    assert review.version_number == 2
    act(session, review, "ombuds", "submit_for_equity_review")
    state = equity.get(session, who(session, "leader1"), review.id)
    assert state.version_moved and not state.changes_explained
    comparison = equity.changes_since_assessment(session, who(session, "leader1"), state)
    assert comparison is not None and comparison.stats.words_inserted == 5
    with pytest.raises(Conflict) as unmet:
        act(session, review, "ombuds", "open_comment_period")
    assert unmet.value.extra["unmet_conditions"] == [
        "Equity impact assessment: the text changed after it (version 1 was assessed, version 2 is under review); "
        "answer “What changed after the equity review?” on the assessment page."]
    with pytest.raises(PermissionDenied):
        equity.explain_changes(session, who(session, "leader1"), review.id, "Nothing.")
    with pytest.raises(InvalidValue):
        equity.explain_changes(session, who(session, "reviewer"), review.id, "   ")
    explained = equity.explain_changes(session, who(session, "reviewer"), review.id,
                                       "Only who arranges the bus; no answer changes.", now=NOW)
    assert explained.changes_explained and explained.assessment.changes_explained_version == 2
    act(session, review, "ombuds", "open_comment_period")
    assert review.state == "stakeholder_comment"


def test_an_explanation_is_for_a_later_version_only(session: Session, review: Review) -> None:
    reviewer = who(session, "reviewer")
    save(session, "reviewer", review, {"purpose": "Why."}, 0)
    with pytest.raises(Conflict, match="Complete the equity assessment first"):
        equity.explain_changes(session, reviewer, review.id, "Nothing changed.")
    complete_assessment(session, review)
    with pytest.raises(Conflict, match="has not changed since the assessment of version 1"):
        equity.explain_changes(session, reviewer, review.id, "Nothing changed.")


def test_explanation_is_required_before_approval_when_the_text_changes_during_comments(session: Session,
                                                                                       tmp_path: Path) -> None:
    # A district whose comment stage lets staff correct the text: the "what changed" answer gates approval.
    source = (workflows_dir() / "standard-review.yaml").read_text(encoding="utf-8")
    editable = source.replace("    public: true\n    comments: true\n",
                              "    public: true\n    editable: true\n    comments: true\n", 1)
    assert editable != source
    path = tmp_path / "editable-comments.yaml"
    path.write_text(editable, encoding="utf-8")
    version = policies.create_policy(session, who(session, "ombuds"), STORE, code="EQ2", title="Editable",
                                     text="# Editable\n\nStudents keep their school.\n", summary="Draft.")
    review = reviews.start_review(session, who(session, "ombuds"), version.policy, load_workflow(path), now=NOW, **PERIOD)
    act(session, review, "ombuds", "submit_for_equity_review")
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    _new_version(session, review, "# Editable\n\nStudents keep their school and their bus.\n")
    later = NOW + timedelta(days=30)
    with pytest.raises(Conflict) as unmet:
        act(session, review, "ombuds", "close_comment_period", now=later)
    assert "version 1 was assessed, version 2 is under review" in unmet.value.extra["unmet_conditions"][0]
    equity.explain_changes(session, who(session, "ombuds"), review.id, "A comment asked us to name the bus.")
    act(session, review, "ombuds", "close_comment_period", now=later)
    assert review.state == "approval"


def test_completing_again_ties_the_assessment_to_the_new_version(session: Session, review: Review) -> None:
    complete_assessment(session, review)
    act(session, review, "ombuds", "return_to_draft", "More.")
    _new_version(session, review, "# Reviewed\n\nStudents in foster care keep their school and bus.\n")
    act(session, review, "ombuds", "submit_for_equity_review")
    equity.explain_changes(session, who(session, "reviewer"), review.id, "Adds the bus.")
    reopened = equity.reopen(session, who(session, "reviewer"), review.id)
    done = equity.complete(session, who(session, "reviewer"), reopened.review.id)
    assert done.assessed_version == 2 and not done.version_moved
    assert done.assessment.changes_explained is None  # nothing is left to explain


def test_audit_events_name_questions_never_answers(session: Session, review: Review) -> None:
    save(session, "reviewer", review, {"purpose": SECRET, "internal_notes": SECRET}, 0)
    complete_assessment(session, review)
    equity.reopen(session, who(session, "ombuds"), review.id)
    events = session.scalars(select(Event).where(Event.policy_id == review.policy_id, Event.action.like("equity.%"))
                             .order_by(Event.seq)).all()
    assert [e.action for e in events] == ["equity.answers_saved", "equity.answers_saved", "equity.completed", "equity.reopened"]
    assert events[0].data == {"questions": ["internal_notes", "purpose"], "revision": 1, "version": 1}
    assert events[0].actor == "reviewer" and events[0].subject == f"review:{review.id}"
    assert all(SECRET not in json.dumps(e.data) for e in events)
    # The answers' own history records who wrote what, at which revision.
    rows = session.scalars(select(EquityAnswerChange).where(EquityAnswerChange.question_key == "purpose")
                           .join(EquityAnswerChange.changed_by)).all()
    assert [(r.revision, r.changed_by.username) for r in rows if r.value == SECRET] == [(1, "reviewer")]


def test_an_assessment_keeps_its_questions_when_the_file_changes(session: Session, review: Review, tmp_path: Path) -> None:
    shutil.copy(workflows_dir() / "equity-assessment.yaml", tmp_path / "equity-assessment.yaml")
    equity.save_answers(session, who(session, "reviewer"), review.id, {"purpose": "Why."}, 0, folder=tmp_path)
    path = tmp_path / "equity-assessment.yaml"
    path.write_text(path.read_text().replace("id: tracking", "id: tracking_results"))
    assert equity.current_definition(tmp_path).field("tracking") is None
    state = equity.get(session, who(session, "reviewer"), review.id, folder=tmp_path)
    assert state.definition.field("tracking") is not None
    assert state.assessment.definition_source == (workflows_dir() / "equity-assessment.yaml").read_text()


def test_published_with_the_policy_without_internal_answers(session: Session, review: Review) -> None:
    answers = {**filled_answers(equity.current_definition()), "internal_notes": SECRET}
    save(session, "reviewer", review, answers, 0)
    equity.complete(session, who(session, "reviewer"), review.id)
    with pytest.raises(NotFound):
        equity.published(session, review.id)
    act(session, review, "ombuds", "open_comment_period")
    later = NOW + timedelta(days=30)
    act(session, review, "ombuds", "close_comment_period", now=later)
    with pytest.raises(NotFound):
        equity.published(session, review.id)  # leadership reads it; the public not yet
    approve(session, review, now=later)
    act(session, review, "leader1", "publish", now=later)
    public = equity.published(session, review.id)
    assert "internal_notes" not in public.answers and public.answers["purpose"] == answers["purpose"]
    assert SECRET not in json.dumps(public.answers)
    with pytest.raises(Conflict, match="has ended"):
        save(session, "reviewer", review, {"purpose": "Later."}, public.revision)


def test_database_refuses_illegal_states(session: Session, review: Review) -> None:
    save(session, "reviewer", review, {"purpose": "Why."}, 0)
    assessment = equity.for_review(session, review)
    assert assessment is not None
    with session.begin_nested():
        assessment.status = "complete"  # without a completion time
        with pytest.raises(IntegrityError):
            session.flush()
    session.expire_all()
    assessment = equity.for_review(session, review)
    with session.begin_nested():
        assessment.changes_explained = "Explains nothing newer."
        assessment.changes_explained_version = assessment.version_number
        with pytest.raises(IntegrityError):
            session.flush()
