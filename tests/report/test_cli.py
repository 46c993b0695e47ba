"""`tuneproof report` from the command line: files, --pr on stdout, one-line errors, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.errors import UserError

from .conftest import set_eval_sha

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
    assert "| language=fr | 30 | 0.4000 | -0.5000 | **▼ regressed** |" in result.stdout


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


def test_baseline_on_other_data_exits_2_with_one_line(run_dir: Path, baseline_dir: Path) -> None:
    set_eval_sha(baseline_dir, "c" * 64)
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
