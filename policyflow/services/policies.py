"""Policies and their versions: create, save a version, read any version, compare two."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, defer, joinedload

from policyflow.core.diffing import change_stats, diff, patch_from_ops
from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied, VersionConflict
from policyflow.core.lru import LRUCache
from policyflow.core.redline import ChangeStats
from policyflow.core.rendering import RENDERER_VERSION, render_markdown
from policyflow.core.versioning import StoredVersion, is_keyframe, reconstruct, sha256_text
from policyflow.models import Policy, PolicySubscription, PolicyVersion, Review, User
from policyflow.models.base import utcnow
from policyflow.services import audit, search
from policyflow.services.actors import Actor
from policyflow.services.texts import check_summary, check_text

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")
PAGE_SIZE = 20


@dataclass(frozen=True)
class StoreSettings:
    keyframe_interval: int = 10
    max_text_bytes: int = 2 * 1024 * 1024


@dataclass(frozen=True)
class SaveResult:
    version: PolicyVersion
    created: bool


@dataclass(frozen=True)
class Comparison:
    old: PolicyVersion
    new: PolicyVersion
    old_text: str
    new_text: str
    ops: list[tuple[int, str]]
    stats: ChangeStats


@dataclass(frozen=True)
class PolicyPage:
    items: list[Policy]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


# A version's author is shown by name: their roles are loaded only if asked for (a query of their own otherwise).
_AUTHOR_NAME_ONLY = joinedload(PolicyVersion.author).lazyload(User.role_rows)


def normalize_code(code: str) -> str:
    return code.strip().upper()


def _require_editor(actor: Actor) -> None:
    if not actor.can_edit_policies:
        raise PermissionDenied("Only ombuds staff and administrators can change policy text.")


def _visible(actor: Actor, policy: Policy) -> bool:
    return actor.is_staff or policy.published_version_number is not None


def get_policy(session: Session, actor: Actor, code: str) -> Policy:
    return _readable_policy(actor, code, session.scalar(select(Policy).where(Policy.code == normalize_code(code))))


def _readable_policy(actor: Actor, code: str, policy: Policy | None) -> Policy:
    if policy is None or not _visible(actor, policy):
        raise NotFound(f"There is no policy with the code {code!r}.")
    return policy


def _readable_version(actor: Actor, policy: Policy, number: int, version: PolicyVersion | None) -> PolicyVersion:
    if version is None or (not actor.is_staff and version.published_at is None):
        raise NotFound(f"Policy {policy.code} has no version {number}.")
    return version


def get_policy_version(session: Session, actor: Actor, code: str, number: int) -> tuple[Policy, PolicyVersion]:
    """``get_policy`` then ``get_version`` (the same checks, the same refusals) in one query."""
    this_version = (PolicyVersion.policy_id == Policy.id) & (PolicyVersion.number == number)
    policy, version = session.execute(
        select(Policy, PolicyVersion).outerjoin(PolicyVersion, this_version).options(_AUTHOR_NAME_ONLY)
        .where(Policy.code == normalize_code(code))).first() or (None, None)
    policy = _readable_policy(actor, code, policy)
    return policy, _readable_version(actor, policy, number, version)


def visible_version_numbers(session: Session, actor: Actor, policy: Policy) -> list[int]:
    if actor.is_staff:  # staff read every version, and versions are numbered 1..head without gaps
        return list(range(1, policy.head_version_number + 1))
    published = select(PolicyVersion.number).where(PolicyVersion.policy_id == policy.id,
                                                    PolicyVersion.published_at.is_not(None))
    return list(session.scalars(published.order_by(PolicyVersion.number)))


def neighbour_versions(session: Session, actor: Actor, policy: Policy, number: int) -> tuple[int | None, int | None]:
    """The versions before and after ``number`` that the actor may read (None at either end)."""
    visible = visible_version_numbers(session, actor, policy)
    index = visible.index(number)
    return (visible[index - 1] if index > 0 else None), (visible[index + 1] if index + 1 < len(visible) else None)


def list_versions(session: Session, actor: Actor, policy: Policy) -> list[PolicyVersion]:
    """Every version's numbers, dates and summaries; the texts, patches and HTML stay in the database
    (a list of 20 versions would otherwise carry megabytes); reading one later loads it."""
    query = (select(PolicyVersion).options(defer(PolicyVersion.full_text), defer(PolicyVersion.patch),
                                           defer(PolicyVersion.html), _AUTHOR_NAME_ONLY)
             .where(PolicyVersion.policy_id == policy.id))
    if not actor.is_staff:
        query = query.where(PolicyVersion.published_at.is_not(None))
    return list(session.scalars(query.order_by(PolicyVersion.number.desc())))


def get_version(session: Session, actor: Actor, policy: Policy, number: int) -> PolicyVersion:
    version = session.scalar(
        select(PolicyVersion).options(_AUTHOR_NAME_ONLY)
        .where(PolicyVersion.policy_id == policy.id, PolicyVersion.number == number)
    )
    return _readable_version(actor, policy, number, version)


def search_policies(session: Session, actor: Actor, *, query: str = "", section: str = "",
                    stage: str = "", page: int = 1, page_size: int = PAGE_SIZE) -> PolicyPage:
    """Catalogue search by code or title, filtered by section and stage, a page at a time."""
    statement = select(Policy)
    if not actor.is_staff:
        statement = statement.where(Policy.published_version_number.is_not(None))
    words = query.strip()
    if words:
        pattern = "%" + words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            or_(func.lower(Policy.code).like(pattern, escape="\\"), func.lower(Policy.title).like(pattern, escape="\\"))
        )
    if section:
        statement = statement.where(Policy.section == section)
    if stage == "published":
        statement = statement.where(Policy.published_version_number == Policy.head_version_number)
    elif stage == "draft":
        statement = statement.where(
            or_(Policy.published_version_number.is_(None), Policy.published_version_number < Policy.head_version_number)
        )
    elif stage.replace("_", "").isalnum():
        # A review stage: policies whose review in progress is in that stage.
        statement = statement.where(Policy.id.in_(
            select(Review.policy_id).where(Review.ended_at.is_(None), Review.state == stage)))
    elif stage:
        raise InvalidValue(f"Unknown stage {stage!r}.")
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    page = max(1, page)
    items = session.scalars(
        statement.order_by(Policy.code).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return PolicyPage(list(items), total, page, page_size)


def sections(session: Session, actor: Actor) -> list[str]:
    statement = select(Policy.section).distinct().where(Policy.section != "")
    if not actor.is_staff:
        statement = statement.where(Policy.published_version_number.is_not(None))
    return sorted(session.scalars(statement))


def create_policy(session: Session, actor: Actor, settings: StoreSettings, *, code: str, title: str,
                  text: str, summary: str, section: str = "", owner_department: str = "") -> PolicyVersion:
    """A new policy with its first version."""
    _require_editor(actor)
    code = normalize_code(code)
    if not _CODE.match(code):
        raise InvalidValue("A policy code is 1-32 letters, digits, '.', '_' or '-' (for example JFABD).")
    title = " ".join(title.split())
    if not title or len(title) > 300:
        raise InvalidValue("A policy needs a title of 1-300 characters.")
    check_text(text, settings.max_text_bytes)
    summary = check_summary(summary)
    if session.scalar(select(Policy.id).where(Policy.code == code)) is not None:
        raise Conflict(f"A policy with the code {code} already exists.")
    policy = Policy(code=code, title=title, section=section.strip()[:200],
                    owner_department=owner_department.strip()[:200], head_version_number=1)
    session.add(policy)
    session.flush()
    stats = change_stats(diff("", text))
    version = PolicyVersion(
        policy_id=policy.id, number=1, sha256=sha256_text(text), author_id=_author_id(actor),
        summary=summary, patch=None, full_text=text, is_keyframe=True, text_length=len(text),
        words_inserted=stats.words_inserted, words_deleted=0,
        html=render_markdown(text), html_renderer=RENDERER_VERSION,
    )
    session.add(version)
    session.flush()
    search.index_policy(session, policy)
    audit.record(session, actor, "policy.created", f"policy:{code}", policy_id=policy.id,
                 data={"title": title, "version": 1, "sha256": version.sha256, "summary": summary})
    return version


def _author_id(actor: Actor) -> int | None:
    return actor.user.id if actor.user is not None else None


def save_version(session: Session, actor: Actor, settings: StoreSettings, policy: Policy, *,
                 text: str, summary: str, base_version: int) -> SaveResult:
    """Store ``text`` as the next version, if it differs from the head and the base is current.

    A stale ``base_version`` raises :class:`VersionConflict` carrying the current number, so the
    author can merge instead of silently overwriting someone else's work.
    """
    _require_editor(actor)
    check_text(text, settings.max_text_bytes)
    from policyflow.services import reviews  # reviews build on policies; imported here to avoid a cycle

    # Lock the review in flight, then the policy: a stage change waits for this save (or this save for it),
    # so text never changes once a review has left an editable stage, and concurrent savers queue here.
    reviews.active_review(session, policy, lock=True)
    reviews.lock_policy(session, policy)
    head_number = policy.head_version_number
    head = session.scalar(
        select(PolicyVersion).where(PolicyVersion.policy_id == policy.id, PolicyVersion.number == head_number)
    )
    assert head is not None and head.full_text is not None, "the head always keeps its full text"
    if sha256_text(text) == head.sha256 and text == head.full_text:
        return SaveResult(head, created=False)
    if base_version != head_number:
        raise VersionConflict(
            f"Policy {policy.code} is at version {head_number}; you started from version {base_version}. "
            "Merge your changes into the current text and save again.",
            current_version=head_number, base_version=base_version,
        )
    summary_clean = check_summary(summary)
    reviews.text_may_change(session, policy)
    number = head_number + 1
    # Compare-and-set on the head number: of two concurrent savers on one base, one wins.
    claimed = session.execute(
        update(Policy)
        .where(Policy.id == policy.id, Policy.head_version_number == head_number)
        .values(head_version_number=number, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        current = session.scalar(select(Policy.head_version_number).where(Policy.id == policy.id)) or head_number
        raise VersionConflict(
            f"Policy {policy.code} was changed by someone else while you were saving (now version {current}).",
            current_version=current, base_version=base_version,
        )
    old_text = head.full_text
    ops = diff(old_text, text)
    stats = change_stats(ops)
    version = PolicyVersion(
        policy_id=policy.id, number=number, parent_id=head.id, sha256=sha256_text(text),
        author_id=_author_id(actor), summary=summary_clean, patch=patch_from_ops(ops), full_text=text,
        is_keyframe=is_keyframe(number, settings.keyframe_interval), text_length=len(text),
        words_inserted=stats.words_inserted, words_deleted=stats.words_deleted,
        html=render_markdown(text), html_renderer=RENDERER_VERSION,
    )
    if not head.is_keyframe:
        head.full_text = None  # the new head carries the text; the old one is its patch chain
    session.add(version)
    session.flush()
    session.refresh(policy)
    reviews.follow_new_version(session, policy, number)
    from policyflow.services import annotations, comments, concerns  # they build on policies

    annotations.place_on_new_version(session, policy, head_number, old_text, number, text)
    comments.place_on_new_version(session, policy.id, head_number, old_text, number, text)
    concerns.place_on_new_version(session, policy.id, head_number, old_text, number, text)
    search.index_policy(session, policy)
    audit.record(session, actor, "policy.version_saved", f"policy:{policy.code}", policy_id=policy.id,
                 data={"version": number, "sha256": version.sha256, "summary": summary_clean,
                       "words_inserted": stats.words_inserted, "words_deleted": stats.words_deleted})
    return SaveResult(version, created=True)


def version_text(session: Session, policy: Policy, version: PolicyVersion) -> str:
    """The exact text of ``version``, rebuilt from the nearest stored text and verified."""
    if version.full_text is not None:
        return _rebuilt((_stored(version),), policy.code)
    start = session.scalar(
        select(func.max(PolicyVersion.number)).where(
            PolicyVersion.policy_id == policy.id,
            PolicyVersion.number <= version.number,
            PolicyVersion.full_text.is_not(None),
        )
    )
    if start is None:
        start = 1  # reconstruct() reports the missing text
    rows = session.scalars(
        select(PolicyVersion)
        .where(PolicyVersion.policy_id == policy.id, PolicyVersion.number.between(start, version.number))
        .order_by(PolicyVersion.number)
    ).all()
    return _rebuilt(tuple(_stored(row) for row in rows), policy.code)


@lru_cache(maxsize=32)
def _rebuilt(chain: tuple[StoredVersion, ...], policy_code: str) -> str:
    """``reconstruct`` is a pure function of the stored rows (texts, patches, hashes), so a chain read again
    unchanged is not patched and hashed again; a row that changed in any way is a different key."""
    return reconstruct(list(chain), policy_code)


@lru_cache(maxsize=32)
def _diff_ops(old_text: str, new_text: str) -> tuple[tuple[int, str], ...]:
    """The word diff of two texts, kept per process: redlines of the same versions are read again and again."""
    return tuple(diff(old_text, new_text))


def _stored(row: PolicyVersion) -> StoredVersion:
    return StoredVersion(row.number, row.sha256, row.patch, row.full_text)


def version_html(session: Session, policy: Policy, version: PolicyVersion) -> str:
    """Rendered HTML, from the cache unless the renderer changed since it was stored."""
    if version.html is None or version.html_renderer != RENDERER_VERSION:
        version.html = render_markdown(version_text(session, policy, version))
        version.html_renderer = RENDERER_VERSION
    return version.html


_COMPARED: LRUCache[tuple[str, str, list[tuple[int, str]], ChangeStats]] = LRUCache(64)


def compare(session: Session, actor: Actor, policy: Policy, old_number: int, new_number: int) -> Comparison:
    """Two versions' texts and their word diff; kept per process under both versions' ids and SHA-256 (a version
    never changes; its text was verified against that hash when rebuilt), so a redline read again reads no
    patch chains."""
    old = get_version(session, actor, policy, old_number)
    new = get_version(session, actor, policy, new_number)

    def texts_and_ops() -> tuple[str, str, list[tuple[int, str]], ChangeStats]:
        old_text = version_text(session, policy, old)
        new_text = version_text(session, policy, new)
        ops = list(_diff_ops(old_text, new_text))
        return old_text, new_text, ops, change_stats(ops)

    key = (str(session.get_bind().engine.url), old.id, old.sha256, new.id, new.sha256)
    old_text, new_text, ops, stats = _COMPARED.get_or_make(key, texts_and_ops)
    return Comparison(old, new, old_text, new_text, list(ops), stats)


def publish_version(session: Session, actor: Actor, policy: Policy, number: int, *,
                    effective_date: date | None = None, next_review_date: date | None = None,
                    now: datetime | None = None) -> PolicyVersion:
    """Mark a version as the adopted text (imports and the workflow's publish action)."""
    _require_editor(actor)
    version = get_version(session, actor, policy, number)
    if policy.published_version_number is not None and number < policy.published_version_number:
        raise Conflict(f"Version {policy.published_version_number} is already published; cannot go back to {number}.")
    version.published_at = version.published_at or now or utcnow()
    version.effective_date = effective_date
    policy.published_version_number = number
    policy.effective_date = effective_date
    policy.next_review_date = next_review_date
    session.flush()
    search.index_policy(session, policy)
    audit.record(session, actor, "policy.published", f"policy:{policy.code}", policy_id=policy.id,
                 data={"version": number, "sha256": version.sha256,
                       "effective_date": effective_date.isoformat() if effective_date else None})
    return version


# ---------------------------------------------------------------------------------------------
# Followers: people told when a new version is published
# ---------------------------------------------------------------------------------------------

def is_following(session: Session, actor: Actor, policy: Policy) -> bool:
    if actor.user is None:
        return False
    return session.scalar(select(PolicySubscription.id).where(PolicySubscription.user_id == actor.user.id,
                                                              PolicySubscription.policy_id == policy.id)) is not None


def set_following(session: Session, actor: Actor, policy: Policy, following: bool) -> bool:
    """Follow or unfollow a published policy (anyone with an account); returns the new state."""
    if actor.user is None:
        raise PermissionDenied("Sign in to follow a policy.")
    if not _visible(actor, policy):
        raise NotFound(f"There is no policy {policy.code}.")
    current = session.scalar(select(PolicySubscription).where(PolicySubscription.user_id == actor.user.id,
                                                              PolicySubscription.policy_id == policy.id))
    if following and current is None:
        session.add(PolicySubscription(user_id=actor.user.id, policy_id=policy.id, created_at=utcnow()))
    elif not following and current is not None:
        session.delete(current)
    session.flush()
    return following
