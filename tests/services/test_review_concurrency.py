"""Twenty people acting on one review at the same moment: one transition, nineteen clean conflicts.

Once through the service layer (one transaction per thread) and once as real HTTP requests to a
running server, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

from sqlalchemy import Engine, delete, func, select
from werkzeug.serving import make_server

from policyflow.core.errors import Conflict
from policyflow.core.workflow import load_workflow
from policyflow.db import make_session_factory, transaction
from policyflow.models import ApiToken, Event, Notification, OutboxMessage, Policy, PolicyVersion, Review, User
from policyflow.resources import workflows_dir
from policyflow.services import accounts, policies, reviews
from policyflow.services.actors import Actor
from policyflow.web import create_app
from tests.conftest import STORE

CLIENTS = 20


def _committed_review(engine: Engine, code: str) -> int:
    with transaction(make_session_factory(engine)) as session:
        ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
        version = policies.create_policy(session, ombuds, STORE, code=code, title="Race", text="# Race\n", summary="x")
        return reviews.start_review(session, ombuds, version.policy,
                                    load_workflow(workflows_dir() / "standard-review.yaml")).id


def _check_and_clean(engine: Engine, code: str, review_id: int, outcomes: list[str], moved: str, refused: str) -> None:
    factory = make_session_factory(engine)
    try:
        assert sorted(outcomes) == sorted([refused] * (CLIENTS - 1) + [moved])
        with transaction(factory) as session:
            review = session.get(Review, review_id)
            assert review.state == "equity_review" and review.state_version == 2
            assert [t.to_state for t in review.transitions] == ["draft", "equity_review"]
    finally:
        with transaction(factory) as session:
            policy = session.scalar(select(Policy).where(Policy.code == code))
            session.execute(delete(Notification).where(Notification.policy_id == policy.id))
            for message in session.scalars(select(OutboxMessage)):
                if message.payload.get("review_id") == review_id:
                    session.delete(message)
            session.execute(delete(Review).where(Review.policy_id == policy.id))
            # Cut the audit chain back to where the test began (the policy's first event), so it stays whole.
            first = session.scalar(select(func.min(Event.seq)).where(Event.policy_id == policy.id))
            session.execute(delete(Event).where(Event.seq >= first))
            session.execute(delete(PolicyVersion).where(PolicyVersion.policy_id == policy.id))
            session.delete(policy)


def test_simultaneous_http_requests(engine: Engine) -> None:
    review_id = _committed_review(engine, "RACE3")
    with transaction(make_session_factory(engine)) as session:
        token_row, token = accounts.create_token(session, session.scalar(select(User).where(User.username == "ombuds")),
                                                 "race")
    app = create_app({"DATABASE_URL": engine.url.render_as_string(hide_password=False), "SECRET_KEY": "race"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/reviews/{review_id}/actions"
    outcomes: list[str] = []
    barrier = threading.Barrier(CLIENTS)

    def client() -> None:
        request = urllib.request.Request(url, data=json.dumps({"action": "submit_for_equity_review"}).encode(),
                                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                outcomes.append(str(response.status))
        except urllib.error.HTTPError as error:
            body = json.loads(error.read())
            outcomes.append(f"{error.code} {body['type']}")

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    server.shutdown()
    with transaction(make_session_factory(engine)) as session:
        session.execute(delete(ApiToken).where(ApiToken.id == token_row.id))
    _check_and_clean(engine, "RACE3", review_id, outcomes, "200", "409 urn:policyflow:problem:conflict")


def test_simultaneous_submissions(engine: Engine) -> None:
    factory = make_session_factory(engine)
    review_id = _committed_review(engine, "RACE2")
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
    _check_and_clean(engine, "RACE2", review_id, outcomes, "moved", "conflict")
