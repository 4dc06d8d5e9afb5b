"""Comment rate limits hold across processes when counted in Redis, and keep no visitor address."""

from __future__ import annotations

import hashlib
import hmac
import os
import socket
import uuid

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from policyflow.web import create_app
from policyflow.web.limits import limit_comments

REDIS = ("127.0.0.1", 6379)


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


def _app(session_factory: sessionmaker[Session], storage: str, secret: str) -> Flask:
    # Each run gets its own secret, so its visitor key (an HMAC) and its counts are its own.
    app = create_app({"TESTING": True, "SECRET_KEY": secret, "SESSION_FACTORY": session_factory,
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_STORAGE_URI": storage, "COMMENT_RATE_LIMIT": "2 per hour"})

    def probe() -> str:
        return "taken"

    # The limiter registers limits by the view's name, for every app: each app gets its own view.
    probe.__name__ = probe.__qualname__ = f"probe_{uuid.uuid4().hex}"
    app.add_url_rule("/probe", "probe", limit_comments(probe), methods=["POST"])
    return app


def test_two_app_processes_share_the_count_in_redis(session_factory: sessionmaker[Session]) -> None:
    if not _redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not reachable at 127.0.0.1:6379 in CI")
        pytest.skip("Redis is not running here")
    import redis

    secret = f"test-secret-{uuid.uuid4().hex}"
    first = _app(session_factory, "redis://127.0.0.1:6379/15", secret).test_client()
    second = _app(session_factory, "redis://127.0.0.1:6379/15", secret).test_client()
    assert first.post("/probe").status_code == 200
    assert second.post("/probe").status_code == 200
    refused = first.post("/probe")
    assert refused.status_code == 429 and "Please wait a while" in refused.get_data(as_text=True)
    assert "Retry-After" in refused.headers
    visitor = hmac.new(secret.encode(), b"127.0.0.1", hashlib.sha256).hexdigest()[:32]
    keys = redis.Redis(host=REDIS[0], port=REDIS[1], db=15).keys(f"*{visitor}*")
    assert keys and not any(b"127.0.0.1" in key for key in keys)  # the visitor is an HMAC, not an address


def test_signed_in_staff_are_not_counted(session_factory: sessionmaker[Session]) -> None:
    from tests.conftest import login

    client = _app(session_factory, "memory://", f"test-secret-{uuid.uuid4().hex}").test_client()
    login(client, "ombuds")
    assert all(client.post("/probe").status_code == 200 for _ in range(4))
