"""Pure pieces of full-text search: splitting policy text into sections, turning what a person typed
into a query that cannot be misread as query syntax, and making highlighted snippets safe HTML.

Both engines (SQLite FTS5, PostgreSQL ``tsquery``) have a query language of their own, where quotes,
``*``, ``NEAR``, ``-``, ``:`` or ``&`` mean something; a person searching policies means words. So the
input is cut into words (letters and digits) here and every word is quoted before it reaches the
engine: no input can cause a syntax error or an operator the person did not intend.

Words match whole, with English stemming on both engines ("suspensions" finds "suspension"). There is
no prefix matching: FTS5's porter tokenizer stems a prefix too ("bus*" becomes "bu*" and finds
"bullying"), and whole words behave the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from markdown.extensions.toc import slugify_unicode, unique

MAX_QUERY_CHARS = 200  # longer input is refused with a message, not truncated silently
MAX_TERMS = 24  # words of one query (each is an index lookup)
MAX_CHUNK_CHARS = 6_000  # a long section is indexed in parts of at most this many characters

# Snippet markers: private-use characters that policy text, notes and comments have no reason to contain.
MARK_START = "\ue000"
MARK_STOP = "\ue001"

_TERM = re.compile(r"[^\W_]+")  # letters and digits; underscores and punctuation separate, as in both tokenizers
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_INLINE_MARKUP = re.compile(r"\[([^\]]*)\]\([^)]*\)|[*_`]")


def query_terms(query: str) -> list[str]:
    """The words of a query (the engines fold case themselves), at most ``MAX_TERMS`` of them; operators and quotes are dropped."""
    return _TERM.findall(query)[:MAX_TERMS]


def fts5_match(terms: list[str], *, columns: tuple[str, ...] | None = None) -> str:
    """An FTS5 MATCH expression: every word quoted (so it is only ever a word), all of them required.

    ``columns`` limits the match to those columns (the identity column is matched for ombuds staff only).
    """
    if not terms:
        raise ValueError("no terms")
    quoted = [f'"{term}"' for term in terms]  # a term holds letters and digits only: nothing to escape
    expression = " AND ".join(quoted)
    if columns:
        return "{" + " ".join(columns) + "} : (" + expression + ")"
    return expression


def tsquery_text(terms: list[str]) -> str:
    """Input for PostgreSQL's ``to_tsquery``: each word a quoted lexeme, all of them required."""
    if not terms:
        raise ValueError("no terms")
    quoted = [f"'{term}'" for term in terms]  # no quote or backslash can occur in a term
    return " & ".join(quoted)


def snippet_html(raw: str | None) -> str:
    """Escape a snippet and turn its markers into ``<mark>``; stray or unbalanced markers are dropped."""
    if not raw:
        return ""
    out: list[str] = []
    open_ = False
    for part in re.split(f"([{MARK_START}{MARK_STOP}])", raw):
        if part == MARK_START:
            if not open_:
                out.append("<mark>")
                open_ = True
        elif part == MARK_STOP:
            if open_:
                out.append("</mark>")
                open_ = False
        else:
            out.append(escape(part, quote=True))
    if open_:
        out.append("</mark>")
    return "".join(out)


def has_mark(raw: str | None) -> bool:
    return bool(raw) and MARK_START in raw  # type: ignore[operator]


@dataclass(frozen=True)
class Chunk:
    """One indexed part of a policy text: the heading it sits under, that heading's anchor, its words."""

    position: int
    heading: str
    anchor: str
    text: str


def _plain_heading(source: str) -> str:
    return " ".join(_INLINE_MARKUP.sub(lambda m: m.group(1) or "", source).split())


def chunk_markdown(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """The text cut at its headings (each part names the heading and its anchor on the rendered page).

    Anchors follow ``core.rendering``: the Markdown ``toc`` slug with a ``sec-`` prefix, numbered
    ``_1``, ``_2`` when a heading repeats. Sections longer than ``max_chars`` are cut at paragraph
    breaks (or, for one enormous paragraph, at spaces), so no part strains the full-text index.
    """
    sections: list[tuple[str, str, list[str]]] = [("", "", [])]
    used: set[str] = set()
    fenced = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _ATX_HEADING.match(line)
        if match:
            heading = _plain_heading(match.group(2))
            anchor = unique("sec-" + slugify_unicode(heading, "-"), used)
            sections.append((heading, anchor, []))
        else:
            sections[-1][2].append(line)
    chunks: list[Chunk] = []
    for heading, anchor, lines in sections:
        body = "\n".join(lines).strip()
        if not body and not heading:
            continue
        for part in _split(body, max_chars) or [""]:
            chunks.append(Chunk(len(chunks), heading, anchor, part))
    return chunks


def _split(body: str, max_chars: int) -> list[str]:
    if len(body) <= max_chars:
        return [body] if body else []
    parts: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", body):
        while len(paragraph) > max_chars:
            cut = paragraph.rfind(" ", 0, max_chars)
            cut = cut if cut > 0 else max_chars
            if current:
                parts.append(current)
                current = ""
            parts.append(paragraph[:cut].strip())
            paragraph = paragraph[cut:].strip()
        if current and len(current) + 2 + len(paragraph) > max_chars:
            parts.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        parts.append(current)
    return [part for part in parts if part]
