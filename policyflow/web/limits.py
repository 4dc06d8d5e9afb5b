"""Rate limits for what anyone may send without an account (comments, sign-in attempts), shared across processes.

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
from flask_login import current_user
from limits import parse_many
from werkzeug.wrappers import Response


def _keyed(value: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]


def visitor_key() -> str:
    return _keyed(request.remote_addr or "unknown")


def account_key() -> str:
    """The account name tried (or, changing a password, the signed-in one's), keyed like the visitor: the
    limiter's storage never holds a username."""
    sent = request.get_json(silent=True) if request.is_json else request.form
    username = sent.get("username", "") if isinstance(sent, dict) or hasattr(sent, "getlist") else ""
    if not username and current_user.is_authenticated:
        username = current_user.user.username
    return "account:" + _keyed(str(username).strip().lower())


def account_visitor_key() -> str:
    """One account tried from one visitor: what the ordinary allowance counts, so a stranger's failures
    do not lock the account's owner out (only the account's much larger overall ceiling does)."""
    return f"{account_key()}:{visitor_key()}"


limiter = Limiter(key_func=visitor_key, default_limits=[], headers_enabled=True)
LIMITED_METHODS = ("POST",)  # every limit here counts what is sent, never what is read


@limiter.request_filter
def _reads_are_never_limited() -> bool:
    """A page read skips the limiter's bookkeeping altogether (a tenth of a cached page's time)."""
    return request.method not in LIMITED_METHODS


def _comment_limit() -> str:
    return current_app.config.get("COMMENT_RATE_LIMIT") or current_app.config["POLICYFLOW_SETTINGS"].comment_rate_limit


def _exempt() -> bool:
    """Staff (ombuds filing comments for callers, say) are not counted."""
    from policyflow.web.requests import actor

    return actor().is_staff


def limit_comments(view: Callable[..., Any]) -> Callable[..., Any]:
    """Limit comment submissions per visitor (POLICYFLOW_COMMENT_RATE_LIMIT, default 10 per hour and 30 per day)."""
    return limiter.limit(_comment_limit, methods=list(LIMITED_METHODS), exempt_when=_exempt,
                         error_message="You have sent many comments in a short time. Please wait a while and try again.")(view)


def _login_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT") or current_app.config["POLICYFLOW_SETTINGS"].login_rate_limit


def _scaled_login_limit(factor: int) -> str:
    return ";".join(f"{item.amount * factor} per {item.multiples} {item.GRANULARITY.name}"
                    for item in parse_many(_login_limit()))


def _visitor_login_limit() -> str:
    """A visitor trying many account names gets four times one account's allowance."""
    return _scaled_login_limit(4)


def _account_login_limit() -> str:
    """One account tried from everywhere: ten times the allowance, a ceiling on guessing from many addresses."""
    return _scaled_login_limit(10)


def _sign_in_refusal() -> str:
    longest = max(item.get_expiry() for item in parse_many(_login_limit()))
    wait = f"{longest // 60} minutes" if longest >= 120 else f"{longest} seconds"
    return (f"Too many failed sign-in attempts. For the safety of everyone's records, wait {wait} and try again, "
            "or ask an administrator to reset your password.")


def _failed(response: Response) -> bool:
    return response.status_code == 401


def limit_sign_ins(view: Callable[..., Any]) -> Callable[..., Any]:
    """Throttle password guessing: only failed sign-ins count, per account name from one visitor
    (POLICYFLOW_LOGIN_RATE_LIMIT, default 5 per 15 minutes), per visitor (4x) and per account from everywhere
    (10x). Once over, even the right password waits."""
    # Shared scopes: the sign-in page, the password page and the API's token exchange count against one allowance.
    def shared(limit: Callable[[], str], scope: str, key: Callable[[], str]) -> Callable[..., Any]:
        return limiter.shared_limit(limit, scope=scope, key_func=key, methods=list(LIMITED_METHODS), deduct_when=_failed,
                                    error_message=_sign_in_refusal)

    per_pair = shared(_login_limit, "sign-in-account-visitor", account_visitor_key)
    per_visitor = shared(_visitor_login_limit, "sign-in-visitor", visitor_key)
    per_account = shared(_account_login_limit, "sign-in-account", account_key)
    return per_account(per_visitor(per_pair(view)))


def init_app(app: Flask) -> None:
    settings = app.config["POLICYFLOW_SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_url)
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    limiter.init_app(app)
