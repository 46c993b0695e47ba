"""`eval` checks the data it evaluates: copies, rows of the train split, and dedupes examples."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuneproof import rundir
from tuneproof.checks.base import normalise
from tuneproof.cli import app
from tuneproof.evaluate.failures import analyse_failures

runner = CliRunner()


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_eval_writes_duplicate_and_leakage_findings(run_copy, eval_data, tmp_path):
    train = read_rows(eval_data["train"])
    test = read_rows(eval_data["test"])
    train_texts = {normalise(r["text"]) for r in train}
    fresh = [r for r in test if normalise(r["text"]) not in train_texts]
    seen: set[str] = set()
    fresh = [
        r for r in fresh if not (normalise(r["text"]) in seen or seen.add(normalise(r["text"])))
    ]
    leaked = [{**train[i], "id": f"leak{i}", "lang": "en"} for i in (0, 5)]
    copies = [{**fresh[0], "id": f"copy{c}"} for c in range(3)]
    rows = [{k: r[k] for k in fresh[0]} for r in [*fresh, *leaked, *copies]]
    data = write_rows(tmp_path / "held-out.csv", rows)

    result = runner.invoke(app, ["eval", str(run_copy), "--data", str(data), "--resamples", "200"],
                           env={"COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 0, result.output
    checks = rundir.read(run_copy, rundir.EvalChecks)
    assert checks.train is not None and checks.train.path == str(eval_data["train"])
    assert set(checks.dataset) == {"held-out.csv"}
    leak = [f for f in checks.findings if f.check == "leakage" and f.severity == "error"]
    assert sorted(r for f in leak for r in f.rows) == ["leak0", "leak5"]
    assert {rel.split for f in leak for rel in f.related} == {"train"}
    dup = [f for f in checks.findings if f.check == "exact_duplicate"]
    assert [sorted(f.rows) for f in dup] == [sorted([fresh[0]["id"], "copy0", "copy1", "copy2"])]
    assert checks.duplicate_rows("held-out.csv") == 3
    assert checks.summary.errors == 2
    assert "2 rows also in the train split" in result.stdout
    assert "held-out.csv: 3 rows copy another row's text" in result.stdout
    assert "eval_checks.json" in result.stdout


def test_worst_examples_show_one_row_per_text():
    rows = [
        {"id": str(i), "text": "The same  TEXT" if i < 6 else f"text {i}", "gold": "a",
         "pred": "b", "probabilities": {"a": 0.02, "b": 0.98}}
        for i in range(10)
    ]  # fmt: skip
    report = analyse_failures(rows)
    confident = next(c for c in report.categories if c.name == "confident_wrong")
    assert confident.errors == 10
    assert [e["id"] for e in confident.examples] == ["0", "6", "7", "8", "9"]
    assert confident.examples[0]["copies"] == 6
    assert "copies" not in confident.examples[1]


@pytest.mark.slow
def test_builtin_german_test_file_holds_45_copies(tmp_path):
    from tuneproof.config import parse_config
    from tuneproof.data.corpora import builtin_dataset
    from tuneproof.evaluate.datachecks import check_eval_data
    from tuneproof.evaluate.predict import read_eval_files

    config = parse_config({"data": {"builtin": "polarity-en"}, "model": {"name": "minilm-l6"}})
    data = read_eval_files([builtin_dataset(f"polarity-{lang}")["test"] for lang in ("de", "fr")])
    checks = check_eval_data(config, tmp_path, data, seed=0)
    names = [d.name for d in data]
    assert [checks.duplicate_rows(n) for n in names] == [45, 216]
    assert checks.train is not None and checks.note is None
