"""Stakeholder comments: taking them while a period is open, sealing identities, moderation,
near-duplicate groups, dispositions and the response-to-comments report.

Confidentiality is enforced here, not in templates: every output goes through ``shown_name`` and
``shown_email``, which return a name only to those allowed to see it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections import namedtuple
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from policyflow.core.anchoring import reanchor_many
from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from policyflow.core.lru import LRUCache
from policyflow.models import DISPOSITIONS, FILING_CHANNELS, IDENTITY_MODES, Comment, CommentConsent, CommentPlacement, Review
from policyflow.models.base import fresh_stamp, utcnow
from policyflow.services import audit, notifications, policies, search
from policyflow.services.actors import Actor
from policyflow.services.reviews import definition_of, get_review

MAX_BODY = 8_000
MAX_NAME = 200
MAX_REASON = 1_000
CONTEXT_CHARS = 32
WITHHELD = "Name withheld at the commenter's request"
ANONYMOUS = "Anonymous"
REPORT_PAGE_GROUPS = 100  # near-duplicate groups on a page of the report
SMALL_COUNT = 3  # public counts below this are shown as "fewer than 3"
DISPOSITION_LABELS = {"accepted": "Accepted", "partially_accepted": "Partially accepted", "not_accepted": "Not accepted",
                      "out_of_scope": "Out of scope"}
IDENTITY_LABELS = {"public": "Public (name shown)", "confidential": "Confidential (name seen by ombuds staff only)",
                   "anonymous": "Anonymous (no name kept)"}
_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,252}\.[^@\s<>.]{2,}$")
_WORDS = re.compile(r"\w+")
NEAR_DUPLICATE = 0.7  # Jaccard similarity of word 3-shingles that makes two comments one group


# ---------------------------------------------------------------------------------------------
# Who may see what
# ---------------------------------------------------------------------------------------------

def sees_identities(actor: Actor) -> bool:
    """Only ombuds staff see sealed names and any contact details (the office's confidentiality)."""
    return actor.is_system or "ombuds" in actor.roles


def shown_name(comment: Comment, actor: Actor) -> str:
    if comment.identity_mode == "anonymous" or comment.name is None:
        return ANONYMOUS
    if comment.identity_mode == "public" or comment.disclosure_permitted or sees_identities(actor):
        return comment.name
    return WITHHELD


def shown_email(comment: Comment, actor: Actor) -> str | None:
    return comment.email if sees_identities(actor) else None


def _require_ombuds(actor: Actor, doing: str) -> None:
    if not sees_identities(actor):
        raise PermissionDenied(f"Only ombuds staff can {doing}.")


# ---------------------------------------------------------------------------------------------
# The comment period
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Whether a review takes comments now, and why not when it does not."""

    accepting: bool
    anonymous_allowed: bool
    opens_on: date | None
    closes_on: date | None
    reason: str = ""


def period(review: Review, now: datetime | None = None) -> Period:
    today = (now or utcnow()).date()
    stage = definition_of(review).stage(review.state)
    opens, closes = review.comment_opens_on, review.comment_closes_on
    if review.ended_at is not None or not stage.comments:
        return Period(False, False, opens, closes, "This review is not taking comments.")
    if opens is None or closes is None:
        return Period(False, False, opens, closes, "The comment period has no dates yet.")
    if today < opens:
        return Period(False, stage.anonymous_comments, opens, closes,
                      f"The comment period opens on {opens:%B} {opens.day}, {opens.year}.")
    if today > closes:
        return Period(False, stage.anonymous_comments, opens, closes,
                      f"The comment period closed on {closes:%B} {closes.day}, {closes.year}. Your comment was not saved.")
    return Period(True, stage.anonymous_comments, opens, closes)


def public_review(session: Session, review_id: int) -> Review:
    """A review whose draft the public may read now (its stage is public); otherwise not found."""
    review = session.get(Review, review_id)
    if review is None or review.ended_at is not None or not definition_of(review).stage(review.state).public:
        raise NotFound(f"There is no open public review {review_id}.")
    return review


def open_periods(session: Session, now: datetime | None = None) -> list[Review]:
    """Reviews taking comments today, soonest closing first (for the public home page)."""
    today = (now or utcnow()).date()
    candidates = session.scalars(select(Review).where(
        Review.ended_at.is_(None), Review.comment_opens_on <= today, Review.comment_closes_on >= today)
        .order_by(Review.comment_closes_on, Review.id))
    return [review for review in candidates if period(review, now).accepting]


def report_is_public(session: Session, review: Review) -> bool:
    """Once the review has moved forward out of its comment stage, the response to comments is public."""
    definition = definition_of(review)
    commenting = {stage.name for stage in definition.stages if stage.comments}
    for transition in review.transitions:
        if transition.action is None or transition.from_state not in commenting:
            continue
        action = next((a for a in definition.actions if a.name == transition.action), None)
        if action is not None and definition.moves_forward(action, transition.from_state):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Near-duplicate fingerprints
# ---------------------------------------------------------------------------------------------

def _words(text: str) -> list[str]:
    return _WORDS.findall(text.casefold())


def _shingles(words: list[str]) -> set[str]:
    if len(words) < 3:
        return {" ".join(words)}
    return {" ".join(words[i:i + 3]) for i in range(len(words) - 2)}


# MinHash with 4 bands of 2 rows: two comments sharing a fraction s of their shingles become
# candidates with probability 1 - (1 - s^2)^4 (0.93 at s = 0.7, 0.999 at s = 0.9); candidates are then
# checked exactly with ``similarity``.
_MERSENNE = (1 << 61) - 1
_MINHASH_SEEDS = tuple((0x9E3779B97F4A7C15 * (i + 1) % _MERSENNE | 1, 0xC2B2AE3D27D4EB4F * (i + 7) % _MERSENNE)
                       for i in range(8))


def _minhash_bands(shingles: set[str]) -> tuple[int, int, int, int]:
    values = [int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big") for shingle in shingles]
    minima = [min((a * v + b) % _MERSENNE for v in values) for a, b in _MINHASH_SEEDS]
    return tuple(int.from_bytes(hashlib.blake2b(f"{minima[2 * i]}:{minima[2 * i + 1]}".encode(), digest_size=2).digest(), "big")
                 for i in range(4))  # type: ignore[return-value]


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the word 3-shingles of two comments (1.0: the same words in the same order)."""
    first, second = _shingles(_words(a)), _shingles(_words(b))
    return len(first & second) / len(first | second) if first | second else 1.0


@dataclass(frozen=True)
class Fingerprint:
    exact: str  # SHA-256 of the normalized words: the same text
    bands: tuple[int, int, int, int]  # MinHash bands: nearly the same text


def fingerprint(text: str) -> Fingerprint:
    words = _words(text)
    return Fingerprint(hashlib.sha256(" ".join(words).encode()).hexdigest(), _minhash_bands(_shingles(words)))


def _group_for(session: Session, review_id: int, body: str, print_: Fingerprint) -> int | None:
    """The group of an earlier comment with the same or nearly the same words, if any (LSH on MinHash bands)."""
    same = session.scalar(select(Comment.group_id).where(Comment.review_id == review_id,
                                                         Comment.fingerprint == print_.exact).limit(1))
    if same is not None:
        return same
    candidates = session.execute(
        select(Comment.group_id, Comment.body).where(
            Comment.review_id == review_id,
            or_(Comment.band0 == print_.bands[0], Comment.band1 == print_.bands[1],
                Comment.band2 == print_.bands[2], Comment.band3 == print_.bands[3]))
        .order_by(Comment.id).limit(200)
    ).all()
    for group_id, other in candidates:
        if similarity(body, other) >= NEAR_DUPLICATE:
            return group_id
    return None


# ---------------------------------------------------------------------------------------------
# Taking a comment
# ---------------------------------------------------------------------------------------------

def _clean_body(body: Any) -> str:
    if not isinstance(body, str):
        raise InvalidValue("The comment must be text.")
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise InvalidValue("Write your comment before sending it.")
    if len(body) > MAX_BODY:
        raise InvalidValue(f"A comment is limited to {MAX_BODY:,} characters; yours has {len(body):,}.")
    if "\x00" in body:
        raise InvalidValue("The comment contains a character that cannot be saved (NUL).")
    return body


def _clean_name(name: Any) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):
        raise InvalidValue("The name must be text.")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise InvalidValue(f"A name is limited to {MAX_NAME} characters.")
    return name or None


def _clean_email(email: Any) -> str | None:
    if email is None:
        return None
    if not isinstance(email, str):
        raise InvalidValue("The e-mail address must be text.")
    email = email.strip()
    if not email:
        return None
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidValue(f"{email[:60]!r} does not look like an e-mail address.")
    return email


def _target(text: str, target: Any) -> dict[str, Any] | None:
    if target in (None, {}, ""):
        return None
    if not isinstance(target, dict):
        raise InvalidValue("The passage ('target') must be an object with 'start' and 'end'.")
    try:
        start, end = int(target["start"]), int(target["end"])
    except (KeyError, TypeError, ValueError):
        raise InvalidValue("The passage needs whole-number 'start' and 'end' offsets into the draft's text.") from None
    if not (0 <= start < end <= len(text)):
        raise InvalidValue(f"The passage {start}..{end} is outside the draft's text (0..{len(text)}).")
    if target.get("exact") is not None and text[start:end] != target["exact"]:
        raise InvalidValue("The quoted passage does not match the draft's text at those offsets.")
    if not text[start:end].strip():
        raise InvalidValue("Select some words of the draft, not only spaces.")
    return {"exact": text[start:end], "prefix": text[max(0, start - CONTEXT_CHARS):start],
            "suffix": text[end:end + CONTEXT_CHARS], "start": start, "end": end}


@dataclass(frozen=True)
class Submitted:
    comment: Comment
    receipt_token: str  # shown once: the link to the comment's status; only its hash is stored


def _comments_changed(session: Session, review: Review) -> None:
    """Every write to a review's comments (or their consents and placements) comes through here, in its
    transaction: the new stamp retires whatever any process cached from the comments as they were."""
    review.comments_stamp = fresh_stamp()
    session.flush()


def submit(session: Session, actor: Actor, review_id: int, *, body: Any, identity: Any, name: Any = None, email: Any = None,
           category: Any = None, target: Any = None, allowed_categories: Collection[str], filed_via: Any = None,
           now: datetime | None = None) -> Submitted:
    """Take a comment while the period is open; nothing is stored when anything is wrong."""
    _forget_outlines()
    now = now or utcnow()
    review = session.get(Review, review_id)
    if review is None or not definition_of(review).stage(review.state).public:
        raise NotFound(f"There is no open public review {review_id}.")
    window = period(review, now)
    if not window.accepting:
        raise Conflict(window.reason, closes_on=window.closes_on.isoformat() if window.closes_on else None)
    if identity not in IDENTITY_MODES:
        raise InvalidValue("Choose how your name is handled: 'public', 'confidential' or 'anonymous'.")
    on_behalf = filed_via not in (None, "")
    if on_behalf:
        _require_ombuds(actor, "file a comment on someone's behalf")
        if filed_via not in FILING_CHANNELS:
            raise InvalidValue(f"How did the comment reach the office? One of: {', '.join(FILING_CHANNELS)}.")
    elif actor.user is None and not actor.is_system and not window.anonymous_allowed:
        raise PermissionDenied("Sign in to comment on this review; it does not take comments without an account.")
    if category in (None, ""):
        category = None
    elif category not in allowed_categories:
        raise InvalidValue(f"Unknown category {str(category)[:40]!r}; choose one of: {', '.join(allowed_categories)}.")
    text = policies.version_text(session, review.policy,
                                 policies.get_version(session, Actor.system(), review.policy, review.version_number))
    passage = _target(text, target)
    body = _clean_body(body)
    account = actor.user if (actor.user is not None and not on_behalf) else None
    if identity == "anonymous":
        # Nothing about the person is kept, whatever the form sent.
        stored_name = stored_email = None
        author_id = None
    else:
        stored_name = _clean_name(name) or (account.display_name if account else None)
        stored_email = _clean_email(email) if email not in (None, "") else (account.email if account else None)
        author_id = account.id if account else None
        if stored_name is None:
            raise InvalidValue("Give your name, or choose to comment anonymously.")
    print_ = fingerprint(body)
    token = secrets.token_urlsafe(24)
    comment = Comment(
        review_id=review.id, policy_id=review.policy_id, version_number=review.version_number, body=body, category=category,
        exact=passage["exact"] if passage else None, prefix=passage["prefix"] if passage else None,
        suffix=passage["suffix"] if passage else None, start=passage["start"] if passage else None,
        end=passage["end"] if passage else None, identity_mode=identity, author_id=author_id, name=stored_name,
        email=stored_email, disclosure_permitted=False, filed_by_id=actor.user.id if on_behalf and actor.user else None,
        filed_via=filed_via if on_behalf else None, receipt_hash=hashlib.sha256(token.encode()).hexdigest(), created_at=now,
        fingerprint=print_.exact, band0=print_.bands[0], band1=print_.bands[1],
        band2=print_.bands[2], band3=print_.bands[3],
        group_id=_group_for(session, review.id, body, print_),
    )
    session.add(comment)
    session.flush()
    if comment.group_id is None:
        comment.group_id = comment.id
    _comments_changed(session, review)
    search.index_comment(session, comment)
    # The audit trail records that a comment arrived and how, never who sent it (not even a signed-in
    # commenter's username: staff read the trail, and an anonymous or confidential comment must not name anyone).
    audit.record(session, actor if on_behalf else Actor.anonymous(), "comment.submitted",
                 f"comment:{comment.id}", policy_id=review.policy_id,
                 data={"review": review.id, "identity_mode": identity, "category": category, "filed_via": comment.filed_via})
    return Submitted(comment, token)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def get(session: Session, actor: Actor, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    if comment is None or not actor.is_staff:
        raise NotFound(f"There is no comment {comment_id}.")
    return comment


def by_receipt(session: Session, token: str) -> Comment:
    comment = session.scalar(select(Comment).where(Comment.receipt_hash == hashlib.sha256(token.encode()).hexdigest()))
    if comment is None:
        raise NotFound("This receipt link is not valid. Check that the whole link was copied.")
    return comment


@dataclass(frozen=True)
class Filters:
    category: str = ""
    disposition: str = ""  # a disposition, "none" (not yet answered) or ""
    hidden: str = ""  # "yes", "no" or ""
    passage: str = ""  # "yes" (about a passage), "no" (the policy as a whole), or words the passage contains
    q: str = ""  # words in the comment


@dataclass(frozen=True)
class GroupRow:
    """One near-duplicate group on the triage page: its first comment and how many share its words."""

    first: Comment
    count: int
    undecided: int


@dataclass
class TriagePage:
    rows: list[GroupRow]
    total_comments: int
    total_groups: int
    page: int
    page_size: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_groups // self.page_size))


def _filtered(review_id: int, filters: Filters) -> Any:
    query = select(Comment).where(Comment.review_id == review_id)
    if filters.category:
        query = query.where(Comment.category == filters.category)
    if filters.disposition == "none":
        query = query.where(Comment.disposition.is_(None), Comment.hidden_at.is_(None))
    elif filters.disposition:
        query = query.where(Comment.disposition == filters.disposition)
    if filters.hidden == "yes":
        query = query.where(Comment.hidden_at.is_not(None))
    elif filters.hidden == "no":
        query = query.where(Comment.hidden_at.is_(None))
    if filters.passage == "yes":
        query = query.where(Comment.start.is_not(None))
    elif filters.passage == "no":
        query = query.where(Comment.start.is_(None))
    elif filters.passage:
        query = query.where(Comment.exact.contains(filters.passage, autoescape=True))
    if filters.q:
        query = query.where(Comment.body.contains(filters.q, autoescape=True))
    return query


@dataclass(frozen=True)
class _TriageCounts:
    """What a triage page aggregates over the review's comments: ids and numbers, no rows of a session."""

    groups: tuple[tuple[int, int, int], ...]  # (first comment id, comments in the group, undecided), in page order
    total_comments: int
    total_groups: int
    counts: tuple[tuple[str, int], ...]


_TRIAGE: LRUCache[_TriageCounts] = LRUCache(64)


def triage(session: Session, actor: Actor, review_id: int, filters: Filters = Filters(), *, page: int = 1,
           page_size: int = 50) -> TriagePage:
    """The review's comments for ombuds staff, near-duplicates folded into one row with a count.

    The grouping and counting read every comment of the review (100,000 in a mass campaign); their result is
    kept per process under the review's comments stamp, so only the page's first comments are read again."""
    _require_ombuds(actor, "triage comments")
    review = get_review(session, actor, review_id)
    page = max(1, page)
    numbers = _TRIAGE.get_or_make((*_stamp(session, review), filters, page, page_size),
                                  lambda: _triage_counts(session, review.id, filters, page, page_size))
    firsts = {c.id: c for c in session.scalars(select(Comment).where(Comment.id.in_([g[0] for g in numbers.groups])))}
    return TriagePage([GroupRow(firsts[first_id], n, undecided) for first_id, n, undecided in numbers.groups],
                      numbers.total_comments, numbers.total_groups, page, page_size, dict(numbers.counts))


def _triage_counts(session: Session, review_id: int, filters: Filters, page: int, page_size: int) -> _TriageCounts:
    matching = _filtered(review_id, filters).subquery()
    grouped = (select(matching.c.group_id, func.min(matching.c.id).label("first_id"), func.count().label("n"),
                      func.count().filter(matching.c.disposition.is_(None), matching.c.hidden_at.is_(None)).label("undecided"))
               .group_by(matching.c.group_id))
    # Both totals in one pass; counting distinct group ids reads only the (review_id, group_id) index when nothing
    # is filtered, where counting the grouped rows would aggregate every comment again (50,000 comments on SQLite:
    # ~8 ms against ~100 ms; with a filter, one scan instead of two).
    total_comments, total_groups = session.execute(select(func.count(), func.count(matching.c.group_id.distinct()))).one()
    rows = session.execute(grouped.order_by(func.count().desc(), func.min(matching.c.id))
                           .limit(page_size).offset((page - 1) * page_size)).all()
    # Every count of the review in one pass over its comments.
    shown = Comment.hidden_at.is_(None)
    kinds = ("none", *DISPOSITIONS)
    tallies = session.execute(select(
        *(func.count().filter(shown, Comment.disposition.is_(None) if kind == "none" else Comment.disposition == kind)
          for kind in kinds),
        func.count().filter(Comment.hidden_at.is_not(None))).where(Comment.review_id == review_id)).one()
    counts = {kind: n for kind, n in zip(kinds, tallies[:-1], strict=True) if n}
    counts["hidden"] = tallies[-1]
    return _TriageCounts(tuple((r.first_id, r.n, r.undecided) for r in rows), total_comments, total_groups,
                         tuple(counts.items()))


def group_members(session: Session, actor: Actor, review_id: int, group_id: int, *, limit: int = 500) -> list[Comment]:
    _require_ombuds(actor, "triage comments")
    return list(session.scalars(select(Comment).where(Comment.review_id == review_id, Comment.group_id == group_id)
                                .order_by(Comment.id).limit(limit)))


def list_for(session: Session, actor: Actor, review_id: int, *, page: int = 1, page_size: int = 100) -> tuple[list[Comment], int]:
    """Comments as a list: staff while the review runs; everyone once the response to comments is public."""
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound(f"There is no review {review_id}.")
    if not actor.is_staff and not report_is_public(session, review):
        raise NotFound(f"There is no public response to comments for review {review_id} yet.")
    query = select(Comment).where(Comment.review_id == review.id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(session.scalars(query.order_by(Comment.id).limit(page_size).offset((max(1, page) - 1) * page_size)))
    return items, total


@dataclass(frozen=True)
class ReviewCounts:
    """The review page's comment box: answers by disposition ("none": not yet answered) and hidden comments."""

    by_disposition: dict[str, int]
    hidden: int

    @property
    def total(self) -> int:
        return sum(self.by_disposition.values()) + self.hidden


_REVIEW_COUNTS: LRUCache[ReviewCounts] = LRUCache(256)


def review_counts(session: Session, review: Review) -> ReviewCounts:
    """Kept per process under the review's comments stamp: the review page is read far more often than
    comments change, and counting a campaign's 100,000 comments takes a database scan."""

    def count() -> ReviewCounts:
        by_disposition = {disposition or "none": n for disposition, n in session.execute(
            select(Comment.disposition, func.count()).where(Comment.review_id == review.id, Comment.hidden_at.is_(None))
            .group_by(Comment.disposition))}
        hidden = session.scalar(select(func.count()).where(Comment.review_id == review.id,
                                                           Comment.hidden_at.is_not(None))) or 0
        return ReviewCounts(by_disposition, hidden)

    return _REVIEW_COUNTS.get_or_make(_stamp(session, review), count)


def any_undecided(session: Session, review: Review) -> bool:
    """Whether any comment is neither answered nor hidden: the gate itself, which stops at the first one found
    (in the partial index of unanswered comments) instead of counting a hundred thousand."""
    return bool(session.scalar(select(exists().where(Comment.review_id == review.id, Comment.disposition.is_(None),
                                                     Comment.hidden_at.is_(None)))))


def undecided_count(session: Session, review: Review) -> int:
    """Comments neither answered nor hidden: the "all comments answered" condition that holds the review.

    Counted in the database every time, never from a per-process cache: a gate must stay exact even after a
    change no stamp recorded (a repair in SQL, a process of an older release). The partial index of
    unanswered comments keeps it cheap."""
    return session.scalar(select(func.count()).where(Comment.review_id == review.id, Comment.disposition.is_(None),
                                                     Comment.hidden_at.is_(None))) or 0


# ---------------------------------------------------------------------------------------------
# Moderation, dispositions, consent
# ---------------------------------------------------------------------------------------------

def hide(session: Session, actor: Actor, comment_id: int, reason: str, *, now: datetime | None = None) -> Comment:
    _forget_outlines()
    _require_ombuds(actor, "hide comments")
    comment = get(session, actor, comment_id)
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidValue("Say why the comment is hidden (for example: abusive language, personal information).")
    if len(reason) > MAX_REASON:
        raise InvalidValue(f"The reason is limited to {MAX_REASON} characters.")
    # Search needs no re-indexing here (nor in unhide): it checks hidden_at at query time.
    comment.hidden_at, comment.hidden_by_id, comment.hidden_reason = now or utcnow(), actor.user.id if actor.user else None, reason
    _comments_changed(session, comment.review)
    audit.record(session, actor, "comment.hidden", f"comment:{comment.id}", policy_id=comment.policy_id,
                 data={"review": comment.review_id, "reason": reason})
    return comment


def unhide(session: Session, actor: Actor, comment_id: int) -> Comment:
    _forget_outlines()
    _require_ombuds(actor, "show hidden comments again")
    comment = get(session, actor, comment_id)
    comment.hidden_at = comment.hidden_by_id = comment.hidden_reason = None
    _comments_changed(session, comment.review)
    audit.record(session, actor, "comment.unhidden", f"comment:{comment.id}", policy_id=comment.policy_id,
                 data={"review": comment.review_id})
    return comment


def _answer_email(comment: Any, policy_code: str, policy_title: str, disposition: str, response: str,
                  base_url: str) -> tuple[str, str, str, str]:
    """The e-mail telling a commenter what the district did (to, subject, body, dedupe key)."""
    return (
        comment.email, f"The district answered your comment on policy {policy_code}",
        (f"Thank you for commenting on policy {policy_code} {policy_title}.\n\n"
         f"What the district did: {DISPOSITION_LABELS[disposition]}.\n\n{response}\n\n"
         f"The full response to comments will be public at {base_url}/public/reviews/{comment.review_id}/report "
         "once the comment period ends.\n"),
        f"comment-response:{comment.id}:{hashlib.sha256((disposition + response).encode()).hexdigest()[:16]}",
    )


def _tells_commenter(comment: Any, disposition: str, response: str) -> bool:
    """Whether a new answer is worth an e-mail: it changed, and the commenter left an address to hear back."""
    changed = (comment.disposition, comment.response) != (disposition, response)
    return bool(changed and comment.email and comment.identity_mode != "anonymous")


def _apply_disposition(session: Session, actor: Actor, comment: Comment, disposition: str, response: str,
                       changed_in_version: int | None, now: datetime, base_url: str) -> None:
    if _tells_commenter(comment, disposition, response):
        notifications.enqueue_emails(session, [_answer_email(comment, comment.policy.code, comment.policy.title, disposition,
                                                             response, base_url)], now=now)
    comment.disposition, comment.response, comment.changed_in_version = disposition, response, changed_in_version
    comment.dispositioned_at, comment.dispositioned_by_id = now, actor.user.id if actor.user else None


def _check_disposition(session: Session, comment_or_review: Comment | Review, disposition: Any, response: Any,
                       changed_in_version: Any) -> tuple[str, str, int | None]:
    if disposition not in DISPOSITIONS:
        raise InvalidValue(f"The disposition is one of: {', '.join(DISPOSITIONS)}.")
    if not isinstance(response, str) or not response.strip():
        raise InvalidValue("Write the response the commenter and the public will read.")
    response = response.replace("\r\n", "\n").strip()
    if len(response) > MAX_BODY:
        raise InvalidValue(f"A response is limited to {MAX_BODY:,} characters.")
    if changed_in_version in (None, ""):
        return disposition, response, None
    try:
        number = int(changed_in_version)
    except (TypeError, ValueError):
        raise InvalidValue("'changed_in_version' is a version number.") from None
    policy = comment_or_review.policy
    if number < 1 or number > policy.head_version_number:
        raise InvalidValue(f"Policy {policy.code} has no version {number}.")
    return disposition, response, number


def set_disposition(session: Session, actor: Actor, comment_id: int, *, disposition: Any, response: Any,
                    changed_in_version: Any = None, base_url: str = "", now: datetime | None = None) -> Comment:
    _forget_outlines()
    _require_ombuds(actor, "record dispositions")
    comment = get(session, actor, comment_id)
    disposition, response, version = _check_disposition(session, comment, disposition, response, changed_in_version)
    _apply_disposition(session, actor, comment, disposition, response, version, now or utcnow(), base_url)
    _comments_changed(session, comment.review)
    search.index_comment(session, comment)
    audit.record(session, actor, "comment.dispositioned", f"comment:{comment.id}", policy_id=comment.policy_id,
                 data={"review": comment.review_id, "disposition": disposition, "changed_in_version": version})
    return comment


def disposition_group(session: Session, actor: Actor, review_id: int, group_id: int, *, disposition: Any, response: Any,
                      changed_in_version: Any = None, base_url: str = "", now: datetime | None = None) -> int:
    """Answer every comment of a near-duplicate group at once (a mass campaign); returns how many."""
    _forget_outlines()
    _require_ombuds(actor, "record dispositions")
    review = get_review(session, actor, review_id)
    disposition, response, version = _check_disposition(session, review, disposition, response, changed_in_version)
    in_group = (Comment.review_id == review.id, Comment.group_id == group_id, Comment.hidden_at.is_(None))
    members = session.execute(select(Comment.id, Comment.review_id, Comment.email, Comment.identity_mode, Comment.disposition,
                                     Comment.response).where(*in_group)).all()
    if not members:
        raise NotFound(f"Review {review_id} has no comment group {group_id}.")
    now = now or utcnow()
    # Set-based: one UPDATE for the group and one INSERT for its e-mails. A campaign of thousands of letters
    # answered comment by comment (an UPDATE and an INSERT each) would keep the request busy for seconds.
    mails = [_answer_email(member, review.policy.code, review.policy.title, disposition, response, base_url)
             for member in members if _tells_commenter(member, disposition, response)]
    session.execute(update(Comment).where(*in_group).values(
        disposition=disposition, response=response, changed_in_version=version, dispositioned_at=now,
        dispositioned_by_id=actor.user.id if actor.user else None).execution_options(synchronize_session=False))
    search.index_responses(session, select(Comment.id).where(*in_group), response)
    # Comments already loaded in this session re-read their answer ("fetch" synchronisation left all but one
    # stale on PostgreSQL with psycopg).
    answered = {member.id for member in members}
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, Comment) and loaded.id in answered:
            session.expire(loaded, ["disposition", "response", "changed_in_version", "dispositioned_at", "dispositioned_by_id"])
    notifications.enqueue_emails(session, mails, now=now)
    _comments_changed(session, review)
    audit.record(session, actor, "comment.group_dispositioned", f"review:{review.id}", policy_id=review.policy_id,
                 data={"group": group_id, "comments": len(members), "disposition": disposition, "changed_in_version": version})
    return len(members)


def set_disclosure(session: Session, actor: Actor, comment: Comment, granted: bool, *, now: datetime | None = None) -> Comment:
    """The commenter (by receipt link) or ombuds staff on their word records permission to show the name."""
    _forget_outlines()
    if comment.identity_mode != "confidential":
        raise InvalidValue("Only a confidential comment's name can be disclosed or withheld.")
    if actor.user is not None and not sees_identities(actor):
        raise PermissionDenied("Only the commenter, or ombuds staff on the commenter's word, can change this.")
    comment.disclosure_permitted = granted
    session.add(CommentConsent(comment_id=comment.id, granted=granted, recorded_at=now or utcnow(),
                               recorded_by_id=actor.user.id if actor.user else None))
    _comments_changed(session, comment.review)
    audit.record(session, actor, "comment.disclosure_granted" if granted else "comment.disclosure_revoked",
                 f"comment:{comment.id}", policy_id=comment.policy_id, data={"review": comment.review_id})
    return comment


# ---------------------------------------------------------------------------------------------
# Re-anchoring on a new version
# ---------------------------------------------------------------------------------------------

def place_on_new_version(session: Session, policy_id: int, old_number: int, old_text: str, new_number: int,
                         new_text: str) -> None:
    """Carry every comment passage on the old version to the new one, like annotations."""
    _forget_outlines()
    made = session.execute(select(Comment.id, Comment.start, Comment.end).where(
        Comment.policy_id == policy_id, Comment.version_number == old_number, Comment.start.is_not(None))).all()
    carried = session.execute(select(CommentPlacement.comment_id, CommentPlacement.start, CommentPlacement.end)
                              .join(Comment).where(Comment.policy_id == policy_id,
                                                   CommentPlacement.version_number == old_number)).all()
    items = [(cid, s, e) for cid, s, e in [*made, *carried]]
    placeable = [(cid, s, e) for cid, s, e in items if s is not None and e is not None]
    selectors = [{"exact": old_text[s:e], "prefix": old_text[max(0, s - CONTEXT_CHARS):s],
                  "suffix": old_text[e:e + CONTEXT_CHARS], "start": s, "end": e} for _c, s, e in placeable]
    results = reanchor_many(old_text, new_text, selectors) if selectors else []
    for (comment_id, _s, _e), result in zip(placeable, results, strict=True):
        session.add(CommentPlacement(comment_id=comment_id, version_number=new_number, status=result["status"],
                                     start=result["start"], end=result["end"], score=float(result["score"])))
    for comment_id, start, _e in items:
        if start is None:
            session.add(CommentPlacement(comment_id=comment_id, version_number=new_number, status="orphaned",
                                         start=None, end=None, score=0.0))
    for review in session.scalars(select(Review).where(Review.policy_id == policy_id)):
        _comments_changed(session, review)
    session.flush()


# ---------------------------------------------------------------------------------------------
# The response-to-comments report
# ---------------------------------------------------------------------------------------------

_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def section_of(text: str, start: int | None) -> tuple[int, str]:
    """(order, heading) of the section a passage sits in; comments on the whole policy come first."""
    if start is None:
        return (-1, "The policy as a whole")
    heading, order = "Opening text", 0
    for match in _HEADING.finditer(text):
        if match.start() > start:
            break
        heading, order = match.group(1), match.start() + 1
    return (order, heading)


@dataclass
class ReportGroup:
    first: Any  # the full row (the _Exported columns) of the group's first shown comment: the words it shares
    members: list[Any]  # every member: full rows in the whole report, light rows (_Light) on a page
    full: dict[int, Any] = field(default_factory=dict)  # full rows of hidden members (their text is for ombuds)


@dataclass
class ReportSection:
    index: int  # position in the whole report: a stable anchor across pages
    heading: str
    count: int  # comments in the whole section, not only on this page
    groups: list[ReportGroup]
    continued: bool = False  # the section began on an earlier page


@dataclass
class OutlineSection:
    index: int
    heading: str
    groups: dict[int, list[Any]]  # group key (group id, or the comment's id) -> member light rows, by first comment
    first_page: int = 1

    @property
    def count(self) -> int:
        return sum(len(members) for members in self.groups.values())


@dataclass
class Report:
    review: Review
    sections: list[ReportSection]  # the page's sections (all of them when the report is not paged)
    outline: list[OutlineSection]  # every section, with the page it starts on
    total: int
    by_category: dict[str, int]
    by_disposition: dict[str, int]
    by_identity: dict[str, int]
    hidden: int
    public: bool  # small counts masked, identities per their mode
    page: int = 1
    pages: int = 1
    groups: int = 0  # near-duplicate groups in the whole report


def shown_count(count: int, public: bool) -> str:
    return f"fewer than {SMALL_COUNT}" if public and 0 < count < SMALL_COUNT else str(count)


def _readable_report_review(session: Session, actor: Actor, review_id: int) -> Review:
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound(f"There is no review {review_id}.")
    if not actor.is_staff and not report_is_public(session, review):
        raise NotFound(f"There is no public response to comments for review {review_id} yet.")
    return review


# The columns a page of the report aggregates (names, categories, answers) without the comments' text.
_LIGHT_COLUMNS = (Comment.id, Comment.group_id, Comment.category, Comment.identity_mode, Comment.name,
                  Comment.disclosure_permitted, Comment.hidden_at, Comment.disposition, Comment.response,
                  Comment.changed_in_version)
_Light = namedtuple("_Light", [column.key for column in _LIGHT_COLUMNS])  # type: ignore[misc]


@dataclass(frozen=True)
class _Outline:
    sections: tuple[tuple[str, dict[int, list[Any]]], ...]  # (heading, group key -> light rows), in text order
    by_category: dict[str, int]
    by_disposition: dict[str, int]
    by_identity: dict[str, int]
    total: int
    hidden: int


_OUTLINES: LRUCache[_Outline] = LRUCache(8)


def _stamp(session: Session, review: Review) -> tuple[Any, ...]:
    """What the review's comments look like, without reading them: any write to them (in any process) gave the
    review a new ``comments_stamp`` in its transaction. The review row is read before the comments, so a value
    computed from the comments is never newer-keyed than what it saw."""
    return (str(session.get_bind().engine.url), review.id, review.started_at, review.version_number,
            review.comments_stamp)


def _forget_outlines() -> None:
    """Any comment written in this process: drop the outlines now rather than when they fall out of the LRU."""
    _OUTLINES.clear()


def _outline(session: Session, review: Review) -> _Outline:
    """Every comment's section and group and the statistics, from one pass over a few columns.

    Kept per process for the last few reviews, keyed by a stamp of the comments' state, so paging through
    a report of 50,000 comments reads them once, not on every page."""
    stamp = _stamp(session, review)
    cached = _OUTLINES.get(stamp)
    if cached is not None:
        return cached
    text = policies.version_text(session, review.policy,
                                 policies.get_version(session, Actor.system(), review.policy, review.version_number))
    placed = (select(CommentPlacement.comment_id, CommentPlacement.start)
              .where(CommentPlacement.version_number == review.version_number).subquery())
    light = (select(Comment.version_number, Comment.start, placed.c.start, *_LIGHT_COLUMNS)
             .outerjoin(placed, placed.c.comment_id == Comment.id)
             .where(Comment.review_id == review.id).order_by(Comment.id))
    sections: dict[tuple[int, str], dict[int, list[Any]]] = {}
    by_category: dict[str, int] = {}
    by_disposition: dict[str, int] = {}
    by_identity: dict[str, int] = {}
    total = hidden = 0
    section_at: dict[int | None, tuple[int, str]] = {}  # many comments quote the same passage: find its heading once
    version = review.version_number
    for values in session.connection().execute(light.execution_options(yield_per=5000)):
        row = _Light._make(values[3:])
        total += 1
        start = values[1] if values[0] == version else values[2]
        key = section_at.get(start) or section_at.setdefault(start, section_of(text, start))
        sections.setdefault(key, {}).setdefault(row.group_id or row.id, []).append(row)
        category = row.category or "not_given"
        by_category[category] = by_category.get(category, 0) + 1
        by_identity[row.identity_mode] = by_identity.get(row.identity_mode, 0) + 1
        if row.hidden_at is not None:
            hidden += 1
        else:
            by_disposition[row.disposition or "none"] = by_disposition.get(row.disposition or "none", 0) + 1
    outline = _Outline(tuple((heading, groups) for (_order, heading), groups in sorted(sections.items())),
                       by_category, by_disposition, by_identity, total, hidden)
    _OUTLINES.put(stamp, outline)
    return outline


def report(session: Session, actor: Actor, review_id: int, *, page: int | None = None,
           page_size: int | None = None) -> Report:
    """Every comment grouped by the section it is about, near-duplicates together, with statistics.

    With ``page`` only that page's groups are shown (``page_size`` groups a page) and only their first
    comments' and hidden comments' text is read; without it, every comment in full (the JSON export).
    """
    review = _readable_report_review(session, actor, review_id)
    page_size = page_size or REPORT_PAGE_GROUPS
    outline_data = _outline(session, review)
    outline = [OutlineSection(index, heading, groups) for index, (heading, groups) in enumerate(outline_data.sections, 1)]
    group_count = sum(len(section.groups) for section in outline)
    pages = max(1, -(-group_count // page_size))
    seen = 0
    for section in outline:
        section.first_page = seen // page_size + 1
        seen += len(section.groups)
    if page is None:
        wanted = (0, group_count)
    else:
        page = min(max(page, 1), pages)
        wanted = ((page - 1) * page_size, page * page_size)
    chosen: list[tuple[OutlineSection, int, list[Any]]] = []
    position = 0
    for section in outline:
        for number, members in enumerate(section.groups.values()):
            if wanted[0] <= position < wanted[1]:
                chosen.append((section, number, members))
            position += 1
    if page is None:
        full = _full_rows(session, review.id, None)
    else:  # the text of each group's first shown comment, and of hidden ones (ombuds read those)
        full = _full_rows(session, review.id, [row.id for _s, _n, members in chosen for row in _text_needed(members)])
    shown: list[ReportSection] = []
    for section, number, members in chosen:
        if not shown or shown[-1].index != section.index:
            shown.append(ReportSection(section.index, section.heading, section.count, [], continued=number > 0))
        first = full[_text_needed(members)[0].id]
        if page is None:
            group = ReportGroup(first, [full[row.id] for row in members])
        else:
            group = ReportGroup(first, members, {row.id: full[row.id] for row in members if row.hidden_at is not None})
        shown[-1].groups.append(group)
    return Report(review, shown, outline, outline_data.total, dict(outline_data.by_category), dict(outline_data.by_disposition),
                  dict(outline_data.by_identity), outline_data.hidden, public=not sees_identities(actor), page=page or 1,
                  pages=pages if page is not None else 1, groups=group_count)


def _text_needed(members: list[Any]) -> list[Any]:
    """The members whose text a page shows: the first one not hidden (the group's words), and every hidden one."""
    first_shown = next((row for row in members if row.hidden_at is None), members[0])
    return [first_shown, *(row for row in members if row.hidden_at is not None and row is not first_shown)]


def _full_rows(session: Session, review_id: int, ids: list[int] | None) -> dict[int, Any]:
    """Full report rows keyed by id: the given comments (chunked), or every comment of the review."""
    query = select(*_EXPORT_COLUMNS).where(Comment.review_id == review_id).execution_options(yield_per=5000)
    if ids is None:
        return {values[0]: _Exported._make(values) for values in session.connection().execute(query)}
    rows: dict[int, Any] = {}
    for chunk in range(0, len(ids), 500):
        for values in session.connection().execute(query.where(Comment.id.in_(ids[chunk:chunk + 500]))):
            rows[values[0]] = _Exported._make(values)
    return rows


def export_rows(session: Session, actor: Actor, review_id: int) -> Iterator[dict[str, Any]]:
    """One flat row per comment for CSV and JSON, identities as the actor may see them; streamed."""
    _readable_report_review(session, actor, review_id)
    ombuds = sees_identities(actor)

    def rows() -> Iterator[dict[str, Any]]:
        # Plain tuples of just the columns comment_row reads, under the same attribute names: loading 50,000
        # ORM objects (or reading Row attributes) alone takes longer than the whole export may. Fetched through the
        # session's connection (Core): the ORM's handling of the result rows would add ~40% to the fetch.
        for values in session.connection().execute(select(*_EXPORT_COLUMNS).where(Comment.review_id == review_id)
                                                   .order_by(Comment.id).execution_options(yield_per=5000)):
            yield comment_row(_Exported._make(values), actor, ombuds)  # type: ignore[arg-type]

    return rows()


_EXPORT_COLUMNS = (Comment.id, Comment.review_id, Comment.version_number, Comment.created_at, Comment.category,
                   Comment.identity_mode, Comment.name, Comment.email, Comment.disclosure_permitted, Comment.exact,
                   Comment.group_id, Comment.body, Comment.hidden_at, Comment.hidden_reason, Comment.disposition,
                   Comment.response, Comment.changed_in_version, Comment.filed_via)
_Exported = namedtuple("_Exported", [column.key for column in _EXPORT_COLUMNS])  # type: ignore[misc]


def comment_row(comment: Comment, actor: Actor, ombuds: bool | None = None) -> dict[str, Any]:
    ombuds = sees_identities(actor) if ombuds is None else ombuds
    hidden = comment.hidden_at is not None
    row: dict[str, Any] = {
        "id": comment.id, "review": comment.review_id, "version": comment.version_number,
        "submitted_at": comment.created_at.isoformat(), "category": comment.category,
        "identity_mode": comment.identity_mode, "name": shown_name(comment, actor),
        "passage": comment.exact, "group": comment.group_id,
        "body": comment.body if (ombuds or not hidden) else None,
        "hidden": hidden, "hidden_reason": comment.hidden_reason,
        "disposition": comment.disposition, "response": comment.response, "changed_in_version": comment.changed_in_version,
        "filed_via": comment.filed_via,
    }
    if ombuds:
        row["email"] = comment.email
        row["disclosure_permitted"] = comment.disclosure_permitted
    return row
