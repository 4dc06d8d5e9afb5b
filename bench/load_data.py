"""A district-sized database for the load benchmark, built in bulk in well under three minutes.

    python bench/load_data.py postgresql+psycopg://postgres@127.0.0.1:5432/policyflow_load

What the services would be too slow to write one row at a time is computed in Python and inserted in
bulk (``executemany`` batches); what must be right comes from the real domain code: every version's
patch, keyframe, SHA-256, change counts and rendered HTML from the store's functions
(``core.diffing``, ``core.versioning``, ``core.rendering``), note selectors cut with the annotation
service's context width and carried to the next version by ``core.anchoring.reanchor_many``, comments
with the comment service's identity rules, fingerprints and near-duplicate groups (the replay in
``comments_bench``). The demo data (loaded by ``services.demo``) adds users of every role, reviews in
every stage, the hash-chained audit trail and the search index through the services themselves.

The result: the demo's ten policies plus ``--policies`` generated ones with ``--versions`` versions
each, ``--annotations`` notes (the policy ``LOAD0000`` with exactly 200 on its newest version, made
there or carried from the one before; the rest spread over the other policies and their versions),
``--comments`` comments on the open comment period, 32 reviews in draft for the review-action
benchmark, and some more staff and stakeholder accounts.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text
from textgen import edit_sentences, policy_text

from policyflow import migrate
from policyflow.core.anchoring import reanchor_many
from policyflow.core.diffing import change_stats, diff, patch_from_ops
from policyflow.core.rendering import RENDERER_VERSION, render_markdown
from policyflow.core.versioning import is_keyframe, sha256_text
from policyflow.db import make_engine, make_session_factory, transaction
from policyflow.models import (
    Annotation,
    AnnotationPlacement,
    AnnotationReply,
    Policy,
    PolicyVersion,
    SearchEntry,
    User,
    UserRole,
)
from policyflow.models.base import utcnow
from policyflow.resources import workflows_dir
from policyflow.services import annotations, demo, reviews, search
from policyflow.services.accounts import hash_password
from policyflow.services.actors import Actor
from policyflow.services.policies import StoreSettings

BIG_POLICY = "LOAD0000"  # the policy whose newest version carries exactly BIG_NOTES notes
BIG_NOTES = 200
ACTION_REVIEWS = 32  # reviews in draft, one per client of the review-action benchmark
KEYFRAME_INTERVAL = 10
BATCH = 5_000
SECTIONS = ("Students", "Instruction", "Community Relations", "Support Services", "Personnel", "Board Governance",
            "Fiscal Management", "Facilities")
NOTE_BODIES = (
    "This sentence needs a plain-language rewrite before the comment period.",
    "Check this against the state statute; the deadline may differ.",
    "Families told the ombuds office this step is where they get stuck.",
    "Does this apply to students experiencing homelessness as well?",
    "The equity review flagged this: who bears the cost?",
    "Please **define** this term in the Definitions section.",
    "Leadership asked whether this duplicates the administrative regulation.",
    "Consider the translation burden for families whose home language is not English.",
)
REPLIES = ("Agreed; drafting a change.", "Legal confirmed the wording is required.", "Added to the next draft.",
           "Let's discuss at the Thursday meeting.")
TAGS = ("equity", "legal", "plain-language", "family-impact", "data")


@dataclass(frozen=True)
class Built:
    policies: int
    versions: int
    annotations: int
    comments: int
    seconds: float
    big_policy: str
    comment_review_id: int
    action_review_ids: list[int]


# ---------------------------------------------------------------------------------------------
# One policy's history and notes, computed in a worker process
# ---------------------------------------------------------------------------------------------

def _spans(text: str, rng: random.Random, count: int) -> list[tuple[int, int]]:
    """Passages people select: a few words inside a line of prose."""
    spans = []
    while len(spans) < count:
        start = rng.randrange(0, max(1, len(text) - 80))
        start = text.find(" ", start) + 1
        end = text.find(" ", start + rng.randint(12, 60))
        if 0 < start < end and "\n" not in text[start:end] and text[start:end].strip():
            spans.append((start, end))
    return spans


def _note(text: str, span: tuple[int, int], rng: random.Random) -> dict[str, Any]:
    """An annotation row as ``annotations.create`` stores it (same selector and context width)."""
    start, end = span
    context = annotations.CONTEXT_CHARS
    visibility = rng.choice(("confidential", "internal", "internal", "public"))
    return {"exact": text[start:end], "prefix": text[max(0, start - context):start], "suffix": text[end:end + context],
            "start": start, "end": end, "body": rng.choice(NOTE_BODIES), "visibility": visibility,
            "tags": rng.sample(TAGS, rng.randint(0, 2)), "blocking": rng.random() < 0.03}


def build_policy(index: int, versions: int, notes: int, size: int) -> dict[str, Any]:
    """Every version of one generated policy (as ``save_version`` stores them) and its notes."""
    rng = random.Random(index)
    texts = [policy_text(size + rng.randint(-size // 3, size // 3), seed=index * 7919 + 1)]
    for number in range(2, versions + 1):
        texts.append(edit_sentences(texts[-1], rng.uniform(0.02, 0.08), seed=index * 131 + number))
    rows = []
    for number, body in enumerate(texts, start=1):
        ops = diff(texts[number - 2] if number > 1 else "", body)
        stats = change_stats(ops)
        keep_text = number == versions or is_keyframe(number, KEYFRAME_INTERVAL)
        rows.append({"number": number, "sha256": sha256_text(body), "summary": f"Revision {number}.",
                     "patch": patch_from_ops(ops) if number > 1 else None, "full_text": body if keep_text else None,
                     "is_keyframe": is_keyframe(number, KEYFRAME_INTERVAL), "text_length": len(body),
                     "words_inserted": stats.words_inserted, "words_deleted": stats.words_deleted if number > 1 else 0,
                     "html": render_markdown(body), "html_renderer": RENDERER_VERSION})
    made: list[dict[str, Any]] = []
    carried: list[dict[str, Any]] = []  # notes made on the previous version, placed on the newest
    if index == 0:
        # Exactly BIG_NOTES on the newest version: 160 made there, 40 open on the one before and carried.
        head, before = texts[-1], texts[-2]
        previous = [dict(_note(before, span, rng), version_number=versions - 1, status="open")
                    for span in _spans(before, rng, 40)]
        results = reanchor_many(before, head, [{key: n[key] for key in ("exact", "prefix", "suffix", "start", "end")}
                                               for n in previous])
        for note, result in zip(previous, results, strict=True):
            note["placement"] = result
        carried = previous
        made = [dict(_note(head, span, rng), version_number=versions, status=rng.choice(("open", "open", "resolved")))
                for span in _spans(head, rng, BIG_NOTES - len(previous))]
    else:
        # Spread over the versions; notes on earlier versions were resolved before the next one was saved
        # (only open notes are carried forward).
        for _ in range(notes):
            number = rng.randint(1, versions)
            status = rng.choice(("open", "resolved")) if number == versions else "resolved"
            made.append(dict(_note(texts[number - 1], _spans(texts[number - 1], rng, 1)[0], rng),
                             version_number=number, status=status))
    if index <= ACTION_REVIEWS:  # the review-action benchmark needs these reviews free of open blocking notes
        for note in made + carried:
            note["blocking"] = False
    return {"index": index, "versions": rows, "notes": made + carried}


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

def _insert(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(table), rows[start:start + BATCH])


def _next_id(session: Any, column: Any) -> int:
    return (session.scalar(select(func.max(column))) or 0) + 1


def _extra_users(session: Any) -> dict[str, list[int]]:
    """More accounts in every role (one password hash for all: argon2 is slow on purpose)."""
    password = hash_password(demo.DEMO_PASSWORD)
    wanted = {"ombuds": 4, "reviewer": 12, "leadership": 6, "admin": 2, "stakeholder": 150}
    first = _next_id(session, User.id)
    users, roles = [], []
    for role, count in wanted.items():
        for n in range(count):
            user_id = first + len(users)
            users.append({"id": user_id, "username": f"load-{role}-{n}", "display_name": f"Load {role.title()} {n}",
                          "email": f"load-{role}-{n}@example.org", "password_hash": password, "created_at": utcnow()})
            roles.append({"user_id": user_id, "role": role})
    _insert(session, User, users)
    _insert(session, UserRole, roles)
    by_role: dict[str, list[int]] = {}
    for row in session.execute(select(UserRole.role, UserRole.user_id)):
        by_role.setdefault(row.role, []).append(row.user_id)
    return by_role


def _writer(visibility: str, by_role: dict[str, list[int]], rng: random.Random) -> int:
    roles = sorted(annotations.WRITERS[visibility])
    return rng.choice(by_role[rng.choice(roles)])


def _load_policies(session: Any, built: list[dict[str, Any]], by_role: dict[str, list[int]],
                   rng: random.Random) -> tuple[int, int]:
    """Policies, versions, notes (with replies and placements) and their search entries, in bulk."""
    now = utcnow()
    policy_id = _next_id(session, Policy.id)
    version_id = _next_id(session, PolicyVersion.id)
    note_id = _next_id(session, Annotation.id)
    authors = by_role["ombuds"] + by_role["admin"]
    policy_rows, version_rows, note_rows, reply_rows, placement_rows, entry_rows = [], [], [], [], [], []
    for item in sorted(built, key=lambda b: b["index"]):
        versions = item["versions"]
        head = len(versions)
        published = head - 1 if item["index"] % 3 else head  # a third published as is, the rest with draft changes
        created = now - timedelta(days=400)
        policy_rows.append({"id": policy_id, "code": f"LOAD{item['index']:04d}",
                            "title": f"Generated policy {item['index']} on {SECTIONS[item['index'] % len(SECTIONS)].lower()}",
                            "section": SECTIONS[item["index"] % len(SECTIONS)], "owner_department": "Ombuds Office",
                            "head_version_number": head, "published_version_number": published,
                            "created_at": created, "updated_at": now})
        parent = None
        for row in versions:
            when = created + timedelta(days=row["number"] * 18)
            version_rows.append({**row, "id": version_id, "policy_id": policy_id, "parent_id": parent,
                                 "author_id": rng.choice(authors), "created_at": when,
                                 "published_at": when if row["number"] <= published else None})
            parent = version_id
            version_id += 1
        for note in item["notes"]:
            placement = note.pop("placement", None)
            when = created + timedelta(days=note["version_number"] * 18, hours=rng.randint(1, 300))
            note_rows.append({**note, "id": note_id, "policy_id": policy_id, "author_id": _writer(note["visibility"], by_role, rng),
                              "created_at": when, "updated_at": when,
                              "resolved_at": when + timedelta(days=2) if note["status"] == "resolved" else None})
            if placement is not None:
                placement_rows.append({"annotation_id": note_id, "version_number": head, "status": placement["status"],
                                       "start": placement["start"], "end": placement["end"],
                                       "score": float(placement["score"]), "created_at": now})
            for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
                reply_rows.append({"annotation_id": note_id, "author_id": _writer(note["visibility"], by_role, rng),
                                   "body": rng.choice(REPLIES), "created_at": when + timedelta(hours=5)})
            entry_rows.append({"kind": "annotation", "policy_id": policy_id, "version_number": note["version_number"],
                               "annotation_id": note_id, "position": 0, "anchor": "",
                               "title": search._clean(" ".join(note["tags"])), "body": search._clean(note["body"]),
                               "extra": "", "private": ""})
            note_id += 1
        policy_id += 1
    _insert(session, Policy, policy_rows)
    _insert(session, PolicyVersion, version_rows)
    _insert(session, Annotation, note_rows)
    _insert(session, AnnotationReply, reply_rows)
    _insert(session, AnnotationPlacement, placement_rows)
    _insert(session, SearchEntry.__table__, entry_rows)
    session.flush()
    for policy in session.scalars(select(Policy).where(Policy.code.like("LOAD%"))):
        search.index_policy(session, policy)  # head and published texts, through the service
    return len(version_rows), len(note_rows)


def _action_reviews(session: Any, count: int) -> list[int]:
    """Reviews in draft on generated policies (started through the service: audit, notifications)."""
    system = Actor.system()
    definition = reviews.load_named_workflow(workflows_dir(), "standard-review")
    codes = [f"LOAD{n:04d}" for n in range(1, count + 1)]
    started = []
    for policy in session.scalars(select(Policy).where(Policy.code.in_(codes)).order_by(Policy.code)):
        started.append(reviews.start_review(session, system, policy, definition).id)
    return started


def _sync_sequences(session: Any) -> None:
    """Ids were given explicitly; move PostgreSQL's sequences past them."""
    for table in ("users", "user_roles", "policies", "policy_versions", "annotations", "annotation_replies",
                  "annotation_placements", "search_entries"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def build(url: str, *, policies: int = 500, versions: int = 20, notes: int = 50_000, comment_count: int = 100_000,
          text_size: int = 6_000, seed: int = 7) -> Built:
    from comments_bench import load_comments  # the comment bulk loader (identity rules, groups, fingerprints)

    started = time.perf_counter()
    engine = make_engine(url)
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        demo.load(session, StoreSettings(keyframe_interval=KEYFRAME_INTERVAL))
    print(f"  demo data          {time.perf_counter() - started:6.1f} s", flush=True)
    spread = notes - BIG_NOTES
    per_policy = [spread // (policies - 1) + (1 if n <= spread % (policies - 1) else 0) for n in range(1, policies)]
    with ProcessPoolExecutor(2) as pool:
        built = list(pool.map(build_policy, range(policies), [versions] * policies, [0, *per_policy],
                              [text_size] * policies, chunksize=8))
    print(f"  versions computed  {time.perf_counter() - started:6.1f} s", flush=True)
    rng = random.Random(seed)
    with transaction(factory) as session:
        by_role = _extra_users(session)
        version_rows, note_rows = _load_policies(session, built, by_role, rng)
        action_ids = _action_reviews(session, ACTION_REVIEWS)
        if engine.dialect.name == "postgresql":
            _sync_sequences(session)
    print(f"  policies loaded    {time.perf_counter() - started:6.1f} s", flush=True)
    loaded = load_comments(url, comment_count)
    print(f"  comments loaded    {time.perf_counter() - started:6.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))  # as autovacuum would have by now: visibility maps for index-only scans
    engine.dispose()
    return Built(policies + 10, version_rows, note_rows, loaded.comments, time.perf_counter() - started,
                 BIG_POLICY, loaded.review_id, action_ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--policies", type=int, default=500)
    parser.add_argument("--comments", type=int, default=100_000)
    args = parser.parse_args()
    print(build(args.url, policies=args.policies, comment_count=args.comments))


if __name__ == "__main__":
    main()
