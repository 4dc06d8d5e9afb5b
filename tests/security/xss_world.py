"""The permission matrix's world with every XSS payload stored in every place that keeps text.

Seeded with direct service calls (one shared world per backend, not an HTTP round trip per payload and
field). A service may refuse a payload (a NUL byte, a too long name): that refusal is fine, and the rest
is still stored. Where a state cannot be reached through a service any more (comments and responses of a
finished review, whose report is public), the stored rows are rewritten directly.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.errors import PolicyflowError
from policyflow.core.vocabulary import DEFAULT_CONCERN_THEMES
from policyflow.models import Comment, Review, User
from policyflow.resources import workflows_dir
from policyflow.services import accounts, annotations, comments, concerns, decisions, equity, importer, policies, reviews
from policyflow.services.actors import Actor
from policyflow.services.reviews import load_named_workflow
from tests.conftest import STORE
from tests.web import permission_world
from tests.web.permission_world import World

XSS_CODE = "XSSALL"
IMPORTED_CODE = "XSSIMP"


@dataclass
class XssWorld:
    base: World
    payloads: list[str]
    review: int = 0                      # the review started on XSSALL (draft -> equity review, with a note)
    titled: list[str] = field(default_factory=list)   # codes of the policies titled with a payload
    stored: dict[str, int] = field(default_factory=dict)  # place -> payloads it accepted
    refused: dict[str, int] = field(default_factory=dict)


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def _store(session: Session, world: XssWorld, place: str, action: Callable[[], Any]) -> None:
    """Run one write in a savepoint; a refusal (a domain error) leaves nothing half-written."""
    try:
        with session.begin_nested():
            action()
        world.stored[place] = world.stored.get(place, 0) + 1
    except PolicyflowError:
        world.refused[place] = world.refused.get(place, 0) + 1


def _joined(payloads: list[str]) -> str:
    """Every payload in a paragraph of its own (without NUL, which a policy text refuses as a whole)."""
    return "\n\n".join(f"Paragraph {i}: {payload}".replace("\x00", "") for i, payload in enumerate(payloads))


def build(session: Session, payloads: list[str]) -> XssWorld:
    world = XssWorld(permission_world.build(session), payloads)
    base = world.base
    ombuds = Actor.of(_user(session, "ombuds"))
    system = Actor.system()
    today = datetime.now(UTC).date()

    # Display names and positions: authors and deciders are shown by name on many pages.
    named = accounts.create_user(session, system, "xssnamed", "a-long-enough-passphrase", ["ombuds"],
                                 display_name=payloads[0][:100], position=payloads[1][:100])
    named_actor = Actor.of(named)
    for user, payload in ((_user(session, "reviewer"), payloads[2]), (_user(session, "leader2"), payloads[3])):
        user.display_name = payload[:100]

    # Policy text, titles and summaries: one policy holding every payload, and one per payload in its title.
    first = policies.create_policy(session, named_actor, STORE, code=XSS_CODE, title="XSS " + payloads[4],
                                   text="# Heading\n\n" + _joined(payloads) + "\n",
                                   summary=" ".join(payloads).replace("\x00", "")[:500])
    policy = first.policy
    policies.save_version(session, ombuds, STORE, policy, text="# Heading changed\n\n" + _joined(payloads[::-1]) + "\n",
                          summary=payloads[5], base_version=1)
    for number, payload in enumerate(payloads):
        code = f"XSS{number:03d}"
        _store(session, world, "title", lambda code=code, payload=payload: policies.create_policy(
            session, ombuds, STORE, code=code, title=f"T {payload}", text=f"# {payload}\n\n{payload}\n", summary=payload))
        world.titled.append(code)

    # Annotations, tags and replies on XSSALL, and public ones on the policy open for comment.
    version_text = policies.version_text(session, policy, policies.get_version(session, ombuds, policy, 1))
    start = version_text.index("Paragraph")
    target = {"exact": version_text[start:start + 11], "start": start, "end": start + 11}
    commented = session.get(Review, base.reviews["stakeholder_comment"])
    assert commented is not None
    commented_text = policies.version_text(session, commented.policy,
                                           policies.get_version(session, ombuds, commented.policy, base.note_version))
    at = commented_text.index("\n\n") + 2
    note_target = {"exact": commented_text[at:at + 24], "start": at, "end": at + 24}
    for payload in payloads:
        def note(payload: str = payload) -> None:
            tag = payload[:40].strip().lower().replace(" ", "-")  # as if the district's tag list held it
            made = annotations.create(session, ombuds, policy, 1, target=dict(target), body=payload,
                                      visibility="internal", tags=[tag], allowed_tags=[tag])
            annotations.reply(session, ombuds, made.id, payload)
        _store(session, world, "annotation", note)
        _store(session, world, "public note", lambda payload=payload: annotations.create(
            session, ombuds, commented.policy, base.note_version, target=dict(note_target), body=payload,
            visibility="public"))

    # Comments of each identity mode with the payload as body and name, answered and hidden with it.
    for number, payload in enumerate(payloads):
        mode = ("public", "confidential", "anonymous")[number % 3]
        def comment(payload: str = payload, mode: str = mode) -> None:
            submitted = comments.submit(session, Actor.anonymous(), commented.id, body=f"{payload} comment {len(payload)}",
                                        identity=mode, name=None if mode == "anonymous" else payload[:200],
                                        allowed_categories=())
            comments.set_disposition(session, ombuds, submitted.comment.id, disposition="accepted", response=payload)
        _store(session, world, "comment", comment)
    hidden = comments.submit(session, Actor.anonymous(), commented.id, body="A comment to hide away.", identity="anonymous",
                             allowed_categories=())
    _store(session, world, "hide reason", lambda: comments.hide(session, ombuds, hidden.comment.id, payloads[6]))

    # The finished review's public report: its comments rewritten to carry the payloads.
    finished = session.scalars(select(Comment).where(Comment.review_id == base.reviews["published"])
                               .order_by(Comment.id).limit(len(payloads))).all()
    for row, payload in zip(finished, payloads, strict=False):
        row.body, row.name, row.identity_mode, row.response = payload, payload[:200], "public", payload
        row.hidden_at = None

    # Equity answers (every text question) on the review in equity review.
    state = equity.get(session, ombuds, base.reviews["equity_review"])
    text_questions = [q.id for q in equity.definition_of(state.assessment).questions if q.type == "text"] \
        if state.assessment is not None else []
    if text_questions:
        answers = {question: payloads[i % len(payloads)] for i, question in enumerate(text_questions)}
        _store(session, world, "equity answers", lambda: equity.save_answers(
            session, ombuds, base.reviews["equity_review"], answers, state.revision))

    # Action notes and decisions: a review on XSSALL moved with a payload note; a leader's note and recusal.
    definition = load_named_workflow(workflows_dir(), "standard-review")
    review = reviews.start_review(session, ombuds, policy, definition)
    world.review = review.id
    _store(session, world, "action note", lambda: reviews.perform_action(
        session, ombuds, review.id, "submit_for_equity_review", payloads[7]))
    approval = session.get(Review, base.reviews["approval"])
    assert approval is not None
    _store(session, world, "decision note", lambda: decisions.decide(
        session, Actor.of(_user(session, "leader2")), approval.id, decision="approve", version=approval.version_number,
        note=payloads[8]))
    _store(session, world, "recusal", lambda: decisions.recuse(session, Actor.of(_user(session, "leader1")), approval.id,
                                                               payloads[9]))

    # Concerns: summary, school, identity, working notes, consent.
    for payload in payloads[:20]:
        def concern(payload: str = payload) -> None:
            made = concerns.record(session, ombuds, received_on=today, channel="phone", raised_by="parent_guardian",
                                   summary=payload, themes=["enrollment"], school_or_department=payload[:100],
                                   name=payload[:100], contact=payload[:100],
                                   links=[concerns.PolicyLink(base.published)],
                                   allowed_themes=DEFAULT_CONCERN_THEMES, allowed_subgroups=())
            concerns.add_note(session, ombuds, made.id, payload)
        _store(session, world, "concern", concern)

    # A file import (Markdown with front matter), published so the public pages show it.
    with tempfile.TemporaryDirectory() as folder:
        title = payloads[10].replace("\\", "").replace('"', "'")
        Path(folder, "xss.md").write_text(
            f'---\ncode: {IMPORTED_CODE}\ntitle: "{title}"\nsummary: "{title}"\npublished: true\n---\n'
            + _joined(payloads) + "\n", encoding="utf-8")
        _store(session, world, "import", lambda: importer.import_files(
            session, ombuds, STORE, importer.read_directory(Path(folder), STORE.max_text_bytes)))
    session.flush()
    return world
