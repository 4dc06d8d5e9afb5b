"""Notes on the version page: add by quote, highlights, cards, filters, replies, resolve."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.conftest import login


def _version_page(client: FlaskClient, query: str = "") -> str:
    return client.get(f"/policies/KB/versions/5{query}").get_data(as_text=True)


def test_add_note_by_quote_and_work_with_it(client: FlaskClient) -> None:
    login(client, "reviewer")
    page = _version_page(client)
    assert 'id="add-note"' in page and "Confidential (ombuds staff only)" not in page  # reviewers cannot write those
    quote = re.sub(r"<[^>]+>", "", page.split('<article class="policy-text"')[1].split("<p>")[1].split("</p>")[0])
    quote = " ".join(quote.split()[:5])
    added = client.post("/policies/KB/versions/5/annotations",
                        data={"quote": quote, "body": "Is this **plain** language?", "tags": "clarity, Family-Impact",
                              "visibility": "internal", "blocking": "on"})
    assert added.status_code == 302 and "#note-" in added.headers["Location"]
    note_id = added.headers["Location"].rsplit("#note-", 1)[1]
    page = _version_page(client)
    assert f'id="note-{note_id}"' in page and "<strong>plain</strong>" in page and "blocking" in page
    marked = "".join(re.findall(rf'<mark class="[^"]*" data-notes="(?:[\d ]* )?{note_id}(?: [\d ]*)?">([^<]*)</mark>', page))
    assert " ".join(marked.split()) == quote
    assert f'id="hl-{note_id}"' in page
    # Filters
    assert f'id="note-{note_id}"' in _version_page(client, "?tag=family-impact")
    assert f'id="note-{note_id}"' not in _version_page(client, "?tag=legal")
    assert f'id="note-{note_id}"' not in _version_page(client, "?status=resolved")
    back = "/policies/KB/versions/5"
    assert client.post(f"/annotations/{note_id}/replies", data={"body": "Yes, after the edit.", "back": back}).status_code == 302
    assert "Yes, after the edit." in _version_page(client)
    assert client.post(f"/annotations/{note_id}/status", data={"status": "resolved", "back": back}).status_code == 302
    assert f'id="note-{note_id}"' in _version_page(client, "?status=resolved")
    missing = client.post("/policies/KB/versions/5/annotations", data={"quote": "words that are not there", "body": "x"})
    assert "was not found" in client.get(missing.headers["Location"].split("#")[0]).get_data(as_text=True)


def test_confidential_note_invisible_to_others_on_the_page(client: FlaskClient) -> None:
    login(client, "ombuds")
    page = _version_page(client)
    quote = " ".join(re.sub(r"<[^>]+>", "", page.split('<article class="policy-text"')[1].split("<p>")[1]).split()[:4])
    client.post("/policies/KB/versions/5/annotations", data={"quote": quote, "body": "TOP-SECRET family concern",
                                                             "visibility": "confidential"})
    assert "TOP-SECRET" in _version_page(client)
    client.post("/logout")
    for username in ("reviewer", "leader1", "admin"):
        login(client, username)
        page = _version_page(client)
        assert "TOP-SECRET" not in page and "vis-confidential" not in page, username
        client.post("/logout")
    login(client, "stakeholder")
    assert client.get("/policies/KB/versions/5").status_code == 404


def test_review_page_shows_anchor_health(client: FlaskClient) -> None:
    login(client, "ombuds")
    api = client.get("/api/v1/policies/KB/versions/5").get_json()
    text = api["text"]
    paragraphs = [p for p in text.split("\n\n") if not p.startswith(("#", "-", "1.", "|")) and len(p) > 80]
    keep, reword, drop = paragraphs[0], paragraphs[1], paragraphs[2]
    for quote in (keep[:40], reword[:60], drop[:50]):
        start = text.index(quote)
        response = client.post("/api/v1/policies/KB/versions/5/annotations", json={
            "target": {"start": start, "end": start + len(quote)}, "body": f"About: {quote[:20]}"},
            headers={"Authorization": "Bearer " + client.post("/api/v1/tokens", json={
                "username": "ombuds", "password": "demo-password"}).get_json()["token"]})
        assert response.status_code == 201
    words = reword[:60].split(" ")
    words[2] = words[2].upper() + "-revised"
    new_text = text.replace(reword[:60], " ".join(words)).replace(drop + "\n\n", "")
    saved = client.post("/policies/KB/edit", data={"text": new_text, "summary": "Rewords and trims.", "base_version": 5,
                                                   "action": "save"})
    assert saved.status_code == 302
    review_id = client.get("/api/v1/reviews?policy=KB", headers={"Authorization": "Bearer " + client.post(
        "/api/v1/tokens", json={"username": "ombuds", "password": "demo-password"}).get_json()["token"]}).get_json()["items"][0]["id"]
    page = client.get(f"/reviews/{review_id}").get_data(as_text=True)
    assert "Notes carried to version 6" in page
    assert "Passage no longer in the text" in page and drop[:30] in page


def test_reattach_form_on_the_version_page(client: FlaskClient) -> None:
    login(client, "ombuds")
    page = client.get("/policies/GAE/versions/5").get_data(as_text=True)
    note_id = re.search(r'action="/annotations/(\d+)/placements/5"', page).group(1)
    text = client.get("/api/v1/policies/GAE/versions/5").get_json()["text"]
    words = " ".join(text.split("\n\n")[2].split()[:5])
    done = client.post(f"/annotations/{note_id}/placements/5",
                       data={"quote": words, "back": "/policies/GAE/versions/5"})
    assert done.status_code == 302
    assert "Note re-attached." in client.get("/policies/GAE/versions/5").get_data(as_text=True)
    note = client.get("/api/v1/policies/GAE/annotations?version=5").get_json()["items"]
    placed = next(n for n in note if str(n["id"]) == note_id)["placement"]
    assert " ".join(placed["exact"].split()) == words
    # Placed by a person: the card says so and no longer asks for confirmation.
    card = client.get("/policies/GAE/versions/5").get_data(as_text=True).split(f'id="note-{note_id}"')[1].split("</li>")[0]
    assert "placed by a person" in card and "reattach-form" not in card


def test_visibility_filter_offers_only_what_the_reader_may_see(client: FlaskClient) -> None:
    login(client, "reviewer")
    page = client.get("/policies/GAE/versions/5").get_data(as_text=True)
    choices = page.split('id="f-visibility"')[1].split("</select>")[0]
    assert "<option>internal</option>" in choices and "confidential" not in choices
