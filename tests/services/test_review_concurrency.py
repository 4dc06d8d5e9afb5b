"""Twenty people acting on one review at the same moment: one transition, nineteen clean conflicts."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, delete, select

from policyflow.core.errors import Conflict
from policyflow.core.workflow import load_workflow
from policyflow.db import make_session_factory, transaction
from policyflow.models import Event, Policy, PolicyVersion, Review, User
from policyflow.resources import workflows_dir
from policyflow.services import policies, reviews
from policyflow.services.actors import Actor
from tests.conftest import STORE

CLIENTS = 20


def test_simultaneous_submissions(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
        version = policies.create_policy(session, ombuds, STORE, code="RACE2", title="Race", text="# Race\n", summary="x")
        review_id = reviews.start_review(session, ombuds, version.policy,
                                         load_workflow(workflows_dir() / "standard-review.yaml")).id
    outcomes: list[str] = []
    barrier = threading.Barrier(CLIENTS)

    def client() -> None:
        barrier.wait()
        try:
            with transaction(factory) as session:
                user = session.scalar(select(User).where(User.username == "ombuds"))
                reviews.perform_action(session, Actor.of(user), review_id, "submit_for_equity_review")
            outcomes.append("moved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert sorted(outcomes) == ["conflict"] * (CLIENTS - 1) + ["moved"]
        with transaction(factory) as session:
            review = session.get(Review, review_id)
            assert review.state == "equity_review" and review.state_version == 2
            assert [t.to_state for t in review.transitions] == ["draft", "equity_review"]
    finally:
        with transaction(factory) as session:
            policy = session.scalar(select(Policy).where(Policy.code == "RACE2"))
            session.execute(delete(Review).where(Review.policy_id == policy.id))
            session.execute(delete(Event).where(Event.policy_id == policy.id))
            session.execute(delete(PolicyVersion).where(PolicyVersion.policy_id == policy.id))
            session.delete(policy)
