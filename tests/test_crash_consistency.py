"""A process SIGKILLed in the middle of its work leaves the database consistent, and the work is done once.

Each test lets a child process (tests/crash_child.py) start real work on a committed database and kill
itself at a fixed point (a hook, never a timer), then checks the whole database (tests/consistency.py)
and finishes the work the way a person or a restarted worker would:

- a save or a review action killed before its commit leaves no trace, and doing it again works;
- a timed action killed inside the worker's job is done by the next worker once its claim lapses, once;
- an e-mail the SMTP server accepted just before the kill is sent again by the next worker, with the
  same Message-ID (at least once: SMTP offers nothing better; receivers drop the duplicate).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from policyflow import worker
from policyflow.db import make_session_factory, transaction
from policyflow.models import Event, OutboxMessage, Policy, PolicyVersion, Review
from policyflow.services import notifications, policies
from tests.conftest import REPO, STORE
from tests.consistency import problems
from tests.mailserver import SmtpServer, free_port
from tests.reviewing import NOW, act, complete_assessment, start, who

BASE = "https://policies.riverbend.example.org"
pytestmark = pytest.mark.slow  # each test starts a Python process


@pytest.fixture
def factory(committed_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(committed_engine)


def crash(engine: Engine, tmp_path: Path, scenario: str, target: object, **env: str) -> None:
    """Run the child; it must die by SIGKILL at its hook, and the database must be consistent afterwards."""
    child_env = {**os.environ, "POLICYFLOW_DATABASE_URL": engine.url.render_as_string(hide_password=False),
                 "POLICYFLOW_INSTANCE_PATH": str(tmp_path), "POLICYFLOW_BASE_URL": BASE, **env}
    if "POLICYFLOW_SMTP_URL" not in env:
        child_env.pop("POLICYFLOW_SMTP_URL", None)
    child = subprocess.run([sys.executable, "-m", "tests.crash_child", scenario, str(target)], env=child_env, cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, f"the child was not killed at its hook:\n{child.stdout}\n{child.stderr}"
    with transaction(make_session_factory(engine)) as session:
        assert problems(session) == []


def restart_worker(factory: sessionmaker[Session], now: datetime, smtp_url: str | None = None) -> worker.WorkerReport:
    """A new worker after the dead one's claim has lapsed."""
    return worker.run_once(factory, now=now + worker.LEASE + timedelta(minutes=1), smtp_url=smtp_url, base_url=BASE)


def test_a_save_killed_before_its_commit_leaves_no_trace(committed_engine: Engine, factory: sessionmaker[Session],
                                                         tmp_path: Path) -> None:
    with transaction(factory) as session:
        policies.create_policy(session, who(session, "ombuds"), STORE, code="CRASH-SAVE", title="Crash", text="# Crash\n\nOne.\n",
                               summary="First.")
    crash(committed_engine, tmp_path, "save", "CRASH-SAVE")
    with transaction(factory) as session:
        policy = session.scalar(select(Policy).where(Policy.code == "CRASH-SAVE"))
        assert policy.head_version_number == 1
        assert list(session.scalars(select(PolicyVersion.number).where(PolicyVersion.policy_id == policy.id))) == [1]
        assert [e.action for e in session.scalars(select(Event).where(Event.policy_id == policy.id))] == ["policy.created"]
        # Nothing is left locked: the author saves again on the same base.
        saved = policies.save_version(session, who(session, "ombuds"), STORE, policy, text="# Crash\n\nTwo.\n",
                                      summary="Again.", base_version=1)
        assert saved.created and saved.version.number == 2
    with transaction(factory) as session:
        assert problems(session) == []


def test_a_review_action_killed_halfway_leaves_the_review_as_it_was(committed_engine: Engine, factory: sessionmaker[Session],
                                                                    tmp_path: Path) -> None:
    with transaction(factory) as session:
        review_id = start(session, "CRASH-ACT").id
    crash(committed_engine, tmp_path, "action", review_id)
    with transaction(factory) as session:
        review = session.get(Review, review_id)
        assert (review.state, review.state_version, len(review.transitions)) == ("draft", 1, 1)
        assert not [m for m in session.scalars(select(OutboxMessage)) if m.payload.get("review_id") == review_id]
        assert not session.scalars(select(Event).where(Event.subject == f"review:{review_id}", Event.action == "review.action")).all()
        act(session, review, "ombuds", "submit_for_equity_review", now=datetime.now(UTC))
    with transaction(factory) as session:
        review = session.get(Review, review_id)
        assert (review.state, review.state_version, len(review.transitions)) == ("equity_review", 2, 2)
        assert problems(session) == []


def test_a_worker_killed_in_a_timed_action_does_it_once_after_restart(committed_engine: Engine, factory: sessionmaker[Session],
                                                                      tmp_path: Path) -> None:
    closes = NOW.date() + timedelta(days=5)
    with transaction(factory) as session:
        review = start(session, "CRASH-TIMED", comment_opens_on=NOW.date(), comment_closes_on=closes)
        act(session, review, "ombuds", "submit_for_equity_review")
        complete_assessment(session, review)
        act(session, review, "ombuds", "open_comment_period")
        review_id = review.id
    due = datetime(closes.year, closes.month, closes.day, tzinfo=UTC) + timedelta(days=1, hours=1)

    def timed_job(session: Session) -> OutboxMessage:
        return next(m for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "timed_action"))
                    if m.payload["review_id"] == review_id)

    crash(committed_engine, tmp_path, "timed-action", review_id, CRASH_NOW=due.isoformat())
    with transaction(factory) as session:
        review = session.get(Review, review_id)
        assert (review.state, len(review.transitions)) == ("stakeholder_comment", 3)  # the job's writes were rolled back
        job = timed_job(session)
        assert job.delivered_at is None and job.locked_until is not None  # still claimed by the dead worker

    assert restart_worker(factory, due).done >= 1
    assert restart_worker(factory, due + timedelta(hours=1)).claimed == 0  # nothing left to do, nothing done twice
    with transaction(factory) as session:
        review = session.get(Review, review_id)
        assert review.state == "approval"
        assert [t.action for t in review.transitions].count("close_comment_period") == 1
        closing = [e for e in session.scalars(select(Event).where(Event.subject == f"review:{review_id}"))
                   if e.data.get("action") == "close_comment_period"]
        assert len(closing) == 1 and closing[0].actor == "system"
        job = timed_job(session)
        assert job.delivered_at is not None and job.outcome == "close_comment_period -> approval"
        assert problems(session) == []


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def test_an_email_accepted_just_before_the_kill_is_sent_again_with_the_same_message_id(
        committed_engine: Engine, factory: sessionmaker[Session], tmp_path: Path, smtp: SmtpServer) -> None:
    subjects = [f"Crash mail {n}" for n in (1, 2, 3)]
    with transaction(factory) as session:
        for n, subject in enumerate(subjects):
            notifications.enqueue_email(session, to=f"family{n}@example.org", subject=subject, body="Hello.",
                                        dedupe_key=f"t:crash-mail:{n}", now=NOW + timedelta(microseconds=n))
    started = NOW + timedelta(minutes=1)

    crash(committed_engine, tmp_path, "email", "Crash mail 2", CRASH_NOW=started.isoformat(), POLICYFLOW_SMTP_URL=smtp.url)
    ours = [m for m in smtp.inbox.messages if str(m["Subject"]).startswith("Crash mail")]
    assert [str(m["Subject"]) for m in ours] == ["Crash mail 1", "Crash mail 2"]  # the server has 2; its row is not marked

    assert restart_worker(factory, started, smtp.url).sent >= 2
    assert restart_worker(factory, started + timedelta(hours=1), smtp.url).claimed == 0
    ours = [m for m in smtp.inbox.messages if str(m["Subject"]).startswith("Crash mail")]
    assert sorted(str(m["Subject"]) for m in ours) == ["Crash mail 1", "Crash mail 2", "Crash mail 2", "Crash mail 3"]
    ids = {subject: {str(m["Message-ID"]) for m in ours if m["Subject"] == subject} for subject in subjects}
    assert all(len(found) == 1 for found in ids.values()), ids  # the copy of "Crash mail 2" has the same Message-ID
    assert len(set.union(*ids.values())) == 3
    with transaction(factory) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("t:crash-mail:%"))).all()
        assert [(row.outcome, row.attempts) for row in rows] == [("sent", 0)] * 3
        assert problems(session) == []
