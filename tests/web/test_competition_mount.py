"""`tuneproof ui` serves the workspace's competition at /competition (the same app as
`tuneproof compete serve`)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tuneproof.compete import service
from tuneproof.web.app import create_app


def test_the_competition_is_mounted(tmp_path: Path) -> None:
    _, admin = service.init_competition(tmp_path / "competition", daily_limit=2)
    client = TestClient(create_app(tmp_path), base_url="http://127.0.0.1:7860")
    page = client.get("/competition/")
    assert page.status_code == 200 and "Public leaderboard" in page.text
    rules = client.get("/competition/api/competition/").json()
    assert rules["daily_limit"] == 2 and rules["test_rows"] == 1000
    private = client.get("/competition/api/competition/leaderboard?board=private")
    assert private.status_code == 403
    ok = client.get(
        "/competition/api/competition/leaderboard?board=private",
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert ok.status_code == 200


def test_no_competition_folder_no_mount(tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path), base_url="http://127.0.0.1:7860")
    assert client.get("/competition/").status_code == 404
