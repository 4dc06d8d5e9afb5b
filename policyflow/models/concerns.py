"""Concerns heard by the ombuds office: de-identified facts kept for policy analysis, the person's
identity sealed apart from them, consent to share, disclosures, referrals and working notes.

The split is the confidentiality rule made structural: ``concerns`` holds only what may be analysed
(dates, channel, themes, subgroups, policies, outcome); who raised it lives in ``concern_identities``
and the informal working notes in ``concern_notes``, both deleted when the retention period ends.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from policyflow.models.base import Base, UTCDateTime, utcnow
from policyflow.models.policies import Policy
from policyflow.models.users import User

CONCERN_CHANNELS = ("phone", "email", "walk_in", "feedback_platform", "school_visit")
CONCERN_RAISERS = ("student", "parent_guardian", "employee", "community_member", "organization")
CONCERN_STATUSES = ("open", "informal_resolution", "resolved", "referred")
DISCLOSURE_GROUNDS = ("consent", "imminent_harm", "required_by_law")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Concern(Base):
    __tablename__ = "concerns"
    __table_args__ = (
        CheckConstraint(_one_of("channel", CONCERN_CHANNELS), name="known_channel"),
        CheckConstraint(_one_of("raised_by", CONCERN_RAISERS), name="known_raiser"),
        CheckConstraint(_one_of("status", CONCERN_STATUSES), name="known_status"),
        CheckConstraint("(status IN ('resolved', 'referred')) = (closed_at IS NOT NULL)", name="closed_when_done"),
        CheckConstraint("notes_purged_at IS NULL OR closed_at IS NOT NULL", name="purged_only_when_closed"),
        Index("ix_concerns_received_on", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_on: Mapped[date] = mapped_column(Date())
    channel: Mapped[str] = mapped_column(String(32))
    raised_by: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text())  # written without names: it is kept for analysis
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    subgroups: Mapped[list[str]] = mapped_column(JSON, default=list)
    school_or_department: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), default="open")
    outcome: Mapped[str | None] = mapped_column(Text())  # how it ended, in neutral words (no verdict on who is right)
    handler_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    handler: Mapped[User] = relationship(lazy="joined")
    links: Mapped[list[ConcernPolicy]] = relationship(back_populates="concern", cascade="all, delete-orphan",
                                                      order_by="ConcernPolicy.id")


class ConcernIdentity(Base):
    """Who raised the concern and how to reach them: sealed (the handler and the ombuds lead read it)."""

    __tablename__ = "concern_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(320))


class ConcernNote(Base):
    """An informal working note; deleted with the identity when the retention period ends."""

    __tablename__ = "concern_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")


class ConcernPolicy(Base):
    """A policy the concern points at, optionally an exact passage of one version (like a note's target)."""

    __tablename__ = "concern_policies"
    __table_args__ = (
        CheckConstraint("(start IS NULL) = (\"end\" IS NULL)", name="whole_span_or_none"),
        Index("ix_concern_policies_policy", "policy_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column()
    exact: Mapped[str | None] = mapped_column(Text())
    prefix: Mapped[str | None] = mapped_column(String(64))
    suffix: Mapped[str | None] = mapped_column(String(64))
    start: Mapped[int | None] = mapped_column()
    end: Mapped[int | None] = mapped_column()

    concern: Mapped[Concern] = relationship(back_populates="links")
    policy: Mapped[Policy] = relationship(lazy="joined")

    @property
    def selector(self) -> dict[str, Any] | None:
        if self.start is None:
            return None
        return {"exact": self.exact, "prefix": self.prefix, "suffix": self.suffix, "start": self.start, "end": self.end}


class ConcernConsent(Base):
    """The person's permission: what may be shared, with whom; time-stamped and revocable."""

    __tablename__ = "concern_consents"
    __table_args__ = (CheckConstraint("length(what) > 0 AND length(with_whom) > 0", name="consent_says_what_and_whom"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id", ondelete="CASCADE"), index=True)
    what: Mapped[str] = mapped_column(Text())
    with_whom: Mapped[str] = mapped_column(Text())
    given_on: Mapped[date] = mapped_column(Date())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConcernDisclosure(Base):
    """Something about the concern was shared outside the office: with consent, or on a documented exception."""

    __tablename__ = "concern_disclosures"
    __table_args__ = (
        CheckConstraint(_one_of("grounds", DISCLOSURE_GROUNDS), name="known_grounds"),
        CheckConstraint("grounds != 'consent' OR consent_id IS NOT NULL", name="consent_disclosure_names_consent"),
        CheckConstraint("grounds = 'consent' OR length(justification) > 0", name="exception_is_justified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id", ondelete="CASCADE"), index=True)
    grounds: Mapped[str] = mapped_column(String(32))
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("concern_consents.id"))
    shared: Mapped[str] = mapped_column(Text())  # what was shared
    shared_with: Mapped[str] = mapped_column(Text())
    justification: Mapped[str] = mapped_column(Text(), default="")
    referral_target: Mapped[str | None] = mapped_column(String(32))  # set when the disclosure is a referral
    disclosed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    disclosed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReviewConcern(Base):
    """A concern given as part of the rationale for a review (shown de-identified)."""

    __tablename__ = "review_concerns"
    __table_args__ = (UniqueConstraint("review_id", "concern_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concerns.id", ondelete="CASCADE"))


class ConcernPlacement(Base):
    """Where a concern's passage lands on a later version of its policy (re-anchored like annotations)."""

    __tablename__ = "concern_placements"
    __table_args__ = (
        UniqueConstraint("link_id", "version_number"),
        CheckConstraint("status IN ('exact', 'moved', 'edited', 'orphaned')", name="known_status"),
        CheckConstraint("(status = 'orphaned' AND \"start\" IS NULL AND \"end\" IS NULL) OR "
                        "(status <> 'orphaned' AND \"start\" IS NOT NULL AND \"end\" IS NOT NULL)",
                        name="orphans_have_no_span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("concern_policies.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    start: Mapped[int | None] = mapped_column()
    end: Mapped[int | None] = mapped_column()
    score: Mapped[float] = mapped_column(default=1.0)
