"""The `sweep` command's face: --help with an example, bad input is one line and exit 2 with
nothing written."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tuneproof.cli import app


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["sweep", "--help"])
    assert result.exit_code == 0
    assert "Example: " in result.output and "tuneproof sweep" in result.output


def test_bad_space_key_exits_2_and_writes_nothing(
    tmp_path: Path, sweep_files: tuple[Path, Path]
) -> None:
    config, _ = sweep_files
    space = tmp_path / "bad.yaml"
    space.write_text("training.batch_sise: {choice: [8, 16]}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(config), "--space", str(space), "-o", str(out)])
    assert result.exit_code == 2
    assert "training.batch_sise" in result.output and "did you mean 'batch_size'" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_bad_direction_exits_2(tmp_path: Path, sweep_files: tuple[Path, Path]) -> None:
    config, _ = sweep_files
    result = CliRunner().invoke(app, ["sweep", str(config), "--direction", "up"])
    assert result.exit_code == 2 and "use max or min" in result.output
