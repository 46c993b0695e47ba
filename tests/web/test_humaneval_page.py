"""The rating page of ``tuneproof ui``: export, rate item by item, compute; the page shows only
what the sheet shows (never the key), text from the data is escaped, posts need the token."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tuneproof import rundir
from tuneproof.web import create_app

from ..evaluate.humaneval_fixtures import PAYLOAD, generation_run

TOKEN = "test-token"
ORIGIN = {"Origin": "http://127.0.0.1"}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    generation_run(tmp_path / "runs" / "sft", n=8, same_every=100)
    return tmp_path


@pytest.fixture
def client(ws: Path) -> TestClient:
    c = TestClient(create_app(ws, token=TOKEN), base_url="http://127.0.0.1")
    c.get("/")  # the token cookie
    return c


def _post(client: TestClient, url: str, **form: str) -> Any:
    return client.post(url, data={"_token": TOKEN, **form}, headers=ORIGIN, follow_redirects=False)


def test_export_rate_and_compute_in_the_browser(client: TestClient, ws: Path) -> None:
    run = ws / "runs" / "sft"
    page = client.get("/runs/sft/humaneval")
    assert page.status_code == 200 and 'id="export-sheet"' in page.text
    r = _post(client, "/runs/sft/humaneval/export", n="3", raters="2", baseline="")
    assert r.status_code == 303
    key = rundir.read(run, rundir.HumanEvalKey)
    assert len(key.items) == 3

    for k in range(3):
        page = client.get("/runs/sft/humaneval", params={"rater": "alice"})
        assert f"{k} of 3 done" in page.text
        item = key.items[k].item_id  # sheet order
        assert f'<code id="item-id">{item}</code>' in page.text
        # the key stays in the run directory: no row id, no side in the page
        assert "row-secret" not in page.text and "run_side" not in page.text
        assert PAYLOAD not in page.text  # markup from the data is shown as text
        r = _post(
            client, "/runs/sft/humaneval/rate", rater="alice", item_id=item, choice="ab"[k % 2]
        )
        assert r.status_code == 303
    page = client.get("/runs/sft/humaneval", params={"rater": "alice"})
    assert 'id="all-done"' in page.text
    saved = list(csv.DictReader((run / "humaneval" / "ratings" / "alice.csv").open()))
    assert [(row["item_id"], row["rater"], row["choice"]) for row in saved] == [
        (it.item_id, "alice", "ab"[k % 2]) for k, it in enumerate(key.items)
    ]

    r = _post(client, "/runs/sft/humaneval/import", rater="alice")
    assert r.status_code == 303
    h = rundir.read(run, rundir.HumanEval)
    want = sum(("ab"[k % 2]) == it.run_side for k, it in enumerate(key.items)) / 3
    assert h.overall.win == pytest.approx(want) and h.overall.n_ratings == 3
    assert 'id="humaneval-overall"' in client.get("/runs/sft/humaneval").text

    # the app never hands out the key: not in the run page's files, not by URL
    assert (run / rundir.HUMANEVAL_KEY).is_file()
    assert rundir.HUMANEVAL_KEY not in client.get("/runs/sft").text
    assert client.get(f"/files/runs/sft/{rundir.HUMANEVAL_KEY}").status_code == 404
    assert client.get(f"/files/runs/sft/{rundir.HUMANEVAL}").status_code == 200


def test_the_rating_page_escapes_the_prompt(client: TestClient, ws: Path) -> None:
    from tuneproof.evaluate.humaneval_files import export_sheet

    run = ws / "runs" / "sft"
    export_sheet(run, n=8, raters=1, seed=0)
    key = rundir.read(run, rundir.HumanEvalKey)
    # rate until the markup row is the current item
    for it in key.items:
        page = client.get("/runs/sft/humaneval", params={"rater": "bob"})
        if it.row_id == "row-secret-1":
            assert "&lt;script&gt;" in page.text and "<script>document" not in page.text
            return
        _post(client, "/runs/sft/humaneval/rate", rater="bob", item_id=it.item_id, choice="tie")
    raise AssertionError("the markup row was not sampled")


def test_rating_posts_are_guarded_and_validated(client: TestClient, ws: Path) -> None:
    from tuneproof.evaluate.humaneval_files import export_sheet

    run = ws / "runs" / "sft"
    export_sheet(run, n=2, raters=1, seed=0)
    item = rundir.read(run, rundir.HumanEvalKey).items[0].item_id
    no_token = client.post(
        "/runs/sft/humaneval/rate",
        data={"rater": "eve", "item_id": item, "choice": "a"},
        headers=ORIGIN,
    )
    cross = client.post(
        "/runs/sft/humaneval/rate",
        data={"_token": TOKEN, "rater": "eve", "item_id": item, "choice": "a"},
        headers={"Origin": "http://evil.example"},
    )
    assert no_token.status_code == 403 and cross.status_code == 403
    assert not (run / "humaneval" / "ratings" / "eve.csv").exists()
    bad = _post(client, "/runs/sft/humaneval/rate", rater="../../x", item_id=item, choice="a")
    assert bad.status_code == 400 and "rater" in bad.text
    bad = _post(client, "/runs/sft/humaneval/rate", rater="eve", item_id=item, choice="maybe")
    assert bad.status_code == 400 and "use a, b or tie" in bad.text
    assert not (run / "humaneval" / "ratings" / "eve.csv").exists()
    assert client.get("/runs/..%2f..%2fetc/humaneval").status_code == 404
