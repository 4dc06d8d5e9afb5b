"""Full-text search over policy texts, notes and comments, limited to what the searcher may see.

The index (``search_entries``; FTS5 on SQLite, ``tsvector`` + GIN on PostgreSQL, see migration 0006) is
kept current by the ``index_*`` functions, which the services that change the words call in the same
transaction: ``policies.create_policy``, ``save_version`` and ``publish_version`` (the head and the
published text), ``annotations.create``, ``edit`` and ``delete``, ``comments.submit``,
``set_disposition`` and ``disposition_group`` (responses are searchable too).

Who may see a hit is decided at query time against the source rows, never by what the index
holds: a note's visibility and deletion, a comment's hidden mark, the stage of a review and whether
its response to comments is public are read from their own tables in the same query. So hiding a
comment, or anything else that changes who may see what, needs no re-indexing to take effect.

The rules (``search``):
- Everyone (no account, stakeholders): published policy text; the draft of a review in a public
  stage (``comments.public_review``) and the public notes shown on that draft's public page; comments
  of reviews whose response to comments is public (``comments.report_is_public``), hidden ones never.
- Staff (reviewer, leadership, admin): the current (head) and published text of every policy; notes
  per ``annotations.search_condition``; comments of every review, hidden ones never.
- Ombuds staff: all of that plus hidden comments, and commenters' names and e-mail addresses match.
  For anyone else names never match (they are kept in a column only ombuds searches read) and show
  as ``comments.shown_name`` gives them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.orm import Session, aliased, selectinload

from policyflow.core.errors import InvalidInput, InvalidValue
from policyflow.core.textsearch import (
    MARK_START,
    MARK_STOP,
    MAX_QUERY_CHARS,
    chunk_markdown,
    fts5_match,
    has_mark,
    query_terms,
    snippet_html,
    tsquery_text,
)
from policyflow.models import (
    SEARCH_KINDS,
    Annotation,
    AnnotationPlacement,
    Comment,
    Policy,
    PolicyVersion,
    Review,
    SearchEntry,
)
from policyflow.services.actors import Actor

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
KIND_LABELS = {"policy": "Policy text", "annotation": "Note", "comment": "Comment"}
_STAGE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PUBLIC_COLUMNS = ("title", "body", "extra")  # every FTS5 column but ``private`` (names and e-mails)
_FTS = table("search_fts", column("rowid"))
_FTS_SELF = literal_column("search_fts")  # the table's own name stands for all its columns in MATCH and bm25()
_PG_CONFIG = literal_column("'english'::regconfig")
_PG_DOCUMENT = literal_column("search_entries.document")
_PG_DOCUMENT_PRIVATE = literal_column("search_entries.document_private")
_PG_HEADLINE = (f"StartSel={MARK_START}, StopSel={MARK_STOP}, MaxWords=35, MinWords=15, ShortWord=3, MaxFragments=2, "
                'FragmentDelimiter=" … "')
_PG_HEADLINE_TITLE = f"StartSel={MARK_START}, StopSel={MARK_STOP}, HighlightAll=true"


# ---------------------------------------------------------------------------------------------
# Keeping the index current (called by the services that change the words)
# ---------------------------------------------------------------------------------------------

def _clean(value: str | None) -> str:
    """Words as indexed: the snippet markers are taken out, so no stored text can fake a highlight."""
    return (value or "").replace(MARK_START, " ").replace(MARK_STOP, " ")


def _private(identity_mode: str, name: str | None, email: str | None) -> str:
    """A commenter's name and e-mail as ombuds staff may search them (the address also as separate words)."""
    if identity_mode == "anonymous":
        return ""
    email = email or ""
    return _clean(" ".join(part for part in (name or "", email, email.replace("@", " ").replace(".", " ")) if part))


def index_policy(session: Session, policy: Policy) -> None:
    """Index the policy's head and published texts and drop any other version's (versions never change,
    so a version already indexed is left as it is)."""
    from policyflow.services import policies  # policies calls this module

    wanted = {policy.head_version_number, policy.published_version_number} - {None, 0}
    existing = set(session.scalars(select(SearchEntry.version_number).distinct().where(
        SearchEntry.kind == "policy", SearchEntry.policy_id == policy.id)))
    stale = existing - wanted
    if stale:
        session.execute(delete(SearchEntry).where(SearchEntry.kind == "policy", SearchEntry.policy_id == policy.id,
                                                  SearchEntry.version_number.in_(stale)))
    for number in sorted(wanted - existing):
        version = session.scalar(select(PolicyVersion).where(PolicyVersion.policy_id == policy.id,
                                                             PolicyVersion.number == number))
        assert version is not None, f"{policy.code} has no version {number}"
        rows = [{"kind": "policy", "policy_id": policy.id, "version_number": number, "position": chunk.position,
                 "anchor": chunk.anchor[:200], "title": _clean(chunk.heading), "body": _clean(chunk.text), "extra": "",
                 "private": ""}
                for chunk in chunk_markdown(policies.version_text(session, policy, version))]
        if rows:
            session.execute(insert(SearchEntry.__table__), rows)


def index_annotation(session: Session, annotation: Annotation) -> None:
    """(Re)index a note's body and tags; a deleted note leaves the index."""
    session.execute(delete(SearchEntry).where(SearchEntry.annotation_id == annotation.id))
    if annotation.deleted_at is None:
        session.execute(insert(SearchEntry.__table__).values(
            kind="annotation", policy_id=annotation.policy_id, version_number=annotation.version_number,
            annotation_id=annotation.id, position=0, anchor="", title=_clean(" ".join(annotation.tags or [])),
            body=_clean(annotation.body), extra="", private=""))


def index_comment(session: Session, comment: Comment) -> None:
    """(Re)index a comment: its words, the district's response, and the identity only ombuds may match."""
    values = {"body": _clean(comment.body), "extra": _clean(comment.response),
              "private": _private(comment.identity_mode, comment.name, comment.email)}
    changed = session.execute(update(SearchEntry.__table__).where(SearchEntry.comment_id == comment.id).values(**values))
    if changed.rowcount == 0:
        session.execute(insert(SearchEntry.__table__).values(
            kind="comment", policy_id=comment.policy_id, version_number=comment.version_number, comment_id=comment.id,
            review_id=comment.review_id, position=0, anchor="", title="", **values))


def index_responses(session: Session, comment_ids: Select[Any], response: str | None) -> None:
    """One response given to many comments at once (a near-duplicate group): one UPDATE, whatever their number."""
    session.execute(update(SearchEntry.__table__).where(SearchEntry.comment_id.in_(comment_ids.scalar_subquery()))
                    .values(extra=_clean(response)))


# ---------------------------------------------------------------------------------------------
# Searching
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchResult:
    """One hit, in words the searcher may read: names as ``shown_name`` gives them, snippets as safe HTML."""

    kind: str  # policy | annotation | comment
    kind_label: str
    policy_code: str
    policy_title: str
    section: str  # the policy's section of the catalogue
    stage: str  # "published", "draft" or the review stage
    stage_label: str
    title: str  # what the hit is: "Published text, version 5", "Note on version 3", "Comment on review 7"
    heading: str  # policy text: the heading it sits under
    passage: str | None  # a note's or comment's quoted words of the policy
    snippet: str  # escaped HTML with <mark> around the matched words
    snippet_source: str  # "text", "response", "heading" or "tags"
    url: str
    rank: float
    version: int | None = None
    annotation_id: int | None = None
    visibility: str | None = None
    comment_id: int | None = None
    review_id: int | None = None
    name: str | None = None  # comments only: as comments.shown_name gives it
    disposition: str | None = None
    hidden: bool = False  # only ombuds staff ever get hidden comments

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SearchPage:
    query: str
    items: list[SearchResult]
    total: int
    page: int
    page_size: int
    kinds: tuple[str, ...] = ()
    section: str = ""
    stage: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def check_query(query: str | None) -> list[str]:
    """The words of a query, or a clear refusal: no words at all, or more text than a search takes."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidValue(f"A search is limited to {MAX_QUERY_CHARS} characters; yours has {len(query)}. "
                           "Use a few distinctive words.")
    terms = query_terms(query)
    if not terms:
        raise InvalidInput("Type one or more words to search for (letters or numbers; quotes and symbols are ignored).")
    return terms


def _check_filters(kinds: Iterable[str], stage: str, page: int, page_size: int) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(kind for kind in kinds if kind))
    unknown = [kind for kind in chosen if kind not in SEARCH_KINDS]
    if unknown:
        raise InvalidValue(f"Unknown kind {unknown[0][:40]!r}; search one or more of: {', '.join(SEARCH_KINDS)}.")
    if stage and not _STAGE.match(stage):
        raise InvalidValue(f"Unknown stage {stage[:40]!r}; use 'published', 'draft' or a review stage such as "
                           "'stakeholder_comment'.")
    if page < 1:
        raise InvalidValue("The page number starts at 1.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidValue(f"A page holds 1 to {MAX_PAGE_SIZE} results.")
    return chosen


def public_review_ids(session: Session) -> list[int]:
    """Reviews whose draft the public may read now (their stage is public), as ``comments.public_review`` decides."""
    from policyflow.services.reviews import definition_of

    return [review.id for review in session.scalars(select(Review).where(Review.ended_at.is_(None)))
            if definition_of(review).stage(review.state).public]


def public_report_ids(session: Session) -> list[int]:
    """Reviews with comments whose response to comments is public (``comments.report_is_public``)."""
    from policyflow.services.comments import report_is_public

    has_comments = exists().where(Comment.review_id == Review.id)  # an index probe per review, not a pass over comments
    candidates = session.scalars(select(Review).where(has_comments).options(selectinload(Review.transitions)))
    return [review.id for review in candidates if report_is_public(session, review)]


def search(session: Session, actor: Actor, query: str, *, kinds: Collection[str] = (), section: str = "", stage: str = "",
           page: int = 1, page_size: int = PAGE_SIZE) -> SearchPage:
    """Policy texts, notes and comments matching every word of ``query`` that ``actor`` may see, best first.

    Raises InvalidInput for a query without words and InvalidValue for a query over 200 characters or an
    unknown filter. ``kinds`` (policy, annotation, comment), ``section`` (the catalogue section) and
    ``stage`` ("published", "draft" or a review stage) narrow the results.
    """
    from policyflow.services import annotations
    from policyflow.services.comments import sees_identities

    terms = check_query(query)
    chosen = _check_filters(kinds, stage, page, page_size)
    staff, ombuds = actor.is_staff, sees_identities(actor)
    wanted = chosen or SEARCH_KINDS
    entry, policy = SearchEntry, Policy
    active = aliased(Review, name="active_review")  # the policy's review in progress (at most one)
    commented = aliased(Review, name="comment_review")  # a comment's review
    is_text, is_note, is_comment = entry.kind == "policy", entry.kind == "annotation", entry.kind == "comment"
    published_text = and_(is_text, entry.version_number == policy.published_version_number)

    # Notes and comments are checked with semi-joins on their own tables (hashed once per query), not a join per hit:
    # a word in every letter of a 50,000-comment campaign stays one pass. Hidden comments are few: leaving them out
    # is a small set (partial index ix_comments_hidden), whatever the number of comments.
    hidden = select(Comment.id).where(Comment.hidden_at.is_not(None))
    if staff:
        text_ok: ColumnElement[bool] = and_(is_text, or_(entry.version_number == policy.head_version_number,
                                                         entry.version_number == policy.published_version_number))
        readable_notes = select(Annotation.id).where(Annotation.deleted_at.is_(None), annotations.search_condition(actor))
        note_ok: ColumnElement[bool] = and_(is_note, entry.annotation_id.in_(readable_notes))
        comment_ok: ColumnElement[bool] = is_comment if ombuds else and_(is_comment, entry.comment_id.not_in(hidden))
    else:
        readable = public_review_ids(session) if {"policy", "annotation"} & set(wanted) else []
        reported = public_report_ids(session) if "comment" in wanted else []
        text_ok = and_(is_text, or_(entry.version_number == policy.published_version_number,
                                    and_(active.id.in_(readable) if readable else false(),
                                         entry.version_number == active.version_number)))
        # The notes the public review page shows: public ones made on, or carried to, the draft under review.
        under_review = aliased(Review, name="public_review")
        carried = exists().where(AnnotationPlacement.annotation_id == Annotation.id,
                                 AnnotationPlacement.version_number == under_review.version_number)
        public_notes = (select(Annotation.id)
                        .join(under_review, and_(under_review.policy_id == Annotation.policy_id, under_review.ended_at.is_(None)))
                        .where(under_review.id.in_(readable) if readable else false(), Annotation.visibility == "public",
                               Annotation.deleted_at.is_(None),
                               or_(Annotation.version_number == under_review.version_number, carried)))
        note_ok = and_(is_note, entry.annotation_id.in_(public_notes))
        # A comment never moves to another review, so the entry's copy of its review is the comment's.
        comment_ok = and_(is_comment, entry.review_id.in_(reported) if reported else false(), entry.comment_id.not_in(hidden))
    allowed = [condition for kind, condition in (("policy", text_ok), ("annotation", note_ok), ("comment", comment_ok))
               if kind in wanted]

    policy_stage = case((active.state.is_not(None), active.state),
                        (and_(policy.published_version_number.is_not(None),
                              policy.published_version_number == policy.head_version_number), "published"),
                        else_="draft")
    stage_of = case((is_comment, commented.state), (published_text, "published"), else_=policy_stage)

    dialect = session.get_bind().dialect.name
    match, rank = _match_and_rank(dialect, terms, ombuds)

    def scoped(statement: Select[Any]) -> Select[Any]:
        statement = (statement.select_from(entry).join(policy, policy.id == entry.policy_id)
                     .outerjoin(active, and_(active.policy_id == policy.id, active.ended_at.is_(None)))
                     .outerjoin(commented, commented.id == entry.review_id))
        if dialect == "sqlite":
            statement = statement.join(_FTS, _FTS.c.rowid == entry.id)
        statement = statement.where(match, or_(*allowed))
        if chosen:
            statement = statement.where(entry.kind.in_(chosen))
        if section:
            statement = statement.where(policy.section == section)
        if stage:
            statement = statement.where(stage_of == stage)
        return statement

    # The counts per kind ride along with the page (window aggregates over the matches): one pass, not two. In a
    # subquery, as FTS5 allows its rank function (bm25) only in a query without window functions.
    matches = scoped(select(entry.id, entry.kind, rank.label("rank"), stage_of.label("stage"),
                            active.id.label("active_review_id"))).subquery("matches")
    tallies = [func.count().filter(matches.c.kind == kind).over().label(f"n_{kind}") for kind in SEARCH_KINDS]
    rows = session.execute(
        select(matches.c.id, matches.c.rank, matches.c.stage, matches.c.active_review_id, *tallies)
        .order_by(matches.c.rank.desc(), matches.c.id).limit(page_size).offset((page - 1) * page_size)).all()
    if rows:
        counts = {kind: n for kind in SEARCH_KINDS if (n := getattr(rows[0], f"n_{kind}"))}
    else:  # past the last page (or nothing matches): count on their own
        counts = {kind: n for kind, n in session.execute(scoped(select(entry.kind, func.count())).group_by(entry.kind))}
    total = sum(counts.values())
    items = _results(session, actor, dialect, terms, ombuds, rows)
    return SearchPage(query.strip(), items, total, page, page_size, chosen, section, stage, counts)


def _match_and_rank(dialect: str, terms: list[str], ombuds: bool) -> tuple[ColumnElement[bool], ColumnElement[float]]:
    if dialect == "sqlite":
        expression = fts5_match(terms, columns=None if ombuds else _PUBLIC_COLUMNS)
        match = _FTS_SELF.op("MATCH")(bindparam("fts_query", expression))
        # bm25 is lower for better matches; headings and tags weigh most, names least.
        return match, -func.bm25(_FTS_SELF, 4.0, 1.0, 1.0, 0.5)
    if dialect == "postgresql":
        tsquery = func.to_tsquery(_PG_CONFIG, bindparam("ts_query", tsquery_text(terms)))
        if ombuds:
            return (or_(_PG_DOCUMENT.op("@@")(tsquery), _PG_DOCUMENT_PRIVATE.op("@@")(tsquery)),
                    func.ts_rank(func.coalesce(_PG_DOCUMENT_PRIVATE, _PG_DOCUMENT), tsquery, 1))
        # Normalization 1: divided by 1 + log(length), so a long section does not win by length alone.
        return _PG_DOCUMENT.op("@@")(tsquery), func.ts_rank(_PG_DOCUMENT, tsquery, 1)
    raise NotImplementedError(f"Full-text search is not available on {dialect}.")


def _snippets(session: Session, dialect: str, terms: list[str], ombuds: bool, ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """Raw snippets (title, text, response) of the given entries, with the markers around matched words.

    Only the public columns are ever excerpted: a commenter's name or e-mail never appears in a snippet.
    """
    if not ids:
        return {}
    if dialect == "sqlite":
        expression = fts5_match(terms, columns=None if ombuds else _PUBLIC_COLUMNS)
        statement = (select(_FTS.c.rowid,
                            func.snippet(_FTS_SELF, 0, MARK_START, MARK_STOP, "…", 16),
                            func.snippet(_FTS_SELF, 1, MARK_START, MARK_STOP, "…", 32),
                            func.snippet(_FTS_SELF, 2, MARK_START, MARK_STOP, "…", 32))
                     .where(_FTS_SELF.op("MATCH")(bindparam("fts_query", expression)), _FTS.c.rowid.in_(ids)))
    else:
        tsquery = func.to_tsquery(_PG_CONFIG, bindparam("ts_query", tsquery_text(terms)))
        statement = select(SearchEntry.id,
                           func.ts_headline(_PG_CONFIG, SearchEntry.title, tsquery, _PG_HEADLINE_TITLE),
                           func.ts_headline(_PG_CONFIG, SearchEntry.body, tsquery, _PG_HEADLINE),
                           func.ts_headline(_PG_CONFIG, SearchEntry.extra, tsquery, _PG_HEADLINE)).where(SearchEntry.id.in_(ids))
    return {row[0]: (row[1] or "", row[2] or "", row[3] or "") for row in session.execute(statement)}


def _best_snippet(kind: str, title: str, body: str, extra: str) -> tuple[str, str]:
    """The excerpt to show (safe HTML) and where it comes from: the text, the response, the heading or tags."""
    title_source = "tags" if kind == "annotation" else "heading"
    for raw, source in ((body, "text"), (extra, "response"), (title, title_source)):
        if has_mark(raw):
            return snippet_html(raw), source
    return (snippet_html(body), "text") if body.strip() else (snippet_html(title), title_source)


_FIXED_STAGES = {"published": "Published", "draft": "Draft"}


def _stage_label(stage: str, review: Review | None) -> str:
    from policyflow.services.reviews import definition_of

    if review is not None and review.state == stage:  # a review's state is always a stage of its definition
        return definition_of(review).stage(stage).label
    return _FIXED_STAGES.get(stage, stage.replace("_", " ").capitalize())


def _results(session: Session, actor: Actor, dialect: str, terms: list[str], ombuds: bool, rows: list[Any]) -> list[SearchResult]:
    from policyflow.services.comments import shown_name

    if not rows:
        return []
    ids = [row.id for row in rows]
    entries = {e.id: e for e in session.scalars(select(SearchEntry).where(SearchEntry.id.in_(ids)))}
    policies_ = {p.id: p for p in session.scalars(select(Policy).where(Policy.id.in_({e.policy_id for e in entries.values()})))}
    notes = {a.id: a for a in session.scalars(select(Annotation).where(
        Annotation.id.in_([e.annotation_id for e in entries.values() if e.annotation_id])))}
    remarks = {c.id: c for c in session.scalars(select(Comment).where(
        Comment.id.in_([e.comment_id for e in entries.values() if e.comment_id])))}
    review_ids = ({e.review_id for e in entries.values() if e.review_id}
                  | {row.active_review_id for row in rows if row.active_review_id})
    reviews_ = {r.id: r for r in session.scalars(select(Review).where(Review.id.in_(review_ids)))} if review_ids else {}
    snippets = _snippets(session, dialect, terms, ombuds, ids)
    staff = actor.is_staff
    results: list[SearchResult] = []
    for row in rows:
        e = entries[row.id]
        policy = policies_[e.policy_id]
        code = quote(policy.code, safe="")
        title_raw, body_raw, extra_raw = snippets.get(e.id, ("", "", ""))
        snippet, source = _best_snippet(e.kind, title_raw, body_raw, extra_raw)
        active = reviews_.get(row.active_review_id) if row.active_review_id else None
        common = {"kind": e.kind, "kind_label": KIND_LABELS[e.kind], "policy_code": policy.code, "policy_title": policy.title,
                  "section": policy.section, "stage": row.stage, "snippet": snippet, "snippet_source": source,
                  "rank": float(row.rank or 0.0)}
        if e.kind == "policy":
            published = e.version_number == policy.published_version_number
            anchor = f"#{quote(e.anchor, safe='')}" if e.anchor else ""
            if staff:
                url = f"/policies/{code}/versions/{e.version_number}{anchor}"
            elif published:
                url = f"/public/policies/{code}{anchor}"
            else:
                url = f"/public/reviews/{row.active_review_id}{anchor}"
            label = "Published text" if published else ("Draft under public review" if not staff else "Current draft")
            results.append(SearchResult(
                **common, stage_label=_stage_label(row.stage, active), title=f"{label}, version {e.version_number}",
                heading=e.title, passage=None, url=url, version=e.version_number))
        elif e.kind == "annotation":
            note = notes[e.annotation_id]
            url = (f"/policies/{code}/versions/{note.version_number}#note-{note.id}" if staff
                   else f"/public/reviews/{row.active_review_id}#note-{note.id}")
            results.append(SearchResult(
                **common, stage_label=_stage_label(row.stage, active), title=f"Note on version {note.version_number}",
                heading="", passage=_short(note.exact), url=url, version=note.version_number, annotation_id=note.id,
                visibility=note.visibility))
        else:
            remark = remarks[e.comment_id]
            review = reviews_.get(remark.review_id)
            if ombuds:
                url = f"/reviews/{remark.review_id}/comments/groups/{remark.group_id or remark.id}#comment-{remark.id}"
            elif staff:
                url = f"/reviews/{remark.review_id}/report"
            else:
                url = f"/public/reviews/{remark.review_id}/report"
            results.append(SearchResult(
                **common, stage_label=_stage_label(row.stage, review), title=f"Comment on review {remark.review_id}",
                heading="", passage=_short(remark.exact), url=url, version=remark.version_number, comment_id=remark.id,
                review_id=remark.review_id, name=shown_name(remark, actor), disposition=remark.disposition,
                hidden=remark.hidden_at is not None))
    return results


def _short(text: str | None, limit: int = 160) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# ---------------------------------------------------------------------------------------------
# Rebuilding (bulk-loaded data, repairs)
# ---------------------------------------------------------------------------------------------

def rebuild(session: Session) -> dict[str, int]:
    """Index everything from the source rows again (after a bulk load that bypassed the services)."""
    session.execute(delete(SearchEntry))
    for policy in session.scalars(select(Policy)).all():
        index_policy(session, policy)
    for note in session.scalars(select(Annotation).where(Annotation.deleted_at.is_(None))).all():
        index_annotation(session, note)

    def cleaned(value: Any) -> Any:
        return func.replace(func.replace(func.coalesce(value, ""), MARK_START, " "), MARK_STOP, " ")

    email = func.coalesce(Comment.email, "")
    private = case((Comment.identity_mode == "anonymous", ""),
                   else_=cleaned(func.coalesce(Comment.name, "") + " " + email + " "
                                 + func.replace(func.replace(email, "@", " "), ".", " ")))
    # Comments may be many: one INSERT ... SELECT (the same words as ``index_comment``).
    session.execute(insert(SearchEntry.__table__).from_select(
        ["kind", "policy_id", "version_number", "comment_id", "review_id", "position", "anchor", "title", "body", "extra",
         "private"],
        select(literal_column("'comment'"), Comment.policy_id, Comment.version_number, Comment.id, Comment.review_id,
               literal_column("0"), literal_column("''"), literal_column("''"), cleaned(Comment.body), cleaned(Comment.response),
               private)))
    return {kind: n for kind, n in session.execute(select(SearchEntry.kind, func.count()).group_by(SearchEntry.kind))}
