"""Readers of a run directory refuse a file they cannot trust, with one line naming it, and leave
it as it was: a ``metrics.json`` of a newer version or truncated by a crash, a prediction row
without its ``id``. Checked through the commands a user runs (report, eval, compare) on real run
directories written by train/eval/stress (``written_run``/``written_baseline`` in conftest.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuneproof.cli import app

runner = CliRunner()


@pytest.fixture
def runs(written_run: Path, written_baseline: Path, tmp_path: Path) -> tuple[Path, Path]:
    return (
        Path(shutil.copytree(written_run, tmp_path / "run")),
        Path(shutil.copytree(written_baseline, tmp_path / "baseline")),
    )


def _one_error_line(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def _commands(run: Path, baseline: Path) -> list[list[str]]:
    return [["report", str(run)], ["eval", str(run)], ["compare", str(run), str(baseline)]]


def _newer(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**raw, "version": 99}), encoding="utf-8")


def _truncated(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_newer, "version 99 is newer than this tuneproof reads (up to 1); upgrade tuneproof"),
        (_truncated, "invalid JSON at line"),
    ],
    ids=["version-99", "truncated"],
)
def test_a_bad_metrics_json_stops_every_reader_and_stays_as_it_was(
    runs: tuple[Path, Path],
    damage,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    run, baseline = runs
    path = run / "metrics.json"
    damage(path)
    before = path.read_bytes()
    others = {p: p.read_bytes() for p in run.iterdir() if p.is_file()}
    for args in _commands(run, baseline):
        line = _one_error_line(args)
        assert f"{path}: " in line and message in line, (args[0], line)
        assert path.read_bytes() == before, args[0]
    assert {p: p.read_bytes() for p in run.iterdir() if p.is_file()} == others  # nothing written


def test_a_prediction_row_without_id_names_its_line(runs: tuple[Path, Path]) -> None:
    run, baseline = runs
    path = run / "predictions.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[2])
    del row["id"]
    lines[2] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = path.read_bytes()
    for args in (["report", str(run)], ["compare", str(run), str(baseline)]):
        line = _one_error_line(args)
        assert f"{path}: line 3: id: Field required" in line, (args[0], line)
        assert path.read_bytes() == before
