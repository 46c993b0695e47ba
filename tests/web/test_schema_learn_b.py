"""Schemathesis over the learning modules' endpoints (``POST /api/lora``, ``/api/tokens``,
``/api/evalplan``): no 500s, every response matches its schema (a 422 included), with and without
the token. Their handlers compute for seconds (a LoRA curve builds nine meta models), hence fewer
examples and a longer timeout than tests/web/test_schema.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tuneproof.web import create_app

TOKEN = "schema-learn-b"
HOSTS = ("testserver",)
APP = create_app(Path("."), token=TOKEN, hosts=HOSTS)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
OURS = r"^/api/(lora|tokens|evalplan)$"


@pytest.fixture(scope="module")
def learn_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tuneproof.plan.lora import analyze_named

    analyze_named("minilm-l6")  # the default model, once, before the clock of any example
    return tmp_path_factory.mktemp("schema-learn-ws")


def _check(case: schemathesis.Case, with_token: bool, ws: Path) -> None:
    from tuneproof.web.security import Settings

    APP.state.settings = Settings(ws, token=TOKEN, hosts=HOSTS)
    headers = {"Origin": "http://testserver", "X-Tuneproof-Token": TOKEN} if with_token else {}
    cookies = {"tuneproof_token": TOKEN} if with_token else {}
    response = case.call(headers=headers, cookies=cookies, timeout=600)
    # schema-valid input can still be refused by the library (an unknown model, a target the
    # architecture lacks): a 422 with the reason, which is not a positive-data failure
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500
    documented = case.method.upper() == case.operation.method.upper()
    if documented and not with_token:
        assert response.status_code in (400, 403, 422)


@schema.include(path_regex=r"^/api/(tokens|evalplan)$").parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("with_token", [False, True])
def test_tokens_and_evalplan(
    case: schemathesis.Case, with_token: bool, learn_workspace: Path
) -> None:
    _check(case, with_token, learn_workspace)


@pytest.mark.slow
@schema.include(path="/api/lora").parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("with_token", [False, True])
def test_lora(case: schemathesis.Case, with_token: bool, learn_workspace: Path) -> None:
    _check(case, with_token, learn_workspace)


def test_our_operations_are_documented() -> None:
    import re

    ops = {(m.upper(), p) for p, item in APP.openapi()["paths"].items() for m in item}
    ours = {op for op in ops if re.match(OURS, op[1])}
    assert ours == {("POST", "/api/lora"), ("POST", "/api/tokens"), ("POST", "/api/evalplan")}
