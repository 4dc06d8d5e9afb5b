"""Leadership decisions on a review, each bound to the exact text read; recusals; policy followers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from policyflow.models.base import Base, UTCDateTime, utcnow
from policyflow.models.policies import Policy
from policyflow.models.users import User

DECISIONS = ("approve", "request_changes", "reject")
DISMISSALS = ("new_version", "superseded", "recused")


class Decision(Base):
    """One leader's decision on one version: approve, request changes or reject.

    The version's number and SHA-256 are stored with it, so the record shows exactly what was read.
    A decision stops counting (``dismissed_at``) when a new version is saved, when the same person
    decides again, or when they recuse; it stays in the record.
    """

    __tablename__ = "decisions"
    __table_args__ = (
        CheckConstraint("decision IN ('approve', 'request_changes', 'reject')", name="known_decision"),
        CheckConstraint("decision = 'approve' OR length(note) > 0", name="changes_and_rejections_say_why"),
        CheckConstraint("(dismissed_at IS NULL) = (dismissed_because IS NULL)", name="dismissal_has_a_reason"),
        CheckConstraint("dismissed_because IS NULL OR dismissed_because IN ('new_version', 'superseded', 'recused')",
                        name="known_dismissal"),
        Index("ix_decisions_review_active", "review_id", "dismissed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(32))
    version_number: Mapped[int] = mapped_column()
    version_sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text(), default="")
    position: Mapped[str | None] = mapped_column(String(200))  # the decider's position when deciding
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dismissed_because: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship(lazy="joined")


class Recusal(Base):
    """A leader declared a conflict of interest in a review: recorded, and they no longer count."""

    __tablename__ = "recusals"
    __table_args__ = (UniqueConstraint("review_id", "user_id"),
                      CheckConstraint("length(reason) > 0", name="recusal_says_why"))

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text())
    recused_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class PolicySubscription(Base):
    """Someone with an account follows a policy: they hear when a new version is published."""

    __tablename__ = "policy_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "policy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    policy: Mapped[Policy] = relationship()
