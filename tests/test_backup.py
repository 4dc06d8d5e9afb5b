"""Backups, restores and the integrity check, as an operator runs them: through the ``policyflow`` command.

The source is the shared SQLite test database with the demo data (only read). Restores go into fresh
SQLite files and fresh PostgreSQL schemas; every comparison is of the rows themselves (the JSON lines
of a backup without its header and trailer, which name the source database and the time).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, inspect, select, text

from policyflow import backup, migrate
from policyflow.cli import main as cli
from policyflow.db import make_engine
from policyflow.models import PolicyVersion
from policyflow.models.search import FTS_TABLE
from policyflow.services import search
from policyflow.services.actors import Actor
from policyflow.services.policies import version_text
from tests.conftest import IN_CI, PG_URL, _postgres_engine

# Backups read the shared demo database of the SQLite run (these tests never write to it).
from_sqlite_demo = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"POLICYFLOW_DATABASE_URL": url})


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def row_lines(path: Path) -> list[str]:
    """The rows of a JSON-lines backup (header and trailer left out)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    return lines[1:-1]


def version_texts(engine: Engine) -> dict[tuple[str, int], str]:
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        return {(version.policy.code, version.number): version_text(session, version.policy, version)
                for version in session.scalars(select(PolicyVersion))}


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema (skipped without PostgreSQL, failed in CI)."""
    if not PG_URL:
        if IN_CI:
            pytest.fail("POLICYFLOW_TEST_DATABASE_URL is not set in CI")
        pytest.skip("POLICYFLOW_TEST_DATABASE_URL is not set")
    engine, schema = _postgres_engine()
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    yield url
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="module")
def source_backup(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backups") / "demo.jsonl.gz"
    backup.backup(engine, path)
    return path


@from_sqlite_demo
def test_round_trip_sqlite_postgresql_sqlite_keeps_every_row(engine: Engine, source_backup: Path, postgres_url: str,
                                                             tmp_path: Path) -> None:
    # SQLite -> PostgreSQL
    restored = run(postgres_url, "restore", str(source_backup))
    assert restored.exit_code == 0, restored.output
    assert "Verified: 50 policy versions" in restored.output
    from_postgres = tmp_path / "from-postgres.jsonl"
    assert run(postgres_url, "backup", str(from_postgres)).exit_code == 0
    # PostgreSQL -> SQLite
    final = sqlite_url(tmp_path / "final.sqlite3")
    assert run(final, "restore", str(from_postgres)).exit_code == 0
    again = tmp_path / "again.jsonl"
    assert run(final, "backup", str(again)).exit_code == 0

    original = row_lines(source_backup)
    assert len(original) > 500 and original == row_lines(from_postgres) == row_lines(again)
    header = json.loads(from_postgres.read_text().splitlines()[0])
    assert header["dialect"] == "postgresql" and header["alembic_revision"] == migrate.head_revision()
    # Every table the migrations create is in the backup (besides the revision and SQLite's search index).
    final_engine = make_engine(final)
    tables = {name for name in inspect(final_engine).get_table_names()
              if name != "alembic_version" and not name.startswith(FTS_TABLE)}
    assert tables == {table["name"] for table in header["tables"]}
    assert version_texts(final_engine) == version_texts(engine)
    verified = run(final, "audit", "verify")
    assert verified.exit_code == 0 and "Audit trail intact" in verified.output
    # The restored copies work: new rows get new ids (PostgreSQL sequences moved on) and search finds text.
    postgres = make_engine(postgres_url)
    with postgres.begin() as connection:
        largest = connection.scalar(text("SELECT max(id) FROM policies"))
        new_id = connection.scalar(text("INSERT INTO policies (code, title, section, owner_department, head_version_number, "
                                        "created_at, updated_at) VALUES ('NEW', 'New', '', '', 0, now(), now()) RETURNING id"))
        assert new_id == largest + 1
        connection.rollback()
    postgres.dispose()
    from sqlalchemy.orm import Session

    with Session(final_engine) as session:
        assert search.search(session, Actor.system(), "bullying").items
    final_engine.dispose()


@from_sqlite_demo
def test_plain_and_compressed_backups_hold_the_same_rows(engine: Engine, source_backup: Path, tmp_path: Path) -> None:
    plain = tmp_path / "demo.jsonl"
    result = run(sqlite_url(Path(engine.url.database)), "backup", str(plain))
    assert result.exit_code == 0 and "Backed up" in result.output
    assert row_lines(plain) == row_lines(source_backup)
    assert source_backup.stat().st_size < plain.stat().st_size / 3
    target = tmp_path / "target.sqlite3"
    assert run(sqlite_url(target), "restore", str(plain)).exit_code == 0
    assert version_texts(make_engine(sqlite_url(target))) == version_texts(engine)


@from_sqlite_demo
def test_native_sqlite_backup_is_a_complete_database_that_restores(engine: Engine, source_backup: Path,
                                                                    tmp_path: Path) -> None:
    copy = tmp_path / "demo.sqlite3"
    result = run(sqlite_url(Path(engine.url.database)), "backup", str(copy))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert connection.execute("SELECT count(*) FROM policy_versions").fetchone() == (50,)
    assert not list(tmp_path.glob("*.partial"))
    # Usable as is (POLICYFLOW_DATABASE_URL pointing at it) and restorable like the JSON lines.
    assert run(sqlite_url(copy), "check").exit_code == 0
    target = tmp_path / "target.sqlite3"
    restored = run(sqlite_url(target), "restore", str(copy))
    assert restored.exit_code == 0, restored.output
    again = tmp_path / "again.jsonl"
    assert run(sqlite_url(target), "backup", str(again)).exit_code == 0
    assert row_lines(again) == row_lines(source_backup)


def test_a_native_copy_of_postgresql_is_refused(postgres_url: str, tmp_path: Path) -> None:
    result = run(postgres_url, "backup", str(tmp_path / "pg.sqlite3"))
    assert result.exit_code == 1
    assert "Use a .jsonl.gz file name" in result.output
    assert not list(tmp_path.iterdir())


@from_sqlite_demo
def test_a_target_with_data_is_refused_unless_forced(engine: Engine, source_backup: Path, tmp_path: Path) -> None:
    target = sqlite_url(tmp_path / "target.sqlite3")
    assert run(target, "restore", str(source_backup)).exit_code == 0
    with make_engine(target).begin() as connection:
        connection.execute(text("DELETE FROM comments"))
    refused = run(target, "restore", str(source_backup))
    assert refused.exit_code == 1
    assert "already holds policyflow data" in refused.output and "--force" in refused.output
    forced = run(target, "restore", "--force", str(source_backup))
    assert forced.exit_code == 0, forced.output
    again = tmp_path / "again.jsonl"
    assert run(target, "backup", str(again)).exit_code == 0
    assert row_lines(again) == row_lines(source_backup)


def damaged_copies(source: Path, folder: Path) -> dict[str, Path]:
    lines = gzip.decompress(source.read_bytes()).splitlines(keepends=True)
    raw = b"".join(lines)
    copies = {
        "cut mid-line": raw[: len(raw) // 2],
        "without its trailer": b"".join(lines[:-1]),
        "a value edited": raw.replace(b'"admin"', b'"admln"', 1),
        "a row removed": b"".join(lines[:5] + lines[6:]),
    }
    paths = {}
    for name, content in copies.items():
        path = folder / f"{name.replace(' ', '-')}.jsonl"
        path.write_bytes(content)
        paths[name] = path
    gz = folder / "cut.jsonl.gz"
    gz.write_bytes(source.read_bytes()[: source.stat().st_size - 100])
    paths["compressed, cut"] = gz
    return paths


@from_sqlite_demo
def test_a_truncated_or_edited_file_is_refused_and_nothing_is_written(source_backup: Path, tmp_path: Path) -> None:
    for name, path in damaged_copies(source_backup, tmp_path).items():
        target = tmp_path / f"{path.stem}.target.sqlite3"
        result = run(sqlite_url(target), "restore", str(path))
        assert result.exit_code == 1, name
        assert any(word in result.output for word in ("truncated", "altered", "damaged")), (name, result.output)
        assert not target.exists(), name


@from_sqlite_demo
def test_a_load_that_fails_verification_leaves_no_row(source_backup: Path, postgres_url: str, tmp_path: Path) -> None:
    """A well-formed file whose data is wrong (a damaged version, checksum recomputed) is rolled back on PostgreSQL
    and SQLite alike."""
    lines = gzip.decompress(source_backup.read_bytes()).splitlines(keepends=True)
    for index, line in enumerate(lines):
        record = json.loads(line)
        if record.get("table") == "policy_versions" and record["row"]["full_text"] is None:
            record["row"]["patch"] = record["row"]["patch"].replace("a", "e", 1)
            lines[index] = backup._line(record)
            break
    digest = hashlib.sha256(b"".join(lines[:-1])).hexdigest()
    trailer = json.loads(lines[-1]) | {"sha256": digest}
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_bytes(b"".join(lines[:-1]) + backup._line(trailer))
    for url in (postgres_url, sqlite_url(tmp_path / "target.sqlite3")):
        result = run(url, "restore", str(wrong))
        assert result.exit_code == 1
        assert "nothing was restored: damaged versions in the backup" in result.output, result.output
        target = make_engine(url)
        with target.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM policy_versions")) == 0
            assert connection.scalar(text("SELECT count(*) FROM events")) == 0
        target.dispose()


@from_sqlite_demo
def test_check_names_a_damaged_version_and_exits_1(engine: Engine, tmp_path: Path) -> None:
    copy = tmp_path / "copy.sqlite3"
    backup.backup(engine, copy)
    url = sqlite_url(copy)
    intact = run(url, "check")
    assert intact.exit_code == 0
    assert "50 versions of 10 policies checked: all intact." in intact.output and "Audit trail intact" in intact.output
    with sqlite3.connect(copy) as connection:
        # A version kept only as a patch (keyframes every 3 in the test data: version 2 has none).
        (code,) = connection.execute(
            "SELECT p.code FROM policy_versions v JOIN policies p ON p.id = v.policy_id "
            "WHERE v.full_text IS NULL AND v.number = 2 AND instr(v.patch, char(10) || '+') > 0 "
            "ORDER BY p.code LIMIT 1").fetchone()
        patch = connection.execute("SELECT patch FROM policy_versions v JOIN policies p ON p.id = v.policy_id "
                                   "WHERE p.code = ? AND v.number = 2", (code,)).fetchone()[0]
        position = patch.index("\n+") + 2  # the first inserted word
        damaged = patch[:position] + ("X" if patch[position] != "X" else "Y") + patch[position + 1:]
        connection.execute("UPDATE policy_versions SET patch = ? WHERE number = 2 AND policy_id = "
                           "(SELECT id FROM policies WHERE code = ?)", (damaged, code))
    result = run(url, "check")
    assert result.exit_code == 1
    assert f"BROKEN {code} version 2:" in result.output
    assert f"BROKEN {code} version 3: Policy {code} version 3 cannot be rebuilt: it is stored as changes to damaged " \
           "version 2." in result.output
    assert "2 damaged." in result.output
    with sqlite3.connect(copy) as connection:
        connection.execute("UPDATE events SET actor = 'someone else' WHERE seq = 7")
    result = run(url, "check")
    assert result.exit_code == 1 and "Audit trail BROKEN at event 7" in result.output


@from_sqlite_demo
def test_check_names_a_lost_version_and_a_head_without_its_text(engine: Engine, tmp_path: Path) -> None:
    copy = tmp_path / "copy.sqlite3"
    backup.backup(engine, copy)
    with sqlite3.connect(copy) as connection:
        connection.execute("PRAGMA foreign_keys = OFF")
        (lost_from,) = connection.execute(
            "SELECT code FROM policies WHERE head_version_number >= 3 ORDER BY code LIMIT 1").fetchone()
        connection.execute("DELETE FROM policy_versions WHERE number = 2 AND policy_id = "
                           "(SELECT id FROM policies WHERE code = ?)", (lost_from,))
        (textless,) = connection.execute("SELECT code FROM policies WHERE code > ? ORDER BY code LIMIT 1",
                                         (lost_from,)).fetchone()
        connection.execute("UPDATE policy_versions SET full_text = NULL WHERE policy_id = (SELECT id FROM policies "
                           "WHERE code = ?) AND number = (SELECT head_version_number FROM policies WHERE code = ?)",
                           (textless, textless))
    result = run(sqlite_url(copy), "check")
    assert result.exit_code == 1
    assert f"BROKEN {lost_from} version 2: Policy {lost_from} version 2 is missing." in result.output
    assert f"Policy {lost_from} version 3 is not the child of version 2." in result.output
    assert f"Policy {textless} head version" in result.output and "keeps no full text" in result.output


@from_sqlite_demo
def test_backup_refuses_to_overwrite_unless_forced(engine: Engine, tmp_path: Path) -> None:
    url = sqlite_url(Path(engine.url.database))
    path = tmp_path / "nightly.jsonl.gz"
    path.write_text("keep me")
    refused = run(url, "backup", str(path))
    assert refused.exit_code == 1 and "already exists" in refused.output
    assert path.read_text() == "keep me"
    assert run(url, "backup", "--force", str(path)).exit_code == 0
    assert len(row_lines(path)) > 500
    wrong_name = run(url, "backup", str(tmp_path / "nightly.zip"))
    assert wrong_name.exit_code == 1 and ".jsonl.gz" in wrong_name.output
    empty = run(sqlite_url(tmp_path / "empty.sqlite3"), "backup", str(tmp_path / "empty.jsonl"))
    assert empty.exit_code == 1 and "nothing to back up" in empty.output
    native_of_empty = run(sqlite_url(tmp_path / "empty.sqlite3"), "backup", str(tmp_path / "empty-copy.sqlite3"))
    assert native_of_empty.exit_code == 1 and "nothing to back up" in native_of_empty.output
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("empty.sqlite3")) == ["nightly.jsonl.gz"]
    older = tmp_path / "older.sqlite3"
    backup.backup(engine, older)
    with sqlite3.connect(older) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0009'")
    refused = run(sqlite_url(older), "backup", str(tmp_path / "older-copy.sqlite3"))
    assert refused.exit_code == 1 and "schema revision 0009" in refused.output and "db upgrade" in refused.output
    assert not (tmp_path / "older-copy.sqlite3").exists()


def test_restoring_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    not_json = tmp_path / "notes.jsonl"
    not_json.write_text('{"hello": "world"}\n')
    result = run(sqlite_url(tmp_path / "target.sqlite3"), "restore", str(not_json))
    assert result.exit_code == 1 and "is not a policyflow backup" in result.output
    not_sqlite = tmp_path / "notes.sqlite3"
    shutil.copy(not_json, not_sqlite)
    result = run(sqlite_url(tmp_path / "target.sqlite3"), "restore", str(not_sqlite))
    assert result.exit_code == 1 and "not a usable SQLite database" in result.output
    missing = run(sqlite_url(tmp_path / "target.sqlite3"), "restore", str(tmp_path / "missing.jsonl.gz"))
    assert missing.exit_code == 1 and "There is no backup file" in missing.output
