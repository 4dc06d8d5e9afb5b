"""Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis).

Every operation of /api/v1/openapi.json gets generated requests (bounded and derandomized, so a run is
repeatable) sent with an ombuds API token; each answer must be no 5xx, a documented status code, the
documented content type and a body that matches the documented schema. More examples:
``POLICYFLOW_FUZZ_EXAMPLES=200 pytest tests/web/test_api_fuzz.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

schemathesis = pytest.importorskip("schemathesis")

from policyflow.models import User  # noqa: E402 - after the skip above
from policyflow.services import accounts  # noqa: E402
from policyflow.web import create_app  # noqa: E402
from tests.conftest import BACKENDS, STORE  # noqa: E402

EXAMPLES = int(os.environ.get("POLICYFLOW_FUZZ_EXAMPLES", "8"))
pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def fuzzed(engine: Engine) -> Iterator[tuple[object, dict[str, str]]]:
    """The app on a copy of the demo rolled back at the end, and an ombuds token."""
    connection = engine.connect()
    outer = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    with factory() as session:
        user = session.scalar(select(User).where(User.username == "ombuds"))
        _row, token = accounts.create_token(session, user, "fuzz")
        session.commit()
    app = create_app({"TESTING": True, "SECRET_KEY": "fuzz-secret", "SESSION_FACTORY": factory, "WTF_CSRF_ENABLED": False,
                      "STORE_SETTINGS": STORE, "LOGIN_RATE_LIMIT": "100000 per hour",
                      "COMMENT_RATE_LIMIT": "100000 per hour"})
    app.logger.disabled = True
    yield app, {"Authorization": f"Bearer {token}"}
    outer.rollback()
    connection.close()


# Once, on the production database where there is one (PostgreSQL refuses inputs SQLite accepts, e.g. NUL).
@pytest.mark.parametrize("engine", [BACKENDS[-1]], indirect=True)
def test_every_operation_answers_as_documented(fuzzed: tuple[object, dict[str, str]]) -> None:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    app, headers = fuzzed
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=False,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=checks)

        try:
            exercise()
        except Exception as error:  # noqa: BLE001 - every operation's failure is collected, then reported
            failures[operation.label] = str(error)[:600]
    assert operations > 20
    assert not failures, "\n\n".join(f"{label}: {message}" for label, message in failures.items())
