"""The audit trail's hash chain: each event commits to the one before it.

Editing or deleting a past event breaks every later hash, which ``verify_chain`` reports with
the first sequence number that no longer matches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def event_hash(previous_hash: str, seq: int, occurred_at: str, actor: str, action: str,
               subject: str, data: dict[str, Any]) -> str:
    payload = json.dumps(
        [previous_hash, seq, occurred_at, actor, action, subject, data],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainedEvent:
    seq: int
    occurred_at: str
    actor: str
    action: str
    subject: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


def verify_chain(events: Iterable[ChainedEvent]) -> tuple[int, int | None]:
    """(events checked, first broken seq or None)."""
    previous = GENESIS
    checked = 0
    for event in events:
        expected = event_hash(previous, event.seq, event.occurred_at, event.actor, event.action,
                              event.subject, event.data)
        if event.prev_hash != previous or event.hash != expected:
            return checked, event.seq
        previous = event.hash
        checked += 1
    return checked, None
