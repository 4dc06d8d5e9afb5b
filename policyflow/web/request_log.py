"""One structured (JSON) log line per request, with nothing personal in it.

The ombuds office promises anonymous and confidential commenters that nothing identifies them, and the
logs are part of that promise: a line carries the route's pattern (never the raw path: a comment
receipt's path is a secret link), the ids in it, the method, status, duration, the signed-in user's id
when that user is staff (accountability; never a stakeholder's, who may be commenting anonymously) and a
request id, and never a query string, a form field, a body, a header or an address.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from flask import Flask, g, request
from sqlalchemy import inspect
from werkzeug.wrappers import Response

from policyflow.services.actors import STAFF_ROLES

log = logging.getLogger("policyflow.requests")
SECRET_PATH_PARTS = frozenset({"token"})  # view arguments that are capabilities, not ids


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname.lower(),
                                "logger": record.name}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        return json.dumps(line, ensure_ascii=False, default=str)


def route_and_ids() -> tuple[str, dict[str, Any]]:
    """What a line says of the address: the route's pattern and the ids in it, never a capability."""
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    return rule, {name: value for name, value in (request.view_args or {}).items() if name not in SECRET_PATH_PARTS}


def _fields(response: Response) -> dict[str, Any]:
    rule, ids = route_and_ids()
    fields: dict[str, Any] = {"event": "request", "request_id": g.get("request_id"), "method": request.method,
                              "route": rule, "ids": ids, "status": response.status_code,
                              "duration_ms": round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 1),
                              "bytes": response.calculate_content_length()}
    user_id = staff_user_id()
    if user_id is not None:
        fields["user_id"] = user_id
    if g.get("page_cache_hit"):
        fields["page_cache"] = "hit"
    return fields


def staff_user_id() -> int | None:
    """The id of the staff member this request already loaded (token or session); None for anyone else.

    A signed-in stakeholder may comment anonymously or confidentially: their id beside the comment route and
    the time would name them, so only staff (accountable for what they do) are logged. Read without touching
    the database: the request's session may be closed or handed to a streaming download by now. A page served
    from the page cache loaded nobody: it carries the id its rendering would have logged."""
    if "staff_user_id" in g:
        return g.staff_user_id
    login = g.get("_login_user")
    user = g.get("api_user") or getattr(login, "user", None)
    if user is None:
        return None
    state = inspect(user)
    role_rows = state.attrs.role_rows.loaded_value
    roles = {inspect(row).dict.get("role") for row in role_rows} if isinstance(role_rows, list) else set()
    if not roles & STAFF_ROLES or not state.identity:
        return None
    return state.identity[0]


def write(fields: dict[str, Any]) -> None:
    """One line; the caller's fields follow the rules above."""
    log.info("request", extra={"fields": fields})


def init_app(app: Flask) -> None:
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLines())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False  # one line per request, not a second copy through the root logger

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        g.request_id = uuid.uuid4().hex[:16]

    @app.after_request
    def _log(response: Response) -> Response:
        if request.endpoint != "static":
            write(_fields(response))
        response.headers.setdefault("X-Request-Id", g.get("request_id", ""))
        return response
