"""Re-anchoring: where an annotation made on one version lands on a later version (pinned).

An annotation's target is a W3C TextQuoteSelector (``exact`` with up to 32 characters of
``prefix``/``suffix``) plus a TextPositionSelector (``start``/``end``, code-point offsets into the
old text). Placing it on a new version follows the approach of the Hypothesis annotator, but maps
positions through our word-level diff instead of relying on ``match_main`` (whose bit-parallel
search is limited to 32-character patterns in the Python diff-match-patch):

0. Check the old offsets; if they are stale or missing, find the quote in the old text by its
   context and the stale position.
1. Map the old span through the diff ops (binary search over the equal runs). If the new text
   there is the quote, the placement is ``exact``.
2. Otherwise look for the quote elsewhere. An occurrence that the diff pairs with *another*
   passage of the old text (it lies in an equal run whose source is outside our span) belongs to
   that passage and is skipped: this is what tells repeated phrases ("the District shall") apart.
   The rest are ranked by context (prefix/suffix) and distance to the mapped position, and one is
   taken only on real evidence (context, nearness, or a distinctive quote); it is ``moved``.
3. Otherwise the passage may survive with changed wording: the mapped span (refined inside
   rewritten runs by a token alignment and by nudging its ends to the best-matching words), or a
   passage found elsewhere by seeds of the quote and its context (moved *and* edited). The
   better one is ``edited`` if its similarity to the quote reaches :data:`ORPHAN_BELOW`.
4. Else ``orphaned`` (no span).

:func:`reanchor_many` computes the diff and the position map once for many selectors: placing
1,000 annotations on a new version of a 100 KB policy takes well under a second.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from difflib import SequenceMatcher

from policyflow.core.diffing import diff
from policyflow.core.worddiff import DELETE, EQUAL, Op, lcs_ops, tokenize

__all__ = ["CONTEXT_CHARS", "ORPHAN_BELOW", "reanchor", "reanchor_many", "similarity"]

CONTEXT_CHARS = 32  # prefix/suffix length the selectors carry
ORPHAN_BELOW = 0.5  # an edited passage less similar than this to the quote is orphaned

# Words (with combining marks), single CJK characters and other single symbols, except
# whitespace and Markdown emphasis/heading/code markers: formatting alone is not a rewording.
_SIM_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"
    r"|[\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u200d]+"
    r"|[^\w\s*_#`~>]"
)
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
        k = bisect_right(self.old_starts, pos) - 1
        if k >= 0 and pos < self.old_ends[k]:
            return self.new_starts[k] + pos - self.old_starts[k], None
        if k >= 0 and pos == self.old_ends[k] == self.old_len:
            return self.new_ends[k], None
        return (self.new_ends[k] if k >= 0 else 0), k + 1

    def end(self, pos: int) -> tuple[int, int | None]:
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

    def source(self, a: int, b: int) -> int | None:
        """Old offset of new ``[a, b)`` when the whole span lies in one equal run."""
        k = bisect_right(self.new_starts, a) - 1
        if k >= 0 and b <= self.new_ends[k]:
            return a - self.new_starts[k] + self.old_starts[k]
        return None


# --------------------------------------------------------------------------------------------
# Similarity
# --------------------------------------------------------------------------------------------
def _sim_tokens(text: str) -> list[str]:
    return _SIM_TOKEN.findall(text)


def similarity(one: str, two: str) -> float:
    """0..1: characters of matching words (a typo-level difference counts as nearly matching)
    over all characters of words, so whitespace and Markdown markers alone do not count."""
    tokens_a, tokens_b = _sim_tokens(one), _sim_tokens(two)
    total = sum(map(len, tokens_a)) + sum(map(len, tokens_b))
    if not total:
        return 1.0 if one.strip() == two.strip() else 0.0
    if len(tokens_a) * len(tokens_b) > 4_000_000:
        lcs = _lcs_length(_token_masks(tokens_a), len(tokens_a), tokens_b)
        return 2 * lcs / (len(tokens_a) + len(tokens_b))
    matched = 0.0
    matcher = SequenceMatcher(None, tokens_a, tokens_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            matched += 2 * sum(map(len, tokens_a[i1:i2]))
        elif tag == "replace":
            left, right = " ".join(tokens_a[i1:i2]), " ".join(tokens_b[j1:j2])
            if len(left) + len(right) <= 200:
                ratio = SequenceMatcher(None, left, right, autojunk=False).ratio()
                if ratio >= 0.75:  # a typo or an inflection, not a different word
                    matched += ratio * (sum(map(len, tokens_a[i1:i2])) + sum(map(len, tokens_b[j1:j2])))
    return min(1.0, matched / total)


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
        moved = self.search_exact(exact, prefix, suffix, own, hint)
        if moved is not None:
            if mapped is not None and moved == mapped[0]:
                return _placed("exact", moved, moved + len(exact), 1.0)
            return _placed("moved", moved, moved + len(exact), 1.0)
        best: tuple[float, int, int] | None = None
        if mapped is not None and own is not None:
            best = self.edited_in_place(exact, own, mapped)
        if best is None or best[0] < _KEEP_MAPPED:
            found = self.relocate(exact, prefix, suffix, own, hint)
            if found is not None and (best is None or found[0] > best[0] + 0.02):
                best = found
        if best is None or best[0] < ORPHAN_BELOW:
            return _orphan()
        score, a, b = best
        if self.new[a:b] == exact:
            status = "exact" if mapped is not None and (a, b) == mapped[:2] else "moved"
            return _placed(status, a, b, 1.0)
        return _placed("edited", a, b, min(score, 0.99))

    def search_exact(self, exact: str, prefix: str, suffix: str, own: tuple[int, int] | None,
                     hint: int | None) -> int | None:
        """Where the unchanged quote went, if the new text has it and the evidence says so."""
        found = self.find_all(True, exact)
        if not found:
            return None
        size = len(exact)
        where = 0 if hint is None else hint
        ranked: list[tuple[int, int, int]] = []
        for offset in self.narrow(found, True, exact, prefix, suffix, where):
            if own is not None and 2 * self.map.foreign(offset, offset + size, *own) > size:
                continue  # the diff pairs it with another passage of the old text
            matched = self.context(self.new, offset, offset + size, prefix, suffix)
            ranked.append((matched // 4, -abs(offset - where), offset))
        if not ranked:
            return None
        ranked.sort(reverse=True)
        _, distance, offset = ranked[0]
        matched = self.context(self.new, offset, offset + size, prefix, suffix)
        available = len(prefix) + len(suffix)
        if available and matched >= min(_STRONG_CONTEXT, available):
            return offset
        if hint is not None and -distance <= max(64, 2 * size):
            return offset
        distinctive = len(exact.strip()) >= _DISTINCTIVE_CHARS and len(self.find_all(False, exact) or ()) <= 1
        if distinctive and len(ranked) == 1:
            return offset
        return None

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

    def edited_in_place(self, exact: str, own: tuple[int, int],
                        mapped: tuple[int, int, int | None, int | None]) -> tuple[float, int, int] | None:
        """The mapped span as the new wording, its ends refined where they fell into rewritten runs."""
        a, b, gap_a, gap_b = mapped
        if gap_a is not None:
            a = self.gap_position(gap_a, own[0], "start")
        if gap_b is not None:
            b = self.gap_position(gap_b, own[1], "end")
        return self.fit(exact, a, b, gap_a is not None, gap_b is not None)

    def fit(self, exact: str, a: int, b: int, climb_start: bool, climb_end: bool) -> tuple[float, int, int] | None:
        """Trim the candidate, nudge the chosen ends to the best-matching words, and score it."""
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
            a, b = self.climb(exact, a, b, climb_start, climb_end)
            if a >= b:
                return None
        return similarity(exact, new[a:b]), a, b

    def climb(self, exact: str, a: int, b: int, climb_start: bool, climb_end: bool) -> tuple[int, int]:
        quote = _sim_tokens(exact)
        size = len(quote)
        if not size or size > _CLIMB_MAX_TOKENS:
            return a, b
        masks = _token_masks(quote)
        margin = 16 * _CLIMB_TOKENS
        low, high = max(0, a - margin), min(len(self.new), b + margin)
        spans = [(m.start(), m.end(), m.group()) for m in _SIM_TOKEN.finditer(self.new, low, high)]
        if not spans:
            return a, b
        words = [token for _, _, token in spans]
        first = bisect_left([s for s, _, _ in spans], a)
        stop = bisect_right([e for _, e, _ in spans], b)
        if stop <= first:
            return a, b

        def fitness(i: int, j: int) -> float:
            if j <= i:
                return 0.0
            return 2 * _lcs_length(masks, size, words[i:j]) / (size + j - i)

        i, j = first, stop
        for _ in range(2):
            if climb_start:
                options = range(max(0, i - _CLIMB_TOKENS), min(j, i + _CLIMB_TOKENS + 1))
                i = max(options, key=lambda k: (fitness(k, j), -abs(k - first)))
            if climb_end:
                options = range(max(i + 1, j - _CLIMB_TOKENS), min(len(spans), j + _CLIMB_TOKENS) + 1)
                j = max(options, key=lambda k: (fitness(i, k), -abs(k - stop)))
        new_a = a if i == first else spans[i][0]
        new_b = b if j == stop else spans[j - 1][1]
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
        context = [(m.start(), m.end()) for m in _SIM_TOKEN.finditer(prefix)][-_SEED_TOKENS:]
        if len(context) >= 2:
            seed_a, seed_b = context[0][0], context[-1][1]
            seed, after = prefix[seed_a:seed_b], len(prefix) - seed_b
            tried += len(seed)
            for offset in self.find_all(True, seed, _SEED_CAP) or ():
                if free(offset, len(seed)):
                    votes.append((offset + len(seed) + after, len(seed), "p", offset, 0, 0))
        context = [(m.start(), m.end()) for m in _SIM_TOKEN.finditer(suffix)][:_SEED_TOKENS]
        if len(context) >= 2:
            seed_a, seed_b = context[0][0], context[-1][1]
            seed = suffix[seed_a:seed_b]
            tried += len(seed)
            for offset in self.find_all(True, seed, _SEED_CAP) or ():
                if free(offset, len(seed)):
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
            kinds = {vote[2] for vote in votes[low : high + 1]}
            if "q" not in kinds and not {"p", "s"} <= kinds:
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
        fitted = self.fit(exact, a, b, True, True)
        if fitted is None:
            return None
        _, a, b = fitted
        if window is not None and 2 * self.map.foreign(a, b, *window) > b - a:
            return None
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
