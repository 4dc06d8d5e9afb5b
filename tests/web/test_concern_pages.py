"""Concern pages: ombuds staff only; the sealed identity on the page; the forms of the informal path."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.conftest import login

NAME, CONTACT = "Esperanza Villalobos", "555-0142"


def _intake(client: FlaskClient, **extra: str) -> str:
    form = {"received_on": "2026-03-01", "channel": "walk_in", "raised_by": "parent_guardian",
            "summary": "A family was told the school cannot enroll a student without proof of address.",
            "themes": "enrollment", "subgroups": "mckinney-vento", "policies": "JFABD", "name": NAME, "contact": CONTACT}
    form.update(extra)
    response = client.post("/concerns/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def test_concerns_are_for_ombuds_staff_only(client: FlaskClient, app: Flask) -> None:
    login(client, "ombuds")
    detail = _intake(client)
    assert "Concerns" in client.get("/dashboard").get_data(as_text=True)
    client.post("/logout")
    assert client.get("/concerns").status_code == 302  # to sign in
    for username in ("admin", "leader1", "reviewer", "stakeholder"):
        login(client, username)
        assert client.get("/concerns").status_code == 403, username
        assert client.get("/concerns/new").status_code == 403, username
        page = client.get(detail)
        assert page.status_code == 403 and NAME not in page.get_data(as_text=True), username
        assert 'href="/concerns"' not in client.get("/dashboard").get_data(as_text=True)
        client.post("/logout")


def test_the_handler_reads_the_identity_another_ombuds_does_not(client: FlaskClient, session: Session) -> None:
    """The demo's ombuds is the ombuds lead and handles what they record; ombuds2 is neither."""
    from policyflow.services import accounts
    from policyflow.services.actors import Actor

    accounts.create_user(session, Actor.system(), "ombuds2", "demo-password", ["ombuds"])
    session.commit()
    login(client, "ombuds")
    detail = _intake(client)
    page = client.get(detail).get_data(as_text=True)
    assert NAME in page and CONTACT in page and "Concern" in page and "sealed" in page.lower()
    client.post(detail + "/notes", data={"body": "Called the registrar."})
    listing = client.get("/concerns?subgroup=mckinney-vento").get_data(as_text=True)
    assert re.search(r"Concern \d+", listing) and NAME not in listing
    client.post("/logout")
    login(client, "ombuds2")
    page = client.get(detail).get_data(as_text=True)
    assert NAME not in page and CONTACT not in page and "Called the registrar." not in page
    assert "Sealed: only the staff member handling this concern and the ombuds lead" in page
    assert client.post(detail + "/notes", data={"body": "Me too."}).status_code == 403


def test_bad_intake_says_why_and_keeps_what_was_typed(client: FlaskClient) -> None:
    login(client, "ombuds")
    response = client.post("/concerns/new", data={"received_on": "2026-03-01", "channel": "pigeon", "raised_by": "student",
                                                   "summary": "Kept words."})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "The channel is one of" in page and "Kept words." in page
    bad_date = client.post("/concerns/new", data={"received_on": "yesterday", "channel": "phone", "raised_by": "student",
                                                  "summary": "x"})
    assert bad_date.status_code == 422 and "must be a date" in bad_date.get_data(as_text=True)


def test_consent_then_referral_on_the_page(client: FlaskClient) -> None:
    login(client, "ombuds")
    detail = _intake(client)
    page = client.get(detail).get_data(as_text=True)
    assert "A referral needs the person's consent" in page
    client.post(detail + "/consents", data={"what": "The enrollment facts.", "with_whom": "Human Resources",
                                            "given_on": "2026-03-01"})
    consent = re.search(r'name="consent_id" required><option value="(\d+)"', client.get(detail).get_data(as_text=True)).group(1)
    done = client.post(detail + "/referral", data={"target": "human-resources", "consent_id": consent,
                                                   "shared": "A family was asked for proof of address."})
    assert done.status_code == 302
    page = client.get(detail).get_data(as_text=True)
    assert "Referral recorded" in page and "Referred" in page and "with consent (referral)" in page


def test_the_concerns_api_is_for_ombuds_staff_only(client: FlaskClient) -> None:
    from tests.conftest import api_token
    from tests.web.test_api import conforms

    spec = client.get("/api/v1/openapi.json").get_json()
    ombuds = api_token(client, "ombuds")
    created = client.post("/api/v1/concerns", headers=ombuds, json={
        "received_on": "2026-03-01", "channel": "email", "raised_by": "employee", "summary": "Shift changes without notice.",
        "themes": ["employment"], "name": NAME, "contact": CONTACT, "policies": [{"code": "GAE"}]})
    concern = conforms(spec, created, "post", "/concerns")
    assert created.status_code == 201 and concern["identity"]["name"] == NAME and concern["policies"][0]["code"] == "GAE"
    listed = conforms(spec, client.get("/api/v1/concerns?theme=employment", headers=ombuds), "get", "/concerns")
    assert concern["id"] in [c["id"] for c in listed["items"]] and NAME not in str(listed)
    bad = client.post("/api/v1/concerns", headers=ombuds, json={"received_on": "soon", "channel": "email", "raised_by": "employee",
                                                                  "summary": "x"})
    assert conforms(spec, bad, "post", "/concerns")["status"] == 422
    for username in ("admin", "leader1", "reviewer", "stakeholder"):
        token = api_token(client, username)
        assert client.get("/api/v1/concerns", headers=token).status_code == 403, username
        assert client.post("/api/v1/concerns", headers=token, json={}).status_code == 403, username
        hidden = client.get(f"/api/v1/concerns/{concern['id']}", headers=token)
        assert hidden.status_code == 404 and NAME not in hidden.get_data(as_text=True), username
    assert client.get("/api/v1/concerns").status_code == 401


def test_the_policy_analysis_page_shows_a_heat_layer_to_ombuds_only(client: FlaskClient) -> None:
    login(client, "ombuds")
    _intake(client, policies="JFABD")
    page = client.get("/policies/JFABD/concerns")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "What concerns say about JFABD" in text and "By student group" in text and NAME not in text
    assert 'href="/policies/JFABD/concerns"' in client.get("/policies/JFABD").get_data(as_text=True)
    from tests.conftest import api_token

    source = client.get("/api/v1/policies/JFABD").get_json()
    version = client.get(f"/api/v1/policies/JFABD/versions/{source['head_version']}").get_json()["text"]
    start = version.index("enroll")
    client.post("/api/v1/concerns", headers=api_token(client, "ombuds"), json={
        "received_on": "2026-03-01", "channel": "phone", "raised_by": "student", "summary": "Turned away at the office.",
        "policies": [{"code": "JFABD", "start": start, "end": start + 6}]})
    text = client.get("/policies/JFABD/concerns").get_data(as_text=True)
    assert '<mark class="concern-heat heat note-layers-1"' in text and "<q>enroll</q>" in text
    client.post("/logout")
    login(client, "leader1")
    assert client.get("/policies/JFABD/concerns").status_code == 403
    assert 'href="/policies/JFABD/concerns"' not in client.get("/policies/JFABD").get_data(as_text=True)


def test_a_review_started_from_concerns_shows_them_de_identified(client: FlaskClient, session: Session) -> None:
    from sqlalchemy import select

    from policyflow.models import Policy, Review

    login(client, "ombuds")
    detail = _intake(client, policies="ADF", themes="communication", subgroups="english-learners")
    concern_id = detail.rsplit("/", 1)[1]
    page = client.get("/policies/ADF").get_data(as_text=True)
    assert f'name="concerns" value="{concern_id}"' in page
    started = client.post("/policies/ADF/reviews", data={"workflow": "standard-review", "concerns": concern_id})
    assert started.status_code == 302
    review_path = started.headers["Location"]
    for username in ("reviewer", "leader1"):
        client.post("/logout")
        login(client, username)
        page = client.get(review_path).get_data(as_text=True)
        rationale = page.split('id="rationale-heading"')[1].split("</section>")[0]
        assert "Communication with families" in rationale and "English learners" in rationale
        assert "fewer than 3" in rationale and NAME not in page and CONTACT not in page
        assert "Communication with families" in client.get(review_path + "/equity-assessment").get_data(as_text=True)
    review = session.scalars(select(Review).join(Policy).where(Policy.code == "ADF")).first()
    assert review is not None
    client.post("/logout")
    login(client, "ombuds")
    wrong = client.post("/policies/JD/reviews", data={"workflow": "standard-review", "concerns": concern_id})
    assert wrong.status_code == 422 and "do not point at policy JD" in wrong.get_data(as_text=True)


def test_overview_and_annual_report_pages_suppress_small_counts(client: FlaskClient) -> None:
    login(client, "ombuds")
    _intake(client, themes="other", received_on="2026-03-01")
    overview = client.get("/concerns/overview").get_data(as_text=True)
    assert "Policies by concerns in the last 12 months" in overview and "JFABD" in overview
    page = client.get("/concerns/annual-report?year=2026").get_data(as_text=True)
    assert "Concerns heard by the Office of the Organizational Ombuds in 2026" in page and "fewer than 3" in page
    csv_text = client.get("/concerns/annual-report.csv?year=2026").get_data(as_text=True)
    assert csv_text.startswith("year,table,key,concerns") and "2026,theme,other,fewer than 3" in csv_text
    assert NAME not in page and NAME not in csv_text
    assert client.get("/concerns/annual-report?year=soon").status_code == 422
    client.post("/logout")
    login(client, "admin")
    for path in ("/concerns/overview", "/concerns/annual-report", "/concerns/annual-report.csv"):
        assert client.get(path).status_code == 403, path


def test_a_passage_typed_at_intake_must_be_in_the_policy(client: FlaskClient) -> None:
    login(client, "ombuds")
    missing = client.post("/concerns/new", data={"received_on": "2026-03-01", "channel": "phone", "raised_by": "student",
                                                 "summary": "x", "policies": "JD", "passage": "words that are not there"})
    assert missing.status_code == 422 and "The passage was not found in JD" in missing.get_data(as_text=True)
    nameless = client.post("/concerns/new", data={"received_on": "2026-03-01", "channel": "phone", "raised_by": "student",
                                                  "summary": "x", "passage": "suspension"})
    assert nameless.status_code == 422 and "Name the policy the passage is from." in nameless.get_data(as_text=True)


def test_the_list_searches_the_facts_never_the_names(client: FlaskClient) -> None:
    login(client, "ombuds")
    _intake(client, summary="Buses skip the stop near the Maplewood shelter.")
    found = client.get("/concerns?q=maplewood+shelter").get_data(as_text=True)
    assert "JFABD" in found and re.search(r"Concern \d+", found)
    assert "No concerns match." in client.get(f"/concerns?q={NAME.split()[0]}").get_data(as_text=True)
    assert "No concerns match." in client.get("/concerns?q=100%25_").get_data(as_text=True)  # wildcards are just characters
    assert client.get("/concerns?q=" + "x" * 201).status_code == 422
