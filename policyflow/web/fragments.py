"""Rendered page sections kept per process, with the per-request parts filled in after rendering.

A section is cached under a key that names everything it was rendered from (rows, their change stamps, the
reader's class, the query's filters); the permission checks run in the services before the key is built, on
every request. What differs per session (the CSRF token) or per request (the form's way back) is never in
the cached HTML: the section is rendered with slots that ``fill`` replaces on every request.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable

from flask import Flask, current_app, request
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

from policyflow.core.lru import LRUCache

# Unguessable per process, so text a user wrote can never be taken for a slot.
_NONCE = secrets.token_hex(8)
CSRF_SLOT = f"csrf-slot-{_NONCE}"
BACK_SLOT = f"back-slot-{_NONCE}"
SECTIONS = 256  # a 200-note section is ~350 KB: ~90 MB per worker if all were that big (RENDERED_SECTIONS overrides)


def init_app(app: Flask) -> None:
    app.extensions["policyflow.sections"] = LRUCache[str](app.config.get("RENDERED_SECTIONS", SECTIONS))


def cached_section(key: Hashable | None, render: Callable[[], str]) -> str:
    """The section for ``key`` (rendering it with ``render`` when this process has not yet; every time when the
    key is None), slots filled: HTML rendered by a template (escaped there), for ``|safe``."""
    sections: LRUCache[str] = current_app.extensions["policyflow.sections"]
    html = render() if key is None else sections.get_or_make(key, render)  # one cache per app, so per database
    if CSRF_SLOT in html:  # only then: a token puts a session cookie on a reader who has no form to send
        html = html.replace(CSRF_SLOT, generate_csrf())
    return html.replace(BACK_SLOT, str(escape(request.full_path.rstrip("?"))))
