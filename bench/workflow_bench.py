"""Workflow throughput: actions per second through the service layer, and POST /actions latency.

    python bench/workflow_bench.py [--quick] [--postgres URL]

Each figure runs on a fresh database built by the migrations and loaded with the demo data:
SQLite always, PostgreSQL when ``--postgres`` (or POLICYFLOW_TEST_DATABASE_URL) is given. The
review cycles between draft and equity review (submit, then return to draft with a note), so
every action is a real transition with its audit event.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, select, text
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policyflow import migrate
from policyflow.core.workflow import load_workflow
from policyflow.db import make_engine, make_session_factory, transaction
from policyflow.models import User
from policyflow.resources import workflows_dir
from policyflow.services import demo, policies, reviews
from policyflow.services.actors import Actor
from policyflow.web import create_app

CYCLE = (("submit_for_equity_review", ""), ("return_to_draft", "Benchmark: back to draft."))


def fresh_database(kind: str, pg_url: str | None) -> tuple[str, object]:
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="pf-bench-")
        return f"sqlite:///{folder}/bench.sqlite3", None
    schema = f"pf_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in pg_url else "?"
    return f"{pg_url}{separator}options=-csearch_path%3D{schema}", (admin, schema)


def drop(cleanup: object) -> None:
    if cleanup:
        admin, schema = cleanup
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def prepare(url: str, reviews_wanted: int) -> list[int]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    settings = policies.StoreSettings()
    with transaction(factory) as session:
        demo.load(session, settings)
    ids = []
    definition = load_workflow(workflows_dir() / "standard-review.yaml")
    with transaction(factory) as session:
        ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
        for index in range(reviews_wanted):
            version = policies.create_policy(session, ombuds, settings, code=f"BENCH{index}", title=f"Bench {index}",
                                             text=f"# Bench {index}\n\nText.\n", summary="Bench.")
            ids.append(reviews.start_review(session, ombuds, version.policy, definition).id)
    engine.dispose()
    return ids


def service_throughput(url: str, review_id: int, actions: int) -> float:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        user_id = session.scalar(select(User.id).where(User.username == "ombuds"))
    started = time.perf_counter()
    for index in range(actions):
        action, note = CYCLE[index % 2]
        with transaction(factory) as session:
            reviews.perform_action(session, Actor.of(session.get(User, user_id)), review_id, action, note)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return actions / elapsed


def http_latency(url: str, review_ids: list[int], per_client: int) -> list[float]:
    os.environ["POLICYFLOW_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="pf-bench-inst-")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}/api/v1"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def call(path: str, body: dict, token: str | None = None) -> dict:
        request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {token}"} if token else {})})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    token = call("/tokens", {"username": "ombuds", "password": demo.DEMO_PASSWORD})["token"]
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(review_ids))

    def client(review_id: int) -> None:
        barrier.wait()
        for index in range(per_client):
            action, note = CYCLE[index % 2]
            started = time.perf_counter()
            call(f"/reviews/{review_id}/actions", {"action": action, "note": note}, token)
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client, args=(rid,)) for rid in review_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.shutdown()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer actions")
    parser.add_argument("--postgres", default=os.environ.get("POLICYFLOW_TEST_DATABASE_URL"))
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    actions = 60 if args.quick else 300
    per_client = 4 if args.quick else 10
    clients = 20
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    print(f"policyflow workflow benchmark; {os.cpu_count()} CPU(s); {actions} service actions, "
          f"{clients} HTTP clients x {per_client} actions")
    print(f"{'database':<12} {'service actions/s':>18} {'POST /actions median':>22} {'p90':>10} {'HTTP actions/s':>15}")
    for kind in kinds:
        url, cleanup = fresh_database(kind, args.postgres)
        try:
            ids = prepare(url, clients + 1)
            rate = service_throughput(url, ids[0], actions)
            started = time.perf_counter()
            latencies = http_latency(url, ids[1:], per_client)
            wall = time.perf_counter() - started
            latencies.sort()
            print(f"{kind:<12} {rate:>18.1f} {statistics.median(latencies) * 1000:>19.1f} ms "
                  f"{latencies[int(len(latencies) * 0.9)] * 1000:>7.1f} ms {len(latencies) / wall:>15.1f}")
        finally:
            drop(cleanup)


if __name__ == "__main__":
    main()
