"""Fixtures for the sweep tests: a tiny sweepable config, a real `mlflow server`, PostgreSQL.

The MLflow server is the real `mlflow server` CLI in a subprocess on 127.0.0.1 (a free port, a
SQLite backend store and an artifact root in a temp dir). PostgreSQL is the throw-away cluster
fixture of tests/compete/conftest.py (reused, not copied): skipped with its reason where the
Debian package is not installed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

_spec = importlib.util.spec_from_file_location(
    "tuneproof_tests_compete_conftest", Path(__file__).parents[1] / "compete" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_compete = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_compete)
free_port = _compete.free_port
postgres_url = _compete.postgres_url  # the fixture itself, registered here under its name

SPACE = {
    "training.learning_rate": {"log": [1.0e-3, 1.0e-2]},
    "training.batch_size": {"choice": [8, 16]},
}


@pytest.fixture
def sweep_files(tmp_path: Path, tiny_bert_dir: Path, toy_data: dict[str, Path], make_config):  # type: ignore[no-untyped-def]
    """(config.yaml, space.yaml) of a tiny sweep: 12 steps, validation every 4."""
    cfg = make_config(tiny_bert_dir, toy_data)
    cfg["name"] = "tiny"
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump(SPACE), encoding="utf-8")
    return config, space


@pytest.fixture
def postgres_database(postgres_url: str) -> str:
    """A fresh database on the shared throw-away cluster (one per test)."""
    import sqlalchemy

    name = f"sweep{free_port()}"
    eng = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    eng.dispose()
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


class MlflowServer:
    """`mlflow server` on 127.0.0.1, SQLite backend, artifacts in a temp dir."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        root.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(Path(sys.executable).with_name("mlflow")),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--workers",
            "1",
        ]
        self.log = (root / "server.log").open("wb")
        env = {**os.environ, "MLFLOW_TRACKING_URI": ""}
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        import httpx

        deadline = time.monotonic() + 300  # a loaded CI machine: migrations + imports
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {(root / 'server.log').read_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("mlflow server did not start within 300 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a real tracking server for the whole session."""
    if not Path(sys.executable).with_name("mlflow").exists():
        pytest.skip("the mlflow CLI is not installed beside this Python")
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield server.url
    finally:
        server.stop()
