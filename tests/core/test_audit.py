"""The audit trail's hash chain."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyflow.core.audit import GENESIS, ChainedEvent, event_hash, verify_chain


def build(specs: list[tuple[str, str, str, dict]]) -> list[ChainedEvent]:
    events = []
    previous = GENESIS
    for seq, (actor, action, subject, data) in enumerate(specs, start=1):
        occurred_at = f"2024-05-{seq:02d}T10:00:00+00:00"
        digest = event_hash(previous, seq, occurred_at, actor, action, subject, data)
        events.append(ChainedEvent(seq, occurred_at, actor, action, subject, data, previous, digest))
        previous = digest
    return events


SPECS = [
    ("admin", "policy.created", "JD", {"title": "Student Discipline"}),
    ("editor", "version.saved", "JD", {"version": 2, "sha256": "ab" * 32}),
    ("reviewer", "comment.added", "JD", {"text": "Bitte prüfen — 学生 😀"}),
    ("admin", "version.published", "JD", {"version": 2}),
    ("admin", "user.role_changed", "user:7", {"from": "reviewer", "to": "editor"}),
]


def test_event_hash_is_sha256_hex_and_sensitive_to_every_field():
    base = ("0" * 64, 1, "2024-05-01T10:00:00+00:00", "admin", "policy.created", "JD", {"a": 1})
    digest = event_hash(*base)
    assert len(digest) == 64 and int(digest, 16) >= 0
    for index, changed in enumerate(["1" * 64, 2, "2024-05-01T10:00:01+00:00", "root", "policy.deleted", "JE", {"a": 2}]):
        fields = list(base)
        fields[index] = changed
        assert event_hash(*fields) != digest, index


def test_event_hash_ignores_key_order():
    args = ("0" * 64, 1, "t", "a", "x", "s")
    assert event_hash(*args, {"a": 1, "b": 2}) == event_hash(*args, {"b": 2, "a": 1})


def test_intact_chain_verifies():
    events = build(SPECS)
    assert verify_chain(events) == (len(SPECS), None)
    assert verify_chain([]) == (0, None)
    assert verify_chain(iter(events)) == (len(SPECS), None)


@pytest.mark.parametrize("seq", [1, 2, 3, 5])
def test_tampered_data_reports_that_seq(seq):
    events = build(SPECS)
    events[seq - 1] = replace(events[seq - 1], data={**events[seq - 1].data, "tampered": True})
    assert verify_chain(events) == (seq - 1, seq)


@pytest.mark.parametrize("field", ["actor", "action", "subject", "occurred_at"])
def test_tampered_fields_report_that_seq(field):
    events = build(SPECS)
    events[2] = replace(events[2], **{field: "forged"})
    assert verify_chain(events) == (2, 3)


def test_rehashed_tampering_breaks_the_next_link():
    """Recomputing the edited event's own hash does not help: the next event still points at the old one."""
    events = build(SPECS)
    forged = replace(events[1], data={"version": 99})
    forged = replace(
        forged,
        hash=event_hash(forged.prev_hash, forged.seq, forged.occurred_at, forged.actor, forged.action, forged.subject, forged.data),
    )
    events[1] = forged
    assert verify_chain(events) == (2, 3)


def test_deleted_event_is_detected():
    events = build(SPECS)
    del events[2]
    assert verify_chain(events) == (2, 4)


def test_reordered_events_are_detected():
    events = build(SPECS)
    events[1], events[2] = events[2], events[1]
    assert verify_chain(events) == (1, 3)


_data = st.dictionaries(
    st.text(max_size=8),
    st.one_of(st.integers(), st.text(max_size=20), st.booleans(), st.none(), st.lists(st.integers(), max_size=3)),
    max_size=4,
)
_specs = st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10), st.text(max_size=10), _data), max_size=12)


@settings(max_examples=200, deadline=None)
@given(_specs, st.data())
def test_any_data_tampering_reports_its_seq(specs, data):
    events = build(specs)
    assert verify_chain(events) == (len(specs), None)
    if not events:
        return
    seq = data.draw(st.integers(1, len(events)), label="seq")
    original = events[seq - 1]
    forged = {**original.data, "__forged__": "yes"}
    events[seq - 1] = replace(original, data=forged)
    assert verify_chain(events) == (seq - 1, seq)
