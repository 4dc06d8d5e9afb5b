"""Twenty people at the same moment on one policy: exactly one wins, the rest get a conflict, nothing is lost.

Each thread has its own session and transaction on committed data, on SQLite (BEGIN IMMEDIATE queues
the writers) and on PostgreSQL (row locks: review, then policy, then the audit chain).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from policyflow.core.errors import Conflict, VersionConflict
from policyflow.core.workflow import load_workflow
from policyflow.db import make_session_factory, transaction
from policyflow.models import Event, Notification, OutboxMessage, Policy, PolicyVersion, Review
from policyflow.resources import workflows_dir
from policyflow.services import audit, policies, reviews
from tests.conftest import BACKENDS, STORE
from tests.consistency import problems
from tests.reviewing import who

CLIENTS = 20
STANDARD = workflows_dir() / "standard-review.yaml"


def at_once(work: Callable[[int], str], clients: int = CLIENTS) -> list[str]:
    """Run ``work(i)`` in ``clients`` threads released together; their outcomes, in any order."""
    outcomes: list[str] = []
    barrier = threading.Barrier(clients)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes.append(work(index))
        except Exception as error:  # noqa: BLE001 - an unexpected error is an outcome the assertion shows
            outcomes.append(f"{type(error).__name__}: {error}"[:200])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(outcomes) == clients, "a client never finished (deadlock?)"
    return outcomes


@pytest.fixture
def committed(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that commit for real; the policies with codes starting RACE- are removed afterwards."""
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        last_event = session.scalar(select(func.max(Event.seq)))
    yield factory
    with transaction(factory) as session:
        session.execute(delete(Event).where(Event.seq > last_event))  # the chain cut back to where it was: still whole
        for policy in session.scalars(select(Policy).where(Policy.code.like("RACE-%"))):
            review_ids = select(Review.id).where(Review.policy_id == policy.id)
            for message in session.scalars(select(OutboxMessage)):
                if message.payload.get("review_id") in set(session.scalars(review_ids)):
                    session.delete(message)
            session.execute(delete(Notification).where(Notification.policy_id == policy.id))
            session.execute(delete(Review).where(Review.policy_id == policy.id))
            session.execute(delete(PolicyVersion).where(PolicyVersion.policy_id == policy.id))
            session.delete(policy)


def new_policy(factory: sessionmaker[Session], code: str) -> None:
    with transaction(factory) as session:
        policies.create_policy(session, who(session, "ombuds"), STORE, code=code, title="Race",
                               text="# Race\n\nBase text.\n", summary="Base.")


def test_twenty_editors_on_one_base_one_saves(committed: sessionmaker[Session]) -> None:
    new_policy(committed, "RACE-SAVE")

    def editor(index: int) -> str:
        try:
            with transaction(committed) as session:
                policy = policies.get_policy(session, who(session, "ombuds"), "RACE-SAVE")
                policies.save_version(session, who(session, "ombuds"), STORE, policy,
                                      text=f"# Race\n\nEditor {index} was here.\n", summary=f"Editor {index}.", base_version=1)
            return "saved"
        except VersionConflict as conflict:
            return f"conflict, now at {conflict.current_version}"

    outcomes = at_once(editor)
    assert sorted(outcomes) == ["conflict, now at 2"] * (CLIENTS - 1) + ["saved"]
    with transaction(committed) as session:
        policy = session.scalar(select(Policy).where(Policy.code == "RACE-SAVE"))
        assert policy.head_version_number == 2
        assert sorted(session.scalars(select(PolicyVersion.number).where(PolicyVersion.policy_id == policy.id))) == [1, 2]
        saved = [e for e in session.scalars(select(Event).where(Event.policy_id == policy.id))
                 if e.action == "policy.version_saved"]
        assert len(saved) == 1
        assert problems(session) == []  # every version rebuilds to its SHA-256; the audit chain holds


def test_twenty_review_starts_on_one_policy_one_starts(committed: sessionmaker[Session]) -> None:
    new_policy(committed, "RACE-START")
    definition = load_workflow(STANDARD)

    def starter(_index: int) -> str:
        try:
            with transaction(committed) as session:
                policy = policies.get_policy(session, who(session, "ombuds"), "RACE-START")
                reviews.start_review(session, who(session, "ombuds"), policy, definition)
            return "started"
        except Conflict:
            return "conflict"

    outcomes = at_once(starter)
    assert sorted(outcomes) == ["conflict"] * (CLIENTS - 1) + ["started"]
    with transaction(committed) as session:
        policy = session.scalar(select(Policy).where(Policy.code == "RACE-START"))
        assert len(session.scalars(select(Review).where(Review.policy_id == policy.id)).all()) == 1
        assert problems(session) == []


def save_while(committed: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, code: str,
               other: Callable[[Session], object]) -> dict[str, str]:
    """Save version 2 of ``code``, and once the save holds its locks and checked the stage, run ``other`` in a
    transaction of its own; the save goes on when ``other`` has committed or waits for a lock the save holds.

    PostgreSQL only: the wait is seen in pg_stat_activity, so the interleaving is the same on every run."""
    ready, checked, done = threading.Event(), threading.Event(), threading.Event()
    other_pid: list[int] = []
    original = reviews.text_may_change

    def checked_then_wait(session: Session, policy: Policy) -> None:
        original(session, policy)
        checked.set()
        ready.wait(60)
        with committed() as observer:
            while not done.is_set() and not observer.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid AND wait_event_type = 'Lock'"), {"pid": other_pid[0]}):
                observer.rollback()
                done.wait(0.02)

    outcomes: dict[str, str] = {}

    def outcome(name: str, work: Callable[[], object]) -> None:
        try:
            work()
            outcomes[name] = "done"
        except Exception as error:  # noqa: BLE001 - a refusal, a deadlock: the assertion shows it
            outcomes[name] = f"{type(error).__name__}: {error}"[:300]
        finally:
            if name == "other":
                done.set()

    def save() -> None:
        with transaction(committed) as session:
            policy = policies.get_policy(session, who(session, "ombuds"), code)
            policies.save_version(session, who(session, "ombuds"), STORE, policy, text="# Race\n\nChanged.\n",
                                  summary="Changed.", base_version=1)

    def run_other() -> None:
        with transaction(committed) as session:
            other_pid.append(session.scalar(text("SELECT pg_backend_pid()")))
            ready.set()
            checked.wait(60)
            other(session)

    monkeypatch.setattr(reviews, "text_may_change", checked_then_wait)
    threads = [threading.Thread(target=outcome, args=("other", run_other)), threading.Thread(target=outcome, args=("save", save))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


# PostgreSQL only: SQLite runs one writing transaction at a time (BEGIN IMMEDIATE), so these interleavings cannot
# happen there. Without PostgreSQL the parameter set is empty (a skip); CI always has it (conftest).
postgresql_only = pytest.mark.parametrize("engine", [backend for backend in BACKENDS if backend == "postgresql"],
                                          indirect=True)


@postgresql_only
def test_a_save_racing_a_stage_change_never_edits_a_locked_stage(committed: sessionmaker[Session],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """An editor saves in draft while a colleague submits the review for equity review: the submission waits for the
    save and is of the new text (it used to slip in between, leaving new text under an equity review of the old one)."""
    new_policy(committed, "RACE-STAGE")
    with transaction(committed) as session:
        policy = policies.get_policy(session, who(session, "ombuds"), "RACE-STAGE")
        review_id = reviews.start_review(session, who(session, "ombuds"), policy, load_workflow(STANDARD)).id

    outcomes = save_while(committed, monkeypatch, "RACE-STAGE", lambda session: reviews.perform_action(
        session, who(session, "ombuds"), review_id, "submit_for_equity_review"))
    assert outcomes == {"save": "done", "other": "done"}
    with transaction(committed) as session:
        review = session.get(Review, review_id)
        assert review.state == "equity_review" and review.version_number == 2  # the equity review is of the new text
        submitted = session.scalars(select(Event).where(Event.subject == f"review:{review_id}",
                                                        Event.action == "review.action")).one()
        assert submitted.data["version"] == 2
        assert problems(session) == []


@postgresql_only
def test_a_change_recorded_against_a_policy_while_it_is_saved_does_not_deadlock(committed: sessionmaker[Session],
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Something else written to the audit trail about the policy (a note, a concern, a schedule) while the policy is
    saved: the save holds the policy row, the other change holds the audit chain and refers to the policy. The
    policy lock must not block a row that merely refers to the policy, or each waits for the other."""
    new_policy(committed, "RACE-AUDIT")
    with transaction(committed) as session:
        policy_id = session.scalar(select(Policy.id).where(Policy.code == "RACE-AUDIT"))

    outcomes = save_while(committed, monkeypatch, "RACE-AUDIT", lambda session: audit.record(
        session, who(session, "ombuds"), "policy.noted", "policy:RACE-AUDIT", policy_id=policy_id))
    assert outcomes == {"save": "done", "other": "done"}
    with transaction(committed) as session:
        actions = list(session.scalars(select(Event.action).where(Event.policy_id == policy_id).order_by(Event.seq)))
        assert actions == ["policy.created", "policy.noted", "policy.version_saved"]
        assert problems(session) == []
