"""Patches: made from word-level ops, applied strictly, readable by any diff-match-patch port."""

from __future__ import annotations

import pytest
from diff_match_patch import diff_match_patch
from hypothesis import example, given

from policyflow.core import patches
from policyflow.core.diffing import apply_patch, diff, make_patch, patch_from_ops
from policyflow.core.errors import PatchError
from tests.core.strategies import PROPERTY, text_strategies

# fmt: off
_PIECES = [
    "the", "Board", "shall", "students", "policy", "café", "e\u0301", "\u0301", "学生", "の", "한국",
    "😀", "👍🏽", "👨\u200d👩\u200d👧", " ", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\r", "\u2028",
    ".", ",", ";", "!", "?", "(", ")", '"', "'", "—", "#", "<b>", "&amp;", "%", "%25", "%0A", "@@",
    "@@ -1,2 +1,2 @@", "+", "-", "=", "~", "2024",
]
# fmt: on
_TEXTS = text_strategies(_PIECES, excluded_categories=("Cs",))
_piece = _TEXTS.piece
token_lists = _TEXTS.token_lists
texts = _TEXTS.texts
edited_pairs = _TEXTS.edited_pairs
text_pairs = _TEXTS.text_pairs


@PROPERTY
@given(text_pairs)
@example(("", ""))
@example(("", "x"))
@example(("x", ""))
@example(("abc", "abc"))
@example(("%", "%25"))
@example(("@@ -1 +1 @@\n", "@@ -2 +2 @@\n"))
@example(("line one\r\nline two\r\n", "line one\nline 2\r\n"))
def test_make_patch_round_trips(pair):
    old, new = pair
    assert apply_patch(old, make_patch(old, new)) == new


@PROPERTY
@given(text_pairs)
def test_patch_from_ops_equals_make_patch(pair):
    old, new = pair
    assert patch_from_ops(diff(old, new)) == make_patch(old, new)


@PROPERTY
@given(text_pairs)
def test_own_patches_are_readable_by_diff_match_patch(pair):
    """Any dmp port can read (and with exact context, apply) the patches we store."""
    old, new = pair
    engine = diff_match_patch()
    parsed = engine.patch_fromText(make_patch(old, new))
    assert engine.patch_toText(parsed) == make_patch(old, new)
    # Our strict applier takes the exact path on our own patches: no fuzzy matching needed.
    assert patches._apply_in_place(old, parsed) == new


@PROPERTY
@given(edited_pairs)
def test_foreign_dmp_patches_apply(pair):
    old, new = pair
    engine = diff_match_patch()
    foreign = engine.patch_toText(engine.patch_make(old, new))
    assert apply_patch(old, foreign) == new


def test_empty_patch_is_identity():
    assert make_patch("same text", "same text") == ""
    assert apply_patch("anything", "") == "anything"


def test_patch_is_small_for_a_small_edit():
    old = "The Board shall review this policy every three years. " * 200
    new = old.replace("every three years", "every two years", 1)
    patch = make_patch(old, new)
    assert len(patch) < 100
    assert apply_patch(old, patch) == new


def test_foreign_patch_from_python_dmp_example():
    engine = diff_match_patch()
    old = "The quick brown fox jumps over the lazy dog."
    new = "That quick brown fox jumped over a lazy dog."
    assert apply_patch(old, engine.patch_toText(engine.patch_make(old, new))) == new


def test_foreign_patch_with_shifted_base_still_applies_exactly():
    """A dmp patch located with fuzz (text moved a little) applies when every hunk matches."""
    engine = diff_match_patch()
    old = "Section one.\nThe Board shall meet monthly.\nSection three.\n"
    new = "Section one.\nThe Board shall meet weekly.\nSection three.\n"
    foreign = engine.patch_toText(engine.patch_make(old, new))
    shifted = "Preamble added later.\n" + old
    assert apply_patch(shifted, foreign) == "Preamble added later.\n" + new


@pytest.mark.parametrize(
    ("base", "old", "new"),
    [
        (
            "Completely unrelated text about bus schedules and lunch menus.",
            "The Board shall review this policy every three years.",
            "The Board shall review this policy every two years.",
        ),
        ("", "Something that was there.", "Something else."),
        ("xyz " * 50, "abc " * 50, "abd " * 50),
    ],
)
def test_patch_for_a_different_base_raises(base, old, new):
    with pytest.raises(PatchError):
        apply_patch(base, make_patch(old, new))


def test_foreign_patch_for_a_different_base_raises():
    engine = diff_match_patch()
    foreign = engine.patch_toText(engine.patch_make("alpha beta gamma delta", "alpha BETA gamma delta"))
    with pytest.raises(PatchError):
        apply_patch("one two three four five six", foreign)


def test_partially_applicable_patch_raises():
    """Strict: one hunk that does not apply fails the whole patch (dmp would skip it)."""
    old = "First paragraph stays.\n\n" + "filler " * 40 + "\n\nLast sentence here.\n"
    new = old.replace("First", "1st").replace("Last", "Final")
    base = old.replace("Last sentence here.", "Something completely different now.")
    with pytest.raises(PatchError, match="Hunk"):
        apply_patch(base, make_patch(old, new))


@pytest.mark.parametrize(
    "patch_text",
    [
        "not a patch",
        "@@ -1,3 +1,3 @@\n?bad\n",
        "@@ -x +y @@\n",
        "@@ -1,3 +1,3 @@\n abc\n-%ZZ\n",
        "@@ garbage\n",
    ],
)
def test_invalid_patch_text_raises(patch_text):
    with pytest.raises(PatchError):
        apply_patch("abc def ghi", patch_text)
