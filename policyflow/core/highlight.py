"""Highlights on rendered policy HTML, placed from offsets into the Markdown source.

Notes are anchored in the Markdown text (what is versioned and diffed), but people read the
rendered page. The rendered page's text is aligned with the source by the word-level diff
(Markdown syntax such as ``## `` or ``**`` shows up as deletions), giving a position map in
both directions. Highlights are then inserted as ``<mark>`` elements inside text nodes only,
split at every element boundary and at every note boundary, so overlapping and nested notes
and highlights that cross emphasis, links, list items or table cells stay valid HTML.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from html.parser import HTMLParser
from itertools import pairwise

from policyflow.core.diffing import DELETE, EQUAL, INSERT, diff


class _Tokens(HTMLParser):
    """The HTML as a list of raw tags and unescaped text nodes, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[tuple[str, str]] = []  # ("tag", raw) or ("text", data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(("tag", self.get_starttag_text() or f"<{tag}>"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.append(("tag", self.get_starttag_text() or f"<{tag}/>"))

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(("tag", f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.parts.append(("text", data))


def _parse(html: str) -> list[tuple[str, str]]:
    parser = _Tokens()
    parser.feed(html)
    parser.close()
    return parser.parts


def rendered_text(html: str) -> str:
    return "".join(data for kind, data in _parse(html) if kind == "text")


@dataclass(frozen=True)
class OffsetMap:
    """Maps offsets between the Markdown source and the rendered page's text."""

    source_starts: list[int]  # start of each equal run in the source
    rendered_starts: list[int]  # ... and in the rendered text
    lengths: list[int]

    @classmethod
    def build(cls, source: str, rendered: str) -> OffsetMap:
        source_starts, rendered_starts, lengths = [], [], []
        i = j = 0
        for op, text in diff(source, rendered):
            if op == EQUAL:
                source_starts.append(i)
                rendered_starts.append(j)
                lengths.append(len(text))
                i += len(text)
                j += len(text)
            elif op == DELETE:
                i += len(text)
            elif op == INSERT:
                j += len(text)
        return cls(source_starts, rendered_starts, lengths)

    def _map(self, offset: int, starts: list[int], targets: list[int], *, at_end: bool) -> int:
        if at_end:
            # The last run starting before the offset: an end belongs to the text before it.
            index = bisect_left(starts, offset) - 1
            if index >= 0 and offset <= starts[index] + self.lengths[index]:
                return targets[index] + offset - starts[index]
            return targets[index] + self.lengths[index] if index >= 0 else 0
        index = bisect_right(starts, offset) - 1
        if index >= 0 and offset < starts[index] + self.lengths[index]:
            return targets[index] + offset - starts[index]
        # Inside text that exists on one side only (Markdown syntax): snap to the next equal run.
        following = index + 1
        if following < len(starts):
            return targets[following]
        return targets[index] + self.lengths[index] if index >= 0 else 0

    def to_rendered(self, start: int, end: int) -> tuple[int, int]:
        a = self._map(start, self.source_starts, self.rendered_starts, at_end=False)
        b = self._map(end, self.source_starts, self.rendered_starts, at_end=True)
        return a, max(a, b)

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        a = self._map(start, self.rendered_starts, self.source_starts, at_end=False)
        b = self._map(end, self.rendered_starts, self.source_starts, at_end=True)
        return a, max(a, b)


@dataclass(frozen=True)
class Highlight:
    note_id: int
    start: int  # source offsets
    end: int
    css: str = ""


def highlight_html(source: str, html: str, highlights: list[Highlight], *, base_class: str = "note-hl",
                   anchor_prefix: str = "hl-") -> str:
    """``html`` with every highlight wrapped in ``<mark>`` pieces (ids ``hl-N`` on each note's first).

    A pure function of its arguments, so the result is kept per process: a page read again with the same
    notes in the same places costs a dictionary look-up, and any change to a note's span or visibility
    class is a different key."""
    if not highlights:
        return html
    return _highlighted(source, html, tuple(highlights), base_class, anchor_prefix)


@lru_cache(maxsize=16)
def _offset_map(source: str, text: str) -> OffsetMap:
    """The alignment of a version's source with its rendered text (a word diff): the same for every note."""
    return OffsetMap.build(source, text)


@lru_cache(maxsize=16)
def _highlighted(source: str, html: str, highlights: tuple[Highlight, ...], base_class: str, anchor_prefix: str) -> str:
    parts = _parse(html)
    text = "".join(data for kind, data in parts if kind == "text")
    mapping = _offset_map(source, text)
    spans = []
    for item in highlights:
        start, end = mapping.to_rendered(item.start, item.end)
        if end > start:
            spans.append((start, end, item))
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    first_piece: set[int] = set()
    out: list[str] = []
    position = 0
    for kind, data in parts:
        if kind == "tag":
            out.append(data)
            continue
        node_end = position + len(data)
        points = [position, *(c for c in cuts if position < c < node_end), node_end]
        for a, b in pairwise(points):
            piece = escape(data[a - position:b - position], quote=False)
            covering = [item for s, e, item in spans if s <= a and b <= e]
            if not covering or not piece.strip():
                out.append(piece)
                continue
            ids = " ".join(str(item.note_id) for item in covering)
            classes = " ".join(sorted({base_class, *(item.css for item in covering if item.css)}))
            anchor = ""
            for item in covering:
                if item.note_id not in first_piece:
                    first_piece.add(item.note_id)
                    anchor += f'<span id="{anchor_prefix}{item.note_id}" class="hl-anchor"></span>'
            layers = f" note-layers-{min(len(covering), 3)}"
            out.append(f'{anchor}<mark class="{classes}{layers}" data-notes="{ids}">{piece}</mark>')
        position = node_end
    return "".join(out)


def source_span_for_quote(source: str, html: str, quote: str, occurrence: int = 1) -> tuple[int, int] | None:
    """The source span of the ``occurrence``-th appearance of ``quote`` as people read it on the page."""
    quote = " ".join(quote.split())
    if not quote:
        return None
    text = rendered_text(html)
    flat = text.replace("\n", " ")
    position = -1
    for _ in range(max(1, occurrence)):
        position = flat.find(quote, position + 1)
        if position < 0:
            break
    if position >= 0:
        start, end = _offset_map(source, text).to_source(position, position + len(quote))
        return (start, end) if end > start else None
    position = source.find(quote)  # a quote typed with its Markdown, e.g. "**must**"
    return (position, position + len(quote)) if position >= 0 else None
