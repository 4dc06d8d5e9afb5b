"""Policy Markdown to sanitized HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from policyflow.core.rendering import RENDERER_VERSION, plain_excerpt, render_markdown, sanitize_html


class _Collector(HTMLParser):
    """Every tag with its (entity-decoded) attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.tags


def test_renderer_version_is_set():
    assert RENDERER_VERSION


class _Headings(HTMLParser):
    """(level, id, text) of every heading; the level may be shifted to fit under the page's h1."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[tuple[int, str | None, str]] = []
        self._open: tuple[int, str | None, list[str]] | None = None

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self._open = (int(tag[1]), dict(attrs).get("id"), [])

    def handle_data(self, data):
        if self._open:
            self._open[2].append(data)

    def handle_endtag(self, tag):
        if self._open and re.fullmatch(r"h[1-6]", tag):
            level, heading_id, text = self._open
            self.headings.append((level, heading_id, "".join(text)))
            self._open = None


def _headings(html: str) -> list[tuple[int, str | None, str]]:
    parser = _Headings()
    parser.feed(html)
    parser.close()
    return parser.headings


def test_headings_get_prefixed_ids():
    html = render_markdown("# Student Discipline\n\n## Purpose and Scope\n\n### Tier 2 Responses\n\n#### Notes\n")
    headings = _headings(html)
    assert [(heading_id, text) for _, heading_id, text in headings] == [
        ("sec-student-discipline", "Student Discipline"),
        ("sec-purpose-and-scope", "Purpose and Scope"),
        ("sec-tier-2-responses", "Tier 2 Responses"),
        ("sec-notes", "Notes"),
    ]
    levels = [level for level, _, _ in headings]
    assert levels == sorted(levels) and len(set(levels)) == 4  # nesting is kept


def test_duplicate_and_unicode_headings_get_distinct_ids():
    headings = _headings(render_markdown("## Scope\n\ntext\n\n## Scope\n\n## Política 学生\n"))
    ids = [heading_id for _, heading_id, _ in headings]
    assert len(ids) == len(set(ids)) == 3
    assert all(heading_id and heading_id.startswith("sec-") for heading_id in ids)
    assert "学生" in ids[2]


def test_heading_ids_cannot_collide_with_page_ids():
    html = render_markdown("## Main\n\n## Content\n")
    assert 'id="main"' not in html and 'id="content"' not in html
    assert [heading_id for _, heading_id, _ in _headings(html)] == ["sec-main", "sec-content"]


def test_tables_render():
    text = "| Tier | Response |\n|------|----------|\n| 1 | Conference |\n| 2 | Restorative circle |\n"
    html = render_markdown(text)
    assert "<table>" in html and "<thead>" in html and "<tbody>" in html
    assert html.count("<table>") == html.count("</table>") == 1
    assert "<th>Tier</th>" in html
    assert "<td>Restorative circle</td>" in html
    assert [tag for tag, _ in _tags(html) if tag in {"tr", "th", "td"}].count("td") == 4


def test_lists_render():
    html = render_markdown("Intro:\n\n1. First\n2. Second\n\n- alpha\n- beta\n\n3. Three\n4. Four\n")
    assert "<ol>" in html and "<li>First</li>" in html
    assert "<ul>" in html and "<li>alpha</li>" in html
    assert '<ol start="3">' in html


def test_inline_markup_and_safe_links_survive():
    html = render_markdown("Some **bold**, *em*, `code` and [a link](https://example.org/p?q=1&r=2).\n\n> quoted\n")
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html and "<code>code</code>" in html
    assert '<a href="https://example.org/p?q=1&amp;r=2" rel="noopener noreferrer nofollow">a link</a>' in html
    assert "<blockquote>" in html
    assert 'href="mailto:ombuds@example.org"' in render_markdown("[mail](mailto:ombuds@example.org)")


def test_policy_text_characters_are_escaped():
    html = render_markdown('Grades 3 < 5 & 7 > 6 "quoted"')
    assert "3 &lt; 5 &amp; 7 &gt; 6" in html


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<body onload=alert(1)>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "![img](javascript:alert(1))",
    '[ref]\n\n[ref]: javascript:alert(1) "title"',
    "<javascript:alert(1)>",
    '<div style="background:url(javascript:alert(1))" onclick="alert(1)">x</div>',
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<object data="javascript:alert(1)"></object>',
    '<p onmouseover="alert(1)">hover</p>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "## Heading <img src=x onerror=alert(1)>",
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | <img src=x onerror=alert(1)> |",
    "- item <svg onload=alert(1)>\n- [x](javascript:alert(1))",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_are_neutralized(payload):
    html = render_markdown(payload)
    lowered = html.lower()
    assert "<script" not in lowered
    assert "onerror=" not in lowered
    assert "javascript:" not in lowered
    for tag, attrs in _tags(html):
        assert tag not in {"script", "style", "iframe", "object", "embed", "svg", "math", "img", "form", "body"}
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name != "style"
            if name in {"href", "src", "action", "data"}:
                assert re.match(r"(https?|mailto):", (value or "").strip(), re.I), (tag, name, value)


@pytest.mark.parametrize("payload", [p for p in XSS_PAYLOADS if p.startswith("<")])
def test_sanitize_html_alone_neutralizes_payloads(payload):
    html = sanitize_html(payload).lower()
    assert "<script" not in html and "onerror=" not in html and "javascript:" not in html


def test_links_get_safe_rel():
    html = render_markdown("[x](https://example.org)")
    assert 'rel="noopener noreferrer nofollow"' in html


def test_plain_excerpt():
    assert plain_excerpt("# Title\n\n## Purpose\n\nThe Board shall.") == "Title Purpose The Board shall."
    long = plain_excerpt("word " * 100, limit=30)
    assert len(long) <= 30 and long.endswith("…")
