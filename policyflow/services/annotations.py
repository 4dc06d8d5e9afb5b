"""Annotations: anchored notes on a version's text, who may see and change them, and their
placement on every later version (re-anchored in the transaction that saves the version)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from policyflow.core.anchoring import reanchor_many
from policyflow.core.errors import InvalidValue, NotFound, PermissionDenied
from policyflow.core.vocabulary import load_vocabularies
from policyflow.models import VISIBILITIES, Annotation, AnnotationEdit, AnnotationPlacement, AnnotationReply, Policy
from policyflow.models.base import fresh_stamp, utcnow
from policyflow.services import audit, policies, search
from policyflow.services.actors import Actor

CONTEXT_CHARS = 32
MAX_BODY = 10_000
MAX_TAGS = 10

# Who may write and read each visibility (DESIGN.md section 3; the ombuds' confidentiality).
WRITERS = {"confidential": {"ombuds"}, "internal": {"ombuds", "reviewer", "leadership"}, "public": {"ombuds", "reviewer"}}
READERS = {"confidential": {"ombuds"}, "internal": {"ombuds", "reviewer", "leadership"},
           "public": {"ombuds", "reviewer", "leadership", "admin"}}
BLOCKERS = {"ombuds", "reviewer"}


@dataclass(frozen=True)
class Placed:
    """An annotation as it stands on one version: its span there and how it got there."""

    annotation: Annotation
    version_number: int
    status: str  # "original" when made on this version, else a placement status
    start: int | None
    end: int | None
    score: float
    confirmed: bool = False  # a person confirmed or re-attached this placement


@dataclass(frozen=True)
class ReaderClass:
    """Everything about a reader that changes which notes a page shows and which controls sit beside them.

    Readers of one class see the same notes section, so it is rendered once for all of them and cached under
    this (web.fragments): a reviewer's class differs from the ombuds', so never gets their confidential notes.
    """

    readable: tuple[str, ...]
    writable: tuple[str, ...]
    may_block: bool
    may_reattach_any: bool
    user_id: int | None  # set only when what the reader may re-attach depends on which notes they wrote


def reader_class(actor: Actor) -> ReaderClass:
    readable = tuple(v for v in VISIBILITIES if v in readable_visibilities(actor))
    writable = tuple(v for v in VISIBILITIES if actor.is_system or WRITERS[v] & actor.roles)
    may_reattach_any = actor.is_system or "ombuds" in actor.roles  # as in reattach()
    user_id = actor.user.id if actor.user is not None and readable and not may_reattach_any else None
    return ReaderClass(readable, writable, actor.is_system or bool(BLOCKERS & actor.roles), may_reattach_any, user_id)


def readable_visibilities(actor: Actor) -> set[str]:
    if actor.is_system:
        return set(READERS)
    return {visibility for visibility, roles in READERS.items() if roles & actor.roles}


def can_read(actor: Actor, annotation: Annotation) -> bool:
    return annotation.visibility in readable_visibilities(actor) and annotation.deleted_at is None


def get(session: Session, actor: Actor, annotation_id: int) -> Annotation:
    annotation = session.get(Annotation, annotation_id)
    # Not found and not allowed read the same: a confidential note's existence is not disclosed.
    if annotation is None or not can_read(actor, annotation):
        raise NotFound(f"There is no annotation {annotation_id}.")
    return annotation


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise InvalidValue("A note needs some text.")
    if len(body) > MAX_BODY:
        raise InvalidValue(f"A note is limited to {MAX_BODY:,} characters.")
    if "\x00" in body:
        raise InvalidValue("A note cannot contain a NUL character.")
    return body


def _clean_tags(tags: list[Any] | None, allowed: Collection[str] | None) -> list[str]:
    """Tags come from the district's list (vocabularies.yaml); the shipped list when none is given."""
    if allowed is None:
        from policyflow.resources import workflows_dir

        allowed = load_vocabularies(workflows_dir()).annotation_tags
    cleaned: list[str] = []
    for tag in tags or []:
        if not isinstance(tag, str):
            raise InvalidValue("Tags are short words such as 'equity' or 'family-impact'.")
        value = tag.strip().lower().replace(" ", "-")
        if value not in allowed:
            shown = tag if len(tag) <= 40 else tag[:40] + "..."
            raise InvalidValue(f"The tag {shown!r} is not on the district's list of tags; use one of: {', '.join(allowed)}.")
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_TAGS:
        raise InvalidValue(f"At most {MAX_TAGS} tags per note.")
    return cleaned


def _check_target(text: str, target: dict[str, Any]) -> tuple[int, int]:
    try:
        start, end = int(target["start"]), int(target["end"])
    except (KeyError, TypeError, ValueError):
        raise InvalidValue("The target needs whole-number 'start' and 'end' offsets into the version's text.") from None
    if not (0 <= start < end <= len(text)):
        raise InvalidValue(f"The passage {start}..{end} is outside the version's text (0..{len(text)}).")
    exact = target.get("exact")
    if exact is not None and text[start:end] != exact:
        raise InvalidValue("The quoted passage does not match the version's text at those offsets.")
    if not text[start:end].strip():
        raise InvalidValue("Select some words to annotate, not only spaces.")
    return start, end


def create(session: Session, actor: Actor, policy: Policy, version_number: int, *, target: dict[str, Any], body: str,
           visibility: str, tags: list[Any] | None = None, blocking: bool = False,
           allowed_tags: Collection[str] | None = None) -> Annotation:
    if visibility not in WRITERS:
        raise InvalidValue("Visibility is 'confidential', 'internal' or 'public'.")
    if not (actor.is_system or WRITERS[visibility] & actor.roles):
        raise PermissionDenied(f"Your role cannot write {visibility} notes.")
    if blocking and not (actor.is_system or BLOCKERS & actor.roles):
        raise PermissionDenied("Only ombuds staff and reviewers can mark a note as blocking.")
    version = policies.get_version(session, actor, policy, version_number)
    text = policies.version_text(session, policy, version)
    start, end = _check_target(text, target)
    now = utcnow()
    annotation = Annotation(
        policy_id=policy.id, version_number=version.number, exact=text[start:end],
        prefix=text[max(0, start - CONTEXT_CHARS):start], suffix=text[end:end + CONTEXT_CHARS], start=start, end=end,
        body=_clean_body(body), tags=_clean_tags(tags, allowed_tags), visibility=visibility, status="open", blocking=bool(blocking),
        author_id=actor.user.id if actor.user else None, created_at=now, updated_at=now,
    )
    session.add(annotation)
    session.flush()
    _notes_changed(session, policy)
    search.index_annotation(session, annotation)
    _record(session, actor, "annotation.created", annotation)
    return annotation


def _record(session: Session, actor: Actor, action: str, annotation: Annotation, **extra: Any) -> None:
    # Confidential notes leave only their id and visibility in the (staff-readable) audit trail.
    data: dict[str, Any] = {"annotation": annotation.id, "visibility": annotation.visibility,
                            "version": annotation.version_number, **extra}
    audit.record(session, actor, action, f"annotation:{annotation.id}", policy_id=annotation.policy_id, data=data)


def _notes_changed(session: Session, policy: Policy) -> None:
    """Every write to a policy's notes, replies or placements comes through here, in its transaction: the new
    stamp retires whatever any process cached from the notes as they were (web.fragments keys on it)."""
    policy.notes_stamp = fresh_stamp()
    session.flush()


def reply(session: Session, actor: Actor, annotation_id: int, body: str) -> AnnotationReply:
    annotation = get(session, actor, annotation_id)
    if not (actor.is_system or WRITERS[annotation.visibility] & actor.roles):
        raise PermissionDenied("Your role cannot reply to this note.")
    row = AnnotationReply(annotation_id=annotation.id, author_id=actor.user.id if actor.user else None,
                          body=_clean_body(body), created_at=utcnow())
    session.add(row)
    session.flush()
    _notes_changed(session, annotation.policy)
    _record(session, actor, "annotation.replied", annotation, reply=row.id)
    return row


def set_status(session: Session, actor: Actor, annotation_id: int, status: str) -> Annotation:
    annotation = get(session, actor, annotation_id)
    if status not in ("open", "resolved"):
        raise InvalidValue("Status is 'open' or 'resolved'.")
    is_author = actor.user is not None and actor.user.id == annotation.author_id
    if not (actor.is_system or is_author or {"ombuds"} & actor.roles
            or ("reviewer" in actor.roles and annotation.visibility != "confidential")):
        raise PermissionDenied("Only the author, ombuds staff and reviewers can resolve or reopen a note.")
    if annotation.status != status:
        annotation.status = status
        annotation.resolved_at = utcnow() if status == "resolved" else None
        annotation.updated_at = utcnow()
        _notes_changed(session, annotation.policy)
        _record(session, actor, "annotation.resolved" if status == "resolved" else "annotation.reopened", annotation)
    return annotation


def edit(session: Session, actor: Actor, annotation_id: int, body: str) -> Annotation:
    annotation = get(session, actor, annotation_id)
    if actor.user is None or actor.user.id != annotation.author_id:
        raise PermissionDenied("Only the author can edit a note.")
    new_body = _clean_body(body)
    if new_body != annotation.body:
        session.add(AnnotationEdit(annotation_id=annotation.id, previous_body=annotation.body, edited_at=utcnow()))
        annotation.body = new_body
        annotation.updated_at = utcnow()
        _notes_changed(session, annotation.policy)
        search.index_annotation(session, annotation)
        _record(session, actor, "annotation.edited", annotation)
    return annotation


def delete(session: Session, actor: Actor, annotation_id: int) -> Annotation:
    annotation = get(session, actor, annotation_id)
    is_author = actor.user is not None and actor.user.id == annotation.author_id
    if not (actor.is_system or is_author or "ombuds" in actor.roles):
        raise PermissionDenied("Only the author and ombuds staff can delete a note.")
    annotation.deleted_at = utcnow()
    _notes_changed(session, annotation.policy)
    search.index_annotation(session, annotation)  # leaves the index
    _record(session, actor, "annotation.deleted", annotation)
    return annotation


def reattach(session: Session, actor: Actor, annotation_id: int, version_number: int, *, start: int | None = None,
             end: int | None = None) -> AnnotationPlacement:
    """A person confirms where a carried note belongs on a later version, or points it at new words.

    Without a span, the current placement is confirmed as it is.
    """
    annotation = get(session, actor, annotation_id)
    is_author = actor.user is not None and actor.user.id == annotation.author_id
    if not (actor.is_system or is_author or "ombuds" in actor.roles):
        raise PermissionDenied("Only the author and ombuds staff can re-attach a note.")
    if version_number == annotation.version_number:
        raise InvalidValue("The note was made on this version; its passage is the one it was written on.")
    placement = session.scalar(select(AnnotationPlacement).where(
        AnnotationPlacement.annotation_id == annotation.id, AnnotationPlacement.version_number == version_number))
    if placement is None:
        raise NotFound(f"The note was not carried to version {version_number}.")
    if start is None or end is None:
        if placement.start is None:
            raise InvalidValue("An orphaned note needs new words to attach to.")
    else:
        version = policies.get_version(session, actor, annotation.policy, version_number)
        text = policies.version_text(session, annotation.policy, version)
        start, end = _check_target(text, {"start": start, "end": end})
        placement.status = "exact" if text[start:end] == annotation.exact else "edited"
        placement.start, placement.end, placement.score = start, end, 1.0
    placement.confirmed_by_id = actor.user.id if actor.user else None
    _notes_changed(session, annotation.policy)
    _record(session, actor, "annotation.reattached", annotation, placed_on=version_number, status=placement.status)
    return placement


def on_version(session: Session, actor: Actor, policy: Policy, version_number: int) -> list[Placed]:
    """The notes the actor may see on a version: made there, or placed there by re-anchoring."""
    policies.get_version(session, actor, policy, version_number)
    visible = readable_visibilities(actor)
    if not visible:
        return []
    # Replies (and their authors, joined) in one more query for all notes, not one per note.
    made_here = session.scalars(select(Annotation).options(selectinload(Annotation.replies)).where(
        Annotation.policy_id == policy.id, Annotation.version_number == version_number,
        Annotation.deleted_at.is_(None), Annotation.visibility.in_(visible)).order_by(Annotation.start, Annotation.id))
    placed: list[Placed] = [Placed(a, version_number, "original", a.start, a.end, 1.0) for a in made_here]
    rows = session.execute(
        select(Annotation, AnnotationPlacement).join(AnnotationPlacement).options(selectinload(Annotation.replies))
        .where(Annotation.policy_id == policy.id, AnnotationPlacement.version_number == version_number,
               Annotation.deleted_at.is_(None), Annotation.visibility.in_(visible))
        .order_by(AnnotationPlacement.start, Annotation.id)
    ).all()
    placed.extend(Placed(a, version_number, p.status, p.start, p.end, p.score, p.confirmed_by_id is not None) for a, p in rows)
    return placed


def place_on_new_version(session: Session, policy: Policy, old_number: int, old_text: str, new_number: int,
                         new_text: str) -> dict[str, int]:
    """Place every open note of the old version on the new one; returns counts per status."""
    originals = session.scalars(select(Annotation).where(
        Annotation.policy_id == policy.id, Annotation.version_number == old_number,
        Annotation.deleted_at.is_(None), Annotation.status == "open")).all()
    carried = session.execute(
        select(Annotation, AnnotationPlacement).join(AnnotationPlacement)
        .where(Annotation.policy_id == policy.id, AnnotationPlacement.version_number == old_number,
               Annotation.deleted_at.is_(None), Annotation.status == "open")
    ).all()
    items: list[tuple[Annotation, int | None, int | None]] = [(a, a.start, a.end) for a in originals]
    items.extend((a, p.start, p.end) for a, p in carried)
    counts = {"exact": 0, "moved": 0, "edited": 0, "orphaned": 0}
    to_place = [(a, s, e) for a, s, e in items if s is not None and e is not None]
    selectors = [
        {"exact": old_text[s:e], "prefix": old_text[max(0, s - CONTEXT_CHARS):s], "suffix": old_text[e:e + CONTEXT_CHARS],
         "start": s, "end": e}
        for _a, s, e in to_place
    ]
    results = reanchor_many(old_text, new_text, selectors) if selectors else []
    for (annotation, _s, _e), result in zip(to_place, results, strict=True):
        session.add(AnnotationPlacement(annotation_id=annotation.id, version_number=new_number, status=result["status"],
                                        start=result["start"], end=result["end"], score=float(result["score"])))
        counts[result["status"]] += 1
    for annotation, start, _end in items:
        if start is None:  # orphaned before: stays listed as orphaned, never silently dropped
            session.add(AnnotationPlacement(annotation_id=annotation.id, version_number=new_number, status="orphaned",
                                            start=None, end=None, score=0.0))
            counts["orphaned"] += 1
    _notes_changed(session, policy)
    return counts


def open_blocking(session: Session, policy: Policy) -> list[Annotation]:
    return list(session.scalars(select(Annotation).where(
        Annotation.policy_id == policy.id, Annotation.blocking.is_(True), Annotation.status == "open",
        Annotation.deleted_at.is_(None))))


def search_condition(actor: Actor) -> Any:
    """A WHERE clause limiting annotations to those the actor may read (for search and counts)."""
    visible = readable_visibilities(actor)
    return or_(*(Annotation.visibility == v for v in visible)) if visible else Annotation.id.is_(None)
