"""Redlines: inline HTML, side-by-side rows and change statistics."""

from __future__ import annotations

import re
from html import unescape

from hypothesis import example, given

from policyflow.core.diffing import DELETE, EQUAL, INSERT, diff
from policyflow.core.diffing import change_stats as pinned_change_stats
from policyflow.core.redline import ChangeStats, change_stats, inline_html, side_by_side_rows
from tests.core.strategies import PROPERTY, text_strategies

# fmt: off
_PIECES = [
    "the", "Board", "shall", "students", "policy", "café", "e\u0301", "学生", "の", "😀", "👍🏽",
    " ", " ", "  ", "\t", "\n", "\n", "\n\n", "\r\n", ".", ",", ";", "(", ")", "#", "- ", "1. ",
    "<b>", "</b>", "&", "&amp;", "<script>", '"', "'", "2024",
]
# fmt: on
# Line separators other than "\n" ("\r", "\u2028", ...) are kept out: rows are lines split at "\n".
_TEXTS = text_strategies(_PIECES, excluded_categories=("Cs", "Zl", "Zp", "Cc"))
_piece = _TEXTS.piece
token_lists = _TEXTS.token_lists
texts = _TEXTS.texts
edited_pairs = _TEXTS.edited_pairs
text_pairs = _TEXTS.text_pairs


def _plain(html: str) -> str:
    return unescape(re.sub(r"<[^>]*>", "", html))


def _lines(text: str) -> list[str]:
    """Lines as the side-by-side view shows them: split at "\\n", no empty row after a final one."""
    if not text:
        return []
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


# ---------------------------------------------------------------------------------------------
# side_by_side_rows
# ---------------------------------------------------------------------------------------------


@PROPERTY
@given(text_pairs)
@example(("one\ntwo\nthree\n", "one\n2\nthree\nfour"))
@example(("a\nb\n", "a\n\nb\n"))
@example(("a\n\nb\n", "a\nb\n"))
@example(("a", "a\n"))
@example(("a\n", "a"))
@example(("x\ny", "x y"))
@example(("x y", "x\ny"))
@example(("", "new\n"))
@example(("old\n", ""))
def test_side_by_side_rebuilds_old_left_and_new_right(pair):
    old, new = pair
    rows = side_by_side_rows(diff(old, new))
    left = [row for row in rows if row.old_number is not None]
    right = [row for row in rows if row.new_number is not None]
    assert [_plain(row.old_html) for row in left] == _lines(old)
    assert [_plain(row.new_html) for row in right] == _lines(new)
    assert [row.old_number for row in left] == list(range(1, len(left) + 1))
    assert [row.new_number for row in right] == list(range(1, len(right) + 1))
    for row in rows:
        if row.old_number is None:
            assert row.old_html == ""
        if row.new_number is None:
            assert row.new_html == ""
        assert row.old_number is not None or row.new_number is not None


@PROPERTY
@given(text_pairs)
def test_side_by_side_changed_flags_and_ids(pair):
    old, new = pair
    ops = diff(old, new)
    rows = side_by_side_rows(ops)
    for row in rows:
        if not row.changed:
            assert row.old_html == row.new_html
            assert "<ins" not in row.new_html and "<del" not in row.old_html
            assert row.change_ids == []
        assert "<del" not in row.new_html and "<ins" not in row.old_html
    # Every change id is an anchor exactly once. (Where an edit joins or splits lines, the rows
    # of one block may list them out of order: a left line pairs with a later right line.)
    ids = [change_id for row in rows for change_id in row.change_ids]
    assert sorted(ids, key=lambda i: int(i[7:])) == [f"change-{n}" for n in range(1, change_stats(ops).changes + 1)]
    for row in rows:
        assert row.change_ids == sorted(row.change_ids, key=lambda i: int(i[7:]))
    if "\n" not in old and "\n" not in new:
        assert len(rows) <= 1
        assert ids == sorted(ids, key=lambda i: int(i[7:]))


def test_side_by_side_simple_replacement():
    rows = side_by_side_rows(diff("one\ntwo\nthree\n", "one\n2\nthree\nfour"))
    assert [(r.old_number, r.new_number, r.changed) for r in rows] == [
        (1, 1, False),
        (2, 2, True),
        (3, 3, False),
        (None, 4, True),
    ]
    assert rows[1].old_html == '<del class="rl-del">two</del>'
    assert rows[1].new_html == '<ins class="rl-ins">2</ins>'
    assert rows[1].change_ids == ["change-1"]
    assert rows[3].change_ids == ["change-2"]


def test_side_by_side_line_join_keeps_right_numbers():
    """Regression: joining two lines used to split the new line in two and shift every later
    right-hand line number by one."""
    rows = side_by_side_rows(diff("x\ny\nz\n", "x y\nz\n"))
    assert [(r.old_number, r.new_number) for r in rows] == [(1, 1), (2, None), (3, 2)]
    assert _plain(rows[0].new_html) == "x y"
    assert rows[2].old_html == rows[2].new_html == "z" and not rows[2].changed


def test_side_by_side_line_split_keeps_left_numbers():
    rows = side_by_side_rows(diff("x y\nz\n", "x\ny\nz\n"))
    assert [(r.old_number, r.new_number) for r in rows] == [(1, 1), (None, 2), (2, 3)]
    assert _plain(rows[0].old_html) == "x y"


def test_side_by_side_escapes_html():
    rows = side_by_side_rows(diff("<script>x</script>\n<b>a</b>\n", "<script>y</script>\n<i>a</i>\n"))
    html = "".join(r.old_html + r.new_html for r in rows)
    assert "<script" not in html and "<b>" not in html and "<i>" not in html
    assert rows[0].old_html.startswith("&lt;script&gt;")
    assert '<del class="rl-del">b</del>' in rows[1].old_html


def test_side_by_side_inserted_lines_get_their_own_rows():
    rows = side_by_side_rows(diff("a\nd\n", "a\nb\nc\nd\n"))
    assert [(r.old_number, r.new_number) for r in rows] == [(1, 1), (None, 2), (None, 3), (2, 4)]


def test_side_by_side_deleted_lines_get_their_own_rows():
    rows = side_by_side_rows(diff("a\nb\nc\nd\n", "a\nd\n"))
    assert [(r.old_number, r.new_number) for r in rows] == [(1, 1), (2, None), (3, None), (4, 2)]


# ---------------------------------------------------------------------------------------------
# inline_html
# ---------------------------------------------------------------------------------------------


def test_inline_html_marks_and_numbers_changes():
    ops = [(EQUAL, "a "), (DELETE, "<x>"), (INSERT, "y&z"), (EQUAL, " b "), (INSERT, "c\n")]
    assert inline_html(ops) == (
        'a <del id="change-1" class="rl-del">&lt;x&gt;</del><ins class="rl-ins">y&amp;z</ins> b '
        '<ins id="change-2" class="rl-ins">c<span class="rl-nl" aria-hidden="true">¶</span>\n</ins>'
    )


def test_inline_html_keeps_quotes_readable():
    assert inline_html([(EQUAL, 'He said "no" & left')]) == 'He said "no" &amp; left'


@PROPERTY
@given(text_pairs)
def test_inline_html_has_balanced_marks(pair):
    html = inline_html(diff(*pair))
    assert html.count("<ins") == html.count("</ins>")
    assert html.count("<del") == html.count("</del>")
    assert not re.search(r"<(?!/?(ins|del|span)\b)", html)


# ---------------------------------------------------------------------------------------------
# change_stats
# ---------------------------------------------------------------------------------------------


def test_change_stats_counts_words_chars_and_runs():
    ops = [(EQUAL, "The "), (DELETE, "cat"), (INSERT, "big dog"), (EQUAL, " sat "), (INSERT, "down, quietly.")]
    stats = change_stats(ops)
    assert stats == ChangeStats(words_inserted=4, words_deleted=1, changes=2, chars_inserted=21, chars_deleted=3)
    assert stats.as_dict() == {
        "words_inserted": 4,
        "words_deleted": 1,
        "changes": 2,
        "chars_inserted": 21,
        "chars_deleted": 3,
    }
    assert pinned_change_stats is change_stats


def test_change_stats_of_no_change():
    assert change_stats(diff("same", "same")) == ChangeStats(0, 0, 0, 0, 0)
    assert change_stats([]) == ChangeStats(0, 0, 0, 0, 0)


@PROPERTY
@given(text_pairs)
def test_change_stats_chars_match_ops(pair):
    old, new = pair
    ops = diff(old, new)
    stats = change_stats(ops)
    assert stats.chars_deleted == sum(len(t) for op, t in ops if op == DELETE)
    assert stats.chars_inserted == sum(len(t) for op, t in ops if op == INSERT)
    assert (stats.changes == 0) == (old == new)


def test_fold_unchanged_keeps_context_around_changes() -> None:
    from policyflow.core.redline import FoldedLines, fold_unchanged

    old = "".join(f"Line {n}.\n" for n in range(1, 41))
    new = old.replace("Line 20.", "Line twenty.")
    folded = fold_unchanged(side_by_side_rows(diff(old, new)), context=3)
    kinds = ["fold" if isinstance(item, FoldedLines) else "row" for item in folded]
    assert kinds == ["fold"] + ["row"] * 7 + ["fold"]
    first, last = folded[0], folded[-1]
    assert (first.count, first.first_old, first.first_new) == (16, 1, 1)
    assert (last.count, last.first_old) == (17, 24)
    shown = [item for item in folded if not isinstance(item, FoldedLines)]
    assert [row.old_number for row in shown] == list(range(17, 24))
    assert shown[3].changed and "twenty" in shown[3].new_html
    # A single unchanged row is shown rather than folded.
    assert all(not isinstance(item, FoldedLines) for item in fold_unchanged(side_by_side_rows(diff("a\nb\n", "a\nc\n"))))
