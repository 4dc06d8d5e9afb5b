"""A value that changes whenever anything is committed to the database, by any process.

The whole-page cache (``web.page_cache``) keys what it keeps by this stamp: a page rendered while the stamp
read S before and after is exactly what any reader with the same session would get while the stamp still
reads S. Nothing in the application has to remember to bump it, so a write by the CLI, the worker, another
server or ``psql`` invalidates as surely as one through the web pages.

- PostgreSQL: the current snapshot (``pg_current_snapshot()``: xmin, xmax and the transactions in progress),
  which is what decides visibility. A commit either removes its transaction from the in-progress list or moves
  xmax; read-only transactions change nothing. (The WAL position would not do: a commit's record is written
  before the commit becomes visible, so a page could be rendered without it and stored under a position that
  already counts it.)
- SQLite (a file): ``PRAGMA data_version`` on a connection of its own that never writes, which changes
  whenever any other connection, in this process or another, has committed.

A database reached through one borrowed connection (the test suite's outer transaction, whose commits are
savepoints nobody else sees) or held in memory has no such stamp: ``for_bind`` gives None, and nothing is
cached.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import suppress
from typing import Any, Protocol

from sqlalchemy import Engine


class ChangeStamp(Protocol):
    def __call__(self) -> object | None:
        """The current stamp; None when it cannot be read (then nothing may be served from or kept in a cache)."""


_SNAPSHOT = "SELECT pg_current_snapshot()::text"


class PostgresSnapshotStamp:
    """Read on driver connections of its own, in autocommit (one round trip, its own snapshot), kept in a small
    free list: no pool check-out, no ping. A dropped connection fails one read (no caching for that request)
    and is replaced. Connections are made on first use, so a server that forks after loading the app gives
    each worker its own."""

    IDLE = 8

    def __init__(self, engine: Engine) -> None:
        self._dialect = engine.dialect
        self._connect_args = engine.dialect.create_connect_args(engine.url)
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    def __call__(self) -> str | None:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        try:
            if connection is None:
                connection = self._dialect.connect(*self._connect_args[0], **self._connect_args[1])
                connection.autocommit = True
            stamp = self._read(connection)
        except self._dialect.loaded_dbapi.Error:
            if connection is not None:
                with suppress(self._dialect.loaded_dbapi.Error):
                    connection.close()
            return None
        with self._lock:
            if len(self._idle) < self.IDLE:
                self._idle.append(connection)
                connection = None
        if connection is not None:
            connection.close()
        return stamp


    def _read(self, connection: Any) -> str:
        pgconn = getattr(connection, "pgconn", None)  # psycopg 3: libpq itself, half the CPU of a cursor
        if pgconn is None:
            cursor = connection.cursor()
            cursor.execute(_SNAPSHOT)
            stamp = cursor.fetchone()[0]
            cursor.close()
            return str(stamp)
        from psycopg import OperationalError
        from psycopg.pq import ExecStatus

        result = pgconn.exec_(_SNAPSHOT.encode())
        if result.status != ExecStatus.TUPLES_OK:
            raise OperationalError((result.error_message or b"").decode(errors="replace") or "the snapshot read failed")
        value = result.get_value(0, 0)
        if value is None:
            raise OperationalError("the snapshot read returned nothing")
        return bytes(value).decode()


class SqliteDataVersionStamp:
    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._last_version: int | None = None
        self._generation = 0

    def __call__(self) -> int | None:
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
                version = self._connection.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                # A new connection's data_version says nothing about commits made meanwhile: count a change.
                self._connection, self._last_version = None, None
                return None
            # data_version is only comparable on its own connection: count its changes instead.
            if version != self._last_version:
                self._last_version = version
                self._generation += 1
            return self._generation


class SharedReads:
    """One read serves every request that arrived before it started.

    A read that began after a request arrived reflects every commit that had finished by then, so it is as good
    for that request as a read of its own; one that began earlier is not (it may predate a commit the request
    must see) and is never used. Under load, the threads of a process share most reads instead of queueing one
    round trip each at the database."""

    def __init__(self, read: ChangeStamp) -> None:
        self._read = read
        self._changed = threading.Condition()
        self._started = 0  # reads begun, numbered from 1
        self._finished = 0  # the number of the newest read done
        self._reading = False
        self._value: object | None = None

    def __call__(self) -> object | None:
        with self._changed:
            wanted = self._started + 1  # the first read to begin after this request arrived
            while self._finished < wanted:
                if not self._reading:
                    self._reading = True
                    self._started += 1
                    mine = self._started
                    break
                self._changed.wait()
            else:
                return self._value
        value = None
        try:
            value = self._read()
        finally:
            with self._changed:
                self._reading = False
                self._finished, self._value = mine, value
                self._changed.notify_all()
        return value


def for_bind(bind: object) -> ChangeStamp | None:
    """The stamp of the database an engine reaches; None for anything else (a connection, an in-memory file)."""
    if not isinstance(bind, Engine):
        return None
    if bind.dialect.name == "postgresql":
        return SharedReads(PostgresSnapshotStamp(bind))
    if bind.dialect.name == "sqlite" and bind.url.database not in (None, "", ":memory:"):
        return SqliteDataVersionStamp(bind.url.database)
    return None
