"""The outbox worker against a real SMTP server (aiosmtpd on 127.0.0.1), with a moved clock, never sleeping.

The in-process tests share the rolled-back test transaction (``session_factory``), so they run on
SQLite and PostgreSQL; the process tests run ``policyflow worker`` on a SQLite instance of their own
and kill it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from policyflow import migrate, worker
from policyflow.db import make_engine, make_session_factory, transaction
from policyflow.models import Event, Notification, OutboxMessage, Review, User
from policyflow.services import comments, notifications, reviews
from tests import reviewing
from tests.mailserver import SmtpServer, free_port
from tests.reviewing import NOW, act, complete_assessment, who

BASE = "https://policies.riverbend.example.org"
CLI = [sys.executable, "-m", "policyflow.cli"]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.inbox.release.set()
    server.stop()


@pytest.fixture(autouse=True)
def _base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICYFLOW_BASE_URL", BASE)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """The test's session, over an outbox emptied of the demo data's messages (all rolled back after)."""
    session = session_factory()
    session.execute(delete(OutboxMessage))
    session.flush()
    yield session
    session.close()


def start(session: Session, code: str, **dates: date) -> Review:
    return reviewing.start(session, code, title="Homeless students",
                           text="# Enrollment\n\nStudents experiencing homelessness enroll at once.\n", **dates)


def run(factory: sessionmaker[Session], now: datetime, smtp_url: str | None) -> worker.WorkerReport:
    return worker.run_once(factory, now=now, smtp_url=smtp_url, base_url=BASE)


def messages(session: Session, kind: str | None = None) -> list[OutboxMessage]:
    session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    return list(session.scalars(query.where(OutboxMessage.kind == kind) if kind else query))


def deadline_notes(session: Session, review: Review) -> dict[str, list[str]]:
    """kind -> usernames, for the review's deadline notifications."""
    session.expire_all()
    rows = session.execute(select(Notification.kind, User.username).join(User, User.id == Notification.user_id)
                           .where(Notification.review_id == review.id,
                                  Notification.kind.in_(["deadline_near", "overdue"]))
                           .order_by(Notification.kind, User.username)).all()
    found: dict[str, list[str]] = {}
    for kind, username in rows:
        found.setdefault(kind, []).append(username)
    return found


# ---------------------------------------------------------------------------------------------
# E-mail
# ---------------------------------------------------------------------------------------------

def test_stage_emails_are_sent_once_with_a_stable_message_id(db: Session, session_factory: sessionmaker[Session],
                                                            smtp: SmtpServer) -> None:
    review = start(db, "WRK1")
    act(db, review, "ombuds", "submit_for_equity_review")
    report = run(session_factory, NOW + timedelta(minutes=1), smtp.url)
    assert (report.claimed, report.sent, report.retrying) == (2, 2, 0)  # the e-mails; the deadline jobs are not due
    received = {str(m["To"]): m for m in smtp.inbox.messages}
    assert set(received) == {"ombuds@riverbend.example.org", "reviewer@riverbend.example.org"}
    email = received["reviewer@riverbend.example.org"]
    assert email["Subject"] == "[policyflow] WRK1 Homeless students: Equity review"
    assert email["From"] == "policyflow@policies.riverbend.example.org"
    assert email["Auto-Submitted"] == "auto-generated"
    assert f"{BASE}/reviews/{review.id}" in email.get_content()
    sent = {m.payload["to"]: m for m in messages(db, "email")}
    row = sent["reviewer@riverbend.example.org"]
    assert str(email["Message-ID"]).strip() == worker.message_id(row.id, row.dedupe_key, "policies.riverbend.example.org")
    assert email["X-Policyflow-Outbox-Id"] == str(row.id)
    assert all(m.delivered_at == NOW + timedelta(minutes=1) and m.outcome == "sent" and m.locked_until is None
               for m in sent.values())

    again = run(session_factory, NOW + timedelta(minutes=2), smtp.url)
    assert again.claimed == 0 and len(smtp.inbox.messages) == 2


def test_smtp_failure_is_retried_with_backoff_then_delivered_once(db: Session, session_factory: sessionmaker[Session]) -> None:
    server = SmtpServer(free_port())  # nothing listens there yet
    notifications.enqueue_email(db, to="family@example.org", subject="Retry me", body="Hello.", dedupe_key="t:retry", now=NOW)
    db.flush()

    first = run(session_factory, NOW, server.url)
    assert (first.claimed, first.sent, first.retrying) == (1, 0, 1)
    [row] = messages(db)
    assert row.attempts == 1 and row.delivered_at is None and row.locked_until is None
    assert row.available_at == NOW + timedelta(minutes=1) and "ConnectionRefused" in (row.last_error or "")

    assert run(session_factory, NOW + timedelta(seconds=59), server.url).claimed == 0  # backing off
    second_try = NOW + timedelta(minutes=1)
    assert run(session_factory, second_try, server.url).retrying == 1
    [row] = messages(db)
    assert row.attempts == 2 and row.available_at == second_try + timedelta(minutes=2)

    server.start()
    try:
        assert run(session_factory, second_try + timedelta(minutes=1), server.url).claimed == 0
        delivered = run(session_factory, second_try + timedelta(minutes=2), server.url)
        assert (delivered.sent, delivered.retrying) == (1, 0)
        assert run(session_factory, second_try + timedelta(hours=5), server.url).claimed == 0
        assert server.inbox.subjects() == ["Retry me"]
    finally:
        server.stop()
    [row] = messages(db)
    assert row.delivered_at == second_try + timedelta(minutes=2) and row.attempts == 2 and row.outcome == "sent"


def test_backoff_grows_exponentially_up_to_an_hour() -> None:
    assert [worker.backoff(n) for n in (1, 2, 3, 6, 7, 20)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=32), timedelta(hours=1),
        timedelta(hours=1)]


def test_a_refused_recipient_fails_for_good(db: Session, session_factory: sessionmaker[Session], smtp: SmtpServer) -> None:
    smtp.inbox.refuse.add("nobody@example.org")
    notifications.enqueue_email(db, to="nobody@example.org", subject="Bounce", body="x", dedupe_key="t:bounce", now=NOW)
    notifications.enqueue_email(db, to="family@example.org", subject="Fine", body="x", dedupe_key="t:fine", now=NOW)
    db.flush()
    report = run(session_factory, NOW, smtp.url)
    assert (report.sent, report.failed, report.retrying) == (1, 1, 0)
    bounced = next(m for m in messages(db) if m.dedupe_key == "t:bounce")
    assert bounced.failed_at == NOW and bounced.delivered_at is None and "550" in (bounced.last_error or "")
    assert run(session_factory, NOW + timedelta(days=1), smtp.url).claimed == 0
    assert smtp.inbox.subjects() == ["Fine"]


def test_a_malformed_email_fails_for_good(db: Session, session_factory: sessionmaker[Session], smtp: SmtpServer) -> None:
    notifications.enqueue(db, "email", {"subject": "No recipient"}, dedupe_key="t:malformed", available_at=NOW, now=NOW)
    db.flush()
    assert run(session_factory, NOW, smtp.url).failed == 1
    [row] = messages(db)
    assert row.failed_at == NOW and "cannot build the e-mail" in (row.last_error or "") and smtp.inbox.messages == []


def test_concurrent_workers_claim_each_message_once(engine: Engine, smtp: SmtpServer) -> None:
    """Four workers at once over committed data (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""
    factory = make_session_factory(engine)
    long_ago = datetime(2000, 1, 3, tzinfo=UTC)  # before anything the demo data queued: only these are due
    subjects = [f"Parallel {n:02d}" for n in range(40)]
    with transaction(factory) as session:
        for n, subject in enumerate(subjects):
            notifications.enqueue_email(session, to=f"p{n}@example.org", subject=subject, body="x",
                                        dedupe_key=f"t:parallel:{n}", now=long_ago)
    reports: list[worker.WorkerReport] = []
    barrier = threading.Barrier(4)

    def one_worker() -> None:
        barrier.wait()
        reports.append(worker.run_once(make_session_factory(engine), now=long_ago + timedelta(minutes=1),
                                       smtp_url=smtp.url, base_url=BASE, batch=3))

    threads = [threading.Thread(target=one_worker) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(reports) == 4
        assert sum(r.claimed for r in reports) == sum(r.sent for r in reports) == 40
        assert smtp.inbox.subjects() == subjects
    finally:
        with transaction(factory) as session:
            session.execute(delete(OutboxMessage).where(OutboxMessage.dedupe_key.like("t:parallel:%")))


def test_without_smtp_emails_wait_and_other_jobs_run(db: Session, session_factory: sessionmaker[Session],
                                                     smtp: SmtpServer) -> None:
    review = start(db, "WRK2")
    act(db, review, "ombuds", "submit_for_equity_review")
    report = run(session_factory, NOW + timedelta(days=21), None)
    assert report.done == 1 and report.dropped == 1  # overdue done; the reminder is moot once overdue
    assert report.emails_held == 4  # two for entering the stage, two overdue notices
    assert all(m.delivered_at is None and m.attempts == 0 and m.locked_until is None for m in messages(db, "email"))
    later = run(session_factory, NOW + timedelta(days=22), smtp.url)
    assert (later.sent, later.dropped, later.emails_held) == (2, 2, 0)  # the stage's e-mails are three weeks old
    assert smtp.inbox.subjects() == ["[policyflow] Overdue: WRK2 Homeless students (Equity review)"] * 2


def test_unwanted_and_expired_emails_are_dropped(db: Session, session_factory: sessionmaker[Session], smtp: SmtpServer) -> None:
    review = start(db, "WRK3")
    act(db, review, "ombuds", "submit_for_equity_review")
    notifications.set_email_preference(db, db.scalar(select(User).where(User.username == "reviewer")), False)
    notifications.enqueue_email(db, to="old@example.org", subject="Old", body="x", dedupe_key="t:old", now=NOW - timedelta(days=8))
    db.flush()
    report = run(session_factory, NOW, smtp.url)
    assert (report.sent, report.dropped) == (1, 2)
    assert [str(m["To"]) for m in smtp.inbox.messages] == ["ombuds@riverbend.example.org"]
    outcomes = sorted(m.outcome or "" for m in messages(db, "email"))
    assert outcomes == ["dropped: not sent within 7 days", "dropped: the recipient no longer receives e-mail", "sent"]


# ---------------------------------------------------------------------------------------------
# Deadlines and timed actions
# ---------------------------------------------------------------------------------------------

def test_reminder_and_overdue_notices_come_when_due(db: Session, session_factory: sessionmaker[Session],
                                                    smtp: SmtpServer) -> None:
    review = start(db, "WRK4")
    act(db, review, "ombuds", "submit_for_equity_review")  # due in 21 days
    run(session_factory, NOW, smtp.url)  # the stage's own e-mails
    smtp.inbox.messages.clear()

    assert run(session_factory, NOW + timedelta(days=19) - timedelta(seconds=1), smtp.url).claimed == 0
    assert deadline_notes(db, review) == {}

    near = run(session_factory, NOW + timedelta(days=19), smtp.url)
    assert near.done == 1 and near.sent == 2  # the job, then the e-mails it queued, in the same run
    assert deadline_notes(db, review) == {"deadline_near": ["ombuds", "reviewer"]}
    assert smtp.inbox.subjects() == ["[policyflow] Due soon: WRK4 Homeless students (Equity review)"] * 2

    assert run(session_factory, NOW + timedelta(days=21) - timedelta(seconds=1), smtp.url).claimed == 0
    late = run(session_factory, NOW + timedelta(days=21), smtp.url)
    assert late.done == 1 and late.sent == 2
    assert deadline_notes(db, review) == {"deadline_near": ["ombuds", "reviewer"], "overdue": ["ombuds", "reviewer"]}
    body = " ".join(smtp.inbox.messages[-1].get_content().split())
    assert "was due on Monday 23 March 2026 and is now overdue." in body and f"{BASE}/reviews/{review.id}" in body
    assert run(session_factory, NOW + timedelta(days=60), smtp.url).claimed == 0  # each exactly once


def test_jobs_of_a_stage_the_review_left_are_dropped_as_stale(db: Session, session_factory: sessionmaker[Session]) -> None:
    review = start(db, "WRK5")
    act(db, review, "ombuds", "submit_for_equity_review")
    act(db, review, "ombuds", "return_to_draft", "Add the transportation section.", now=NOW + timedelta(days=1))
    report = run(session_factory, NOW + timedelta(days=30), None)
    assert report.dropped == 2 and report.done == 0
    assert {m.outcome for m in messages(db) if m.kind in ("reminder", "overdue")} == {"stale: the review moved on"}
    assert deadline_notes(db, review) == {}


def test_timed_action_closes_the_comment_period_at_the_deadline(db: Session, session_factory: sessionmaker[Session],
                                                                smtp: SmtpServer) -> None:
    closes = (NOW + timedelta(days=20)).date()
    review = start(db, "WRK6", comment_opens_on=NOW.date(), comment_closes_on=closes)
    act(db, review, "ombuds", "submit_for_equity_review")
    complete_assessment(db, review)
    act(db, review, "ombuds", "open_comment_period")  # closed automatically when the period ends

    run(session_factory, NOW + timedelta(days=20), smtp.url)  # the last day of the period: still open
    db.expire_all()
    assert review.state == "stakeholder_comment"

    due = datetime(closes.year, closes.month, closes.day, tzinfo=UTC) + timedelta(days=1)  # the first moment after the closing date
    report = run(session_factory, due, smtp.url)
    db.expire_all()
    assert review.state == "approval" and report.done >= 1
    last = review.transitions[-1]
    assert (last.action, last.actor, last.occurred_at) == ("close_comment_period", "system", due)
    assert "reached its deadline" in (last.note or "")
    event = db.scalar(select(Event).where(Event.subject == f"review:{review.id}").order_by(Event.seq.desc()).limit(1))
    assert event is not None and event.actor == "system" and event.data["to"] == "approval"
    timed = next(m for m in messages(db, "timed_action") if f"review-{review.id}:" in m.dedupe_key)
    assert timed.delivered_at == due and timed.outcome == "close_comment_period -> approval"
    # Entering approval asked leadership for a decision, by e-mail too.
    assert sorted(str(m["To"]) for m in smtp.inbox.messages if "Decision needed" in str(m["Subject"])) == [
        "leader1@riverbend.example.org", "leader2@riverbend.example.org"]
    assert run(session_factory, due + timedelta(minutes=5), smtp.url).done == 0
    assert len(review.transitions) == 4


def test_timed_action_waits_until_every_comment_is_answered(db: Session, session_factory: sessionmaker[Session]) -> None:
    closes = (NOW + timedelta(days=10)).date()
    review = start(db, "WRK7", comment_opens_on=NOW.date(), comment_closes_on=closes)
    act(db, review, "ombuds", "submit_for_equity_review")
    complete_assessment(db, review)
    act(db, review, "ombuds", "open_comment_period")
    sent = comments.submit(db, who(db, "stakeholder"), review.id, body="Please add bus passes for foster youth.",
                           identity="public", allowed_categories=(), now=NOW + timedelta(days=2)).comment
    db.commit()
    due = datetime(closes.year, closes.month, closes.day, tzinfo=UTC) + timedelta(days=1)
    report = run(session_factory, due, None)
    assert report.waiting == 1
    timed = next(m for m in messages(db, "timed_action") if f"review-{review.id}:" in m.dedupe_key)
    assert timed.attempts == 0 and timed.delivered_at is None and timed.available_at == due + timedelta(hours=1)
    assert "1 comment(s) have no disposition yet" in (timed.last_error or "")
    db.expire_all()
    assert review.state == "stakeholder_comment"
    comments.set_disposition(db, who(db, "ombuds"), sent.id, disposition="accepted", response="Added in section 3.")
    db.commit()
    run(session_factory, due + timedelta(hours=2), None)
    db.expire_all()
    assert review.state == "approval"


def test_timed_action_is_stale_once_someone_acted(db: Session, session_factory: sessionmaker[Session]) -> None:
    review = start(db, "WRK8", comment_opens_on=NOW.date(), comment_closes_on=(NOW + timedelta(days=10)).date())
    act(db, review, "ombuds", "submit_for_equity_review")
    complete_assessment(db, review)
    act(db, review, "ombuds", "open_comment_period")
    act(db, review, "ombuds", "close_comment_period", now=NOW + timedelta(days=12))
    run(session_factory, NOW + timedelta(days=31), None)
    db.expire_all()
    assert review.state == "approval" and len(review.transitions) == 4
    timed = next(m for m in messages(db, "timed_action") if f"review-{review.id}:" in m.dedupe_key)
    assert timed.outcome == "stale: the review moved on"


def test_a_claimed_message_waits_for_its_lease(db: Session, session_factory: sessionmaker[Session], smtp: SmtpServer) -> None:
    notifications.enqueue_email(db, to="family@example.org", subject="Leased", body="x", dedupe_key="t:lease", now=NOW)
    db.flush()
    [row] = messages(db)
    row.locked_until = NOW + timedelta(minutes=5)  # another worker holds it (or held it, then died)
    db.flush()
    assert run(session_factory, NOW + timedelta(minutes=4), smtp.url).claimed == 0
    assert run(session_factory, NOW + timedelta(minutes=6), smtp.url).sent == 1
    assert smtp.inbox.subjects() == ["Leased"]


def test_smtp_urls() -> None:
    assert worker.parse_smtp_url("smtp://mail.example.org") == worker.SmtpTarget("mail.example.org", 25, "plain")
    assert worker.parse_smtp_url("smtp+starttls://ombuds%40d.org:p%40ss@mail.example.org?from=policies@d.org") == \
        worker.SmtpTarget("mail.example.org", 587, "starttls", "ombuds@d.org", "p@ss", "policies@d.org")
    assert worker.parse_smtp_url("smtps://u:p@mail.example.org:2465").port == 2465
    for bad in ("http://mail.example.org", "smtp://", "smtp://host:notaport"):
        with pytest.raises(ValueError, match="POLICYFLOW_SMTP_URL"):
            worker.parse_smtp_url(bad)


# ---------------------------------------------------------------------------------------------
# The worker as a process
# ---------------------------------------------------------------------------------------------

def _instance(tmp_path: Path, smtp_url: str | None) -> tuple[dict[str, str], sessionmaker[Session]]:
    instance = tmp_path / "instance"
    instance.mkdir()
    engine = make_engine(f"sqlite:///{instance / 'policyflow.sqlite3'}")
    migrate.upgrade(engine)
    env = {**os.environ, "POLICYFLOW_INSTANCE_PATH": str(instance), "POLICYFLOW_BASE_URL": BASE}
    env.pop("POLICYFLOW_DATABASE_URL", None)
    env.pop("POLICYFLOW_SMTP_URL", None)
    if smtp_url:
        env["POLICYFLOW_SMTP_URL"] = smtp_url
    return env, make_session_factory(engine)


def _wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(tmp_path: Path, smtp: SmtpServer) -> None:
    env, factory = _instance(tmp_path, smtp.url)
    subjects = [f"Message {n}" for n in range(1, 6)]
    now = datetime.now(UTC)
    with transaction(factory) as session:
        for n, subject in enumerate(subjects):
            notifications.enqueue_email(session, to=f"person{n}@example.org", subject=subject, body="Hello.",
                                        dedupe_key=f"t:kill:{n}", now=now + timedelta(microseconds=n))
    smtp.inbox.stall_subject = "Message 3"  # the worker is killed while the server holds this one

    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen([*CLI, "worker", "--interval", "0.2"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert smtp.inbox.stalled.wait(60), (tmp_path / "worker.log").read_text()
        process.kill()  # SIGKILL: no clean-up of any kind
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    smtp.inbox.release.set()
    assert smtp.inbox.subjects() == ["Message 1", "Message 2"]
    with transaction(factory) as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [row.delivered_at is not None for row in rows] == [True, True, False, False, False]
        assert all(row.locked_until is not None and row.locked_until > now for row in rows[2:])  # the dead worker's claim

    # A new worker leaves the dead one's claim alone until its lease runs out, then finishes the work.
    first = subprocess.run([*CLI, "worker", "--once"], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "claimed 0" in first.stdout, first.stderr
    later = (datetime.now(UTC) + worker.LEASE + timedelta(seconds=30)).isoformat()
    second = subprocess.run([*CLI, "worker", "--once", "--now", later], env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0 and "sent 3" in second.stdout, second.stdout + second.stderr

    assert smtp.inbox.subjects() == subjects  # every message, each exactly once
    assert len({str(m["Message-ID"]).strip() for m in smtp.inbox.messages}) == 5
    with transaction(factory) as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert all(row.delivered_at is not None and row.outcome == "sent" and row.attempts == 0 for row in rows)


@pytest.mark.slow
def test_the_worker_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env, _factory = _instance(tmp_path, None)
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([*CLI, "worker", "--interval", "60"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for(lambda: "worker started" in log_path.read_text(), 60, "the worker to start")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0  # woke from its 60-second wait at once
        finally:
            if process.poll() is None:
                process.kill()
    output = log_path.read_text()
    assert "POLICYFLOW_SMTP_URL is not set" in output and "received SIGTERM" in output and "worker stopped" in output


def test_periodic_reviews_start_when_the_review_date_is_near(db: Session, session_factory: sessionmaker[Session]) -> None:
    from policyflow.models import Policy
    from policyflow.resources import workflows_dir

    periodic = worker.PeriodicReviews(workflows_dir(), lead_days=60)
    in_flight = set(db.scalars(select(Review.policy_id).where(Review.ended_at.is_(None))))
    published = db.scalars(select(Policy).where(Policy.published_version_number.is_not(None))
                           .where(Policy.id.not_in(in_flight)).order_by(Policy.code)).all()
    assert len(published) >= 3
    soon, later, owned = published[0], published[1], published[2]
    for policy in published:
        policy.next_review_date = NOW.date() + timedelta(days=400)
    soon.next_review_date = NOW.date() + timedelta(days=59)
    owned.next_review_date = NOW.date() - timedelta(days=3)  # overdue
    owned.owner_id = reviewing.user(db, "leader2").id
    later.next_review_date = NOW.date() + timedelta(days=61)
    db.commit()
    report = worker.run_once(session_factory, now=NOW, smtp_url=None, base_url=BASE, periodic=periodic)
    assert report.periodic_started == 2 and "periodic started 2" in report.summary()
    db.expire_all()
    started = {r.policy.code: r for r in db.scalars(select(Review).where(Review.workflow_name == "periodic-review",
                                                                          Review.ended_at.is_(None)))}
    assert set(started) == {soon.code, owned.code}
    assert started[owned.code].state == "scheduled_review" and started[owned.code].transitions[0].actor == "system"
    # The owner hears about their policy; a policy without an owner goes to ombuds staff.
    told = {(n.user_id, n.policy_id) for n in db.scalars(select(Notification).where(Notification.kind == "periodic_review"))}
    assert (reviewing.user(db, "leader2").id, owned.id) in told and (reviewing.user(db, "ombuds").id, soon.id) in told
    assert (reviewing.user(db, "ombuds").id, owned.id) not in told
    # Nothing starts twice; the later one starts once its date comes within the lead time.
    assert worker.run_once(session_factory, now=NOW, smtp_url=None, base_url=BASE, periodic=periodic).periodic_started == 0
    assert worker.run_once(session_factory, now=NOW + timedelta(days=2), smtp_url=None, base_url=BASE,
                           periodic=periodic).periodic_started == 1
    overdue = reviews.overdue_periodic_reviews(db, NOW.date())
    assert owned.code in [p.code for p in overdue] and soon.code not in [p.code for p in overdue]
    # The review is of the published text, and one withdrawn this cycle is not started again.
    review = started[owned.code]
    assert review.version_number == owned.published_version_number
    reviews.perform_action(db, reviewing.who(db, "ombuds"), review.id, "withdraw", "Not this year.", now=NOW)
    db.commit()
    assert worker.run_once(session_factory, now=NOW + timedelta(days=3), smtp_url=None, base_url=BASE,
                           periodic=periodic).periodic_started == 0


def test_the_worker_deletes_concern_notes_when_retention_ends(db: Session, session_factory: sessionmaker[Session]) -> None:
    from policyflow.core.vocabulary import DEFAULT_CONCERN_THEMES
    from policyflow.models import ConcernNote
    from policyflow.services import concerns

    ombuds = reviewing.who(db, "ombuds")
    concern = concerns.record(db, ombuds, received_on=NOW.date(), channel="walk_in", raised_by="student",
                              summary="A student was sent home for a uniform violation.", themes=["discipline"],
                              name="A student", allowed_themes=DEFAULT_CONCERN_THEMES, allowed_subgroups=(), now=NOW)
    concerns.add_note(db, ombuds, concern.id, "Met with the assistant principal.", now=NOW)
    concerns.set_status(db, ombuds, concern.id, "resolved", outcome="Returned to class the same day.", now=NOW)
    db.commit()
    report = worker.run_once(session_factory, now=NOW + timedelta(days=31), smtp_url=None, base_url=BASE,
                             concern_retention_days=30)
    assert report.concerns_purged == 1 and "concerns purged 1" in report.summary()
    db.expire_all()
    assert db.scalars(select(ConcernNote).where(ConcernNote.concern_id == concern.id)).all() == []
