"""Running the Alembic migrations that build and upgrade every database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from policyflow.models.search import DIALECT_OBJECTS, FTS_TABLE

_SCRIPTS = Path(__file__).resolve().parent / "migrations"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Leave the full-text index objects each database adds in 0006 (not in the model) out of comparisons.

    SQLite's FTS5 table and its shadow tables (``search_fts_data``, ...), PostgreSQL's generated
    ``tsvector`` columns of ``search_entries`` and their GIN indexes: autogenerate would otherwise offer
    to drop them.
    """
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(FTS_TABLE)
    table = (parent_names or {}).get("table_name")
    return not (table == "search_entries" and name in DIALECT_OBJECTS)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = getattr(getattr(obj, "table", None), "name", None)
    return include_name(name, type_, {"table_name": table} if table else None)


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.connect() as connection:
        command.upgrade(alembic_config(connection=connection), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return revision_of(connection)


def revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
