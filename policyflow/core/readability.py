"""Plain-language check: the Flesch-Kincaid grade level of a policy's Markdown, section by section.

Families must be able to read their district's policies, so the equity assessment shows the reading
grade of the draft next to the published version's. It works offline: syllables come from pyphen's
bundled hyphenation dictionary (the newest ``textstat`` downloads NLTK data at run time and fails
without internet; this is the method ``textstat`` 0.7 used).

Counting rules, chosen to be predictable rather than clever:
- The text is split into sections at Markdown headings (``#`` to ``######``); headings themselves are
  not counted. Text before the first heading is the section "Opening text".
- Markdown syntax is removed (emphasis, links keep their words, code and HTML tags are dropped).
- A sentence ends at ``.``, ``!`` or ``?`` followed by a space or the end of a block (not after
  common abbreviations such as "e.g." or "Dr."). Each paragraph, list item and table row is a block;
  a block whose last words have no end mark counts as one more sentence (a list item is one unit).
- A word is a run of letters or digits, with inner hyphens or apostrophes ("McKinney-Vento" is one
  word). A number counts as one word of one syllable; other words have pyphen's hyphenation points
  plus one syllable per hyphen-separated part.
- Grade = 0.39 x (words / sentences) + 11.8 x (syllables / words) - 15.59, rounded to one decimal,
  never below 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyphen

TARGET_GRADE = 8.0  # plain-language guidance for family-facing documents: grade 8 or below
OPENING = "Opening text"

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_HR = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
_CODE = re.compile(r"`[^`]*`")
_TAG = re.compile(r"<[^>]+>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|(?<!\w)_|_(?!\w)|~~)")
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "dr", "mr", "mrs", "ms", "st", "no", "vs", "u.s", "a.m", "p.m", "jr", "sr",
                            "inc", "dept", "approx", "ed", "cf", "al"})


@lru_cache(maxsize=1)
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")


@lru_cache(maxsize=65_536)
def syllables(word: str) -> int:
    """Syllables of one word (pyphen's hyphenation points + 1 per part; a number is one)."""
    total = 0
    for part in re.split(r"[-]", word.lower().replace("'", "").replace("’", "")):
        if not part:
            continue
        if part.isdigit():
            total += 1
            continue
        total += len(_dictionary().positions(part)) + 1
    return max(total, 1)


@dataclass(frozen=True)
class TextStats:
    words: int = 0
    sentences: int = 0
    syllables: int = 0

    def __add__(self, other: TextStats) -> TextStats:
        return TextStats(self.words + other.words, self.sentences + other.sentences, self.syllables + other.syllables)

    @property
    def grade(self) -> float | None:
        """Flesch-Kincaid grade level (None for no words)."""
        if not self.words or not self.sentences:
            return None
        value = 0.39 * (self.words / self.sentences) + 11.8 * (self.syllables / self.words) - 15.59
        return max(0.0, round(value, 1))


@dataclass(frozen=True)
class SectionReading:
    heading: str
    occurrence: int  # 1 for the first section with this heading, 2 for a second one, ...
    stats: TextStats


@dataclass(frozen=True)
class Reading:
    sections: tuple[SectionReading, ...]
    whole: TextStats


def _plain(line: str) -> str:
    line = _IMAGE.sub(r"\1", line)
    line = _LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), line)
    line = _CODE.sub(" ", line)
    line = _TAG.sub(" ", line)
    return _EMPHASIS.sub("", line)


def block_stats(block: str) -> TextStats:
    """Words, sentences and syllables of one block of plain text (a paragraph, list item or table row)."""
    words = _WORD.findall(block)
    if not words:
        return TextStats()
    sentences = 0
    tail_start = 0
    for match in _END.finditer(block):
        before = block[:match.start()].rsplit(None, 1)
        token = before[-1].lower().lstrip("(\"'“‘") if before else ""
        if match.group().startswith(".") and (token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())):
            continue  # "e.g.", "Dr.", an initial: not the end of a sentence
        if _WORD.search(block, tail_start, match.start()):
            sentences += 1
        tail_start = match.end()
    if _WORD.search(block, tail_start):
        sentences += 1  # words after the last end mark: the block ends the sentence
    return TextStats(len(words), max(sentences, 1), sum(syllables(word) for word in words))


def _blocks(lines: list[str]) -> list[str]:
    """Paragraphs, list items and table rows of a section, as plain text."""
    blocks: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(" ".join(paragraph))
            paragraph.clear()

    for raw in lines:
        line = _QUOTE.sub("", raw)
        if not line.strip() or _HR.match(line) or _TABLE_RULE.match(line):
            flush()
            continue
        if line.lstrip().startswith("|"):
            flush()
            blocks.append(_plain(" ".join(cell.strip() for cell in line.strip().strip("|").split("|"))))
            continue
        if _LIST_ITEM.match(line):
            flush()
            paragraph.append(_plain(_LIST_ITEM.sub("", line, count=1)))
            continue
        paragraph.append(_plain(line.strip()))
    flush()
    return blocks


def reading(text: str) -> Reading:
    """Grade level per section (split at headings) and of the whole text."""
    sections: list[tuple[str, list[str]]] = [(OPENING, [])]
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue  # code is not prose
        heading = _HEADING.match(line)
        if heading:
            sections.append((" ".join(_plain(heading.group(2)).split()) or OPENING, []))
            continue
        sections[-1][1].append(line)
    seen: dict[str, int] = {}
    result: list[SectionReading] = []
    whole = TextStats()
    for heading, lines in sections:
        stats = TextStats()
        for block in _blocks(lines):
            stats = stats + block_stats(block)
        key = _heading_key(heading)
        seen[key] = seen.get(key, 0) + 1
        whole = whole + stats
        if stats.words:
            result.append(SectionReading(heading, seen[key], stats))
    return Reading(tuple(result), whole)


def _heading_key(heading: str) -> str:
    return " ".join(heading.casefold().split()).rstrip(" .:")


@dataclass(frozen=True)
class ReadingRow:
    heading: str
    draft: TextStats | None  # None: the section is not in the draft (removed)
    published: TextStats | None  # None: not in the published version (new), or nothing is published

    @property
    def change(self) -> float | None:
        """Draft grade minus published grade (negative: easier to read now)."""
        if self.draft is None or self.published is None or self.draft.grade is None or self.published.grade is None:
            return None
        return round(self.draft.grade - self.published.grade, 1)


@dataclass(frozen=True)
class ReadingComparison:
    rows: tuple[ReadingRow, ...]
    draft: TextStats
    published: TextStats | None  # None: no published version to compare with

    @property
    def change(self) -> float | None:
        if self.published is None or self.draft.grade is None or self.published.grade is None:
            return None
        return round(self.draft.grade - self.published.grade, 1)


def compare_reading(draft_text: str, published_text: str | None) -> ReadingComparison:
    """The draft's sections side by side with the published version's, matched by heading (and its
    occurrence, for repeated headings); sections only in the published text come last."""
    draft = reading(draft_text)
    published = reading(published_text) if published_text is not None else None
    by_key = {(_heading_key(s.heading), s.occurrence): s for s in published.sections} if published else {}
    rows: list[ReadingRow] = []
    used: set[tuple[str, int]] = set()
    for section in draft.sections:
        key = (_heading_key(section.heading), section.occurrence)
        match = by_key.get(key)
        if match is not None:
            used.add(key)
        rows.append(ReadingRow(section.heading, section.stats, match.stats if match else None))
    for key, section in by_key.items():
        if key not in used:
            rows.append(ReadingRow(section.heading, None, section.stats))
    return ReadingComparison(tuple(rows), draft.whole, published.whole if published else None)
