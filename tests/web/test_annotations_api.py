"""Annotations over the API (checked against openapi.json) and the W3C export."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import api_token
from tests.web.test_api import conforms


def _target(text: str, quote: str) -> dict[str, object]:
    start = text.index(quote)
    return {"start": start, "end": start + len(quote), "exact": quote}


def test_annotation_api_and_confidentiality_everywhere(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    ombuds, reviewer, leader = (api_token(client, u) for u in ("ombuds", "reviewer", "leader1"))
    text = client.get("/api/v1/policies/KB/versions/5", headers=ombuds).get_json()["text"]
    words = text.split("\n")[2].split(" ")[:4]
    quote = " ".join(words)
    secret = client.post("/api/v1/policies/KB/versions/5/annotations", headers=ombuds, json={
        "target": _target(text, quote), "body": "A parent raised this SECRET-CONCERN with us.", "visibility": "confidential"})
    secret_id = conforms(spec, secret, "post", "/policies/{code}/versions/{number}/annotations")["id"]
    shared = client.post("/api/v1/policies/KB/versions/5/annotations", headers=reviewer, json={
        "target": _target(text, quote), "body": "Legal: check **this**.", "tags": ["Legal", "clarity"], "blocking": True})
    shared_body = conforms(spec, shared, "post", "/policies/{code}/versions/{number}/annotations")
    assert shared_body["tags"] == ["legal", "clarity"] and "<strong>this</strong>" in shared_body["body_html"]
    refused = client.post("/api/v1/policies/KB/versions/5/annotations", headers=reviewer, json={
        "target": _target(text, quote), "body": "x", "visibility": "confidential"})
    assert conforms(spec, refused, "post", "/policies/{code}/versions/{number}/annotations")["status"] == 403
    untagged = client.post("/api/v1/policies/KB/versions/5/annotations", headers=reviewer, json={
        "target": _target(text, quote), "body": "x", "tags": ["not-a-district-tag"]})
    problem = conforms(spec, untagged, "post", "/policies/{code}/versions/{number}/annotations")
    assert problem["status"] == 422 and "not on the district's list" in problem["detail"]
    reply = client.post(f"/api/v1/annotations/{shared_body['id']}/replies", headers=leader, json={"body": "Agreed."})
    assert conforms(spec, reply, "post", "/annotations/{annotation_id}/replies")["replies"][0]["body"] == "Agreed."
    resolved = client.patch(f"/api/v1/annotations/{shared_body['id']}", headers=reviewer, json={"status": "resolved"})
    assert conforms(spec, resolved, "patch", "/annotations/{annotation_id}")["status"] == "resolved"
    mine = conforms(spec, client.get("/api/v1/policies/KB/annotations?version=5", headers=ombuds), "get",
                    "/policies/{code}/annotations")
    assert {a["id"] for a in mine["items"]} >= {secret_id, shared_body["id"]}
    # Leadership and reviewers never see the confidential note: not in lists, exports, the audit trail, or by id.
    for headers in (reviewer, leader):
        for path in ("/api/v1/policies/KB/annotations?version=5", "/api/v1/policies/KB/versions/5/annotations",
                     "/api/v1/policies/KB/annotations.jsonld?version=5", "/api/v1/policies/KB/events",
                     f"/api/v1/annotations/{secret_id}"):
            assert "SECRET-CONCERN" not in client.get(path, headers=headers).get_data(as_text=True), path
        assert client.get(f"/api/v1/annotations/{secret_id}", headers=headers).status_code == 404
    assert client.get("/api/v1/policies/KB/annotations?version=5").status_code == 404  # anonymous: an unpublished draft
    assert client.delete(f"/api/v1/annotations/{secret_id}", headers=leader).status_code == 404
    assert client.delete(f"/api/v1/annotations/{secret_id}", headers=ombuds).status_code == 204


def test_w3c_annotation_collection(client: FlaskClient) -> None:
    ombuds = api_token(client, "ombuds")
    text = client.get("/api/v1/policies/KB/versions/5", headers=ombuds).get_json()["text"]
    quote = text.split("\n")[2][:30]
    client.post("/api/v1/policies/KB/versions/5/annotations", headers=ombuds, json={
        "target": _target(text, quote), "body": "Family engagement: plain language.", "tags": ["family-impact"]})
    response = client.get("/api/v1/policies/KB/annotations.jsonld?version=5", headers=ombuds)
    assert response.mimetype == "application/ld+json"
    collection = response.get_json()
    assert collection["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert collection["type"] == "AnnotationCollection" and collection["total"] >= 1
    page = collection["first"]
    assert page["type"] == "AnnotationPage" and page["partOf"] == collection["id"]
    for item in page["items"]:
        # The model's MUSTs: id (IRI), type Annotation, target with a source; bodies typed; selectors valid.
        assert item["id"].startswith("http") and item["type"] == "Annotation"
        assert item["target"]["source"].startswith("http")
        quote_selector, position_selector = item["target"]["selector"]
        assert quote_selector["type"] == "TextQuoteSelector" and quote_selector["exact"]
        assert position_selector["type"] == "TextPositionSelector"
        assert text[position_selector["start"]:position_selector["end"]] == quote_selector["exact"]
        bodies = item["body"] if isinstance(item["body"], list) else [item["body"]]
        assert all(body["type"] == "TextualBody" and "value" in body for body in bodies)
    page_one = client.get("/api/v1/policies/KB/annotations.jsonld?version=5&page=1", headers=ombuds).get_json()
    assert page_one["type"] == "AnnotationPage" and page_one["@context"] == "http://www.w3.org/ns/anno.jsonld"


def test_reattach_over_the_api(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    ombuds = api_token(client, "ombuds")
    carried = [n for n in client.get("/api/v1/policies/GAE/annotations?version=5", headers=ombuds).get_json()["items"]
               if not n["placement"]["original"]]
    orphan = next(n for n in carried if n["placement"]["status"] == "orphaned")
    confirm = client.post(f"/api/v1/annotations/{orphan['id']}/placements", headers=ombuds, json={"version": 5})
    assert conforms(spec, confirm, "post", "/annotations/{annotation_id}/placements")["status"] == 422
    text = client.get("/api/v1/policies/GAE/versions/5", headers=ombuds).get_json()["text"]
    words = " ".join(text.split("\n\n")[2].split()[:6])
    start = text.index(words)
    moved = client.post(f"/api/v1/annotations/{orphan['id']}/placements", headers=ombuds,
                        json={"version": 5, "start": start, "end": start + len(words)})
    placement = conforms(spec, moved, "post", "/annotations/{annotation_id}/placements")["placement"]
    assert (placement["start"], placement["exact"]) == (start, words)
    half = client.post(f"/api/v1/annotations/{orphan['id']}/placements", headers=ombuds, json={"version": 5, "start": 1})
    assert half.status_code == 422
    reviewer = client.post(f"/api/v1/annotations/{orphan['id']}/placements", headers=api_token(client, "reviewer"),
                           json={"version": 5})
    assert reviewer.status_code == 404  # a confidential note: reviewers cannot even see it
