"""Policy Markdown to safe HTML.

Python-Markdown passes raw HTML through, so its output is always sanitized with nh3 against an
allowlist. Heading ids get a ``sec-`` prefix so they never collide with the page's own ids, and headings
move one level down so the page's own title stays the only ``<h1>``.
Rendered HTML of a version is immutable; callers cache it together with ``RENDERER_VERSION``
and re-render when the renderer changes.
"""

from __future__ import annotations

import re

import markdown
import nh3

RENDERER_VERSION = "md-2"

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "ins", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align", "scope"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
}


def _slugify(value: str, separator: str) -> str:
    from markdown.extensions.toc import slugify_unicode

    return "sec-" + slugify_unicode(value, separator)


def render_markdown(text: str) -> str:
    """Sanitized HTML of policy Markdown (tables, lists, heading anchors)."""
    html = markdown.markdown(
        text,
        extensions=["tables", "sane_lists", "toc"],
        extension_configs={"toc": {"slugify": _slugify, "toc_depth": "2-4"}, "tables": {"use_align_attribute": True}},
        output_format="html",
    )
    return _fit_into_page(sanitize_html(html))


_HEADING_TAG = re.compile(r"<(/?)h([1-5])\b")
_TABLE_OPEN = re.compile(r"<table>")


def _fit_into_page(html: str) -> str:
    """Place policy text under the page's own ``<h1>`` and make wide tables scroll on phones.

    Runs on sanitized HTML and only adds fixed markup, so it cannot reopen what nh3 closed.
    """
    html = _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}", html)
    counter = iter(range(1, 10_000))
    html = _TABLE_OPEN.sub(
        lambda _m: f'<div class="table-scroll" role="region" tabindex="0" aria-label="Table {next(counter)}"><table>',
        html,
    )
    return html.replace("</table>", "</table></div>")


def sanitize_html(html: str) -> str:
    """Allowlist sanitizing: no scripts, no event handlers, no ``javascript:`` URLs."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def plain_excerpt(text: str, limit: int = 200) -> str:
    """First paragraph-ish words of Markdown text, for lists and search results."""
    lines = [line.strip("#*-> ").strip() for line in text.splitlines()]
    words = " ".join(line for line in lines if line).split()
    excerpt = " ".join(words)
    return excerpt if len(excerpt) <= limit else excerpt[: limit - 1].rsplit(" ", 1)[0] + "…"
