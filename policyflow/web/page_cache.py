"""Whole pages kept per server process and served again, to the same session, while the database is unchanged.

A page is a function of the database, the session (who is signed in, and how), the address, the district's
definition files and the date. The cache key holds all of them, the database as its change stamp
(``policyflow.change_stamp``: any commit by anyone changes it). So a page served from the cache is the page the
view would render, the permission checks included: the view ran them, for this session, on this very state
of the database. Only the CSRF token differs per request (it is signed afresh); it is filled in on the way out.

Nothing is cached (the view just runs) for a request that is not a plain GET with only the query parameters the
page declares, a session carrying flashed messages or a remember-me cookie, a session seen from another browser
than the one it was signed in from (Flask-Login's session protection has work to do), a page that changed the
session, answered anything but a plain 200 page, or was rendered while the database changed under it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, session
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response

from policyflow import change_stamp
from policyflow.core.lru import LRUCache
from policyflow.core.workflow import folder_stamp
from policyflow.web import request_log

View = TypeVar("View", bound=Callable[..., Any])
_EXTENSION = "policyflow.page_cache"
_CSRF_KEY = "csrf_token"  # Flask-WTF's session key (WTF_CSRF_FIELD_NAME): per session, filled in per request


@dataclass(frozen=True)
class CachedPage:
    body: bytes  # UTF-8, as rendered
    token: bytes | None  # the CSRF token in it: another session's requests get their own in its place
    csrf_secret: str | None  # the session secret the token was signed from: the same browser gets the body as is
    staff_user_id: int | None  # what the request log names (web.request_log)

    @property
    def size(self) -> int:
        return len(self.body) + 200


@dataclass
class PageCache:
    pages: LRUCache[CachedPage]
    stamp: change_stamp.ChangeStamp


def init_app(app: Flask) -> None:
    megabytes = app.config.get("PAGE_CACHE_MB", app.config["POLICYFLOW_SETTINGS"].page_cache_mb)
    stamp = change_stamp.for_bind(app.config["SESSION_FACTORY"].kw.get("bind"))
    if megabytes and stamp is not None:
        app.extensions[_EXTENSION] = PageCache(LRUCache(megabytes * 2**20, weigh=lambda page: page.size), stamp)


def cached_page(*, query: tuple[str, ...] = ()) -> Callable[[View], View]:
    """Serve the view's page from the cache when this session saw it on the same database; ``query``: the
    parameters the page reads (any other keeps the request out of the cache)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def serve(*args: Any, **kwargs: Any) -> Any:
            cache: PageCache | None = current_app.extensions.get(_EXTENSION)
            key = _request_key(query) if cache is not None else None
            before = cache.stamp() if cache is not None and key is not None else None
            if cache is None or key is None or before is None:
                return view(*args, **kwargs)
            page = cache.pages.get((before, key))
            if page is not None:
                return _response(page)
            result = view(*args, **kwargs)
            if isinstance(result, str) and _request_key(query) == key and cache.stamp() == before:
                cache.pages.put((before, key), _kept(result))
            return result

        return serve  # type: ignore[return-value]

    return decorate


def _request_key(query: tuple[str, ...]) -> Hashable | None:
    """Everything besides the database that the page is rendered from; None when it must not be cached."""
    app, asked, held = current_app._get_current_object(), request._get_current_object(), session._get_current_object()  # type: ignore[attr-defined]
    if asked.method != "GET" or any(name not in query for name in asked.args):
        return None
    if "_flashes" in held or "_remember" in held or app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in asked.cookies:
        return None
    if "_user_id" in held and held.get("_id") != app.login_manager._session_identifier_generator():  # type: ignore[attr-defined]
        return None  # a session from another browser: Flask-Login marks it (basic protection) when the view runs
    try:
        signed_in = frozenset((name, value) for name, value in held.items() if name != _CSRF_KEY)
    except TypeError:
        return None
    return (asked.endpoint, asked.host_url, asked.root_path, asked.path, tuple(asked.args.items(multi=True)), signed_in,
            date.today(), app.config["CLOCK"]().date(), folder_stamp(app.config["POLICYFLOW_SETTINGS"].workflows_dir))


def _kept(html: str) -> CachedPage:
    token = g.get(_CSRF_KEY)
    return CachedPage(html.encode("utf-8"), token.encode("ascii") if token else None, session.get(_CSRF_KEY),
                      request_log.staff_user_id())


def _response(page: CachedPage) -> Response:
    body = page.body
    if page.token is not None and session.get(_CSRF_KEY) != page.csrf_secret:
        body = body.replace(page.token, generate_csrf().encode("ascii"))
    g.staff_user_id = page.staff_user_id
    g.page_cache_hit = True
    return current_app.response_class(body, mimetype="text/html")
