"""`tuneproof compete init` / `team add`: the token alone on the last line; bad input exits 2."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.compete import service

runner = CliRunner()


def test_init_and_team_add_print_working_tokens(tmp_path: Path) -> None:
    root = tmp_path / "comp"
    out = runner.invoke(app, ["compete", "init", str(root), "--daily-limit", "3"])
    assert out.exit_code == 0, out.output
    admin = out.stdout.strip().splitlines()[-1]
    comp = service.open_competition(root)
    assert service.authenticate(comp, admin).admin  # type: ignore[union-attr]
    team = runner.invoke(app, ["compete", "team", "add", str(root), "red"])
    token = team.stdout.strip().splitlines()[-1]
    caller = service.authenticate(comp, token)
    assert caller is not None and caller.team == "red"
    assert service.info(comp, caller).quota_left == 3
    assert token not in (root / "competition.db").read_bytes().decode("latin-1")  # stored hashed


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["compete", "init", str(tmp_path / "c"), "--closes-at", "tomorrow"])
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "--closes-at" in bad.stderr
    missing = runner.invoke(app, ["compete", "team", "add", str(tmp_path / "nope"), "red"])
    assert missing.exit_code == 2 and "compete init" in missing.stderr
