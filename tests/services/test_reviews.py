"""Reviews through the service layer: every action path, pinned definitions, audit events."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from policyflow.core.workflow import load_workflow
from policyflow.models import Event
from policyflow.resources import workflows_dir
from policyflow.services import policies, reviews
from tests.conftest import STORE
from tests.reviewing import NOW, STANDARD, act, approve, complete_assessment, start, who


def test_full_standard_review_to_published(session: Session) -> None:
    review = start(session, "REV1", comment_opens_on=date(2026, 3, 10), comment_closes_on=date(2026, 4, 9))
    assert review.state == "draft" and review.version_number == 1
    act(session, review, "ombuds", "submit_for_equity_review")
    assert review.state == "equity_review" and review.stage_due_at == NOW + timedelta(days=21)
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    with pytest.raises(Conflict) as early:
        act(session, review, "ombuds", "close_comment_period")
    assert "still open" in early.value.message and "2026-04-09" in early.value.message
    later = NOW + timedelta(days=40)
    act(session, review, "ombuds", "close_comment_period", now=later)
    approve(session, review, now=later)
    act(session, review, "leader1", "publish", "Approved at the April board meeting.", now=later)
    assert review.state == "published" and review.ended_at == later
    assert review.policy.published_version_number == 1
    assert [t.to_state for t in review.transitions] == ["draft", "equity_review", "stakeholder_comment", "approval",
                                                         "published"]
    events = session.scalars(select(Event.action).where(Event.policy_id == review.policy_id).order_by(Event.seq)).all()
    assert events.count("review.action") == 4 and events.count("review.decision") == 2
    assert "review.started" in events and "policy.published" in events


def test_wrong_role_is_refused_with_the_roles_that_may(session: Session) -> None:
    review = start(session, "REV1")
    with pytest.raises(PermissionDenied) as refused:
        act(session, review, "reviewer", "submit_for_equity_review")
    assert "ombuds" in refused.value.message and refused.value.extra["roles"]
    assert review.state == "draft"


def test_wrong_stage_lists_what_is_possible(session: Session) -> None:
    review = start(session, "REV1")
    with pytest.raises(Conflict) as wrong:
        act(session, review, "leader1", "publish")
    assert "submit_for_equity_review" in wrong.value.message
    with pytest.raises(InvalidValue):
        act(session, review, "ombuds", "teleport")


def test_unmet_conditions_are_listed_in_words(session: Session) -> None:
    review = start(session, "REV1")
    act(session, review, "ombuds", "submit_for_equity_review")
    with pytest.raises(Conflict) as unmet:
        act(session, review, "ombuds", "open_comment_period")
    assert unmet.value.extra["unmet_conditions"] == [
        "Equity impact assessment: not started yet; answer its questions on the assessment page.",
        "Set the opening and closing dates of the comment period first.",
    ]
    statuses = {s.name: s for s in reviews.available_actions(session, who(session, "ombuds"), review, NOW)}
    assert not statuses["open_comment_period"].allowed and statuses["return_to_draft"].allowed
    leader = {s.name: s for s in reviews.available_actions(session, who(session, "leader1"), review, NOW)}
    assert not leader["open_comment_period"].allowed and "Only ombuds staff" in leader["open_comment_period"].reasons[0]


def test_note_required_and_text_locked_outside_draft(session: Session) -> None:
    review = start(session, "REV1")
    act(session, review, "ombuds", "submit_for_equity_review")
    with pytest.raises(InvalidValue, match="needs a note"):
        act(session, review, "ombuds", "return_to_draft")
    policy = review.policy
    with pytest.raises(Conflict, match="only in an editable stage"):
        policies.save_version(session, who(session, "ombuds"), STORE, policy, text="# Changed\n", summary="x",
                              base_version=1)
    act(session, review, "leader1", "return_to_draft", "Clarify the transportation clause.")
    saved = policies.save_version(session, who(session, "ombuds"), STORE, policy, text="# Changed\n", summary="x",
                                  base_version=1)
    assert review.version_number == saved.version.number == 2


def test_one_active_review_per_policy_and_withdraw_ends_it(session: Session) -> None:
    review = start(session, "REV1")
    with pytest.raises(Conflict, match="already has a review"):
        reviews.start_review(session, who(session, "ombuds"), review.policy, load_workflow(STANDARD), now=NOW)
    act(session, review, "ombuds", "withdraw", "Superseded by new state guidance.")
    assert review.state == "withdrawn" and review.ended_at is not None
    with pytest.raises(Conflict, match="has ended"):
        act(session, review, "ombuds", "submit_for_equity_review")
    again = reviews.start_review(session, who(session, "ombuds"), review.policy, load_workflow(STANDARD), now=NOW)
    assert again.id != review.id


def test_review_keeps_its_definition_when_the_file_changes(session: Session, tmp_path: Path) -> None:
    changed = tmp_path / "standard-review.yaml"
    changed.write_text(STANDARD.read_text().replace("deadline_days: 21", "deadline_days: 5"))
    review = start(session, "REV1")
    original_hash = review.workflow_hash
    assert reviews.load_named_workflow(tmp_path, "standard-review").content_hash != original_hash
    act(session, review, "ombuds", "submit_for_equity_review")
    assert review.stage_due_at == NOW + timedelta(days=21)  # the pinned definition's deadline


def test_only_staff_see_reviews(session: Session) -> None:
    review = start(session, "REV1")
    with pytest.raises(NotFound):
        reviews.get_review(session, who(session, "stakeholder"), review.id)
    with pytest.raises(PermissionDenied):
        reviews.start_review(session, who(session, "reviewer"), review.policy, load_workflow(STANDARD), now=NOW)


def test_unknown_workflow_name(session: Session) -> None:
    with pytest.raises(InvalidValue, match="standard-review"):
        reviews.load_named_workflow(workflows_dir(), "nope")
    with pytest.raises(InvalidValue):
        reviews.load_named_workflow(workflows_dir(), "../etc/passwd")
