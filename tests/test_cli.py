"""The ``policyflow`` command run as a user would: a real process on a fresh SQLite instance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from policyflow import migrate

CLI = [sys.executable, "-m", "policyflow.cli"]


def run(instance: Path, *args: str, check: bool = True, input_text: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "POLICYFLOW_INSTANCE_PATH": str(instance)}
    env.pop("POLICYFLOW_DATABASE_URL", None)
    env.pop("POLICYFLOW_SECRET_KEY", None)
    result = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, input=input_text, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


@pytest.mark.slow
def test_fresh_instance_end_to_end(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    head = migrate.head_revision()
    assert f"Database at revision {head}" in run(instance, "db", "upgrade").stdout
    demo = run(instance, "demo").stdout
    assert "Loaded 10 policies" in demo and "leader2" in demo and "demo-password" in demo
    assert "already has data" in run(instance, "demo").stdout
    (instance / "secret_key").stat()  # generated once, kept
    assert oct((instance / "secret_key").stat().st_mode)[-3:] == "600"

    created = run(instance, "users", "create", "newlegal", "--role", "reviewer", "--password", "a-long-password")
    assert "Created newlegal (reviewer)" in created.stdout
    refused = run(instance, "users", "create", "x", "--role", "wizard", "--password", "a-long-password", check=False)
    assert refused.returncode != 0

    token = run(instance, "tokens", "create", "newlegal").stdout.strip()
    assert token.startswith("pf_")
    assert "newlegal" in run(instance, "tokens", "list").stdout
    assert token not in run(instance, "tokens", "list").stdout

    folder = tmp_path / "imports"
    folder.mkdir()
    (folder / "new.md").write_text("---\ncode: CLI1\ntitle: From the command line\n---\n# CLI\n\nText.\n")
    assert "CLI1 version 1" in run(instance, "import", str(folder)).stdout
    (folder / "new.md").write_text("---\ncode: CLI1\ntitle: From the command line\nsummary: Edit.\n---\n# CLI\n\nMore.\n")
    (folder / "zbad.md").write_text("no front matter\n")
    failed = run(instance, "import", str(folder), check=False)
    assert failed.returncode == 1 and "zbad.md: no YAML front matter" in failed.stderr
    assert "Nothing was imported" in failed.stderr
    (folder / "zbad.md").unlink()
    assert "CLI1 version 2" in run(instance, "import", str(folder)).stdout

    assert "Audit trail intact" in run(instance, "audit", "verify").stdout
    rebuilt = run(instance, "search", "rebuild").stdout
    assert rebuilt.startswith("Search index rebuilt: ") and " comment entries." in rebuilt
    # Someone edits a past event directly in the database: the chain reports where.
    import sqlite3

    with sqlite3.connect(instance / "policyflow.sqlite3") as connection:
        connection.execute("UPDATE events SET actor = 'someone-else' WHERE seq = 5")
    tampered = run(instance, "audit", "verify", check=False)
    assert tampered.returncode == 1 and "BROKEN at event 5" in tampered.stderr
    assert run(instance, "db", "current").stdout.strip() == head

    assert "5 file(s) valid" in run(instance, "workflows", "check").stdout  # 3 workflows, word lists, assessment
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: Broken\ninitial: nowhere\nstages:\n  draft:\n    label: Draft\nactions: []\n")
    failed = run(instance, "workflows", "check", str(broken), check=False)
    assert failed.returncode == 1 and "broken.yaml:2:" in failed.stderr
    words = tmp_path / "vocabularies.yaml"
    words.write_text("annotation_tags:\n  equity: Equity\n  Bad Tag: no\ncomment_categories:\n  student: Student\n")
    failed = run(instance, "workflows", "check", str(words), check=False)
    assert failed.returncode == 1 and "vocabularies.yaml:3: the term 'Bad Tag'" in failed.stderr
    questions = tmp_path / "equity-assessment.yaml"
    questions.write_text("title: Equity\nsections:\n  - title: Purpose\n    questions:\n      - id: purpose\n"
                         "        label: Why?\n        type: essay\n")
    failed = run(instance, "workflows", "check", str(questions), check=False)
    assert failed.returncode == 1 and "equity-assessment.yaml:7: the type of question 'purpose' must be" in failed.stderr
    diagram = run(instance, "workflows", "diagram", "standard-review", "--current", "approval").stdout
    assert diagram.startswith("stateDiagram-v2") and "submit_for_equity_review" not in diagram.split("\n")[0]
    assert "approval" in diagram


def test_serve_logs_requests_without_client_addresses(tmp_path: Path) -> None:
    """Anonymous commenters are promised that no IP address is kept, in the logs either."""
    import socket
    import time
    import urllib.request

    instance = tmp_path / "instance"
    run(instance, "db", "upgrade")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "POLICYFLOW_INSTANCE_PATH": str(instance)}
    env.pop("POLICYFLOW_DATABASE_URL", None)
    server = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    access = [line for line in err.splitlines() if "GET /healthz" in line]
    assert access and not any("127.0.0.1" in line for line in access), err[-2000:]
