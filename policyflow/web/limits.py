"""Rate limits for what anyone may send without an account (comments), shared across processes.

The limiter counts per visitor without keeping the visitor's address: the key is an HMAC of the
address with the app's secret, so neither the limiter's storage (Redis in production) nor anything
else holds an IP address (the ombuds' promise to anonymous commenters).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter


def visitor_key() -> str:
    address = request.remote_addr or "unknown"
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]


limiter = Limiter(key_func=visitor_key, default_limits=[], headers_enabled=True)


def _comment_limit() -> str:
    return current_app.config.get("COMMENT_RATE_LIMIT") or current_app.config["POLICYFLOW_SETTINGS"].comment_rate_limit


def _exempt() -> bool:
    """Staff (ombuds filing comments for callers, say) are not counted."""
    from policyflow.web.requests import actor

    return actor().is_staff


def limit_comments(view: Callable[..., Any]) -> Callable[..., Any]:
    """Limit comment submissions per visitor (POLICYFLOW_COMMENT_RATE_LIMIT, default 10 per hour and 30 per day)."""
    return limiter.limit(_comment_limit, methods=["POST"], exempt_when=_exempt,
                         error_message="You have sent many comments in a short time. Please wait a while and try again.")(view)


def init_app(app: Flask) -> None:
    settings = app.config["POLICYFLOW_SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_url)
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    limiter.init_app(app)
