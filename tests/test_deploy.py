"""The production files shipped in deploy/: gunicorn's settings serve the app, the systemd units are valid
and run commands that exist."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyflow.cli import main as cli

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service")) + sorted((DEPLOY / "systemd").glob("*.timer"))
VENV_BIN = Path(sys.executable).parent


def _exec_lines(unit: Path) -> list[str]:
    return [line.split("=", 1)[1] for line in unit.read_text().splitlines() if line.startswith(("ExecStart=", "ExecStartPost="))]


def test_the_units_run_policyflow_commands_that_exist() -> None:
    assert {unit.name for unit in UNITS} >= {"policyflow-web.service", "policyflow-worker.service", "policyflow-backup.service",
                                             "policyflow-backup.timer"}
    commands = []
    for unit in UNITS:
        for line in _exec_lines(unit):
            words = line.replace("'", " ").replace('"', " ").split()
            if "/opt/policyflow/.venv/bin/policyflow" in words:
                commands.append(words[words.index("/opt/policyflow/.venv/bin/policyflow") + 1])
            if "/opt/policyflow/.venv/bin/gunicorn" in words:
                assert words[words.index("--config") + 1] == "/opt/policyflow/deploy/gunicorn.conf.py"
    assert set(commands) >= {"worker", "backup", "check"}
    for command in commands:
        assert CliRunner().invoke(cli, [command, "--help"]).exit_code == 0, command


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is not installed (scripts/test.sh installs Debian's systemd when missing)")
        pytest.skip("systemd-analyze is not installed")
    # The units point at /opt/policyflow; verify copies that point at this checkout and this environment.
    for unit in UNITS:
        text = unit.read_text().replace("/opt/policyflow/.venv/bin", str(VENV_BIN)).replace("/opt/policyflow", str(REPO))
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run([analyze, "verify", "--man=no", *[str(tmp_path / unit.name) for unit in UNITS]],
                            capture_output=True, text=True, timeout=60)
    said = result.stdout + result.stderr
    assert result.returncode == 0 and "Unknown" not in said and "not executable" not in said, said


def test_the_gunicorn_settings_take_their_knobs_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The systemd EnvironmentFile tunes workers, threads and keep-alive without editing the file; the worker class is
    gthread (measured against sync in bench/load_profile.md)."""
    monkeypatch.setenv("POLICYFLOW_WORKERS", "3")
    monkeypatch.setenv("POLICYFLOW_THREADS", "6")
    monkeypatch.setenv("POLICYFLOW_KEEPALIVE", "0")
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert (settings["worker_class"], settings["workers"], settings["threads"], settings["keepalive"]) == ("gthread", 3, 6, 0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_serves_the_app_with_the_shipped_settings(tmp_path: Path) -> None:
    gunicorn = VENV_BIN / "gunicorn"
    if not gunicorn.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("gunicorn is not installed (it is in the test extras)")
        pytest.skip("gunicorn is not installed")
    instance = tmp_path / "instance"
    env = {**os.environ, "POLICYFLOW_INSTANCE_PATH": str(instance), "POLICYFLOW_BIND": f"127.0.0.1:{_free_port()}",
           "POLICYFLOW_WORKERS": "2"}
    env.pop("POLICYFLOW_DATABASE_URL", None)
    subprocess.run([str(VENV_BIN / "policyflow"), "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    server = subprocess.Popen([str(gunicorn), "--config", str(DEPLOY / "gunicorn.conf.py")], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://{env['POLICYFLOW_BIND']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
                    assert response.status == 200 and json.load(response)["status"] == "ready"
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.3)
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
            assert response.status == 200 and response.headers["X-Request-Id"]
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=60)
    requests = [json.loads(line) for line in err.splitlines() if line.startswith("{") and '"event": "request"' in line]
    assert {r["route"] for r in requests} >= {"/readyz", "/healthz"}, err[-2000:]
    assert "127.0.0.1" not in "\n".join(line for line in err.splitlines() if '"event": "request"' in line)


def test_the_nightly_unit_deletes_backups_older_than_the_kept_days(tmp_path: Path) -> None:
    unit = DEPLOY / "systemd" / "policyflow-backup.service"
    (prune,) = [line for line in _exec_lines(unit) if line.startswith("/usr/bin/find")]
    kept_days = next(line.split("=", 2)[2] for line in unit.read_text().splitlines()
                     if line.startswith("Environment=POLICYFLOW_BACKUP_KEEP_DAYS="))
    old, recent, other = (tmp_path / "policyflow-20250101T000000Z.jsonl.gz", tmp_path / "policyflow-20261206T000000Z.jsonl.gz",
                          tmp_path / "before-upgrade.jsonl.gz")
    for path in (old, recent, other):
        path.write_bytes(b"backup")
    long_ago = time.time() - (int(kept_days) + 2) * 86400
    os.utime(old, (long_ago, long_ago))
    os.utime(other, (long_ago, long_ago))  # a backup an administrator made by hand is theirs to delete
    command = prune.replace("/var/backups/policyflow", str(tmp_path)).replace("${POLICYFLOW_BACKUP_KEEP_DAYS}", kept_days)
    subprocess.run(command.split(), check=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == [other.name, recent.name]
