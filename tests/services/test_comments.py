"""Comments in the service layer: the period's boundaries, sealed identities, grouping, moderation,
dispositions, the condition that holds the review, and the report."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from policyflow.core.workflow import load_workflow_text
from policyflow.models import Comment, Event, OutboxMessage, Review
from policyflow.services import comments, policies, reviews
from policyflow.services.actors import Actor
from tests.conftest import STORE
from tests.reviewing import NOW, STANDARD, act, complete_assessment, start, who

TEXT = ("# Transportation\n\nStudents in foster care keep their school of origin.\n\n"
        "## Timelines\n\nThe District shall arrange transportation within 5 school days.\n")
CATEGORIES = ("parent_guardian", "student", "employee", "community_member", "organization")
OPENS, CLOSES = date(2026, 3, 2), date(2026, 3, 20)
LETTER = ("I am writing as a parent in Riverbend. Please guarantee transportation for students in foster care "
          "from the first day, so no child misses school while the district arranges a bus. {extra}")


@pytest.fixture
def review(session: Session) -> Review:
    review = start(session, "COM1", text=TEXT, comment_opens_on=OPENS, comment_closes_on=CLOSES)
    act(session, review, "ombuds", "submit_for_equity_review")
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    return review


def send(session: Session, review: Review, username: str | None, identity: str = "public", *, body: str = "Please add bus passes.",
         when: Any = NOW, **extra: Any) -> Comment:
    actor = who(session, username) if username else Actor.anonymous()
    return comments.submit(session, actor, review.id, body=body, identity=identity, allowed_categories=CATEGORIES,
                           now=when, **extra).comment


def count(session: Session, review: Review) -> int:
    return session.scalar(select(func.count()).where(Comment.review_id == review.id)) or 0


def test_the_period_boundaries(session: Session, review: Review) -> None:
    day = timedelta(days=1)
    with pytest.raises(Conflict, match="opens on March 2, 2026"):
        send(session, review, None, "anonymous", when=NOW - day)
    send(session, review, None, "anonymous", when=NOW)  # the opening day
    send(session, review, None, "anonymous", when=NOW.replace(day=20, hour=23, minute=59))  # the whole closing day
    with pytest.raises(Conflict, match=r"closed on March 20, 2026\. Your comment was not saved"):
        send(session, review, "stakeholder", when=NOW.replace(day=21, hour=0))
    assert count(session, review) == 2
    assert [r.id for r in comments.open_periods(session, NOW)] == [review.id]
    assert comments.open_periods(session, NOW.replace(day=21)) == []


def test_no_comments_outside_a_comment_stage(session: Session) -> None:
    draft = start(session, "COM2", text=TEXT, comment_opens_on=OPENS, comment_closes_on=CLOSES)
    with pytest.raises(NotFound):
        send(session, draft, "stakeholder")
    act(session, draft, "ombuds", "submit_for_equity_review")
    with pytest.raises(NotFound):
        comments.public_review(session, draft.id)


def test_anonymous_keeps_no_identity_even_when_one_is_sent(session: Session, review: Review) -> None:
    signed_in = send(session, review, "stakeholder", "anonymous", name="Sam Parent", email="sam@example.org")
    visitor = send(session, review, None, "anonymous", name="Visitor", email="v@example.org")
    for comment in (signed_in, visitor):
        assert (comment.author_id, comment.name, comment.email) == (None, None, None)
        assert comments.shown_name(comment, who(session, "ombuds")) == "Anonymous"
    # The database refuses an anonymous row with an identity, whatever the code does.
    visitor.name = "Sneaked in"
    with pytest.raises(Exception, match="anonymous_keeps_no_identity"):
        session.flush()
    session.rollback()


def test_signing_in_is_required_where_the_stage_says_so(session: Session) -> None:
    source = STANDARD.read_text().replace("    anonymous_comments: true\n", "")
    definition = load_workflow_text(source, "members-only", "members-only")
    policy = policies.create_policy(session, who(session, "ombuds"), STORE, code="COM3", title="Members", text=TEXT,
                                    summary="Draft.")
    review = reviews.start_review(session, who(session, "ombuds"), policy.policy, definition, now=NOW,
                                  comment_opens_on=OPENS, comment_closes_on=CLOSES)
    act(session, review, "ombuds", "submit_for_equity_review")
    complete_assessment(session, review)
    act(session, review, "ombuds", "open_comment_period")
    with pytest.raises(PermissionDenied, match="Sign in"):
        send(session, review, None, "public", name="Visitor")
    assert send(session, review, "stakeholder", "anonymous").identity_mode == "anonymous"


def test_who_sees_which_name(session: Session, review: Review) -> None:
    public = send(session, review, None, "public", name="Ana Flores", email="ana@example.org", category="parent_guardian")
    sealed = send(session, review, "stakeholder", "confidential", category="student")
    assert sealed.name == "Sam Stakeholder" or sealed.name  # the account's name, kept sealed
    readers = {name: who(session, name) for name in ("ombuds", "reviewer", "leader1", "admin", "stakeholder")}
    readers["visitor"] = Actor.anonymous()
    for name, reader in readers.items():
        assert comments.shown_name(public, reader) == "Ana Flores"
        expected = sealed.name if name == "ombuds" else comments.WITHHELD
        assert comments.shown_name(sealed, reader) == expected, name
        assert comments.shown_email(public, reader) == ("ana@example.org" if name == "ombuds" else None)
        row = comments.comment_row(sealed, reader)
        assert (sealed.name in str(row)) == (name == "ombuds") and ("email" in row) == (name == "ombuds")
    # The commenter allows the name to be shown, then changes their mind: each step is recorded.
    comments.set_disclosure(session, Actor.anonymous(), sealed, True, now=NOW)
    assert comments.shown_name(sealed, readers["visitor"]) == sealed.name
    comments.set_disclosure(session, Actor.anonymous(), sealed, False, now=NOW + timedelta(hours=1))
    assert comments.shown_name(sealed, readers["visitor"]) == comments.WITHHELD
    assert [c.granted for c in sealed.consents] == [True, False]
    with pytest.raises(PermissionDenied):
        comments.set_disclosure(session, readers["reviewer"], sealed, True)
    with pytest.raises(InvalidValue):
        comments.set_disclosure(session, Actor.anonymous(), public, True)
    # The audit trail records each comment and consent, never a name or an e-mail address.
    events = session.scalars(select(Event).where(Event.subject.like("comment:%"))).all()
    assert len(events) >= 4 and not any(("Ana" in str(e.data)) or (sealed.name in str(e.data)) or "@" in str(e.data)
                                        for e in events)


@pytest.mark.parametrize(("fields", "message"), [
    ({"body": "   "}, "Write your comment"),
    ({"body": "x" * (comments.MAX_BODY + 1)}, "limited to 8,000 characters"),
    ({"identity": "secret"}, "'public', 'confidential' or 'anonymous'"),
    ({"category": "parents"}, "Unknown category 'parents'"),
    ({"identity": "public"}, "Give your name"),
    ({"email": "not-an-address"}, "does not look like an e-mail address"),
    ({"target": {"start": 0, "end": 10_000}}, "outside the draft's text"),
    ({"target": {"start": 2, "end": 5, "exact": "nope"}}, "does not match"),
    ({"filed_via": "fax"}, "file a comment on someone's behalf"),
])
def test_bad_input_is_refused_and_nothing_stored(session: Session, review: Review, fields: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"body": "A comment.", "identity": "confidential", "name": "Lee"} | fields
    if fields == {"identity": "public"}:
        values.pop("name")
    with pytest.raises((InvalidValue, PermissionDenied), match=message):
        comments.submit(session, Actor.anonymous(), review.id, allowed_categories=CATEGORIES, now=NOW, **values)
    assert count(session, review) == 0


def test_a_passage_and_its_section(session: Session, review: Review) -> None:
    quote = "within 5 school days"
    start = TEXT.index(quote)
    anchored = send(session, review, "stakeholder", target={"start": start, "end": start + len(quote)})
    assert (anchored.exact, anchored.prefix[-10:]) == (quote, "portation ")
    assert comments.section_of(TEXT, anchored.start) == (TEXT.index("## Timelines") + 1, "Timelines")
    assert comments.section_of(TEXT, None)[1] == "The policy as a whole"


def test_ombuds_files_for_a_caller(session: Session, review: Review) -> None:
    filed = send(session, review, "ombuds", "confidential", name="Caller on the phone line", filed_via="phone")
    assert (filed.filed_via, filed.author_id, filed.filed_by.username) == ("phone", None, "ombuds")
    with pytest.raises(PermissionDenied):
        send(session, review, "reviewer", "public", name="X", filed_via="phone")


def test_near_duplicates_form_one_group(session: Session, review: Review) -> None:
    campaign = [send(session, review, None, "anonymous", body=LETTER.format(extra=extra))
                for extra in ("", "Thank you.", "Signed, a Westside family.", "Thanks!", "")]
    different = send(session, review, None, "anonymous", body="The five-day limit is too long for families in shelters.")
    assert len({c.group_id for c in campaign}) == 1 and campaign[0].group_id == campaign[0].id
    assert different.group_id == different.id
    page = comments.triage(session, who(session, "ombuds"), review.id)
    assert [(row.count, row.first.id) for row in page.rows] == [(5, campaign[0].id), (1, different.id)]
    assert (page.total_comments, page.total_groups) == (6, 2)
    assert comments.similarity(campaign[0].body, campaign[2].body) >= comments.NEAR_DUPLICATE
    with pytest.raises(PermissionDenied):
        comments.triage(session, who(session, "reviewer"), review.id)
    filtered = comments.triage(session, who(session, "ombuds"), review.id, comments.Filters(q="shelters"))
    assert [row.first.id for row in filtered.rows] == [different.id]
    # One answer for the whole campaign.
    assert comments.disposition_group(session, who(session, "ombuds"), review.id, campaign[0].group_id,
                                      disposition="accepted", response="Section 2 now starts on day one.") == 5
    assert {c.disposition for c in campaign} == {"accepted"}


def test_dispositions_hold_the_review_until_every_comment_is_answered(session: Session, review: Review) -> None:
    named = send(session, review, None, "public", name="Ana", email="ana@example.org")
    anonymous = send(session, review, None, "anonymous")
    abusive = send(session, review, None, "anonymous", body="Something abusive about a named student.")
    after = NOW.replace(day=21)
    with pytest.raises(Conflict, match="3 comment\\(s\\) have no disposition yet"):
        act(session, review, "ombuds", "close_comment_period", now=after)
    ombuds = who(session, "ombuds")
    with pytest.raises(InvalidValue, match="Say why"):
        comments.hide(session, ombuds, abusive.id, "  ")
    comments.hide(session, ombuds, abusive.id, "Names a student.", now=NOW)
    with pytest.raises(InvalidValue, match="Write the response"):
        comments.set_disposition(session, ombuds, named.id, disposition="accepted", response="")
    with pytest.raises(InvalidValue, match="no version 9"):
        comments.set_disposition(session, ombuds, named.id, disposition="accepted", response="Done.", changed_in_version=9)
    with pytest.raises(PermissionDenied):
        comments.set_disposition(session, who(session, "reviewer"), named.id, disposition="accepted", response="Done.")
    comments.set_disposition(session, ombuds, named.id, disposition="partially_accepted", response="We added a phone line.",
                             base_url="https://policies.example.org", now=NOW)
    comments.set_disposition(session, ombuds, anonymous.id, disposition="out_of_scope", response="A budget question.", now=NOW)
    act(session, review, "ombuds", "close_comment_period", now=after)
    assert review.state == "approval"
    # Only the commenter who left an e-mail hears back, through the outbox.
    mails = [m.payload for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email"))
             if "answered your comment" in m.payload["subject"] and f"/reviews/{review.id}/report" in m.payload["body"]]
    assert [m["to"] for m in mails] == ["ana@example.org"]
    assert "We added a phone line." in mails[0]["body"] and f"/public/reviews/{review.id}/report" in mails[0]["body"]


def test_the_report_groups_and_masks(session: Session, review: Review) -> None:
    quote = "within 5 school days"
    start = TEXT.index(quote)
    sealed = send(session, review, None, "confidential", name="Jordan Secret", category="student",
                  target={"start": start, "end": start + len(quote)})
    for extra in ("", "Thanks."):
        send(session, review, None, "public", name="Pat", body=LETTER.format(extra=extra), category="parent_guardian")
    hidden = send(session, review, None, "anonymous", body="Personal details about a child.")
    ombuds = who(session, "ombuds")
    comments.hide(session, ombuds, hidden.id, "Personal information about a student.")
    for comment in session.scalars(select(Comment).where(Comment.review_id == review.id, Comment.hidden_at.is_(None))):
        comments.set_disposition(session, ombuds, comment.id, disposition="not_accepted", response="Kept as is.")
    with pytest.raises(NotFound):
        comments.report(session, Actor.anonymous(), review.id)
    act(session, review, "ombuds", "close_comment_period", now=NOW.replace(day=21))
    assert comments.report_is_public(session, review)
    public = comments.report(session, Actor.anonymous(), review.id)
    assert [s.heading for s in public.sections] == ["The policy as a whole", "Timelines"]
    assert public.sections[0].count == 3 and [len(g.members) for g in public.sections[0].groups] == [2, 1]
    assert (public.total, public.hidden, public.by_category["student"]) == (4, 1, 1)
    assert comments.shown_count(public.by_category["student"], public.public) == "fewer than 3"
    assert comments.shown_count(1, False) == "1"
    rows = list(comments.export_rows(session, Actor.anonymous(), review.id))
    assert "Jordan Secret" not in str(rows) and "Personal details" not in str(rows)
    assert any(r["hidden_reason"] == "Personal information about a student." for r in rows)
    assert "Jordan Secret" in str(list(comments.export_rows(session, ombuds, review.id)))
    assert comments.shown_name(sealed, Actor.anonymous()) == comments.WITHHELD


def test_the_report_pages_by_group_and_keeps_sections_whole(session: Session, review: Review) -> None:
    quote = "within 5 school days"
    at = TEXT.index(quote)
    campaign = [send(session, review, None, "public", name=f"Parent {n}", body=LETTER.format(extra="")) for n in range(4)]
    singles = [send(session, review, None, "anonymous", body=f"Point number {n}: {word} buses, please consider routes.")
               for n, word in enumerate(("yellow", "late", "crowded", "electric", "private"))]
    on_passage = [send(session, review, None, "anonymous", body=f"Five days is too long for child {n} who waits at home.",
                       target={"start": at, "end": at + len(quote)}) for n in range(2)]
    whole = comments.report(session, who(session, "ombuds"), review.id)
    assert whole.pages == 1 and whole.groups == len(whole.sections[0].groups) + len(whole.sections[1].groups)
    expected = {c.id for c in [*campaign, *singles, *on_passage]}
    assert {m.id for s in whole.sections for g in s.groups for m in g.members} == expected

    seen: set[int] = set()
    first = comments.report(session, who(session, "ombuds"), review.id, page=1, page_size=3)
    assert first.pages == -(-whole.groups // 3) and first.total == whole.total == len(expected)
    assert [part.first_page for part in first.outline] == [1, -(-(len(whole.sections[0].groups) + 1) // 3)]
    for number in range(1, first.pages + 1):
        page = comments.report(session, who(session, "ombuds"), review.id, page=number, page_size=3)
        assert sum(len(s.groups) for s in page.sections) <= 3 and page.by_category == whole.by_category
        members = [m.id for s in page.sections for g in s.groups for m in g.members]
        assert not seen & set(members)
        seen.update(members)
        for part in page.sections:
            assert part.count == next(o.count for o in whole.outline if o.index == part.index)
            assert part.continued == (number > next(o.first_page for o in first.outline if o.index == part.index))
    assert seen == expected
    # The campaign's four letters stay one group on one page, however small the page.
    campaign_group = next(g for s in whole.sections for g in s.groups if len(g.members) == 4)
    assert {m.id for m in campaign_group.members} == {c.id for c in campaign}
    # A page past the end shows the last page rather than nothing.
    assert comments.report(session, who(session, "ombuds"), review.id, page=99, page_size=3).page == first.pages


def test_passages_follow_the_text_to_a_new_version(session: Session, review: Review) -> None:
    quote = "within 5 school days"
    start = TEXT.index(quote)
    anchored = send(session, review, "stakeholder", target={"start": start, "end": start + len(quote)})
    act(session, review, "ombuds", "return_to_draft", "Shorten the timeline.")
    policy = review.policy
    new_text = TEXT.replace("The District shall", "Within one week of a request, the District shall")
    policies.save_version(session, who(session, "ombuds"), STORE, policy, text=new_text, summary="Timeline.",
                          base_version=policy.head_version_number)
    placement = anchored.placements[-1]
    assert (placement.version_number, placement.status) == (2, "moved") or placement.status == "exact"
    assert new_text[placement.start:placement.end] == quote


def test_the_report_outline_follows_changes_made_by_another_process(session: Session, review: Review,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages reuse a per-process outline; a change made by another process (which cannot clear this one's
    cache) must still show at once, above all a revoked permission to show a name."""
    sealed = send(session, review, None, "confidential", name="Jordan Secret", category="student")
    other = send(session, review, None, "public", name="Pat", body="Buses should come on day one, please.")
    ombuds, reviewer = who(session, "ombuds"), who(session, "reviewer")

    def names(actor: Actor) -> set[str]:
        page = comments.report(session, actor, review.id, page=1)
        return {comments.shown_name(m, actor) for s in page.sections for g in s.groups for m in g.members}

    assert "Jordan Secret" not in names(reviewer)
    monkeypatch.setattr(comments, "_forget_outlines", lambda: None)  # as if each change came from another process
    comments.set_disclosure(session, ombuds, sealed, True, now=NOW)
    assert "Jordan Secret" in names(reviewer)
    comments.set_disclosure(session, ombuds, sealed, False, now=NOW + timedelta(minutes=1))
    assert "Jordan Secret" not in names(reviewer)
    comments.hide(session, ombuds, other.id, "Names a student.", now=NOW)
    assert comments.report(session, reviewer, review.id, page=1).hidden == 1
    comments.unhide(session, ombuds, other.id)
    assert comments.report(session, reviewer, review.id, page=1).hidden == 0
    comments.set_disposition(session, ombuds, other.id, disposition="accepted", response="Done.", now=NOW)
    assert comments.report(session, reviewer, review.id, page=1).by_disposition.get("accepted") == 1
