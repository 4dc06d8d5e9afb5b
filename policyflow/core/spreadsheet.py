"""Cells of the CSV files people open in a spreadsheet: text that would start a formula stays text.

A spreadsheet runs a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or carriage
return) as a formula, which can fetch URLs or run commands (CSV injection). Every CSV export passes its
text cells through :func:`text_cell`, the one place this rule lives.
"""

from __future__ import annotations

FORMULA_STARTS = frozenset("=+-@\t\r")


def text_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it and never runs it: a leading apostrophe before a formula start."""
    return "'" + value if value and value[0] in FORMULA_STARTS else value
