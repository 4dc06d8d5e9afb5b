"""The permission matrix: every route x every role x the object states that change the answer.

Each route of the app has an entry (a new route without one fails ``test_every_route_is_in_the_matrix``).
Each case names an object in a state (a review in each stage, a published policy and a never-published
one, notes of each visibility, comments of each identity mode, a concern, someone's notification), sends
the request as each role (anonymous, stakeholder, reviewer, leadership, ombuds, admin) on a fresh copy
of the data, and asserts the exact status. Every response body, whatever its status, is then searched
for the marked secrets (see permission_world.py): a confidential note, a sealed name or e-mail, a
concern's identity or working note, the wording of a non-public draft. A role that may not read one
must not receive it anywhere.

The rules the matrix shows, beyond "staff only" and "ombuds only":
- independence: ombuds staff run the process but never decide or publish; admins cannot read internal
  or confidential notes, concerns or sealed identities;
- impartiality: the author of a version cannot approve it; a recused leader can take no action;
- confidentiality: identities and confidential notes only ever reach ombuds staff.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from policyflow.models import PolicyVersion, Review, User
from policyflow.services import decisions
from policyflow.services.actors import Actor
from policyflow.web import create_app
from tests.conftest import STORE
from tests.web import permission_world
from tests.web.permission_world import (
    CONCERN_CONTACT,
    CONCERN_NAME,
    CONCERN_NOTE,
    CONFIDENTIAL_NOTE,
    DRAFT_TEXT,
    INTERNAL_NOTE,
    READERS,
    ROLES,
    SEALED_EMAIL,
    SEALED_NAME,
    UNPUBLISHED_TEXT,
    USERNAMES,
    World,
)

Expect = dict[str, int]


def E(anonymous: int, stakeholder: int, reviewer: int, leadership: int, ombuds: int, admin: int) -> Expect:
    return dict(zip(ROLES, (anonymous, stakeholder, reviewer, leadership, ombuds, admin), strict=True))


def everyone(status: int) -> Expect:
    return E(status, status, status, status, status, status)


# Pages: visitors are sent to sign in (302); signed-in users without the role get 403.
PAGE_SIGNED_IN = E(302, 200, 200, 200, 200, 200)
PAGE_STAFF = E(302, 403, 200, 200, 200, 200)
PAGE_EDITOR = E(302, 403, 403, 403, 200, 200)
PAGE_OMBUDS = E(302, 403, 403, 403, 200, 403)
# The API: no token is 401 where a user is needed.
API_STAFF = E(401, 403, 200, 200, 200, 200)
API_OMBUDS = E(401, 403, 403, 403, 200, 403)


@dataclass
class Case:
    """One request, sent as every role; ``path`` is formatted with the world's fields."""

    state: str
    path: str
    expect: Expect
    form: dict[str, Any] | None = None       # a page's form fields
    json: Any = None                         # an API request body
    prepare: Callable[[Session, World], None] | None = None  # puts the object in the state first
    shows: tuple[str, ...] = ()              # secrets each role allowed to read them must find here (200)


@dataclass
class Route:
    method: str
    rule: str
    cases: list[Case] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.method} {self.rule}"


def _leader_recused(session: Session, world: World) -> None:
    leader = session.scalar(select(User).where(User.username == USERNAMES["leadership"]))
    decisions.recuse(session, Actor.of(leader), world.reviews["approval"], "My child attends the school this policy names.")


REVIEW_STATES = ("draft", "equity_review", "stakeholder_comment", "approval", "published", "withdrawn")


def per_review(path: str, expect: Callable[[str], Expect], **extra: Any) -> list[Case]:
    """The same request on the review in each stage of the standard workflow."""
    return [Case(state, path.replace("{review}", "{review_" + state + "}").replace("{code}", "{code_" + state + "}"),
                 expect(state), **extra) for state in REVIEW_STATES]


PUBLIC_STATES = ("stakeholder_comment", "approval", "published")  # the public can read a review from its comment period on


def public_review(ok: int = 200) -> Callable[[str], Expect]:
    return lambda state: everyone(ok) if state in PUBLIC_STATES else everyone(404)


def _approved_by_the_cesjo(session: Session, world: World) -> None:
    """The second approval the quorum needs (the demo's approval review has the Superintendent's)."""
    review = session.get(Review, world.reviews["approval"])
    cesjo = session.scalar(select(User).where(User.username == "leader2"))
    decisions.decide(session, Actor.of(cesjo), review.id, decision="approve", version=str(review.version_number), note="")


def _leader_wrote_the_version(session: Session, world: World) -> None:
    review = session.get(Review, world.reviews["approval"])
    leader = session.scalar(select(User).where(User.username == USERNAMES["leadership"]))
    version = session.scalar(select(PolicyVersion).where(PolicyVersion.policy_id == review.policy_id,
                                                         PolicyVersion.number == review.version_number))
    version.author_id = leader.id


def _route(method: str, rule: str, *cases: Case | list[Case]) -> Route:
    flat: list[Case] = []
    for case in cases:
        flat += case if isinstance(case, list) else [case]
    return Route(method, rule, flat)


NOTE_STATES = ("confidential", "internal", "public")
NOTE_READERS = {"confidential": {"ombuds"}, "internal": {"ombuds", "reviewer", "leadership"},
                "public": {"ombuds", "reviewer", "leadership", "admin"}}


def per_note(path: str, ok: int, *, writers: dict[str, set[str]] | None = None, page: bool = False, **extra: Any) -> list[Case]:
    """A note of each visibility: those who cannot read it get 404 (it does not exist for them)."""
    cases = []
    for visibility in NOTE_STATES:
        readers = NOTE_READERS[visibility]
        allowed = (writers or NOTE_READERS)[visibility]
        expect = {role: (ok if role in allowed else 403 if role in readers else 404) for role in ROLES}
        expect["anonymous"] = 302 if page else 401
        if page:
            expect["stakeholder"] = 403
        cases.append(Case(visibility, path.replace("{note}", "{note_" + visibility + "}"), expect, **extra))
    return cases


# A reply has its note's visibility, so only those who may write that visibility reply (leadership writes
# internal notes, not public ones); resolving someone else's note is for ombuds staff and reviewers.
REPLIERS = {"confidential": {"ombuds"}, "internal": {"ombuds", "reviewer", "leadership"}, "public": {"ombuds", "reviewer"}}
RESOLVERS = {"confidential": {"ombuds"}, "internal": {"ombuds", "reviewer"}, "public": {"ombuds", "reviewer"}}
# Re-attaching a note to the version it was made on has nothing to re-attach: ombuds staff hear why (422).
REATTACHERS = {"confidential": {"ombuds"}, "internal": {"ombuds"}, "public": {"ombuds"}}
BACK = {"back": "/policies/{code_stakeholder_comment}/versions/{note_version}"}

MATRIX: list[Route] = [
    # ------------------------------------------------------------------ public pages and sign-in
    _route("GET", "/", Case("home", "/", everyone(200))),
    _route("GET", "/healthz", Case("up", "/healthz", everyone(200))),
    _route("GET", "/readyz", Case("ready", "/readyz", everyone(200))),
    _route("GET", "/static/<path:filename>", Case("stylesheet", "/static/css/app.css", everyone(200))),
    _route("GET", "/login", Case("form", "/login", E(200, 302, 302, 302, 302, 302))),
    _route("POST", "/login", Case("wrong password", "/login", everyone(401),
                                     form={"username": "ombuds", "password": "wrong-password"})),
    _route("POST", "/logout", Case("sign out", "/logout", everyone(302))),
    _route("GET", "/account/password", Case("own account", "/account/password", PAGE_SIGNED_IN)),
    _route("POST", "/account/password", Case("wrong current password", "/account/password", E(302, 401, 401, 401, 401, 401),
                                             form={"current_password": "not-my-password", "new_password": "a-new-passphrase"})),
    _route("GET", "/search", Case("words", "/search?q=students", everyone(200)),
           Case("secret words", "/search?q=MXSECRET", everyone(200)),
           Case("sealed name", "/search?q=Mxsealed", everyone(200))),
    _route("GET", "/public/policies/<code>", Case("published", "/public/policies/{published}", everyone(200)),
           Case("never published", "/public/policies/{unpublished}", everyone(404))),
    _route("GET", "/public/policies/<code>/diff",
           Case("published versions", "/public/policies/{published}/diff", everyone(200)),
           Case("with a draft", "/public/policies/{published}/diff?from={published_number}&to={draft_number}", everyone(404)),
           Case("never published", "/public/policies/{unpublished}/diff", everyone(404))),
    _route("GET", "/public/reviews/<int:review_id>",
           *per_review("/public/reviews/{review}", lambda state: everyone(200 if state == "stakeholder_comment" else 404))),
    _route("POST", "/public/reviews/<int:review_id>/comments",
           *per_review("/public/reviews/{review}/comments",
                       lambda state: everyone(200 if state == "stakeholder_comment" else 404),
                       form={"body": "A comment sent through the matrix.", "identity": "anonymous"})),
    _route("GET", "/public/reviews/<int:review_id>/equity-assessment",
           *per_review("/public/reviews/{review}/equity-assessment", lambda state: everyone(200 if state == "published" else 404))),
    *[_route("GET", f"/public/reviews/<int:review_id>/{name}",
             *per_review(f"/public/reviews/{{review}}/{name}",
                         lambda state: everyone(200 if state in ("approval", "published") else 404)))
      for name in ("report", "report.csv", "report.json")],
    _route("GET", "/public/comments/receipt/<token>", Case("own receipt", "/public/comments/receipt/{receipt}", everyone(200)),
           Case("made-up receipt", "/public/comments/receipt/not-a-real-receipt", everyone(404))),
    _route("POST", "/public/comments/receipt/<token>/disclosure",
           Case("own receipt", "/public/comments/receipt/{receipt}/disclosure", everyone(302), form={"granted": "yes"}),
           Case("made-up receipt", "/public/comments/receipt/not-a-real-receipt/disclosure", everyone(404), form={"granted": "yes"})),
    _route("POST", "/policies/<code>/follow", Case("published", "/policies/{published}/follow", E(302, 302, 302, 302, 302, 302),
                                                   form={"follow": "yes"}),
           Case("never published", "/policies/{unpublished}/follow", E(302, 404, 302, 302, 302, 302), form={"follow": "yes"})),
    # ------------------------------------------------------------------ staff pages: policies and versions
    _route("GET", "/dashboard", Case("home", "/dashboard", PAGE_SIGNED_IN)),
    _route("GET", "/policies", Case("catalogue", "/policies", everyone(200))),
    _route("GET", "/policies/<code>", Case("published", "/policies/{published}", E(302, 302, 200, 200, 200, 200)),
           Case("never published", "/policies/{unpublished}", E(404, 404, 200, 200, 200, 200))),
    _route("GET", "/policies/<code>/history", Case("published", "/policies/{published}/history", everyone(200)),
           Case("never published", "/policies/{unpublished}/history", E(404, 404, 200, 200, 200, 200))),
    _route("GET", "/policies/<code>/versions/<int:number>",
           Case("published version", "/policies/{published}/versions/{published_number}", everyone(200)),
           Case("draft version", "/policies/{published}/versions/{draft_number}", E(404, 404, 200, 200, 200, 200),
                shows=(DRAFT_TEXT,)),
           Case("never published", "/policies/{unpublished}/versions/1", E(404, 404, 200, 200, 200, 200), shows=(UNPUBLISHED_TEXT,)),
           Case("under review, with notes", "/policies/{code_stakeholder_comment}/versions/{note_version}",
                E(404, 404, 200, 200, 200, 200), shows=(CONFIDENTIAL_NOTE, INTERNAL_NOTE))),
    _route("GET", "/policies/<code>/diff",
           Case("published versions", "/policies/{published}/diff", everyone(200)),
           Case("to a draft", "/policies/{published}/diff?from={published_number}&to={draft_number}",
                E(404, 404, 200, 200, 200, 200))),
    _route("GET", "/policies/new", Case("form", "/policies/new", PAGE_EDITOR)),
    _route("POST", "/policies/new", Case("new policy", "/policies/new", E(302, 403, 403, 403, 302, 302),
                                         form={"code": "MXNEW", "title": "Matrix new", "text": "# Matrix new\n\nText.\n",
                                               "summary": "First."})),
    _route("GET", "/policies/<code>/edit", Case("published", "/policies/{published}/edit", PAGE_EDITOR)),
    _route("POST", "/policies/<code>/edit",
           Case("save on the head", "/policies/{published}/edit", E(302, 403, 403, 403, 302, 302),
                form={"text": "# New text\n\nMatrix.\n", "summary": "Matrix.", "base_version": "{draft_number}", "action": "save"}),
           Case("stale base", "/policies/{published}/edit", E(302, 403, 403, 403, 409, 409),
                form={"text": "# New text\n\nMatrix.\n", "summary": "Matrix.", "base_version": "1", "action": "save"})),
    _route("POST", "/policies/<code>/reviews",
           Case("published, no review running", "/policies/{published}/reviews", E(302, 403, 403, 403, 302, 302),
                form={"workflow": "standard-review"}),
           Case("review already running", "/policies/{code_approval}/reviews", E(302, 403, 403, 403, 409, 409),
                form={"workflow": "standard-review"})),
    _route("POST", "/policies/<code>/versions/<int:number>/annotations",
           Case("internal note", "/policies/{code_stakeholder_comment}/versions/{note_version}/annotations",
                E(302, 403, 302, 302, 302, 403), form={"quote": "{note_quote}", "body": "A matrix note.", "visibility": "internal"}),
           Case("confidential note", "/policies/{code_stakeholder_comment}/versions/{note_version}/annotations",
                E(302, 403, 403, 403, 302, 403),
                form={"quote": "{note_quote}", "body": "A matrix note.", "visibility": "confidential"})),
    _route("GET", "/policies/<code>/concerns", Case("published", "/policies/{published}/concerns", PAGE_OMBUDS)),
    _route("GET", "/workflows/<name>", Case("standard", "/workflows/standard-review", PAGE_STAFF),
           Case("unknown", "/workflows/no-such-workflow", E(302, 403, 404, 404, 404, 404)),
           Case("path traversal", "/workflows/..%2f..%2fsetup", everyone(404))),
    _route("GET", "/reports/pipeline", Case("report", "/reports/pipeline", PAGE_STAFF)),
    _route("GET", "/reports/pipeline.csv", Case("report", "/reports/pipeline.csv", PAGE_STAFF)),
    # ------------------------------------------------------------------ notes
    _route("POST", "/annotations/<int:annotation_id>/replies",
           *per_note("/annotations/{note}/replies", 302, page=True, writers=REPLIERS,
                     form={"body": "A matrix reply.", **BACK})),
    _route("POST", "/annotations/<int:annotation_id>/status",
           *per_note("/annotations/{note}/status", 302, page=True, writers=RESOLVERS,
                     form={"status": "resolved", **BACK})),
    _route("POST", "/annotations/<int:annotation_id>/placements/<int:number>",
           *per_note("/annotations/{note}/placements/{note_version}", 302, page=True, writers=REATTACHERS,
                     form={**BACK})),
    # ------------------------------------------------------------------ reviews (pages)
    _route("GET", "/reviews/<int:review_id>", *per_review("/reviews/{review}", lambda state: PAGE_STAFF)),
    _route("GET", "/reviews/<int:review_id>/packet", *per_review("/reviews/{review}/packet", lambda state: PAGE_STAFF)),
    _route("GET", "/reviews/<int:review_id>/equity-assessment",
           *per_review("/reviews/{review}/equity-assessment", lambda state: PAGE_STAFF)),
    *[_route("GET", f"/reviews/<int:review_id>/{name}", *per_review(f"/reviews/{{review}}/{name}", lambda state: PAGE_STAFF))
      for name in ("report", "report.csv", "report.json")],
    _route("POST", "/reviews/<int:review_id>/actions",
           Case("draft: submit while a blocking note is open", "/reviews/{review_draft}/actions", E(302, 403, 403, 403, 409, 403),
                form={"action": "submit_for_equity_review"}),
           Case("equity review: return to draft", "/reviews/{review_equity_review}/actions", E(302, 403, 403, 302, 302, 403),
                form={"action": "return_to_draft", "note": "Needs another look."}),
           Case("draft: withdraw", "/reviews/{review_draft}/actions", E(302, 403, 403, 403, 302, 302),
                form={"action": "withdraw", "note": "No longer needed."}),
           Case("approval: publish without the quorum", "/reviews/{review_approval}/actions", E(302, 403, 403, 409, 403, 403),
                form={"action": "publish"}),
           Case("approval: publish with the quorum", "/reviews/{review_approval}/actions", E(302, 403, 403, 302, 403, 403),
                form={"action": "publish"}, prepare=_approved_by_the_cesjo),
           Case("approval: recused leader publishes", "/reviews/{review_approval}/actions", E(302, 403, 403, 403, 403, 403),
                form={"action": "publish"}, prepare=lambda s, w: (_approved_by_the_cesjo(s, w), _leader_recused(s, w))),
           Case("published: nothing left", "/reviews/{review_published}/actions", E(302, 403, 409, 409, 409, 409),
                form={"action": "withdraw", "note": "Too late."}),
           Case("withdrawn: nothing left", "/reviews/{review_withdrawn}/actions", E(302, 403, 409, 409, 409, 409),
                form={"action": "withdraw", "note": "Too late."})),
    _route("POST", "/reviews/<int:review_id>/decisions",
           Case("approval: approve", "/reviews/{review_approval}/decisions", E(302, 403, 403, 302, 403, 403),
                form={"decision": "approve", "version": "{approval_version}"}),
           Case("approval: author approves own version", "/reviews/{review_approval}/decisions", E(302, 403, 403, 403, 403, 403),
                form={"decision": "approve", "version": "{approval_version}"}, prepare=_leader_wrote_the_version),
           Case("approval: recused leader", "/reviews/{review_approval}/decisions", E(302, 403, 403, 403, 403, 403),
                form={"decision": "approve", "version": "{approval_version}"}, prepare=_leader_recused),
           Case("approval: another version read", "/reviews/{review_approval}/decisions", E(302, 403, 403, 409, 403, 403),
                form={"decision": "approve", "version": "1"}),
           Case("draft: not yet", "/reviews/{review_draft}/decisions", E(302, 403, 403, 409, 403, 403),
                form={"decision": "approve", "version": "{draft_version}"})),
    _route("POST", "/reviews/<int:review_id>/recusals",
           Case("approval", "/reviews/{review_approval}/recusals", E(302, 403, 403, 302, 403, 403),
                form={"reason": "A family member is named in the policy."}),
           Case("published", "/reviews/{review_published}/recusals", E(302, 403, 403, 409, 403, 403),
                form={"reason": "A family member is named in the policy."})),
    _route("POST", "/reviews/<int:review_id>/schedule",
           *per_review("/reviews/{review}/schedule",
                       lambda state: E(302, 403, 403, 403, 409, 409) if state in ("published", "withdrawn")
                       else E(302, 403, 403, 403, 302, 302), form={"legal_basis": "Board policy section 1."})),
    # ------------------------------------------------------------------ equity assessment (pages)
    _route("POST", "/reviews/<int:review_id>/equity-assessment",
           Case("in progress", "/reviews/{review_equity_review}/equity-assessment", E(302, 403, 302, 403, 302, 403),
                form={"revision": "{equity_revision}"})),
    _route("POST", "/reviews/<int:review_id>/equity-assessment/autosave",
           Case("in progress", "/reviews/{review_equity_review}/equity-assessment/autosave", E(302, 403, 200, 403, 200, 403),
                json={"answers": {}, "revision": "{equity_revision}"})),
    _route("POST", "/reviews/<int:review_id>/equity-assessment/complete",
           Case("in progress, answers missing", "/reviews/{review_equity_review}/equity-assessment/complete",
                E(302, 403, 409, 403, 409, 403))),
    _route("POST", "/reviews/<int:review_id>/equity-assessment/reopen",
           Case("complete", "/reviews/{review_stakeholder_comment}/equity-assessment/reopen", E(302, 403, 302, 403, 302, 403))),
    _route("POST", "/reviews/<int:review_id>/equity-assessment/explanation",
           Case("nothing changed since", "/reviews/{review_stakeholder_comment}/equity-assessment/explanation",
                E(302, 403, 409, 403, 409, 403), form={"explanation": "Nothing."})),
    # ------------------------------------------------------------------ comments (triage, ombuds only)
    _route("GET", "/reviews/<int:review_id>/comments", *per_review("/reviews/{review}/comments", lambda state: PAGE_OMBUDS)),
    _route("GET", "/reviews/<int:review_id>/comments/groups/<int:group_id>",
           Case("its group", "/reviews/{review_stakeholder_comment}/comments/groups/{group}", PAGE_OMBUDS),
           Case("a confidential commenter's group", "/reviews/{review_stakeholder_comment}/comments/groups/{sealed_group}",
                PAGE_OMBUDS, shows=(SEALED_NAME, SEALED_EMAIL)),
           Case("another review's group", "/reviews/{review_approval}/comments/groups/{group}", E(302, 403, 403, 403, 404, 403))),
    _route("POST", "/reviews/<int:review_id>/comments/new",
           Case("comment period", "/reviews/{review_stakeholder_comment}/comments/new", E(302, 403, 403, 403, 302, 403),
                form={"body": "A caller's comment.", "identity": "anonymous", "filed_via": "phone"})),
    *[_route("POST", f"/reviews/<int:review_id>/comments/<int:comment_id>/{name}",
             Case("its comment", f"/reviews/{{review_stakeholder_comment}}/comments/{{comment_public}}/{name}",
                  E(302, 403, 403, 403, 302, 403), form=form),
             Case("another review's comment", f"/reviews/{{review_approval}}/comments/{{comment_public}}/{name}",
                  E(302, 403, 403, 403, 404, 403), form=form))
      for name, form in (("disposition", {"disposition": "accepted", "response": "Thank you."}),
                         ("hide", {"reason": "Off topic."}), ("unhide", {}))],
    _route("POST", "/reviews/<int:review_id>/comments/<int:comment_id>/disclosure",
           Case("confidential comment", "/reviews/{review_stakeholder_comment}/comments/{comment_confidential}/disclosure",
                E(302, 403, 403, 403, 302, 403), form={"granted": "yes"})),
    _route("POST", "/reviews/<int:review_id>/comments/groups/<int:group_id>/disposition",
           Case("its group", "/reviews/{review_stakeholder_comment}/comments/groups/{group}/disposition",
                E(302, 403, 403, 403, 302, 403), form={"disposition": "accepted", "response": "Thank you."}),
           Case("another review's group", "/reviews/{review_approval}/comments/groups/{group}/disposition",
                E(302, 403, 403, 403, 404, 403), form={"disposition": "accepted", "response": "Thank you."})),
    # ------------------------------------------------------------------ concerns (ombuds only)
    _route("GET", "/concerns", Case("list", "/concerns", PAGE_OMBUDS)),
    _route("GET", "/concerns/new", Case("form", "/concerns/new", PAGE_OMBUDS)),
    _route("POST", "/concerns/new", Case("intake", "/concerns/new", E(302, 403, 403, 403, 302, 403),
                                         form={"received_on": "{today}", "channel": "phone", "raised_by": "student",
                                               "summary": "A student was sent home without a reason."})),
    _route("GET", "/concerns/overview", Case("overview", "/concerns/overview", PAGE_OMBUDS)),
    _route("GET", "/concerns/annual-report", Case("report", "/concerns/annual-report", PAGE_OMBUDS)),
    _route("GET", "/concerns/annual-report.csv", Case("report", "/concerns/annual-report.csv", PAGE_OMBUDS)),
    _route("GET", "/concerns/<int:concern_id>", Case("open concern", "/concerns/{concern}", PAGE_OMBUDS,
                                                     shows=(CONCERN_NAME, CONCERN_CONTACT, CONCERN_NOTE))),
    _route("POST", "/concerns/<int:concern_id>/notes", Case("open concern", "/concerns/{concern}/notes",
                                                            E(302, 403, 403, 403, 302, 403), form={"body": "Called back."})),
    _route("POST", "/concerns/<int:concern_id>/status", Case("open concern", "/concerns/{concern}/status",
                                                             E(302, 403, 403, 403, 302, 403), form={"status": "informal_resolution"})),
    _route("POST", "/concerns/<int:concern_id>/consents",
           Case("open concern", "/concerns/{concern}/consents", E(302, 403, 403, 403, 302, 403),
                form={"what": "The summary", "with_whom": "The principal", "given_on": "{today}"})),
    _route("POST", "/concerns/<int:concern_id>/consents/<int:consent_id>/revoke",
           Case("its consent", "/concerns/{concern}/consents/{consent}/revoke", E(302, 403, 403, 403, 302, 403))),
    _route("POST", "/concerns/<int:concern_id>/referral",
           Case("with consent", "/concerns/{concern}/referral", E(302, 403, 403, 403, 302, 403),
                form={"consent_id": "{consent}", "target": "human-resources", "shared": "The summary"})),
    _route("POST", "/concerns/<int:concern_id>/exception",
           Case("imminent harm", "/concerns/{concern}/exception", E(302, 403, 403, 403, 302, 403),
                form={"grounds": "imminent_harm", "justification": "Safety.", "shared": "The summary",
                      "shared_with": "School safety team"})),
    # ------------------------------------------------------------------ notifications
    _route("GET", "/notifications", Case("own", "/notifications", PAGE_SIGNED_IN)),
    _route("POST", "/notifications/<int:notification_id>/read",
           Case("the ombuds' notification", "/notifications/{notification}/read", E(302, 404, 404, 404, 302, 404))),
    _route("POST", "/notifications/read-all", Case("own", "/notifications/read-all", everyone(302))),
    _route("POST", "/notifications/email", Case("own", "/notifications/email", everyone(302), form={"email": "off"})),
    # ------------------------------------------------------------------ API: tokens and the document
    _route("GET", "/api/v1/openapi.json", Case("document", "/api/v1/openapi.json", everyone(200))),
    _route("POST", "/api/v1/tokens", Case("wrong password", "/api/v1/tokens", everyone(401),
                                          json={"username": "ombuds", "password": "wrong-password"})),
    _route("GET", "/api/v1/tokens", Case("own", "/api/v1/tokens", E(401, 200, 200, 200, 200, 200))),
    _route("DELETE", "/api/v1/tokens/<int:token_id>",
           Case("the ombuds' token", "/api/v1/tokens/{token}", E(401, 403, 403, 403, 204, 204))),
    _route("GET", "/api/v1/search", Case("words", "/api/v1/search?q=students", everyone(200)),
           Case("secret words", "/api/v1/search?q=MXSECRET", everyone(200))),
    # ------------------------------------------------------------------ API: policies and versions
    _route("GET", "/api/v1/policies", Case("list", "/api/v1/policies", everyone(200))),
    _route("POST", "/api/v1/policies", Case("new", "/api/v1/policies", E(401, 403, 403, 403, 201, 201),
                                            json={"code": "MXAPI", "title": "Matrix", "text": "# Matrix\n\nText.\n",
                                                  "summary": "First."})),
    _route("GET", "/api/v1/policies/<code>", Case("published", "/api/v1/policies/{published}", everyone(200)),
           Case("never published", "/api/v1/policies/{unpublished}", E(404, 404, 200, 200, 200, 200))),
    _route("GET", "/api/v1/policies/<code>/versions", Case("published", "/api/v1/policies/{published}/versions", everyone(200)),
           Case("never published", "/api/v1/policies/{unpublished}/versions", E(404, 404, 200, 200, 200, 200))),
    _route("POST", "/api/v1/policies/<code>/versions",
           Case("on the head", "/api/v1/policies/{published}/versions", E(401, 403, 403, 403, 201, 201),
                json={"text": "# Matrix\n\nNew.\n", "summary": "Matrix.", "base_version": "{draft_number}"}),
           Case("stale base", "/api/v1/policies/{published}/versions", E(401, 403, 403, 403, 409, 409),
                json={"text": "# Matrix\n\nNew.\n", "summary": "Matrix.", "base_version": 1})),
    _route("GET", "/api/v1/policies/<code>/versions/<int:number>",
           Case("published version", "/api/v1/policies/{published}/versions/{published_number}", everyone(200)),
           Case("draft version", "/api/v1/policies/{published}/versions/{draft_number}", E(404, 404, 200, 200, 200, 200))),
    _route("GET", "/api/v1/policies/<code>/diff",
           Case("published versions", "/api/v1/policies/{published}/diff?from=1&to={published_number}", everyone(200)),
           Case("to a draft", "/api/v1/policies/{published}/diff?from=1&to={draft_number}", E(404, 404, 200, 200, 200, 200))),
    _route("GET", "/api/v1/policies/<code>/events", Case("trail", "/api/v1/policies/{published}/events", API_STAFF)),
    _route("POST", "/api/v1/policies/<code>/reviews",
           Case("published, no review running", "/api/v1/policies/{published}/reviews", E(401, 403, 403, 403, 201, 201),
                json={"workflow": "standard-review"})),
    _route("GET", "/api/v1/policies/<code>/versions/<int:number>/annotations",
           Case("published version", "/api/v1/policies/{published}/versions/{published_number}/annotations", everyone(200)),
           Case("commented version", "/api/v1/policies/{code_stakeholder_comment}/versions/{note_version}/annotations",
                E(404, 404, 200, 200, 200, 200))),
    _route("POST", "/api/v1/policies/<code>/versions/<int:number>/annotations",
           *[Case(f"{visibility} note", "/api/v1/policies/{code_stakeholder_comment}/versions/{note_version}/annotations",
                  {role: (201 if role in writers else 401 if role == "anonymous" else 403) for role in ROLES},
                  json={"target": {"start": 0, "end": 5}, "body": "A matrix note.", "visibility": visibility})
             for visibility, writers in (("confidential", {"ombuds"}), ("internal", {"ombuds", "reviewer", "leadership"}),
                                         ("public", {"ombuds", "reviewer"}))]),
    _route("GET", "/api/v1/policies/<code>/annotations",
           Case("commented policy", "/api/v1/policies/{code_stakeholder_comment}/annotations?version={note_version}",
                E(404, 404, 200, 200, 200, 200))),
    _route("GET", "/api/v1/policies/<code>/annotations.jsonld",
           Case("commented policy", "/api/v1/policies/{code_stakeholder_comment}/annotations.jsonld?version={note_version}",
                E(404, 404, 200, 200, 200, 200))),
    _route("GET", "/api/v1/annotations/<int:annotation_id>", *per_note("/api/v1/annotations/{note}", 200)),  # 404: unseen
    _route("PATCH", "/api/v1/annotations/<int:annotation_id>",
           *per_note("/api/v1/annotations/{note}", 200, json={"status": "resolved"}, writers=RESOLVERS)),
    _route("DELETE", "/api/v1/annotations/<int:annotation_id>",
           *per_note("/api/v1/annotations/{note}", 204, writers={"confidential": {"ombuds"}, "internal": {"ombuds"},
                                                                  "public": {"ombuds"}})),
    _route("POST", "/api/v1/annotations/<int:annotation_id>/replies",
           *per_note("/api/v1/annotations/{note}/replies", 201, json={"body": "A matrix reply."}, writers=REPLIERS)),
    _route("POST", "/api/v1/annotations/<int:annotation_id>/placements",
           *per_note("/api/v1/annotations/{note}/placements", 422, json={"version": "{note_version}"}, writers=REATTACHERS)),
    # ------------------------------------------------------------------ API: reviews
    _route("GET", "/api/v1/reviews", Case("list", "/api/v1/reviews", E(401, 403, 200, 200, 200, 200))),
    _route("GET", "/api/v1/reviews/<int:review_id>",
           *per_review("/api/v1/reviews/{review}", lambda state: E(401, 404, 200, 200, 200, 200))),
    _route("PATCH", "/api/v1/reviews/<int:review_id>",
           *per_review("/api/v1/reviews/{review}",
                       lambda state: E(401, 404, 403, 403, 409, 409) if state in ("published", "withdrawn")
                       else E(401, 404, 403, 403, 200, 200), json={"legal_basis": "Board policy section 1."})),
    _route("POST", "/api/v1/reviews/<int:review_id>/actions",
           Case("draft: submit while a blocking note is open", "/api/v1/reviews/{review_draft}/actions",
                E(401, 404, 403, 403, 409, 403),
                json={"action": "submit_for_equity_review"}),
           Case("approval: publish without the quorum", "/api/v1/reviews/{review_approval}/actions", E(401, 404, 403, 409, 403, 403),
                json={"action": "publish"}),
           Case("approval: publish with the quorum", "/api/v1/reviews/{review_approval}/actions", E(401, 404, 403, 200, 403, 403),
                json={"action": "publish"}, prepare=_approved_by_the_cesjo),
           Case("published: nothing left", "/api/v1/reviews/{review_published}/actions", E(401, 404, 409, 409, 409, 409),
                json={"action": "withdraw", "note": "Too late."})),
    _route("GET", "/api/v1/reviews/<int:review_id>/decisions",
           *per_review("/api/v1/reviews/{review}/decisions", lambda state: E(401, 404, 200, 200, 200, 200))),
    _route("POST", "/api/v1/reviews/<int:review_id>/decisions",
           Case("approval: approve", "/api/v1/reviews/{review_approval}/decisions", E(401, 404, 403, 201, 403, 403),
                json={"decision": "approve", "version": "{approval_version}"}),
           Case("approval: author approves own version", "/api/v1/reviews/{review_approval}/decisions",
                E(401, 404, 403, 403, 403, 403), json={"decision": "approve", "version": "{approval_version}"},
                prepare=_leader_wrote_the_version),
           Case("approval: recused leader", "/api/v1/reviews/{review_approval}/decisions", E(401, 404, 403, 403, 403, 403),
                json={"decision": "approve", "version": "{approval_version}"}, prepare=_leader_recused)),
    _route("POST", "/api/v1/reviews/<int:review_id>/recusals",
           Case("approval", "/api/v1/reviews/{review_approval}/recusals", E(401, 404, 403, 201, 403, 403),
                json={"reason": "A family member is named in the policy."})),
    _route("GET", "/api/v1/reviews/<int:review_id>/equity-assessment",
           *per_review("/api/v1/reviews/{review}/equity-assessment", lambda state: E(401, 404, 200, 200, 200, 200))),
    _route("PUT", "/api/v1/reviews/<int:review_id>/equity-assessment",
           Case("in progress", "/api/v1/reviews/{review_equity_review}/equity-assessment", E(401, 404, 200, 403, 200, 403),
                json={"answers": {}, "revision": "{equity_revision}"})),
    _route("POST", "/api/v1/reviews/<int:review_id>/equity-assessment/complete",
           Case("answers missing", "/api/v1/reviews/{review_equity_review}/equity-assessment/complete",
                E(401, 404, 409, 403, 409, 403))),
    _route("POST", "/api/v1/reviews/<int:review_id>/equity-assessment/reopen",
           Case("complete", "/api/v1/reviews/{review_stakeholder_comment}/equity-assessment/reopen", E(401, 404, 200, 403, 200, 403))),
    _route("POST", "/api/v1/reviews/<int:review_id>/equity-assessment/explanation",
           Case("nothing changed since", "/api/v1/reviews/{review_stakeholder_comment}/equity-assessment/explanation",
                E(401, 404, 409, 403, 409, 403), json={"explanation": "Nothing."})),
    _route("GET", "/api/v1/reviews/<int:review_id>/comments",
           *per_review("/api/v1/reviews/{review}/comments",
                       lambda state: everyone(200) if state in ("approval", "published") else E(404, 404, 200, 200, 200, 200))),
    _route("POST", "/api/v1/reviews/<int:review_id>/comments",
           *per_review("/api/v1/reviews/{review}/comments",
                       lambda state: everyone(201) if state == "stakeholder_comment" else everyone(404),
                       json={"body": "A comment through the API.", "identity": "anonymous"})),
    _route("GET", "/api/v1/reviews/<int:review_id>/comments/report",
           *per_review("/api/v1/reviews/{review}/comments/report",
                       lambda state: everyone(200) if state in ("approval", "published") else E(404, 404, 200, 200, 200, 200))),
    _route("PUT", "/api/v1/comments/<int:comment_id>/disposition",
           Case("comment period", "/api/v1/comments/{comment_public}/disposition", E(401, 403, 403, 403, 200, 403),
                json={"disposition": "accepted", "response": "Thank you."})),
    _route("PUT", "/api/v1/reviews/<int:review_id>/comment-groups/<int:group_id>/disposition",
           Case("its group", "/api/v1/reviews/{review_stakeholder_comment}/comment-groups/{group}/disposition",
                E(401, 403, 403, 403, 200, 403), json={"disposition": "accepted", "response": "Thank you."}),
           Case("another review's group", "/api/v1/reviews/{review_approval}/comment-groups/{group}/disposition",
                E(401, 403, 403, 403, 404, 403), json={"disposition": "accepted", "response": "Thank you."})),
    _route("POST", "/api/v1/comments/<int:comment_id>/hide",
           Case("comment period", "/api/v1/comments/{comment_public}/hide", E(401, 403, 403, 403, 200, 403),
                json={"reason": "Off topic."})),
    _route("POST", "/api/v1/comments/<int:comment_id>/unhide",
           Case("comment period", "/api/v1/comments/{comment_public}/unhide", E(401, 403, 403, 403, 200, 403))),
    # ------------------------------------------------------------------ API: concerns
    _route("GET", "/api/v1/concerns", Case("list", "/api/v1/concerns", API_OMBUDS)),
    _route("POST", "/api/v1/concerns", Case("intake", "/api/v1/concerns", E(401, 403, 403, 403, 201, 403),
                                            json={"received_on": "{today}", "channel": "phone", "raised_by": "student",
                                                  "summary": "A student was sent home without a reason."})),
    _route("GET", "/api/v1/concerns/<int:concern_id>",
           Case("open concern", "/api/v1/concerns/{concern}", E(401, 404, 404, 404, 200, 404))),
]


# ---------------------------------------------------------------------------------------------- running


@dataclass
class Matrix:
    app: Flask
    factory: sessionmaker[Session]
    world: World
    sign_ins: dict[str, str]  # role -> the session's user id (id and session generation)


@pytest.fixture(scope="module")
def matrix(engine: Engine) -> Iterator[Matrix]:
    """One copy of the demo plus the world for the whole module, rolled back at its end; each request
    runs in a savepoint of its own (building the world for every case would make the matrix slow)."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    with factory() as session:
        world = permission_world.build(session)
        session.commit()
        sign_ins = {}
        for role, username in USERNAMES.items():
            user = session.scalar(select(User).where(User.username == username))
            sign_ins[role] = f"{user.id}:{user.session_generation}"
    app = create_app({"TESTING": True, "SECRET_KEY": "matrix-secret", "SESSION_FACTORY": factory,
                      "WTF_CSRF_ENABLED": False, "STORE_SETTINGS": STORE, "COMMENT_RATE_LIMIT": "10000 per hour",
                      "LOGIN_RATE_LIMIT": "10000 per hour"})
    yield Matrix(app, factory, world, sign_ins)
    outer.rollback()
    connection.close()


def _client(matrix: Matrix, role: str) -> FlaskClient:
    """A client signed in as the role without a password round (argon2 would make the matrix slow)."""
    client = matrix.app.test_client()
    if role != "anonymous":
        with client.session_transaction() as cookie:
            cookie["_user_id"] = matrix.sign_ins[role]
            cookie["_fresh"] = True
    return client


def _readable(body: bytes, mimetype: str) -> str:
    text = body.decode("utf-8", "replace")
    if "json" in mimetype:
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return html.unescape(text)


def _filled(body: Any, values: dict[str, object]) -> Any:
    """A JSON body with its "{field}" strings filled in (a whole-field number stays a number)."""
    if isinstance(body, dict):
        return {key: _filled(value, values) for key, value in body.items()}
    if isinstance(body, str) and body.startswith("{") and body.endswith("}") and body[1:-1] in values:
        return values[body[1:-1]]
    return body


def run(matrix: Matrix, route: Route, case: Case) -> tuple[dict[str, int], list[str]]:
    """Send the case as each role on a fresh copy of the data; the statuses and every leak found."""
    factory, world = matrix.factory, matrix.world
    connection = factory.kw["bind"]
    statuses: dict[str, int] = {}
    leaks: list[str] = []
    values = world.fields()
    path = case.path.format(**values)
    is_api = route.rule.startswith("/api/")
    for role in ROLES:
        savepoint = connection.begin_nested()
        try:
            if case.prepare is not None:
                with factory() as session:
                    case.prepare(session, world)
                    session.commit()
            client = _client(matrix, role)
            headers = {"Authorization": f"Bearer {world.tokens[role]}"} if is_api and role != "anonymous" else {}
            kwargs: dict[str, Any] = {"headers": headers}
            if case.form is not None:
                kwargs["data"] = {name: value.format(**values) for name, value in case.form.items()}
            if case.json is not None:
                kwargs["json"] = _filled(case.json, values)
            response = client.open(path, method=route.method, **kwargs)
            statuses[role] = response.status_code
            body = _readable(response.get_data(), response.mimetype or "")
            leaks += [f"{role} received {secret!r}" for secret, readers in READERS.items()
                      if role not in readers and secret in body]
            if response.status_code == 200:
                leaks += [f"{role} did not find {secret!r}, which it may read" for secret in case.shows
                          if role in READERS[secret] and secret not in body]
        finally:
            savepoint.rollback()
    return statuses, leaks


# ---------------------------------------------------------------------------------------------- the tests

ROUTES = {route.key: route for route in MATRIX}
CASES = [pytest.param(route, case, id=f"{route.key} [{case.state}]") for route in MATRIX for case in route.cases]


def _app_routes(app: Flask) -> set[str]:
    return {f"{method} {rule.rule}" for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_in_the_matrix() -> None:
    """A route added without deciding who may use it fails here."""
    app = create_app({"TESTING": True, "SECRET_KEY": "matrix-secret", "DATABASE_URL": "sqlite://"})
    missing = sorted(_app_routes(app) - set(ROUTES))
    assert not missing, "Routes without an entry in the permission matrix: " + ", ".join(missing)
    stale = sorted(set(ROUTES) - _app_routes(app))
    assert not stale, "Matrix entries for routes that no longer exist: " + ", ".join(stale)
    assert len(ROUTES) == len(MATRIX), "a route has two entries"
    assert all(route.cases for route in MATRIX)


@pytest.mark.parametrize(("route", "case"), CASES)
def test_each_role_gets_exactly_its_answer_and_nothing_more(matrix: Matrix, route: Route, case: Case) -> None:
    statuses, leaks = run(matrix, route, case)
    wrong = {role: f"{statuses[role]} (expected {case.expect[role]})" for role in ROLES if statuses[role] != case.expect[role]}
    assert not wrong, f"{route.key} [{case.state}]: {wrong}"
    assert not leaks, f"{route.key} [{case.state}]: " + "; ".join(leaks)
