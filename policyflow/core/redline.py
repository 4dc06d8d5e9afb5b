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


def side_by_side_rows(ops: list[Op]) -> list[SideBySideRow]:
    """Rows of the old and new text aligned on unchanged lines, words marked within each line."""
    rows: list[SideBySideRow] = []
    old_line: list[str] = []
    new_line: list[str] = []
    pending_ids: list[str] = []
    changed = False
    old_number = new_number = 0
    number = 0
    previous = EQUAL

    def emit(has_old: bool, has_new: bool) -> None:
        nonlocal old_line, new_line, changed, pending_ids, old_number, new_number
        if has_old:
            old_number += 1
        if has_new:
            new_number += 1
        rows.append(
            SideBySideRow(
                old_html="".join(old_line),
                new_html="".join(new_line),
                old_number=old_number if has_old else None,
                new_number=new_number if has_new else None,
                changed=changed,
                change_ids=pending_ids,
            )
        )
        old_line, new_line, pending_ids, changed = [], [], [], False

    old_open = new_open = False  # whether the current row has content on that side
    for op, text in ops:
        if op != EQUAL and previous == EQUAL:
            number += 1
            pending_ids.append(f"change-{number}")
        previous = op
        for piece in text.splitlines(keepends=True):
            ends_line = piece.endswith("\n")
            body = piece[:-1] if ends_line else piece
            if op == EQUAL:
                if body:
                    old_line.append(escape(body, quote=False))
                    new_line.append(escape(body, quote=False))
                old_open = new_open = True
                if ends_line:
                    emit(True, True)
                    old_open = new_open = False
            else:
                target = old_line if op == DELETE else new_line
                tag = "del" if op == DELETE else "ins"
                if body:
                    target.append(f'<{tag} class="rl-{tag}">{escape(body, quote=False)}</{tag}>')
                changed = True
                if op == DELETE:
                    old_open = True
                else:
                    new_open = True
                if ends_line:
                    # A changed line break ends the row on that side only; flush if the other
                    # side has nothing pending in this row.
                    if op == DELETE and not new_line and not new_open:
                        emit(True, False)
                        old_open = False
                    elif op == INSERT and not old_line and not old_open:
                        emit(False, True)
                        new_open = False
                    else:
                        emit(old_open, new_open)
                        old_open = new_open = False
    if old_line or new_line or old_open or new_open:
        emit(old_open or bool(old_line), new_open or bool(new_line))
    return rows
