"""schemathesis against the app's own OpenAPI schema: whatever it sends, in process, the API
answers with a documented status and never with a server error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from commops.web import accounts
from webkit import demo_workspace, web_app

AUTH: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    ws = demo_workspace(tmp_path_factory.mktemp("schema") / "ws", members=80, months=6)
    app = web_app(ws)
    with ws.store.session() as session:
        # An operator with a write token reaches every route but account administration, which
        # a fuzzer must not use to lock itself out.
        issued = accounts.create_token(
            session, "operator", "fuzz", scopes=("read", "write"), actor="test"
        )
    AUTH["Authorization"] = f"Bearer {issued.secret}"
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_answers_a_server_error(case: Any) -> None:
    response = case.call(headers=AUTH)
    case.validate_response(response, checks=(not_a_server_error, status_code_conformance))
