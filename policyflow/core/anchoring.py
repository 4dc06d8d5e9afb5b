"""Re-anchoring: where an annotation made on one version lands on a later version (pinned).

An annotation's target is a W3C TextQuoteSelector (``exact`` with up to 32 characters of
``prefix``/``suffix``) plus a TextPositionSelector (``start``/``end``, code-point offsets into the
old text). Placing it on a new version follows the approach of the Hypothesis annotator, but maps
positions through our word-level diff instead of relying on ``match_main`` (whose bit-parallel
search is limited to 32-character patterns in the Python diff-match-patch):

0. Check the old offsets; if they are stale or missing, find the quote in the old text by its
   context and the stale position. (Empty and whitespace-only quotes are only mapped, never
   searched for: they would match anywhere.)
1. Map the old span through the diff ops (a binary search over the equal runs; text inserted
   exactly at either end stays outside). If both ends fall in equal runs and the new text there
   is the quote, the placement is ``exact``.
2. Otherwise look for the quote elsewhere. An occurrence that the diff pairs with *another*
   passage of the old text (it lies in an equal run whose source is outside our span) belongs to
   that passage and is skipped: this is what tells repeated phrases ("the District shall") apart.
   The rest are ranked by context (prefix/suffix) and distance to the mapped position. One with
   matching context or near the mapped position is ``moved`` (``exact`` if it is the mapped
   span); one that has only its rarity for it is ``moved`` unless the passage was edited in place.
3. Otherwise the passage may survive with changed wording. The mapped span is its new wording:
   an end in a rewritten run that lies inside the span is certain; an end in a run reaching
   beyond the span is placed by a word alignment of the run, nudged to the best-matching words,
   pinned to where the old context resumes, and snapped to a sentence edge if the quote had one.
   A passage that moved *and* was edited is found by seeds of the quote and its context that vote
   for where it starts. The result is ``edited`` if :func:`similarity` reaches
   :data:`ORPHAN_BELOW` (:data:`RELOCATED_BELOW` when the span had to be searched for).
4. Else ``orphaned`` (no span, score 0).

:func:`reanchor_many` computes the diff and the position map once for many selectors: placing
1,000 annotations on a new version of a 100 KB policy takes a few tens of milliseconds, and
under a second even when the whole text was rewritten. The evaluation set and accuracy report
are in ``tests/core/anchoring_cases.py``; timings in ``bench/anchoring_bench.py``.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from difflib import SequenceMatcher

from policyflow.core.diffing import diff
from policyflow.core.worddiff import DELETE, EQUAL, Op, lcs_ops, tokenize

__all__ = ["CONTEXT_CHARS", "ORPHAN_BELOW", "RELOCATED_BELOW", "reanchor", "reanchor_many", "similarity"]

CONTEXT_CHARS = 32  # prefix/suffix length the selectors carry
ORPHAN_BELOW = 0.5  # an edited passage less similar than this to the quote is orphaned
RELOCATED_BELOW = 0.65  # ... and one found elsewhere (moved and edited) less similar than this

# Words (with combining marks), single CJK characters and other single symbols, except
# whitespace and Markdown emphasis/heading/code markers: formatting alone is not a rewording.
_SIM_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"
    r"|[\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u200d]+"
    r"|[^\w\s*_#`~>]"
)
_WORDY = re.compile(r"\w")
_STOPS = ".,;:!?"
_CLAUSE_BREAK = re.compile(r"[.!?;:,][\"')\]]*\s|\n")
_SEED_TOKENS = 3  # words per search seed
_MAX_SEEDS = 12  # seeds taken from one quote
_SEED_CAP = 24  # a seed found more often than this says nothing about where the quote went
_CANDIDATE_CAP = 64  # occurrences of a quote ranked one by one; more are narrowed first
_CLIMB_TOKENS = 6  # how far (in words) the ends of an edited span may be nudged
_CLIMB_MAX_TOKENS = 400  # longer quotes keep their mapped ends
_GAP_REFINE_CELLS = 2_000_000  # largest rewritten run (tokens x tokens) aligned word by word
_STRONG_CONTEXT = 10  # context characters that identify an occurrence
_DISTINCTIVE_CHARS = 12  # a quote this long, once in the old text, may move without context
_KEEP_MAPPED = 0.75  # an in-place edit this similar is not searched for elsewhere


# --------------------------------------------------------------------------------------------
# Position map
# --------------------------------------------------------------------------------------------
class _PositionMap:
    """Old offsets to new offsets through diff ops, by binary search over the equal runs.

    ``start`` and ``end`` map the two ends of a span with opposite biases: text inserted exactly
    at an end stays outside the span, while an end inside (or at the edge of) deleted text goes
    to the edge of the rewritten run that includes its replacement. Each returns the new offset
    and the index of the changed run it fell into (``None`` inside an equal run).
    """

    __slots__ = ("new_ends", "new_len", "new_starts", "old_ends", "old_len", "old_starts")

    def __init__(self, ops: Iterable[Op], old_len: int, new_len: int) -> None:
        self.old_starts: list[int] = []
        self.old_ends: list[int] = []
        self.new_starts: list[int] = []
        self.new_ends: list[int] = []
        i = j = 0
        for op, text in ops:
            size = len(text)
            if not size:
                continue
            if op == EQUAL:
                if self.old_ends and self.old_ends[-1] == i and self.new_ends[-1] == j:
                    self.old_ends[-1] += size
                    self.new_ends[-1] += size
                else:
                    self.old_starts.append(i)
                    self.old_ends.append(i + size)
                    self.new_starts.append(j)
                    self.new_ends.append(j + size)
                i += size
                j += size
            elif op == DELETE:
                i += size
            else:
                j += size
        self.old_len, self.new_len = old_len, new_len

    def gap(self, index: int) -> tuple[int, int, int, int]:
        """Old and new ranges of changed run ``index`` (the one before equal run ``index``)."""
        old_a = self.old_ends[index - 1] if index else 0
        new_a = self.new_ends[index - 1] if index else 0
        if index < len(self.old_starts):
            return old_a, self.old_starts[index], new_a, self.new_starts[index]
        return old_a, self.old_len, new_a, self.new_len

    def start(self, pos: int) -> tuple[int, int | None]:
        if not self.old_len and not self.new_len:
            return 0, None  # two empty texts: nothing changed
        k = bisect_right(self.old_starts, pos) - 1
        if k >= 0 and pos < self.old_ends[k]:
            return self.new_starts[k] + pos - self.old_starts[k], None
        if k >= 0 and pos == self.old_ends[k] == self.old_len:
            return self.new_ends[k], None
        return (self.new_ends[k] if k >= 0 else 0), k + 1

    def end(self, pos: int) -> tuple[int, int | None]:
        if not self.old_len and not self.new_len:
            return 0, None
        k = bisect_left(self.old_ends, pos)
        if k < len(self.old_ends) and self.old_starts[k] < pos:
            return self.new_starts[k] + pos - self.old_starts[k], None
        if k < len(self.old_ends) and pos == self.old_starts[k] == 0:
            return 0, None
        return (self.new_starts[k] if k < len(self.new_starts) else self.new_len), k

    def foreign(self, a: int, b: int, own_a: int, own_b: int) -> int:
        """How many characters of new ``[a, b)`` the diff pairs with old text outside ``[own_a, own_b)``."""
        k = max(0, bisect_right(self.new_starts, a) - 1)
        total = 0
        while k < len(self.new_starts) and self.new_starts[k] < b:
            lo, hi = max(a, self.new_starts[k]), min(b, self.new_ends[k])
            if lo < hi:
                shift = self.old_starts[k] - self.new_starts[k]
                inside = max(0, min(hi + shift, own_b) - max(lo + shift, own_a))
                total += (hi - lo) - inside
            k += 1
        return total


# --------------------------------------------------------------------------------------------
# Similarity
# --------------------------------------------------------------------------------------------
def _sim_tokens(text: str) -> list[str]:
    return _SIM_TOKEN.findall(text)


def similarity(one: str, two: str) -> float:
    """How much of passage ``one`` survives in ``two``, 0..1, weighing words by their length.

    Words match exactly or nearly (a typo fix or an inflection counts by its character ratio);
    whitespace and Markdown markers are ignored. The score is the F2 measure of recall (the share
    of ``one`` found in ``two``) and precision (the share of ``two`` that comes from ``one``):
    recall counts four times as much, so a clause that grew a list of added words survives, while
    one whose words were mostly replaced, or of which one word is left, does not.
    """
    tokens_a, tokens_b = _sim_tokens(one), _sim_tokens(two)
    size_a, size_b = sum(map(len, tokens_a)), sum(map(len, tokens_b))
    if not size_a or not size_b:
        return 1.0 if one.strip() == two.strip() else 0.0
    if len(tokens_a) * len(tokens_b) > 4_000_000:
        lcs = _lcs_length(_token_masks(tokens_a), len(tokens_a), tokens_b)
        return _f2(lcs / len(tokens_a), lcs / len(tokens_b))
    matched_a = matched_b = 0.0
    matcher = SequenceMatcher(None, tokens_a, tokens_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            matched_a += sum(map(len, tokens_a[i1:i2]))
            matched_b += sum(map(len, tokens_b[j1:j2]))
        elif tag == "replace":
            left, right = " ".join(tokens_a[i1:i2]), " ".join(tokens_b[j1:j2])
            if len(left) + len(right) <= 200:
                ratio = SequenceMatcher(None, left, right, autojunk=False).ratio()
                if ratio >= 0.75:  # a typo or an inflection, not a different word
                    matched_a += ratio * sum(map(len, tokens_a[i1:i2]))
                    matched_b += ratio * sum(map(len, tokens_b[j1:j2]))
    return min(1.0, _f2(matched_a / size_a, matched_b / size_b))


def _f2(recall: float, precision: float) -> float:
    return 5 * precision * recall / (4 * precision + recall) if recall and precision else 0.0


def _token_masks(tokens: list[str]) -> dict[str, int]:
    masks: dict[str, int] = {}
    for index, token in enumerate(tokens):
        masks[token] = masks.get(token, 0) | (1 << index)
    return masks


def _lcs_length(masks: dict[str, int], size: int, tokens: Iterable[str]) -> int:
    """Length of a longest common subsequence, bit-parallel (see ``worddiff.lcs_ops``)."""
    full = (1 << size) - 1
    row = full
    for token in tokens:
        match = row & masks.get(token, 0)
        row = ((row + match) | (row - match)) & full
    return size - row.bit_count()


def _common_prefix(one: str, two: str) -> int:
    if one == two:
        return len(one)
    size = min(len(one), len(two))
    index = 0
    while index < size and one[index] == two[index]:
        index += 1
    return index


def _common_suffix(one: str, two: str) -> int:
    if one == two:
        return len(one)
    size = min(len(one), len(two))
    index = 0
    while index < size and one[-1 - index] == two[-1 - index]:
        index += 1
    return index


_UNIT_START = re.compile(r"(?:\n|[.!?;:][\"'\u201d\u2019)\]]*[ \t]+|\n(?:[-*+]|\d+[.)])[ \t]+|\n#+[ \t]+)$")
_SNAP_CHARS = 48  # how far an uncertain end may move to the start or end of a sentence


def _starts_unit(text: str, pos: int) -> bool:
    return pos == 0 or _UNIT_START.search(text, max(0, pos - 12), pos) is not None


def _ends_unit(text: str, pos: int) -> bool:
    return pos == len(text) or text[pos - 1 : pos] in (".", "!", "?", ";", ":") or text[pos] == "\n"


def _snap_start(text: str, pos: int) -> int:
    """The nearest sentence, item or line start at most :data:`_SNAP_CHARS` before ``pos``."""
    if _starts_unit(text, pos):
        return pos
    for back in range(1, min(_SNAP_CHARS, pos) + 1):
        where = pos - back
        if text[where - 1 : where].isspace() and _starts_unit(text, where):
            return where
    return pos


def _snap_end(text: str, pos: int) -> int:
    """The nearest sentence end or line end at most :data:`_SNAP_CHARS` after ``pos``."""
    if _ends_unit(text, pos):
        return pos
    for ahead in range(1, min(_SNAP_CHARS, len(text) - pos) + 1):
        where = pos + ahead
        if text[where - 1] in ".!?;:" and (where == len(text) or text[where].isspace()):
            return where
        if where == len(text) or text[where] == "\n":
            return where
    return pos


# --------------------------------------------------------------------------------------------
# Placement of many selectors on one pair of versions
# --------------------------------------------------------------------------------------------
def _orphan() -> dict:
    return {"status": "orphaned", "start": None, "end": None, "score": 0.0}


def _placed(status: str, start: int, end: int, score: float) -> dict:
    return {"status": status, "start": start, "end": end, "score": round(score, 4)}


def _offset(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


class _Anchorer:
    """The diff, the position map and search caches for one (old, new) pair."""

    def __init__(self, old_text: str, new_text: str, ops: list[Op] | None = None) -> None:
        self.old, self.new = old_text, new_text
        self.ops = diff(old_text, new_text) if ops is None else ops
        self.map = _PositionMap(self.ops, len(old_text), len(new_text))
        self._found: dict[tuple[bool, str, int], list[int] | None] = {}
        self._gap_maps: dict[int, _PositionMap | None] = {}

    # -- searching ---------------------------------------------------------------------------
    def find_all(self, in_new: bool, needle: str, cap: int = 0) -> list[int] | None:
        """Offsets of every occurrence (overlapping too); ``None`` if there are more than ``cap``."""
        key = (in_new, needle, cap)
        if key in self._found:
            return self._found[key]
        text = self.new if in_new else self.old
        found: list[int] | None = []
        index = text.find(needle)
        while index != -1:
            found.append(index)
            if cap and len(found) > cap:
                found = None
                break
            index = text.find(needle, index + 1)
        self._found[key] = found
        return found

    @staticmethod
    def context(text: str, a: int, b: int, prefix: str, suffix: str) -> int:
        """Characters of ``prefix`` before ``a`` and of ``suffix`` after ``b`` that match."""
        matched = 0
        if prefix:
            matched += _common_suffix(prefix, text[max(0, a - len(prefix)) : a])
        if suffix:
            matched += _common_prefix(suffix, text[b : b + len(suffix)])
        return matched

    # -- one selector ------------------------------------------------------------------------
    def place(self, selector: Mapping) -> dict:
        exact = selector.get("exact")
        prefix = selector.get("prefix") or ""
        suffix = selector.get("suffix") or ""
        start, end = _offset(selector.get("start")), _offset(selector.get("end"))
        prefix, suffix = prefix[-CONTEXT_CHARS * 2 :], suffix[: CONTEXT_CHARS * 2]
        valid = start is not None and end is not None and 0 <= start <= end <= len(self.old)
        if not isinstance(exact, str):
            if not valid:
                return _orphan()
            exact = self.old[start:end]
        if valid and self.old[start:end] == exact:
            own: tuple[int, int] | None = (start, end)
        elif exact.strip():
            own = self.locate_old(exact, prefix, suffix, start if start is not None else end)
        else:
            own = None
        if not exact.strip():
            return self.place_blank(exact, own)
        if own is None:
            # The quote is not in the old text: nothing to map, so search the new text only.
            hint = min(start, len(self.new)) if start is not None and start >= 0 else None
            return self.search(exact, prefix, suffix, None, hint, None)
        s, e = own
        a, gap_a = self.map.start(s)
        b, gap_b = self.map.end(e)
        if gap_a is None and gap_b is None and self.new[a:b] == exact:
            return _placed("exact", a, b, 1.0)
        mapped = (a, b, gap_a, gap_b)
        return self.search(exact, prefix, suffix, own, a, mapped)

    def place_blank(self, exact: str, own: tuple[int, int] | None) -> dict:
        """Empty or whitespace-only quotes carry nothing to search for: map the position only."""
        if own is None:
            return _orphan()
        a, gap_a = self.map.start(own[0])
        b, gap_b = self.map.end(own[1])
        if exact == "":
            b, gap_b = a, gap_a
        if gap_a is None and gap_b is None and self.new[a:b] == exact:
            return _placed("exact", a, b, 1.0)
        return _orphan()

    def locate_old(self, exact: str, prefix: str, suffix: str, hint: int | None) -> tuple[int, int] | None:
        """Stale or missing offsets: the occurrence in the old text with the best context."""
        found = self.find_all(False, exact)
        if not found:
            return None
        size = len(exact)
        if hint is None:
            hint = 0

        def rank(offset: int) -> tuple[int, int]:
            return self.context(self.old, offset, offset + size, prefix, suffix), -abs(offset - hint)

        best = max(self.narrow(found, False, exact, prefix, suffix, hint), key=rank)
        return best, best + size

    def narrow(self, found: list[int], in_new: bool, exact: str, prefix: str, suffix: str, hint: int) -> list[int]:
        """At most a few dozen occurrences: those nearest ``hint`` and those with context."""
        if len(found) <= _CANDIDATE_CAP:
            return found
        middle = bisect_left(found, hint)
        chosen = set(found[max(0, middle - _CANDIDATE_CAP // 4) : middle + _CANDIDATE_CAP // 4])
        if prefix:
            tail = prefix[-_STRONG_CONTEXT:]
            chosen.update(o + len(tail) for o in self.find_all(in_new, tail + exact, _CANDIDATE_CAP) or ())
        if suffix:
            chosen.update(self.find_all(in_new, exact + suffix[:_STRONG_CONTEXT], _CANDIDATE_CAP) or ())
        return sorted(chosen)

    def search(self, exact: str, prefix: str, suffix: str, own: tuple[int, int] | None,
               hint: int | None, mapped: tuple[int, int, int | None, int | None] | None) -> dict:
        moved, strong = self.search_exact(exact, prefix, suffix, own, hint)
        if moved is not None and strong:
            if mapped is not None and (moved, moved + len(exact)) == mapped[:2]:
                return _placed("exact", moved, moved + len(exact), 1.0)
            return _placed("moved", moved, moved + len(exact), 1.0)
        best: tuple[float, int, int] | None = None
        uncertain = (True, True)
        if mapped is not None and own is not None:
            best, uncertain = self.edited_in_place(exact, own, (prefix, suffix), mapped)
            if best is not None and all(uncertain) and best[0] < RELOCATED_BELOW:
                best = None  # both ends were searched for, not mapped: as for a passage found elsewhere
        if moved is not None and (best is None or best[0] < _KEEP_MAPPED):
            # Only the quote's distinctiveness says it moved: believe it unless it was edited in place.
            return _placed("moved", moved, moved + len(exact), 1.0)
        if best is None or best[0] < _KEEP_MAPPED or any(uncertain):
            found = self.relocate(exact, prefix, suffix, own, hint)
            if found is not None and best is not None and found[1] < best[2] and best[1] < found[2]:
                # Found where the mapped wording is: it may only move the ends the diff left uncertain.
                a = found[1] if uncertain[0] else best[1]
                b = found[2] if uncertain[1] else best[2]
                if a < b and (a, b) != best[1:]:
                    refined = (similarity(exact, self.new[a:b]), a, b)
                    if refined[0] > best[0]:
                        best = refined
            elif found is not None and (best is None or (best[0] < _KEEP_MAPPED and found[0] > best[0] + 0.02)):
                best = found  # elsewhere: moved and edited
        if best is None or best[0] < ORPHAN_BELOW:
            return _orphan()
        score, a, b = best
        if self.new[a:b] == exact:
            status = "exact" if mapped is not None and (a, b) == mapped[:2] else "moved"
            return _placed(status, a, b, 1.0)
        return _placed("edited", a, b, min(score, 0.99))

    def search_exact(self, exact: str, prefix: str, suffix: str, own: tuple[int, int] | None,
                     hint: int | None) -> tuple[int | None, bool]:
        """Where the unchanged quote went, and whether context or nearness (not only its rarity) says so."""
        found = self.find_all(True, exact)
        if not found:
            return None, False
        size = len(exact)
        where = 0 if hint is None else hint
        ranked: list[tuple[int, int, int]] = []
        for offset in self.narrow(found, True, exact, prefix, suffix, where):
            if own is not None and 2 * self.map.foreign(offset, offset + size, *own) > size:
                continue  # the diff pairs it with another passage of the old text
            matched = self.context(self.new, offset, offset + size, prefix, suffix)
            ranked.append((matched // 4, -abs(offset - where), offset))
        if not ranked:
            return None, False
        ranked.sort(reverse=True)
        _, distance, offset = ranked[0]
        matched = self.context(self.new, offset, offset + size, prefix, suffix)
        available = len(prefix) + len(suffix)
        if available and matched >= min(_STRONG_CONTEXT, available):
            return offset, True
        if hint is not None and -distance <= max(64, 2 * size):
            return offset, True
        distinctive = len(exact.strip()) >= _DISTINCTIVE_CHARS and len(self.find_all(False, exact) or ()) <= 1
        if distinctive and len(ranked) == 1:
            return offset, False
        return None, False

    # -- edited passages ---------------------------------------------------------------------
    def gap_position(self, gap: int, pos: int, side: str) -> int:
        """A position inside a rewritten run, aligned word by word within that run."""
        old_a, old_b, new_a, new_b = self.map.gap(gap)
        if old_a == old_b or new_a == new_b:
            return new_a if side == "start" else new_b
        if gap not in self._gap_maps:
            tokens_a = tokenize(self.old[old_a:old_b])
            tokens_b = tokenize(self.new[new_a:new_b])
            if len(tokens_a) * len(tokens_b) <= _GAP_REFINE_CELLS:
                self._gap_maps[gap] = _PositionMap(lcs_ops(tokens_a, tokens_b), old_b - old_a, new_b - new_a)
            else:
                self._gap_maps[gap] = None
        inner = self._gap_maps[gap]
        if inner is None:
            return new_a + round((pos - old_a) * (new_b - new_a) / (old_b - old_a))
        mapped = inner.start(pos - old_a) if side == "start" else inner.end(pos - old_a)
        return new_a + mapped[0]

    def edited_in_place(self, exact: str, own: tuple[int, int], context: tuple[str, str],
                        mapped: tuple[int, int, int | None, int | None]) -> tuple[tuple[float, int, int] | None, tuple[bool, bool]]:
        """The mapped span as the new wording, its ends refined where they fell into rewritten runs.

        A rewritten run that starts at the span's start (or ends at its end) and lies inside the span
        is all new wording of the passage: that end is certain. An end inside a rewritten run that
        reaches beyond the span is placed by a word alignment of the run, then nudged to the
        best-matching words and, if the quote began (ended) a sentence or line, to where one does.
        Returns the scored candidate and which of its ends were uncertain.
        """
        s, e = own
        a, b, gap_a, gap_b = mapped
        climb_start = climb_end = False
        if gap_a is not None:
            old_a, old_b, new_a, new_b = self.map.gap(gap_a)
            if old_b <= e and (old_a == s or self.lone_punctuation(old_a, s, new_a, new_b)):
                a = new_a  # the run is the passage's (nothing but punctuation of it lies before the quote)
                if _WORDY.match(exact):
                    while a < b and (self.new[a].isspace() or self.new[a] in _STOPS):
                        a += 1
            else:
                a, climb_start = self.gap_position(gap_a, s, "start"), True
        if gap_b is not None:
            old_a, old_b, new_a, new_b = self.map.gap(gap_b)
            if old_a >= s and (old_b == e or self.lone_punctuation(e, old_b, new_a, new_b)):
                b = new_b
                if exact and _WORDY.match(exact[-1]):
                    while b > a and (self.new[b - 1].isspace() or self.new[b - 1] in _STOPS):
                        b -= 1
            else:
                b, climb_end = self.gap_position(gap_b, e, "end"), True
        fitted = self.fit(exact, a, b, climb_start, climb_end, self.unit_edges(s, e), context)
        # Ends mapped through short equal runs of common words can land far apart (a moved
        # paragraph whose last word the diff paired with the same word elsewhere).
        stretched = b - a > 2 * len(exact) + 40 or ("\n\n" in self.new[a:b] and "\n\n" not in exact)
        return fitted, (climb_start or stretched, climb_end or stretched)

    def lone_punctuation(self, old_a: int, old_b: int, new_a: int, new_b: int) -> bool:
        """The part of a rewritten run outside the quote is punctuation only ("care." became "district"),
        and the new wording is one clause, so it holds nothing but the passage's words."""
        return not _WORDY.search(self.old, old_a, old_b) and not _CLAUSE_BREAK.search(self.new[new_a:new_b].rstrip())

    def unit_edges(self, s: int, e: int) -> tuple[bool, bool]:
        """Whether the old quote starts and ends a sentence, list item, heading or line."""
        return _starts_unit(self.old, s), _ends_unit(self.old, e)

    def fit(self, exact: str, a: int, b: int, climb_start: bool, climb_end: bool,
            units: tuple[bool, bool] = (False, False), context: tuple[str, str] = ("", "")) -> tuple[float, int, int] | None:
        """Trim the candidate, nudge the uncertain ends to the best-matching words, and score it."""
        new = self.new
        if not exact[:1].isspace():
            while a < b and new[a].isspace():
                a += 1
        if not exact[-1:].isspace():
            while b > a and new[b - 1].isspace():
                b -= 1
        if a >= b:
            return None
        if climb_start or climb_end:
            if self.hopeless(exact, a, b):
                return None
            a, b = self.climb(exact, a, b, climb_start, climb_end)
            if climb_start:
                a = self.pin_start(exact, a, b, context[0])
                if units[0]:
                    a = _snap_start(new, a)
            if climb_end:
                b = self.pin_end(exact, a, b, context[1])
                if units[1]:
                    b = _snap_end(new, b)
            if a >= b:
                return None
        return similarity(exact, new[a:b]), a, b

    def hopeless(self, exact: str, a: int, b: int) -> bool:
        """Whether even the best span around ``[a, b)`` keeps too few of the quote's words to count.

        With precision at most 1, the F2 score reaches :data:`ORPHAN_BELOW` only if about half of the
        quote's characters are found; here only whole words are counted (no typo-level matches), so
        the cut-off is set well below that, and short quotes (a typo fix in one word) are never cut.
        """
        quote = Counter(_sim_tokens(exact))
        if sum(quote.values()) < 5:
            return False
        around = Counter(_sim_tokens(self.new[max(0, a - 256) : b + 256]))
        shared = sum(len(token) * min(count, around[token]) for token, count in quote.items())
        return shared < 0.25 * sum(len(token) * count for token, count in quote.items())

    def pin_end(self, exact: str, a: int, b: int, suffix: str) -> int:
        """If the quote's last word is gone and the old text after the quote resumes one or two words
        after ``b``, those words replaced it: the span runs to where the old context resumes."""
        line = suffix.split("\n", 1)[0]
        head = _SIM_TOKEN.search(line)
        quote, got = _sim_tokens(exact), _sim_tokens(self.new[a:b])
        if head is None or not quote or not got or got[-1] == quote[-1]:
            return b
        resume = line[: head.end()]
        after = self.new[b : b + 80]
        for count, token in enumerate(_SIM_TOKEN.finditer(after), start=1):
            if count > 2 or "\n" in after[: token.start()]:
                break
            if after.startswith(resume, token.end()):
                return b + token.end()
        return b

    def pin_start(self, exact: str, a: int, b: int, prefix: str) -> int:
        """The same as :meth:`pin_end` for the quote's first word and the old text before it."""
        line = prefix.rsplit("\n", 1)[-1]
        tails = list(_SIM_TOKEN.finditer(line))
        quote, got = _sim_tokens(exact), _sim_tokens(self.new[a:b])
        if not tails or not quote or not got or got[0] == quote[0]:
            return a
        resume = line[tails[-1].start() :]
        low = max(0, a - 80)
        before = self.new[low:a]
        for count, token in enumerate(reversed(list(_SIM_TOKEN.finditer(before))), start=1):
            if count > 2 or "\n" in before[token.end() :]:
                break
            if before.endswith(resume, 0, token.start()):
                return low + token.start()
        return a

    def climb(self, exact: str, a: int, b: int, climb_start: bool, climb_end: bool) -> tuple[int, int]:
        quote = _sim_tokens(exact)
        size = len(quote)
        if not size or size > _CLIMB_MAX_TOKENS:
            return a, b
        masks = _token_masks(quote)
        margin = 16 * _CLIMB_TOKENS
        low, high = max(0, a - margin), min(len(self.new), b + margin)
        while low > 0 and not self.new[low - 1].isspace():  # never cut a word at the window's edges
            low -= 1
        while high < len(self.new) and not self.new[high].isspace():
            high += 1
        spans = [(m.start(), m.end(), m.group()) for m in _SIM_TOKEN.finditer(self.new, low, high)]
        if not spans:
            return a, b
        words = [token for _, _, token in spans]
        first = bisect_left([s for s, _, _ in spans], a)
        stop = bisect_right([e for _, e, _ in spans], b)
        if stop <= first:
            return a, b

        # Ending on the quote's own first (last) word is worth about one word of the ratio: the new
        # wording of an edited passage runs to the word that still ends it, across words put in
        # just before that word.
        bonus = min(0.1, 1 / size)
        head = quote[0] if len(quote[0]) >= 3 else None
        tail = quote[-1] if len(quote[-1]) >= 3 else None

        def fitness(i: int, j: int) -> float:
            if j <= i:
                return 0.0
            value = 2 * _lcs_length(masks, size, words[i:j]) / (size + j - i)
            return value + bonus * ((words[i] == head) + (words[j - 1] == tail))

        i, j = first, stop
        for _ in range(2):
            if climb_start:
                options = range(max(0, i - _CLIMB_TOKENS), min(j, i + _CLIMB_TOKENS + 1))
                i = max(options, key=lambda k: (fitness(k, j), -abs(k - first)))
            if climb_end:
                options = range(max(i + 1, j - _CLIMB_TOKENS), min(len(spans), j + _CLIMB_TOKENS) + 1)
                j = max(options, key=lambda k: (fitness(i, k), -abs(k - stop)))
        # A climbed end sits on a word's edge (an estimate may have fallen inside a word); an end
        # left where it was keeps what precedes the first word, such as "**".
        new_a = a if i == first and not _WORDY.match(self.new, a - 1 if a else 0) else spans[i][0]
        new_b = b if j == stop and not (b < len(self.new) and _WORDY.match(self.new, b)) else spans[j - 1][1]
        return new_a, new_b

    def relocate(self, exact: str, prefix: str, suffix: str, own: tuple[int, int] | None,
                 hint: int | None) -> tuple[float, int, int] | None:
        """Moved *and* edited: vote with seeds of the quote and its context, fit the best cluster."""
        size = len(exact)
        window = (own[0] - CONTEXT_CHARS, own[1] + CONTEXT_CHARS) if own is not None else None

        def free(offset: int, length: int) -> bool:
            return window is None or 2 * self.map.foreign(offset, offset + length, *window) <= length

        # A vote: (estimated start of the quote, weight, kind, occurrence, seed start, seed end).
        votes: list[tuple[int, int, str, int, int, int]] = []
        tried = 0
        quote = [(m.start(), m.end()) for m in _SIM_TOKEN.finditer(exact)]
        if quote:
            width = min(_SEED_TOKENS, len(quote))
            count = len(quote) - width + 1
            step = max(1, -(-count // _MAX_SEEDS))
            indexes = sorted({*range(0, count, step), count - 1})
            for index in indexes:
                seed_a, seed_b = quote[index][0], quote[index + width - 1][1]
                seed = exact[seed_a:seed_b]
                if len(seed) < 4 and len(quote) > 1:
                    continue
                tried += len(seed)
                for offset in self.find_all(True, seed, _SEED_CAP) or ():
                    if free(offset, len(seed)):
                        votes.append((offset - seed_a, len(seed), "q", offset, seed_a, seed_b))
        # Context seeds stay on the quote's own line: the line before may have moved away.
        context = [(m.start(), m.end()) for m in _SIM_TOKEN.finditer(prefix, prefix.rfind("\n") + 1)][-_SEED_TOKENS:]
        if context and context[-1][1] - context[0][0] >= 5:
            seed_a, seed_b = context[0][0], context[-1][1]
            seed, after = prefix[seed_a:seed_b], len(prefix) - seed_b
            tried += len(seed)
            gap = prefix[seed_b:]
            for offset in self.find_all(True, seed, _SEED_CAP) or ():
                ahead = offset + len(seed)
                if free(offset, len(seed)) and self.new.startswith(gap, ahead):  # same separator, e.g. "\n\n"
                    votes.append((ahead + after, len(seed), "p", offset, 0, 0))
        line_end = suffix.find("\n")
        context = [(m.start(), m.end()) for m in _SIM_TOKEN.finditer(suffix, 0, len(suffix) if line_end < 0 else line_end)]
        context = context[:_SEED_TOKENS]
        if context and context[-1][1] - context[0][0] >= 5:
            seed_a, seed_b = context[0][0], context[-1][1]
            seed = suffix[seed_a:seed_b]
            tried += len(seed)
            gap = suffix[:seed_a]
            for offset in self.find_all(True, seed, _SEED_CAP) or ():
                if free(offset, len(seed)) and self.new.endswith(gap, 0, offset):
                    votes.append((offset - seed_a - size, len(seed), "s", offset - seed_a, 0, 0))
        if not votes:
            return None
        votes.sort()
        width = max(48, size // 2 + 16)
        where = 0 if hint is None else hint
        best: tuple[float, int] | None = None
        best_range = (0, 0)
        high = 0
        for low in range(len(votes)):
            high = max(high, low)
            while high + 1 < len(votes) and votes[high + 1][0] <= votes[low][0] + width:
                high += 1
            if not any(vote[2] == "q" for vote in votes[low : high + 1]):
                continue
            weight = sum(vote[1] for vote in votes[low : high + 1])
            key = (weight, -abs(votes[low][0] - where))
            if best is None or key > best:
                best, best_range = key, (low, high + 1)
        if best is None or best[0] < max(8, tried / 4):
            return None
        cluster = votes[best_range[0] : best_range[1]]
        quoted = [vote for vote in cluster if vote[2] == "q"]
        before = [vote[0] for vote in cluster if vote[2] == "p"]
        after_ends = [vote[3] for vote in cluster if vote[2] == "s"]
        if before:
            a = sorted(before)[len(before) // 2]
        else:
            a = min(quoted, key=lambda vote: vote[4])[0]
        if after_ends:
            b = sorted(after_ends)[len(after_ends) // 2]
        elif quoted:
            last = max(quoted, key=lambda vote: vote[5])
            b = last[3] + (size - last[4])
        else:
            b = a + size
        a, b = max(0, a), min(len(self.new), b)
        units = self.unit_edges(*own) if own is not None else (False, False)
        # An end given by the surviving context is where the passage ends: it is not nudged.
        fitted = self.fit(exact, a, b, not before, not after_ends, units, (prefix, suffix))
        if fitted is None:
            return None
        _, a, b = fitted
        if window is not None and 2 * self.map.foreign(a, b, *window) > b - a:
            return None
        if fitted[0] < RELOCATED_BELOW:
            return None  # a search over the whole text needs more likeness than the diff's own pairing
        return fitted


def reanchor_many(old_text: str, new_text: str, selectors: Iterable[Mapping], ops: list[Op] | None = None) -> list[dict]:
    """Place many selectors made on ``old_text`` onto ``new_text``, diffing only once.

    ``ops`` may pass the diff ops already computed for the pair (``diffing.diff(old, new)``).
    """
    anchorer = _Anchorer(old_text, new_text, ops)
    return [anchorer.place(selector) for selector in selectors]


def reanchor(old_text: str, new_text: str, selector: dict) -> dict:
    """Where the passage ``selector`` picked in ``old_text`` is in ``new_text`` (pinned).

    Returns ``{"status": "exact"|"moved"|"edited"|"orphaned", "start", "end", "score"}``; an
    orphaned placement has ``start`` and ``end`` ``None``.
    """
    return reanchor_many(old_text, new_text, [selector])[0]
