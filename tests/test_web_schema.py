"""schemathesis against the app's own OpenAPI schema: whatever it sends, in process, the API
answers with a documented status and never with a server error.

The operations are driven from the test with hypothesis (``APIOperation.as_strategy``), not
through schemathesis's pytest plugin, so the test does not depend on pytest internals."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from commops.web import accounts
from webkit import demo_workspace, web_app


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, str]]:
    ws = demo_workspace(tmp_path_factory.mktemp("schema") / "ws", members=80, months=6)
    app = web_app(ws)
    with ws.store.session() as session:
        # An operator with a write token reaches every route but account administration, which
        # a fuzzer must not use to lock itself out.
        issued = accounts.create_token(
            session, "operator", "fuzz", scopes=("read", "write"), actor="test"
        )
    auth = {"Authorization": f"Bearer {issued.secret}"}
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app), auth


def test_api_never_answers_a_server_error(api_schema: tuple[Any, dict[str, str]]) -> None:
    schema, auth = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 100
    failures: list[str] = []
    for operation in operations:

        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(headers=auth)
            case.validate_response(response, checks=(not_a_server_error, status_code_conformance))

        try:
            check()
        except Exception as exc:
            failures.append(f"{operation.label}: {str(exc).splitlines()[0] if str(exc) else exc!r}")
    assert failures == []
