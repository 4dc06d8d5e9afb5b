"""Alembic environment: runs on the connection or URL handed over by ``policyflow.migrate``."""

from __future__ import annotations

from alembic import context

from policyflow.db import make_engine
from policyflow.migrate import include_name, include_object
from policyflow.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    if connection.dialect.name != "sqlite":
        _migrate(connection)
        return
    # SQLite alters a table by copying it and dropping the old one; with foreign keys enforced, dropping a
    # table other rows point at fails (or cascades). They are off for the migration (the pragma is ignored
    # inside a transaction, so it is set before one starts and read back), and every reference is checked
    # before the migration commits.
    if connection.in_transaction():
        raise RuntimeError("SQLite migrations must start outside a transaction (foreign keys cannot be paused inside one)")
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        if raw.execute("PRAGMA foreign_keys").fetchone()[0] != 0:
            raise RuntimeError("SQLite did not pause foreign key enforcement; the migration was not run")
        _migrate(connection, check=_foreign_keys_intact)
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _foreign_keys_intact(connection) -> None:  # type: ignore[no-untyped-def]
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration would leave rows pointing at missing rows: {broken[:5]}; nothing was changed")


def _migrate(connection, check=None) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    if check is not None:
        check(connection)  # before the commit: a failed check rolls everything back
    if connection.in_transaction():
        connection.commit()


run_migrations_online()
