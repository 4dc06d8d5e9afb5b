"""The equity impact assessment of a review, and who changed which answer when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from policyflow.models.base import Base, UTCDateTime, utcnow
from policyflow.models.reviews import Review
from policyflow.models.users import User

ASSESSMENT_STATUSES = ("in_progress", "complete")


class EquityAssessment(Base):
    """One per review. Pins the questions it started with, like a review pins its workflow."""

    __tablename__ = "equity_assessments"
    __table_args__ = (
        CheckConstraint("status IN ('in_progress', 'complete')", name="known_status"),
        # Complete means someone completed it at a recorded time; in progress means nobody has.
        CheckConstraint("(status = 'complete' AND completed_at IS NOT NULL) OR "
                        "(status = 'in_progress' AND completed_at IS NULL AND completed_by_id IS NULL)",
                        name="completion_recorded"),
        CheckConstraint("revision >= 0", name="revision_not_negative"),
        CheckConstraint("version_number >= 1", name="version_positive"),
        # An explanation of later changes names the later version it explains, and only that.
        CheckConstraint("(changes_explained IS NULL) = (changes_explained_version IS NULL)", name="explanation_has_version"),
        CheckConstraint("changes_explained_version IS NULL OR changes_explained_version > version_number",
                        name="explains_a_later_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), unique=True)
    version_number: Mapped[int] = mapped_column()  # the version the answers were written for (at completion: assessed)
    definition_hash: Mapped[str] = mapped_column(String(64))
    definition_source: Mapped[str] = mapped_column(Text())  # the questions file as it was at the start
    answers: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")
    revision: Mapped[int] = mapped_column(default=0)  # optimistic concurrency: +1 on every change
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changes_explained: Mapped[str | None] = mapped_column(Text())  # "what changed after the equity review?"
    changes_explained_version: Mapped[int | None] = mapped_column()  # the later version that answer is about
    changes_explained_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    changes_explained_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    review: Mapped[Review] = relationship()
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    changes_explained_by: Mapped[User | None] = relationship(foreign_keys=[changes_explained_by_id])


class EquityAnswerChange(Base):
    """Each change of one answer: who, when, at which revision, and the value it got (None: cleared).

    Several reviewers contribute to one assessment; this is the record of who wrote what, and the
    base for merging: an answer's value at any revision is its latest change at or before it.
    """

    __tablename__ = "equity_answer_changes"
    __table_args__ = (
        Index("ix_equity_answer_changes_assessment_key", "assessment_id", "question_key", "revision"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("equity_assessments.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(200))
    revision: Mapped[int] = mapped_column()
    value: Mapped[Any] = mapped_column(JSON(), nullable=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system (imports, demo tools)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    changed_by: Mapped[User | None] = relationship(lazy="joined")
