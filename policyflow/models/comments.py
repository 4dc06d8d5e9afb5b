"""Stakeholder comments on a review during its comment period, with sealed identities and dispositions.

The database itself refuses an anonymous comment that carries any identity, a disposition outside
the list, and a hidden comment without a reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from policyflow.models.base import Base, UTCDateTime, utcnow
from policyflow.models.policies import Policy
from policyflow.models.reviews import Review
from policyflow.models.users import User

IDENTITY_MODES = ("public", "confidential", "anonymous")
DISPOSITIONS = ("accepted", "partially_accepted", "not_accepted", "out_of_scope")
FILING_CHANNELS = ("phone", "email", "letter", "in_person", "meeting")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint(_one_of("identity_mode", IDENTITY_MODES), name="known_identity_mode"),
        CheckConstraint(f"disposition IS NULL OR {_one_of('disposition', DISPOSITIONS)}", name="known_disposition"),
        CheckConstraint(f"filed_via IS NULL OR {_one_of('filed_via', FILING_CHANNELS)}", name="known_channel"),
        # Anonymous means nothing about the person is kept: no account, no name, no e-mail.
        CheckConstraint("identity_mode <> 'anonymous' OR (author_id IS NULL AND name IS NULL AND email IS NULL)",
                        name="anonymous_keeps_no_identity"),
        CheckConstraint("identity_mode = 'anonymous' OR name IS NOT NULL", name="named_modes_have_a_name"),
        CheckConstraint("hidden_at IS NULL OR hidden_reason IS NOT NULL", name="hidden_needs_reason"),
        CheckConstraint("disclosure_permitted = false OR identity_mode = 'confidential'", name="disclosure_only_for_confidential"),
        CheckConstraint('("start" IS NULL AND "end" IS NULL AND exact IS NULL) OR '
                        '("start" >= 0 AND "end" > "start" AND exact IS NOT NULL)', name="target_complete"),
        # Triage reads a review's comments by group, disposition and category; the report by passage.
        Index("ix_comments_review_group", "review_id", "group_id"),
        Index("ix_comments_review_disposition", "review_id", "disposition"),
        Index("ix_comments_review_category", "review_id", "category"),
        # Covers the report's staleness check (counts and latest changes of a review's comments) without the rows.
        Index("ix_comments_review_changes", "review_id", "dispositioned_at", "hidden_at"),
        # The comments still waiting for an answer (triage filtered to "not yet answered"): migration 0010.
        Index("ix_comments_review_undecided", "review_id",
              sqlite_where=text("disposition IS NULL AND hidden_at IS NULL"),
              postgresql_where=text("disposition IS NULL AND hidden_at IS NULL")),
        # Exact duplicates (the same words sent again) join the earlier comment's group: migration 0011.
        Index("ix_comments_review_fingerprint", "review_id", "fingerprint"),
        Index("ix_comments_review_band0", "review_id", "band0"),
        Index("ix_comments_review_band1", "review_id", "band1"),
        Index("ix_comments_review_band2", "review_id", "band2"),
        Index("ix_comments_review_band3", "review_id", "band3"),
        # Hidden comments are few; search excludes them for everyone but ombuds staff with this (migration 0006).
        Index("ix_comments_hidden", "id", sqlite_where=text("hidden_at IS NOT NULL"), postgresql_where=text("hidden_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column()  # the draft the commenter read
    body: Mapped[str] = mapped_column(Text())
    category: Mapped[str | None] = mapped_column(String(32))
    # The optional passage: the same selector model as annotations, on version_number.
    exact: Mapped[str | None] = mapped_column(Text())
    prefix: Mapped[str | None] = mapped_column(String(64))
    suffix: Mapped[str | None] = mapped_column(String(64))
    start: Mapped[int | None] = mapped_column()
    end: Mapped[int | None] = mapped_column()
    # Identity, sealed per mode (see services.comments for who may read what).
    identity_mode: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    disclosure_permitted: Mapped[bool] = mapped_column(default=False)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # ombuds staff filing for a caller
    filed_via: Mapped[str | None] = mapped_column(String(16))
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the receipt link's token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Near-duplicate grouping (mass campaigns): the first comment of a group names it.
    fingerprint: Mapped[str] = mapped_column(String(64))
    band0: Mapped[int] = mapped_column()
    band1: Mapped[int] = mapped_column()
    band2: Mapped[int] = mapped_column()
    band3: Mapped[int] = mapped_column()
    group_id: Mapped[int | None] = mapped_column()
    # Moderation.
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(Text())
    # What the district did with it.
    disposition: Mapped[str | None] = mapped_column(String(32))
    response: Mapped[str | None] = mapped_column(Text())
    changed_in_version: Mapped[int | None] = mapped_column()
    dispositioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dispositioned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    review: Mapped[Review] = relationship()
    policy: Mapped[Policy] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    consents: Mapped[list[CommentConsent]] = relationship(back_populates="comment", order_by="CommentConsent.id",
                                                          cascade="all, delete-orphan")
    placements: Mapped[list[CommentPlacement]] = relationship(back_populates="comment", cascade="all, delete-orphan")


class CommentConsent(Base):
    """A confidential commenter granting or revoking permission to show their name (time-stamped history)."""

    __tablename__ = "comment_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    granted: Mapped[bool] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the commenter, by receipt link

    comment: Mapped[Comment] = relationship(back_populates="consents")


class CommentPlacement(Base):
    """Where a comment's passage lands on a later version (re-anchored like annotations)."""

    __tablename__ = "comment_placements"
    __table_args__ = (
        UniqueConstraint("comment_id", "version_number"),
        CheckConstraint("status IN ('exact', 'moved', 'edited', 'orphaned')", name="known_status"),
        CheckConstraint("(status = 'orphaned' AND \"start\" IS NULL AND \"end\" IS NULL) OR "
                        "(status <> 'orphaned' AND \"start\" IS NOT NULL AND \"end\" IS NOT NULL)",
                        name="orphans_have_no_span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    start: Mapped[int | None] = mapped_column()
    end: Mapped[int | None] = mapped_column()
    score: Mapped[float] = mapped_column(default=1.0)

    comment: Mapped[Comment] = relationship(back_populates="placements")
