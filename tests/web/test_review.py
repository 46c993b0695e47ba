"""The app's label-review queue: decisions through the guard, the dataset written in the workspace."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tuneproof import rundir
from tuneproof.data.load import read_table
from tuneproof.data.review import read_review, write_review
from tuneproof.web import create_app

TOKEN = "test-token"
ORIGIN = {"Origin": "http://127.0.0.1"}
MARKUP = "<script>alert(1)</script> fine"


def make_queue(ws: Path, data: Path) -> Path:
    texts = [MARKUP, "a dull plot", "so boring", "lovely", "great fun", "superb", "weak"]
    labels = ["pos", "pos", "pos", "neg", "neg", "neg", "neg"]
    data.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": [f"r{i}" for i in range(7)], "text": texts, "label": labels}).to_csv(
        data, index=False
    )
    rows = [
        rundir.ReviewRow(split="train", row=f"r{i}", text=texts[i], label=labels[i],
                         suggested="neg" if labels[i] == "pos" else "pos", score=0.9 - i / 10)
        for i in range(5)
    ]  # fmt: skip
    manifest = rundir.ReviewManifest(
        text_column="text", label_column="label", id_column="id",
        sources={"train": rundir.ReviewSource(path=str(data), sha256="x", rows=7)},
    )  # fmt: skip
    review = ws / "checks" / "review.csv"
    write_review(review, rows, manifest)
    return review


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "runs").mkdir(parents=True)
    make_queue(ws, ws / "data" / "train.csv")
    return ws


@pytest.fixture
def client(ws: Path) -> TestClient:
    c = TestClient(create_app(ws, token=TOKEN), base_url="http://127.0.0.1")
    c.get("/")
    return c


def post(c: TestClient, url: str, **form: object) -> object:
    return c.post(url, data={"_token": TOKEN, **form}, headers=ORIGIN, follow_redirects=False)


def test_queue_is_listed_shown_escaped_decided_and_applied(client: TestClient, ws: Path) -> None:
    page = client.get("/review").text
    assert "checks/review.csv" in page
    page = client.get("/review", params={"file": "checks/review.csv"}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and MARKUP not in page
    for line, decision in [(0, "accept"), (1, "accept"), (2, "accept"), (3, "reject"),
                           (4, "reject")]:  # fmt: skip
        r = post(client, "/review/decide", file="checks/review.csv", line=line, decision=decision)
        assert r.status_code == 303  # type: ignore[attr-defined]
    decided = read_review(ws / "checks" / "review.csv")
    assert [r.decision for r in decided] == ["accept"] * 3 + ["reject"] * 2
    r = post(client, "/review/apply", file="checks/review.csv", output="reviewed")
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    before, after = read_table(ws / "data" / "train.csv"), read_table(ws / "reviewed" / "train.csv")
    assert list(before.loc[before["label"] != after["label"], "id"]) == ["r0", "r1", "r2"]
    assert (before["text"] == after["text"]).all()
    assert (ws / "reviewed" / "changelog.json").is_file()


def test_decisions_need_the_token_and_same_origin(client: TestClient, ws: Path) -> None:
    form = {"file": "checks/review.csv", "line": 0, "decision": "accept"}
    assert client.post("/review/decide", data=form, headers=ORIGIN).status_code == 403
    evil = {"Origin": "http://evil.example"}
    assert (
        client.post("/review/decide", data={**form, "_token": TOKEN}, headers=evil).status_code
        == 403
    )
    assert client.post("/review/apply", data={"file": "checks/review.csv", "output": "o"},
                       headers=ORIGIN).status_code == 403  # fmt: skip
    assert all(r.decision == "" for r in read_review(ws / "checks" / "review.csv"))
    assert not (ws / "o").exists()


@pytest.mark.parametrize("output", ["../outside", "/tmp/abs", "", ".tuneproof/x", "data"])
def test_output_must_be_a_new_folder_inside_the_workspace(
    client: TestClient, ws: Path, output: str
) -> None:
    r = post(client, "/review/apply", file="checks/review.csv", output=output)
    assert r.status_code == 400  # type: ignore[attr-defined]
    assert not (ws.parent / "outside").exists()
    assert read_table(ws / "data" / "train.csv")["label"].tolist()[0] == "pos"


def test_queue_and_its_data_must_be_inside_the_workspace(
    client: TestClient, ws: Path, tmp_path: Path
) -> None:
    assert client.get("/review", params={"file": "../x.csv"}).status_code == 404
    r = post(client, "/review/decide", file="../../etc/passwd", line=0, decision="accept")
    assert r.status_code == 404  # type: ignore[attr-defined]
    make_queue(ws, tmp_path / "elsewhere" / "train.csv")  # data outside the workspace
    r = post(client, "/review/apply", file="checks/review.csv", output="reviewed")
    assert r.status_code == 400 and "outside the workspace" in r.text  # type: ignore[attr-defined]
    assert not (ws / "reviewed").exists()
