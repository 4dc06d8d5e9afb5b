"""Highlights placed on rendered Markdown from source offsets, on every demo policy."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from policyflow.core.highlight import Highlight, OffsetMap, highlight_html, rendered_text, source_span_for_quote
from policyflow.core.rendering import render_markdown

DEMO = sorted((Path(__file__).resolve().parents[2] / "policyflow" / "demo" / "policies").glob("*/v*.md"))
PHRASE = re.compile(r"[A-Za-z][\w'’-]*(?:,? [A-Za-z][\w'’-]*){1,6}")


class _Marks(HTMLParser):
    """Text inside marks per note id, and whether tags nest properly."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.inside: list[str] = []
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "hr"):
            return
        self.stack.append(tag)
        if tag == "mark":
            self.inside = (dict(attrs).get("data-notes") or "").split()

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag == "mark":
            self.inside = []

    def handle_data(self, data: str) -> None:
        for note in self.inside:
            self.text[note] = self.text.get(note, "") + data


@pytest.mark.parametrize("path", DEMO, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_phrases_map_to_the_same_words_on_the_page(path: Path) -> None:
    source = path.read_text()
    html = render_markdown(source)
    text = rendered_text(html)
    mapping = OffsetMap.build(source, text)
    rng = random.Random(path.name + path.parent.name)
    phrases = list(PHRASE.finditer(source))
    for match in rng.sample(phrases, min(40, len(phrases))):
        start, end = mapping.to_rendered(match.start(), match.end())
        assert text[start:end] == match.group(0)
        assert mapping.to_source(start, end) == (match.start(), match.end())


@pytest.mark.parametrize("path", DEMO[::5], ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_overlapping_highlights_stay_valid_html(path: Path) -> None:
    source = path.read_text()
    html = render_markdown(source)
    phrases = list(PHRASE.finditer(source))[5:40]
    highlights = [Highlight(index + 1, m.start(), m.end()) for index, m in enumerate(phrases)]
    # Overlapping and nested: a span covering several phrases, crossing formatting and paragraphs.
    highlights.append(Highlight(999, phrases[0].start(), phrases[-1].end()))
    marks = _Marks()
    marks.feed(highlight_html(source, html, highlights))
    assert not marks.stack
    for item in highlights[:-1]:
        assert " ".join(marks.text[str(item.note_id)].split()) == " ".join(source[item.start:item.end].split())
    assert len(marks.text["999"]) > len(marks.text["1"])


def test_markdown_syntax_inside_a_passage() -> None:
    source = ("# Title\n\nStudents **must** enroll [at once](https://example.org) in *any* school.\n\n"
              "| a | b |\n|---|---|\n| one | two |\n")
    html = render_markdown(source)
    start = source.index("**must**")
    end = source.index("school.") + len("school")
    marks = _Marks()
    marks.feed(highlight_html(source, html, [Highlight(1, start, end)]))
    assert " ".join(marks.text["1"].split()) == "must enroll at once in any school"
    cell = source.index("two")
    marks = _Marks()
    marks.feed(highlight_html(source, html, [Highlight(2, cell, cell + 3)]))
    assert marks.text["2"] == "two"


def test_quote_as_read_on_the_page_finds_its_source() -> None:
    source = "# Title\n\nThe District **shall** act. The District shall act again.\n"
    html = render_markdown(source)
    first = source_span_for_quote(source, html, "The District shall act", 1)
    second = source_span_for_quote(source, html, "The District shall act", 2)
    assert source[first[0]:first[1]] == "The District **shall** act"
    assert source[second[0]:second[1]] == "The District shall act"
    assert source_span_for_quote(source, html, "not in the text", 1) is None
