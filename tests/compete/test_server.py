"""The competition API against a real server process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import random
from pathlib import Path

import httpx
import pytest

from tuneproof.compete import service

from .conftest import Server, make_competition


def _test_ids(root: Path) -> list[str]:
    with (root / "test.csv").open(encoding="utf-8", newline="") as fh:
        return [r["id"] for r in csv.DictReader(fh)]


def _csv(ids: list[str], labels: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "label"])
    w.writerows(zip(ids, labels, strict=True))
    return buf.getvalue().encode()


def _random_labels(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice("01") for _ in range(n)]


@pytest.fixture
def server(tmp_path: Path, backend: str | None):
    root = tmp_path / "comp"
    admin = make_competition(root, db=backend, daily_limit=5)
    comp = service.open_competition(root)
    teams = {name: service.add_team(comp, name) for name in ("red", "blue")}
    srv = Server(root)
    yield srv, admin, teams
    srv.stop()


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_fifty_concurrent_submissions_take_exactly_the_quota(server) -> None:
    srv, _admin, teams = server
    ids = _test_ids(srv.root)
    files = [_csv(ids, _random_labels(len(ids), seed)) for seed in range(50)]

    async def send_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=srv.url, timeout=120, limits=limits) as http:
            return await asyncio.gather(
                *(
                    http.post(
                        "/api/competition/submissions",
                        files={"file": ("s.csv", f, "text/csv")},
                        headers=_auth(teams["red"]),
                    )
                    for f in files
                )
            )

    responses = asyncio.run(send_all())
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 5 and codes.count(429) == 45, codes
    assert all(int(r.headers["Retry-After"]) > 0 for r in responses if r.status_code == 429)
    own = httpx.get(srv.url + "/api/competition/submissions", headers=_auth(teams["red"])).json()
    accepted = {r.json()["submission"]["id"] for r in responses if r.status_code == 201}
    assert {s["id"] for s in own} == accepted  # none lost, none doubled
    left = httpx.get(srv.url + "/api/competition/", headers=_auth(teams["red"])).json()
    assert left["quota_left"] == 0


MALFORMED = {
    "missing ids": lambda ids: _csv(ids[:-3], ["1"] * (len(ids) - 3)),
    "duplicate ids": lambda ids: _csv([*ids, ids[0]], ["1"] * (len(ids) + 1)),
    "extra ids": lambda ids: _csv([*ids, "not-an-id"], ["1"] * (len(ids) + 1)),
    "label 2": lambda ids: _csv(ids, ["2"] + ["1"] * (len(ids) - 1)),
    "latin-1": lambda ids: _csv(ids, ["1"] * len(ids)) + "caf\xe9,1\n".encode("latin-1"),
    "50 MB": lambda ids: b"id,label\n" + b"x" * (50 * 1024 * 1024),
    "empty": lambda ids: b"",
    "header only": lambda ids: b"id,label\n",
}


def test_malformed_files_are_422_and_cost_no_quota(server) -> None:
    srv, _admin, teams = server
    ids = _test_ids(srv.root)
    for case, make in MALFORMED.items():
        r = httpx.post(
            srv.url + "/api/competition/submissions",
            files={"file": ("s.csv", make(ids), "text/csv")},
            headers=_auth(teams["red"]),
            timeout=120,
        )
        assert r.status_code == 422, (case, r.text)
        body = r.json()
        assert body["errors"] and all("message" in e for e in body["errors"]), case
        info = httpx.get(srv.url + "/api/competition/", headers=_auth(teams["red"])).json()
        assert info["quota_left"] == 5, case


def test_no_response_or_file_reveals_a_hidden_label(server) -> None:
    srv, admin, teams = server
    comp = service.open_competition(srv.root)
    from sqlalchemy import select

    from tuneproof.compete.store import Answer, transaction

    with transaction(comp.engine) as s:
        hidden = {a.test_id: a.label for a in s.scalars(select(Answer))}
    ids = _test_ids(srv.root)
    assert set(ids) == set(hidden)
    test_csv = httpx.get(srv.url + "/api/competition/test.csv").text
    assert test_csv.splitlines()[0] == "id,text"
    bodies = [test_csv]
    httpx.post(
        srv.url + "/api/competition/submissions",
        files={"file": ("s.csv", _csv(ids, ["1"] * len(ids)), "text/csv")},
        headers=_auth(teams["red"]),
    )
    for path in ("/", "/submissions", "/leaderboard", "/leaderboard?board=private"):
        for token in (teams["red"], admin):
            bodies.append(httpx.get(srv.url + "/api/competition" + path, headers=_auth(token)).text)
    bodies.append(httpx.get(srv.url + "/openapi.json").text)
    bodies.append(httpx.get(srv.url + "/").text)
    for text in bodies:
        # a label travels as "id,label" in a CSV or as an id key next to it in JSON
        for i, label in list(hidden.items())[:200]:
            assert f"{i},{label}" not in text and f'"{i}":"{label}"' not in text
        assert "label" not in text.split("\n", 1)[0] or text.startswith("{")
    for name in ("test.csv", "rules.md", "starter.py", "starter.ipynb", "competition.json"):
        content = (srv.root / name).read_text(encoding="utf-8")
        assert not any(f"{i},{label}" in content for i, label in hidden.items())


def test_boards_and_privacy(server) -> None:
    srv, admin, teams = server
    ids = _test_ids(srv.root)
    same = _csv(ids, ["1"] * len(ids))
    first = httpx.post(
        srv.url + "/api/competition/submissions",
        files={"file": ("s.csv", same, "text/csv")},
        headers=_auth(teams["red"]),
    ).json()["submission"]
    # blue sends the same labels later (different bytes: other line endings): a tie
    second = httpx.post(
        srv.url + "/api/competition/submissions",
        files={"file": ("s.csv", same.replace(b"\n", b"\r\n"), "text/csv")},
        headers=_auth(teams["blue"]),
    ).json()["submission"]
    assert first["public_accuracy"] == second["public_accuracy"]
    board = httpx.get(srv.url + "/api/competition/leaderboard").json()["rows"]
    assert [r["team"] for r in board] == ["red", "blue"]  # tie: the earlier submission first
    lo, hi = board[0]["ci"]
    assert lo < board[0]["accuracy"] < hi

    priv = httpx.get(
        srv.url + "/api/competition/leaderboard?board=private", headers=_auth(teams["red"])
    )
    assert priv.status_code == 403
    foreign = httpx.get(
        f"{srv.url}/api/competition/submissions/{first['id']}", headers=_auth(teams["blue"])
    )
    assert foreign.status_code == 404
    assert (
        httpx.get(
            srv.url + "/api/competition/leaderboard?board=private", headers=_auth(admin)
        ).status_code
        == 200
    )

    again = httpx.post(
        srv.url + "/api/competition/submissions",
        files={"file": ("s.csv", same, "text/csv")},
        headers=_auth(teams["red"]),
    )
    assert again.status_code == 200 and again.json()["submission"]["duplicate_of"] == first["id"]

    assert (
        httpx.post(srv.url + "/api/competition/close", headers=_auth(teams["red"])).status_code
        == 403
    )
    assert httpx.post(srv.url + "/api/competition/close", headers=_auth(admin)).status_code == 200
    late = httpx.post(
        srv.url + "/api/competition/submissions",
        files={"file": ("s.csv", _csv(ids, ["0"] * len(ids)), "text/csv")},
        headers=_auth(teams["red"]),
    )
    assert late.status_code == 409
    priv = httpx.get(
        srv.url + "/api/competition/leaderboard?board=private", headers=_auth(teams["red"])
    )
    assert priv.status_code == 200 and [r["team"] for r in priv.json()["rows"]] == ["red", "blue"]
