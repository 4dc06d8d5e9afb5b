"""Writing to and checking the hash-chained audit trail, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from policyflow.core.audit import GENESIS, ChainedEvent, event_hash, verify_chain
from policyflow.models import Event
from policyflow.models.base import utcnow
from policyflow.services.actors import Actor


def record(session: Session, actor: Actor, action: str, subject: str, *,
           policy_id: int | None = None, data: dict[str, Any] | None = None) -> Event:
    """Append one event; concurrent writers are serialized so the chain never forks."""
    if session.get_bind().dialect.name == "postgresql":
        # Writers of the chain queue here (readers do not). The key is the events table's OID, so each schema's
        # chain has its own lock (one constant key made every instance and test run on the server wait in one
        # queue), and no privilege beyond INSERT is needed (an append-only table may deny UPDATE and DELETE).
        session.execute(text("SELECT pg_advisory_xact_lock(CAST(CAST(CAST(:table AS regclass) AS oid) AS bigint))"),
                        {"table": Event.__tablename__})
    last = session.execute(select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)).first()
    seq, previous = (last[0] + 1, last[1]) if last else (1, GENESIS)
    occurred_at = utcnow()
    payload = dict(data or {})
    event = Event(
        seq=seq, occurred_at=occurred_at, actor=actor.label, action=action, subject=subject,
        policy_id=policy_id, data=payload, prev_hash=previous,
        hash=event_hash(previous, seq, occurred_at.isoformat(), actor.label, action, subject, payload),
    )
    session.add(event)
    session.flush()
    return event


def verify(session: Session) -> tuple[int, int | None]:
    """(events checked, first broken seq or None)."""
    rows = session.scalars(select(Event).order_by(Event.seq)).all()
    return verify_chain(
        ChainedEvent(e.seq, e.occurred_at.isoformat(), e.actor, e.action, e.subject, e.data,
                     e.prev_hash, e.hash)
        for e in rows
    )
