"""The demo's stakeholder comments: an open comment period (JFABE) with every mode and category, and a
closed one (GAE) whose comments were all answered before it closed."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.vocabulary import load_vocabularies
from policyflow.models import IDENTITY_MODES, Comment, CommentConsent, OutboxMessage, Policy, Review, User
from policyflow.resources import workflows_dir
from policyflow.services import comments, demo, policies
from policyflow.services.actors import Actor


def review_of(session: Session, code: str) -> Review:
    review = session.scalar(select(Review).join(Policy).where(Policy.code == code, Review.ended_at.is_(None)))
    assert review is not None, code
    return review


def comments_on(session: Session, review: Review) -> list[Comment]:
    return list(session.scalars(select(Comment).where(Comment.review_id == review.id).order_by(Comment.id)))


def draft_text(session: Session, review: Review) -> str:
    return policies.version_text(session, review.policy,
                                 policies.get_version(session, Actor.system(), review.policy, review.version_number))


def ombuds(session: Session) -> Actor:
    return Actor.of(session.scalar(select(User).where(User.username == "ombuds")))


def test_the_open_period_has_thirty_plus_comments_in_every_mode_and_category(session: Session) -> None:
    review = review_of(session, "JFABE")
    assert review.state == "stakeholder_comment" and comments.period(review).accepting
    rows = comments_on(session, review)
    assert len(rows) == len(demo.JFABE_COMMENTS) >= 30
    assert [row.body for row in rows] == [item.body for item in demo.JFABE_COMMENTS]  # deterministic, in order
    assert set(Counter(row.identity_mode for row in rows)) == set(IDENTITY_MODES)
    assert min(Counter(row.identity_mode for row in rows).values()) >= 5
    categories = load_vocabularies(workflows_dir()).comment_categories
    assert set(categories) <= {row.category for row in rows}
    # Every comment came in while the period was open, after it opened.
    opened = next(t.occurred_at for t in review.transitions if t.action == "open_comment_period")
    for row in rows:
        assert opened < row.created_at and review.comment_opens_on <= row.created_at.date() <= review.comment_closes_on
        assert row.version_number == review.version_number


def test_anonymous_demo_comments_keep_no_identity_and_named_ones_use_example_addresses(session: Session) -> None:
    rows = comments_on(session, review_of(session, "JFABE")) + comments_on(session, review_of(session, "GAE"))
    anonymous = [row for row in rows if row.identity_mode == "anonymous"]
    assert len(anonymous) >= 8
    for row in anonymous:
        assert (row.author_id, row.name, row.email, row.disclosure_permitted) == (None, None, None, False)
    for row in rows:
        if row.identity_mode != "anonymous":
            assert row.name
        if row.email is not None:
            assert row.email.endswith("example.org"), row.email
    # One commenter was signed in: the account is linked, its name and address used.
    signed_in = [row for row in rows if row.author_id is not None]
    assert [(row.author.username, row.name) for row in signed_in] == [("stakeholder", "Jordan Lee (Parent)")]


def test_some_comments_are_anchored_to_the_draft_and_some_were_filed_by_the_office(session: Session) -> None:
    review = review_of(session, "JFABE")
    rows = comments_on(session, review)
    text = draft_text(session, review)
    anchored = [row for row in rows if row.start is not None]
    assert 15 <= len(anchored) < len(rows)
    for row in anchored:
        assert text[row.start:row.end] == row.exact
        assert text[:row.start].endswith(row.prefix) and text[row.end:].startswith(row.suffix)
    filed = [row for row in rows if row.filed_via is not None]
    assert Counter(row.filed_via for row in filed) == {"phone": 3, "letter": 1}
    office = session.scalar(select(User).where(User.username == "ombuds"))
    assert all(row.filed_by_id == office.id and row.author_id is None for row in filed)
    assert {row.identity_mode for row in filed} == set(IDENTITY_MODES)


def test_a_campaign_is_one_near_duplicate_group(session: Session) -> None:
    review = review_of(session, "JFABE")
    rows = comments_on(session, review)
    sizes = Counter(row.group_id for row in rows)
    group_id, size = sizes.most_common(1)[0]
    assert size >= 5 and sorted(sizes.values())[-2] == 1  # one campaign; every other comment stands alone
    members = [row for row in rows if row.group_id == group_id]
    assert group_id == members[0].id
    assert len({row.body for row in members}) == size  # nearly, not exactly, the same words
    assert all(comments.similarity(members[0].body, row.body) >= comments.NEAR_DUPLICATE for row in members)
    assert len({row.identity_mode for row in members}) == 3
    page = comments.triage(session, ombuds(session), review.id)
    assert (page.rows[0].first.id, page.rows[0].count) == (group_id, size)
    assert page.total_comments == len(rows) and page.total_groups == len(rows) - size + 1


def test_some_are_answered_one_is_hidden_and_one_commenter_allowed_their_name(session: Session) -> None:
    review = review_of(session, "JFABE")
    rows = comments_on(session, review)
    answered = [row for row in rows if row.disposition is not None]
    assert 8 <= len(answered) < len(rows)
    assert {row.disposition for row in answered} == {"accepted", "partially_accepted", "not_accepted", "out_of_scope"}
    office = session.scalar(select(User).where(User.username == "ombuds"))
    for row in answered:
        assert row.response and row.dispositioned_by_id == office.id and row.dispositioned_at >= row.created_at
    hidden = [row for row in rows if row.hidden_at is not None]
    assert len(hidden) == 1 and "Personal information about a student" in hidden[0].hidden_reason
    assert hidden[0].body  # the text is kept for the record
    assert comments.comment_row(hidden[0], Actor.anonymous())["body"] is None
    disclosed = [row for row in rows if row.disclosure_permitted]
    assert len(disclosed) == 1 and disclosed[0].identity_mode == "confidential"
    consent = session.scalars(select(CommentConsent).where(CommentConsent.comment_id == disclosed[0].id)).one()
    assert consent.granted and consent.recorded_by_id is None  # by the commenter, through the receipt link
    assert comments.shown_name(disclosed[0], Actor.anonymous()) == disclosed[0].name
    withheld = [row for row in rows if row.identity_mode == "confidential" and not row.disclosure_permitted]
    assert withheld and all(comments.shown_name(row, Actor.anonymous()) == comments.WITHHELD for row in withheld)
    # The period is still open: the rest wait for an answer, so it cannot close yet.
    undecided = len(rows) - len(answered) - len(hidden)
    assert comments.undecided_count(session, review) == undecided > 0 and comments.any_undecided(session, review)
    # A gate is counted afresh, not from the per-process counts: a repair made in SQL (no stamp changed) counts.
    assert comments.review_counts(session, review).by_disposition["none"] == undecided
    session.execute(Comment.__table__.update().where(Comment.review_id == review.id, Comment.disposition.is_(None))
                    .values(disposition="accepted", response="Answered in a meeting."))
    assert comments.undecided_count(session, review) == 0 and not comments.any_undecided(session, review)


def test_the_closed_period_was_fully_answered_and_its_report_is_public(session: Session) -> None:
    review = review_of(session, "GAE")
    assert review.state == "approval"
    rows = comments_on(session, review)
    assert 8 <= len(rows) <= 12 and len(rows) == len(demo.GAE_COMMENTS)
    assert comments.undecided_count(session, review) == 0
    closed = next(t.occurred_at for t in review.transitions if t.action == "close_comment_period")
    for row in rows:
        assert row.created_at.date() <= review.comment_closes_on
        if row.hidden_at is not None:
            assert row.hidden_reason and row.disposition is None and row.hidden_at < closed
        else:
            assert row.disposition and row.response and row.dispositioned_at < closed
    assert sum(row.hidden_at is not None for row in rows) == 1
    assert set(Counter(row.identity_mode for row in rows)) == set(IDENTITY_MODES)
    assert comments.report_is_public(session, review)
    public = comments.report(session, Actor.anonymous(), review.id)
    assert public.public and public.total == len(rows) and public.hidden == 1
    exported = list(comments.export_rows(session, Actor.anonymous(), review.id))
    names = {row["name"] for row in exported}
    assert comments.WITHHELD in names and comments.ANONYMOUS in names
    assert not {row.name for row in rows if row.identity_mode == "confidential"} & names
    assert all("email" not in row for row in exported)


def test_the_open_period_report_is_not_public_yet(session: Session) -> None:
    review = review_of(session, "JFABE")
    assert not comments.report_is_public(session, review)
    staff = comments.report(session, ombuds(session), review.id)
    assert staff.total == len(demo.JFABE_COMMENTS) and not staff.public
    assert staff.by_category["parent_guardian"] >= 5 and sum(staff.by_identity.values()) == staff.total


def test_answered_commenters_who_left_an_address_were_told_with_a_full_link(session: Session) -> None:
    reviews_by_id = {review.id: review for review in (review_of(session, "JFABE"), review_of(session, "GAE"))}
    answered = [row for review in reviews_by_id.values() for row in comments_on(session, review)
                if row.disposition is not None and row.email is not None]
    mails = [m.payload for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email"))
             if "answered your comment" in m.payload["subject"]]
    assert sorted(m["to"] for m in mails) == sorted(row.email for row in answered) and len(mails) >= 10
    for mail in mails:
        assert "://" in mail["body"] and any(f"/public/reviews/{review_id}/report" in mail["body"] for review_id in reviews_by_id)
