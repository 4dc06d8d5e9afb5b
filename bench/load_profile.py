"""Where a page's time goes: cProfile over repeated requests through the Flask test client, in-process.

    python bench/load_profile.py [--url URL] [--runs 30] [--top 25] PAGE ...

PAGE is one of: version, redline, triage, review, public (the pages of ``load_bench.py``, against the
same database). Prints the median wall time per request and the functions with the most cumulative
and internal time; findings go in ``bench/load_profile.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POLICYFLOW_INSTANCE_PATH", tempfile.mkdtemp(prefix="policyflow-profile-"))
os.environ.setdefault("POLICYFLOW_SECRET_KEY", "load-profile-secret")

from load_bench import DEFAULT_URL, PASSWORD, find_targets
from sqlalchemy import event

from policyflow.web import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="+", choices=("version", "redline", "triage", "review", "public"))
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    targets = find_targets(args.url)
    paths = {
        "version": f"/policies/{targets.big_policy}/versions/{targets.head}",
        "redline": f"/policies/{targets.big_policy}/diff?from={targets.head - 1}&to={targets.head}",
        "triage": f"/reviews/{targets.comment_review}/comments",
        "review": f"/reviews/{targets.review_page}",
        "public": f"/public/policies/{targets.public_policy}",
    }
    app = create_app({"DATABASE_URL": args.url, "WTF_CSRF_ENABLED": False})
    engine = app.config["SESSION_FACTORY"].kw["bind"]
    queries = [0]
    statement_times: dict[str, float] = {}
    started_at: list[float] = [0.0]

    def before(*_args: object) -> None:
        queries[0] += 1
        started_at[0] = time.perf_counter()

    def after(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        key = " ".join(statement.split())[:150]
        statement_times[key] = statement_times.get(key, 0.0) + time.perf_counter() - started_at[0]

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    client = app.test_client()
    for name in args.pages:
        if name != "public":
            client.post("/login", data={"username": "ombuds", "password": PASSWORD})
        else:
            client.get("/logout")
        path = paths[name]
        assert client.get(path).status_code == 200, path  # warm
        queries[0] = 0
        statement_times.clear()
        profiler = cProfile.Profile()
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            profiler.enable()
            response = client.get(path)
            profiler.disable()
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        print(f"\n=== {name} {path}: median {statistics.median(times) * 1000:.1f} ms, "
              f"{queries[0] / args.runs:.0f} queries per request, {len(response.data) // 1024} KB")
        for statement, seconds in sorted(statement_times.items(), key=lambda item: -item[1])[:8]:
            print(f"  {seconds / args.runs * 1000:6.1f} ms/request  {statement}")
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top // 2)


if __name__ == "__main__":
    main()
