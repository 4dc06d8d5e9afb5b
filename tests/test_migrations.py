"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from policyflow import migrate
from policyflow.db import make_engine, make_session_factory, transaction
from policyflow.models import Base, Policy, Review, SearchEntry
from policyflow.services import demo, search
from policyflow.services.actors import Actor
from tests.conftest import PG_URL, STORE, _postgres_engine


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_name": migrate.include_name, "include_object": migrate.include_object})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_an_upgraded_database_is_searchable(engine: Engine, tmp_path: Path) -> None:
    """0006 indexes what the database already holds, as the services would have (downgrade, upgrade, compare)."""
    if engine.dialect.name == "sqlite":
        fresh, schema = make_engine(f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"), None
    else:
        fresh, schema = _postgres_engine()
    try:
        migrate.upgrade(fresh)
        with transaction(make_session_factory(fresh)) as session:
            demo.load(session, STORE)
            before = _index(session)
        command.downgrade(migrate.alembic_config(url=fresh.url.render_as_string(hide_password=False)), "0005")
        assert migrate.current_revision(fresh) == "0005"
        command.upgrade(migrate.alembic_config(url=fresh.url.render_as_string(hide_password=False)), "head")
        with transaction(make_session_factory(fresh)) as session:
            assert _index(session) == before and len(before) > 100
            assert {r.kind for r in search.search(session, Actor.system(), "transportation").items} == {"policy", "comment"}
            # 0010 gives every existing policy and review a stamp of its own (the page caches key on them)
            stamps = session.scalars(select(Policy.notes_stamp)).all() + session.scalars(select(Review.comments_stamp)).all()
            assert len(set(stamps)) == len(stamps) > 10 and "0" not in stamps
    finally:
        fresh.dispose()
        if schema:
            _drop_schema(schema)


def _index(session: Session) -> list[tuple[object, ...]]:
    rows = session.execute(select(SearchEntry.kind, SearchEntry.policy_id, SearchEntry.version_number,
                                  SearchEntry.annotation_id, SearchEntry.comment_id, SearchEntry.review_id, SearchEntry.position,
                                  SearchEntry.anchor, SearchEntry.title, SearchEntry.body, SearchEntry.extra, SearchEntry.private))
    return sorted((*row[:-1], " ".join(row[-1].split())) for row in rows)


def _drop_schema(schema: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
