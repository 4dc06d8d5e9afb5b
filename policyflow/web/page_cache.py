"""Whole pages kept per server process and served again, to the same session, while the database is unchanged.

A page is a function of the database, the session (who is signed in, and how), the request (address, query,
the browser's address and user agent, which Flask-Login's session protection reads), the district's definition
files and the date. The cache key holds all of them, the database as its change stamp
(``policyflow.change_stamp``: any commit by anyone changes it). So a page served from the cache is the page the
view would render, the permission checks included: the view ran them, for this session, on this very state of
the database. Only the CSRF token may differ: another session's is signed in its place.

A page is kept only when its view (marked with ``cached_page``) answered a plain 200 page to a GET with only the
query parameters it declares, left the session as it was, and the stamp read the same before and after. A
session carrying flashed messages or a remember-me cookie is never served from the cache.

Hits are answered before Flask sees the request (``PageHits``, a WSGI layer inside ProxyFix): the session cookie
is checked with Flask's own serializer, the stamp is read, and the page goes out with the headers the app gave
it (security headers included) and a line in the request log. Anything unusual (no entry, a cookie that does
not verify, a session without a CSRF secret for a page with a form) goes on to Flask, which renders the page.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.http import parse_cookie
from werkzeug.wrappers import Response

from policyflow import change_stamp
from policyflow.core.lru import LRUCache
from policyflow.core.workflow import folder_stamp
from policyflow.web import request_log

View = TypeVar("View", bound=Callable[..., Any])
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_EXTENSION = "policyflow.page_cache"
_KEEP = "policyflow.page_cache.keep"  # in the WSGI environ: the view's path asks PageHits to keep the response
_CSRF_KEY = "csrf_token"  # Flask-WTF's session key and ``g`` name (WTF_CSRF_FIELD_NAME)
_UNCACHEABLE_SESSION = ("_flashes", "_remember", "_permanent")  # messages to show once; cookies to (re)set
_PER_REQUEST_HEADERS = frozenset({"content-length", "set-cookie", "x-request-id", "date", "server"})
_PATHS = 10_000
# Longer request parts keep a request out of the cache: a flood of made-up hosts, queries or user agents can
# neither grow the keys beyond the cache's bound nor push everyone's pages out with its own.
_LONGEST = {"HTTP_HOST": 255, "QUERY_STRING": 512, "HTTP_USER_AGENT": 512, "HTTP_X_FORWARDED_FOR": 255}


@dataclass(frozen=True)
class CachedPage:
    stamp: object  # the database's change stamp it was rendered at
    body: bytes  # UTF-8, as rendered
    headers: tuple[tuple[str, str], ...]  # as the app answered, less what is per request
    token: bytes | None  # the CSRF token in the body: another session's requests get their own in its place
    csrf_secret: str | None  # the session secret the token was signed from: the same browser gets the body as is
    route: str  # for the request log: the route pattern and the ids in the path
    ids: tuple[tuple[str, Any], ...]
    staff_user_id: int | None

    @property
    def size(self) -> int:
        return len(self.body) + 2000  # with the key (request parts longer than _LONGEST are never kept)


@dataclass
class PageCache:
    pages: LRUCache[CachedPage]  # by request key; one entry (the newest stamp) per key
    stamp: change_stamp.ChangeStamp
    paths: set[str] = field(default_factory=set)  # paths with a kept page: PageHits looks no further for others

    def keep(self, key: Hashable, page: CachedPage, path: str) -> None:
        if len(self.paths) >= _PATHS:
            self.paths.clear()  # bounded: a path forgotten here is answered by the view's path, and kept again
        self.paths.add(path)
        self.pages.put(key, page)


def init_app(app: Flask) -> None:
    megabytes = app.config.get("PAGE_CACHE_MB", app.config["POLICYFLOW_SETTINGS"].page_cache_mb)
    stamp = change_stamp.for_bind(app.config["SESSION_FACTORY"].kw.get("bind"))
    if not megabytes or stamp is None or type(app.session_interface) is not SecureCookieSessionInterface:
        return
    app.extensions[_EXTENSION] = PageCache(LRUCache(megabytes * 2**20, weigh=lambda page: page.size), stamp)
    app.wsgi_app = PageHits(app, app.wsgi_app)  # type: ignore[method-assign]


def cached_page(*, query: tuple[str, ...] = ()) -> Callable[[View], View]:
    """Keep the view's page for this session and database state; ``query``: the parameters the page reads (any
    other keeps the request out of the cache)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def serve(*args: Any, **kwargs: Any) -> Any:
            cache: PageCache | None = current_app.extensions.get(_EXTENSION)
            if cache is None or request.method != "GET" or any(name not in query for name in request.args):
                return view(*args, **kwargs)
            key = _request_key(current_app, request.environ, session, request.cookies)
            before = cache.stamp() if key is not None else None
            if before is None:
                return view(*args, **kwargs)
            page = cache.pages.get(key)
            if page is not None and page.stamp == before:  # PageHits passed it on (a session without a CSRF secret)
                cache.paths.add(request.environ.get("PATH_INFO", ""))
                return _hit_in_flask(page)
            result = view(*args, **kwargs)
            if (isinstance(result, str) and _request_key(current_app, request.environ, session, request.cookies) == key
                    and cache.stamp() == before):
                request.environ[_KEEP] = _Keep.of_request(key, before)  # PageHits keeps the response Flask sends
            return result

        return serve  # type: ignore[return-value]

    return decorate


def _request_key(app: Flask, environ: Mapping[str, Any], held: Mapping[str, Any], cookies: Mapping[str, str]) -> Hashable | None:
    """Everything besides the database that a page is rendered from; None when it must not be cached."""
    if any(name in held for name in _UNCACHEABLE_SESSION):
        return None
    if app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies:
        return None
    if any(len(environ.get(name) or "") > longest for name, longest in _LONGEST.items()):
        return None
    try:
        signed_in = frozenset((name, value) for name, value in held.items() if name != _CSRF_KEY)
    except TypeError:
        return None
    # Flask-Login checks a signed-in session against the browser's address and user agent; nothing else reads
    # them, so every visitor who is not signed in shares one copy of a public page. Kept as a keyed hash: the
    # cache never holds an address beside a user id.
    browser = _browser(app, environ) if "_user_id" in held else None
    return (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"), environ.get("SERVER_NAME"),
            environ.get("SERVER_PORT"), environ.get("SCRIPT_NAME"), environ.get("PATH_INFO"),
            environ.get("QUERY_STRING"), browser, signed_in, date.today(), app.config["CLOCK"]().date(),
            folder_stamp(app.config["POLICYFLOW_SETTINGS"].workflows_dir))


def _browser(app: Flask, environ: Mapping[str, Any]) -> bytes:
    seen = "|".join(environ.get(name) or "" for name in ("REMOTE_ADDR", "HTTP_X_FORWARDED_FOR", "HTTP_USER_AGENT"))
    secret = app.secret_key.encode() if isinstance(app.secret_key, str) else bytes(app.secret_key or b"")
    return hmac.new(secret, seen.encode("utf-8", "surrogateescape"), hashlib.sha256).digest()


@dataclass(frozen=True)
class _Keep:
    """What the view's path knows of a page to keep; PageHits adds the response as Flask sends it."""

    key: Hashable
    stamp: object
    token: str | None
    csrf_secret: str | None
    route: str
    ids: tuple[tuple[str, Any], ...]
    staff_user_id: int | None

    @classmethod
    def of_request(cls, key: Hashable, stamp: object) -> _Keep:
        rule, ids = request_log.route_and_ids()
        return cls(key, stamp, g.get(_CSRF_KEY), session.get(_CSRF_KEY), rule, tuple(ids.items()),
                   request_log.staff_user_id())

    def page(self, headers: list[tuple[str, str]], body: bytes) -> CachedPage:
        kept = tuple((name, value) for name, value in headers if name.lower() not in _PER_REQUEST_HEADERS)
        return CachedPage(self.stamp, body, kept, self.token.encode("ascii") if self.token else None, self.csrf_secret,
                          self.route, self.ids, self.staff_user_id)


def _hit_in_flask(page: CachedPage) -> Response:
    from flask_wtf.csrf import generate_csrf

    body = page.body
    if page.token is not None and session.get(_CSRF_KEY) != page.csrf_secret:
        body = body.replace(page.token, generate_csrf().encode("ascii"))
    g.staff_user_id = page.staff_user_id
    g.page_cache_hit = True
    return current_app.response_class(body, headers=[h for h in page.headers if h[0].lower() != "vary"])


class PageHits:
    """Answers requests for kept pages before Flask builds a request: a tenth of the work of the view's path."""

    def __init__(self, app: Flask, wsgi_app: WsgiApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.cache: PageCache = app.extensions[_EXTENSION]
        self.cookie_name = app.config["SESSION_COOKIE_NAME"]
        self.max_age = int(app.permanent_session_lifetime.total_seconds())
        self.csrf_key = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
        # Cookies already verified, with the time they were signed: the same bytes verify the same way, only their
        # age changes, so a browser's next request costs a lookup instead of an HMAC, a zlib and a JSON parse.
        self.verified = LRUCache[tuple[dict[str, Any], float]](4096)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        answer = self._hit(environ) if environ.get("REQUEST_METHOD") == "GET" else None
        if answer is None:
            return self._rendered(environ, start_response)
        page, body = answer
        request_id = uuid.uuid4().hex[:16]
        start_response("200 OK", [*page.headers, ("Content-Length", str(len(body))), ("X-Request-Id", request_id)])
        request_log.write({"event": "request", "request_id": request_id, "method": "GET", "route": page.route,
                           "ids": dict(page.ids), "status": 200,
                           "duration_ms": round((time.perf_counter() - started) * 1000, 1), "bytes": len(body),
                           **({"user_id": page.staff_user_id} if page.staff_user_id is not None else {}),
                           "page_cache": "hit"})
        return [body]

    def _rendered(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Flask's answer, kept when the view asked for it and it is a whole 200 page."""
        sent: list[Any] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        answer = self.wsgi_app(environ, start)
        keep: _Keep | None = environ.get(_KEEP)
        if keep is None or not sent or not sent[0].startswith("200 "):
            return answer
        try:
            chunks = list(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        self.cache.keep(keep.key, keep.page(sent[1], b"".join(chunks)), environ.get("PATH_INFO", ""))
        return chunks

    def _hit(self, environ: dict[str, Any]) -> tuple[CachedPage, bytes] | None:
        """The kept page and its body for this request; None for anything else, and for anything unexpected
        (Flask then answers, with its error handling, headers and log)."""
        if environ.get("PATH_INFO") not in self.cache.paths:
            return None
        try:
            return self._kept_for(environ)
        except Exception:  # noqa: BLE001 - never fail a request here that the app would answer
            return None

    def _kept_for(self, environ: dict[str, Any]) -> tuple[CachedPage, bytes] | None:
        cookies = parse_cookie(environ)
        held = self._session(cookies.get(self.cookie_name))
        if held is None:
            return None
        key = _request_key(self.app, environ, held, cookies)
        page = self.cache.pages.get(key) if key is not None else None
        if page is None:
            return None
        body = page.body
        secret = held.get(_CSRF_KEY)
        if page.token is not None and secret != page.csrf_secret:
            if not isinstance(secret, str):
                return None  # Flask makes the session its CSRF secret (and sets the cookie)
            token = URLSafeTimedSerializer(self.csrf_key, salt="wtf-csrf-token").dumps(secret)
            body = body.replace(page.token, token.encode("ascii"))  # as Flask-WTF's generate_csrf signs it
        if self.cache.stamp() != page.stamp:
            return None
        return page, body

    def _session(self, cookie: str | None) -> dict[str, Any] | None:
        """The session as Flask would open it (an empty one without a cookie); None when the cookie does not verify
        or is older than the session lifetime (Flask would start an empty session: let it)."""
        if not cookie:
            return {}
        known = self.verified.get(cookie)
        if known is None:
            serializer = self.app.session_interface.get_signing_serializer(self.app)  # type: ignore[attr-defined]
            try:
                held, signed = serializer.loads(cookie, max_age=self.max_age, return_timestamp=True)
            except BadSignature:
                return None
            if not isinstance(held, dict):
                return None
            known = (held, signed.timestamp())
            self.verified.put(cookie, known)
        held, signed_at = known
        return held if time.time() - signed_at <= self.max_age else None
