"""Two real ``policyflow serve`` processes on one database, twenty people doing the same thing at once.

Saving on the same base through the API: one 201, nineteen 409 problems naming the current version,
and exactly one new version. Through the editor's form: one redirect to the new version, nineteen
conflict pages. Starting a review, then acting on it: one succeeds, nineteen 409s. Never a 500.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import Engine

from policyflow.db import make_session_factory, transaction
from policyflow.services import demo
from tests.conftest import REPO
from tests.consistency import problems
from tests.mailserver import free_port

CLIENTS = 20
CODE = "RACE-HTTP"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def call(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of one request, whatever the status."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with _OPENER.open(request, timeout=120) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def post_json(url: str, body: dict[str, Any], token: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    status, _headers, text = call(url, data=json.dumps(body).encode(), headers=headers)
    return status, json.loads(text)


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page)}


@pytest.fixture
def servers(committed_engine: Engine, tmp_path: Path) -> Iterator[list[str]]:
    """Two server processes on the committed demo database; their base URLs."""
    env = {**os.environ, "POLICYFLOW_DATABASE_URL": committed_engine.url.render_as_string(hide_password=False),
           "POLICYFLOW_INSTANCE_PATH": str(tmp_path), "POLICYFLOW_SECRET_KEY": "shared-by-both-servers"}
    ports = [free_port(), free_port()]
    logs = [(tmp_path / f"server-{port}.log").open("w") for port in ports]
    processes = [subprocess.Popen([sys.executable, "-m", "policyflow.cli", "serve", "--port", str(port)], env=env, cwd=REPO,
                                  stdout=log, stderr=subprocess.STDOUT) for port, log in zip(ports, logs, strict=True)]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 60
        for url, process in zip(urls, processes, strict=True):
            while True:
                try:
                    if call(f"{url}/readyz")[0] == 200:
                        break
                except OSError:
                    pass  # not listening yet: wait below, until the deadline
                assert process.poll() is None and time.monotonic() < deadline, "a server did not start"
                time.sleep(0.1)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        for log in logs:
            log.close()
    for log_path in tmp_path.glob("server-*.log"):
        assert "Traceback" not in log_path.read_text(), log_path.read_text()[-3000:]


def at_once(urls: list[str], request: Callable[[str], tuple[int, Any]]) -> list[tuple[int, Any]]:
    """``CLIENTS`` requests released together, alternating between the servers."""
    outcomes: list[tuple[int, Any]] = []
    barrier = threading.Barrier(CLIENTS)

    def client(index: int) -> None:
        barrier.wait()
        outcomes.append(request(urls[index % len(urls)]))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(outcomes) == CLIENTS
    return outcomes


@pytest.mark.slow
def test_twenty_saves_on_one_base_through_two_servers(servers: list[str], committed_engine: Engine) -> None:
    first, second = servers
    status, body = post_json(f"{first}/api/v1/tokens", {"username": "ombuds", "password": demo.DEMO_PASSWORD})
    assert status == 201, body
    token = body["token"]
    status, body = post_json(f"{second}/api/v1/policies", {"code": CODE, "title": "Saved by twenty", "text": "# Race\n\nBase.\n"},
                             token)
    assert status == 201, body

    outcomes = at_once(servers, lambda url: post_json(
        f"{url}/api/v1/policies/{CODE}/versions",
        {"text": f"# Race\n\nSaved through {url}, client {threading.get_ident()}.\n", "summary": "Mine.", "base_version": 1},
        token))
    assert sorted(status for status, _body in outcomes) == [201] + [409] * (CLIENTS - 1), outcomes
    refusals = [body for status, body in outcomes if status == 409]
    assert all(body["type"] == "urn:policyflow:problem:version-conflict" and body["current_version"] == 2
               and body["base_version"] == 1 for body in refusals), refusals[0]
    status, _headers, text = call(f"{first}/api/v1/policies/{CODE}/versions", headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and [item["number"] for item in json.loads(text)["items"]] == [2, 1]

    # The editor's form, signed in once (one session cookie shared by the twenty tabs, valid on both servers).
    status, headers, page = call(f"{first}/login")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    sign_in = hidden_fields(page) | {"username": "ombuds", "password": demo.DEMO_PASSWORD}
    status, headers, _page = call(f"{first}/login", data=urlencode(sign_in).encode(), headers={"Cookie": cookie})
    assert status == 302, "sign-in failed"
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    status, _headers, page = call(f"{second}/policies/{CODE}/edit", headers={"Cookie": cookie})
    assert status == 200
    form = hidden_fields(page)
    assert form["base_version"] == "2"

    def save_form(url: str) -> tuple[int, str]:
        data = urlencode(form | {"text": f"# Race\n\nEdited in the form on {url}, {threading.get_ident()}.\n",
                                 "summary": "From the editor.", "action": "save"}).encode()
        status, headers, page = call(f"{url}/policies/{CODE}/edit", data=data, headers={"Cookie": cookie})
        return status, headers.get("Location", "") if status == 302 else page

    outcomes = at_once(servers, save_form)
    assert sorted(status for status, _ in outcomes) == [302] + [409] * (CLIENTS - 1), [s for s, _ in outcomes]
    assert next(where for status, where in outcomes if status == 302).endswith(f"/policies/{CODE}/versions/3")
    assert all("Someone saved a newer version while you were editing" in page for status, page in outcomes if status == 409)

    status, _headers, text = call(f"{second}/api/v1/policies/{CODE}", headers={"Authorization": f"Bearer {token}"})
    assert json.loads(text)["head_version"] == 3

    # Twenty start a review of it at once (this was one 201 and nineteen 500s on PostgreSQL), then twenty act on it.
    outcomes = at_once(servers, lambda url: post_json(f"{url}/api/v1/policies/{CODE}/reviews", {"workflow": "standard-review"},
                                                      token))
    assert sorted(status for status, _ in outcomes) == [201] + [409] * (CLIENTS - 1), outcomes
    review_id = next(body["id"] for status, body in outcomes if status == 201)
    outcomes = at_once(servers, lambda url: post_json(f"{url}/api/v1/reviews/{review_id}/actions",
                                                      {"action": "submit_for_equity_review"}, token))
    assert sorted(status for status, _ in outcomes) == [200] + [409] * (CLIENTS - 1), outcomes
    status, _headers, text = call(f"{first}/api/v1/reviews/{review_id}", headers={"Authorization": f"Bearer {token}"})
    assert json.loads(text)["state"] == "equity_review"
    with transaction(make_session_factory(committed_engine)) as session:
        assert problems(session) == []
