"""Full-text search at scale: the demo data plus 50,000 comments on one review; search times per role.

    python bench/search_bench.py [--quick] [--comments N] [--runs N] [--postgres URL] [--only KIND]

For each backend (SQLite always; PostgreSQL when ``--postgres`` or POLICYFLOW_TEST_DATABASE_URL is
given, in a throwaway schema) the script builds a fresh database with the migrations, loads the demo
data, bulk-loads N comments on JFABE's open review with ``comments_bench`` (mass campaigns, every
identity mode, answered and hidden ones), indexes them with ``search.rebuild`` (timed), and times
``search.search`` for a mix of queries (a rare word, words every campaign letter holds, two words, a
commenter's name, nothing) as a visitor, a reviewer and ombuds staff; then it closes the comment
period, so the visitor's searches include the comments too, and times them again. It also times
``comments.submit`` with its index update and the page ``/search`` through a Flask test client.

Figures are medians and 95th percentiles (nearest rank) of wall times after one untimed warm-up
call. The script reports and never asserts: it exits 0 whatever the figures are.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from comments_bench import CATEGORIES, answer_and_close, load_comments, p95, prepare, timed
from report import print_table
from sqlalchemy import func, select, text
from workflow_bench import drop, fresh_database

from policyflow.db import make_engine, make_session_factory, transaction
from policyflow.models import Comment, SearchEntry, User
from policyflow.services import comments, search
from policyflow.services.actors import Actor
from policyflow.web import create_app

QUERIES = (
    ("rare word", "McKinney"),
    ("campaign words", "transportation"),
    ("two words", "school transportation"),
    ("three words, kind=comment", "bus first day", {"kinds": ["comment"]}),
    ("a commenter's name", "Maria"),
    ("no match", "zyzzyva"),
    ("page 5", "school", {"page": 5}),
)
ROLES = ("anonymous", "reviewer", "ombuds")


def actor(session: Any, role: str) -> Actor:
    if role == "anonymous":
        return Actor.anonymous()
    return Actor.of(session.scalar(select(User).where(User.username == role)))


def measure(factory: Any, runs: int, label: str) -> list[list[str]]:
    rows: list[list[str]] = []
    with transaction(factory) as session:
        for role in ROLES:
            who = actor(session, role)
            for query in QUERIES:
                name, words = query[0], query[1]
                options: dict[str, Any] = query[2] if len(query) > 2 else {}  # type: ignore[misc]
                found = search.search(session, who, words, **options)

                def call(who: Actor = who, words: str = words, options: dict[str, Any] = options) -> None:
                    search.search(session, who, words, **options)
                    session.expunge_all()

                times = timed(call, runs, warmup=1)
                rows.append([label, role, f"{name} ({words!r})", f"{found.total:,}",
                             f"{statistics.median(times) * 1000:.1f}", f"{p95(times) * 1000:.1f}"])
    return rows


def measure_page(url: str, runs: int) -> list[list[str]]:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    rows = []
    for role in ("anonymous", "ombuds"):
        client = app.test_client()
        if role != "anonymous":
            client.post("/login", data={"username": role, "password": "demo-password"})
        for words in ("transportation", "school transportation"):
            path = f"/search?q={words.replace(' ', '+')}"

            def get(client: Any = client, path: str = path) -> None:
                response = client.get(path)
                assert response.status_code == 200, response.status_code

            times = timed(get, runs, warmup=1)
            rows.append(["page", role, path, "", f"{statistics.median(times) * 1000:.1f}", f"{p95(times) * 1000:.1f}"])
    app.config["SESSION_FACTORY"].kw["bind"].dispose()
    return rows


def time_submits(factory: Any, review_id: int, count: int) -> list[float]:
    """``comments.submit`` with its index update; every submit in its own transaction, as a request would."""
    times = []
    for n in range(count):
        with transaction(factory) as session:
            started = time.perf_counter()
            comments.submit(session, Actor.anonymous(), review_id, body=f"Benchmark comment {n} about the school bus route.",
                            identity="anonymous", allowed_categories=tuple(term for term, _weight in CATEGORIES))
            session.flush()
            times.append(time.perf_counter() - started)
    return times


def tidy(engine: Any) -> None:
    """VACUUM and ANALYZE after a rebuild, as autovacuum would soon: rebuilding leaves a dead row per entry."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()


def run(kind: str, url: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    prepare(url)
    loaded = load_comments(url, args.comments)
    print(f"{kind}: demo and {loaded.comments:,} comments loaded in {time.perf_counter() - started:.1f} s")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        began = time.perf_counter()
        counts = search.rebuild(session)
        rebuilt = time.perf_counter() - began
    tidy(engine)
    with transaction(factory) as session:
        entries = session.scalar(select(func.count()).select_from(SearchEntry))
    print(f"{kind}: search.rebuild() indexed {entries:,} entries ({counts}) in {rebuilt:.1f} s")
    rows = measure(factory, args.runs, "period open")
    submits = time_submits(factory, loaded.review_id, args.submits)
    rows.append(["submit", "anonymous", "comments.submit() with index update", f"{len(submits)}",
                 f"{statistics.median(submits) * 1000:.1f}", f"{p95(submits) * 1000:.1f}"])
    answer_and_close(factory, loaded.review_id, [])
    with transaction(factory) as session:  # the bulk answers bypassed the services: index their responses
        search.rebuild(session)
        assert session.scalar(select(func.count()).where(Comment.review_id == loaded.review_id))
    tidy(engine)
    rows += measure(factory, args.runs, "report public")
    rows += measure_page(url, args.runs)
    engine.dispose()
    print()
    print_table([f"{kind}: when", "who", "query", "hits", "median ms", "p95 ms"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 comments and fewer runs")
    parser.add_argument("--comments", type=int, default=None, help="comments to bulk-load (default 50,000)")
    parser.add_argument("--runs", type=int, default=None, help="timed runs of each query (default 15)")
    parser.add_argument("--submits", type=int, default=None, help="comments submitted through the service (default 50)")
    parser.add_argument("--postgres", default=os.environ.get("POLICYFLOW_TEST_DATABASE_URL"))
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="run on one backend")
    args = parser.parse_args()
    args.comments = args.comments or (5_000 if args.quick else 50_000)
    args.runs = args.runs or (5 if args.quick else 15)
    args.submits = args.submits if args.submits is not None else (10 if args.quick else 50)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    if args.only:
        if args.only == "postgresql" and not args.postgres:
            parser.error("--only postgresql needs --postgres URL (or POLICYFLOW_TEST_DATABASE_URL)")
        kinds = [args.only]
    print(f"policyflow search benchmark; {os.cpu_count()} CPU(s); {args.comments:,} comments on one review; "
          f"{args.runs} runs per query")
    instance = None
    if not os.environ.get("POLICYFLOW_INSTANCE_PATH"):
        instance = tempfile.mkdtemp(prefix="pf-bench-inst-")
        os.environ["POLICYFLOW_INSTANCE_PATH"] = instance
    for kind in kinds:
        url, cleanup = fresh_database(kind, args.postgres)
        try:
            run(kind, url, args)
        finally:
            drop(cleanup)
            if kind == "sqlite":
                shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
    if instance:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
