"""Reviews: one run of a workflow over a policy, pinned to the definition it started with."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from policyflow.models.base import Base, UTCDateTime, fresh_stamp, utcnow
from policyflow.models.policies import Policy
from policyflow.models.users import User


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        # At most one review in flight per policy.
        Index("uq_reviews_one_active_per_policy", "policy_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        CheckConstraint("state_version >= 1", name="state_version_positive"),
        CheckConstraint("comment_closes_on IS NULL OR comment_opens_on IS NULL OR comment_closes_on >= comment_opens_on",
                        name="comment_period_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), index=True)
    workflow_name: Mapped[str] = mapped_column(String(100))
    workflow_hash: Mapped[str] = mapped_column(String(64))
    workflow_source: Mapped[str] = mapped_column(Text())  # the definition as it was at the start
    state: Mapped[str] = mapped_column(String(64), index=True)
    state_version: Mapped[int] = mapped_column(default=1)  # optimistic concurrency counter
    version_number: Mapped[int] = mapped_column()  # the policy version under review
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stage_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    comment_opens_on: Mapped[date | None] = mapped_column(Date())
    comment_closes_on: Mapped[date | None] = mapped_column(Date())
    legal_basis: Mapped[str | None] = mapped_column(Text())
    public_summary: Mapped[str | None] = mapped_column(Text())  # what changes, in plain words, for the public page
    # Changed with every change to the review's comments (submitted, answered, hidden, consent, placements), in
    # the same transaction: the triage page's and the review page's counts are kept per process under it.
    comments_stamp: Mapped[str] = mapped_column(String(32), default=fresh_stamp, server_default="0")

    policy: Mapped[Policy] = relationship(lazy="joined")
    started_by: Mapped[User | None] = relationship()
    transitions: Mapped[list[ReviewTransition]] = relationship(
        back_populates="review", order_by="ReviewTransition.id", cascade="all, delete-orphan"
    )


class ReviewTransition(Base):
    """The stage timeline: each stage entered, when, by whom, with which action and note."""

    __tablename__ = "review_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    action: Mapped[str | None] = mapped_column(String(100))  # None for the start
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text())
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    review: Mapped[Review] = relationship(back_populates="transitions")
