"""Backup and restore times: the demo data, and the demo data plus N comments.

    python bench/backup_bench.py [--comments N] [--runs N] [--postgres URL]

For each data set the script builds a SQLite database with the migrations and the demo data (plus N
comments on JFABE's open review, bulk-loaded by ``comments_bench`` and indexed with
``search.rebuild``), then times ``backup`` to .jsonl, .jsonl.gz and .sqlite3, and ``restore`` of the
.jsonl.gz into a fresh SQLite file and, with PostgreSQL (``--postgres`` or
POLICYFLOW_TEST_DATABASE_URL), into a fresh schema. A restore's time includes creating the schema
and the verification (every version rebuilt, the audit chain). Figures are medians of ``--runs``
runs; the script reports and never asserts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from comments_bench import load_comments, prepare
from report import print_table
from workflow_bench import drop, fresh_database

from policyflow import backup
from policyflow.db import make_engine, make_session_factory, transaction
from policyflow.services import search


def timed_runs(runs: int, action) -> float:  # type: ignore[no-untyped-def]
    times = []
    for run in range(runs):
        start = time.perf_counter()
        action(run)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def restore_into(kind: str, pg_url: str | None, source: Path) -> None:
    url, cleanup = fresh_database(kind, pg_url)
    engine = make_engine(url)
    try:
        backup.restore(engine, source)
    finally:
        engine.dispose()
        drop(cleanup)
        if kind == "sqlite":
            shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)


def bench(label: str, comments: int, runs: int, pg_url: str | None, folder: Path) -> list[list[str]]:
    url, _cleanup = fresh_database("sqlite", None)
    prepare(url)
    if comments:
        load_comments(url, comments)
        engine = make_engine(url)
        with transaction(make_session_factory(engine)) as session:
            search.rebuild(session)
        engine.dispose()
    engine = make_engine(url)
    rows = []
    for suffix in (".jsonl", ".jsonl.gz", ".sqlite3"):
        def run_backup(run: int, suffix: str = suffix) -> None:
            backup.backup(engine, folder / f"{label}-{run}{suffix}")

        seconds = timed_runs(runs, run_backup)
        size = (folder / f"{label}-0{suffix}").stat().st_size
        rows.append([label, f"backup {suffix}", f"{seconds:.2f}", f"{size / 1e6:.1f} MB"])
    engine.dispose()
    source = folder / f"{label}-0.jsonl.gz"
    targets = ["sqlite"] + (["postgresql"] if pg_url else [])
    for kind in targets:
        seconds = timed_runs(runs, lambda _run, kind=kind: restore_into(kind, pg_url, source))
        rows.append([label, f"restore .jsonl.gz into {kind}", f"{seconds:.2f}", ""])
    shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=50_000, help="extra comments in the large data set")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("POLICYFLOW_TEST_DATABASE_URL"))
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pf-backup-bench-"))
    try:
        rows = bench("demo", 0, options.runs, options.postgres, folder)
        rows += bench(f"demo+{options.comments:,}", options.comments, options.runs, options.postgres, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print_table(["data", "operation", "median s", "file size"], rows)


if __name__ == "__main__":
    main()
