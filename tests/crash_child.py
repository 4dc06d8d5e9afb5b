"""A process that does one real piece of work and SIGKILLs itself at a chosen point in the middle of it.

Run by tests/test_crash_consistency.py as ``python -m tests.crash_child SCENARIO TARGET`` with
``POLICYFLOW_DATABASE_URL`` (and, for the worker, ``CRASH_NOW`` and ``POLICYFLOW_SMTP_URL``) in the
environment. The kill comes from a hook at a known point, never from a timer, so it always lands
in the same place:

- ``save CODE``: saving version 2 of policy CODE, once every row is written, before the commit;
- ``action REVIEW_ID``: submitting review REVIEW_ID for equity review, right after its state row changed
  (before the timeline, the notifications, the outbox and the audit event are written);
- ``timed-action REVIEW_ID``: ``policyflow worker --once``, once the worker closed REVIEW_ID's comment period,
  before the job is marked done and committed;
- ``email SUBJECT``: ``policyflow worker --once``, once the SMTP server accepted the e-mail SUBJECT ("250"),
  before the outbox row is marked sent.

A child that reaches the end without being killed exits 0, which the test reports as a failure.
"""

from __future__ import annotations

import os
import signal
import sys
from email.message import EmailMessage
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from policyflow import cli, worker
from policyflow.db import make_engine, make_session_factory, transaction
from policyflow.models import User
from policyflow.services import policies, reviews
from policyflow.services.actors import Actor
from policyflow.services.policies import StoreSettings


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _ombuds(session: Session) -> Actor:
    return Actor.of(session.scalar(select(User).where(User.username == "ombuds")))


def save(code: str) -> None:
    event.listen(Session, "before_commit", lambda _session: die())
    with transaction(make_session_factory(make_engine(os.environ["POLICYFLOW_DATABASE_URL"]))) as session:
        policy = policies.get_policy(session, _ombuds(session), code)
        policies.save_version(session, _ombuds(session), StoreSettings(keyframe_interval=3), policy,
                              text="# Crash\n\nThe text of the save that never committed.\n", summary="Lost.", base_version=1)


def action(review_id: str) -> None:
    engine = make_engine(os.environ["POLICYFLOW_DATABASE_URL"])

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE reviews SET state="):
            die()

    with transaction(make_session_factory(engine)) as session:
        reviews.perform_action(session, _ombuds(session), int(review_id), "submit_for_equity_review")


def timed_action(review_id: str) -> None:
    job = worker._JOBS["timed_action"]

    def run_then_die(session: Session, payload: dict[str, Any], now: Any, base_url: str) -> str:
        outcome = job(session, payload, now, base_url)
        if payload["review_id"] == int(review_id):
            session.flush()
            die()
        return outcome

    worker._JOBS["timed_action"] = run_then_die
    cli.main(["worker", "--once", "--now", os.environ["CRASH_NOW"]], standalone_mode=False)


def email(subject: str) -> None:
    send = worker.Mailer.send

    def send_then_die(mailer: worker.Mailer, message: EmailMessage) -> None:
        send(mailer, message)  # returns once the server said "250 accepted"
        if message["Subject"] == subject:
            die()

    worker.Mailer.send = send_then_die  # type: ignore[method-assign]
    cli.main(["worker", "--once", "--now", os.environ["CRASH_NOW"]], standalone_mode=False)


SCENARIOS = {"save": save, "action": action, "timed-action": timed_action, "email": email}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]](sys.argv[2])
