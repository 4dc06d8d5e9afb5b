"""The pinned diff functions: word-level ops, patches, and redlines.

``diff`` never degrades under a time-out and never splits a word; ``make_patch`` builds the
diff-match-patch patch from those ops instead of diffing again; ``apply_patch`` is strict.
"""

from __future__ import annotations

from policyflow.core import patches
from policyflow.core.errors import PatchError
from policyflow.core.redline import ChangeStats, change_stats, inline_html, side_by_side_rows
from policyflow.core.worddiff import DELETE, EQUAL, INSERT, Op, word_diff

__all__ = [
    "DELETE",
    "EQUAL",
    "INSERT",
    "ChangeStats",
    "PatchError",
    "apply_patch",
    "change_stats",
    "diff",
    "make_patch",
    "patch_from_ops",
    "redline_html",
    "side_by_side_rows",
]


def diff(old: str, new: str) -> list[tuple[int, str]]:
    """diff-match-patch ops (-1 delete, 0 equal, 1 insert) at word granularity."""
    if old == new:
        return [(EQUAL, old)] if old else []
    return word_diff(old, new)


def patch_from_ops(ops: list[Op]) -> str:
    """Patch text from ops already computed (saves a second diff when both are needed)."""
    return patches.patch_from_ops(ops)


def make_patch(old: str, new: str) -> str:
    """diff-match-patch patch text that turns ``old`` into ``new``."""
    return patches.patch_from_ops(diff(old, new))


def apply_patch(base: str, patch: str) -> str:
    """Apply a patch; raise :class:`PatchError` unless every hunk applies."""
    return patches.apply(base, patch)


def redline_html(old: str, new: str) -> str:
    """Escaped HTML of the new text with ``<ins>`` insertions and ``<del>`` deletions inline."""
    return inline_html(diff(old, new))
