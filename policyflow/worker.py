"""``policyflow worker``: drains the outbox (e-mail, deadline reminders, timed workflow actions).

How a message is handled
------------------------
1. **Claim.** In one short transaction the worker selects up to ``batch`` due messages
   (``available_at <= now``, not delivered, not failed, and not claimed, or claimed by a lease
   that has run out), sets ``locked_until = now + 5 minutes`` on them and commits. On PostgreSQL
   the select uses ``FOR UPDATE SKIP LOCKED``, so several workers never pick the same rows; on
   SQLite every transaction starts with ``BEGIN IMMEDIATE``, which serializes claims anyway. The
   lease is what makes a dead worker harmless: its messages become claimable again once the
   lease runs out, and nothing is lost.
2. **Process**, each message on its own:

   - ``reminder`` / ``overdue`` / ``timed_action``: the work (notifications and their e-mails, or
     the workflow action as the system) and marking the message delivered happen in **one**
     transaction, so each job takes effect exactly once. A job whose review has moved on (another
     ``state_version``) is dropped as stale.
   - ``email``: sent over SMTP with no database transaction open (a slow mail server must not
     hold SQLite's write lock), then marked delivered in a transaction of its own right after
     the server accepted it. This is **at least once**, not exactly once: if the process dies
     after the server said "250 accepted" and before that commit, the message is sent again when
     its lease runs out. The window is one commit long; every message carries a ``Message-ID``
     derived from its outbox row (``<outbox-ID.HASH.policyflow@host>``), the same on every
     attempt, so a receiving system can drop the duplicate.

3. **Failure**: ``attempts`` + 1, ``last_error``, the claim cleared and ``available_at`` pushed back
   exponentially (1, 2, 4, ... minutes, at most an hour). After ``MAX_ATTEMPTS``, or on a permanent
   refusal (the server rejected the recipient with a 5xx), the message is marked failed.

Without ``POLICYFLOW_SMTP_URL`` the worker still runs every other job; e-mails stay in the outbox,
untouched and undelivered (never marked as sent when they were not), and each run logs how many
are waiting. Once SMTP is configured they go out, except those older than ``EMAIL_MAX_AGE``, which
are dropped as expired: a week-old "due soon" e-mail helps nobody, and the in-app notification
was there all along.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import signal
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from policyflow.core.errors import Conflict
from policyflow.db import transaction
from policyflow.models import OUTBOX_KINDS, OutboxMessage, Review, User
from policyflow.models.base import utcnow
from policyflow.services import concerns, notifications, reviews
from policyflow.services.actors import Actor

log = logging.getLogger("policyflow.worker")

LEASE = timedelta(minutes=5)  # how long a claim holds
LEASE_MARGIN = timedelta(minutes=1)  # stop working on a batch this long before its lease runs out
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 25  # about a day of retries at the cap
NOT_YET_RETRY = timedelta(hours=1)  # a timed action whose conditions do not hold yet is tried again this much later
EMAIL_MAX_AGE = timedelta(days=7)
SMTP_TIMEOUT = 30.0  # seconds
MAX_ROUNDS = 50  # claims per run_once (jobs enqueue e-mails that are due at once; this bounds the loop)

ERROR_LENGTH = 2000


@dataclass
class WorkerReport:
    claimed: int = 0
    sent: int = 0  # e-mails the SMTP server accepted
    done: int = 0  # reminders, overdue notices and timed actions carried out
    dropped: int = 0  # stale (the review moved on), expired, or no longer wanted
    retrying: int = 0  # failed this time; attempts + 1, tried again later
    waiting: int = 0  # timed actions whose conditions do not hold yet
    failed: int = 0  # given up for good
    released: int = 0  # claimed, then handed back unprocessed (stop requested, lease running out)
    emails_held: int = 0  # e-mails waiting because no SMTP server is configured
    periodic_started: int = 0  # periodic reviews started for policies whose review date is near
    concerns_purged: int = 0  # closed concerns whose identity and working notes reached the end of retention

    def summary(self) -> str:
        parts = [f"{field.name.replace('_', ' ')} {getattr(self, field.name)}" for field in fields(self)
                 if getattr(self, field.name) or field.name == "claimed"]
        return "Outbox: " + ", ".join(parts) + "."


# ---------------------------------------------------------------------------------------------
# SMTP
# ---------------------------------------------------------------------------------------------

_SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("ssl", 465)}


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    security: str  # plain | starttls | ssl
    username: str | None = None
    password: str | None = None
    sender: str | None = None  # the From address (``?from=`` in the URL)


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://[user:pass@]host[:port]``, ``smtp+starttls://...`` (587) or ``smtps://...`` (465);
    an optional ``?from=address`` sets the sender. Raises ``ValueError`` on anything else."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"POLICYFLOW_SMTP_URL must start with {', '.join(s + '://' for s in _SCHEMES)}; got {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("POLICYFLOW_SMTP_URL names no host")
    security, default_port = _SCHEMES[parts.scheme]
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("POLICYFLOW_SMTP_URL has an invalid port") from None
    sender = parse_qs(parts.query).get("from", [None])[0]
    return SmtpTarget(host=parts.hostname, port=port, security=security,
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password else None, sender=sender)


class Mailer:
    """One SMTP connection, opened on first use and kept for a run; any error closes it."""

    def __init__(self, target: SmtpTarget, timeout: float = SMTP_TIMEOUT) -> None:
        self.target = target
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        smtp: smtplib.SMTP
        if target.security == "ssl":
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=self.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=self.timeout)
            if target.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if target.username:
            smtp.login(target.username, target.password or "")
        return smtp

    def send(self, message: EmailMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def mail_domain(base_url: str) -> str:
    """The host name of the public address, for Message-IDs and the default sender."""
    host = urlsplit(base_url).hostname or "localhost"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return "localhost"


def message_id(outbox_id: int, dedupe_key: str, domain: str) -> str:
    """The same on every attempt for one outbox message, so receivers can drop a duplicate."""
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:10]
    return f"<outbox-{outbox_id}.{digest}.policyflow@{domain}>"


def build_email(outbox_id: int, dedupe_key: str, payload: dict[str, Any], *, sender: str, domain: str,
                now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = payload["to"]
    message["Subject"] = " ".join(str(payload["subject"]).split())  # never a line break in a header
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(outbox_id, dedupe_key, domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies, please
    message["X-Policyflow-Outbox-Id"] = str(outbox_id)
    message.set_content(payload["body"])
    return message


def _permanent(error: BaseException) -> bool:
    """A refusal that retrying cannot fix: the server rejected the recipient or the message (5xx)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


# ---------------------------------------------------------------------------------------------
# Claims and outcomes
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    created_at: datetime
    lease: datetime


class _NotYet(Exception):  # a signal, not an error
    """A timed action's conditions do not hold yet; try again later without counting a failure."""


class _Stale(Exception):  # a signal, not an error
    """The job no longer applies; drop it."""


def _pending(now: datetime) -> list[Any]:
    return [OutboxMessage.available_at <= now, OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None)]


def _claim(factory: sessionmaker[Session], now: datetime, batch: int, kinds: tuple[str, ...]) -> list[_Claimed]:
    with transaction(factory) as session:
        query = (select(OutboxMessage)
                 .where(*_pending(now), OutboxMessage.kind.in_(kinds),
                        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now))
                 .order_by(OutboxMessage.available_at, OutboxMessage.id).limit(batch))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.scalars(query))
        lease = now + LEASE
        for row in rows:
            row.locked_until = lease
        return [_Claimed(row.id, row.kind, dict(row.payload), row.dedupe_key, row.created_at, lease) for row in rows]


def _held(session: Session, claimed: _Claimed) -> OutboxMessage | None:
    """The message row, locked on PostgreSQL, if this worker's claim on it still holds."""
    query = select(OutboxMessage).where(OutboxMessage.id == claimed.id, OutboxMessage.delivered_at.is_(None),
                                        OutboxMessage.failed_at.is_(None), OutboxMessage.locked_until == claimed.lease)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def _deliver(session: Session, claimed: _Claimed, now: datetime, outcome: str) -> bool:
    row = _held(session, claimed)
    if row is None:
        return False
    row.delivered_at = now
    row.locked_until = None
    row.outcome = outcome[:200]
    session.flush()
    return True


def _finish(factory: sessionmaker[Session], claimed: _Claimed, now: datetime, outcome: str) -> None:
    with transaction(factory) as session:
        if not _deliver(session, claimed, now, outcome):
            log.warning("outbox %s: the claim ran out before it was marked done (%s)", claimed.id, outcome)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4, ... minutes, at most an hour."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def _fail(factory: sessionmaker[Session], claimed: _Claimed, now: datetime, error: str, *, permanent: bool = False,
          count: bool = True, retry_at: datetime | None = None) -> str:
    """Record a failed attempt; returns 'failed', 'retrying' or 'waiting'."""
    with transaction(factory) as session:
        row = _held(session, claimed)
        if row is None:
            return "retrying"  # someone else holds it now
        row.locked_until = None
        row.last_error = error[:ERROR_LENGTH]
        if count:
            row.attempts += 1
        if permanent or row.attempts >= MAX_ATTEMPTS:
            row.failed_at = now
            row.outcome = f"failed after {row.attempts} attempt(s)"
            return "failed"
        row.available_at = retry_at or now + backoff(row.attempts)
        return "retrying" if count else "waiting"


def _release(factory: sessionmaker[Session], claimed: list[_Claimed]) -> None:
    with transaction(factory) as session:
        for message in claimed:
            row = _held(session, message)
            if row is not None:
                row.locked_until = None


# ---------------------------------------------------------------------------------------------
# Jobs
# ---------------------------------------------------------------------------------------------

def _current_review(session: Session, payload: dict[str, Any]) -> Review:
    """The job's review, if it is still in the stage and the state_version the job was made for."""
    review = session.get(Review, payload["review_id"])
    if review is None or review.ended_at is not None or review.state_version != payload["state_version"] \
            or review.state != payload["stage"]:
        raise _Stale("stale: the review moved on")
    return review


def _deadline_job(kind: str) -> Callable[[Session, dict[str, Any], datetime, str], str]:
    def handle(session: Session, payload: dict[str, Any], now: datetime, base_url: str) -> str:
        review = _current_review(session, payload)
        if kind == "deadline_near" and review.stage_due_at is not None and now >= review.stage_due_at:
            raise _Stale("skipped: the stage is already due; the overdue notice says so")
        sent = notifications.notify_deadline(session, review, reviews.definition_of(review), kind, now, base_url=base_url)
        return f"notified {len(sent)}"

    return handle


def _timed_action(session: Session, payload: dict[str, Any], now: datetime, base_url: str) -> str:
    review = _current_review(session, payload)
    stage = reviews.definition_of(review).stage(review.state)
    try:
        reviews.perform_action(session, Actor.system(), review.id, payload["action"],
                               f"Done automatically: the {stage.label.lower()} stage reached its deadline.",
                               expected_state=payload["stage"], now=now)
    except Conflict as error:
        if error.extra.get("unmet_conditions"):
            raise _NotYet(error.message) from None
        raise _Stale(f"stale: {error.message}") from None
    return f"{payload['action']} -> {review.state}"


_JOBS: dict[str, Callable[[Session, dict[str, Any], datetime, str], str]] = {
    "reminder": _deadline_job("deadline_near"),
    "overdue": _deadline_job("overdue"),
    "timed_action": _timed_action,
}


def _run_job(factory: sessionmaker[Session], claimed: _Claimed, now: datetime, base_url: str) -> str:
    """The job and its 'delivered' mark in one transaction: it takes effect exactly once."""
    try:
        with transaction(factory) as session:
            if _held(session, claimed) is None:
                return "released"
            outcome = _JOBS[claimed.kind](session, claimed.payload, now, base_url)
            _deliver(session, claimed, now, outcome)
    except _Stale as stale:
        _finish(factory, claimed, now, str(stale))
        log.info("outbox %s (%s): %s", claimed.id, claimed.kind, stale)
        return "dropped"
    except _NotYet as not_yet:
        log.info("outbox %s (%s): not yet: %s", claimed.id, claimed.kind, not_yet)
        return _fail(factory, claimed, now, f"not yet: {not_yet}", count=False, retry_at=now + NOT_YET_RETRY)
    except Exception as error:  # any failure of a job is recorded and retried with back-off
        log.exception("outbox %s (%s) failed", claimed.id, claimed.kind)
        return _fail(factory, claimed, now, f"{type(error).__name__}: {error}")
    log.info("outbox %s (%s): %s", claimed.id, claimed.kind, outcome)
    return "done"


def _send_email(factory: sessionmaker[Session], claimed: _Claimed, now: datetime, mailer: Mailer, sender: str,
                domain: str) -> str:
    payload = dict(claimed.payload)
    with transaction(factory) as session:  # still ours, still wanted? (short: nothing is held during SMTP)
        if _held(session, claimed) is None:
            return "released"
        user = session.get(User, payload["user_id"]) if payload.get("user_id") is not None else None
        unwanted = payload.get("user_id") is not None and (
            user is None or not user.is_active or not user.email_notifications or not user.email)
        if user is not None and user.email:
            payload["to"] = user.email  # the address the account has now
    if unwanted:
        _finish(factory, claimed, now, "dropped: the recipient no longer receives e-mail")
        return "dropped"
    if now - claimed.created_at > EMAIL_MAX_AGE:
        _finish(factory, claimed, now, f"dropped: not sent within {EMAIL_MAX_AGE.days} days")
        return "dropped"
    try:
        email = build_email(claimed.id, claimed.dedupe_key, payload, sender=sender, domain=domain, now=now)
    except (KeyError, TypeError, ValueError) as error:  # a malformed payload will not get better
        return _fail(factory, claimed, now, f"cannot build the e-mail: {type(error).__name__}: {error}", permanent=True)
    try:
        mailer.send(email)
    except (smtplib.SMTPException, OSError) as error:
        permanent = _permanent(error)
        log.warning("outbox %s: e-mail not sent (%s: %s)", claimed.id, type(error).__name__, error)
        return _fail(factory, claimed, now, f"{type(error).__name__}: {error}", permanent=permanent)
    # The server has the message. Record that at once: a crash between here and the commit is the
    # one window in which the message can go out twice (with the same Message-ID).
    _finish(factory, claimed, now, "sent")
    log.info("outbox %s: e-mail sent", claimed.id)
    return "sent"


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodicReviews:
    """Where the periodic-review workflow lives and how many days ahead of its date a policy's review starts."""

    workflows_dir: Path
    lead_days: int


def run_once(session_factory: sessionmaker[Session], *, now: datetime, smtp_url: str | None, base_url: str,
             batch: int = 20, stop: threading.Event | None = None, periodic: PeriodicReviews | None = None,
             concern_retention_days: int | None = None) -> WorkerReport:
    """Process every message due at ``now``, ``batch`` claims at a time, and report what happened."""
    report = WorkerReport()
    base_url = base_url.rstrip("/")
    target = parse_smtp_url(smtp_url) if smtp_url else None
    mailer = Mailer(target) if target else None
    domain = mail_domain(base_url)
    sender = (target.sender if target and target.sender else None) or f"policyflow@{domain}"
    kinds = OUTBOX_KINDS if mailer else tuple(kind for kind in OUTBOX_KINDS if kind != "email")
    budget = (LEASE - LEASE_MARGIN).total_seconds()
    if periodic is not None:
        # Before the outbox round, so the notices of the reviews started now go out in it; a failure here
        # (a broken periodic-review.yaml, say) is logged and must not hold up e-mail and deadlines.
        try:
            with transaction(session_factory) as session:
                started = reviews.start_due_periodic_reviews(session, periodic.workflows_dir, now, periodic.lead_days)
                report.periodic_started = len(started)
                for review in started:
                    log.info("started the periodic review of %s (review %d)", review.policy.code, review.id)
        except Exception:
            log.exception("starting periodic reviews failed; the outbox round goes on")
    if concern_retention_days is not None:
        try:
            with transaction(session_factory) as session:
                report.concerns_purged = len(concerns.purge_expired(session, now, concern_retention_days))
        except Exception:
            log.exception("deleting expired concern notes failed; the outbox round goes on")
    try:
        for _round in range(MAX_ROUNDS):
            claimed = _claim(session_factory, now, batch, kinds)
            if not claimed:
                break
            report.claimed += len(claimed)
            started = time.monotonic()
            for index, message in enumerate(claimed):
                if (stop is not None and stop.is_set()) or time.monotonic() - started > budget:
                    _release(session_factory, claimed[index:])
                    report.released += len(claimed) - index
                    return report
                if message.kind == "email":
                    assert mailer is not None
                    result = _send_email(session_factory, message, now, mailer, sender, domain)
                else:
                    result = _run_job(session_factory, message, now, base_url)
                if hasattr(report, result):
                    setattr(report, result, getattr(report, result) + 1)
    finally:
        if mailer is not None:
            mailer.close()
    if mailer is None:
        with transaction(session_factory) as session:
            report.emails_held = session.scalar(select(func.count()).select_from(OutboxMessage)
                                                .where(*_pending(now), OutboxMessage.kind == "email")) or 0
        if report.emails_held:
            log.warning("%d e-mail(s) wait in the outbox: POLICYFLOW_SMTP_URL is not set", report.emails_held)
    return report


def run_forever(session_factory: sessionmaker[Session], *, smtp_url: str | None, base_url: str, interval: float = 30.0,
                batch: int = 20, clock: Callable[[], datetime] = utcnow, stop: threading.Event | None = None,
                periodic: PeriodicReviews | None = None, concern_retention_days: int | None = None) -> None:
    """Poll every ``interval`` seconds until SIGTERM/SIGINT (or ``stop``): the message in hand is
    finished, the rest of the claimed batch handed back, then the loop ends."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        def _stop(signum: int, _frame: object) -> None:
            log.info("received %s; stopping after the current message", signal.Signals(signum).name)
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    log.info("worker started (every %.1f s, SMTP %s)", interval, "configured" if smtp_url else "not configured")
    while not stop.is_set():
        try:
            report = run_once(session_factory, now=clock(), smtp_url=smtp_url, base_url=base_url, batch=batch, stop=stop,
                              periodic=periodic, concern_retention_days=concern_retention_days)
            if report.claimed:
                log.info("%s", report.summary())
        except Exception:  # a bad round (database away, ...) must not end the worker
            log.exception("worker round failed; trying again in %.1f s", interval)
        stop.wait(interval)
    log.info("worker stopped")
