"""Finds markup in a response that could run script: what an injected payload would leave behind.

The pages are parsed (``html.parser``, as browsers tokenize) and every element is held against what our
own templates produce: our scripts come from /static/ with no inline code, no element carries an event
handler or an inline style (the CSP forbids both), no URL attribute uses a script-capable scheme, and no
element is of a kind our templates and the Markdown sanitizer never emit.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

# Elements our templates, the Markdown sanitizer (policyflow.core.rendering), highlights and the workflow
# diagram's SVG produce; anything else in a page was injected.
OUR_TAGS = frozenset({
    "a", "abbr", "article", "aside", "b", "blockquote", "body", "br", "button", "caption", "code", "datalist",
    "dd", "del", "details", "div", "dl", "dt", "em", "fieldset", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "head", "header", "hr", "html", "i", "input", "ins", "label", "legend", "li", "link", "main", "mark",
    "meta", "nav", "ol", "option", "p", "pre", "q", "s", "script", "section", "select", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "textarea", "tfoot", "th", "thead", "title", "tr", "ul",
    "svg", "defs", "g", "line", "marker", "path", "rect", "text", "polygon", "circle", "ellipse", "polyline",
})
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                            "srcdoc", "cite", "ping"})
_SCRIPT_SCHEME = re.compile(r"^(javascript|vbscript|data|livescript):", re.IGNORECASE)
_REMOVED_FROM_URL = re.compile(r"[\t\n\r]")  # the URL standard drops these anywhere in a URL
_OUR_FORMACTION = re.compile(r"^/annotations/\d+/status$")  # a note card's Resolve/Reopen button: nothing else has one


def script_url(value: str) -> bool:
    """True when a browser would run the URL: it trims control characters and spaces at the ends and drops
    tabs and newlines everywhere before reading the scheme."""
    return bool(_SCRIPT_SCHEME.match(_REMOVED_FROM_URL.sub("", value).strip("\x00\x01\x02\x03\x04\x05\x06\x07"
                                                                            "\x08\x0b\x0c\x0e\x0f\x10\x11\x12"
                                                                            "\x13\x14\x15\x16\x17\x18\x19\x1a"
                                                                            "\x1b\x1c\x1d\x1e\x1f ")))


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values: dict[str, Any] = {name: value or "" for name, value in attrs}
        if tag not in OUR_TAGS:
            self.problems.append(f"unexpected <{tag}>")
        if tag == "script":
            self._in_script = True
            if not values.get("src", "").startswith("/static/"):
                self.problems.append(f"<script> not from /static/: {values}")
        if tag == "link" and not values.get("href", "").startswith("/static/"):
            self.problems.append(f"<link> to {values.get('href')!r}")
        if tag == "meta" and "http-equiv" in values:
            self.problems.append("<meta http-equiv>")
        if tag == "form" and values.get("action", "").startswith(("//", "http:", "https:")):
            self.problems.append(f"<form action={values['action']!r}>")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            elif name == "style":
                self.problems.append(f"<{tag} style={value!r}>")
            elif name in URL_ATTRIBUTES and script_url(value):
                self.problems.append(f"<{tag} {name}={value!r}>")
            elif name == "formaction" and not (tag == "button" and _OUR_FORMACTION.match(value)):
                self.problems.append(f"<{tag} {name}>")
            elif name in {"autofocus", "srcdoc"}:
                self.problems.append(f"<{tag} {name}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._in_script = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script {data.strip()[:60]!r}")


def live_markup(page: str) -> list[str]:
    """Everything in the HTML page that could run script or was not made by our templates."""
    scanner = _Scanner()
    scanner.feed(page)
    scanner.close()
    return scanner.problems


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_cells(rows: list[list[str]]) -> list[str]:
    """CSV cells a spreadsheet would evaluate as a formula."""
    return [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
