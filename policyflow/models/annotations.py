"""Annotations on the policy text, their replies, edit history and placements on later versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from policyflow.models.base import Base, UTCDateTime, utcnow
from policyflow.models.policies import Policy
from policyflow.models.users import User

VISIBILITIES = ("confidential", "internal", "public")
PLACEMENT_STATUSES = ("exact", "moved", "edited", "orphaned")


class Annotation(Base):
    __tablename__ = "annotations"
    __table_args__ = (
        CheckConstraint("visibility IN ('confidential', 'internal', 'public')", name="known_visibility"),
        CheckConstraint("status IN ('open', 'resolved')", name="known_status"),
        CheckConstraint('"start" >= 0 AND "end" >= "start"', name="span_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column()  # the version it was made on; its target never changes
    exact: Mapped[str] = mapped_column(Text())
    prefix: Mapped[str] = mapped_column(String(64), default="")
    suffix: Mapped[str] = mapped_column(String(64), default="")
    start: Mapped[int] = mapped_column()
    end: Mapped[int] = mapped_column()
    body: Mapped[str] = mapped_column(Text())
    tags: Mapped[list[str]] = mapped_column(JSON(), default=list)
    visibility: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    blocking: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: made by the system (imports)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    policy: Mapped[Policy] = relationship()
    author: Mapped[User | None] = relationship(lazy="joined")
    replies: Mapped[list[AnnotationReply]] = relationship(
        back_populates="annotation", order_by="AnnotationReply.id", cascade="all, delete-orphan"
    )
    placements: Mapped[list[AnnotationPlacement]] = relationship(
        back_populates="annotation", order_by="AnnotationPlacement.version_number", cascade="all, delete-orphan"
    )


class AnnotationReply(Base):
    __tablename__ = "annotation_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    annotation: Mapped[Annotation] = relationship(back_populates="replies")
    author: Mapped[User | None] = relationship(lazy="joined")


class AnnotationEdit(Base):
    """The body an annotation had before each edit (authors may edit; history is kept)."""

    __tablename__ = "annotation_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"), index=True)
    previous_body: Mapped[str] = mapped_column(Text())
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AnnotationPlacement(Base):
    """Where an annotation lands on a later version, found by re-anchoring; never silently dropped."""

    __tablename__ = "annotation_placements"
    __table_args__ = (
        UniqueConstraint("annotation_id", "version_number"),
        CheckConstraint("status IN ('exact', 'moved', 'edited', 'orphaned')", name="known_status"),
        CheckConstraint("(status = 'orphaned' AND \"start\" IS NULL AND \"end\" IS NULL) OR "
                        "(status <> 'orphaned' AND \"start\" IS NOT NULL AND \"end\" IS NOT NULL)",
                        name="orphans_have_no_span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    start: Mapped[int | None] = mapped_column()
    end: Mapped[int | None] = mapped_column()
    score: Mapped[float] = mapped_column(default=1.0)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # a person re-attached it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    annotation: Mapped[Annotation] = relationship(back_populates="placements")
