"""Full-text search in the service layer, on SQLite (FTS5) and PostgreSQL (tsvector): who finds what,
ranking and snippets, filters, the index following every change, and queries that are only ever words."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.core.errors import InvalidInput, InvalidValue
from policyflow.core.rendering import render_markdown
from policyflow.core.textsearch import MAX_QUERY_CHARS, chunk_markdown, fts5_match, query_terms, snippet_html, tsquery_text
from policyflow.models import Comment, Policy, Review, SearchEntry
from policyflow.services import annotations, comments, policies, search
from policyflow.services.actors import Actor
from tests.conftest import REPO, STORE
from tests.reviewing import NOW, act, complete_assessment, start, who

ROLES = ("anonymous", "stakeholder", "reviewer", "leadership", "admin", "ombuds")
USERNAMES = {"stakeholder": "stakeholder", "reviewer": "reviewer", "leadership": "leader1", "admin": "admin", "ombuds": "ombuds"}
STAFF = {"reviewer", "leadership", "admin", "ombuds"}
EVERYONE = set(ROLES)
CATEGORIES = ("parent_guardian", "student", "employee", "community_member", "organization")
OPENS, CLOSES = date(2026, 3, 2), date(2026, 3, 20)
AFTER = NOW.replace(day=21)
SECRET_NAME = "Zebulon Quillfeather"
SECRET_EMAIL = "zeb.quill@hideout.example.org"

PUBLISHED_TEXT = "# Zephyr rules\n\n## Scope\n\nThe quokka provision applies to every school.\n"
DRAFT_TEXT = ("# Zephyr rules\n\n## Scope\n\nThe quokka provision applies to every school.\n\n"
              "## Draft addition\n\nA xylophone clause is proposed for music rooms.\n")


def actor_for(session: Session, role: str) -> Actor:
    return Actor.anonymous() if role == "anonymous" else who(session, USERNAMES[role])


def span(text: str, words: str) -> dict[str, int]:
    start = text.index(words)
    return {"start": start, "end": start + len(words)}


def finds(session: Session, role: str, query: str, **filters: object) -> list[search.SearchResult]:
    return search.search(session, actor_for(session, role), query, page_size=100, **filters).items  # type: ignore[arg-type]


def finders(session: Session, query: str) -> set[str]:
    return {role for role in ROLES if finds(session, role, query)}


def send(session: Session, review: Review, body: str, identity: str = "public", *, name: str | None = None,
         email: str | None = None) -> Comment:
    actor = Actor.anonymous() if identity == "anonymous" else who(session, "stakeholder")
    return comments.submit(session, actor, review.id, body=body, identity=identity, name=name, email=email,
                           allowed_categories=CATEGORIES, now=NOW).comment


@dataclass
class World:
    draft_policy: Policy  # published v1, unpublished v2 (no review)
    public_review: Review  # in public comment: its draft and public notes are public
    closed_review: Review  # its response to comments is public
    confidential: Comment
    hidden: Comment


@pytest.fixture
def world(session: Session) -> World:
    ombuds = who(session, "ombuds")
    # A published policy with an unpublished draft and notes of every visibility on the draft.
    first = policies.create_policy(session, ombuds, STORE, code="SRCHA", title="Zephyr rules", text=PUBLISHED_TEXT,
                                   summary="First.", section="S - Search tests")
    policy = first.policy
    policies.publish_version(session, ombuds, policy, 1)
    policies.save_version(session, ombuds, STORE, policy, text=DRAFT_TEXT, summary="Adds a clause.", base_version=1)
    for visibility, body in (("confidential", "A marmalade concern raised in confidence."),
                             ("internal", "Internal tangerine remark for reviewers."),
                             ("public", "Public pomegranate explanation on a draft nobody outside may read yet.")):
        annotations.create(session, ombuds, policy, 2, target=span(DRAFT_TEXT, "xylophone clause"), body=body,
                           visibility=visibility, allowed_tags=("equity",))
    # A review in public comment: its draft and its public notes are public; comments not yet.
    public = start(session, "SRCHB", text="# Wombat access\n\nThe wombat rule covers field trips.\n",
                   title="Wombat access", comment_opens_on=OPENS, comment_closes_on=CLOSES)
    act(session, public, "ombuds", "submit_for_equity_review")
    complete_assessment(session, public)
    act(session, public, "ombuds", "open_comment_period")
    annotations.create(session, ombuds, public.policy, 1, target={"start": 2, "end": 8},
                       body="Persimmon: what this draft changes, for families.", visibility="public", allowed_tags=("equity",))
    annotations.create(session, ombuds, public.policy, 1, target={"start": 2, "end": 8},
                       body="Internal loganberry note on the public draft.", visibility="internal", allowed_tags=())
    send(session, public, "A narwhal comment during the open period.")
    # A review whose period closed with every comment answered: the response to comments is public.
    closed = start(session, "SRCHC", text="# Capybara crossings\n\nCrossing guards at every school.\n",
                   title="Capybara crossings", comment_opens_on=OPENS, comment_closes_on=CLOSES)
    act(session, closed, "ombuds", "submit_for_equity_review")
    complete_assessment(session, closed)
    act(session, closed, "ombuds", "open_comment_period")
    confidential = send(session, closed, "Please add capybara crossing guards near the park.", "confidential",
                        name=SECRET_NAME, email=SECRET_EMAIL)
    hidden = send(session, closed, "An abusive wolverine rant about a named teacher.", "anonymous")
    comments.hide(session, ombuds, hidden.id, "Abusive language")
    comments.set_disposition(session, ombuds, confidential.id, disposition="accepted",
                             response="Heliotrope signs will mark each crossing.")
    act(session, closed, "ombuds", "close_comment_period", now=AFTER)
    assert comments.report_is_public(session, closed)
    session.flush()
    return World(policy, public, closed, confidential, hidden)


# ---------------------------------------------------------------------------------------------
# Who finds what
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "expected"), [
    ("quokka", EVERYONE),  # published text
    ("xylophone", STAFF),  # a draft no review has made public
    ("marmalade", {"ombuds"}),  # a confidential note
    ("tangerine", {"ombuds", "reviewer", "leadership"}),  # an internal note (annotations.READERS: not admin)
    ("pomegranate", STAFF),  # a public note, but on a draft the public may not read
    ("wombat", EVERYONE),  # the draft of a review in public comment
    ("persimmon", EVERYONE),  # a public note on that draft
    ("loganberry", {"ombuds", "reviewer", "leadership"}),  # an internal note on that draft
    ("narwhal", STAFF),  # a comment while the response to comments is not public
    ("capybara guards", EVERYONE),  # a confidential commenter's words, once the response is public
    ("heliotrope", EVERYONE),  # the district's response
    ("wolverine", {"ombuds"}),  # a hidden comment
    ("Zebulon", {"ombuds"}),  # a confidential commenter's name
    ("Quillfeather", {"ombuds"}),
    (SECRET_EMAIL, {"ombuds"}),  # and e-mail address
    ("hideout", {"ombuds"}),
])
def test_permission_matrix(session: Session, world: World, query: str, expected: set[str]) -> None:
    assert finders(session, query) == expected


def test_a_confidential_name_appears_in_no_result_field_but_for_ombuds(session: Session, world: World) -> None:
    for role in ROLES:
        found = finds(session, role, "capybara")
        assert [r.comment_id for r in found if r.kind == "comment"] == [world.confidential.id], role
        hit = next(r for r in found if r.kind == "comment")
        dumped = json.dumps(hit.as_dict())
        if role == "ombuds":
            assert hit.name == SECRET_NAME
        else:
            assert hit.name == comments.WITHHELD
            for secret in ("Zebulon", "Quillfeather", "zeb.quill", "hideout"):
                assert secret.lower() not in dumped.lower(), (role, secret)
        # A search that combines the name with the comment's words finds it for ombuds staff only.
        assert bool(finds(session, role, "capybara Zebulon")) is (role == "ombuds")


def test_names_follow_shown_name(session: Session, world: World) -> None:
    anonymous = send(session, world.public_review, "An anonymous okapi remark.", "anonymous")
    public = send(session, world.public_review, "A named okapi remark.", "public", name="Petra Openhand")
    session.flush()
    for role in ("reviewer", "ombuds"):
        names = {r.comment_id: r.name for r in finds(session, role, "okapi")}
        assert names == {anonymous.id: comments.ANONYMOUS, public.id: "Petra Openhand"}
    assert finds(session, "reviewer", "Petra") == []  # names never match for anyone but ombuds staff
    assert [r.comment_id for r in finds(session, "ombuds", "Petra")] == [public.id]


def test_hidden_comments_show_only_to_ombuds_with_a_flag(session: Session, world: World) -> None:
    [hit] = finds(session, "ombuds", "wolverine")
    assert hit.hidden is True and hit.url.endswith(f"#comment-{world.hidden.id}")
    assert "/comments/groups/" in hit.url


def test_links_go_where_each_reader_may_read(session: Session, world: World) -> None:
    [public_text] = [r for r in finds(session, "anonymous", "quokka") if r.policy_code == "SRCHA"]
    assert public_text.url == "/public/policies/SRCHA#sec-scope" and public_text.stage == "published"
    assert public_text.title == "Published text, version 1"
    staff_hits = {r.version: r for r in finds(session, "reviewer", "quokka") if r.policy_code == "SRCHA"}
    assert set(staff_hits) == {1, 2}  # current and published text
    assert staff_hits[2].url == "/policies/SRCHA/versions/2#sec-scope" and staff_hits[2].stage == "draft"
    [draft] = finds(session, "anonymous", "wombat")
    assert draft.url.startswith(f"/public/reviews/{world.public_review.id}#sec-")
    assert draft.stage == "stakeholder_comment" and draft.stage_label == "Public comment"
    [note] = finds(session, "stakeholder", "persimmon")
    assert note.kind == "annotation" and note.url == f"/public/reviews/{world.public_review.id}#note-{note.annotation_id}"
    [staff_note] = finds(session, "leadership", "persimmon")
    assert staff_note.url == f"/policies/SRCHB/versions/1#note-{staff_note.annotation_id}"
    [comment] = finds(session, "anonymous", "heliotrope")
    assert comment.url == f"/public/reviews/{world.closed_review.id}/report" and comment.snippet_source == "response"
    [staff_comment] = finds(session, "reviewer", "heliotrope")
    assert staff_comment.url == f"/reviews/{world.closed_review.id}/report"


# ---------------------------------------------------------------------------------------------
# Ranking, snippets, kinds and filters
# ---------------------------------------------------------------------------------------------

def test_ranking_puts_the_best_match_first(session: Session) -> None:
    ombuds = who(session, "ombuds")
    text = ("# Gryphon policy\n\n## Gryphon care\n\nGryphon keepers feed each gryphon daily; gryphon pens are cleaned.\n\n"
            "## Other matters\n\n" + "Unrelated words about buses, lunches and libraries. " * 30 + "A gryphon may visit.\n")
    policies.create_policy(session, ombuds, STORE, code="RANK1", title="Gryphon policy", text=text, summary="First.")
    found = finds(session, "ombuds", "gryphon")
    headings = [r.heading for r in found]
    assert headings.index("Gryphon care") < headings.index("Other matters")
    ranks = [r.rank for r in found]
    assert ranks == sorted(ranks, reverse=True)


def test_snippets_mark_the_words_and_escape_everything_else(session: Session, world: World) -> None:
    ombuds = who(session, "ombuds")
    annotations.create(session, ombuds, world.draft_policy, 2, target=span(DRAFT_TEXT, "xylophone"),
                       body="<script>alert('jackalope')</script> & <b>bold</b> jackalopes", visibility="internal",
                       allowed_tags=())
    [hit] = finds(session, "reviewer", "jackalope")
    assert "<script" not in hit.snippet and "<b>" not in hit.snippet
    assert "<mark>jackalopes</mark>" in hit.snippet  # "jackalope" finds "jackalopes" (stemming)
    if session.get_bind().dialect.name == "sqlite":
        # FTS5 excerpts the text as written (escaped); PostgreSQL's ts_headline leaves out what its parser takes for tags.
        assert "&lt;script&gt;alert(&#x27;<mark>jackalope</mark>&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold" in hit.snippet
    [text] = [r for r in finds(session, "reviewer", "xylophone") if r.kind == "policy"]
    assert "<mark>xylophone</mark>" in text.snippet and text.heading == "Draft addition"


def test_kinds_sections_and_stages(session: Session, world: World) -> None:
    def kinds(query: str, **filters: object) -> set[str]:
        return {r.kind for r in finds(session, "ombuds", query, **filters)}

    ombuds = who(session, "ombuds")
    annotations.create(session, ombuds, world.draft_policy, 2, target=span(DRAFT_TEXT, "quokka"),
                       body="The quokka wording needs a plain-language check.", visibility="internal", allowed_tags=())
    send(session, world.public_review, "Does the quokka provision apply to us?")
    assert kinds("quokka") == {"policy", "annotation", "comment"}
    assert kinds("quokka", kinds=["annotation"]) == {"annotation"}
    assert kinds("quokka", kinds=["policy", "comment"]) == {"policy", "comment"}
    page = search.search(session, Actor.system(), "quokka")
    assert page.counts == {"policy": 2, "annotation": 1, "comment": 1} and page.total == 4
    assert {r.policy_code for r in finds(session, "ombuds", "quokka", section="S - Search tests")} == {"SRCHA"}
    assert finds(session, "ombuds", "quokka", section="No such section") == []
    published = finds(session, "ombuds", "quokka", stage="published")
    assert [(r.kind, r.version) for r in published] == [("policy", 1)]
    assert {r.kind for r in finds(session, "ombuds", "quokka", stage="draft")} == {"policy", "annotation"}
    assert {r.kind for r in finds(session, "ombuds", "quokka", stage="stakeholder_comment")} == {"comment"}
    assert {r.kind for r in finds(session, "anonymous", "wombat persimmon", stage="stakeholder_comment")} == set()
    assert {r.kind for r in finds(session, "anonymous", "persimmon", stage="stakeholder_comment")} == {"annotation"}


def test_paging(session: Session) -> None:
    ombuds = who(session, "ombuds")
    text = "# Paged\n\n" + "".join(f"## Part {n}\n\nThe ocelot clause number {n}.\n\n" for n in range(25))
    policies.create_policy(session, ombuds, STORE, code="PAGE1", title="Paged", text=text, summary="First.")
    first = search.search(session, ombuds, "ocelot", page=1, page_size=10)
    third = search.search(session, ombuds, "ocelot", page=3, page_size=10)
    assert first.total == 25 and first.pages == 3 and len(first.items) == 10 and len(third.items) == 5
    everything = search.search(session, ombuds, "ocelot", page_size=100).items
    assert [r.heading for r in first.items] == [r.heading for r in everything[:10]]
    assert search.search(session, ombuds, "ocelot", page=4, page_size=10).items == []


# ---------------------------------------------------------------------------------------------
# The index follows every change, in the same transaction
# ---------------------------------------------------------------------------------------------

def test_new_versions_and_publishing_reindex(session: Session, world: World) -> None:
    ombuds = who(session, "ombuds")
    policy = world.draft_policy
    third = DRAFT_TEXT.replace("xylophone clause", "marimba clause")
    policies.save_version(session, ombuds, STORE, policy, text=third, summary="Marimba.", base_version=2)
    assert finders(session, "xylophone") == set()  # version 2 is neither current nor published any more
    assert finders(session, "marimba") == STAFF
    policies.publish_version(session, ombuds, policy, 3)
    assert finders(session, "marimba") == EVERYONE
    [hit] = [r for r in finds(session, "anonymous", "marimba") if r.kind == "policy"]
    assert hit.stage == "published" and hit.version == 3
    # One set of sections per indexed version: head 3 (= published), nothing of versions 1 and 2.
    versions = set(session.scalars(select(SearchEntry.version_number).where(SearchEntry.kind == "policy",
                                                                            SearchEntry.policy_id == policy.id)))
    assert versions == {3}


def test_note_edits_and_deletion_reindex(session: Session, world: World) -> None:
    ombuds = who(session, "ombuds")
    note = annotations.create(session, ombuds, world.draft_policy, 2, target=span(DRAFT_TEXT, "xylophone"),
                              body="Check the kumquat figures.", visibility="internal", allowed_tags=())
    assert finders(session, "kumquat") == {"ombuds", "reviewer", "leadership"}
    annotations.edit(session, ombuds, note.id, "Check the quince figures.")
    assert finders(session, "kumquat") == set()
    assert finders(session, "quince") == {"ombuds", "reviewer", "leadership"}
    annotations.delete(session, ombuds, note.id)
    assert finders(session, "quince") == set()


def test_a_note_whose_visibility_changes_follows_at_once(session: Session, world: World) -> None:
    """Visibility is read from the note itself at query time: no stale index entry can leak it."""
    [note] = finds(session, "ombuds", "persimmon")
    row = annotations.get(session, Actor.system(), note.annotation_id or 0)
    row.visibility = "confidential"
    session.flush()
    assert finders(session, "persimmon") == {"ombuds"}


def test_hiding_and_answering_comments(session: Session, world: World) -> None:
    ombuds = who(session, "ombuds")
    comment = send(session, world.public_review, "The dingo timetable is unfair.")
    assert finders(session, "dingo") == STAFF
    comments.hide(session, ombuds, comment.id, "Personal information")
    assert finders(session, "dingo") == {"ombuds"}
    comments.unhide(session, ombuds, comment.id)
    assert finders(session, "dingo") == STAFF
    comments.set_disposition(session, ombuds, comment.id, disposition="partially_accepted",
                             response="The timetable will list a marsupial route.")
    assert finders(session, "marsupial") == STAFF
    comments.set_disposition(session, ombuds, comment.id, disposition="accepted", response="A new route is added.")
    assert finders(session, "marsupial") == set()


def test_answering_a_group_reindexes_every_member(session: Session, world: World) -> None:
    ombuds = who(session, "ombuds")
    letter = "Please keep the dingo timetable for the after-school bus in the north end of the district."
    members = [send(session, world.public_review, letter) for _ in range(3)]
    group = members[0].group_id
    assert group is not None and all(m.group_id == group for m in members)
    comments.disposition_group(session, ombuds, world.public_review.id, group, disposition="accepted",
                               response="The bandicoot timetable stays.")
    assert {r.comment_id for r in finds(session, "ombuds", "bandicoot")} == {m.id for m in members}


def test_the_whole_change_rolls_back_with_the_transaction(session: Session, world: World) -> None:
    ombuds = who(session, "ombuds")
    nested = session.begin_nested()
    annotations.create(session, ombuds, world.draft_policy, 2, target=span(DRAFT_TEXT, "xylophone"),
                       body="A wallaby note.", visibility="internal", allowed_tags=())
    assert finders(session, "wallaby") == {"ombuds", "reviewer", "leadership"}
    nested.rollback()
    assert finders(session, "wallaby") == set()


def test_rebuild_gives_the_same_index(session: Session, world: World) -> None:
    before = sorted(session.execute(select(SearchEntry.kind, SearchEntry.policy_id, SearchEntry.version_number,
                                           SearchEntry.annotation_id, SearchEntry.comment_id, SearchEntry.body,
                                           SearchEntry.extra, SearchEntry.private)).all(), key=repr)
    counts = search.rebuild(session)
    after = sorted(session.execute(select(SearchEntry.kind, SearchEntry.policy_id, SearchEntry.version_number,
                                          SearchEntry.annotation_id, SearchEntry.comment_id, SearchEntry.body,
                                          SearchEntry.extra, SearchEntry.private)).all(), key=repr)
    assert [row[:7] for row in after] == [row[:7] for row in before]
    assert sum(counts.values()) == session.scalar(select(func.count()).select_from(SearchEntry))
    assert finders(session, "Zebulon") == {"ombuds"} and finders(session, "capybara") == EVERYONE


def test_the_demo_data_is_indexed(session: Session) -> None:
    """The migration's backfill and the services index the same way: the demo database is searchable."""
    published = finds(session, "anonymous", "foster care")
    assert published and all(r.kind == "policy" for r in published)
    assert {r.kind for r in finds(session, "ombuds", "transportation")} >= {"policy", "comment"}


# ---------------------------------------------------------------------------------------------
# Queries are words, never syntax
# ---------------------------------------------------------------------------------------------

NASTY = [
    '"', "'", '""quokka', 'quokka"', "quokka*", "*", "^quokka", "quokka OR xylophone", "NOT quokka", "-quokka",
    "quokka AND", "NEAR(quokka xylophone, 2)", "NEAR/2", "title:quokka", "{title body}: quokka", "quokka:*",
    "quokka & | ! ( ) :", "'; DROP TABLE search_entries; --", "1' OR '1'='1", "\\", "quokka\\", "(((", ")",
    "café naïve Straße 学生 😀", "\u202equokka", "q\u0301uokka", "\ue000quokka\ue001", "% _ [ ]", "a" * 200,
]


@pytest.mark.parametrize("query", NASTY)
def test_queries_are_only_ever_words(session: Session, world: World, query: str) -> None:
    for role in ("anonymous", "ombuds"):
        try:
            page = search.search(session, actor_for(session, role), query)
        except InvalidInput:
            assert not query_terms(query)  # nothing but symbols: a message, never a crash
            continue
        for hit in page.items:
            assert hit.snippet.count("<mark>") == hit.snippet.count("</mark>")
    assert session.scalar(select(func.count()).select_from(SearchEntry))  # the index is still there


def test_operators_are_plain_words(session: Session, world: World) -> None:
    assert finds(session, "anonymous", '"quokka"') and finds(session, "anonymous", "quokka*")
    assert finds(session, "anonymous", "QUOKKA!")
    assert finds(session, "ombuds", "quokka OR nosuchword") == []  # OR is no operator: every word must match
    assert finds(session, "ombuds", "quokka -provision")  # nor is the minus sign: both words are in that section
    assert finds(session, "ombuds", "quokka xylophone") == []  # every word in one section, note or comment
    assert finds(session, "ombuds", "NEAR(quokka xylophone)") == []  # "near" is a word the text lacks


def test_unicode_words(session: Session) -> None:
    ombuds = who(session, "ombuds")
    policies.create_policy(session, ombuds, STORE, code="UNI1", title="Café policy",
                           text="# Café policy\n\nThe café serves crème brûlée. Straße naming rules. 学生 会议 notes.\n",
                           summary="First.")
    for query in ("café", "crème brûlée", "Straße", "学生"):
        assert [r.policy_code for r in finds(session, "ombuds", query)] == ["UNI1"], query


def test_refusals(session: Session) -> None:
    anonymous = Actor.anonymous()
    for empty in ("", "   ", "*", '""', "!!! ???"):
        with pytest.raises(InvalidInput, match="Type one or more words"):
            search.search(session, anonymous, empty)
    with pytest.raises(InvalidValue, match=f"limited to {MAX_QUERY_CHARS} characters"):
        search.search(session, anonymous, "word " * 41)
    with pytest.raises(InvalidValue, match="Unknown kind"):
        search.search(session, anonymous, "quokka", kinds=["policy", "secrets"])
    with pytest.raises(InvalidValue, match="Unknown stage"):
        search.search(session, anonymous, "quokka", stage="draft'; DROP")
    with pytest.raises(InvalidValue):
        search.search(session, anonymous, "quokka", page=0)


# ---------------------------------------------------------------------------------------------
# The pure parts
# ---------------------------------------------------------------------------------------------

def test_query_building() -> None:
    assert query_terms('NEAR("a" b)* OR -c_d') == ["NEAR", "a", "b", "OR", "c", "d"]
    assert fts5_match(["a", "b"]) == '"a" AND "b"'
    assert fts5_match(["a"], columns=("title", "body")) == '{title body} : ("a")'
    assert tsquery_text(["a", "b"]) == "'a' & 'b'"
    with pytest.raises(ValueError):
        fts5_match([])


def test_snippet_html_balances_and_escapes() -> None:
    assert snippet_html("a \ue000<b>\ue001 & c") == "a <mark>&lt;b&gt;</mark> &amp; c"
    assert snippet_html("\ue001stray \ue000open") == "stray <mark>open</mark>"
    assert snippet_html("\ue000\ue000x\ue001\ue001") == "<mark>x</mark>"
    assert snippet_html(None) == ""


def test_chunks_follow_headings_and_anchors() -> None:
    chunks = chunk_markdown("Intro words.\n\n# Title\n\n## A **bold** part\n\nOne.\n\n```\n# not a heading\n```\n\n"
                            "## A bold part\n\nTwo.\n")
    assert [(c.heading, c.anchor) for c in chunks] == [
        ("", ""), ("Title", "sec-title"), ("A bold part", "sec-a-bold-part"), ("A bold part", "sec-a-bold-part_1")]
    assert "# not a heading" in chunks[2].text


def test_chunk_anchors_are_the_rendered_heading_ids() -> None:
    for path in sorted((REPO / "policyflow" / "demo" / "policies").glob("*/v5.md")):
        text = path.read_text(encoding="utf-8").split("---", 2)[2]
        ids = re.findall(r'<h\d id="([^"]+)"', render_markdown(text))
        anchors = list(dict.fromkeys(c.anchor for c in chunk_markdown(text) if c.anchor))
        assert anchors == ids, path
    long = chunk_markdown("# Long\n\n" + "\n\n".join("word " * 300 for _ in range(10)), max_chars=2000)
    assert len(long) > 1 and all(len(c.text) <= 2000 for c in long) and {c.heading for c in long} == {"Long"}
