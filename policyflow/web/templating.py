"""Jinja filters and globals the templates share."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, request, url_for

from policyflow.core.rendering import render_markdown
from policyflow.web.requests import actor

UNREAD_BADGE_LIMIT = 99  # the badge then says "99+"


def _datetime(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y, %H:%M UTC") if value else ""


def _date(value: date | datetime | None) -> str:
    return value.strftime("%-d %B %Y") if value else ""


def _page_url(page: int) -> str:
    args = request.args.to_dict()
    args["page"] = str(page)
    return url_for(request.endpoint or "pages.home", **(request.view_args or {}), **args)


@lru_cache(maxsize=4096)
def _note_html(body: str) -> str:
    """A note or reply body as sanitized HTML; the same body renders the same, so each is rendered once."""
    return render_markdown(body)


def register_filters(app: Flask) -> None:
    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["date"] = _date
    app.jinja_env.globals["page_url"] = _page_url
    app.jinja_env.globals["render_note"] = _note_html  # sanitized, like policy text
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals() -> dict[str, Any]:
        current = actor()
        unread = 0
        if current.user is not None:
            from policyflow.services.notifications import unread_count
            from policyflow.web.requests import db

            unread = unread_count(db(), current.user, at_most=UNREAD_BADGE_LIMIT + 1)
        return {"actor": current, "today": date.today(), "unread_notifications": unread,
                "unread_badge_limit": UNREAD_BADGE_LIMIT}
