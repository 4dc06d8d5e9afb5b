"""Backups of the whole database and restoring them into an empty SQLite or PostgreSQL database.

Two formats, chosen by the file name:

- ``.jsonl`` / ``.jsonl.gz``: portable JSON lines that move between SQLite and PostgreSQL. A header
  (format, schema revision, source database, time, every table with its columns and their kinds),
  one line per row, and a trailer with the row counts and a SHA-256 over every line before it, so a
  truncated or edited file is refused instead of restored in part. Read from one consistent
  snapshot and written a row at a time (constant memory).
- ``.sqlite3`` / ``.db`` from the SQLite default: SQLite's own online backup, a complete database file
  (it can be opened as is, or restored like the JSON lines into either database).

Both are written to a temporary file in the target folder and renamed when complete, so a backup
file is either whole or absent. A restore checks the whole file before it touches the database,
loads every row in one transaction and verifies the result (row counts, every version's SHA-256,
the audit trail) before it commits: on any failure the database keeps no restored row.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import sqlite3
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, Table, cast, create_engine, delete, false, func, insert, inspect, select, text
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, Date, DateTime, LargeBinary

from policyflow import __version__, migrate
from policyflow.core.errors import BackupDamaged, BackupRefused
from policyflow.db import READ_SNAPSHOT
from policyflow.models import Base
from policyflow.models.base import utcnow
from policyflow.models.search import FTS_TABLE
from policyflow.services import integrity

FORMAT = "policyflow-backup"
FORMAT_VERSION = 1
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
SQLITE_SUFFIXES = (".sqlite3", ".db")
_BATCH = 1000  # rows per fetch and per INSERT

# Tables a database holds besides the model's: the schema revision and SQLite's full-text index
# (rebuilt by its triggers as ``search_entries`` rows are restored; PostgreSQL generates its own).
_NOT_BACKED_UP = ("alembic_version",)


@dataclass(frozen=True)
class BackupReport:
    path: Path
    kind: str  # "jsonl" or "sqlite"
    rows: dict[str, int]
    size: int
    skipped_tables: list[str] = field(default_factory=list)  # tables of others in the same database

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class RestoreReport:
    rows: dict[str, int]
    source_dialect: str
    revision: str
    versions_checked: int
    events_checked: int

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# ---------------------------------------------------------------------------------------------
# Column values <-> JSON, by the kind of column (a JSON column may hold anything JSON does)
# ---------------------------------------------------------------------------------------------

def _column_kind(column: Any) -> str:
    column_type = column.type
    if isinstance(column_type, DateTime) or isinstance(getattr(column_type, "impl_instance", None), DateTime):
        return "datetime"
    if isinstance(column_type, Date):
        return "date"
    if isinstance(column_type, LargeBinary):
        return "bytes"
    if isinstance(column_type, JSON):
        return "json"
    return "plain"


def _encoder(kind: str) -> Callable[[Any], Any]:
    if kind == "datetime":
        return lambda value: value.astimezone(UTC).isoformat()
    if kind == "date":
        return date.isoformat
    if kind == "bytes":
        return lambda value: base64.b64encode(value).decode("ascii")
    return lambda value: value


def _decoder(kind: str) -> Callable[[Any], Any]:
    if kind == "datetime":
        return _parse_datetime
    if kind == "date":
        return date.fromisoformat
    if kind == "bytes":
        return base64.b64decode
    return lambda value: value


def _parse_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _schema() -> list[dict[str, Any]]:
    """Every table of the model in an order that inserts parents before children, with its columns."""
    return [{"name": table.name, "columns": [[column.name, _column_kind(column)] for column in table.columns]}
            for table in Base.metadata.sorted_tables]


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


# ---------------------------------------------------------------------------------------------
# Reading a database: one snapshot, a row at a time
# ---------------------------------------------------------------------------------------------

@dataclass
class _Snapshot:
    header: dict[str, Any]
    rows: Iterator[tuple[Table, dict[str, Any]]]
    skipped_tables: list[str]


@contextmanager
def _snapshot(engine: Engine) -> Iterator[_Snapshot]:
    """The database as one consistent read: a REPEATABLE READ, read-only transaction on PostgreSQL, one
    deferred (lock-free in WAL mode) transaction on SQLite."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:
            connection.execution_options(**{READ_SNAPSHOT: True})
        with connection.begin():
            revision = _current_revision(connection)
            present = set(inspect(connection).get_table_names())
            known = {table.name for table in _tables()}
            skipped = sorted(name for name in present - known
                             if name not in _NOT_BACKED_UP and not name.startswith(FTS_TABLE))
            header = {"format": FORMAT, "format_version": FORMAT_VERSION, "policyflow_version": __version__,
                      "alembic_revision": revision, "dialect": engine.dialect.name,
                      "created_at": utcnow().isoformat(), "tables": _schema()}
            yield _Snapshot(header, _rows(connection), skipped)


def _current_revision(connection: Connection) -> str:
    """The database's schema revision, which must be this policyflow's: a backup restores only into the same."""
    revision = migrate.revision_of(connection)
    head = migrate.head_revision()
    if revision is None:
        raise BackupRefused("The database is empty (no policyflow schema): there is nothing to back up.")
    if revision != head:
        raise BackupRefused(f"The database is at schema revision {revision}, this policyflow expects {head}: "
                            "run 'policyflow db upgrade' first (or back up with the version that made it).")
    return revision


def _rows(connection: Connection) -> Iterator[tuple[Table, dict[str, Any]]]:
    for table in _tables():
        result = connection.execute(select(table).order_by(*table.primary_key.columns),
                                    execution_options={"yield_per": _BATCH})
        for row in result.mappings():
            yield table, dict(row)


# ---------------------------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------------------------

def backup(engine: Engine, path: Path, *, force: bool = False) -> BackupReport:
    """Write the whole database to ``path`` (format by its ending); never leaves a partial file."""
    path = Path(path)
    kind = _kind_of(path)
    if path.exists() and not force:
        raise BackupRefused(f"{path} already exists; choose another name or pass --force to replace it.")
    if not path.parent.is_dir():
        raise BackupRefused(f"The folder {path.parent} does not exist.")
    if kind == "sqlite" and engine.dialect.name != "sqlite":
        raise BackupRefused(f"A {path.suffix} backup is SQLite's own copy of the embedded database; this database is "
                            f"{engine.dialect.name}. Use a .jsonl.gz file name for a portable backup.")
    with _replaced_when_complete(path) as temporary:
        if kind == "sqlite":
            rows, skipped = _native_sqlite_backup(engine, temporary)
        else:
            rows, skipped = _write_jsonl(engine, temporary, gzipped=path.name.endswith(".gz"))
    return BackupReport(path, kind, rows, path.stat().st_size, skipped)


def _kind_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(SQLITE_SUFFIXES):
        return "sqlite"
    raise BackupRefused(f"{path}: a backup file name ends in .jsonl.gz or .jsonl (portable JSON lines) or "
                        ".sqlite3 or .db (SQLite's own copy of the embedded database).")


@contextmanager
def _replaced_when_complete(path: Path) -> Iterator[Path]:
    """A temporary file next to ``path``, renamed over it only once written and flushed to disk."""
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(descriptor)
    temporary = Path(name)
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _line(record: Any) -> bytes:
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def _write_jsonl(engine: Engine, path: Path, *, gzipped: bool) -> tuple[dict[str, int], list[str]]:
    counts: dict[str, int] = {}
    digest = hashlib.sha256()
    handle: IO[bytes] = gzip.open(path, "wb", compresslevel=6) if gzipped else open(path, "wb")
    with handle, _snapshot(engine) as snapshot:
        encoders = {table["name"]: {name: _encoder(kind) for name, kind in table["columns"]}
                    for table in snapshot.header["tables"]}
        counts = {table["name"]: 0 for table in snapshot.header["tables"]}

        def write(record: Any) -> None:
            line = _line(record)
            digest.update(line)
            handle.write(line)

        write(snapshot.header)
        for table, row in snapshot.rows:
            encode = encoders[table.name]
            write({"table": table.name,
                   "row": {name: None if value is None else encode[name](value) for name, value in row.items()}})
            counts[table.name] += 1
        handle.write(_line({"trailer": True, "rows": counts, "sha256": digest.hexdigest()}))
    return counts, snapshot.skipped_tables


def _native_sqlite_backup(engine: Engine, path: Path) -> tuple[dict[str, int], list[str]]:
    """SQLite's online backup API: a page-by-page copy taken in one step, so one consistent state."""
    with engine.connect() as connection:
        _current_revision(connection)  # a copy of an older schema would be refused at restore: refuse it now
        connection.rollback()  # the copy takes its own consistent read
        source = connection.connection.driver_connection
        target = sqlite3.connect(path)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            target.close()
    copy = create_engine(f"sqlite:///{path}")
    try:
        with copy.connect() as connection:
            return _row_counts(connection), []
    finally:
        copy.dispose()


def _row_counts(connection: Connection) -> dict[str, int]:
    return {table.name: connection.scalar(select(func.count()).select_from(table)) or 0 for table in _tables()}


# ---------------------------------------------------------------------------------------------
# Reading a backup file
# ---------------------------------------------------------------------------------------------

@dataclass
class _Source:
    header: dict[str, Any]
    rows: Iterator[tuple[Table, dict[str, Any]]]
    counts: dict[str, int]  # what the source says it holds


def _check_header(header: Any, path: Path) -> dict[str, Any]:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupDamaged(f"{path} is not a policyflow backup (its first line is not a policyflow backup header).")
    if header.get("format_version") != FORMAT_VERSION:
        raise BackupRefused(f"{path} is a policyflow backup of format version {header.get('format_version')}; "
                            f"this policyflow reads version {FORMAT_VERSION}.")
    head = migrate.head_revision()
    if header.get("alembic_revision") != head:
        raise BackupRefused(f"{path} holds schema revision {header.get('alembic_revision')}, this policyflow has {head}: "
                            "restore it with the policyflow version that made it, then run 'policyflow db upgrade'.")
    if header.get("tables") != _schema():
        raise BackupRefused(f"{path} lists tables or columns this policyflow does not have at the same revision; "
                            "it was not made by policyflow or was altered.")
    return header


def _read_jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    """("header", dict), ("row", (table, values)) ..., ("trailer", counts), each line checked as it is read.

    Raises :class:`BackupDamaged` as soon as something is wrong, and at the end if the trailer is
    missing or does not match what came before it.
    """
    tables = {table.name: table for table in _tables()}
    digest = hashlib.sha256()
    counts: dict[str, int] = {}
    order: list[str] = []
    position = -1  # index in ``order`` of the table being read: rows come table by table, parents first
    number = 0
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            header: dict[str, Any] | None = None
            decoders: dict[str, dict[str, Callable[[Any], Any]]] = {}
            for number, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    raise BackupDamaged(f"{path} is truncated: line {number} is incomplete.")
                record = json.loads(line)
                if header is None:
                    header = _check_header(record, path)
                    order = [table["name"] for table in header["tables"]]
                    counts = dict.fromkeys(order, 0)
                    decoders = {table["name"]: {name: _decoder(kind) for name, kind in table["columns"]}
                                for table in header["tables"]}
                    digest.update(line)
                    yield "header", header
                    continue
                if isinstance(record, dict) and record.get("trailer") is True:
                    if next(handle, None) is not None:
                        raise BackupDamaged(f"{path} has lines after its trailer (line {number}).")
                    if record.get("sha256") != digest.hexdigest():
                        raise BackupDamaged(f"{path} was altered or damaged: its content does not match the SHA-256 "
                                            "recorded when it was written.")
                    if record.get("rows") != counts:
                        raise BackupDamaged(f"{path} is damaged: its row counts do not match the trailer's.")
                    yield "trailer", counts
                    return
                digest.update(line)
                name = record.get("table") if isinstance(record, dict) else None
                if name not in decoders or not isinstance(record.get("row"), dict):
                    raise BackupDamaged(f"{path} is damaged: line {number} is not a row of a known table.")
                index = order.index(name)
                if index < position:
                    raise BackupDamaged(f"{path} is damaged: line {number} ({name}) is out of order.")
                position = index
                decode = decoders[name]
                values = record["row"]
                if values.keys() != decode.keys():
                    raise BackupDamaged(f"{path} is damaged: line {number} has other columns than table {name}.")
                counts[name] += 1
                yield "row", (tables[name], {key: None if value is None else decode[key](value)
                                             for key, value in values.items()})
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise BackupDamaged(f"{path} is damaged or truncated (compressed data: {error}).") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BackupDamaged(f"{path} is damaged: line {number} is not valid JSON ({error}).") from None
    except (ValueError, TypeError, AttributeError) as error:
        raise BackupDamaged(f"{path} is damaged: line {number} holds a value of the wrong kind ({error}).") from None
    if number == 0:
        raise BackupDamaged(f"{path} is empty.")
    raise BackupDamaged(f"{path} is truncated: it ends without its trailer (after line {number}).")


def _verified_jsonl(path: Path) -> dict[str, int]:
    """Read the whole file once and return its row counts, or raise: nothing is written before this passes."""
    counts: dict[str, int] = {}
    for kind, value in _read_jsonl(path):
        if kind == "trailer":
            counts = value
    return counts


@contextmanager
def _open_source(path: Path) -> Iterator[_Source]:
    """The rows of a backup file, checked completely before the first one is handed out."""
    if not path.is_file():
        raise BackupRefused(f"There is no backup file {path}.")
    if _kind_of(path) == "jsonl":
        counts = _verified_jsonl(path)
        records = _read_jsonl(path)
        _kind, header = next(records)
        rows = (value for kind, value in records if kind == "row")
        yield _Source(header, rows, counts)
        return
    engine = _open_sqlite_file(path)
    try:
        with _snapshot(engine) as snapshot:
            with engine.connect() as connection:
                counts = _row_counts(connection)
            yield _Source(snapshot.header, snapshot.rows, counts)
    finally:
        engine.dispose()


def _open_sqlite_file(path: Path) -> Engine:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as probe:
            problems = probe.execute("PRAGMA quick_check").fetchall()
            has_schema = probe.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
        probe.close()
    except sqlite3.DatabaseError as error:
        raise BackupDamaged(f"{path} is not a usable SQLite database ({error}).") from None
    if problems != [("ok",)]:
        raise BackupDamaged(f"{path} is a damaged SQLite database: {problems[0][0]}")
    if not has_schema:
        raise BackupDamaged(f"{path} is a SQLite database but not a policyflow one.")
    return create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")


# ---------------------------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------------------------

def restore(engine: Engine, path: Path, *, force: bool = False) -> RestoreReport:
    """Load the backup at ``path`` into the (empty, unless ``force``) database of ``engine``."""
    path = Path(path)
    target = engine.url.database if engine.dialect.name == "sqlite" else None
    if target and target != ":memory:" and Path(target).resolve() == path.resolve():
        raise BackupRefused(f"{path} is the database being restored into; restore into another database.")
    with _open_source(path) as source:
        if _holds_data(engine) and not force:
            raise BackupRefused("The target database already holds policyflow data; restore only into an empty "
                                "database, or pass --force to replace everything in it with the backup.")
        migrate.upgrade(engine)  # creates the schema (its own transaction; no row is written by it)
        try:
            with engine.begin() as connection:
                return _load(connection, source, path)
        except DBAPIError as error:
            raise BackupRefused(f"Restoring {path} failed and nothing was restored: "
                                f"{str(error.orig).strip().splitlines()[0]}") from None


def _holds_data(engine: Engine) -> bool:
    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        return any(connection.execute(select(text("1")).select_from(table).limit(1)).first() is not None
                   for table in _tables() if table.name in present)


def _load(connection: Connection, source: _Source, path: Path) -> RestoreReport:
    for table in reversed(_tables()):  # --force: what was there goes, in the same transaction
        connection.execute(delete(table))
    batch: list[dict[str, Any]] = []
    current: Table | None = None
    for table, row in source.rows:
        if table is not current or len(batch) >= _BATCH:
            if batch and current is not None:
                connection.execute(insert(current), batch)
            batch, current = [], table
        batch.append(row)
    if batch and current is not None:
        connection.execute(insert(current), batch)
    if connection.dialect.name == "postgresql":
        _reset_sequences(connection)
    return _verify(connection, source, path)


def _reset_sequences(connection: Connection) -> None:
    """Rows came with their ids: move each id sequence past the largest, so the next insert gets a new one."""
    for table in _tables():
        for column in table.primary_key.columns:
            sequence = connection.scalar(select(func.pg_get_serial_sequence(table.name, column.name)))
            if sequence is not None:
                connection.execute(select(func.setval(cast(sequence, REGCLASS), func.coalesce(func.max(column), 0) + 1,
                                                      false())))


def _verify(connection: Connection, source: _Source, path: Path) -> RestoreReport:
    """Inside the restoring transaction: a failure here rolls every restored row back."""
    counts = _row_counts(connection)
    if counts != source.counts:
        differing = ", ".join(f"{name} {counts.get(name)} of {source.counts.get(name)}"
                              for name in sorted(set(counts) | set(source.counts))
                              if counts.get(name) != source.counts.get(name))
        raise BackupRefused(f"Restoring {path} failed and nothing was restored: row counts differ ({differing}).")
    with Session(bind=connection) as session:
        report = integrity.check(session)
    if report.broken:
        names = "; ".join(f"{broken.policy_code} version {broken.number}" for broken in report.broken)
        raise BackupRefused(f"Restoring {path} failed and nothing was restored: damaged versions in the backup: {names}.")
    if report.audit_broken_at is not None:
        raise BackupRefused(f"Restoring {path} failed and nothing was restored: the audit trail in the backup is broken "
                            f"at event {report.audit_broken_at}.")
    return RestoreReport(counts, source.header["dialect"], source.header["alembic_revision"], report.versions,
                         report.events)
