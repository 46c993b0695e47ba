"""The label-review loop: `check --review` writes the queue, `data apply-review` applies it."""

from __future__ import annotations

import csv
import json
import random
import shutil
from hashlib import sha256
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.data.load import read_table

runner = CliRunner()


def user_error(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, result.output
    return lines[0].removeprefix("error: ")


POS = ["good", "great", "superb", "lovely", "wonderful", "brilliant", "charming", "fine"]
NEG = ["bad", "awful", "poor", "dull", "boring", "terrible", "weak", "messy"]
FILLER = ["the", "film", "book", "plot", "was", "a", "story", "actor", "scene", "really", "it"]


def flipped(n: int = 300, flips: int = 12, seed: int = 2) -> tuple[pd.DataFrame, dict[str, str]]:
    """Learnable rows (the label is the polarity of the words) with ``flips`` labels changed."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = rng.choice(["pos", "neg"])
        words = rng.sample(FILLER, 5) + rng.sample(POS if label == "pos" else NEG, 3)
        rng.shuffle(words)
        rows.append({"id": f"r{i}", "text": " ".join(words), "label": label})
    truth = {}
    for row in rng.sample(rows, flips):
        truth[row["id"]] = row["label"]
        row["label"] = "neg" if row["label"] == "pos" else "pos"
    return pd.DataFrame(rows), truth


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A flipped train file (12 planted label errors) and its review queue, checked once."""
    tmp = tmp_path_factory.mktemp("review")
    df, truth = flipped()
    train = tmp / "train.csv"
    df.to_csv(train, index=False)
    review = tmp / "queue" / "review.csv"
    result = runner.invoke(app, ["check", "--train", str(train), "--id", "id",
                                 "--output", str(tmp / "checks"),
                                 "--review", str(review)])  # fmt: skip
    assert result.exit_code == 0, result.output
    return SimpleNamespace(train=train, review=review, truth=truth)


@pytest.fixture
def queue(written: SimpleNamespace, tmp_path: Path) -> SimpleNamespace:
    """A private copy of the queue (tests decide it)."""
    review = tmp_path / "review.csv"
    shutil.copy(written.review, review)
    shutil.copy(written.review.with_suffix(".json"), review.with_suffix(".json"))
    return SimpleNamespace(train=written.train, review=review, truth=written.truth, tmp=tmp_path)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_accept_three_reject_two_changes_exactly_those_three_labels(queue):
    rows = read_rows(queue.review)
    assert list(rows[0]) == ["split", "row", "text", "label", "suggested", "score",
                             "evidence", "decision"]  # fmt: skip
    assert len(rows) >= 5 and all(r["decision"] == "" for r in rows)
    assert {r["row"] for r in rows} >= set(queue.truth)  # the planted flips are in the queue
    for r in rows:
        if r["row"] in queue.truth:
            assert r["suggested"] == queue.truth[r["row"]]
    for r in rows[:3]:
        r["decision"] = "accept"
    for r in rows[3:5]:
        r["decision"] = "reject"
    write_rows(queue.review, rows)
    out = queue.tmp / "reviewed"
    result = runner.invoke(app, ["data", "apply-review", str(queue.review), "-o", str(out)])
    assert result.exit_code == 0, result.output
    before, after = read_table(queue.train), read_table(out / "train.csv")
    assert list(before.columns) == list(after.columns) and len(before) == len(after)
    differs = before.ne(after)
    assert differs.drop(columns="label").to_numpy().sum() == 0  # only labels change
    changed = set(before.loc[differs["label"], "id"])
    assert changed == {r["row"] for r in rows[:3]}
    for r in rows[:3]:
        assert after.loc[after["id"] == r["row"], "label"].item() == r["suggested"]
    log = json.loads((out / "changelog.json").read_text())
    assert (log["accepted"], log["rejected"]) == (3, 2)
    assert log["undecided"] == len(rows) - 5
    assert [c["row"] for c in log["changes"]] == [r["row"] for r in rows[:3]]
    digest = sha256((out / "train.csv").read_bytes()).hexdigest()
    assert log["files"]["train.csv"]["sha256"] == digest


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda r: r.update(decision="maybe"), r"line 2 .*decision 'maybe' is not accept"),
        (lambda r: r.update(row="no-such-row"), r"line 2 .*row 'no-such-row' does not exist"),
        (lambda r: r.update(text=r["text"] + " edited"), r"line 2 .*column 'text' differs"),
        (lambda r: r.update(label=r["suggested"]), r"line 2 .*column 'label' is"),
        (lambda r: r.update(score="high"), r"line 2: column 'score'"),
    ],
)
def test_a_bad_review_names_file_row_and_field_and_writes_nothing(queue, edit, expected):
    rows = read_rows(queue.review)
    rows[0]["decision"] = "accept"
    edit(rows[0])
    write_rows(queue.review, rows)
    out = queue.tmp / "reviewed"
    result = runner.invoke(app, ["data", "apply-review", str(queue.review), "-o", str(out)])
    message = user_error(result)
    assert "review.csv" in message
    assert pd.Series([message]).str.contains(expected).item(), message
    assert not out.exists()
    assert not [p for p in queue.tmp.iterdir() if p.name.startswith(".reviewed")]


def test_the_output_never_replaces_the_data_or_a_foreign_folder(queue):
    result = runner.invoke(app, ["data", "apply-review", str(queue.review), "-o",
                                 str(queue.train.parent)])  # fmt: skip
    assert "which the review reads" in user_error(result)
    assert queue.train.is_file()
    other = queue.tmp / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    result = runner.invoke(app, ["data", "apply-review", str(queue.review), "-o", str(other)])
    assert "is not a dataset" in user_error(result)
    assert (other / "keep.txt").is_file()


def test_review_needs_its_manifest(queue):
    queue.review.with_suffix(".json").unlink()
    result = runner.invoke(app, ["data", "apply-review", str(queue.review), "-o", "x"])
    assert "review.json: not found" in user_error(result)
