"""Policies and their immutable versions (stored as patches from the parent)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from policyflow.models.base import Base, UTCDateTime, fresh_stamp, utcnow
from policyflow.models.users import User


class Policy(Base):
    __tablename__ = "policies"
    __table_args__ = (
        CheckConstraint("head_version_number >= 0", name="head_not_negative"),
        CheckConstraint(
            "published_version_number IS NULL OR "
            "(published_version_number >= 1 AND published_version_number <= head_version_number)",
            name="published_version_exists",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    section: Mapped[str] = mapped_column(String(200), default="", index=True)
    owner_department: Mapped[str] = mapped_column(String(200), default="")
    # The staff member who answers for the policy: told when its periodic review starts.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    head_version_number: Mapped[int] = mapped_column(default=0)
    published_version_number: Mapped[int | None] = mapped_column()
    effective_date: Mapped[date | None] = mapped_column(Date())
    next_review_date: Mapped[date | None] = mapped_column(Date())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Changed with every change to the policy's notes (annotations, replies, placements), in the same
    # transaction: pages rendered from the notes are kept per process under it (web.fragments).
    notes_stamp: Mapped[str] = mapped_column(String(32), default=fresh_stamp, server_default="0")

    @property
    def stage(self) -> str:
        """Where the policy stands without a review in flight (reviews add their stage later)."""
        if self.published_version_number is None:
            return "draft"
        if self.published_version_number == self.head_version_number:
            return "published"
        return "draft"


class PolicyVersion(Base):
    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("policy_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("number = 1 OR patch IS NOT NULL", name="patch_after_first"),
        CheckConstraint("number > 1 OR full_text IS NOT NULL", name="first_has_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    summary: Mapped[str] = mapped_column(Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    patch: Mapped[str | None] = mapped_column(Text())
    full_text: Mapped[str | None] = mapped_column(Text())
    is_keyframe: Mapped[bool] = mapped_column(default=False)
    text_length: Mapped[int] = mapped_column(default=0)
    words_inserted: Mapped[int] = mapped_column(default=0)
    words_deleted: Mapped[int] = mapped_column(default=0)
    # Set when this version became the adopted text (published versions stay public history).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    effective_date: Mapped[date | None] = mapped_column(Date())
    html: Mapped[str | None] = mapped_column(Text())
    html_renderer: Mapped[str | None] = mapped_column(String(32))

    author: Mapped[User | None] = relationship(lazy="joined")
    policy: Mapped[Policy] = relationship()
