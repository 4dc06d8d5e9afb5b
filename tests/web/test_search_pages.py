"""The search page and ``GET /api/v1/search``: signed out and signed in, escaping, clear refusals,
paging, and every API response checked against openapi.json."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from policyflow.services import annotations, policies
from tests.conftest import STORE, api_token, login
from tests.reviewing import who
from tests.security.markup import live_markup
from tests.services.test_search import DRAFT_TEXT, SECRET_EMAIL, SECRET_NAME, World, span, world  # noqa: F401
from tests.web.test_api import conforms, spec  # noqa: F401


@pytest.fixture
def data(session: Session, world: World) -> World:  # noqa: F811
    session.commit()  # visible to the app's sessions (they share the test's connection)
    return world


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def test_signed_out_visitors_find_public_material(client: FlaskClient, data: World) -> None:
    home = page(client, "/")
    assert 'href="/search"' in home  # linked from the header
    found = page(client, "/search?q=quokka")
    assert '<label for="search-q">' in found and 'role="search"' in found
    assert 'href="/public/policies/SRCHA#sec-scope"' in found and "<mark>quokka</mark>" in found
    assert re.search(r"\d+ results? for “quokka”", found)
    assert "/policies/SRCHA/versions/2" not in found  # the unpublished draft
    assert "0 results" in page(client, "/search?q=xylophone")
    assert "0 results" in page(client, "/search?q=marmalade")  # a confidential note
    wombat = page(client, "/search?q=wombat")
    assert f'href="/public/reviews/{data.public_review.id}#sec-wombat-access"' in wombat


def test_staff_find_drafts_and_notes(client: FlaskClient, data: World) -> None:
    login(client, "reviewer")
    found = page(client, "/search?q=xylophone")
    assert 'href="/policies/SRCHA/versions/2#sec-draft-addition"' in found
    notes = page(client, "/search?q=tangerine&kind=annotation")
    assert "/policies/SRCHA/versions/2#note-" in notes and "internal" in notes
    assert "0 results" in page(client, "/search?q=marmalade")  # confidential: ombuds staff only
    assert "0 results" in page(client, "/search?q=" + SECRET_NAME.split()[1])
    login(client, "ombuds")
    assert "1 result for" in page(client, "/search?q=marmalade")
    named = page(client, "/search?q=" + SECRET_NAME.split()[1])
    assert SECRET_NAME in named


def test_filters_on_the_page(client: FlaskClient, data: World) -> None:
    login(client, "ombuds")
    only_notes = page(client, "/search?q=quokka&kind=annotation")
    assert "0 results" in only_notes
    published = page(client, "/search?q=quokka&stage=published&section=S+-+Search+tests")
    assert "1 result for" in published and "Published text, version 1" in published
    assert '<option value="published" selected>' in published


def test_snippets_are_escaped(client: FlaskClient, session: Session, data: World) -> None:
    annotations.create(session, who(session, "ombuds"), data.draft_policy, 2, target=span(DRAFT_TEXT, "xylophone"),
                       body="<script>window.pwned=1</script> <img src=x onerror=alert(1)> jackalope", visibility="internal",
                       allowed_tags=())
    session.commit()
    login(client, "reviewer")
    found = page(client, "/search?q=jackalope")
    assert "<mark>jackalope</mark>" in found
    assert live_markup(found) == []
    assert "<script>window" not in found and "<img src=x" not in found
    quoted = page(client, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E")  # the query itself is echoed escaped
    assert "<script>alert(1)" not in quoted and live_markup(quoted) == []


def test_clear_messages_and_refusals(client: FlaskClient, data: World) -> None:
    empty = page(client, "/search")
    assert "Type one or more words" in empty and "Results" not in empty
    symbols = page(client, "/search?q=%22%2A%22")
    assert "Type one or more words" in symbols
    too_long = page(client, "/search?q=" + "word+" * 41, status=422)
    assert "limited to 200 characters" in too_long and 'aria-invalid="true"' in too_long
    assert "must be a whole number" in page(client, "/search?q=quokka&page=x", status=400)
    assert "Unknown kind" in page(client, "/search?q=quokka&kind=secrets", status=422)
    assert "Unknown stage" in page(client, "/search?q=quokka&stage=%27%3B+DROP", status=422)
    injection = page(client, "/search?q=%27%3B+DROP+TABLE+search_entries%3B+--")
    assert "0 results" in injection
    assert "1 result for" in page(client, "/search?q=quokka")  # the index is still there


def test_pages_of_results(client: FlaskClient, session: Session, data: World) -> None:
    text = "# Paged\n\n" + "".join(f"## Part {n}\n\nThe ocelot clause number {n}.\n\n" for n in range(45))
    policies.create_policy(session, who(session, "ombuds"), STORE, code="PAGE2", title="Paged", text=text, summary="First.")
    session.commit()
    login(client, "reviewer")
    first = page(client, "/search?q=ocelot")
    assert "45 results for" in first and "page 1 of 3" in first
    assert 'href="/search?q=ocelot&amp;page=2" rel="next"' in first
    third = page(client, "/search?q=ocelot&page=3")
    assert '<ol class="search-results" start="41">' in third and third.count('class="search-result ') == 5


# ---------------------------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------------------------

def test_api_signed_out_and_with_tokens(client: FlaskClient, spec: dict, data: World) -> None:  # noqa: F811
    anonymous = conforms(spec, client.get("/api/v1/search?q=capybara"), "get", "/search")
    [hit] = anonymous["items"]
    assert hit["kind"] == "comment" and hit["name"] == "Name withheld at the commenter's request"
    assert hit["url"] == f"/public/reviews/{data.closed_review.id}/report"
    assert anonymous["total"] == 1 and anonymous["counts"] == {"comment": 1} and anonymous["pages"] == 1
    reviewer = api_token(client, "reviewer")
    drafts = conforms(spec, client.get("/api/v1/search?q=xylophone&kind=policy", headers=reviewer), "get", "/search")
    assert [item["version"] for item in drafts["items"]] == [2]
    for secret in (SECRET_NAME, SECRET_EMAIL):
        body = conforms(spec, client.get("/api/v1/search", query_string={"q": secret}, headers=reviewer), "get", "/search")
        assert body["total"] == 0
    ombuds = api_token(client, "ombuds")
    named = conforms(spec, client.get("/api/v1/search", query_string={"q": SECRET_EMAIL}, headers=ombuds), "get", "/search")
    assert [item["name"] for item in named["items"]] == [SECRET_NAME]
    several = conforms(spec, client.get("/api/v1/search?q=quokka&kind=policy,annotation&page_size=1", headers=ombuds),
                       "get", "/search")
    assert several["page_size"] == 1 and len(several["items"]) == 1 and set(several["counts"]) <= {"policy", "annotation"}


def test_api_refusals_are_problems(client: FlaskClient, spec: dict, data: World) -> None:  # noqa: F811
    empty = client.get("/api/v1/search?q=")
    assert conforms(spec, empty, "get", "/search")["status"] == 400
    assert empty.mimetype == "application/problem+json" and "Type one or more words" in empty.get_json()["detail"]
    missing = client.get("/api/v1/search")
    assert missing.status_code == 400
    long = client.get("/api/v1/search", query_string={"q": "x" * 201})
    assert conforms(spec, long, "get", "/search")["status"] == 422 and "200 characters" in long.get_json()["detail"]
    assert conforms(spec, client.get("/api/v1/search?q=quokka&kind=nope"), "get", "/search")["status"] == 422
    assert conforms(spec, client.get("/api/v1/search?q=quokka&page=x"), "get", "/search")["status"] == 400
    assert conforms(spec, client.get("/api/v1/search?q=quokka&page_size=500"), "get", "/search")["status"] == 422
    bad_token = client.get("/api/v1/search?q=quokka", headers={"Authorization": "Bearer nope"})
    assert conforms(spec, bad_token, "get", "/search")["status"] == 401
    nasty = conforms(spec, client.get("/api/v1/search", query_string={"q": 'NEAR("a" b)* OR \'; DROP'}), "get", "/search")
    assert nasty["total"] == 0
