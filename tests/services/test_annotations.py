"""Annotations: visibility rules in every output, permissions, re-anchoring on save, blocking notes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from policyflow.models import AnnotationEdit, Event
from policyflow.services import annotations, policies
from tests.conftest import STORE
from tests.reviewing import act, start, who

TEXT = ("# Transportation\n\nStudents in foster care keep their school of origin.\n\n"
        "The District shall arrange transportation within 5 school days.\n\n"
        "Families may ask the ombuds office for informal help.\n")


def span(text: str, quote: str) -> dict[str, int | str]:
    start = text.index(quote)
    return {"start": start, "end": start + len(quote), "exact": quote}


def note(session: Session, username: str, quote: str, visibility: str = "internal", **extra: object) -> annotations.Annotation:
    policy = policies.get_policy(session, who(session, "ombuds"), "ANN1")
    return annotations.create(session, who(session, username), policy, policy.head_version_number,
                              target=span(TEXT, quote), body=f"Note on {quote}", visibility=visibility, **extra)


@pytest.fixture
def review(session: Session) -> annotations.Annotation:
    return start(session, "ANN1", text=TEXT)


def test_visibility_rules(session: Session, review: object) -> None:
    secret = note(session, "ombuds", "foster care", "confidential")
    internal = note(session, "reviewer", "5 school days")
    public = note(session, "reviewer", "informal help", "public")
    with pytest.raises(PermissionDenied):
        note(session, "reviewer", "school of origin", "confidential")
    with pytest.raises(PermissionDenied):
        note(session, "stakeholder", "school of origin", "public")
    policy = policies.get_policy(session, who(session, "ombuds"), "ANN1")

    def seen(username: str) -> set[int]:
        return {p.annotation.id for p in annotations.on_version(session, who(session, username), policy, 1)}

    assert seen("ombuds") == {secret.id, internal.id, public.id}
    assert seen("reviewer") == seen("leader1") == {internal.id, public.id}
    assert seen("admin") == {public.id}
    with pytest.raises(NotFound):
        annotations.reply(session, who(session, "leader1"), secret.id, "Can I see this?")
    # The audit trail records that a confidential note exists, never what it says.
    events = session.scalars(select(Event).where(Event.subject == f"annotation:{secret.id}")).all()
    assert events and all("foster" not in str(e.data) for e in events)


def test_target_must_match_the_text(session: Session, review: object) -> None:
    policy = policies.get_policy(session, who(session, "ombuds"), "ANN1")
    with pytest.raises(InvalidValue, match="does not match"):
        annotations.create(session, who(session, "ombuds"), policy, 1, target={"start": 0, "end": 5, "exact": "nope!"},
                           body="x", visibility="internal")
    with pytest.raises(InvalidValue, match="outside"):
        annotations.create(session, who(session, "ombuds"), policy, 1, target={"start": 0, "end": 10_000},
                           body="x", visibility="internal")


def test_tags_come_from_the_district_list(session: Session, review: object) -> None:
    tagged = note(session, "reviewer", "5 school days", tags=["Legal", "timeline", "legal"])
    assert tagged.tags == ["legal", "timeline"]
    with pytest.raises(InvalidValue, match="not on the district's list of tags; use one of: equity, legal"):
        note(session, "reviewer", "informal help", tags=["budget"])
    district = {"equity": "Equity", "budget": "Budget"}
    assert note(session, "reviewer", "informal help", tags=["budget"], allowed_tags=district).tags == ["budget"]
    with pytest.raises(InvalidValue, match="use one of: equity, budget"):
        note(session, "reviewer", "school of origin", tags=["legal"], allowed_tags=district)


def test_edit_history_resolve_delete(session: Session, review: object) -> None:
    mine = note(session, "reviewer", "5 school days")
    with pytest.raises(PermissionDenied):
        annotations.edit(session, who(session, "ombuds"), mine.id, "Not mine to edit")
    annotations.edit(session, who(session, "reviewer"), mine.id, "Legal must confirm the 5-day limit.")
    assert session.scalars(select(AnnotationEdit.previous_body).where(AnnotationEdit.annotation_id == mine.id)).all() == [
        "Note on 5 school days"]
    annotations.set_status(session, who(session, "ombuds"), mine.id, "resolved")
    assert mine.status == "resolved"
    with pytest.raises(PermissionDenied):
        annotations.delete(session, who(session, "leader1"), mine.id)
    annotations.delete(session, who(session, "ombuds"), mine.id)
    policy = policies.get_policy(session, who(session, "ombuds"), "ANN1")
    assert not annotations.on_version(session, who(session, "ombuds"), policy, 1)


def test_notes_follow_the_text_to_the_next_version(session: Session, review: object) -> None:
    kept = note(session, "reviewer", "5 school days")
    moved = note(session, "reviewer", "informal help")
    gone = note(session, "reviewer", "school of origin")
    policy = policies.get_policy(session, who(session, "ombuds"), "ANN1")
    new_text = ("# Transportation\n\nFamilies may ask the ombuds office for informal help.\n\n"
                "The District shall arrange transportation within 5 school days.\n")
    policies.save_version(session, who(session, "ombuds"), STORE, policy, text=new_text, summary="Reorders.",
                          base_version=1)
    placed = {p.annotation.id: p for p in annotations.on_version(session, who(session, "ombuds"), policy, 2)}
    assert new_text[placed[kept.id].start:placed[kept.id].end] == "5 school days"
    assert placed[moved.id].status in ("moved", "exact")
    assert new_text[placed[moved.id].start:placed[moved.id].end] == "informal help"
    assert placed[gone.id].status == "orphaned" and placed[gone.id].start is None


def test_blocking_note_holds_the_review(session: Session, review: annotations.Annotation) -> None:
    blocker = note(session, "reviewer", "5 school days", blocking=True)
    with pytest.raises(PermissionDenied):
        note(session, "leader1", "informal help", blocking=True)
    with pytest.raises(Conflict) as held:
        act(session, review, "ombuds", "submit_for_equity_review")
    assert "1 blocking note(s) are still open" in held.value.message
    annotations.set_status(session, who(session, "reviewer"), blocker.id, "resolved")
    act(session, review, "ombuds", "submit_for_equity_review")


def test_demo_notes_cover_every_visibility_status_and_placement(session: Session) -> None:
    from collections import Counter

    from policyflow.models import Annotation, AnnotationPlacement

    placements = Counter(session.scalars(select(AnnotationPlacement.status)))
    assert placements["exact"] and placements["edited"] and placements["orphaned"]
    notes = session.scalars(select(Annotation)).all()
    assert {n.visibility for n in notes} == {"confidential", "internal", "public"}
    assert {n.status for n in notes} == {"open", "resolved"}


def test_a_person_reattaches_an_orphaned_note(session: Session, review: object) -> None:
    gone = note(session, "reviewer", "school of origin")
    policy = policies.get_policy(session, who(session, "ombuds"), "ANN1")
    new_text = TEXT.replace("keep their school of origin", "stay in the school they attended before placement")
    policies.save_version(session, who(session, "ombuds"), STORE, policy, text=new_text, summary="Rewords.", base_version=1)
    placement = next(p for p in annotations.on_version(session, who(session, "ombuds"), policy, 2) if p.annotation.id == gone.id)
    if placement.status != "orphaned":
        assert placement.status == "edited"
    with pytest.raises(PermissionDenied):
        annotations.reattach(session, who(session, "leader1"), gone.id, 2, start=0, end=5)
    words = "the school they attended before placement"
    start = new_text.index(words)
    fixed = annotations.reattach(session, who(session, "reviewer"), gone.id, 2, start=start, end=start + len(words))
    assert (fixed.status, fixed.start, fixed.end, fixed.score) == ("edited", start, start + len(words), 1.0)
    assert fixed.confirmed_by_id is not None
    actions = session.scalars(select(Event.action).where(Event.subject == f"annotation:{gone.id}")).all()
    assert "annotation.reattached" in actions
