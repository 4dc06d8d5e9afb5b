"""Script in policy text, summaries or titles never reaches a page as markup."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from tests.conftest import api_token

PAYLOADS = [
    "<script>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=1">',
    "[click](javascript:window.pwned=1)",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    '"><script>alert(1)</script>',
    "<iframe src=javascript:alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
]


class _Scanner(HTMLParser):
    """Collects markup that could run script: script/iframe/svg elements, on* handlers, js: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"iframe", "svg", "object", "embed"}:
            self.problems.append(f"<{tag}>")
        if tag == "script" and not dict(attrs).get("src", "").startswith("/static/"):
            self.problems.append("inline <script>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if name in {"href", "src", "action", "style"} and value and "javascript:" in value.lower():
                self.problems.append(f"{tag} {name}={value}")


def dangerous_markup(page: str) -> list[str]:
    scanner = _Scanner()
    scanner.feed(page)
    return scanner.problems


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_inert_everywhere(client: FlaskClient, payload: str) -> None:
    headers = api_token(client, "ombuds")
    created = client.post("/api/v1/policies", headers=headers, json={
        "code": "XSS1", "title": f"Title {payload}", "text": f"# Heading\n\nBefore {payload} after.\n",
        "summary": f"Summary {payload}"})
    assert created.status_code == 201
    client.post("/api/v1/policies/XSS1/versions", headers=headers, json={
        "text": f"# Heading\n\nChanged {payload} after.\n", "summary": f"Again {payload}", "base_version": 1})
    client.post("/login", data={"username": "ombuds", "password": "demo-password"})
    for path in ["/policies/XSS1", "/policies/XSS1/versions/1", "/policies/XSS1/diff?from=1&to=2",
                 "/policies/XSS1/diff?from=1&to=2&view=side", "/policies/XSS1/history", "/policies/XSS1/edit",
                 "/policies?q=XSS", "/dashboard"]:
        problems = dangerous_markup(client.get(path).get_data(as_text=True))
        assert not problems, (path, problems)
