"""The JSON API: tokens, policies, versions, diff; every response checked against openapi.json."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.test import TestResponse

from tests.conftest import api_token


@pytest.fixture
def spec(client: FlaskClient) -> dict:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    return document


def conforms(spec: dict, response: TestResponse, method: str, template: str) -> dict:
    """Assert the response matches the documented status, media type and schema."""
    operation = spec["paths"][template][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method.upper()} {template} returned undocumented {response.status_code}"
    if "content" not in documented:
        return {}
    media_type, content = next(iter(documented["content"].items()))
    assert response.mimetype == media_type
    body = response.get_json()
    Draft202012Validator({**content["schema"], "components": spec["components"]}).validate(body)
    return body


def test_openapi_documents_every_api_route(client: FlaskClient, spec: dict) -> None:
    rules = {
        (rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<", "{").replace(">", "}"), method.lower())
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.rule != "/api/v1/openapi.json"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    rules = {(path.replace("{token_id}", "{id}"), method) for path, method in rules}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert rules == documented


def test_token_flow(client: FlaskClient, spec: dict) -> None:
    bad = client.post("/api/v1/tokens", json={"username": "ombuds", "password": "nope"})
    assert conforms(spec, bad, "post", "/tokens")["type"] == "urn:policyflow:problem:not-authenticated"
    created = client.post("/api/v1/tokens", json={"username": "ombuds", "password": "demo-password", "name": "cli"})
    token = conforms(spec, created, "post", "/tokens")
    headers = {"Authorization": f"Bearer {token['token']}"}
    listed = conforms(spec, client.get("/api/v1/tokens", headers=headers), "get", "/tokens")
    assert [t["name"] for t in listed["items"]] == ["cli"]
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=headers).status_code == 204
    refused = client.get("/api/v1/tokens", headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.get_json()["detail"]


def test_policies_list_and_get(client: FlaskClient, spec: dict) -> None:
    anonymous = conforms(spec, client.get("/api/v1/policies?page_size=100"), "get", "/policies")
    staff = conforms(spec, client.get("/api/v1/policies?page_size=100", headers=api_token(client, "reviewer")),
                     "get", "/policies")
    assert anonymous["total"] == staff["total"]  # every demo policy has a published version
    page = conforms(spec, client.get("/api/v1/policies?q=discipline"), "get", "/policies")
    assert [p["code"] for p in page["items"]] == ["JD"]
    policy = conforms(spec, client.get("/api/v1/policies/jd"), "get", "/policies/{code}")
    assert policy["code"] == "JD" and policy["head_version"] == 5
    missing = client.get("/api/v1/policies/NOPE")
    assert conforms(spec, missing, "get", "/policies/{code}")["status"] == 404
    assert client.get("/api/v1/policies?page=0").status_code == 422
    assert client.get("/api/v1/policies?page=x").status_code == 400


def test_version_lifecycle(client: FlaskClient, spec: dict) -> None:
    headers = api_token(client, "ombuds")
    created = client.post("/api/v1/policies", headers=headers, json={
        "code": "API1", "title": "API policy", "text": "# API policy\n\nOne.\n", "summary": "Drafted."})
    assert conforms(spec, created, "post", "/policies")["head_version"] == 1
    assert created.headers["Location"] == "/api/v1/policies/API1"
    duplicate = client.post("/api/v1/policies", headers=headers, json={"code": "api1", "title": "x", "text": "x"})
    assert conforms(spec, duplicate, "post", "/policies")["status"] == 409
    saved = client.post("/api/v1/policies/API1/versions", headers=headers,
                        json={"text": "# API policy\n\nOne, two.\n", "summary": "Adds two.", "base_version": 1})
    body = conforms(spec, saved, "post", "/policies/{code}/versions")
    assert body["created"] and body["number"] == 2 and body["words_inserted"] == 1
    same = client.post("/api/v1/policies/API1/versions", headers=headers,
                       json={"text": "# API policy\n\nOne, two.\n", "summary": "Again.", "base_version": 2})
    assert same.status_code == 200 and conforms(spec, same, "post", "/policies/{code}/versions")["created"] is False
    stale = client.post("/api/v1/policies/API1/versions", headers=headers,
                        json={"text": "# Other\n", "summary": "Stale.", "base_version": 1})
    problem = conforms(spec, stale, "post", "/policies/{code}/versions")
    assert stale.status_code == 409 and problem["current_version"] == 2
    version = conforms(spec, client.get("/api/v1/policies/API1/versions/2", headers=headers), "get",
                       "/policies/{code}/versions/{number}")
    assert version["text"] == "# API policy\n\nOne, two.\n" and '<h2 id="sec-api-policy"' in version["html"]
    listed = conforms(spec, client.get("/api/v1/policies/API1/versions", headers=headers), "get",
                      "/policies/{code}/versions")
    assert [v["number"] for v in listed["items"]] == [2, 1]
    diff = conforms(spec, client.get("/api/v1/policies/API1/diff?from=1&to=2", headers=headers), "get",
                    "/policies/{code}/diff")
    assert diff["ops"] == [[0, "# API policy\n\nOne"], [1, ", two"], [0, ".\n"]]
    assert diff["stats"]["words_inserted"] == 1 and "<ins" in diff["html"]
    # Unpublished: invisible without a staff token.
    assert client.get("/api/v1/policies/API1").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "content_type"),
    [
        (b'{"text": "x", "summary": "s"', 400, "application/json"),
        (b'["not", "an", "object"]', 400, "application/json"),
        (b'{"text": "x", "summary": "s", "base_version": "5"}', 422, "application/json"),
        (b'{"summary": "s", "base_version": 5}', 422, "application/json"),
        (b'{"text": "a\\u0000b", "summary": "s", "base_version": 5}', 400, "application/json"),
        (b'{"text": "\xff\xfe", "summary": "s", "base_version": 5}', 400, "application/json"),
        (b"text=x", 400, "application/x-www-form-urlencoded"),
    ],
)
def test_bad_requests_are_clear_problems(client: FlaskClient, spec: dict, body: bytes, status: int,
                                         content_type: str) -> None:
    headers = api_token(client, "ombuds")
    response = client.post("/api/v1/policies/KB/versions", headers=headers, data=body, content_type=content_type)
    problem = conforms(spec, response, "post", "/policies/{code}/versions")
    assert response.status_code == status and problem["detail"]
    assert client.get("/api/v1/policies/KB").get_json()["head_version"] == 5


def test_oversized_text_is_413(client: FlaskClient, spec: dict) -> None:
    headers = api_token(client, "ombuds")
    response = client.post("/api/v1/policies/KB/versions", headers=headers,
                           json={"text": "x" * (2 * 1024 * 1024 + 1), "summary": "big", "base_version": 5})
    assert conforms(spec, response, "post", "/policies/{code}/versions")["status"] == 413


def test_write_needs_token_and_role(client: FlaskClient, spec: dict) -> None:
    anonymous = client.post("/api/v1/policies/KB/versions", json={"text": "x", "summary": "s", "base_version": 5})
    assert conforms(spec, anonymous, "post", "/policies/{code}/versions")["status"] == 401
    reviewer = client.post("/api/v1/policies/KB/versions", headers=api_token(client, "reviewer"),
                           json={"text": "x", "summary": "s", "base_version": 5})
    assert conforms(spec, reviewer, "post", "/policies/{code}/versions")["status"] == 403
    forged = client.get("/api/v1/policies", headers={"Authorization": "Bearer pf_forged"})
    assert forged.status_code == 401
