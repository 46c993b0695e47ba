"""Schemathesis over ``POST /api/strategy`` on its own: every call traces a model on the meta
device (seconds), so it gets fewer examples and a longer timeout than test_schema.py's."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tuneproof.web import create_app

TOKEN = "schema-token"
HOSTS = ("testserver",)
APP = create_app(Path("."), token=TOKEN, hosts=HOSTS)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(path="/api/strategy")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_strategy_api(case: schemathesis.Case) -> None:
    headers = {"Origin": "http://testserver", "X-Tuneproof-Token": TOKEN}
    response = case.call(headers=headers, cookies={"tuneproof_token": TOKEN}, timeout=300)
    case.validate_response(response)
    assert response.status_code < 500
