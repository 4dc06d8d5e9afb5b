"""Version reconstruction from keyframes and patches, verified by SHA-256 at every step."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policyflow.core.diffing import make_patch
from policyflow.core.errors import VersionIntegrityError
from policyflow.core.versioning import (
    DEFAULT_KEYFRAME_INTERVAL,
    StoredVersion,
    is_keyframe,
    reconstruct,
    sha256_text,
)
from tests.core.strategies import edit_tokens, text_strategies

# fmt: off
_PIECES = [
    "the", "Board", "shall", "students", "policy", "café", "e\u0301", "学生", "の", "😀", "👍🏽",
    " ", " ", "  ", "\n", "\n\n", "\r\n", ".", ",", ";", "(", ")", "#", "<b>", "%", "@@", "+", "2024",
]
# fmt: on
_piece = text_strategies(_PIECES).piece


@st.composite
def histories(draw: st.DrawFn) -> list[str]:
    """A list of texts, each an edit of the one before (sometimes a full rewrite)."""
    tokens = draw(st.lists(_piece, max_size=40))
    history = ["".join(tokens)]
    for _ in range(draw(st.integers(0, 14))):
        if draw(st.integers(0, 9)) == 0:
            tokens = draw(st.lists(_piece, max_size=40))
        else:
            tokens = edit_tokens(draw, tokens, _piece, 4)
        history.append("".join(tokens))
    return history


def build_chain(history: list[str], interval: int) -> list[StoredVersion]:
    """Stored rows as the repository keeps them: full text on keyframes and the head."""
    chain = []
    for number, text in enumerate(history, start=1):
        keep_full = is_keyframe(number, interval) or number == len(history)
        chain.append(
            StoredVersion(
                number=number,
                sha256=sha256_text(text),
                patch=None if number == 1 else make_patch(history[number - 2], text),
                full_text=text if keep_full else None,
            )
        )
    return chain


def chain_for(chain: list[StoredVersion], number: int, interval: int) -> list[StoredVersion]:
    """From the nearest keyframe at or before ``number`` up to ``number``."""
    start = number - (number - 1) % interval
    return chain[start - 1 : number]


def test_sha256_text_is_utf8_sha256():
    assert sha256_text("") == hashlib.sha256(b"").hexdigest()
    assert sha256_text("café 学生 😀") == hashlib.sha256("café 学生 😀".encode()).hexdigest()


@pytest.mark.parametrize(
    ("interval", "keyframes"),
    [(10, [1, 11, 21, 31]), (1, list(range(1, 32))), (5, [1, 6, 11, 16, 21, 26, 31])],
)
def test_is_keyframe(interval, keyframes):
    assert [n for n in range(1, 32) if is_keyframe(n, interval)] == keyframes


def test_default_interval():
    assert DEFAULT_KEYFRAME_INTERVAL == 10


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(1, 6))
def test_every_version_reconstructs_exactly(history, interval):
    chain = build_chain(history, interval)
    for number, text in enumerate(history, start=1):
        assert reconstruct(chain_for(chain, number, interval), "P1") == text
        # The whole chain from version 1 works too (every patch applies in sequence).
        assert reconstruct(chain[:number]) == text


def test_reconstruct_policy_history():
    base = "# Attendance\n\n## Purpose\n\nStudents shall attend school every day.\n"
    history = [base]
    for n in range(2, 26):
        history.append(history[-1].replace("every day", f"every day ({n})") + f"\nAmendment {n}.\n")
    chain = build_chain(history, DEFAULT_KEYFRAME_INTERVAL)
    assert [v.number for v in chain_for(chain, 17, 10)] == list(range(11, 18))
    for number, text in enumerate(history, start=1):
        assert reconstruct(chain_for(chain, number, 10), "JD") == text


def _history_and_chain():
    history = [f"Policy text version {n}. The Board shall meet {n} times a year.\n" for n in range(1, 8)]
    return history, build_chain(history, 10)


def test_corrupted_patch_that_does_not_apply_names_the_version():
    history, chain = _history_and_chain()
    chain[3] = replace(chain[3], patch=make_patch("Entirely different base text here.", "Something else."))
    with pytest.raises(VersionIntegrityError, match=r"\bversion 4\b"):
        reconstruct(chain[:6], "JD")
    with pytest.raises(VersionIntegrityError, match=r"^Version 4 cannot be rebuilt"):
        reconstruct(chain[:6])
    # Versions before the damage still reconstruct.
    assert reconstruct(chain[:3]) == history[2]


def test_corrupted_patch_that_applies_to_wrong_text_names_the_version():
    _, chain = _history_and_chain()
    damaged = chain[4].patch.replace("+5", "+9")
    assert damaged != chain[4].patch
    chain[4] = replace(chain[4], patch=damaged)
    with pytest.raises(VersionIntegrityError, match=r"Policy JD version 5 is damaged"):
        reconstruct(chain[:7], "JD")


def test_invalid_patch_text_names_the_version():
    _, chain = _history_and_chain()
    chain[2] = replace(chain[2], patch="@@ not a patch")
    with pytest.raises(VersionIntegrityError, match=r"\bversion 3\b"):
        reconstruct(chain[:4], "JD")


def test_missing_patch_names_the_version():
    _, chain = _history_and_chain()
    chain[2] = replace(chain[2], patch=None)
    with pytest.raises(VersionIntegrityError, match=r"\bversion 3 has no stored patch"):
        reconstruct(chain[:4], "JD")


@pytest.mark.parametrize("damaged", [1, 2, 6])
def test_corrupted_sha_names_the_version(damaged):
    _, chain = _history_and_chain()
    chain[damaged - 1] = replace(chain[damaged - 1], sha256=sha256_text("tampered"))
    with pytest.raises(VersionIntegrityError) as caught:
        reconstruct(chain[:7], "JD")
    assert re.search(rf"\bversion {damaged} is damaged\b", caught.value.message)
    assert sha256_text("tampered")[:12] in caught.value.message


def test_corrupted_keyframe_text_is_detected():
    _, chain = _history_and_chain()
    chain[0] = replace(chain[0], full_text=chain[0].full_text + " ")
    with pytest.raises(VersionIntegrityError, match=r"\bversion 1 is damaged"):
        reconstruct(chain[:3], "JD")


def test_chain_without_full_text_start_is_refused():
    _, chain = _history_and_chain()
    with pytest.raises(VersionIntegrityError, match="no stored full text"):
        reconstruct(chain[1:4], "JD")
    with pytest.raises(VersionIntegrityError):
        reconstruct([], "JD")


@settings(max_examples=100, deadline=None)
@given(histories(), st.data())
def test_any_sha_corruption_is_reported_at_that_version(history, data):
    chain = build_chain(history, interval=100)
    damaged = data.draw(st.integers(1, len(history)), label="damaged")
    chain[damaged - 1] = replace(chain[damaged - 1], sha256="0" * 64)
    with pytest.raises(VersionIntegrityError, match=rf"(?i)\bversion {damaged}\b"):
        reconstruct(chain)
    if damaged > 1:
        assert reconstruct(chain[: damaged - 1]) == history[damaged - 2]
