"""The objects the permission matrix visits: one of each kind in each state that changes who may see it.

Built on the demo (reviews in every stage of the standard workflow) plus a few objects of our own whose
text is a marked secret, so a leak is found by searching every response body for the marks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from policyflow.core.vocabulary import DEFAULT_CONCERN_THEMES
from policyflow.models import ApiToken, Comment, Notification, Policy, Review, User
from policyflow.services import accounts, annotations, comments, concerns, equity, policies
from policyflow.services.actors import Actor
from tests.conftest import STORE

ROLES = ("anonymous", "stakeholder", "reviewer", "leadership", "ombuds", "admin")
USERNAMES = {"stakeholder": "stakeholder", "reviewer": "reviewer", "leadership": "leader1", "ombuds": "ombuds", "admin": "admin"}
STAFF = frozenset({"reviewer", "leadership", "ombuds", "admin"})

# Marked secrets and who may read each (everyone else must never receive it, in any response).
CONFIDENTIAL_NOTE = "MXSECRET confidential note about a family"
INTERNAL_NOTE = "MXSECRET internal note for staff"
PUBLIC_NOTE = "Matrix public note visible once public"
SEALED_NAME = "Mxsealed Commentername"
SEALED_EMAIL = "mxsealed.commenter@example.org"
PUBLIC_EMAIL = "mxpublic.commenter@example.org"
CONCERN_NAME = "Mxconcern Raisedbyname"
CONCERN_CONTACT = "mxconcern.person@example.org"
CONCERN_NOTE = "MXSECRET working note of the ombuds"
UNPUBLISHED_TEXT = "MXSECRET wording of a policy never published"
DRAFT_TEXT = "MXSECRET wording of a draft of a published policy"

READERS: dict[str, frozenset[str]] = {
    CONFIDENTIAL_NOTE: frozenset({"ombuds"}),
    INTERNAL_NOTE: frozenset({"ombuds", "reviewer", "leadership"}),
    SEALED_NAME: frozenset({"ombuds"}),
    SEALED_EMAIL: frozenset({"ombuds"}),
    PUBLIC_EMAIL: frozenset({"ombuds"}),
    CONCERN_NAME: frozenset({"ombuds"}),
    CONCERN_CONTACT: frozenset({"ombuds"}),
    CONCERN_NOTE: frozenset({"ombuds"}),
    UNPUBLISHED_TEXT: STAFF,
    DRAFT_TEXT: STAFF,
}


@dataclass
class World:
    """Ids and codes the matrix's paths are filled from (``str.format`` fields)."""

    published: str = "JD"          # published, its review finished
    unpublished: str = "MXDRAFT"   # never published: staff only
    reviews: dict[str, int] = field(default_factory=dict)   # state -> review id
    codes: dict[str, str] = field(default_factory=dict)     # state -> policy code
    draft_number: int = 0          # a version of the published policy newer than its published one
    published_number: int = 0
    notes: dict[str, int] = field(default_factory=dict)     # visibility -> annotation id (on the commented policy)
    note_version: int = 0
    comments: dict[str, int] = field(default_factory=dict)  # identity mode -> comment id (open comment period)
    group: int = 0
    sealed_group: int = 0          # the confidential comment's group
    concern: int = 0
    consent: int = 0
    notification: int = 0          # the ombuds' own
    token: int = 0                 # the ombuds' own API token
    receipt: str = ""              # a confidential commenter's receipt link token
    tokens: dict[str, str] = field(default_factory=dict)    # role -> bearer token
    approval_version: int = 0      # the version under leadership approval
    draft_version: int = 0         # the version of the review in draft
    equity_revision: int = 0       # the equity assessment's revision in the review under equity review
    today: str = ""
    note_quote: str = ""           # words of the commented version, to select for a new note

    def fields(self) -> dict[str, object]:
        values: dict[str, object] = {"published": self.published, "unpublished": self.unpublished,
                                     "draft_number": self.draft_number, "published_number": self.published_number,
                                     "note_version": self.note_version, "group": self.group, "sealed_group": self.sealed_group,
                                     "concern": self.concern,
                                     "consent": self.consent, "notification": self.notification, "token": self.token,
                                     "receipt": self.receipt, "approval_version": self.approval_version,
                                     "draft_version": self.draft_version, "equity_revision": self.equity_revision,
                                     "today": self.today, "note_quote": self.note_quote}
        values.update({f"review_{state}": rid for state, rid in self.reviews.items()})
        values.update({f"code_{state}": code for state, code in self.codes.items()})
        values.update({f"note_{visibility}": nid for visibility, nid in self.notes.items()})
        values.update({f"comment_{mode}": cid for mode, cid in self.comments.items()})
        return values


def build(session: Session) -> World:
    """Add the marked objects to the demo and note where everything is."""
    world = World()
    ombuds = Actor.of(_user(session, "ombuds"))
    for review in session.scalars(select(Review).order_by(Review.id)):
        world.reviews.setdefault(review.state, review.id)
        world.codes.setdefault(review.state, review.policy.code)
    world.approval_version = session.get(Review, world.reviews["approval"]).version_number
    world.draft_version = session.get(Review, world.reviews["draft"]).version_number
    world.equity_revision = equity.get(session, ombuds, world.reviews["equity_review"]).revision
    world.today = datetime.now(UTC).date().isoformat()
    policies.create_policy(session, ombuds, STORE, code=world.unpublished, title="Matrix unpublished policy",
                           text=f"# Matrix unpublished policy\n\n{UNPUBLISHED_TEXT}.\n", summary="First draft.")
    published = policies.get_policy(session, ombuds, world.published)
    world.published_number = published.published_version_number or 0
    text = policies.version_text(session, published, policies.get_version(session, ombuds, published, published.head_version_number))
    draft = policies.save_version(session, ombuds, STORE, published, text=text + f"\n{DRAFT_TEXT}.\n", summary="Next draft.",
                                  base_version=published.head_version_number)
    world.draft_number = draft.version.number

    commented = session.get(Review, world.reviews["stakeholder_comment"])
    assert commented is not None
    world.note_version = commented.version_number
    version = policies.get_version(session, ombuds, commented.policy, world.note_version)
    body = policies.version_text(session, commented.policy, version)
    start = body.index("\n\n") + 2
    world.note_quote = re.search(r"[A-Za-z]+(?: [A-Za-z]+){3}", body[start:]).group(0)
    target = {"exact": body[start:start + 24], "start": start, "end": start + 24}
    for visibility, text_ in (("confidential", CONFIDENTIAL_NOTE), ("internal", INTERNAL_NOTE), ("public", PUBLIC_NOTE)):
        note = annotations.create(session, ombuds, commented.policy, world.note_version, target=dict(target), body=text_,
                                  visibility=visibility)
        world.notes[visibility] = note.id

    submitted = comments.submit(session, Actor.anonymous(), commented.id, body="Matrix confidential comment on the policy.",
                                identity="confidential", name=SEALED_NAME, email=SEALED_EMAIL,
                                allowed_categories=())
    world.comments["confidential"] = submitted.comment.id
    world.sealed_group = submitted.comment.group_id or submitted.comment.id
    world.receipt = submitted.receipt_token
    public = comments.submit(session, Actor.anonymous(), commented.id, body="Matrix public comment with its own wording.",
                             identity="public", name="Mx Publicname", email=PUBLIC_EMAIL,
                             allowed_categories=())
    world.comments["public"] = public.comment.id
    world.group = public.comment.group_id or public.comment.id
    anonymous = comments.submit(session, Actor.anonymous(), commented.id, body="Matrix anonymous comment, no name kept.",
                                identity="anonymous", allowed_categories=())
    world.comments["anonymous"] = anonymous.comment.id

    concern = concerns.record(session, ombuds, received_on=datetime.now(UTC).date(), channel="phone", raised_by="parent_guardian",
                              summary="A parent says the enrollment office turned them away.", themes=["enrollment"],
                              name=CONCERN_NAME, contact=CONCERN_CONTACT, links=[concerns.PolicyLink(world.published)],
                              allowed_themes=DEFAULT_CONCERN_THEMES, allowed_subgroups=())
    concerns.add_note(session, ombuds, concern.id, CONCERN_NOTE)
    consent = concerns.record_consent(session, ombuds, concern.id, what="The summary", with_whom="Enrollment office",
                                      given_on=datetime.now(UTC).date())
    world.concern, world.consent = concern.id, consent.id

    ombuds_user = _user(session, "ombuds")
    world.notification = session.scalar(select(Notification.id).where(Notification.user_id == ombuds_user.id)
                                        .order_by(Notification.id)) or 0
    for role, username in USERNAMES.items():
        _row, token = accounts.create_token(session, _user(session, username), "matrix")
        world.tokens[role] = token
    world.token = session.scalar(select(ApiToken.id).where(ApiToken.user_id == ombuds_user.id).order_by(ApiToken.id.desc())) or 0
    session.flush()
    assert session.scalar(select(Policy.id).where(Policy.code == world.unpublished))
    assert session.get(Comment, world.comments["confidential"]) is not None
    assert world.notification and world.draft_number > world.published_number
    return world


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None, username
    return user
