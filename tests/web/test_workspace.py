"""Runs launched from the app: a separate ``tuneproof train`` process group found again by a new
app, cancelled with SIGTERM; a dead process means a failed run."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tuneproof import rundir, workspace
from tuneproof.web import create_app

TOKEN = "t"
HEADERS = {"Origin": "http://127.0.0.1", "X-Tuneproof-Token": TOKEN}


def _client(ws: Path) -> TestClient:
    c = TestClient(create_app(ws, token=TOKEN), base_url="http://127.0.0.1")
    c.get("/")
    return c


def _wait(predicate, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.2)


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    workspace.pid_alive(pgid)  # reap our child if it just ended
    return False


def test_launch_is_found_by_a_new_app_and_cancel_fails_it(tmp_path: Path, tiny_yaml: str) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    r = _client(ws).post("/api/runs", json={"name": "live", "config": tiny_yaml}, headers=HEADERS)
    assert r.status_code == 201, r.text
    pid = r.json()["pid"]
    assert r.json()["command"] == ["tuneproof", "train", "configs/live.yaml", "-o", "runs/live"]
    assert (ws / "configs/live.yaml").is_file()

    restarted = _client(ws)  # a second app over the same workspace: the run is found again
    runs = {x["name"]: x for x in restarted.get("/api/runs").json()}
    assert runs["live"]["status"] in ("starting", "running")
    # a second launch of the same name is refused while it runs
    again = restarted.post("/api/runs", json={"name": "live", "config": tiny_yaml}, headers=HEADERS)
    assert again.status_code == 400 and "still running" in again.json()["detail"]

    assert restarted.post("/api/runs/live/cancel", headers=HEADERS).json() == {"cancelled": True}
    _wait(lambda: _group_gone(pid))
    status, reason = workspace.run_status(ws, "live")
    assert (status, reason) == ("failed", "cancelled")
    assert restarted.post("/api/runs/live/cancel", headers=HEADERS).json() == {"cancelled": False}


def test_a_running_manifest_with_a_dead_pid_is_failed(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    run_dir = ws / "runs" / "base"
    run_dir.mkdir(parents=True)
    rundir.write(run_dir, rundir.Manifest(status="running", started="2026-01-01T00:00:00"))
    assert workspace.run_status(ws, "base") == ("running", None)  # started in a terminal

    proc = subprocess.Popen(["sleep", "0"])
    proc.wait()
    launch = workspace.Launch(
        pid=proc.pid, command=["tuneproof"], config="c.yaml", log="none.log", started="now"
    )
    (ws / ".tuneproof/launches").mkdir(parents=True)
    (ws / ".tuneproof/launches/base.json").write_text(launch.model_dump_json())
    status, reason = workspace.run_status(ws, "base")
    assert status == "failed" and reason is not None and "ended before" in reason


def test_a_launch_that_fails_shows_the_error_line(tmp_path: Path, tiny_yaml: str) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    cfg = workspace.validate_config(tiny_yaml, ws)
    cfg.data.test = str(tmp_path / "missing.csv")
    launch = workspace.start_run(ws, "broken", cfg)
    _wait(lambda: not workspace.pid_alive(launch.pid))
    status, reason = workspace.run_status(ws, "broken")
    assert status == "failed"
    assert reason is not None and "missing.csv" in reason
    assert not (ws / "runs" / "broken").exists()  # train wrote nothing


@pytest.mark.parametrize("name", ["..", ".hidden", "a/b", "", "x" * 101, "a..b"])
def test_bad_run_names_are_refused(name: str, tmp_path: Path) -> None:
    from tuneproof.errors import UserError

    with pytest.raises(UserError):
        workspace.run_path(tmp_path, name)


def test_inside_resolves_before_checking(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_text("x")
    (tmp_path / "out").symlink_to("/etc")
    assert workspace.inside(tmp_path, "a/f.txt") == (tmp_path / "a" / "f.txt").resolve()
    for bad in ("../etc/passwd", "/etc/passwd", "a/../../etc/passwd", "out/passwd", "a", "a/nope"):
        assert workspace.inside(tmp_path, bad) is None, bad
