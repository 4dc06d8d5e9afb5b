"""Hostile input never escapes its field: redirects stay on the site, files stay in their folder, SQL
stays data, and malformed or oversized request bodies are clear problems with nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policyflow.core.errors import ImportProblem
from policyflow.models import Event, Policy
from policyflow.services import importer
from policyflow.web import create_app
from tests.conftest import STORE, api_token, login

OFF_SITE = [
    "https://evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example/", "/\t/evil.example/",
    "/\n/evil.example/", "http:evil.example", "javascript:alert(1)", "%2F%2Fevil.example", "/%09/evil.example",
    " //evil.example/", "/\\/evil.example/", "\x00//evil.example/", "https:/\\evil.example",
]


def _stays_on_site(location: str) -> bool:
    """A browser would stay here: a path (not //host, not /\\host, with no tab or newline it would drop)."""
    return (location.startswith("/") and not location.startswith("//") and "\\" not in location
            and not any(ord(c) < 0x21 for c in location))


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_sends_the_browser_to_another_site(client: FlaskClient, target: str) -> None:
    """Off-site targets are ignored (a NUL is refused outright, 400); every redirect stays here."""
    response = client.post(f"/login?next={quote(target, safe='')}", data={"username": "ombuds", "password": "demo-password"})
    if "\x00" in target:
        assert response.status_code == 400
        return
    assert response.status_code == 302
    assert _stays_on_site(response.headers["Location"]), response.headers["Location"]
    again = client.get(f"/login?next={quote(target, safe='')}")
    assert again.status_code == 302 and _stays_on_site(again.headers["Location"]), again.headers["Location"]
    assert _stays_on_site(client.post("/logout", data={"next": target}).headers["Location"])


def test_a_same_site_next_is_followed(client: FlaskClient) -> None:
    response = client.post("/login?next=/policies/JD", data={"username": "ombuds", "password": "demo-password"})
    assert response.headers["Location"] == "/policies/JD"


@pytest.mark.parametrize("target", OFF_SITE[:8])
def test_note_forms_never_go_back_to_another_site(client: FlaskClient, target: str) -> None:
    login(client, "ombuds")
    headers = api_token(client, "ombuds")
    listing = client.get("/api/v1/reviews?state=stakeholder_comment", headers=headers).get_json()["items"][0]
    code, number = listing["policy"], listing["version_number"] if "version_number" in listing else None
    notes = client.get(f"/api/v1/policies/{code}/annotations" + (f"?version={number}" if number else ""), headers=headers)
    assert notes.status_code == 200
    items = notes.get_json()["items"]
    assert items, "the demo's policy in its comment period carries notes"
    response = client.post(f"/annotations/{items[0]['id']}/status", data={"status": "resolved", "back": target})
    assert response.status_code in (302, 400, 422)
    if response.status_code == 302:
        assert _stays_on_site(response.headers["Location"]), response.headers["Location"]


# ---------------------------------------------------------------------------------------------- files


def test_an_import_reads_nothing_outside_its_folder(tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("---\ncode: SECRET\ntitle: Outside\n---\nNot for import.\n", encoding="utf-8")
    folder = tmp_path / "import"
    folder.mkdir()
    (folder / "link.md").symlink_to(outside)
    (folder / "..md").write_text("---\ncode: DOTS\ntitle: Dots\n---\nText.\n", encoding="utf-8")
    with pytest.raises(ImportProblem) as problem:
        importer.read_directory(folder, STORE.max_text_bytes)
    assert any(name == "link.md" and "outside" in reason for name, reason in problem.value.problems)
    with pytest.raises(ImportProblem):
        importer.read_directory(tmp_path / ".." / tmp_path.name / "missing", STORE.max_text_bytes)


def test_export_file_names_are_plain(client: FlaskClient, session: Session) -> None:
    login(client, "ombuds")
    headers = api_token(client, "ombuds")
    review = client.get("/api/v1/reviews?state=published", headers=headers).get_json()["items"][0]["id"]
    for path in (f"/reviews/{review}/report.csv", f"/reviews/{review}/report.json", "/reports/pipeline.csv",
                 f"/api/v1/reviews/{review}/comments/report?format=csv", "/concerns/annual-report.csv"):
        disposition = client.get(path, headers=headers if path.startswith("/api/") else {}).headers["Content-Disposition"]
        name = disposition.split('filename="', 1)[1].rstrip('"')
        assert name and "/" not in name and "\\" not in name and ".." not in name and '"' not in name, disposition


@pytest.mark.parametrize("year", ["99999", "0", "../../etc/passwd", "2026%00", "١٢٣٤"])
def test_a_strange_report_year_is_a_clear_refusal(client: FlaskClient, year: str) -> None:
    login(client, "ombuds")
    for path in ("/concerns/annual-report", "/concerns/annual-report.csv"):
        response = client.get(f"{path}?year={quote(year)}")
        assert response.status_code in (200, 400, 422), (path, year, response.status_code)


# ---------------------------------------------------------------------------------------------- SQL

SQL = ["' OR '1'='1", "'; DROP TABLE policies; --", "1 UNION SELECT username, password_hash FROM users --",
       "\" OR 1=1 --", "%' OR 1=1 --", "1; SELECT pg_sleep(5)", "') OR ('a'='a", "\\'; --", "*", "%", "_"]
FILTERED_PAGES = [
    "/policies?q={v}", "/policies?section={v}", "/policies?stage={v}", "/search?q={v}", "/search?kind={v}",
    "/search?section={v}&stage={v}", "/search?q=students&page={v}", "/api/v1/policies?q={v}", "/api/v1/policies?section={v}",
    "/api/v1/policies?stage={v}", "/api/v1/search?q={v}", "/api/v1/search?kind={v}&section={v}&stage={v}",
    "/api/v1/reviews?state={v}&policy={v}", "/reviews/{review}/comments?q={v}&passage={v}&show={v}&kind={v}",
    "/concerns?status={v}&theme={v}&subgroup={v}&q={v}", "/api/v1/concerns?status={v}&theme={v}&subgroup={v}",
    "/api/v1/policies/{v}/events", "/api/v1/policies?page={v}", "/reviews/{review}/report?page={v}",
]


def test_sql_in_every_filter_is_only_data(client: FlaskClient, session: Session) -> None:
    login(client, "ombuds")
    headers = api_token(client, "ombuds")
    review = client.get("/api/v1/reviews?state=stakeholder_comment", headers=headers).get_json()["items"][0]["id"]
    policies_before = session.scalar(select(func.count()).select_from(Policy))
    failures = []
    for template in FILTERED_PAGES:
        for payload in SQL:
            path = template.format(v=quote(payload, safe=""), review=review)
            response = client.get(path, headers=headers if path.startswith("/api/") else {})
            if response.status_code >= 500 or response.status_code not in (200, 400, 404, 422):
                failures.append(f"{path}: {response.status_code}")
            body = response.get_data(as_text=True)
            if "$argon2" in body:
                failures.append(f"{path}: user data in the answer")
    assert not failures, failures
    assert session.scalar(select(func.count()).select_from(Policy)) == policies_before


def test_sql_in_a_search_finds_nothing_for_the_public(client: FlaskClient) -> None:
    """A tautology is searched as words: the public sees no more than for any other words."""
    everything = client.get("/api/v1/search?q=" + quote("' OR '1'='1")).get_json()
    assert all(item["kind"] != "comment" or item.get("public", True) for item in everything["items"])
    wildcard = client.get("/api/v1/search?q=" + quote("%"))
    assert wildcard.status_code in (200, 400, 422)
    assert wildcard.status_code != 200 or wildcard.get_json()["total"] == 0


# ---------------------------------------------------------------------------------------------- JSON bodies


@pytest.fixture
def small_client(session_factory) -> FlaskClient:  # type: ignore[no-untyped-def]
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SESSION_FACTORY": session_factory, "WTF_CSRF_ENABLED": False,
                      "STORE_SETTINGS": STORE, "MAX_TEXT_BYTES": 4096})
    return app.test_client()


def _events(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Event)) or 0


def _assert_problem(response, statuses: tuple[int, ...]) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == response.status_code and body["title"] and body["detail"]


def test_a_body_over_the_limit_is_413_with_a_problem(small_client: FlaskClient, session: Session) -> None:
    headers = api_token(small_client, "ombuds")
    before = _events(session)
    big = json.dumps({"code": "BIG", "title": "Big", "text": "word " * 20_000})
    _assert_problem(small_client.post("/api/v1/policies", data=big, headers=headers | {"Content-Type": "application/json"}),
                    (413,))
    _assert_problem(small_client.post("/api/v1/policies", headers=headers,
                                      json={"code": "BIG", "title": "Big", "text": "word " * 1000}), (413,))
    assert _events(session) == before


BAD_BODIES = [
    ('{"code": "BAD", "title": "T", "text": "x"', "truncated"),
    ("[1, 2, 3]", "not an object"),
    ("\"just a string\"", "a string"),
    ('{"code": "BAD", "title": "T", "text": "x"} trailing', "trailing data"),
    (b'{"code": "BAD", "title": "\xff\xfe", "text": "x"}', "not UTF-8"),
    ('{"code": 12, "title": "T", "text": "x"}', "wrong type"),
    ('{"code": "BAD", "title": ["T"], "text": "x"}', "a list"),
    ('{"code": "BAD", "title": "T", "text": {"a": 1}}', "an object"),
    ('{"code": "BAD", "title": "T\\u0000", "text": "x"}', "NUL in a title"),
    ('{"code": "BAD\\u0000", "title": "T", "text": "x"}', "NUL in a code"),
    ('{"code": "BAD", "title": "T", "text": "x\\u0000y"}', "NUL in text"),
    ('{"code": "BAD", "title": "T", "text": "x", "summary": "\\u0000"}', "NUL in a summary"),
    ('{"code": "BAD", "title": "T", "text": "x", "section": 1e999}', "infinite number"),
    ('{"code": "BAD", "title": "T", "text": "x", "section": NaN}', "NaN"),
    ('{"code": "BAD", "title": "\\ud800", "text": "x"}', "lone surrogate"),
    ("{" * 5000 + "}" * 5000, "deep nesting"),
    ("", "empty"),
]


@pytest.mark.parametrize(("body", "what"), BAD_BODIES, ids=[what for _body, what in BAD_BODIES])
def test_a_malformed_body_is_a_clear_problem_and_writes_nothing(client: FlaskClient, session: Session, body: str | bytes,
                                                                 what: str) -> None:
    headers = api_token(client, "ombuds") | {"Content-Type": "application/json"}
    before = _events(session)
    _assert_problem(client.post("/api/v1/policies", data=body, headers=headers), (400, 422))
    assert _events(session) == before
    assert client.get("/api/v1/policies/BAD", headers=headers).status_code == 404


HUGE = [10**20, -(10**20), 2**63, 2**31, -1, 0]


@pytest.mark.parametrize("number", HUGE)
def test_huge_or_negative_numbers_are_refused(client: FlaskClient, session: Session, number: int) -> None:
    headers = api_token(client, "ombuds")
    before = _events(session)
    _assert_problem(client.post("/api/v1/policies/JD/versions", headers=headers,
                                json={"text": "New text.", "summary": "s", "base_version": number}), (400, 404, 409, 422))
    for path in (f"/api/v1/policies/JD/versions/{number}", f"/api/v1/reviews/{number}", f"/api/v1/policies?page={number}",
                 f"/api/v1/policies/JD/diff?from=1&to={number}", f"/api/v1/search?q=a&page={number}"):
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 400, 404, 422), (path, response.status_code)
    for path in (f"/reviews/{number}", f"/policies/JD/versions/{number}", f"/policies?page={number}"):
        assert client.get(path).status_code in (200, 302, 400, 404, 422), path
    assert _events(session) == before


def test_a_nul_in_a_form_or_query_is_refused(client: FlaskClient, session: Session) -> None:
    login(client, "ombuds")
    before = _events(session)
    response = client.post("/policies/new", data={"code": "NULL", "title": "A\x00title", "text": "Text.", "summary": "s"})
    assert response.status_code in (400, 422), response.status_code
    for path in ("/search?q=a%00b", "/policies?q=a%00b", "/api/v1/search?q=a%00b", "/policies/J%00D"):
        assert client.get(path).status_code in (200, 400, 404, 422), path
    assert _events(session) == before


def test_every_paged_list_reads_its_page_number_alike(client: FlaskClient, session: Session) -> None:
    """Pages and API: 'page' is a whole number from 1; 0 or less is 422, a word is 400, never a quiet clamp."""
    from policyflow.models import Review

    review = session.scalar(select(Review).where(Review.state == "stakeholder_comment"))
    login(client, "ombuds")
    for path in ("/", "/policies", "/search?q=students", f"/reviews/{review.id}/comments",
                 f"/reviews/{review.id}/report", "/api/v1/policies"):
        joiner = "&" if "?" in path else "?"
        assert client.get(f"{path}{joiner}page=1").status_code == 200, path
        assert client.get(f"{path}{joiner}page=0").status_code == 422, path
        assert client.get(f"{path}{joiner}page=-3").status_code == 422, path
        assert client.get(f"{path}{joiner}page=two").status_code == 400, path
