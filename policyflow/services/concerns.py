"""Concerns heard by the ombuds office, under its four principles.

- **Confidentiality:** who raised a concern, how to reach them and the working notes are read only by the
  staff member handling it and the ombuds lead; anything shared outside the office needs the person's
  recorded consent, or the documented exception (imminent risk of serious harm, or the law), which is
  justified in writing, audited and reported to the ombuds lead.
- **Informality:** open -> in informal resolution -> resolved, or referred with consent.
- **Independence and impartiality:** only ombuds staff open concerns (not leadership, reviewers or
  administrators), and nothing records an opinion about who is right.
- **Retention:** a set time after a concern closes, its identity and notes are deleted; the de-identified
  facts stay for policy analysis.

Audit events name the concern and what happened, never the person, the summary or a note.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from policyflow.core.anchoring import reanchor_many
from policyflow.core.errors import Conflict, InvalidValue, NotFound, PermissionDenied
from policyflow.models import (
    CONCERN_CHANNELS,
    CONCERN_RAISERS,
    Concern,
    ConcernConsent,
    ConcernDisclosure,
    ConcernIdentity,
    ConcernNote,
    ConcernPlacement,
    ConcernPolicy,
    Notification,
    Policy,
    Review,
    ReviewConcern,
    User,
    UserRole,
)
from policyflow.models.base import utcnow
from policyflow.services import audit, policies
from policyflow.services.actors import Actor

MAX_TEXT = 8_000
MAX_SHORT = 200
CONTEXT_CHARS = 32
EXCEPTION_GROUNDS = {"imminent_harm": "imminent risk of serious harm", "required_by_law": "required by law"}
# Where a concern may go next by a status change; 'referred' is reached only by a referral (with consent).
NEXT_STATUSES = {"open": ("informal_resolution", "resolved"), "informal_resolution": ("resolved", "open"),
                 "resolved": ("informal_resolution",), "referred": ()}


def is_ombuds(actor: Actor) -> bool:
    return actor.user is not None and "ombuds" in actor.roles


def is_lead(actor: Actor) -> bool:
    return is_ombuds(actor) and "ombuds_lead" in actor.roles


def sees_identity(actor: Actor, concern: Concern) -> bool:
    """The handler and the ombuds lead; no one else, whatever their other roles."""
    return is_lead(actor) or (is_ombuds(actor) and actor.user is not None and concern.handler_id == actor.user.id)


def _require_ombuds(actor: Actor) -> None:
    if not is_ombuds(actor):
        raise PermissionDenied("Concerns are for ombuds staff only: the office hears them in confidence.")


def _require_handler(actor: Actor, concern: Concern, doing: str) -> None:
    if not sees_identity(actor, concern):
        raise PermissionDenied(f"Only the staff member handling concern {concern.id} or the ombuds lead may {doing}.")


def _text(value: Any, what: str, *, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidValue(f"Give {what}.")
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidValue(f"{what[0].upper() + what[1:]} must be text.")
    value = value.replace("\r\n", "\n").strip()
    if len(value) > limit:
        raise InvalidValue(f"{what[0].upper() + what[1:]} is limited to {limit:,} characters.")
    return value


def _terms(values: Any, allowed: Mapping[str, str] | Collection[str], what: str) -> list[str]:
    if values in (None, ""):
        return []
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise InvalidValue(f"{what[0].upper() + what[1:]} are a list.")
    unknown = sorted({str(v) for v in values} - set(allowed))
    if unknown:
        raise InvalidValue(f"Unknown {what}: {', '.join(unknown)}; choose from {', '.join(allowed)}.")
    return list(dict.fromkeys(str(v) for v in values))


# ---------------------------------------------------------------------------------------------
# Intake
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PolicyLink:
    """A policy a concern points at; optionally a passage (offsets into that version's text)."""

    code: str
    version: int | None = None  # default: the newest version the office can read
    start: int | None = None
    end: int | None = None


def _link(session: Session, actor: Actor, link: PolicyLink) -> ConcernPolicy:
    policy = policies.get_policy(session, actor, link.code)
    number = link.version or policy.head_version_number
    version = policies.get_version(session, actor, policy, number)
    if (link.start is None) != (link.end is None):
        raise InvalidValue("A passage needs both its start and its end.")
    row = ConcernPolicy(policy_id=policy.id, version_number=number)
    if link.start is not None and link.end is not None:
        text = policies.version_text(session, policy, version)
        if not (0 <= link.start < link.end <= len(text)):
            raise InvalidValue(f"The passage {link.start}-{link.end} is not inside version {number} of {policy.code}.")
        row.exact, row.start, row.end = text[link.start:link.end], link.start, link.end
        row.prefix, row.suffix = text[max(0, link.start - CONTEXT_CHARS):link.start], text[link.end:link.end + CONTEXT_CHARS]
    return row


def record(session: Session, actor: Actor, *, received_on: Any, channel: Any, raised_by: Any, summary: Any,
           themes: Any = (), subgroups: Any = (), school_or_department: Any = None, name: Any = None, contact: Any = None,
           links: list[PolicyLink] = (), allowed_themes: Collection[str], allowed_subgroups: Collection[str],  # type: ignore[assignment]
           now: datetime | None = None) -> Concern:
    """Record a concern; the identity is sealed at once, and the one recording it handles it."""
    _require_ombuds(actor)
    now = now or utcnow()
    if not isinstance(received_on, date):
        raise InvalidValue("Give the date the concern was raised (YYYY-MM-DD).")
    if received_on > now.date():
        raise InvalidValue("The date the concern was raised cannot be in the future.")
    if channel not in CONCERN_CHANNELS:
        raise InvalidValue(f"The channel is one of: {', '.join(CONCERN_CHANNELS)}.")
    if raised_by not in CONCERN_RAISERS:
        raise InvalidValue(f"Who raised it is one of: {', '.join(CONCERN_RAISERS)}.")
    assert actor.user is not None
    concern = Concern(
        received_on=received_on, channel=channel, raised_by=raised_by,
        summary=_text(summary, "a summary of the concern (without names: it is kept for analysis)"),
        themes=_terms(themes, allowed_themes, "themes"), subgroups=_terms(subgroups, allowed_subgroups, "student subgroups"),
        school_or_department=_text(school_or_department, "the school or department", required=False, limit=MAX_SHORT),
        status="open", handler_id=actor.user.id, created_at=now,
    )
    concern.links = [_link(session, actor, link) for link in links]
    name = _text(name, "the name", required=False, limit=MAX_SHORT)
    contact = _text(contact, "the contact", required=False, limit=320)
    session.add(concern)
    session.flush()
    if name or contact:
        session.add(ConcernIdentity(concern_id=concern.id, name=name, contact=contact))
    session.flush()
    audit.record(session, actor, "concern.recorded", f"concern:{concern.id}",
                 data={"channel": channel, "raised_by": raised_by, "themes": concern.themes, "subgroups": concern.subgroups,
                       "policies": [link.policy.code for link in concern.links]})
    return concern


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

@dataclass
class ConcernView:
    """A concern as one ombuds staff member may read it: identity and notes only for the handler and the lead."""

    concern: Concern
    sealed: bool
    identity: ConcernIdentity | None
    notes: list[ConcernNote]
    consents: list[ConcernConsent]
    disclosures: list[ConcernDisclosure]


def _concern(session: Session, actor: Actor, concern_id: int) -> Concern:
    if not is_ombuds(actor):
        raise NotFound(f"There is no concern {concern_id}.")  # existence itself is confidential
    concern = session.get(Concern, concern_id)
    if concern is None:
        raise NotFound(f"There is no concern {concern_id}.")
    return concern


def get(session: Session, actor: Actor, concern_id: int) -> ConcernView:
    concern = _concern(session, actor, concern_id)
    sees = sees_identity(actor, concern)
    identity = session.scalar(select(ConcernIdentity).where(ConcernIdentity.concern_id == concern.id)) if sees else None
    notes = list(session.scalars(select(ConcernNote).where(ConcernNote.concern_id == concern.id)
                                 .order_by(ConcernNote.id))) if sees else []
    consents = list(session.scalars(select(ConcernConsent).where(ConcernConsent.concern_id == concern.id)
                                    .order_by(ConcernConsent.id)))
    disclosures = list(session.scalars(select(ConcernDisclosure).where(ConcernDisclosure.concern_id == concern.id)
                                       .order_by(ConcernDisclosure.id)))
    return ConcernView(concern, not sees, identity, notes, consents, disclosures)


def list_concerns(session: Session, actor: Actor, *, status: str = "", theme: str = "", subgroup: str = "",
                  policy_code: str = "", q: str = "") -> list[Concern]:
    """De-identified facts of every concern, newest first (ombuds staff only); ``q`` searches the summary,
    the school or department and the outcome (never names: the list is for any ombuds staff member)."""
    if not is_ombuds(actor):
        raise PermissionDenied("Concerns are for ombuds staff only: the office hears them in confidence.")
    query = select(Concern).order_by(Concern.received_on.desc(), Concern.id.desc())
    if status:
        query = query.where(Concern.status == status)
    words = (q or "").split()
    if len(" ".join(words)) > MAX_SHORT:
        raise InvalidValue(f"Search words are limited to {MAX_SHORT} characters.")
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Concern.summary.ilike(pattern, escape="\\"),
                                Concern.school_or_department.ilike(pattern, escape="\\"),
                                Concern.outcome.ilike(pattern, escape="\\")))
    if policy_code:
        query = query.where(Concern.id.in_(select(ConcernPolicy.concern_id).join(Policy, Policy.id == ConcernPolicy.policy_id)
                                           .where(Policy.code == policy_code.upper())))
    rows = list(session.scalars(query))
    # Themes and subgroups are JSON lists: filtered here, the same on SQLite and PostgreSQL.
    return [c for c in rows if (not theme or theme in (c.themes or [])) and (not subgroup or subgroup in (c.subgroups or []))]


# ---------------------------------------------------------------------------------------------
# The informal path, notes, consent, disclosure, referral
# ---------------------------------------------------------------------------------------------

def set_status(session: Session, actor: Actor, concern_id: int, status: str, *, outcome: Any = None,
               now: datetime | None = None) -> Concern:
    concern = _concern(session, actor, concern_id)
    _require_handler(actor, concern, "move it along")
    if concern.notes_purged_at is not None:
        raise Conflict(f"Concern {concern.id} was closed and its notes deleted under the retention rule; it cannot reopen.")
    if status not in NEXT_STATUSES.get(concern.status, ()):
        possible = ", ".join(NEXT_STATUSES.get(concern.status, ())) or "none (a referral ends it)"
        raise Conflict(f"Concern {concern.id} is {concern.status.replace('_', ' ')}; it can go to: {possible}.")
    now = now or utcnow()
    if status == "resolved":
        concern.outcome = _text(outcome, "how it was resolved (neutral words: no finding about who is right)")
        concern.closed_at = now
    else:
        concern.closed_at = None
    previous, concern.status = concern.status, status
    session.flush()
    audit.record(session, actor, "concern.status", f"concern:{concern.id}", data={"from": previous, "to": status})
    return concern


def add_note(session: Session, actor: Actor, concern_id: int, body: Any, *, now: datetime | None = None) -> ConcernNote:
    concern = _concern(session, actor, concern_id)
    _require_handler(actor, concern, "keep working notes on it")
    if concern.notes_purged_at is not None:
        raise Conflict(f"Concern {concern.id}'s notes were deleted under the retention rule.")
    assert actor.user is not None
    note = ConcernNote(concern_id=concern.id, author_id=actor.user.id, body=_text(body, "the note"), created_at=now or utcnow())
    session.add(note)
    session.flush()
    audit.record(session, actor, "concern.note_added", f"concern:{concern.id}")
    return note


def record_consent(session: Session, actor: Actor, concern_id: int, *, what: Any, with_whom: Any, given_on: Any,
                   now: datetime | None = None) -> ConcernConsent:
    """The person's permission to share: what, with whom, when given (revocable)."""
    concern = _concern(session, actor, concern_id)
    _require_handler(actor, concern, "record consent")
    now = now or utcnow()
    if not isinstance(given_on, date) or given_on > now.date():
        raise InvalidValue("Give the date the person gave permission (today or earlier).")
    assert actor.user is not None
    consent = ConcernConsent(concern_id=concern.id, what=_text(what, "what may be shared"),
                             with_whom=_text(with_whom, "with whom it may be shared", limit=MAX_SHORT), given_on=given_on,
                             recorded_by_id=actor.user.id, recorded_at=now)
    session.add(consent)
    session.flush()
    audit.record(session, actor, "concern.consent_recorded", f"concern:{concern.id}", data={"consent": consent.id})
    return consent


def revoke_consent(session: Session, actor: Actor, concern_id: int, consent_id: int, *,
                   now: datetime | None = None) -> ConcernConsent:
    concern = _concern(session, actor, concern_id)
    _require_handler(actor, concern, "record that consent was withdrawn")
    consent = session.get(ConcernConsent, consent_id)
    if consent is None or consent.concern_id != concern.id:
        raise NotFound(f"Concern {concern.id} has no consent {consent_id}.")
    if consent.revoked_at is not None:
        raise Conflict("That consent was already withdrawn.")
    consent.revoked_at = now or utcnow()
    session.flush()
    audit.record(session, actor, "concern.consent_revoked", f"concern:{concern.id}", data={"consent": consent.id})
    return consent


def _active_consent(session: Session, concern: Concern, consent_id: Any) -> ConcernConsent:
    consent = session.get(ConcernConsent, consent_id) if isinstance(consent_id, int) else None
    if consent is None or consent.concern_id != concern.id:
        raise InvalidValue("Choose the consent the person gave for this; without it nothing is shared.")
    if consent.revoked_at is not None:
        raise Conflict("The person withdrew that consent; nothing can be shared on it.")
    return consent


def refer(session: Session, actor: Actor, concern_id: int, *, target: Any, shared: Any, consent_id: Any,
          allowed_targets: Mapping[str, str], now: datetime | None = None) -> ConcernDisclosure:
    """Refer the concern to another office, sharing only what the person consented to."""
    concern = _concern(session, actor, concern_id)
    _require_handler(actor, concern, "refer it")
    if concern.status in ("resolved", "referred"):
        raise Conflict(f"Concern {concern.id} is {concern.status}; reopen it first to refer it.")
    if target not in allowed_targets:
        raise InvalidValue(f"Refer to one of: {', '.join(allowed_targets)}.")
    consent = _active_consent(session, concern, consent_id)
    now = now or utcnow()
    assert actor.user is not None
    disclosure = ConcernDisclosure(concern_id=concern.id, grounds="consent", consent_id=consent.id,
                                   shared=_text(shared, "what was shared (within the consent)"),
                                   shared_with=allowed_targets[target], referral_target=target, justification="",
                                   disclosed_by_id=actor.user.id, disclosed_at=now)
    session.add(disclosure)
    concern.status, concern.closed_at = "referred", now
    session.flush()
    audit.record(session, actor, "concern.referred", f"concern:{concern.id}", data={"target": target, "consent": consent.id})
    return disclosure


def disclose_on_exception(session: Session, actor: Actor, concern_id: int, *, grounds: Any, shared: Any, shared_with: Any,
                          justification: Any, now: datetime | None = None) -> ConcernDisclosure:
    """The only path without consent: imminent risk of serious harm, or the law. Justified, audited, told to the lead."""
    concern = _concern(session, actor, concern_id)
    _require_handler(actor, concern, "disclose anything about it")
    if grounds not in EXCEPTION_GROUNDS:
        raise InvalidValue(f"Without consent, something may be disclosed only on these grounds: {', '.join(EXCEPTION_GROUNDS)}.")
    now = now or utcnow()
    assert actor.user is not None
    disclosure = ConcernDisclosure(
        concern_id=concern.id, grounds=grounds, shared=_text(shared, "what was disclosed"),
        shared_with=_text(shared_with, "to whom it was disclosed", limit=MAX_SHORT),
        justification=_text(justification, "the written justification for disclosing without consent"),
        disclosed_by_id=actor.user.id, disclosed_at=now)
    session.add(disclosure)
    session.flush()
    audit.record(session, actor, "concern.exception_disclosure", f"concern:{concern.id}",
                 data={"grounds": grounds, "disclosure": disclosure.id})
    leads = session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                            .where(UserRole.role == "ombuds_lead", User.is_active.is_(True)))
    for lead in leads:
        session.add(Notification(user_id=lead.id, kind="concern_exception", url=f"/concerns/{concern.id}", created_at=now,
                                 message=f"Concern {concern.id}: something was disclosed without consent "
                                         f"({EXCEPTION_GROUNDS[grounds]}). Read the justification."))
    session.flush()
    return disclosure


# ---------------------------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------------------------

def purge_expired(session: Session, now: datetime, retention_days: int) -> list[int]:
    """Delete the identity and working notes of concerns closed more than ``retention_days`` ago.

    Run by the worker. The audit event says that deletion happened, not what was deleted; the facts stay."""
    cutoff = now - timedelta(days=retention_days)
    due = list(session.scalars(select(Concern).where(Concern.closed_at.is_not(None), Concern.closed_at <= cutoff,
                                                     Concern.notes_purged_at.is_(None)).order_by(Concern.id)))
    for concern in due:
        session.execute(delete(ConcernNote).where(ConcernNote.concern_id == concern.id))
        session.execute(delete(ConcernIdentity).where(ConcernIdentity.concern_id == concern.id))
        concern.notes_purged_at = now
        audit.record(session, Actor.system(), "concern.retention_deleted", f"concern:{concern.id}",
                     data={"retention_days": retention_days})
    session.flush()
    return [concern.id for concern in due]


# ---------------------------------------------------------------------------------------------
# Passages follow the text
# ---------------------------------------------------------------------------------------------

def place_on_new_version(session: Session, policy_id: int, old_number: int, old_text: str, new_number: int,
                         new_text: str) -> None:
    """Carry every concern passage on the old version to the new one, re-anchored like annotations."""
    made = session.execute(select(ConcernPolicy.id, ConcernPolicy.start, ConcernPolicy.end).where(
        ConcernPolicy.policy_id == policy_id, ConcernPolicy.version_number == old_number, ConcernPolicy.start.is_not(None))).all()
    carried = session.execute(select(ConcernPlacement.link_id, ConcernPlacement.start, ConcernPlacement.end)
                              .join(ConcernPolicy, ConcernPolicy.id == ConcernPlacement.link_id)
                              .where(ConcernPolicy.policy_id == policy_id, ConcernPlacement.version_number == old_number)).all()
    items = [*made, *carried]
    placeable = [(link_id, start, end) for link_id, start, end in items if start is not None and end is not None]
    selectors = [{"exact": old_text[s:e], "prefix": old_text[max(0, s - CONTEXT_CHARS):s], "suffix": old_text[e:e + CONTEXT_CHARS],
                  "start": s, "end": e} for _link, s, e in placeable]
    results = reanchor_many(old_text, new_text, selectors) if selectors else []
    for (link_id, _s, _e), result in zip(placeable, results, strict=True):
        session.add(ConcernPlacement(link_id=link_id, version_number=new_number, status=result["status"], start=result["start"],
                                     end=result["end"], score=float(result["score"])))
    for link_id, start, _e in items:
        if start is None:
            session.add(ConcernPlacement(link_id=link_id, version_number=new_number, status="orphaned", start=None, end=None,
                                         score=0.0))
    session.flush()


# ---------------------------------------------------------------------------------------------
# Policy analysis
# ---------------------------------------------------------------------------------------------

SMALL_COUNT = 3  # counts below this are "fewer than 3" for everyone but the ombuds lead


def shown_count(count: int, masked: bool) -> str:
    return f"fewer than {SMALL_COUNT}" if masked and 0 < count < SMALL_COUNT else str(count)


@dataclass
class PolicyAnalysis:
    """What concerns say about one policy: counts by theme, subgroup and quarter, and the passages they point at."""

    total: int
    by_theme: dict[str, int]
    by_subgroup: dict[str, int]
    by_quarter: list[tuple[str, int]]  # "2026 Q1", oldest first
    passages: list[tuple[int, int, int]]  # (start, end, concerns) on the head version's text
    masked: bool  # small counts shown as "fewer than 3"
    version_number: int


def policy_analysis(session: Session, actor: Actor, policy: Policy) -> PolicyAnalysis:
    """Ombuds staff only; nothing here identifies anyone, and small counts are masked for all but the lead."""
    _require_ombuds(actor)
    head = policy.head_version_number
    links = session.execute(select(ConcernPolicy, Concern).join(Concern, Concern.id == ConcernPolicy.concern_id)
                            .where(ConcernPolicy.policy_id == policy.id)).all()
    placed = {link_id: (start, end) for link_id, start, end in session.execute(
        select(ConcernPlacement.link_id, ConcernPlacement.start, ConcernPlacement.end)
        .join(ConcernPolicy, ConcernPolicy.id == ConcernPlacement.link_id)
        .where(ConcernPolicy.policy_id == policy.id, ConcernPlacement.version_number == head))}
    by_theme: dict[str, int] = {}
    by_subgroup: dict[str, int] = {}
    by_quarter: dict[str, int] = {}
    spans: dict[tuple[int, int], set[int]] = {}
    seen: set[int] = set()
    for link, concern in links:
        if concern.id not in seen:
            seen.add(concern.id)
            for theme in concern.themes or []:
                by_theme[theme] = by_theme.get(theme, 0) + 1
            for group in concern.subgroups or []:
                by_subgroup[group] = by_subgroup.get(group, 0) + 1
            quarter = f"{concern.received_on.year} Q{(concern.received_on.month - 1) // 3 + 1}"
            by_quarter[quarter] = by_quarter.get(quarter, 0) + 1
        span = (link.start, link.end) if link.version_number == head else placed.get(link.id, (None, None))
        if span[0] is not None and span[1] is not None:
            spans.setdefault((span[0], span[1]), set()).add(concern.id)
    passages = sorted(((start, end, len(ids)) for (start, end), ids in spans.items()), key=lambda item: (-item[2], item[0]))
    return PolicyAnalysis(len(seen), by_theme, by_subgroup, sorted(by_quarter.items()), passages, not is_lead(actor), head)


# ---------------------------------------------------------------------------------------------
# Reviews started from concerns
# ---------------------------------------------------------------------------------------------

def link_to_review(session: Session, actor: Actor, review: Review, concern_ids: Collection[int]) -> int:
    """Give concerns that point at the review's policy as its rationale (ombuds staff); returns how many."""
    _require_ombuds(actor)
    wanted = sorted(set(concern_ids))
    if not wanted:
        return 0
    about = set(session.scalars(select(ConcernPolicy.concern_id).where(ConcernPolicy.policy_id == review.policy_id,
                                                                      ConcernPolicy.concern_id.in_(wanted))))
    strays = [str(cid) for cid in wanted if cid not in about]
    if strays:
        raise InvalidValue(f"Concern(s) {', '.join(strays)} do not point at policy {review.policy.code}.")
    linked = set(session.scalars(select(ReviewConcern.concern_id).where(ReviewConcern.review_id == review.id)))
    for concern_id in wanted:
        if concern_id not in linked:
            session.add(ReviewConcern(review_id=review.id, concern_id=concern_id))
    session.flush()
    audit.record(session, actor, "review.concerns_linked", f"review:{review.id}", data={"concerns": len(wanted)})
    return len(wanted)


@dataclass(frozen=True)
class RationaleRow:
    themes: tuple[str, ...]
    subgroups: tuple[str, ...]
    passage: str | None
    count: int


def rationale(session: Session, actor: Actor, review: Review) -> list[RationaleRow]:
    """The concerns behind a review, de-identified and grouped (themes, groups, passage, how many) for staff."""
    if not actor.is_staff:
        return []
    rows = session.execute(select(Concern, ConcernPolicy.exact).join(ReviewConcern, ReviewConcern.concern_id == Concern.id)
                           .outerjoin(ConcernPolicy, (ConcernPolicy.concern_id == Concern.id)
                                      & (ConcernPolicy.policy_id == review.policy_id))
                           .where(ReviewConcern.review_id == review.id)).all()
    grouped: dict[tuple[tuple[str, ...], tuple[str, ...], str | None], set[int]] = {}
    for concern, passage in rows:
        key = (tuple(sorted(concern.themes or [])), tuple(sorted(concern.subgroups or [])), passage)
        grouped.setdefault(key, set()).add(concern.id)
    return sorted((RationaleRow(themes, groups, passage, len(ids)) for (themes, groups, passage), ids in grouped.items()),
                  key=lambda row: (-row.count, row.themes, row.passage or ""))


def about_policy(session: Session, actor: Actor, policy: Policy) -> list[Concern]:
    """The concerns pointing at a policy, for the ombuds staff starting a review of it."""
    if not is_ombuds(actor):
        return []
    return list(session.scalars(select(Concern).where(Concern.id.in_(
        select(ConcernPolicy.concern_id).where(ConcernPolicy.policy_id == policy.id))).order_by(Concern.received_on.desc())))


# ---------------------------------------------------------------------------------------------
# The office's views: the concern dashboard and the annual report
# ---------------------------------------------------------------------------------------------

@dataclass
class ConcernDashboard:
    ranked: list[tuple[Policy, int]]  # policies by concerns received in the last 12 months
    rising: list[tuple[str, int, int]]  # theme, last 90 days, the 90 days before
    far_from_review: list[tuple[Policy, int]]  # policies with recent concerns whose next review is over a year away
    masked: bool


def dashboard(session: Session, actor: Actor, today: date) -> ConcernDashboard:
    _require_ombuds(actor)
    year_ago, recent, before = today - timedelta(days=365), today - timedelta(days=90), today - timedelta(days=180)
    rows = session.execute(select(Concern.id, Concern.received_on, Concern.themes, ConcernPolicy.policy_id)
                           .outerjoin(ConcernPolicy, ConcernPolicy.concern_id == Concern.id)
                           .where(Concern.received_on >= min(year_ago, before))).all()
    per_policy: dict[int, set[int]] = {}
    themes_now: dict[str, set[int]] = {}
    themes_then: dict[str, set[int]] = {}
    for concern_id, received, themes, policy_id in rows:
        if policy_id is not None and received >= year_ago:
            per_policy.setdefault(policy_id, set()).add(concern_id)
        if received >= before:
            bucket = themes_now if received >= recent else themes_then
            for theme in themes or []:
                bucket.setdefault(theme, set()).add(concern_id)
    found = {p.id: p for p in session.scalars(select(Policy).where(Policy.id.in_(list(per_policy))))} if per_policy else {}
    ranked = sorted(((found[pid], len(ids)) for pid, ids in per_policy.items() if pid in found),
                    key=lambda item: (-item[1], item[0].code))
    rising = sorted(((theme, len(ids), len(themes_then.get(theme, ()))) for theme, ids in themes_now.items()
                     if len(ids) > len(themes_then.get(theme, ()))), key=lambda item: (item[2] - item[1], item[0]))
    far = [(policy, count) for policy, count in ranked
           if policy.next_review_date is None or policy.next_review_date > today + timedelta(days=365)]
    return ConcernDashboard(ranked, rising, far, not is_lead(actor))


@dataclass
class AnnualReport:
    year: int
    total: int
    tables: dict[str, dict[str, int]]  # "theme", "subgroup", "channel", "outcome", "policy" -> key -> count
    masked: bool


def annual_report(session: Session, actor: Actor, year: int) -> AnnualReport:
    """The office's year: concerns by theme, subgroup, channel, outcome and policy (small counts masked when shown)."""
    _require_ombuds(actor)
    if not 2000 <= year <= 2100:
        raise InvalidValue("Choose a year between 2000 and 2100.")
    items = list(session.scalars(select(Concern).where(Concern.received_on >= date(year, 1, 1),
                                                       Concern.received_on <= date(year, 12, 31))))
    tables: dict[str, dict[str, int]] = {name: {} for name in ("theme", "subgroup", "channel", "outcome", "policy")}

    def add(table: str, key: str) -> None:
        tables[table][key] = tables[table].get(key, 0) + 1

    for concern in items:
        for theme in concern.themes or []:
            add("theme", theme)
        for group in concern.subgroups or []:
            add("subgroup", group)
        add("channel", concern.channel)
        add("outcome", concern.status)
        for code in {link.policy.code for link in concern.links}:
            add("policy", code)
    return AnnualReport(year, len(items), tables, not is_lead(actor))
