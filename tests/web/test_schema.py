"""Schemathesis over every ``/api/`` operation: no 500s and every response matches its schema,
both for a client without the token (refused, 403) and for one with it (the handlers run)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tuneproof.web import create_app

TOKEN = "schema-token"


@pytest.fixture(scope="module")
def api_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with one finished-looking and one broken run (no training needed)."""
    from tuneproof import rundir

    ws = tmp_path_factory.mktemp("schema-ws")
    run = ws / "runs" / "done"
    run.mkdir(parents=True)
    rundir.write(run, rundir.Manifest(status="complete", started="2026-01-01T00:00:00"))
    rundir.write(run, rundir.Progress(step=3, max_steps=3, phase="evaluate"))
    broken = ws / "runs" / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    return ws


# schemathesis calls the app as Starlette's TestClient does, with Host "testserver"
HOSTS = ("testserver",)
APP = create_app(Path("."), token=TOKEN, hosts=HOSTS)  # rebound to the fixture's workspace
# /api/strategy traces a model per call (seconds each): tests/web/test_schema_learn_a.py
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path="/api/strategy")


def test_every_api_operation_is_in_the_schema() -> None:
    paths = APP.openapi()["paths"]
    assert all(p.startswith("/api/") for p in paths)
    ops = {(m.upper(), p) for p, item in paths.items() for m in item}
    assert ("POST", "/api/runs") in ops and ("GET", "/api/compare") in ops
    # 10 run operations, 6 of learn-a's modules, POST /api/lora, /api/tokens, /api/evalplan
    assert len(ops) == 19


# the learning modules' endpoints compute for seconds: tests/web/test_schema_learn_b.py
@schema.exclude(path_regex=r"^/api/(lora|tokens|evalplan)$").parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.parametrize("with_token", [False, True])
def test_api(case: schemathesis.Case, with_token: bool, api_workspace: Path) -> None:
    from tuneproof.web.security import Settings

    APP.state.settings = Settings(api_workspace, token=TOKEN, hosts=HOSTS)
    headers = {"Origin": "http://testserver", "X-Tuneproof-Token": TOKEN} if with_token else {}
    cookies = {"tuneproof_token": TOKEN} if with_token else {}
    response = case.call(headers=headers, cookies=cookies, timeout=60)  # cold imports
    # A config is YAML text checked by RunConfig, which no JSON schema can express, so a
    # schema-valid body may still be a 400 with the config error: not a positive-data failure.
    case.validate_response(response, excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500
    documented = case.method.upper() == case.operation.method.upper()
    if documented and case.method.upper() in ("POST", "PUT") and not with_token:
        assert response.status_code in (400, 403, 422)  # 400: a body that is not UTF-8 JSON
