"""Properties and quality of the pinned word-level diff (policyflow.core.diffing.diff)."""

from __future__ import annotations

import importlib.util
import re
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import example, given

from policyflow.core.diffing import DELETE, EQUAL, INSERT, diff, redline_html
from policyflow.core.worddiff import lcs_ops, tokenize, word_diff
from tests.core.strategies import PROPERTY, text_strategies

ROOT = Path(__file__).resolve().parents[2]
DEMO_POLICIES = ROOT / "policyflow" / "demo" / "policies"


def _load_textgen():
    spec = importlib.util.spec_from_file_location("policyflow_bench_textgen", ROOT / "bench" / "textgen.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


textgen = _load_textgen()

# ---------------------------------------------------------------------------------------------
# Strategies: policy-ish words, whitespace of every kind, punctuation, scripts without spaces,
# combining marks, emoji (incl. ZWJ sequences and skin tones) and arbitrary non-surrogate text.
# ---------------------------------------------------------------------------------------------
# fmt: off
_PIECES = [
    "the", "The", "Board", "board", "shall", "student", "students", "policy", "café", "naïve", "ö",
    "e\u0301", "n\u0303o", "\u0301", "学生", "政策", "の", "カ", "한국", "😀", "👍🏽", "👨\u200d👩\u200d👧",
    " ", " ", " ", "  ", "\t", "\n", "\n", "\n\n", "\r\n", "\r", "\u00a0", "\u2028",
    ".", ". ", ",", ";", ":", "!", "?", "(", ")", '"', "'", "—", "-", "*", "#", "## ", "1. ",
    "<b>", "</b>", "&amp;", "%", "%25", "@@", "+", "2024", "_",
]
# fmt: on
_TEXTS = text_strategies(_PIECES, excluded_categories=("Cs",))
_piece = _TEXTS.piece
token_lists = _TEXTS.token_lists
texts = _TEXTS.texts
edited_pairs = _TEXTS.edited_pairs
text_pairs = _TEXTS.text_pairs


def _changed_chars(ops) -> int:
    return sum(len(text) for op, text in ops if op != EQUAL)


def _old_side(ops) -> str:
    return "".join(text for op, text in ops if op != INSERT)


def _new_side(ops) -> str:
    return "".join(text for op, text in ops if op != DELETE)


def _cuts(ops, side_op) -> set[int]:
    """Positions in one side's text where an op starts or ends."""
    cuts: set[int] = set()
    position = 0
    for op, text in ops:
        if op == side_op:
            continue
        cuts.add(position)
        position += len(text)
        cuts.add(position)
    return cuts


def _token_boundaries(text: str) -> set[int]:
    boundaries = {0}
    position = 0
    for token in tokenize(text):
        position += len(token)
        boundaries.add(position)
    return boundaries


# ---------------------------------------------------------------------------------------------
# Structural properties
# ---------------------------------------------------------------------------------------------


@PROPERTY
@given(text_pairs)
@example(("", ""))
@example(("", "new text"))
@example(("old text", ""))
@example(("a\r\nb", "a\nb"))
@example(("The cat sat", "The cap sat"))
def test_ops_rebuild_both_texts(pair):
    old, new = pair
    ops = diff(old, new)
    assert _old_side(ops) == old
    assert _new_side(ops) == new


@PROPERTY
@given(text_pairs)
def test_ops_are_well_formed(pair):
    old, new = pair
    ops = diff(old, new)
    for op, text in ops:
        assert op in (DELETE, EQUAL, INSERT)
        assert isinstance(text, str)
        assert text, f"empty op text in {ops!r}"
    for (op1, _), (op2, _) in pairwise(ops):
        assert op1 != op2, f"adjacent ops of one kind in {ops!r}"
    if old == new:
        assert all(op == EQUAL for op, _ in ops)


@PROPERTY
@given(text_pairs)
def test_edits_never_split_a_token(pair):
    """Every op boundary falls on a token boundary of both texts (words are marked whole)."""
    old, new = pair
    ops = diff(old, new)
    assert _cuts(ops, INSERT) <= _token_boundaries(old), ops
    assert _cuts(ops, DELETE) <= _token_boundaries(new), ops


@PROPERTY
@given(text_pairs)
def test_diff_is_deterministic_and_agrees_with_word_diff(pair):
    old, new = pair
    if old != new:
        assert diff(old, new) == word_diff(old, new)
    assert diff(old, new) == diff(old, new)


# ---------------------------------------------------------------------------------------------
# Word granularity, examples
# ---------------------------------------------------------------------------------------------


def test_changed_word_is_marked_whole():
    assert diff("The cat sat", "The cap sat") == [(EQUAL, "The "), (DELETE, "cat"), (INSERT, "cap"), (EQUAL, " sat")]


@pytest.mark.parametrize(
    ("old", "new", "deleted", "inserted"),
    [
        ("The cat sat", "The cap sat", "cat", "cap"),
        ("students shall attend", "student shall attend", "students", "student"),
        ("within ten school days", "within fifteen school days", "ten", "fifteen"),
        ("Reviewed in 2019.", "Reviewed in 2024.", "2019", "2024"),
        ("naïve café policy", "naive café policy", "naïve", "naive"),
        ("e\u0301te\u0301 rules", "ete\u0301 rules", "e\u0301te\u0301", "ete\u0301"),
    ],
)
def test_single_word_edits_mark_exactly_that_word(old, new, deleted, inserted):
    ops = diff(old, new)
    assert [text for op, text in ops if op == DELETE] == [deleted]
    assert [text for op, text in ops if op == INSERT] == [inserted]


def test_identical_and_empty_texts():
    assert diff("", "") == []
    assert diff("same", "same") == [(EQUAL, "same")]
    assert diff("", "added") == [(INSERT, "added")]
    assert diff("removed", "") == [(DELETE, "removed")]


PARAGRAPH = (
    "The superintendent or designee will establish procedures for reporting, investigating and "
    "resolving complaints within ten school days of receipt.\n"
)


def test_swapped_heading_and_paragraph_keep_the_paragraph():
    """Patience anchors are chosen by count alone: where a short and a long unique line cross,
    the short one can win and the long one be deleted and re-inserted (318 changed characters
    instead of 26) unless the exact token diff is used as the yardstick."""
    heading = "## Reporting\n"
    ops = diff(PARAGRAPH + heading, heading + PARAGRAPH)
    assert (EQUAL, PARAGRAPH) in ops
    assert _changed_chars(ops) == 2 * len(heading)


def test_crossed_tokens_keep_the_longer_word():
    ops = diff("studentsstudentsstudents😀", "😀studentsstudentsstudents")
    assert (EQUAL, "studentsstudentsstudents") in ops
    assert _changed_chars(ops) == 2


def test_moved_paragraphs_stay_near_minimal():
    paragraphs = [f"## Section {n}\n\n{PARAGRAPH.replace('ten', str(n))}" for n in range(1, 30)]
    moved = list(paragraphs)
    moved.insert(3, moved.pop(20))
    moved.insert(25, moved.pop(1))
    _assert_near_minimal("\n".join(paragraphs), "\n".join(moved), "moves")


def test_cjk_is_diffed_per_character():
    ops = diff("学生の政策", "学生の方針")
    assert _old_side(ops) == "学生の政策"
    assert _new_side(ops) == "学生の方針"
    assert (EQUAL, "学生の") in ops


# ---------------------------------------------------------------------------------------------
# Redline HTML
# ---------------------------------------------------------------------------------------------


def test_redline_escapes_html_in_every_kind_of_op():
    old = 'Keep <script>alert("x")</script> & <b>bold</b> here.'
    new = 'Keep <script>alert("y")</script> & <img src=x onerror=alert(1)> here.'
    html = redline_html(old, new)
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "<img" not in html
    assert '<ins class="rl-ins">img src=x onerror=alert(1)</ins>&gt;' in html
    assert "<b>" not in html
    assert "&amp;" in html
    assert set(re.findall(r"</?([a-z]+)", html)) <= {"ins", "del", "span"}


def test_redline_change_ids_are_numbered_from_one():
    old = "One two three four five six seven eight nine ten."
    new = "One 2 three four five 6 seven eight nine 10."
    html = redline_html(old, new)
    ids = re.findall(r'id="(change-\d+)"', html)
    assert ids == ["change-1", "change-2", "change-3"]
    assert '<del id="change-1" class="rl-del">two</del><ins class="rl-ins">2</ins>' in html


def test_redline_marks_changed_line_breaks_visibly():
    html = redline_html("First.\nSecond.", "First.\n\nSecond.")
    assert "rl-nl" in html
    assert "<ins" in html


@PROPERTY
@given(text_pairs)
def test_redline_text_content_is_the_new_text_plus_deletions(pair):
    old, new = pair
    html = redline_html(old, new)
    ops = diff(old, new)
    stripped = re.sub(r'<span class="rl-nl" aria-hidden="true">¶</span>', "", html)
    dels = re.findall(r"<del[^>]*>(.*?)</del>", stripped, flags=re.S)
    without_dels = re.sub(r"<del[^>]*>.*?</del>", "", stripped, flags=re.S)
    plain = re.sub(r"</?(ins|del)[^>]*>", "", without_dels)
    from html import unescape

    assert unescape(plain) == new
    assert [unescape(d) for d in dels] == [text for op, text in ops if op == DELETE]
    changes = sum(1 for i, (op, _) in enumerate(ops) if op != EQUAL and (i == 0 or ops[i - 1][0] == EQUAL))
    assert re.findall(r'id="change-(\d+)"', html) == [str(n) for n in range(1, changes + 1)]


# ---------------------------------------------------------------------------------------------
# Quality against the minimal word-level LCS
# ---------------------------------------------------------------------------------------------


def _minimal_changed_chars(old: str, new: str) -> int:
    return _changed_chars(lcs_ops(tokenize(old), tokenize(new)))


def _assert_near_minimal(old: str, new: str, label: str) -> None:
    ops = diff(old, new)
    assert _old_side(ops) == old and _new_side(ops) == new
    ours, minimal = _changed_chars(ops), _minimal_changed_chars(old, new)
    assert ours <= 1.5 * minimal, f"{label}: diff changes {ours} chars, minimal word LCS {minimal}"


def _demo_pairs():
    pairs = []
    for policy in sorted(DEMO_POLICIES.iterdir()):
        versions = sorted(policy.glob("v*.md"), key=lambda p: int(p.stem[1:]))
        for older, newer in pairwise(versions):
            pairs.append(pytest.param(older, newer, id=f"{policy.name}-{older.stem}-{newer.stem}"))
    return pairs


def test_demo_corpus_is_present():
    assert len(_demo_pairs()) >= 10


@pytest.mark.parametrize(("older", "newer"), _demo_pairs())
def test_demo_corpus_diffs_are_near_minimal(older, newer):
    _assert_near_minimal(older.read_text(encoding="utf-8"), newer.read_text(encoding="utf-8"), older.parent.name)


@pytest.mark.parametrize(("size", "seed_a", "seed_b"), [(16000, 1, 7), (4000, 3, 4)])
def test_full_rewrites_are_near_minimal(size, seed_a, seed_b):
    _assert_near_minimal(textgen.policy_text(size, seed_a), textgen.policy_text(size, seed_b), f"rewrite {size}")


@pytest.mark.parametrize("fraction", [0.02, 0.2, 0.6])
def test_sentence_edits_are_near_minimal(fraction):
    old = textgen.policy_text(20000, 5)
    _assert_near_minimal(old, textgen.edit_sentences(old, fraction, seed=9), f"edit {fraction}")


def _swap_unchanged_paragraphs_with_headings(old: str, new: str, swaps: int) -> str:
    unchanged = set(old.split("\n"))
    lines = new.split("\n")
    done = 0
    for k in range(len(lines) - 3):
        if done < swaps and len(lines[k]) > 300 and lines[k] in unchanged and lines[k + 2].startswith("## "):
            lines[k], lines[k + 2] = lines[k + 2], lines[k]
            done += 1
    assert done == swaps
    return "\n".join(lines)


def test_headings_moved_in_a_large_edited_policy_stay_near_minimal():
    old = textgen.policy_text(100_000, 3)
    new = _swap_unchanged_paragraphs_with_headings(old, textgen.edit_sentences(old, 0.2, seed=4), swaps=10)
    _assert_near_minimal(old, new, "100 KB, 20% edited, 10 headings moved")


@PROPERTY
@given(edited_pairs)
def test_random_edits_are_near_minimal(pair):
    old, new = pair
    ops = diff(old, new)
    assert _changed_chars(ops) <= 1.5 * _minimal_changed_chars(old, new), ops
