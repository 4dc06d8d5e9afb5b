"""Concurrent editors on one base version: exactly one wins, the rest get a conflict."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, delete, select

from policyflow.core.errors import VersionConflict
from policyflow.db import make_session_factory, transaction
from policyflow.models import Event, Policy, PolicyVersion, User
from policyflow.services import policies
from policyflow.services.actors import Actor
from tests.conftest import STORE

EDITORS = 8


def test_concurrent_saves_on_one_base(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
        policies.create_policy(session, ombuds, STORE, code="RACE", title="Race", text="# Race\n\nBase.\n", summary="Base.")
    outcomes: list[str] = []
    barrier = threading.Barrier(EDITORS)

    def editor(index: int) -> None:
        barrier.wait()
        try:
            with transaction(factory) as session:
                user = session.scalar(select(User).where(User.username == "ombuds"))
                policy = policies.get_policy(session, Actor.of(user), "RACE")
                policies.save_version(session, Actor.of(user), STORE, policy, text=f"# Race\n\nEditor {index}.\n",
                                      summary=f"Editor {index}.", base_version=1)
            outcomes.append("saved")
        except VersionConflict as conflict:
            outcomes.append(f"conflict:{conflict.current_version}")

    threads = [threading.Thread(target=editor, args=(i,)) for i in range(EDITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert outcomes.count("saved") == 1
        assert sorted(outcomes)[:-1] == ["conflict:2"] * (EDITORS - 1)
        with transaction(factory) as session:
            policy = session.scalar(select(Policy).where(Policy.code == "RACE"))
            assert policy.head_version_number == 2
            numbers = session.scalars(select(PolicyVersion.number).where(PolicyVersion.policy_id == policy.id)).all()
            assert sorted(numbers) == [1, 2]
    finally:
        with transaction(factory) as session:
            policy = session.scalar(select(Policy).where(Policy.code == "RACE"))
            session.execute(delete(Event).where(Event.policy_id == policy.id))
            session.execute(delete(PolicyVersion).where(PolicyVersion.policy_id == policy.id))
            session.delete(policy)
