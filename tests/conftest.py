"""Shared fixtures: a migrated database per backend, a rolled-back transaction per test.

Every test that takes ``session`` runs once on SQLite and, where
``POLICYFLOW_TEST_DATABASE_URL`` is set, once on PostgreSQL. Each backend is built by running the
Alembic migrations into a fresh database (a fresh schema on PostgreSQL) and loaded with the demo
data once; each test then runs inside a transaction with savepoints that is rolled back
(the Warehouse pattern), so tests never see each other's writes.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_INSTANCE = tempfile.mkdtemp(prefix="policyflow-test-instance-")
os.environ.setdefault("POLICYFLOW_INSTANCE_PATH", _INSTANCE)
os.environ.setdefault("POLICYFLOW_SECRET_KEY", "test-secret-key")

from flask import Flask  # noqa: E402 - the environment above must be set first
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from policyflow import migrate  # noqa: E402
from policyflow.db import make_engine, make_session_factory, transaction  # noqa: E402
from policyflow.services import demo  # noqa: E402
from policyflow.services.policies import StoreSettings  # noqa: E402
from policyflow.web import create_app  # noqa: E402

IN_CI = os.environ.get("CI") == "true"
PG_URL = os.environ.get("POLICYFLOW_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
STORE = StoreSettings(keyframe_interval=3, max_text_bytes=2 * 1024 * 1024)


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not PG_URL:
        raise pytest.UsageError("CI=true but POLICYFLOW_TEST_DATABASE_URL is not set: PostgreSQL tests would not run.")


def _postgres_engine() -> tuple[Engine, str]:
    schema = f"pf_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach PostgreSQL
        admin.dispose()
        message = f"PostgreSQL at {PG_URL} is not usable: {error}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    admin.dispose()
    separator = "&" if "?" in PG_URL else "?"
    return make_engine(f"{PG_URL}{separator}options=-csearch_path%3D{schema}"), schema


def _demo_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A new database (a SQLite file, or a schema of its own on PostgreSQL), migrated, with the demo data."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}")
        schema = None
    else:
        engine, schema = _postgres_engine()
    migrate.upgrade(engine)
    with transaction(make_session_factory(engine)) as session:
        demo.load(session, STORE)
    yield engine
    engine.dispose()
    if schema:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from _demo_database(request.param, tmp_path_factory)


@pytest.fixture(scope="session", params=BACKENDS)
def committed_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A demo database of its own for tests that commit for real and leave their data (other processes, crashes):
    nothing is rolled back, so tests on it use policy codes of their own."""
    yield from _demo_database(request.param, tmp_path_factory)


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that join one outer transaction, rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    db = session_factory()
    yield db
    db.close()


@pytest.fixture
def app(session_factory: sessionmaker[Session]) -> Flask:
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SESSION_FACTORY": session_factory,
        "WTF_CSRF_ENABLED": False,
        "STORE_SETTINGS": STORE,
    })


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def login(client: FlaskClient, username: str, password: str = demo.DEMO_PASSWORD) -> None:
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.fixture
def as_user(client: FlaskClient):
    def sign_in(username: str) -> FlaskClient:
        login(client, username)
        return client

    return sign_in


def api_token(client: FlaskClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"username": username, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


REPO = Path(__file__).resolve().parent.parent
