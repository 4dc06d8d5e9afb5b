"""Redlines: word-level ops turned into escaped HTML, inline and side by side.

Every change carries an id (``change-1``, ``change-2``, ...) so pages can offer "previous/next
change" links, and the markup states in words what was inserted and deleted for screen readers
and print (colour alone would not say it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from policyflow.core.worddiff import DELETE, EQUAL, INSERT, Op, tokenize


@dataclass(frozen=True)
class ChangeStats:
    words_inserted: int
    words_deleted: int
    changes: int
    chars_inserted: int
    chars_deleted: int

    def as_dict(self) -> dict[str, int]:
        return {
            "words_inserted": self.words_inserted,
            "words_deleted": self.words_deleted,
            "changes": self.changes,
            "chars_inserted": self.chars_inserted,
            "chars_deleted": self.chars_deleted,
        }


def _count_words(text: str) -> int:
    return sum(1 for token in tokenize(text) if token[0].isalnum() or token[0] == "_")


def change_stats(ops: list[Op]) -> ChangeStats:
    """Word and character counts of what the ops insert and delete, and how many change runs."""
    words_in = words_out = chars_in = chars_out = changes = 0
    previous = EQUAL
    for op, text in ops:
        if op == INSERT:
            words_in += _count_words(text)
            chars_in += len(text)
        elif op == DELETE:
            words_out += _count_words(text)
            chars_out += len(text)
        if op != EQUAL and previous == EQUAL:
            changes += 1
        previous = op
    return ChangeStats(words_in, words_out, changes, chars_in, chars_out)


def _mark(tag: str, text: str, change_id: str | None) -> str:
    id_attr = f' id="{change_id}"' if change_id else ""
    return f'<{tag}{id_attr} class="rl-{tag}">{_escape_block(text)}</{tag}>'


def _escape_block(text: str) -> str:
    # A changed line break is made visible; otherwise an inserted blank line would be invisible.
    return escape(text, quote=False).replace("\n", '<span class="rl-nl" aria-hidden="true">¶</span>\n')


def inline_html(ops: list[Op]) -> str:
    """The new text running inline, deletions struck through and insertions underlined."""
    parts: list[str] = []
    number = 0
    previous = EQUAL
    for op, text in ops:
        change_id = None
        if op != EQUAL and previous == EQUAL:
            number += 1
            change_id = f"change-{number}"
        if op == EQUAL:
            parts.append(escape(text, quote=False))
        elif op == DELETE:
            parts.append(_mark("del", text, change_id))
        else:
            parts.append(_mark("ins", text, change_id))
        previous = op
    return "".join(parts)


@dataclass
class SideBySideRow:
    """One line pair: old on the left, new on the right; ``changed`` when either side differs."""

    old_html: str = ""
    new_html: str = ""
    old_number: int | None = None
    new_number: int | None = None
    changed: bool = False
    change_ids: list[str] = field(default_factory=list)


@dataclass
class _Line:
    """One side's line being collected: its marked-up pieces, whether it changed, ids starting in it."""

    parts: list[str] = field(default_factory=list)
    changed: bool = False
    ids: list[str] = field(default_factory=list)


def side_by_side_rows(ops: list[Op]) -> list[SideBySideRow]:
    """Rows of the old and new text aligned on unchanged lines, words marked within each line.

    Each side's rows are exactly that text's lines, also where an edit joins or splits lines:
    between two points where both texts are at a line start, the old lines and the new lines
    completed there are paired in order (an unchanged line is always paired with itself).
    """
    rows: list[SideBySideRow] = []
    done_old: list[_Line] = []  # lines completed since both sides were last at a line start
    done_new: list[_Line] = []
    line_old: _Line | None = None  # line in progress on each side
    line_new: _Line | None = None
    old_number = new_number = 0
    number = 0
    previous = EQUAL

    def flush() -> None:
        nonlocal old_number, new_number
        for index in range(max(len(done_old), len(done_new))):
            old = done_old[index] if index < len(done_old) else None
            new = done_new[index] if index < len(done_new) else None
            if old is not None:
                old_number += 1
            if new is not None:
                new_number += 1
            ids = (old.ids if old else []) + (new.ids if new else [])
            rows.append(
                SideBySideRow(
                    old_html="".join(old.parts) if old else "",
                    new_html="".join(new.parts) if new else "",
                    old_number=old_number if old else None,
                    new_number=new_number if new else None,
                    changed=old is None or new is None or old.changed or new.changed,
                    change_ids=sorted(ids, key=lambda change_id: int(change_id.rsplit("-", 1)[1])),
                )
            )
        done_old.clear()
        done_new.clear()

    for op, text in ops:
        change_id = None
        if op != EQUAL and previous == EQUAL:
            number += 1
            change_id = f"change-{number}"
        previous = op
        for piece in text.splitlines(keepends=True):
            ends_line = piece.endswith("\n")
            body = piece[:-1] if ends_line else piece
            if op == EQUAL:
                if line_old is None and line_new is None:
                    flush()  # both sides at a line start: the changed lines so far are paired
                # Equal text that starts a line on one side only: the line breaks differ there.
                misaligned = (line_old is None) != (line_new is None)
                line_old = line_old or _Line()
                line_new = line_new or _Line()
                if misaligned:
                    line_old.changed = line_new.changed = True
                if body:
                    line_old.parts.append(escape(body, quote=False))
                    line_new.parts.append(escape(body, quote=False))
                if ends_line:
                    done_old.append(line_old)
                    done_new.append(line_new)
                    line_old = line_new = None
                continue
            line = (line_old if op == DELETE else line_new) or _Line()
            tag = "del" if op == DELETE else "ins"
            if body:
                line.parts.append(f'<{tag} class="rl-{tag}">{escape(body, quote=False)}</{tag}>')
            line.changed = True
            if change_id:
                line.ids.append(change_id)
                change_id = None
            if op == DELETE:
                line_old = None if ends_line else line
                if ends_line:
                    done_old.append(line)
            else:
                line_new = None if ends_line else line
                if ends_line:
                    done_new.append(line)
    if line_old is not None:
        done_old.append(line_old)
    if line_new is not None:
        done_new.append(line_new)
    flush()
    return rows


@dataclass(frozen=True)
class FoldedLines:
    """A run of unchanged rows left out of a side-by-side view."""

    count: int
    first_old: int | None
    first_new: int | None


def fold_unchanged(rows: list[SideBySideRow], context: int = 3) -> list[SideBySideRow | FoldedLines]:
    """Keep ``context`` unchanged rows around each change and fold longer unchanged runs.

    A long policy with a few edits then reads as the edits in their surroundings; a fold never
    hides fewer than two rows (showing them costs no more room than the fold itself).
    """
    near_change = [False] * len(rows)
    for index, row in enumerate(rows):
        if row.changed:
            for nearby in range(max(0, index - context), min(len(rows), index + context + 1)):
                near_change[nearby] = True
    result: list[SideBySideRow | FoldedLines] = []
    run: list[SideBySideRow] = []

    def close_run() -> None:
        if len(run) >= 2:
            result.append(FoldedLines(len(run), run[0].old_number, run[0].new_number))
        else:
            result.extend(run)
        run.clear()

    for row, keep in zip(rows, near_change, strict=True):
        if keep:
            close_run()
            result.append(row)
        else:
            run.append(row)
    close_run()
    return result
