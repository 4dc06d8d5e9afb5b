"""Who learns what about a concern, role by role and output by output.

A concern recorded by the ombuds lead (the demo's ombuds) with a name, a contact, a working note and
an exception disclosure. Each role reads every output that could carry a trace of it: the concern
pages and list, the overview and annual report (page and CSV), the policy's analysis, the JSON API,
search (page and API), the policy's audit trail (page and API), and their notifications. The name,
contact and note text appear only for ombuds staff allowed to read them; other roles learn nothing,
not even that the concern exists.
"""

from __future__ import annotations

import html

from flask import Flask
from sqlalchemy.orm import Session

from policyflow.core.vocabulary import DEFAULT_CONCERN_THEMES
from policyflow.services import accounts, concerns
from policyflow.services.actors import Actor
from tests.conftest import api_token, login
from tests.reviewing import NOW, who

NAME, CONTACT, NOTE, SHARED = "Wilhelmina Tocqueville", "wtocq@example.org", "Spoke with the principal twice.", "SAFETY-PLAN-7"
FACT = "a teacher shouted at them"
ROLES = ("visitor", "stakeholder", "reviewer", "leader1", "admin", "ombuds2", "ombuds")


def _setup(session: Session) -> int:
    accounts.create_user(session, Actor.system(), "ombuds2", "demo-password", ["ombuds"])
    lead = who(session, "ombuds")
    concern = concerns.record(session, lead, received_on=NOW.date(), channel="phone", raised_by="student",
                              summary="A student says a teacher shouted at them during lunch.", themes=["discipline"],
                              subgroups=["latinx"], name=NAME, contact=CONTACT, links=[concerns.PolicyLink("JD")],
                              allowed_themes=DEFAULT_CONCERN_THEMES, allowed_subgroups=("latinx",), now=NOW)
    concerns.add_note(session, lead, concern.id, NOTE, now=NOW)
    concerns.disclose_on_exception(session, lead, concern.id, grounds="imminent_harm", shared=SHARED,
                                   shared_with="School safety team", justification="The student feared going home.", now=NOW)
    session.commit()
    return concern.id


def _outputs(concern_id: int) -> list[tuple[str, bool]]:
    web = [f"/concerns/{concern_id}", "/concerns", "/concerns/overview", "/concerns/annual-report?year=2026",
           "/concerns/annual-report.csv?year=2026", "/policies/JD/concerns", "/policies/JD/history", "/notifications",
           f"/search?q={NAME.split()[0]}", "/search?q=shouted+lunch"]
    api = [f"/api/v1/concerns/{concern_id}", "/api/v1/concerns", f"/api/v1/search?q={NAME.split()[0]}",
           "/api/v1/search?q=shouted+lunch", "/api/v1/policies/JD/events"]
    return [(url, False) for url in web] + [(url, True) for url in api]


def test_each_trace_of_a_concern_appears_exactly_where_it_may(app: Flask, session: Session) -> None:
    concern_id = _setup(session)
    for role in ROLES:
        client = app.test_client()
        headers: dict[str, str] = {}
        if role != "visitor":
            login(client, role)
            headers = api_token(app.test_client(), role)
        seen = {}
        for url, with_token in _outputs(concern_id):
            response = client.get(url, headers=headers if with_token else {})
            seen[url] = (response.status_code, html.unescape(response.get_data(as_text=True)))
        readable = "\n".join(body for status, body in seen.values() if status == 200)
        identity_visible = role == "ombuds"  # the lead, who also handles it
        for secret in (NAME, CONTACT, NOTE):
            assert (secret in readable) == identity_visible, (role, secret)
        assert (SHARED in readable) == identity_visible, role  # what was disclosed is read like the notes
        if role in ("ombuds", "ombuds2"):
            assert seen[f"/concerns/{concern_id}"][0] == 200 and seen["/concerns"][0] == 200
            assert FACT in seen[f"/concerns/{concern_id}"][1]  # the de-identified facts
        else:
            assert seen[f"/concerns/{concern_id}"][0] in (302, 403) and seen[f"/api/v1/concerns/{concern_id}"][0] in (401, 404)
            assert FACT not in readable, role  # not even the facts: they are the office's
            assert f"concern:{concern_id}" not in readable and "Concern " + str(concern_id) not in readable, role
        # Search never carries concerns, for anyone.
        assert FACT not in seen["/search?q=shouted+lunch"][1] and FACT not in seen["/api/v1/search?q=shouted+lunch"][1]
