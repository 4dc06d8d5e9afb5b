"""Hypothesis strategies shared by the core tests: texts built from policy-ish pieces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=200, deadline=None)


@dataclass(frozen=True)
class TextStrategies:
    piece: st.SearchStrategy[str]
    token_lists: st.SearchStrategy[list[str]]
    texts: st.SearchStrategy[str]
    edited_pairs: st.SearchStrategy[tuple[str, str]]
    text_pairs: st.SearchStrategy[tuple[str, str]]


def edit_tokens(draw: st.DrawFn, tokens: list[str], piece: st.SearchStrategy[str], edits: int) -> list[str]:
    """A copy of ``tokens`` with up to ``edits`` insertions, deletions and replacements."""
    new = list(tokens)
    for _ in range(draw(st.integers(0, edits))):
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        if kind == "insert" or not new:
            new.insert(draw(st.integers(0, len(new))), draw(piece))
        elif kind == "delete":
            del new[draw(st.integers(0, len(new) - 1))]
        else:
            new[draw(st.integers(0, len(new) - 1))] = draw(piece)
    return new


def text_strategies(pieces: Sequence[str], excluded_categories: tuple[str, ...] = ("Cs",),
                    max_tokens: int = 50) -> TextStrategies:
    """Texts of the given pieces mixed with arbitrary short text, and edited pairs of them."""
    piece = st.one_of(
        st.sampled_from(list(pieces)),
        st.text(st.characters(exclude_categories=excluded_categories), min_size=1, max_size=3),
    )
    token_lists = st.lists(piece, max_size=max_tokens)

    @st.composite
    def edited(draw: st.DrawFn) -> tuple[str, str]:
        tokens = draw(token_lists)
        return "".join(tokens), "".join(edit_tokens(draw, tokens, piece, 6))

    texts = token_lists.map("".join)
    pairs = edited()
    return TextStrategies(piece, token_lists, texts, pairs, st.one_of(pairs, st.tuples(texts, texts)))
