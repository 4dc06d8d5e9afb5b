"""Settings from the environment (DESIGN.md section 5), resolved once per app or command."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_TEXT_BYTES = 2 * 1024 * 1024
DEFAULT_BASE_URL = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    secret_key: str
    base_url: str
    smtp_url: str | None
    workflows_dir: Path
    keyframe_interval: int
    max_text_bytes: int
    proxy_count: int
    ratelimit_storage_url: str = "memory://"  # production with several processes: redis://host:6379/0
    comment_rate_limit: str = "10 per hour;30 per day"
    login_rate_limit: str = "5 per 15 minutes"  # failed sign-ins per account name, and 4x that per visitor
    periodic_review_lead_days: int = 60  # a published policy's periodic review starts this long before its date
    concern_retention_days: int = 365  # a closed concern's identity and working notes are deleted this long after
    page_cache_mb: int = 64  # whole pages kept per server process (web.page_cache); 0 turns the cache off

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        instance = Path(env.get("POLICYFLOW_INSTANCE_PATH", "instance")).resolve()
        database_url = env.get("POLICYFLOW_DATABASE_URL") or f"sqlite:///{instance / 'policyflow.sqlite3'}"
        from policyflow.resources import workflows_dir

        return cls(
            instance_path=instance,
            database_url=database_url,
            secret_key=env.get("POLICYFLOW_SECRET_KEY") or _instance_secret(instance),
            base_url=base_url(env),
            smtp_url=env.get("POLICYFLOW_SMTP_URL") or None,
            workflows_dir=Path(env["POLICYFLOW_WORKFLOWS_DIR"]) if env.get("POLICYFLOW_WORKFLOWS_DIR") else workflows_dir(),
            keyframe_interval=_positive_int(env, "POLICYFLOW_KEYFRAME_INTERVAL", 10),
            max_text_bytes=_positive_int(env, "POLICYFLOW_MAX_TEXT_BYTES", DEFAULT_MAX_TEXT_BYTES),
            proxy_count=_positive_int(env, "POLICYFLOW_PROXY_COUNT", 0, minimum=0),
            ratelimit_storage_url=env.get("POLICYFLOW_RATELIMIT_STORAGE_URL") or "memory://",
            comment_rate_limit=env.get("POLICYFLOW_COMMENT_RATE_LIMIT") or "10 per hour;30 per day",
            login_rate_limit=env.get("POLICYFLOW_LOGIN_RATE_LIMIT") or "5 per 15 minutes",
            periodic_review_lead_days=_positive_int(env, "POLICYFLOW_PERIODIC_REVIEW_LEAD_DAYS", 60, minimum=0),
            concern_retention_days=_positive_int(env, "POLICYFLOW_CONCERN_RETENTION_DAYS", 365, minimum=0),
            page_cache_mb=_positive_int(env, "POLICYFLOW_PAGE_CACHE_MB", 64, minimum=0),
        )


def base_url(env: dict[str, str] | None = None) -> str:
    """The public address links in e-mails point to (``POLICYFLOW_BASE_URL``), without a trailing slash."""
    env = dict(os.environ if env is None else env)
    return (env.get("POLICYFLOW_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def _positive_int(env: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, not {value}")
    return value


def _instance_secret(instance: Path) -> str:
    """A secret generated on first use and kept in the instance folder (mode 0600)."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
