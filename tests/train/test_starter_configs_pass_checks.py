"""The starter configs of `tuneproof init --task T` pass the data checks tuneproof ships with."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuneproof import rundir
from tuneproof.cli import app
from tuneproof.data import synthetic
from tuneproof.tasks import TASKS as REGISTRY

runner = CliRunner()

TASKS = [
    pytest.param(t, marks=pytest.mark.slow) if t == "sequence-classification" else t
    for t in REGISTRY
]


@pytest.mark.parametrize("task", TASKS)
def test_init_then_check_finds_no_errors(task: str, tmp_path: Path) -> None:
    config, out = tmp_path / "starter.yaml", tmp_path / "checks"
    assert runner.invoke(app, ["init", "--task", task, "-o", str(config)]).exit_code == 0
    result = runner.invoke(app, ["check", str(config), "--output", str(out)])
    assert result.exit_code == 0, result.output
    checks = rundir.read(out, rundir.Checks)
    errors = [f"{f.check} {f.split} {f.rows[:3]} {f.detail}" for f in checks.findings
              if f.severity == "error"]  # fmt: skip
    assert checks.summary.errors == 0, errors
    assert sum(r.rows or 0 for r in checks.dataset.values()) >= 80


@pytest.mark.parametrize("task", list(synthetic.GENERATORS))
def test_distinct_splits_have_no_near_duplicates_across_splits(task: str) -> None:
    splits = synthetic.distinct_splits(task)
    assert {s: len(r) for s, r in splits.items()} == {s: n for s, (n, _) in synthetic.SIZES.items()}
    texts = {s: [synthetic.shingles(synthetic.CHECK_TEXT[task](r)) for r in rows]
             for s, rows in splits.items()}  # fmt: skip
    names = list(texts)
    worst = max(
        synthetic.jaccard(a, b)
        for i, s in enumerate(names)
        for t in names[i + 1 :]
        for a in texts[s]
        for b in texts[t]
    )
    assert worst < synthetic.MAX_JACCARD
    assert splits == synthetic.distinct_splits(task)  # seeded: the same rows every time


def test_examples_data_is_the_distinct_splits() -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "data"
    import json

    for task in synthetic.GENERATORS:
        for split, rows in synthetic.distinct_splits(task).items():
            lines = (root / task / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
            assert [json.loads(x) for x in lines] == rows, f"{task}/{split}"
