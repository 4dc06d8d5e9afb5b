"""Load and scale: the busiest pages under 32 concurrent clients, against a hello-world ceiling.

    python bench/load_bench.py [--reuse] [--duration 20] [--clients 32] [--workers 2] [--worker-class gthread]
                               [--url postgresql+psycopg://postgres@127.0.0.1:5432/policyflow_load] [--only NAME ...]

Builds (or with ``--reuse`` reuses) the PostgreSQL database ``policyflow_load`` with ``load_data.py``,
starts gunicorn with ``deploy/gunicorn.conf.py`` (2 workers on 127.0.0.1) against it, and drives each
page for ``--duration`` seconds with ``--clients`` concurrent connections: GET pages with ``wrk``
(a Lua script sends the signed-in cookie and reports the median and 95th percentile), POST mixes
(comment submissions with their CSRF token, review actions that move each client's own review to
equity review and back) and a bounded mixed run with a small Python load generator (threads with
keep-alive connections). The same gunicorn settings and worker class serve ``hello_app.py`` first:
its throughput is the ceiling each page is compared with. Prints a table and writes
``bench/load_results.md``. The machine's load average is printed with the figures: other processes
show up in them. The comment rate limit is raised for the run (the bench submits thousands).
Reports, never asserts.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from comments_bench import p95
from report import print_table
from sqlalchemy import create_engine, select, text

from policyflow.models import Policy, Review

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/policyflow_load"
PASSWORD = "demo-password"
TARGET_RATIO = 0.40  # the policy page with 200 notes: at least 40% of hello-world throughput
TARGET_P95_MS = 150.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

WRK_SCRIPT = r"""
local path = os.getenv("BENCH_PATH")
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
request = function() return wrk.format("GET", path) end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %.1f %.1f\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout, e.timeout, latency:percentile(50), latency:percentile(95)))
end
"""


@dataclass
class Measured:
    name: str
    tool: str
    requests: int
    seconds: float
    median_ms: float
    p95_ms: float
    errors: int
    timeouts: int = 0  # of the errors: requests wrk gave up on after --timeout (the server may still answer 200)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Targets:
    """What the run drives: found in the database, so a rebuilt database needs no edits here."""

    big_policy: str
    head: int
    comment_review: int
    review_page: int
    public_policy: str
    action_reviews: list[int] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Database and servers
# ---------------------------------------------------------------------------------------------

def build_database(url: str) -> None:
    from load_data import build

    name = urllib.parse.urlparse(url.replace("+psycopg", "")).path.lstrip("/")
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    print(build(url))


def find_targets(url: str) -> Targets:
    engine = create_engine(url)
    with engine.connect() as connection:
        big = connection.execute(select(Policy.code, Policy.head_version_number).where(Policy.code == "LOAD0000")).one()
        comment_review = connection.scalar(select(Review.id).join(Policy).where(
            Policy.code == "JFABE", Review.ended_at.is_(None)))
        public = connection.scalar(select(Policy.code).where(Policy.code.like("LOAD%"),
                                                             Policy.published_version_number.is_not(None))
                                   .order_by(Policy.code).offset(40).limit(1))
        actions = list(connection.scalars(select(Review.id).join(Policy).where(
            Policy.code.like("LOAD%"), Review.ended_at.is_(None), Review.workflow_name == "standard-review")
            .order_by(Review.id)))
    engine.dispose()
    back_to_draft(url, actions)
    return Targets(big.code, big.head_version_number, comment_review, comment_review, public, actions)


def back_to_draft(url: str, review_ids: list[int]) -> None:
    """The reviews the movers use start in draft: a timed run stops movers mid-cycle, leaving some in equity
    review, and a mover that expects draft would then get only 409s (the 12 and 93 "errors" of earlier mixed runs)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE reviews SET state = 'draft' WHERE id = ANY(:ids)"), {"ids": review_ids})
    engine.dispose()


class Server:
    """gunicorn with the production settings file, on a port of its own."""

    def __init__(self, port: int, args: argparse.Namespace, app: str | None, db_url: str) -> None:
        self.port = port
        self.instance = tempfile.mkdtemp(prefix="policyflow-load-")
        env = {**os.environ, "POLICYFLOW_BIND": f"127.0.0.1:{port}", "POLICYFLOW_WORKERS": str(args.workers),
               "POLICYFLOW_THREADS": str(args.threads), "POLICYFLOW_KEEPALIVE": str(args.keepalive),
               "POLICYFLOW_DATABASE_URL": db_url,
               "POLICYFLOW_INSTANCE_PATH": self.instance, "POLICYFLOW_SECRET_KEY": "load-bench-secret",
               "POLICYFLOW_COMMENT_RATE_LIMIT": "1000000 per minute", "POLICYFLOW_LOG_LEVEL": "warning",
               "PYTHONPATH": str(BENCH)}
        command = [str(Path(sys.executable).parent / "gunicorn"), "--config", str(REPO / "deploy" / "gunicorn.conf.py"),
                   "--worker-class", args.worker_class]
        if app:
            command.append(app)
        self.log = open(Path(self.instance) / "server.log", "w")  # closed in stop()
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(REPO))
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/")
                connection.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start on port {self.port}; see {self.log.name}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.instance, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------

class Browser:
    """One keep-alive connection with a cookie jar of one session cookie."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = cookie

    def send(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (ConnectionError, http.client.HTTPException):
            # The server closed an idle keep-alive connection (gunicorn's keepalive is 2 s): reconnect, as browsers do.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        content = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, content

    def csrf(self, path: str) -> str:
        status, page = self.send("GET", path)
        found = _CSRF.search(page)
        if status != 200 or not found:
            raise RuntimeError(f"no CSRF token on {path} ({status})")
        return found.group(1)


def signed_in(port: int, username: str) -> tuple[Browser, str]:
    browser = Browser(port)
    token = browser.csrf("/login")
    status, _ = browser.send("POST", "/login", {"username": username, "password": PASSWORD, "csrf_token": token})
    if status != 302:
        raise RuntimeError(f"could not sign in as {username} ({status})")
    return browser, browser.csrf("/dashboard")


def run_wrk(name: str, port: int, path: str, args: argparse.Namespace, cookie: str = "") -> Measured:
    script = Path(tempfile.mkdtemp(prefix="policyflow-wrk-")) / "page.lua"
    script.write_text(WRK_SCRIPT)
    env = {**os.environ, "BENCH_PATH": path, "BENCH_COOKIE": cookie}
    result = subprocess.run(["wrk", "-t", "2", "-c", str(args.clients), "-d", f"{args.duration}s", "--timeout", "10s",
                             "-s", str(script), f"http://127.0.0.1:{port}"], env=env, capture_output=True, text=True,
                            check=True)
    shutil.rmtree(script.parent)
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    requests, micros, errors, timeouts, median, high = line.split()[1:]
    return Measured(name, "wrk", int(requests), int(micros) / 1e6, float(median) / 1000, float(high) / 1000, int(errors),
                    int(timeouts))


def run_wrk_rounds(name: str, port: int, path: str, args: argparse.Namespace, cookie: str = "") -> Measured:
    """``--rounds`` runs of wrk, each on new connections; the round with the median rate, the others in its note.

    gthread workers accept new connections unevenly (one worker may take most of wrk's 32 at the start of a run,
    and then a single GIL serves them), so one run alone can halve a rate, the ceiling's as much as a page's."""
    runs = sorted((run_wrk(name, port, path, args, cookie) for _ in range(args.rounds)), key=lambda m: m.rate)
    middle = runs[len(runs) // 2]
    if len(runs) > 1:
        middle.note = "rounds: " + " / ".join(f"{m.rate:.0f}" for m in runs) + " req/s"
    return middle


def run_clients(name: str, clients: list[Callable[[], int]], seconds: float) -> Measured:
    """Each callable sends one request and returns its status; run them all for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def loop(step: Callable[[], int]) -> None:
        nonlocal errors
        mine, failed = [], 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                status = step()
            except (OSError, http.client.HTTPException):
                status = 599
            mine.append(time.perf_counter() - started)
            failed += status >= 400
        with lock:
            latencies.extend(mine)
            errors += failed

    began = time.monotonic()
    threads = [threading.Thread(target=loop, args=(step,)) for step in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    return Measured(name, "python", len(latencies), elapsed, statistics.median(latencies) * 1000 if latencies else 0,
                    p95(latencies) * 1000 if latencies else 0, errors)


_WORDS = ("bus", "school", "transportation", "foster", "counselor", "records", "meeting", "translation", "days",
          "appeal", "families", "students", "teacher", "enrollment", "credits", "caseworker", "notice", "language")


def comment_sender(port: int, review_id: int, seed: int) -> Callable[[], int]:
    """An anonymous visitor sending comments of their own words, with the form's CSRF token."""
    browser = Browser(port)
    token = browser.csrf(f"/public/reviews/{review_id}")
    rng = random.Random(seed)

    def send() -> int:
        body = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(12, 40))).capitalize() + "."
        status, _ = browser.send("POST", f"/public/reviews/{review_id}/comments",
                                 {"body": body, "identity": "anonymous", "csrf_token": token})
        return status

    return send


def review_mover(port: int, review_id: int) -> Callable[[], int]:
    """Ombuds staff moving their own review to equity review and back to draft, over and over."""
    browser, token = signed_in(port, "ombuds")
    state = ["draft"]

    def send() -> int:
        if state[0] == "draft":
            form = {"action": "submit_for_equity_review", "expected_state": "draft", "csrf_token": token}
        else:
            form = {"action": "return_to_draft", "note": "More changes are needed.", "expected_state": "equity_review",
                    "csrf_token": token}
        status, _ = browser.send("POST", f"/reviews/{review_id}/actions", form)
        if status == 302:
            state[0] = "equity_review" if state[0] == "draft" else "draft"
        return status

    return send


def page_reader(port: int, cookie: str, paths: list[str]) -> Callable[[], int]:
    browser = Browser(port, cookie)
    rng = random.Random(len(paths))

    def send() -> int:
        return browser.send("GET", rng.choice(paths))[0]

    return send


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------

def measure_policyflow(args: argparse.Namespace, targets: Targets) -> list[Measured]:
    server = Server(args.port, args, None, args.url)
    results: list[Measured] = []
    try:
        ombuds, _token = signed_in(args.port, "ombuds")
        pages = {
            "policy page, 200 notes (ombuds)": (f"/policies/{targets.big_policy}/versions/{targets.head}", ombuds.cookie),
            "redline": (f"/policies/{targets.big_policy}/diff?from={targets.head - 1}&to={targets.head}", ombuds.cookie),
            "comment triage (ombuds)": (f"/reviews/{targets.comment_review}/comments", ombuds.cookie),
            "review page (ombuds)": (f"/reviews/{targets.review_page}", ombuds.cookie),
            "public policy page": (f"/public/policies/{targets.public_policy}", ""),
        }
        for name, (path, cookie) in pages.items():
            if args.only and not any(word in name for word in args.only):
                continue
            Browser(args.port, cookie).send("GET", path)  # warm: compiled statements, first render
            results.append(run_wrk_rounds(name, args.port, path, args, cookie))
            print(f"  {name}: {results[-1].rate:.0f} req/s", flush=True)
        clients = args.clients
        if not args.only or "comment" in " ".join(args.only):
            senders = [comment_sender(args.port, targets.comment_review, n) for n in range(clients)]
            results.append(run_clients("comment submissions (POST)", senders, args.duration))
        if not args.only or "action" in " ".join(args.only):
            back_to_draft(args.url, targets.action_reviews)
            movers = [review_mover(args.port, review_id) for review_id in targets.action_reviews[:clients]]
            results.append(run_clients("review actions (POST)", movers, args.duration))
        if not args.only or "mixed" in " ".join(args.only):
            back_to_draft(args.url, targets.action_reviews)
            readers = [page_reader(args.port, ombuds.cookie, [path for path, cookie in pages.values() if cookie])
                       for _ in range(clients // 2)]
            public = [page_reader(args.port, "", [pages["public policy page"][0]]) for _ in range(clients // 4)]
            writers = [comment_sender(args.port, targets.comment_review, 1000 + n) for n in range(clients // 8)]
            movers = [review_mover(args.port, review_id) for review_id in targets.action_reviews[:clients // 8]]
            results.append(run_clients("mixed (1/2 staff pages, 1/4 public, 1/8 comments, 1/8 actions)",
                                       readers + public + writers + movers, args.mixed_duration))
    finally:
        server.stop()
    return results


def measure_hello(args: argparse.Namespace) -> Measured:
    server = Server(args.hello_port, args, "hello_app:app", args.url)
    try:
        return run_wrk_rounds("hello world (ceiling)", args.hello_port, "/", args)
    finally:
        server.stop()


def report(results: list[Measured], hello: Measured, args: argparse.Namespace, loads: list[tuple[float, ...]]) -> str:
    headers = ["page", "tool", "req/s", "of hello", "median ms", "p95 ms", "errors (time-outs)", "requests", "note"]
    rows = [[m.name, m.tool, f"{m.rate:.1f}", f"{m.rate / hello.rate:.1%}" if hello.rate else "-", f"{m.median_ms:.1f}",
             f"{m.p95_ms:.1f}", f"{m.errors} ({m.timeouts})", str(m.requests), m.note] for m in [hello, *results]]
    print_table(headers, rows)
    verdicts = []
    for m in results:
        if m.name.startswith("policy page"):
            ratio_ok = m.rate >= TARGET_RATIO * hello.rate
            p95_ok = m.p95_ms <= TARGET_P95_MS
            verdicts.append(f"Policy page with 200 notes: {m.rate / hello.rate:.1%} of hello world "
                            f"({'ok' if ratio_ok else 'MISSED'}, target >= {TARGET_RATIO:.0%}); p95 {m.p95_ms:.0f} ms "
                            f"({'ok' if p95_ok else 'MISSED'}, target <= {TARGET_P95_MS:.0f} ms).")
    errors = sum(m.errors for m in results)
    verdicts.append(f"Errors (non-2xx/3xx, connection failures): {errors} ({'ok' if errors == 0 else 'MISSED'}).")
    load_text = ", ".join(f"{label} {a:.2f} {b:.2f} {c:.2f}" for label, (a, b, c) in zip(("before", "after"), loads,
                                                                                            strict=False))
    for line in verdicts:
        print(line)
    print(f"Load average (1, 5, 15 min): {load_text}; {os.cpu_count()} CPUs.")
    table = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([
        "# Load benchmark results", "",
        f"`python bench/load_bench.py {' '.join(sys.argv[1:])}`: gunicorn `deploy/gunicorn.conf.py`, "
        f"{args.workers} workers, worker class `{args.worker_class}` ({args.threads} threads, keep-alive {args.keepalive} s), "
        f"{args.clients} concurrent "
        f"clients, {args.duration} s per page ({args.mixed_duration} s mixed), PostgreSQL `{args.url.rsplit('/', 1)[-1]}`.",
        f"Load average (1, 5, 15 min): {load_text}; {os.cpu_count()} CPUs (shared machine: figures are noisy).", "",
        *table, "", *[f"- {line}" for line in verdicts], "",
        "GET pages are driven by `wrk` (2 threads); POST mixes and the mixed run by the Python generator in "
        "`load_bench.py` (threads, keep-alive), which itself uses CPU on the same machine.", "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="use the database as it is")
    parser.add_argument("--duration", type=int, default=10, help="seconds per page and round")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per GET page (the median is reported)")
    parser.add_argument("--mixed-duration", type=int, default=30, help="seconds of the mixed run")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread", choices=("gthread", "sync"))
    parser.add_argument("--keepalive", type=int, default=2, help="gunicorn keep-alive seconds (gthread; 0: close)")
    parser.add_argument("--port", type=int, default=8111)
    parser.add_argument("--hello-port", type=int, default=8112)
    parser.add_argument("--only", nargs="*", default=[], help="words of the page names to run")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/load_results.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk).")
    if not args.reuse:
        build_database(args.url)
    targets = find_targets(args.url)
    loads = [os.getloadavg()]
    hello = measure_hello(args)
    print(f"  hello world: {hello.rate:.0f} req/s", flush=True)
    results = measure_policyflow(args, targets)
    loads.append(os.getloadavg())
    text_out = report(results, hello, args, loads)
    if not args.no_write:
        (BENCH / "load_results.md").write_text(text_out)


if __name__ == "__main__":
    main()
