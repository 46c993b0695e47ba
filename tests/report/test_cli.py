"""`tuneproof report` from the command line: files, --pr on stdout, one-line errors, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.errors import UserError
from tuneproof.report import load_evidence
from tuneproof.report.baseline import compare_to_baseline
from tuneproof.report.render import num, signed

from .conftest import edit_json, metrics

runner = CliRunner()


def _user_error(result) -> str:  # type: ignore[no-untyped-def]
    """The one error line a command printed (UserError -> exit code 2, no traceback)."""
    assert result.exit_code == 2, result.output
    assert not isinstance(result.exception, UserError)  # handled: one line, no traceback
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_report_writes_files_and_prints_the_pr(run_dir: Path, baseline_dir: Path) -> None:
    result = runner.invoke(app, ["report", str(run_dir), "--baseline", str(baseline_dir), "--pr"])
    assert result.exit_code == 0, result.output
    assert (run_dir / "report.md").exists() and (run_dir / "report.html").exists()
    assert (run_dir / "model" / "README.md").exists()
    assert result.stdout.startswith("## run: sequence-classification")
    cmp = compare_to_baseline(load_evidence(run_dir), load_evidence(baseline_dir))
    overall = cmp.overall
    assert overall is not None and overall.delta is not None
    m = metrics(run_dir)["overall"]
    assert (
        f"| overall | {m['n']} | {num(m['accuracy'])} | {signed(overall.delta)} |" in result.stdout
    )


def test_format_and_model_card_options(run_dir: Path) -> None:
    result = runner.invoke(
        app, ["report", str(run_dir), "--format", "html", "--no-model-card", "--license", "mit"]
    )
    assert result.exit_code == 0, result.output
    assert (run_dir / "report.html").exists() and not (run_dir / "report.md").exists()
    assert not (run_dir / "model" / "README.md").exists()
    assert "license: mit" in (run_dir / "report.html").read_text()


def test_missing_metrics_is_a_one_line_error(run_dir: Path) -> None:
    (run_dir / "metrics.json").unlink()
    msg = _user_error(runner.invoke(app, ["report", str(run_dir)]))
    assert "metrics.json: not found" in msg and "tuneproof train" in msg


def test_a_newer_manifest_is_a_one_line_error_naming_it(run_dir: Path) -> None:
    path = run_dir / "manifest.json"
    edit_json(path, version=2)
    before = path.read_bytes()
    msg = _user_error(runner.invoke(app, ["report", str(run_dir)]))
    assert f"{path}: version 2 is newer" in msg
    assert path.read_bytes() == before and not (run_dir / "report.md").exists()


def test_baseline_on_other_data_exits_2_with_one_line(run_dir: Path, baseline_dir: Path) -> None:
    data = metrics(baseline_dir)["eval"]["data"]
    data[0]["sha256"] = "c" * 64
    edit_json(baseline_dir / "metrics.json", eval__data=data)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tuneproof",
            "report",
            str(run_dir),
            "--baseline",
            str(baseline_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "baseline was evaluated on different data" in lines[0]
    assert "Traceback" not in proc.stderr and not (run_dir / "report.md").exists()
