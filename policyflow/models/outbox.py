"""Background work and what it tells people: the outbox the worker drains, and in-app notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from policyflow.models.base import Base, UTCDateTime, utcnow

# email: one message to one address. reminder / overdue: a stage's deadline is near / has passed
# (the worker turns it into notifications and e-mails). timed_action: an action the workflow takes
# by itself at a stage's deadline.
OUTBOX_KINDS = ("email", "reminder", "overdue", "timed_action")
NOTIFICATION_KINDS = ("stage_changed", "decision_needed", "deadline_near", "overdue", "assigned", "quorum_reached",
                      "policy_published", "periodic_review", "concern_exception")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class OutboxMessage(Base):
    """One job for ``policyflow worker``, written in the same transaction as the change that caused it.

    Life cycle: pending (``delivered_at`` and ``failed_at`` empty) -> claimed by a worker for a
    while (``locked_until``) -> delivered (done, or dropped as stale: see ``outcome``), or back to
    pending with ``attempts`` + 1 and a later ``available_at``, or failed for good (``failed_at``).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(_one_of("kind", OUTBOX_KINDS), name="known_kind"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("delivered_at IS NULL OR failed_at IS NULL", name="delivered_or_failed"),
        # The worker's claim query reads only pending messages, oldest due first.
        Index("ix_outbox_messages_pending", "available_at",
              sqlite_where=text("delivered_at IS NULL AND failed_at IS NULL"),
              postgresql_where=text("delivered_at IS NULL AND failed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON(), default=dict)
    # Enqueuing a message whose key exists is a no-op (the same reminder is never queued twice).
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)  # failed attempts so far
    last_error: Mapped[str | None] = mapped_column(Text())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a worker's claim (a lease)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # given up (permanent error, too many attempts)
    outcome: Mapped[str | None] = mapped_column(String(200))  # what happened, in words ("sent", "stale: ...")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Notification(Base):
    """An in-app notice for one user; it never carries confidential content, only what and where."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(_one_of("kind", NOTIFICATION_KINDS), name="known_kind"),
        # Every signed-in page shows the unread count: an index of the unread ones alone (migration 0010).
        Index("ix_notifications_unread", "user_id", sqlite_where=text("read_at IS NULL"),
              postgresql_where=text("read_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text())
    url: Mapped[str] = mapped_column(String(500))  # a path in this app, e.g. /reviews/12
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
