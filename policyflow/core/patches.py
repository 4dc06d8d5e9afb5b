"""Patches in diff-match-patch's text format, made from word-level ops and applied strictly.

diff-match-patch's own ``patch_make`` rebuilds the whole text once per edit (O(n * edits)) and
its ``patch_apply`` is fuzzy by design. A version store needs the opposite: linear time and an
exact result or an error. Patches made here are ordinary diff-match-patch patches (any port can
read them); applying first tries each hunk at its recorded place and only falls back to
diff-match-patch's fuzzy matcher for patches from elsewhere, still demanding that every hunk apply.
"""

from __future__ import annotations

from diff_match_patch import diff_match_patch, patch_obj

from policyflow.core.errors import PatchError

DELETE, EQUAL, INSERT = -1, 0, 1
Op = tuple[int, str]

MARGIN = 4  # context characters around each hunk, as diff-match-patch's Patch_Margin


def patch_from_ops(ops: list[Op]) -> str:
    """Patch text turning the ops' old text into their new text (rolling coordinates, as dmp)."""
    patches: list[patch_obj] = []
    current: patch_obj | None = None
    # Coordinates in the "rolling" text: the old text with all earlier hunks already applied.
    rolling = 0
    pending_context = ""
    for index, (op, text) in enumerate(ops):
        if op == EQUAL:
            is_last = index == len(ops) - 1
            if current is not None:
                if len(text) <= 2 * MARGIN and not is_last:
                    _add(current, EQUAL, text)
                else:
                    after = text[:MARGIN]
                    if after:
                        _add(current, EQUAL, after)
                    patches.append(current)
                    current = None
            pending_context = text[-MARGIN:]
            rolling += len(text)
            continue
        if current is None:
            current = patch_obj()
            current.start1 = current.start2 = rolling - len(pending_context)
            if pending_context:
                _add(current, EQUAL, pending_context)
        _add(current, op, text)
        if op == INSERT:
            rolling += len(text)
    if current is not None:
        patches.append(current)
    return diff_match_patch().patch_toText(patches)


def _add(patch: patch_obj, op: int, text: str) -> None:
    if patch.diffs and patch.diffs[-1][0] == op:
        patch.diffs[-1] = (op, patch.diffs[-1][1] + text)
    else:
        patch.diffs.append((op, text))
    if op != INSERT:
        patch.length1 += len(text)
    if op != DELETE:
        patch.length2 += len(text)


def apply(base: str, patch_text: str) -> str:
    """Apply ``patch_text`` to ``base``; raise :class:`PatchError` unless every hunk applies."""
    engine = diff_match_patch()
    try:
        patches = engine.patch_fromText(patch_text)
    except ValueError as error:
        raise PatchError(f"The patch is not valid diff-match-patch text: {error}") from None
    result = _apply_in_place(base, patches)
    if result is not None:
        return result
    engine.Match_Threshold = 0.3
    patched, applied = engine.patch_apply(patches, base)
    if not all(applied):
        failed = [str(index + 1) for index, ok in enumerate(applied) if not ok]
        raise PatchError(f"Hunk(s) {', '.join(failed)} of {len(applied)} do not apply to the base text.")
    return patched


def _apply_in_place(base: str, patches: list[patch_obj]) -> str | None:
    """Exact application at the recorded coordinates, or None if any hunk does not match there."""
    pieces: list[str] = []
    cursor = 0  # position in base
    delta = 0  # (new length - old length) of the hunks applied so far
    for patch in patches:
        expected_old = "".join(text for op, text in patch.diffs if op != INSERT)
        start = patch.start2 - delta
        if start < cursor or base[start : start + len(expected_old)] != expected_old:
            return None
        pieces.append(base[cursor:start])
        pieces.append("".join(text for op, text in patch.diffs if op != DELETE))
        cursor = start + len(expected_old)
        delta += patch.length2 - patch.length1
    pieces.append(base[cursor:])
    return "".join(pieces)
