"""Word-granular diff of two texts, fast on small edits and on full rewrites alike.

Character-level Myers (diff-match-patch's ``diff_main``) costs O(N*D): a rewritten 16 KB policy
takes seconds, and with a time-out it silently degrades to "delete everything, insert everything".
Readers of a policy redline want whole words marked anyway, so this module diffs *units*:

1. lines, 2. sentences inside changed lines, 3. word tokens inside changed sentences.

At each level, units that occur exactly once on both sides anchor the alignment (patience
diff); runs of equal units grow around the anchors, and only the gaps between anchors descend to
the next level. At the word level, what is left is diffed exactly with a bit-parallel longest
common subsequence of the tokens (no time-out, so never a silent whole-text replace). The result is
cleaned semantically on token boundaries, so an edit never starts or ends inside a word.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

DELETE, EQUAL, INSERT = -1, 0, 1
Op = tuple[int, str]

# A token is a run of word characters (with combining marks), one CJK/kana character (those
# scripts do not separate words with spaces), one whitespace character, or one other symbol.
_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"
    r"|[\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u200d]+"
    r"|\s|[^\w\s]"
)
_SENTENCE_END = re.compile(r"[.!?;:][\"'\u201d\u2019)\]]*\s+|\n+")

# Above this many token comparisons a gap without anchors is first checked for being a rewrite.
_EXACT_CELLS = 40_000
# Semantic cleanup may grow the changed text to at most this factor of the near-minimal diff
# (patience result) or of the exact minimal diff, where that is computed.
_FOLD_BUDGET = 1.3
_FOLD_BUDGET_EXACT = 1.45
# Patience ops are kept unless they change this much more than the exact diff.
_PATIENCE_SLACK = 1.15
# Largest changed middle (tokens x tokens) for which the exact diff is computed as a yardstick.
_EXACT_REFERENCE_CELLS = 25_000_000
# How long an equality may be, relative to the changes around it, and still be folded.
_FOLD_REACHES = (1.0, 0.5, 0.25)
# Bits kept for one LCS table (rows x columns); about 50 MB.
_MAX_LCS_CELLS = 400_000_000


def tokenize(text: str) -> list[str]:
    """Split text into word, whitespace and punctuation tokens that join back to the text."""
    return _TOKEN.findall(text)


def _split_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _split_sentences(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


_LEVELS: tuple[Callable[[str], list[str]], ...] = (_split_lines, _split_sentences, tokenize)
_WORD_LEVEL = len(_LEVELS) - 1


def word_diff(old: str, new: str) -> list[Op]:
    """Diff ops at word granularity: joining EQUAL+DELETE rebuilds ``old``, EQUAL+INSERT ``new``."""
    raw: list[Op] = []
    _diff_units(_split_lines(old), _split_lines(new), 0, raw)
    ops = _merge(raw)
    # Patience anchoring reads well but can miss the minimum (moved blocks). Where an exact
    # token-level diff is affordable, it is the yardstick: never drift far from it.
    exact = _exact_token_ops(old, new)
    if exact is not None and _changed_chars(ops) > _PATIENCE_SLACK * _changed_chars(exact):
        ops = exact
    reference = _changed_chars(exact) if exact is not None else _changed_chars(ops)
    # Folding small equalities reads better but marks more text as changed; keep the result
    # within a bounded factor of the (near-)minimal diff, folding less where it would not be.
    budget = (_FOLD_BUDGET_EXACT if exact is not None else _FOLD_BUDGET) * reference
    for reach in _FOLD_REACHES:
        cleaned = cleanup_semantic(ops, reach)
        if _changed_chars(cleaned) <= budget:
            return cleaned
    return align_to_word_boundaries(ops)


def _exact_token_ops(old: str, new: str) -> list[Op] | None:
    """The token-minimal diff, when the changed middle is small enough to afford it."""
    head = _common_prefix_length(old, new)
    tail = _common_prefix_length(old[head:][::-1], new[head:][::-1])
    # Back off to whitespace so no token is cut in two.
    while head > 0 and not old[head - 1].isspace():
        head -= 1
    while tail > 0 and not old[len(old) - tail].isspace():
        tail -= 1
    middle_a, middle_b = old[head : len(old) - tail], new[head : len(new) - tail]
    # Tokens average well over two characters; skip tokenizing what could never fit.
    if len(middle_a) * len(middle_b) > 9 * _EXACT_REFERENCE_CELLS:
        return None
    tokens_a, tokens_b = tokenize(middle_a), tokenize(middle_b)
    if len(tokens_a) * len(tokens_b) > _EXACT_REFERENCE_CELLS:
        return None
    ops: list[Op] = []
    if head:
        ops.append((EQUAL, old[:head]))
    ops.extend(lcs_ops(tokens_a, tokens_b))
    if tail:
        ops.append((EQUAL, old[len(old) - tail :]))
    return _merge(ops)


def _common_prefix_length(one: str, two: str) -> int:
    """Length of the common prefix, by binary search on slices (fast on long texts)."""
    low, high = 0, min(len(one), len(two))
    while low < high:
        middle = (low + high + 1) // 2
        if one[:middle] == two[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _changed_chars(ops: list[Op]) -> int:
    return sum(len(text) for op, text in ops if op != EQUAL)


def _diff_units(units_a: Sequence[str], units_b: Sequence[str], level: int, out: list[Op]) -> None:
    """Diff two unit sequences of one level, appending ops to ``out``."""
    lo_a, hi_a = 0, len(units_a)
    lo_b, hi_b = 0, len(units_b)
    while lo_a < hi_a and lo_b < hi_b and units_a[lo_a] == units_b[lo_b]:
        lo_a += 1
        lo_b += 1
    head = "".join(units_a[:lo_a])
    while hi_a > lo_a and hi_b > lo_b and units_a[hi_a - 1] == units_b[hi_b - 1]:
        hi_a -= 1
        hi_b -= 1
    tail = "".join(units_a[hi_a:])
    if head:
        out.append((EQUAL, head))
    _diff_middle(units_a[lo_a:hi_a], units_b[lo_b:hi_b], level, out)
    if tail:
        out.append((EQUAL, tail))


def _diff_middle(units_a: Sequence[str], units_b: Sequence[str], level: int, out: list[Op]) -> None:
    if not units_a or not units_b:
        if units_a:
            out.append((DELETE, "".join(units_a)))
        if units_b:
            out.append((INSERT, "".join(units_b)))
        return
    anchors = _unique_anchors(units_a, units_b)
    if not anchors:
        if level < _WORD_LEVEL:
            next_split = _LEVELS[level + 1]
            _diff_units(next_split("".join(units_a)), next_split("".join(units_b)), level + 1, out)
        else:
            _diff_tokens(units_a, units_b, out)
        return
    pos_a = pos_b = 0
    for anchor_a, anchor_b in anchors:
        if anchor_a < pos_a:  # already covered by growing the previous anchor
            continue
        # Grow the anchor backwards over equal (non-unique) units still inside the gap.
        start_a, start_b = anchor_a, anchor_b
        while start_a > pos_a and start_b > pos_b and units_a[start_a - 1] == units_b[start_b - 1]:
            start_a -= 1
            start_b -= 1
        end_a, end_b = anchor_a + 1, anchor_b + 1
        while end_a < len(units_a) and end_b < len(units_b) and units_a[end_a] == units_b[end_b]:
            end_a += 1
            end_b += 1
        if start_a > pos_a or start_b > pos_b:
            _diff_middle(units_a[pos_a:start_a], units_b[pos_b:start_b], level, out)
        out.append((EQUAL, "".join(units_a[start_a:end_a])))
        pos_a, pos_b = end_a, end_b
    if pos_a < len(units_a) or pos_b < len(units_b):
        _diff_middle(units_a[pos_a:], units_b[pos_b:], level, out)


def _unique_anchors(units_a: Sequence[str], units_b: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) of units unique on both sides, longest increasing in both (patience)."""
    count_a = Counter(units_a)
    count_b = Counter(units_b)
    where_b = {unit: j for j, unit in enumerate(units_b) if count_b[unit] == 1}
    pairs = [
        (i, where_b[unit])
        for i, unit in enumerate(units_a)
        if count_a[unit] == 1 and unit in where_b and not unit.isspace()
    ]
    if len(pairs) <= 1 or all(pairs[k][1] < pairs[k + 1][1] for k in range(len(pairs) - 1)):
        return pairs  # nothing moved: every anchor is kept
    return _heaviest_increasing(pairs, [len(units_a[i]) for i, _ in pairs])


def _heaviest_increasing(pairs: list[tuple[int, int]], weights: list[int]) -> list[tuple[int, int]]:
    """Subsequence of ``pairs`` (sorted by i) whose j increase too, of the greatest total weight.

    Weighing anchors by their length keeps the long unit where units crossed (a paragraph and a
    heading swapped keep the paragraph, not the heading): O(n log n) with a Fenwick tree of
    prefix maxima over the ranks of j.
    """
    rank = {j: r for r, j in enumerate(sorted(j for _, j in pairs), start=1)}
    size = len(pairs)
    tree_total = [0] * (size + 1)
    tree_index = [-1] * (size + 1)
    totals = [0] * size
    previous = [-1] * size
    for index, (_, j) in enumerate(pairs):
        position = rank[j]
        best, best_index = 0, -1
        k = position - 1  # heaviest chain ending at a smaller j
        while k > 0:
            if tree_total[k] > best:
                best, best_index = tree_total[k], tree_index[k]
            k -= k & -k
        total = best + weights[index]
        totals[index], previous[index] = total, best_index
        k = position
        while k <= size:
            if tree_total[k] < total:
                tree_total[k], tree_index[k] = total, index
            k += k & -k
    index = max(range(size), key=totals.__getitem__)
    chain = []
    while index != -1:
        chain.append(pairs[index])
        index = previous[index]
    chain.reverse()
    return chain


def _diff_tokens(tokens_a: Sequence[str], tokens_b: Sequence[str], out: list[Op]) -> None:
    """Minimal token diff of a gap that has no unique anchors left."""
    if len(tokens_a) * len(tokens_b) > _EXACT_CELLS and _replacement_is_near_minimal(tokens_a, tokens_b):
        out.append((DELETE, "".join(tokens_a)))
        out.append((INSERT, "".join(tokens_b)))
        return
    words_a, words_b = _glue_spaces(tokens_a), _glue_spaces(tokens_b)
    if len(words_a) * len(words_b) > _MAX_LCS_CELLS:
        # Beyond memory for one table: diff proportional slices (only for huge rewrites).
        half_a, half_b = len(words_a) // 2, len(words_b) // 2
        _diff_tokens(words_a[:half_a], words_b[:half_b], out)
        _diff_tokens(words_a[half_a:], words_b[half_b:], out)
        return
    out.extend(lcs_ops(words_a, words_b))


def _glue_spaces(tokens: Sequence[str]) -> list[str]:
    """Join each word with the single space after it: half the units, same alignment quality."""
    glued: list[str] = []
    for token in tokens:
        if token == " " and glued and not glued[-1].endswith(" ") and not glued[-1].isspace():  # noqa: S105 - a space token
            glued[-1] += token
        else:
            glued.append(token)
    return glued


def lcs_ops(units_a: Sequence[str], units_b: Sequence[str]) -> list[Op]:
    """Ops of a longest common subsequence, computed bit-parallel (Crochemore et al., 2001).

    Each row of the LCS table is one integer whose bits say where the row steps up, so a row
    costs a few big-integer operations instead of a Python loop over the columns: a full
    rewrite of a 100 KB policy takes a fraction of a second where character Myers takes minutes.
    """
    n = len(units_a)
    full = (1 << n) - 1
    masks: dict[str, int] = {}
    for j, unit in enumerate(units_a):
        masks[unit] = masks.get(unit, 0) | (1 << j)
    rows = [full]
    row = full
    for unit in units_b:
        match = row & masks.get(unit, 0)
        row = ((row + match) | (row - match)) & full
        rows.append(row)
    # Trace back from the bottom-right corner. A zero bit j in row i means the LCS of
    # a[:j+1] and b[:i] is one longer than that of a[:j] and b[:i].
    reversed_ops: list[Op] = []
    i, j = len(units_b), n
    while i > 0 and j > 0:
        if units_a[j - 1] == units_b[i - 1]:
            reversed_ops.append((EQUAL, units_a[j - 1]))
            i -= 1
            j -= 1
        elif (rows[i] >> (j - 1)) & 1:  # same LCS without a[j-1]: it is deleted
            reversed_ops.append((DELETE, units_a[j - 1]))
            j -= 1
        else:
            reversed_ops.append((INSERT, units_b[i - 1]))
            i -= 1
    while j > 0:
        reversed_ops.append((DELETE, units_a[j - 1]))
        j -= 1
    while i > 0:
        reversed_ops.append((INSERT, units_b[i - 1]))
        i -= 1
    reversed_ops.reverse()
    return reversed_ops


def _replacement_is_near_minimal(tokens_a: Sequence[str], tokens_b: Sequence[str]) -> bool:
    """True when replacing the whole gap changes at most 1.5x the text a minimal diff would.

    The multiset intersection of the two token bags bounds the longest common subsequence from
    above, so if even that is small, no alignment can keep much: a minimal diff changes at least
    ``len(a) + len(b) - 2 * shared`` characters and the replacement ``len(a) + len(b)``.
    """
    bag_b = Counter(tokens_b)
    shared = sum(len(t) * min(n, bag_b[t]) for t, n in Counter(tokens_a).items() if t in bag_b)
    total = sum(map(len, tokens_a)) + sum(map(len, tokens_b))
    return 6 * shared <= total


def _merge(ops: list[Op]) -> list[Op]:
    """Join neighbouring ops of one kind; within a changed run, deletions come first."""
    merged: list[Op] = []
    deleted: list[str] = []
    inserted: list[str] = []
    equal: list[str] = []

    def flush_changes() -> None:
        if deleted:
            merged.append((DELETE, "".join(deleted)))
            deleted.clear()
        if inserted:
            merged.append((INSERT, "".join(inserted)))
            inserted.clear()

    for op, text in ops:
        if not text:
            continue
        if op == EQUAL:
            flush_changes()
            equal.append(text)
        else:
            if equal:
                merged.append((EQUAL, "".join(equal)))
                equal.clear()
            (deleted if op == DELETE else inserted).append(text)
    flush_changes()
    if equal:
        merged.append((EQUAL, "".join(equal)))
    return merged


class _Change:
    """A run of deletions and insertions between two equalities."""

    __slots__ = ("deleted", "deleted_len", "inserted", "inserted_len")

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.inserted: list[str] = []
        self.deleted_len = 0
        self.inserted_len = 0

    @property
    def size(self) -> int:
        return max(self.deleted_len, self.inserted_len)

    def absorb(self, equality: str, following: _Change) -> None:
        self.deleted.append(equality)
        self.inserted.append(equality)
        self.deleted.extend(following.deleted)
        self.inserted.extend(following.inserted)
        self.deleted_len += len(equality) + following.deleted_len
        self.inserted_len += len(equality) + following.inserted_len


def cleanup_semantic(ops: list[Op], reach: float = 1.0) -> list[Op]:
    """Fold equalities no longer than the changes on both sides into those changes.

    The rule of diff-match-patch's ``diff_cleanupSemantic`` ("the cat" -> "a dog" reads better
    as one replacement than as four edits around a kept space), done in one pass with a stack,
    and without its character-level overlap step, which would split words.
    """
    changes: list[_Change] = [_Change()]
    equalities: list[str] = []
    for op, text in ops:
        if op == EQUAL:
            _fold(changes, equalities, reach)
            equalities.append(text)
            changes.append(_Change())
        elif op == DELETE:
            changes[-1].deleted.append(text)
            changes[-1].deleted_len += len(text)
        else:
            changes[-1].inserted.append(text)
            changes[-1].inserted_len += len(text)
    _fold(changes, equalities, reach)
    result: list[Op] = []
    for index, change in enumerate(changes):
        if change.deleted:
            result.append((DELETE, "".join(change.deleted)))
        if change.inserted:
            result.append((INSERT, "".join(change.inserted)))
        if index < len(equalities):
            result.append((EQUAL, equalities[index]))
    return align_to_word_boundaries(result)


def _fold(changes: list[_Change], equalities: list[str], reach: float) -> None:
    while equalities and len(changes) >= 2:
        before, after, equality = changes[-2], changes[-1], equalities[-1]
        limit = reach * min(before.size, after.size)
        if not (before.size and after.size and len(equality) <= limit):
            return
        before.absorb(equality, after)
        changes.pop()
        equalities.pop()


def align_to_word_boundaries(ops: list[Op]) -> list[Op]:
    """Slide each lone insertion or deletion sideways, a whole token at a time, to where its
    edges fall on the most natural boundaries (blank line, line break, sentence end, space)."""
    ops = list(ops)
    for index in range(1, len(ops) - 1):
        if ops[index - 1][0] != EQUAL or ops[index + 1][0] != EQUAL or ops[index][0] == EQUAL:
            continue
        before, edit, after = ops[index - 1][1], ops[index][1], ops[index + 1][1]
        shifted = _best_shift(before, edit, after)
        if shifted is not None:
            ops[index - 1] = (EQUAL, shifted[0])
            ops[index] = (ops[index][0], shifted[1])
            ops[index + 1] = (EQUAL, shifted[2])
    return [op for op in ops if op[1]]


def _best_shift(before: str, edit: str, after: str) -> tuple[str, str, str] | None:
    edit_tokens = tokenize(edit)
    # First shift the edit left as far as the equality before it repeats its last token.
    tail = _tail_tokens(before)
    left, current, right = before, edit, after
    while tail and tail[-1] == edit_tokens[-1]:
        token = tail.pop()
        edit_tokens = [token, *edit_tokens[:-1]]
        left = left[: len(left) - len(token)]
        right = current[len(current) - len(token) :] + right
        current = token + current[: len(current) - len(token)]
    # Then walk right a token at a time, keeping the best-scoring position.
    best = (left, current, right)
    best_score = _boundary_score(left, current) + _boundary_score(current, right)
    for token in _head_tokens(right):
        if token != edit_tokens[0]:
            break
        edit_tokens = [*edit_tokens[1:], token]
        left += token
        current = current[len(token) :] + token
        right = right[len(token) :]
        score = _boundary_score(left, current) + _boundary_score(current, right)
        if score >= best_score:  # prefer trailing over leading whitespace, as dmp does
            best, best_score = (left, current, right), score
    return None if best == (before, edit, after) else best


def _tail_tokens(text: str, window: int = 256) -> list[str]:
    if len(text) <= window:
        return tokenize(text)
    tokens = tokenize(text[-window:])
    return tokens[1:]  # the first may be a cut-off piece of a longer token


def _head_tokens(text: str, window: int = 256) -> list[str]:
    if len(text) <= window:
        return tokenize(text)
    tokens = tokenize(text[:window])
    return tokens[:-1]


_BLANK_LINE_END = re.compile(r"\n\r?\n$")
_BLANK_LINE_START = re.compile(r"^\r?\n\r?\n")


def _boundary_score(one: str, two: str) -> int:
    """How natural a boundary between ``one`` and ``two`` is (6 best), after diff-match-patch."""
    if not one or not two:
        return 6
    char1, char2 = one[-1], two[0]
    non_alnum1, non_alnum2 = not char1.isalnum(), not char2.isalnum()
    space1 = non_alnum1 and char1.isspace()
    space2 = non_alnum2 and char2.isspace()
    break1 = space1 and char1 in "\r\n"
    break2 = space2 and char2 in "\r\n"
    if (break1 and _BLANK_LINE_END.search(one)) or (break2 and _BLANK_LINE_START.match(two)):
        return 5
    if break1 or break2:
        return 4
    if non_alnum1 and not space1 and space2:
        return 3
    if space1 or space2:
        return 2
    if non_alnum1 or non_alnum2:
        return 1
    return 0
