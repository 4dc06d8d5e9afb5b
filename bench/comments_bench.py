"""Stakeholder comments at scale: 50,000 comments on one review; triage, public page, report and CSV times.

    python bench/comments_bench.py [--quick] [--comments N] [--submits N] [--postgres URL] [--only KIND] [--keep]

For each backend (SQLite always; PostgreSQL when ``--postgres`` or POLICYFLOW_TEST_DATABASE_URL is
given, in a throwaway schema) the script builds a fresh database with the migrations, loads the demo
data, and bulk-loads N comments (default 50,000) on JFABE's open review: mass campaigns of
near-duplicate form letters, unique comments of varied length, every identity mode and category,
some anchored to passages, filed by phone, answered, hidden. The bulk load bypasses ``submit`` but
stores what ``submit`` would: the same ``comments.fingerprint`` columns and the same near-duplicate
groups (the service's grouping rule replayed in memory, ``Grouper``). Then it times ``submit`` itself
for more comments on top (and checks each lands in the group the replay predicts), the pages through
a Flask test client (signed in as ombuds staff; the public ones signed out), and the service calls
behind them. At the end it answers every comment, closes the period and times the public report.

A page whose route does not exist yet is reported as missing; the service function behind it is
always timed (without the CSV routes, the export through ``csv.writer`` is held to the CSV target).
Figures are medians and 95th percentiles (nearest rank) of wall times, light pages after one untimed
warm-up call. The script reports and never asserts: it exits 0 whatever the figures are. Other
processes on the machine show up in the 95th percentiles; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import csv
import functools
import gc
import hashlib
import io
import logging
import math
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from report import print_table
from sqlalchemy import func, insert, select, text, update
from workflow_bench import drop, fresh_database

from policyflow import migrate
from policyflow.core.vocabulary import load_vocabularies
from policyflow.db import make_engine, make_session_factory, transaction
from policyflow.models import Comment, CommentConsent, Policy, Review, User
from policyflow.models.base import fresh_stamp, utcnow
from policyflow.resources import demo_dir, workflows_dir
from policyflow.services import comments, demo, policies, reviews
from policyflow.services.actors import Actor
from policyflow.web import create_app

TRIAGE_TARGET_S = 0.300  # p95 of a page of triage results
CSV_TARGET_S = 2.0  # p95 of the full CSV export
CODE = "JFABE"  # the demo policy whose comment period is open
BATCH = 5_000

# ---------------------------------------------------------------------------------------------
# What people write (deterministic: everything comes from one seeded Random)
# ---------------------------------------------------------------------------------------------

FIRST = ("Maria", "James", "Aisha", "Wei", "Daniel", "Fatima", "Jose", "Emily", "Kwame", "Sofia", "Liam", "Mei", "Omar",
         "Grace", "Diego", "Hannah", "Tariq", "Olivia", "Luis", "Nia", "Ethan", "Priya", "Carlos", "Zoe", "Andre", "Leah",
         "Hiroshi", "Amara", "Noah", "Lucia", "Samuel", "Ines", "Marcus", "Yuki", "Elena", "Jamal", "Rosa", "Kevin", "Anh",
         "Brianna", "Tomas", "Chloe", "Ibrahim", "Megan", "Rafael", "Keisha", "Dmitri", "Alma", "Victor", "Naomi")
LAST = ("Garcia", "Johnson", "Nguyen", "Okafor", "Smith", "Hernandez", "Kim", "Williams", "Patel", "Brown", "Lopez",
        "Mensah", "Davis", "Martinez", "Chen", "Wilson", "Rodriguez", "Ali", "Anderson", "Thomas", "Jackson", "White",
        "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Hill",
        "Flores", "Green", "Adams", "Nelson", "Baker", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Phillips",
        "Evans", "Turner", "Diaz", "Parker", "Cruz")
SCHOOLS = ("Lincoln Elementary", "Riverbend High", "Oak Grove Middle", "Westside Elementary", "Jefferson Middle",
           "Cedar Park Elementary", "Riverbend Early College", "Hillcrest Elementary", "Eastview High")
CATEGORIES = (("parent_guardian", 35), ("student", 15), ("employee", 20), ("community_member", 20), ("organization", 3),
              (None, 7))
MODES = (("public", 45), ("confidential", 30), ("anonymous", 25))

OPENERS = {
    "parent_guardian": ("I am a foster parent of {n} children at {school}.", "I am a kinship caregiver raising my grandson, "
                        "a {grade} grader at {school}.", "As a parent of a {grade} grader at {school}, I read the whole draft.",
                        "We have fostered {n} children in Riverbend over {years} years."),
    "student": ("I am in {grade} grade at {school} and I have been in foster care for {years} years.",
                "I am a student at {school}.", "I changed schools {n} times before high school."),
    "employee": ("I teach {grade} grade at {school}.", "I am a school counselor at {school}.",
                 "I work in the front office at {school}.", "I have driven a District bus for {years} years."),
    "community_member": ("I live in Riverbend and volunteer at {school}.", "I am a county caseworker.",
                         "I am a retired teacher and a neighbor of {school}."),
    "organization": ("Our organization serves {n}0 foster families in the county.",
                     "On behalf of our association's {years}0 members:"),
}
CONCERNS = (
    "Ten school days is too long to wait for a best interest determination.",
    "Please say who drives the student while the determination is pending.",
    "Transportation across District lines should never wait for a cost agreement.",
    "The equal split of transportation costs with the county will cause delays.",
    "Students should be asked privately what they want before the meeting.",
    "Parents who still hold education rights must be invited to the meeting in their home language.",
    "Front office staff need the training more than anyone else.",
    "Records for special education take weeks to arrive; the IEP should be sent the same day.",
    "Please keep the sentence on names and pronouns exactly as it is.",
    "Nobody told us about the right to appeal to the Superintendent.",
    "The Point of Contact needs enough time in the week to actually do this job.",
    "A monthly list of students in foster care should go to as few people as possible.",
    "Teachers should never mention a student's foster care status in class.",
    "The commute time factor should count the whole day, including after-school activities.",
    "Interim transportation by taxi is expensive, but it keeps children in school.",
    "The suspension consult must not delay an emergency removal.",
    "Partial credits must follow a student who changes schools mid-semester.",
    "A one-page summary in Spanish and Vietnamese would help families read this.",
    "The Ombuds section should list a phone number and the languages the office speaks.",
    "Kinship caregivers should be able to enroll a child with the caseworker's placement letter.",
    "CASA volunteers and guardians ad litem should be invited to the determination.",
    "Please publish every year how many students used school-of-origin transportation.",
    "The policy should define trauma-informed practices or point to the District's framework.",
    "Counselor caseloads are too high for a real connection with every student in foster care.",
)
CLOSINGS = ("Thank you for reading this.", "Please answer this in the response to comments.", "Thank you.",
            "I hope the Board listens.", "Call me if you have questions.", "")
CAMPAIGNS = (
    "Keep foster youth in their schools. The District should pay for transportation to the school of origin up front and "
    "settle the cost with the county afterwards, so that no child misses a single day of school while two agencies argue "
    "about a bus bill. Every move already costs these children their friends, their teachers and their routines. Please "
    "do not let it cost them their school too. Change the Transportation section so that a disagreement about cost can "
    "never delay a ride, and publish each year how long it took to start transportation for every student.",
    "I support the protections for LGBTQIA+ students in foster care in Policy JFABE. Schools must use the name and "
    "pronouns a student asks for and must never out a student to a caregiver or a placement. Young people who are outed "
    "lose their placements and their schools. Please keep the Student Supports section as written and add a named "
    "affirming adult in every school building.",
    "Parents' rights come first. The District must tell parents and caregivers everything about their children, including "
    "their names, pronouns and any counseling at school. Please remove the sentence in Student Supports that lets staff "
    "keep information from a caregiver or a placement. Schools work for families, not the other way around.",
    "Students in foster care deserve a voice in decisions about their own school. Please require the Point of Contact to "
    "talk to the student privately before every best interest determination, to write down what the student wants, and "
    "to invite students aged twelve and older to the meeting. Nothing about us without us.",
    "Please translate every best interest determination notice and every dispute notice into the family's home "
    "language, and book an interpreter for every meeting ahead of time. Families cannot take part in a meeting they "
    "cannot understand, and children should not have to interpret decisions about their own lives.",
    "Special education services must follow students in foster care. Before a student changes schools, the District "
    "must confirm that the new school can deliver every service in the IEP from the first day, including speech, "
    "occupational therapy and counseling. A program on paper is not enough.",
)
STORIES = (
    "My foster son missed two weeks of school last year waiting for a bus.",
    "Our daughter changed schools three times in one year before she came to us.",
    "I was in foster care myself and I remember how it felt to start over every few months.",
    "I see these children in my classroom every day.",
    "Our church supports four foster families in Riverbend.",
)
SWAPS = (("Please", "We ask you to"), ("children", "kids"), ("every", "each"), ("must", "should"))
RESPONSES = {
    "accepted": "The next draft makes this change.",
    "partially_accepted": "The next draft makes part of this change; the response to comments explains what and why.",
    "not_accepted": "No change: the text follows federal law and the local agreement with the county, as explained in the "
                    "response to comments.",
    "out_of_scope": "This is outside the policy itself; we have passed it to the office responsible.",
}


def weighted(rng: random.Random, choices: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([c for c, _w in choices], [w for _c, w in choices])[0]


def fill(rng: random.Random, template: str) -> str:
    return template.format(n=rng.randint(2, 9), school=rng.choice(SCHOOLS), grade=rng.choice(("3rd", "6th", "9th", "11th")),
                           years=rng.randint(2, 19))


def _vocabulary() -> tuple[str, ...]:
    words: set[str] = set()
    for path in sorted((demo_dir() / "policies").glob("*/v*.md")):
        words.update(word.lower() for word in re.findall(r"[A-Za-z][a-z]{2,}", path.read_text(encoding="utf-8")))
    return tuple(sorted(words))


VOCABULARY = _vocabulary()  # the words of the demo policies: people's own sentences rarely share three words in a row


def own_sentence(rng: random.Random) -> str:
    words = rng.sample(VOCABULARY, rng.randint(6, 20))
    return " ".join([words[0].capitalize(), *words[1:]]) + "."


def unique_body(rng: random.Random, category: str | None) -> str:
    """One person's own comment: short (a sentence or two), medium, or long with paragraphs of their own."""
    size = rng.random()
    parts = [fill(rng, rng.choice(OPENERS.get(category or "community_member", OPENERS["community_member"])))]
    parts += rng.sample(CONCERNS, 1 if size < 0.3 else rng.randint(2, 4))
    if size >= 0.3:
        parts += [own_sentence(rng) for _ in range(rng.randint(1, 4))]
    if size >= 0.8:
        parts += ["\n\n" + " ".join(own_sentence(rng) for _ in range(rng.randint(2, 6))) for _ in range(rng.randint(1, 5))]
    parts.append(rng.choice(CLOSINGS))
    return " ".join(p for p in parts if p).replace(" \n\n", "\n\n")[: comments.MAX_BODY]


def campaign_body(rng: random.Random, letter: str, name: str | None) -> str:
    """The form letter as people send it: mostly unchanged, often signed, sometimes with a sentence of their own."""
    roll = rng.random()
    if roll < 0.45:
        return letter
    body = letter
    if roll > 0.85:
        body = body.replace(*rng.choice(SWAPS), 1)
    if roll > 0.70:
        body = f"{body} {rng.choice(STORIES)}"
    return f"{body}\n\n{name}" if name else body


def campaign_sizes(total: int) -> list[int]:
    """Mass campaigns take about 60% of the comments, a few large and many small."""
    shares = (0.22, 0.14, 0.09, 0.06, 0.04, 0.03, 0.01, 0.005, 0.002, 0.001)
    return [max(6, int(total * share)) for share in shares]


# ---------------------------------------------------------------------------------------------
# The service's near-duplicate grouping, replayed in memory for the bulk load
# ---------------------------------------------------------------------------------------------

@dataclass
class Grouper:
    """``comments._group_for`` without the database: the group of the first earlier comment with the same
    words, else of the first (by id) of up to 200 earlier comments sharing a band whose similarity reaches
    ``comments.NEAR_DUPLICATE``; None when there is none (the new comment starts its own group)."""

    exact: dict[str, int] = field(default_factory=dict)
    bands: list[dict[int, list[int]]] = field(default_factory=lambda: [defaultdict(list) for _ in range(4)])
    bodies: dict[int, str] = field(default_factory=dict)
    groups: dict[int, int] = field(default_factory=dict)

    def group_for(self, body: str, print_: comments.Fingerprint) -> int | None:
        if print_.exact in self.exact:
            return self.exact[print_.exact]
        # Each band's list is in id order, so the first 200 of the union come from the first 200 of each.
        candidates = sorted(set(chain.from_iterable(self.bands[i].get(print_.bands[i], [])[:200] for i in range(4))))[:200]
        for comment_id in candidates:
            if similarity(body, self.bodies[comment_id]) >= comments.NEAR_DUPLICATE:
                return self.groups[comment_id]
        return None

    def add(self, comment_id: int, body: str, print_: comments.Fingerprint, group_id: int) -> None:
        self.exact.setdefault(print_.exact, group_id)
        for i in range(4):
            self.bands[i][print_.bands[i]].append(comment_id)
        self.bodies[comment_id] = body
        self.groups[comment_id] = group_id


@functools.lru_cache(maxsize=20_000)
def shingles(body: str) -> frozenset[str]:
    return frozenset(comments._shingles(comments._words(body)))


def similarity(a: str, b: str) -> float:
    """``comments.similarity`` with each comment's shingles computed once (the same Jaccard similarity)."""
    first, second = shingles(a), shingles(b)
    return len(first & second) / len(first | second) if first | second else 1.0


def fingerprint_columns(print_: comments.Fingerprint) -> dict[str, Any]:
    """The columns ``submit`` fills from a fingerprint."""
    return {"fingerprint": print_.exact, "band0": print_.bands[0], "band1": print_.bands[1], "band2": print_.bands[2],
            "band3": print_.bands[3]}


def fingerprints(bodies: list[str]) -> dict[str, comments.Fingerprint]:
    """``comments.fingerprint`` of every distinct body, on every CPU."""
    distinct = sorted(set(bodies))
    workers = max(1, min(8, os.cpu_count() or 1))
    if workers == 1 or len(distinct) < 2_000:
        return {body: comments.fingerprint(body) for body in distinct}
    with ProcessPoolExecutor(workers) as pool:
        return dict(zip(distinct, pool.map(comments.fingerprint, distinct, chunksize=500), strict=True))


# ---------------------------------------------------------------------------------------------
# Building the database
# ---------------------------------------------------------------------------------------------

@dataclass
class Loaded:
    review_id: int
    comments: int
    groups: int
    largest_group: int
    seconds: float
    fingerprint_seconds: float
    grouper: Grouper
    campaign_letters: list[str]


def passages(draft: str) -> list[dict[str, int]]:
    """Sentences of the draft that commenters quote."""
    found = list(re.finditer(r"[A-Z][^.\n]{40,220}\.", draft))
    return [{"start": m.start(), "end": m.end()} for m in found[::3]][:40]


def prepare(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with transaction(make_session_factory(engine)) as session:
        demo.load(session, policies.StoreSettings())
    engine.dispose()


def load_comments(url: str, total: int, seed: int = 50_000) -> Loaded:
    """Bulk-insert ``total`` comments on the open demo review, as ``submit`` would have stored them."""
    rng = random.Random(seed)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    with transaction(factory) as session:
        review = session.scalar(select(Review).join(Policy).where(Policy.code == CODE, Review.ended_at.is_(None)))
        assert review is not None and review.state == "stakeholder_comment"
        ombuds_id = session.scalar(select(User.id).where(User.username == "ombuds"))
        draft = policies.version_text(session, review.policy,
                                      policies.get_version(session, Actor.system(), review.policy, review.version_number))
        grouper = Grouper()
        for row in session.execute(select(Comment.id, Comment.body, Comment.group_id).where(Comment.review_id == review.id)
                                   .order_by(Comment.id)):
            grouper.add(row.id, row.body, comments.fingerprint(row.body), row.group_id)
        next_id = (session.scalar(select(func.max(Comment.id))) or 0) + 1
        opened = next(t.occurred_at for t in review.transitions if t.action == "open_comment_period")
        review_id, policy_id, version = review.id, review.policy_id, review.version_number

    # Who writes what, in the order it arrives: campaign letters interleaved with people's own comments.
    sizes = campaign_sizes(total)
    kinds: list[int] = list(chain.from_iterable([index] * size for index, size in enumerate(sizes)))
    kinds += [-1] * (total - len(kinds))
    rng.shuffle(kinds)
    answered_campaigns = {0, 2, 3, 5, 7}  # answered at once with a group disposition
    spots = passages(draft)
    people = []
    for kind in kinds:
        category = weighted(rng, CATEGORIES)
        mode = weighted(rng, MODES)
        name = None if mode == "anonymous" else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        letter = CAMPAIGNS[kind % len(CAMPAIGNS)] if kind >= 0 else ""
        if kind >= len(CAMPAIGNS):  # campaigns past the six letters open with a line of their own
            letter = f"As a member of Riverbend Families United (campaign {kind}): {letter}"
        body = campaign_body(rng, letter, name) if kind >= 0 else unique_body(rng, category)
        people.append((kind, category, mode, name, body))
    fingerprint_started = time.perf_counter()
    prints = fingerprints([body for *_rest, body in people])
    fingerprint_seconds = time.perf_counter() - fingerprint_started

    now = utcnow()
    span = (now - timedelta(minutes=5)) - opened
    rows: list[dict[str, Any]] = []
    consents: list[dict[str, Any]] = []
    for offset, (kind, category, mode, name, body) in enumerate(people):
        comment_id = next_id + offset
        print_ = prints[body]
        group_id = grouper.group_for(body, print_) or comment_id
        grouper.add(comment_id, body, print_, group_id)
        created = opened + span * ((offset + 1) / (total + 1))
        target = None
        if kind < 0 and rng.random() < 0.3:
            target = comments._target(draft, rng.choice(spots))  # the selector submit stores
        email = None
        if name is not None and rng.random() < 0.7:
            email = f"{name.lower().replace(' ', '.')}{rng.randint(1, 999)}@example.org"
        via = rng.choice(("phone", "phone", "letter", "email")) if rng.random() < 0.02 else None
        disposition = None
        if (kind in answered_campaigns) or (kind < 0 and rng.random() < 0.35):
            disposition = rng.choice(tuple(RESPONSES)) if kind < 0 else "partially_accepted"
        hidden = kind < 0 and disposition is None and rng.random() < 0.004
        disclosed = mode == "confidential" and rng.random() < 0.05
        rows.append({
            "id": comment_id, "review_id": review_id, "policy_id": policy_id, "version_number": version, "body": body,
            "category": category, "exact": target["exact"] if target else None, "prefix": target["prefix"] if target else None,
            "suffix": target["suffix"] if target else None, "start": target["start"] if target else None,
            "end": target["end"] if target else None, "identity_mode": mode, "author_id": None, "name": name, "email": email,
            "disclosure_permitted": disclosed, "filed_by_id": ombuds_id if via else None, "filed_via": via,
            "receipt_hash": hashlib.sha256(f"bench-receipt-{seed}-{comment_id}".encode()).hexdigest(), "created_at": created,
            **fingerprint_columns(print_), "group_id": group_id,
            "hidden_at": min(now, created + timedelta(minutes=30)) if hidden else None, "hidden_by_id": ombuds_id if hidden else None,
            "hidden_reason": "Personal information about a student." if hidden else None,
            "disposition": disposition, "response": RESPONSES[disposition] if disposition else None, "changed_in_version": None,
            "dispositioned_at": min(now, created + timedelta(minutes=10)) if disposition else None,
            "dispositioned_by_id": ombuds_id if disposition else None,
        })
        if disclosed:
            consents.append({"comment_id": comment_id, "granted": True, "recorded_at": min(now, created + timedelta(minutes=1)),
                             "recorded_by_id": None})
    with transaction(factory) as session:
        for start in range(0, len(rows), BATCH):
            session.execute(insert(Comment), rows[start:start + BATCH])
        if consents:
            session.execute(insert(CommentConsent), consents)
        # As the services do with every change to a review's comments: caches keyed on the stamp start afresh.
        session.execute(update(Review).where(Review.id == review_id).values(comments_stamp=fresh_stamp()))
        if engine.dialect.name == "postgresql":  # ids were given explicitly; move the sequence past them
            session.execute(text("SELECT setval(pg_get_serial_sequence('comments', 'id'), (SELECT max(id) FROM comments))"))
    with transaction(factory) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text("ANALYZE comments"))
        else:
            session.execute(text("ANALYZE"))
    seconds = time.perf_counter() - started
    sizes_by_group: dict[int, int] = defaultdict(int)
    for group_id in grouper.groups.values():
        sizes_by_group[group_id] += 1
    engine.dispose()
    return Loaded(review_id, len(grouper.groups), len(sizes_by_group), max(sizes_by_group.values()), seconds,
                  fingerprint_seconds, grouper, list(CAMPAIGNS))


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------

def timed(function: Callable[[], object], runs: int, warmup: int = 0) -> list[float]:
    """Wall times of ``runs`` calls, each after a garbage collection, after ``warmup`` untimed calls (a running
    server has its statements compiled and its pages cached)."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class Result:
    name: str
    times: list[float]
    target: float | None = None
    note: str = ""
    parts: dict[str, list[float]] = field(default_factory=dict)  # the times of each page/filter mix

    def row(self) -> list[str]:
        if not self.times:
            return [self.name, "0", "-", "-", self.target_text(), self.note or "not measured"]
        high = p95(self.times)
        verdict = "" if self.target is None else ("ok" if high <= self.target else "MISSED")
        return [self.name, str(len(self.times)), f"{statistics.median(self.times) * 1000:.1f}", f"{high * 1000:.1f}",
                self.target_text(), " ".join(part for part in (verdict, self.note) if part)]

    def target_text(self) -> str:
        return "-" if self.target is None else f"p95 <= {self.target * 1000:.0f} ms"


TRIAGE_QUERIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("first page", {}),
    ("page 2", {"page": "2"}),
    ("page 40", {"page": "40"}),
    ("category=student", {"category": "student"}),
    ("disposition=none", {"disposition": "none"}),
    ("disposition=accepted", {"disposition": "accepted"}),
    ("hidden=yes", {"hidden": "yes"}),
    ("passage=yes", {"passage": "yes"}),
    ("passage words", {"passage": "transportation"}),
    ("q=bus", {"q": "bus"}),
)


def triage_filters(query: dict[str, str]) -> tuple[comments.Filters, int]:
    values = {k: v for k, v in query.items() if k != "page"}
    return comments.Filters(**values), int(query.get("page", "1"))


def page_arguments(query: dict[str, str]) -> dict[str, str]:
    """The triage page's query string: words to look for in the passage go in 'passage_words'."""
    if query.get("passage", "") in ("", "yes", "no"):
        return query
    return {**{k: v for k, v in query.items() if k != "passage"}, "passage_words": query["passage"]}


def csv_text(rows: Iterable[dict[str, Any]]) -> int:
    """The rows as CSV text (csv.writer; the service's share of an export, without the web layer's cell quoting)."""
    out = io.StringIO()
    writer = csv.writer(out)
    keys: list[str] = []
    for row in rows:
        if not keys:
            keys = list(row)
            writer.writerow(keys)
        writer.writerow([row[key] for key in keys])
    return len(out.getvalue())


def route_exists(app: Any, pattern: str) -> bool:
    """Whether the app has a route like ``/reviews/<>/comments`` (any converter in the brackets)."""
    wanted = pattern.replace("<>", "<x>")
    return any(re.sub(r"<[^>]+>", "<x>", rule.rule) == wanted for rule in app.url_map.iter_rules())


def measure_service(factory: Any, review_id: int, runs: int, csv_runs: int, results: list[Result],
                    with_csv_route: bool = False) -> None:
    with transaction(factory) as session:
        ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
        parts: dict[str, list[float]] = {}
        for name, query in TRIAGE_QUERIES:
            filters, page = triage_filters(query)
            parts[name] = timed(lambda f=filters, p=page: comments.triage(session, ombuds, review_id, f, page=p), runs, 1)
            session.expunge_all()
        results.append(Result(f"service triage(), {len(TRIAGE_QUERIES)} page/filter mixes", list(chain(*parts.values())),
                              TRIAGE_TARGET_S, parts=parts))

        def report_page(number: int) -> None:
            comments.report(session, ombuds, review_id, page=number)
            session.expunge_all()

        pages = comments.report(session, ombuds, review_id, page=1).pages
        report_parts = {f"page {n}": timed(functools.partial(report_page, n), runs, 1) for n in sorted({1, (pages + 1) // 2, pages})}
        results.append(Result("service report(page=N) (staff), first/middle/last", list(chain(*report_parts.values())),
                              TRIAGE_TARGET_S, parts=report_parts))

        def whole_report() -> None:
            comments.report(session, ombuds, review_id)
            session.expunge_all()

        results.append(Result("service report(), whole (staff)", timed(whole_report, csv_runs)))

        def rows_only() -> None:
            for _row in comments.export_rows(session, ombuds, review_id):
                pass
            session.expunge_all()

        results.append(Result("service export_rows(), rows only (staff)", timed(rows_only, csv_runs)))
        if not with_csv_route:  # the route is not there yet: the export as the service and csv.writer make it

            def export() -> None:
                csv_text(comments.export_rows(session, ombuds, review_id))
                session.expunge_all()

            results.append(Result("service export_rows() -> csv.writer (staff)", timed(export, csv_runs), CSV_TARGET_S))
        results.append(Result("undecided_count() (close condition)",
                              timed(lambda: comments.undecided_count(session, session.get(Review, review_id)), runs)))


def measure_pages(app: Any, review_id: int, runs: int, csv_runs: int, results: list[Result], public_only: bool = False,
                  largest_group: int | None = None) -> None:
    staff = app.test_client()
    response = staff.post("/login", data={"username": "ombuds", "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code
    visitor = app.test_client()

    def page(client: Any, path: str) -> Callable[[], object]:
        def get() -> None:
            answer = client.get(path)
            body = answer.get_data()
            if answer.status_code != 200:
                raise RuntimeError(f"GET {path}: {answer.status_code} {body[:200]!r}")
        return get

    def measure(name: str, pattern: str, client: Any, paths: list[str], count: int, target: float | None,
                labels: list[str] | None = None, warmup: int = 0) -> None:
        if not route_exists(app, pattern):
            results.append(Result(name, [], target, "route not built yet"))
            return
        parts: dict[str, list[float]] = {}
        try:
            for label, path in zip(labels or paths, paths, strict=True):
                parts[label] = timed(page(client, path), count, warmup)
        except RuntimeError as error:
            results.append(Result(name, [], target, str(error)[:90]))
            return
        results.append(Result(name, list(chain(*parts.values())), target, parts=parts if labels else {}))

    base = f"/reviews/{review_id}"
    if not public_only:
        triage_paths = [base + "/comments" + ("?" + urlencode(page_arguments(q)) if q else "") for _n, q in TRIAGE_QUERIES]
        measure(f"GET {base}/comments, {len(TRIAGE_QUERIES)} page/filter mixes", "/reviews/<>/comments", staff, triage_paths,
                runs, TRIAGE_TARGET_S, labels=[name for name, _q in TRIAGE_QUERIES], warmup=1)
        if largest_group is not None:
            measure(f"GET {base}/comments/groups/<largest>", "/reviews/<>/comments/groups/<>", staff,
                    [f"{base}/comments/groups/{largest_group}"], runs, TRIAGE_TARGET_S, warmup=1)
        report_paths = [base + "/report", base + "/report?page=250", base + "/report?page=100000"]
        measure(f"GET {base}/report (staff), first/middle/last page", "/reviews/<>/report", staff, report_paths, runs,
                TRIAGE_TARGET_S, labels=["first", "page 250", "last"], warmup=1)
        measure(f"GET {base}/report?page=all (staff, to print)", "/reviews/<>/report", staff, [base + "/report?page=all"],
                csv_runs, None)
        measure(f"GET {base}/report.csv (staff)", "/reviews/<>/report.csv", staff, [base + "/report.csv"], csv_runs,
                CSV_TARGET_S)
        measure(f"GET /public/reviews/{review_id} (signed out)", "/public/reviews/<>", visitor,
                [f"/public/reviews/{review_id}"], runs, None, warmup=1)
    else:
        public_report = f"/public/reviews/{review_id}/report"
        measure(f"GET {public_report} (signed out), first/middle/last page", "/public/reviews/<>/report", visitor,
                [public_report, public_report + "?page=250", public_report + "?page=100000"], runs, TRIAGE_TARGET_S,
                labels=["first", "page 250", "last"], warmup=1)
        measure(f"GET {public_report}?page=all (signed out, to print)", "/public/reviews/<>/report", visitor,
                [public_report + "?page=all"], csv_runs, None)
        measure(f"GET /public/reviews/{review_id}/report.csv (signed out)", "/public/reviews/<>/report.csv", visitor,
                [f"/public/reviews/{review_id}/report.csv"], csv_runs, CSV_TARGET_S)


def time_submits(factory: Any, loaded: Loaded, count: int, results: list[Result]) -> str:
    """``submit`` on top of the bulk load (one transaction each, as a web request would), checking that each
    comment lands in the group the in-memory replay predicts."""
    rng = random.Random(7)
    allowed = tuple(load_vocabularies(workflows_dir()).comment_categories)
    times: list[float] = []
    agreed = joined = 0
    for index in range(count):
        category = weighted(rng, CATEGORIES)
        mode = weighted(rng, MODES)
        name = None if mode == "anonymous" else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if index % 2:
            body = campaign_body(rng, rng.choice(loaded.campaign_letters), name) + f" (sent {index})"
        else:
            body = unique_body(rng, category)
        body = body.strip()
        print_ = comments.fingerprint(body)
        predicted = loaded.grouper.group_for(body, print_)
        gc.collect()
        started = time.perf_counter()
        with transaction(factory) as session:
            comment = comments.submit(session, Actor.anonymous(), loaded.review_id, body=body, identity=mode, name=name,
                                      email=None, category=category, allowed_categories=allowed).comment
            comment_id, group_id = comment.id, comment.group_id
        times.append(time.perf_counter() - started)
        agreed += group_id == (predicted or comment_id)
        joined += predicted is not None
        loaded.grouper.add(comment_id, body, print_, group_id)
    results.append(Result("submit() on top of the load, one transaction each", times))
    return f"{agreed}/{count} submitted comments landed in the group the bulk load's replay predicted ({joined} joined a group)"


def answer_and_close(factory: Any, review_id: int, results: list[Result]) -> None:
    """Answer the largest open campaign with a group disposition (timed), every other comment in bulk, then close."""
    with transaction(factory) as session:
        ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
        group_id, size = session.execute(
            select(Comment.group_id, func.count()).where(Comment.review_id == review_id, Comment.disposition.is_(None),
                                                         Comment.hidden_at.is_(None))
            .group_by(Comment.group_id).order_by(func.count().desc()).limit(1)).one()
        started = time.perf_counter()
        comments.disposition_group(session, ombuds, review_id, group_id, disposition="not_accepted",
                                   response=RESPONSES["not_accepted"])
        session.flush()
        results.append(Result(f"disposition_group() of a {size:,}-comment campaign", [time.perf_counter() - started]))
    with transaction(factory) as session:
        ombuds_id = session.scalar(select(User.id).where(User.username == "ombuds"))
        session.execute(update(Comment).where(Comment.review_id == review_id, Comment.disposition.is_(None),
                                              Comment.hidden_at.is_(None))
                        .values(disposition="out_of_scope", response=RESPONSES["out_of_scope"], dispositioned_at=utcnow(),
                                dispositioned_by_id=ombuds_id))
    with transaction(factory) as session:
        review = session.get(Review, review_id)
        ombuds = Actor.of(session.scalar(select(User).where(User.username == "ombuds")))
        after = datetime.combine(review.comment_closes_on + timedelta(days=1), datetime.min.time(), tzinfo=utcnow().tzinfo)
        started = time.perf_counter()
        reviews.perform_action(session, ombuds, review_id, "close_comment_period", "Every comment answered.", now=after)
        results.append(Result("close_comment_period (condition over every comment)", [time.perf_counter() - started]))


def run(kind: str, url: str, args: argparse.Namespace) -> None:
    results: list[Result] = []
    started = time.perf_counter()
    prepare(url)
    loaded = load_comments(url, args.comments)
    print(f"{kind}: demo loaded and {args.comments:,} comments bulk-loaded in {time.perf_counter() - started:.1f} s "
          f"(fingerprints {loaded.fingerprint_seconds:.1f} s); {loaded.comments:,} comments on review {loaded.review_id} "
          f"in {loaded.groups:,} groups, the largest {loaded.largest_group:,}")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    agreement = time_submits(factory, loaded, args.submits, results)
    print(f"{kind}: {agreement}")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    measure_service(factory, loaded.review_id, args.runs, args.csv_runs, results,
                    with_csv_route=route_exists(app, "/reviews/<>/report.csv"))
    with transaction(factory) as session:
        largest = session.scalar(select(Comment.group_id).where(Comment.review_id == loaded.review_id)
                                 .group_by(Comment.group_id).order_by(func.count().desc()).limit(1))
    measure_pages(app, loaded.review_id, args.runs, args.csv_runs, results, largest_group=largest)
    answer_and_close(factory, loaded.review_id, results)
    measure_pages(app, loaded.review_id, args.runs, args.csv_runs, results, public_only=True)
    if not route_exists(app, "/public/reviews/<>/report.csv"):
        with transaction(factory) as session:
            def public_export() -> None:
                csv_text(comments.export_rows(session, Actor.anonymous(), loaded.review_id))
                session.expunge_all()

            results.append(Result("service export_rows() -> csv.writer (public, after closing)",
                                  timed(public_export, args.csv_runs), CSV_TARGET_S))
    engine.dispose()
    app.config["SESSION_FACTORY"].kw["bind"].dispose()
    print()
    print_table([f"{kind}: operation", "n", "median ms", "p95 ms", "target", ""], [r.row() for r in results])
    mixes = [r for r in results if r.parts]
    if mixes:
        rows = [[name] + [f"{statistics.median(r.parts[name]) * 1000:.1f} / {p95(r.parts[name]) * 1000:.1f}"
                          if name in r.parts else "-" for r in mixes] for name, _q in TRIAGE_QUERIES]
        print_table([f"{kind}: triage mix (median / p95 ms)", *(r.name.split(",")[0] for r in mixes)], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="5,000 comments and fewer runs")
    parser.add_argument("--comments", type=int, default=None, help="comments to bulk-load (default 50,000)")
    parser.add_argument("--submits", type=int, default=None, help="comments to submit through the service (default 200)")
    parser.add_argument("--runs", type=int, default=None, help="runs of each triage page/filter mix and small page")
    parser.add_argument("--csv-runs", type=int, default=None, help="runs of each report and CSV export")
    parser.add_argument("--postgres", default=os.environ.get("POLICYFLOW_TEST_DATABASE_URL"))
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="run on one backend")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite database (and print where it is)")
    args = parser.parse_args()
    args.comments = args.comments or (5_000 if args.quick else 50_000)
    args.submits = args.submits if args.submits is not None else (40 if args.quick else 200)
    args.runs = args.runs or (3 if args.quick else 10)
    args.csv_runs = args.csv_runs or (3 if args.quick else 7)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    if args.only:
        if args.only == "postgresql" and not args.postgres:
            parser.error("--only postgresql needs --postgres URL (or POLICYFLOW_TEST_DATABASE_URL)")
        kinds = [args.only]
    print(f"policyflow comments benchmark; {os.cpu_count()} CPU(s); {args.comments:,} comments on one review, "
          f"{args.submits} submits; {args.runs} runs per page/filter mix, {args.csv_runs} per report/export")
    instance = None
    if not os.environ.get("POLICYFLOW_INSTANCE_PATH"):  # the app's instance folder (its secret key file)
        instance = tempfile.mkdtemp(prefix="pf-bench-inst-")
        os.environ["POLICYFLOW_INSTANCE_PATH"] = instance
    for kind in kinds:
        url, cleanup = fresh_database(kind, args.postgres)
        try:
            run(kind, url, args)
        finally:
            drop(cleanup)
            if kind == "sqlite" and not args.keep:
                shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
            elif kind == "sqlite":
                print(f"kept {url}")
    if instance:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
