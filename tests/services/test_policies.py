"""Service tests: versions stored as patches, conflicts, permissions, integrity."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from policyflow.core.errors import (
    Conflict,
    InvalidInput,
    InvalidValue,
    NotFound,
    PermissionDenied,
    TooLarge,
    VersionConflict,
    VersionIntegrityError,
)
from policyflow.core.versioning import sha256_text
from policyflow.models import Event, Policy, PolicyVersion, User
from policyflow.services import audit, policies
from policyflow.services.actors import Actor
from tests.conftest import STORE


def actor(session: Session, username: str) -> Actor:
    return Actor.of(session.scalar(select(User).where(User.username == username)))


def new_policy(session: Session, code: str = "TST", text: str = "# Test\n\nFirst text.\n") -> Policy:
    version = policies.create_policy(session, actor(session, "ombuds"), STORE, code=code, title="Test policy",
                                     text=text, summary="First version.", section="T - Tests")
    return version.policy


def test_versions_store_patches_and_rebuild_exactly(session: Session) -> None:
    ombuds = actor(session, "ombuds")
    policy = new_policy(session)
    texts = ["# Test\n\nFirst text.\n"]
    for index in range(2, 9):
        texts.append(texts[-1] + f"\n## Section {index}\n\nStudents in foster care keep right {index}.\n")
        result = policies.save_version(session, ombuds, STORE, policy, text=texts[-1], summary=f"Adds section {index}.",
                                       base_version=index - 1)
        assert result.created and result.version.number == index
    rows = session.scalars(select(PolicyVersion).where(PolicyVersion.policy_id == policy.id)
                           .order_by(PolicyVersion.number)).all()
    # Keyframes every 3 versions (1, 4, 7) and the head keep text; the others only a patch.
    assert [row.number for row in rows if row.full_text is not None] == [1, 4, 7, 8]
    assert all(row.patch for row in rows[1:])
    for row, expected in zip(rows, texts, strict=True):
        assert policies.version_text(session, policy, row) == expected
        assert row.sha256 == sha256_text(expected)
    assert rows[1].words_inserted == 9 and rows[1].words_deleted == 0


def test_unchanged_text_creates_no_version(session: Session) -> None:
    policy = new_policy(session)
    result = policies.save_version(session, actor(session, "ombuds"), STORE, policy, text="# Test\n\nFirst text.\n",
                                   summary="", base_version=1)
    assert not result.created and result.version.number == 1
    assert policy.head_version_number == 1


def test_stale_base_is_a_conflict_with_the_current_number(session: Session) -> None:
    ombuds = actor(session, "ombuds")
    policy = new_policy(session)
    policies.save_version(session, ombuds, STORE, policy, text="# Test\n\nSecond.\n", summary="Edit.", base_version=1)
    with pytest.raises(VersionConflict) as caught:
        policies.save_version(session, ombuds, STORE, policy, text="# Test\n\nThird.\n", summary="Edit.", base_version=1)
    assert caught.value.current_version == 2 and caught.value.status == 409
    assert policy.head_version_number == 2


def test_summary_is_required(session: Session) -> None:
    policy = new_policy(session)
    with pytest.raises(InvalidValue, match="summary is required"):
        policies.save_version(session, actor(session, "ombuds"), STORE, policy, text="# New\n", summary="  ",
                              base_version=1)


@pytest.mark.parametrize(
    ("text", "error"),
    [("a\x00b", InvalidInput), ("bad \udc80 surrogate", InvalidInput), ("x" * (2 * 1024 * 1024 + 1), TooLarge),
     ("   \n", InvalidValue)],
)
def test_bad_text_is_refused_and_nothing_written(session: Session, text: str, error: type[Exception]) -> None:
    policy = new_policy(session)
    before = session.scalar(select(Event.seq).order_by(Event.seq.desc()).limit(1))
    with pytest.raises(error):
        policies.save_version(session, actor(session, "ombuds"), STORE, policy, text=text, summary="x", base_version=1)
    assert policy.head_version_number == 1
    assert session.scalar(select(Event.seq).order_by(Event.seq.desc()).limit(1)) == before


def test_duplicate_code_and_bad_code(session: Session) -> None:
    new_policy(session, "DUP")
    with pytest.raises(Conflict):
        new_policy(session, "dup")
    with pytest.raises(InvalidValue):
        new_policy(session, "no spaces")


@pytest.mark.parametrize("username", ["reviewer", "leader1", "stakeholder"])
def test_only_ombuds_and_admin_edit(session: Session, username: str) -> None:
    policy = policies.get_policy(session, Actor.system(), "JD")
    with pytest.raises(PermissionDenied):
        policies.save_version(session, actor(session, username), STORE, policy, text="# x\n", summary="x",
                              base_version=policy.head_version_number)


def test_anonymous_sees_only_published_versions(session: Session) -> None:
    anonymous = Actor.anonymous()
    policy = policies.get_policy(session, anonymous, "GAE")  # ends with two drafts
    visible = policies.visible_version_numbers(session, anonymous, policy)
    assert policy.published_version_number in visible
    assert policy.head_version_number not in visible
    with pytest.raises(NotFound):
        policies.get_version(session, anonymous, policy, policy.head_version_number)
    staff = policies.visible_version_numbers(session, actor(session, "reviewer"), policy)
    assert staff == list(range(1, policy.head_version_number + 1))


def test_unpublished_policy_is_invisible_to_the_public(session: Session) -> None:
    new_policy(session, "SECRET")
    with pytest.raises(NotFound):
        policies.get_policy(session, Actor.anonymous(), "SECRET")
    page = policies.search_policies(session, Actor.anonymous(), query="secret")
    assert page.total == 0


def test_corrupted_patch_raises_integrity_error(session: Session) -> None:
    policy = new_policy(session)
    ombuds = actor(session, "ombuds")
    for number in (2, 3):
        policies.save_version(session, ombuds, STORE, policy, text=f"# Test\n\nText number {number}.\n",
                              summary="Edit.", base_version=number - 1)
    session.execute(update(PolicyVersion)
                    .where(PolicyVersion.policy_id == policy.id, PolicyVersion.number == 2)
                    .values(patch="@@ -1,3 +1,3 @@\n-xyz\n+abc\n"))
    session.expire_all()
    version = policies.get_version(session, ombuds, policy, 2)
    with pytest.raises(VersionIntegrityError, match="version 2"):
        policies.version_text(session, policy, version)


def test_corrupted_hash_raises_integrity_error(session: Session) -> None:
    policy = new_policy(session)
    session.execute(update(PolicyVersion).where(PolicyVersion.policy_id == policy.id).values(sha256="0" * 64))
    session.expire_all()
    with pytest.raises(VersionIntegrityError, match="damaged"):
        policies.version_text(session, policy, policies.get_version(session, Actor.system(), policy, 1))


def test_search_filter_and_pages(session: Session) -> None:
    staff = actor(session, "reviewer")
    assert policies.search_policies(session, staff, query="homeless").items[0].code == "JFABD"
    assert policies.search_policies(session, staff, query="jd").items[0].code == "JD"
    drafts = policies.search_policies(session, staff, stage="draft")
    assert {p.code for p in drafts.items} >= {"GAE", "JFABE", "JICFB", "KB"}
    assert all(p.stage == "draft" for p in drafts.items)
    page = policies.search_policies(session, staff, page_size=3, page=2)
    assert page.pages == 4 and len(page.items) == 3
    assert policies.search_policies(session, staff, query="100%_\\").total == 0


def test_every_change_is_in_the_audit_chain(session: Session) -> None:
    policy = new_policy(session, "AUD")
    policies.save_version(session, actor(session, "ombuds"), STORE, policy, text="# Changed\n", summary="Edit.",
                          base_version=1)
    actions = session.scalars(select(Event.action).where(Event.policy_id == policy.id).order_by(Event.seq)).all()
    assert actions == ["policy.created", "policy.version_saved"]
    assert audit.verify(session)[1] is None
    tampered = session.scalar(select(Event).where(Event.policy_id == policy.id).order_by(Event.seq))
    tampered.data = {"summary": "rewritten history"}
    session.flush()
    assert audit.verify(session)[1] == tampered.seq


def test_compare_reports_word_changes(session: Session) -> None:
    comparison = policies.compare(session, actor(session, "reviewer"), policies.get_policy(session, Actor.system(), "JD"), 1, 2)
    assert comparison.stats.changes >= 1
    assert "".join(t for op, t in comparison.ops if op != 1) == comparison.old_text
    assert "".join(t for op, t in comparison.ops if op != -1) == comparison.new_text


def test_rendered_html_is_cached_and_refreshed_when_the_renderer_changes(session: Session) -> None:
    policy = new_policy(session, "HTML1", "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    version = policies.get_version(session, Actor.system(), policy, 1)
    assert "<table>" in version.html and version.html_renderer == policies.RENDERER_VERSION
    version.html = "<p>cached</p>"
    assert policies.version_html(session, policy, version) == "<p>cached</p>"  # computed once, reused
    version.html_renderer = "md-0"
    fresh = policies.version_html(session, policy, version)
    assert "<table>" in fresh and version.html_renderer == policies.RENDERER_VERSION
