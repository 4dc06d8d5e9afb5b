"""Pages through the Flask test client: what each role sees and can do."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import login


def test_public_home_lists_published_policies(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "Nondiscrimination and Equal Opportunity" in page
    assert 'href="/public/policies/JD"' in page
    assert "Sign in" in page


def test_login_logout_and_session_cookie_flags(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "ombuds", "password": "wrong"})
    assert response.status_code == 401 and "Unknown username or wrong password" in response.get_data(as_text=True)
    response = client.post("/login", data={"username": "ombuds", "password": "demo-password"})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Rosa Delgado" in client.get("/dashboard").get_data(as_text=True)
    cookies_before_logout = {c.key: c.value for c in client._cookies.values()}
    assert client.post("/logout").status_code == 302
    assert client.get("/dashboard").status_code == 302
    # An old copy of the session cookie no longer works: the generation changed.
    for key, value in cookies_before_logout.items():
        client.set_cookie(key, value)
    assert client.get("/dashboard").status_code == 302


def test_login_refuses_open_redirect(client: FlaskClient) -> None:
    response = client.post("/login?next=//evil.example/", data={"username": "ombuds", "password": "demo-password"})
    assert response.headers["Location"] == "/dashboard"
    response = client.post("/logout")
    response = client.post("/login?next=/policies/JD", data={"username": "ombuds", "password": "demo-password"})
    assert response.headers["Location"] == "/policies/JD"


def test_catalogue_search_filters_and_pages(client: FlaskClient) -> None:
    login(client, "reviewer")
    page = client.get("/policies?q=homeless").get_data(as_text=True)
    assert "JFABD" in page and "JD</a>" not in page
    page = client.get("/policies?stage=draft").get_data(as_text=True)
    assert "GAE" in page and ">AC</a>" not in page
    section = "J - Students"
    page = client.get("/policies", query_string={"section": section}).get_data(as_text=True)
    assert "JFABD" in page and "DJE" not in page
    assert client.get("/policies?stage=bogus").status_code == 400


def test_policy_version_history_pages(client: FlaskClient) -> None:
    login(client, "reviewer")
    page = client.get("/policies/jd").get_data(as_text=True)
    assert "Student Discipline" in page and "<table>" in page  # the tiered matrix renders
    assert "Edit text" not in page  # reviewers do not edit
    assert "SHA-256" in client.get("/policies/JD/versions/2").get_data(as_text=True)
    history = client.get("/policies/JD/history").get_data(as_text=True)
    assert "Audit trail" in history and "version saved" in history


def test_redline_inline_and_side_by_side(client: FlaskClient) -> None:
    login(client, "reviewer")
    page = client.get("/policies/JD/diff?from=1&to=2").get_data(as_text=True)
    assert 'id="change-1"' in page and "<ins" in page and "<del" in page
    assert "Next change" in page and "words added" in page
    side = client.get("/policies/JD/diff?from=1&to=2&view=side").get_data(as_text=True)
    assert 'class="side-by-side"' in side and 'class="changed"' in side
    assert client.get("/policies/JD/diff?from=1&to=99").status_code == 404
    assert client.get("/policies/JD/diff?from=x&to=2").status_code == 400


def test_unknown_policy_is_404(client: FlaskClient) -> None:
    response = client.get("/policies/NOPE")
    assert response.status_code == 404 and "no policy with the code" in response.get_data(as_text=True)


def test_public_cannot_reach_drafts(client: FlaskClient) -> None:
    # GAE's newest versions are unpublished drafts.
    assert client.get("/public/policies/GAE").status_code == 200
    assert client.get("/policies/GAE/versions/5").status_code == 404
    assert client.get("/policies/GAE/diff?from=3&to=5").status_code == 404
    assert client.get("/policies/GAE").status_code == 302  # to the public page
    login(client, "stakeholder")
    assert client.get("/policies/GAE/versions/5").status_code == 404
    assert client.get("/policies/GAE/edit").status_code == 403


def test_edit_preview_and_save(client: FlaskClient) -> None:
    login(client, "ombuds")
    editor = client.get("/policies/JFABD/edit").get_data(as_text=True)
    base = int(re.search(r'name="base_version" value="(\d+)"', editor).group(1))
    text = re.search(r"<textarea id=\"text\"[^>]*>\n(.*?)</textarea>", editor, re.S).group(1)
    import html as html_module

    text = html_module.unescape(text)
    new_text = text.replace("Riverbend", "Riverbend (the District)", 1).replace("\n", "\r\n")
    preview = client.post("/policies/JFABD/edit", data={"text": new_text, "summary": "", "base_version": base,
                                                        "action": "preview"})
    assert preview.status_code == 200 and "Preview" in preview.get_data(as_text=True)
    assert "<ins" in preview.get_data(as_text=True)
    missing_summary = client.post("/policies/JFABD/edit", data={"text": new_text, "summary": "", "base_version": base,
                                                                "action": "save"})
    assert missing_summary.status_code == 422 and "summary is required" in missing_summary.get_data(as_text=True)
    saved = client.post("/policies/JFABD/edit", data={"text": new_text, "summary": "Names the District.",
                                                      "base_version": base, "action": "save"})
    assert saved.status_code == 302 and saved.headers["Location"] == f"/policies/JFABD/versions/{base + 1}"
    api = client.get(f"/api/v1/policies/JFABD/versions/{base + 1}").get_json()
    assert "\r" not in api["text"] and "Riverbend (the District)" in api["text"]
    again = client.post("/policies/JFABD/edit", data={"text": new_text, "summary": "x", "base_version": base + 1,
                                                      "action": "save"})
    assert again.status_code == 302 and "no new version" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_conflict_offers_merge(client: FlaskClient) -> None:
    login(client, "ombuds")
    api = client.get("/api/v1/policies/KB/versions/5").get_json()
    text = api["text"]
    first = text.replace("## Purpose", "## Purpose and Scope", 1)
    assert first != text
    ok = client.post("/policies/KB/edit", data={"text": first, "summary": "Retitles purpose.", "base_version": 5,
                                                "action": "save"})
    assert ok.status_code == 302
    mine = text.rstrip("\n") + "\n\nA closing sentence added by a second editor.\n"
    conflict = client.post("/policies/KB/edit", data={"text": mine, "summary": "Adds closing.", "base_version": 5,
                                                      "action": "save"})
    page = conflict.get_data(as_text=True)
    assert conflict.status_code == 409
    assert "Someone saved a newer version" in page and "have been merged into version 6" in page
    assert 'name="base_version" value="6"' in page
    assert "Purpose and Scope" in page and "A closing sentence added by a second editor." in page


def test_new_policy_form(client: FlaskClient) -> None:
    login(client, "admin")
    response = client.post("/policies/new", data={"code": "nw1", "title": "New rule", "text": "# New rule\n\nBody.\n",
                                                  "summary": "Drafted.", "section": "N - New"})
    assert response.status_code == 302 and response.headers["Location"] == "/policies/NW1"
    duplicate = client.post("/policies/new", data={"code": "NW1", "title": "Again", "text": "# x\n"})
    assert duplicate.status_code == 409 and "already exists" in duplicate.get_data(as_text=True)


def test_bad_form_bodies(client: FlaskClient, app: Flask) -> None:
    login(client, "ombuds")
    response = client.post("/policies/KB/edit", data=b"text=%FF%FE&summary=x&base_version=5&action=save",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "not valid UTF-8" in response.get_data(as_text=True)
    response = client.post("/policies/KB/edit", data={"text": "a\x00b", "summary": "x", "base_version": 5,
                                                      "action": "save"})
    assert response.status_code == 400
    big = "x" * (2 * 1024 * 1024 + 10)
    response = client.post("/policies/KB/edit", data={"text": big, "summary": "x", "base_version": 5, "action": "save"})
    assert response.status_code == 413
    huge = "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    assert client.post("/policies/KB/edit", data={"text": huge}).status_code == 413


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_side_by_side_folds_long_unchanged_runs(client: FlaskClient) -> None:
    login(client, "reviewer")
    folded = client.get("/policies/JD/diff?from=4&to=5&view=side").get_data(as_text=True)
    whole = client.get("/policies/JD/diff?from=4&to=5&view=side&context=all").get_data(as_text=True)
    assert "unchanged lines hidden" in folded and "unchanged lines hidden" not in whole
    assert folded.count("<tr") < whole.count("<tr")
    assert folded.count('class="changed"') == whole.count('class="changed"')


def test_https_deployment_sets_secure_cookie_and_trusts_its_proxy(monkeypatch: pytest.MonkeyPatch, app: Flask) -> None:
    from policyflow.web import create_app

    monkeypatch.setenv("POLICYFLOW_BASE_URL", "https://policies.example.org")
    monkeypatch.setenv("POLICYFLOW_PROXY_COUNT", "1")
    secure = create_app({"TESTING": True, "SESSION_FACTORY": app.config["SESSION_FACTORY"], "WTF_CSRF_ENABLED": False})
    client = secure.test_client()
    response = client.post("/login", data={"username": "ombuds", "password": "demo-password"},
                           headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 302 and "Secure" in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in response.headers


def test_dashboard_shows_reviews_waiting_and_overdue(client: FlaskClient) -> None:
    login(client, "leader2")
    page = client.get("/dashboard").get_data(as_text=True)
    waiting = page.split('id="waiting-heading"')[1].split("<h2>Overdue</h2>")[0]
    assert "GAE" in waiting and "Record your decision" in waiting  # leadership decides in approval
    assert "JICFB" not in waiting  # equity review waits for ombuds staff, not leadership
    overdue = page.split("<h2>Overdue</h2>")[1].split('id="periodic-heading"')[0]
    assert "JICFB" in overdue
    periodic = page.split('id="periodic-heading"')[1].split("</section>")[0]
    assert "IHBEA" in periodic and "no review started yet" in periodic and "ADF" not in periodic
    client.post("/logout")
    login(client, "leader1")  # already approved GAE: it waits for the others now
    waiting = client.get("/dashboard").get_data(as_text=True).split('id="waiting-heading"')[1].split("<h2>Overdue</h2>")[0]
    assert "GAE" not in waiting
    by_stage = page.split('id="stages-heading"')[1].split("</ul>")[0]
    for label in ("Draft", "Equity review", "Public comment", "Leadership approval"):
        assert label in by_stage


def test_catalogue_filters_by_review_stage(client: FlaskClient) -> None:
    login(client, "reviewer")
    page = client.get("/policies?stage=stakeholder_comment").get_data(as_text=True)
    assert ">JFABE</a>" in page and ">GAE</a>" not in page and "Public comment" in page
    assert client.get("/policies?stage=nonsense").status_code == 400
