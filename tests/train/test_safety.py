"""`train` never loses a run: validation before any write, staged --overwrite, a failed manifest
on a signal, resume past a checkpoint cut off while saving, one data validation for check and
train, and --set overrides. Tiny random-init BERT, a few steps."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from tests.conftest import toy_rows, write_csv
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.config import parse_config
from tuneproof.errors import UserError
from tuneproof.io import read_json
from tuneproof.train import run

runner = CliRunner()


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _write_cfg(raw: dict, path: Path) -> Path:
    path.write_text(yaml.safe_dump(raw))
    return path


def _lines(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.strip()]


@pytest.fixture
def quick(tiny_bert_dir, toy_data, make_config) -> dict:
    """The fastest real run: 4 steps, one evaluation, one checkpoint."""
    return make_config(tiny_bert_dir, toy_data, max_steps=4)


@pytest.fixture
def done_run(quick, tmp_path) -> Path:
    out = tmp_path / "done"
    run(parse_config(quick), out)
    return out


def test_a_run_records_lint_memory_and_throughput(done_run: Path) -> None:
    lint = read_json(done_run / "lint.json")
    assert all({"severity", "argument", "message"} <= set(f) for f in lint["findings"])
    # learning_rate 5e-3 for full fine-tuning is far above the linter's range: it must say so
    assert any(f["argument"] == "learning_rate" for f in lint["findings"])
    res = read_json(done_run / "manifest.json")["resources"]
    assert res["peak_memory_kind"] in ("rss", "cuda") and res["peak_memory_bytes"] > 10 * 2**20
    # 4 steps x 8 rows of short toy sentences: non-padding tokens, fewer than 4 x 8 x 32 padded
    assert 0 < res["train_tokens"] < 4 * 8 * 32
    assert res["tokens_per_second"] > 0
    assert res["estimated_peak_bytes"] > 0 and res["estimate_note"].startswith("full, batch 8")


def test_overwrite_with_data_failing_the_gate_leaves_the_old_run_byte_identical(
    done_run: Path, quick: dict, toy_data, tmp_path: Path
) -> None:
    before = tree_hashes(done_run)
    leaked = toy_rows(32, seed=3, prefix="te")
    leaked[0]["text"] = toy_rows(1, seed=1, prefix="tr")[0]["text"]  # a train row in test
    write_csv(toy_data["test"], leaked)
    raw = {**quick, "checks": {"enabled": True, "fail_on": "error"}}
    cfg = _write_cfg(raw, tmp_path / "cfg.yaml")
    result = runner.invoke(app, ["train", str(cfg), "-o", str(done_run), "--overwrite"])
    assert result.exit_code == 2, result.output
    assert "data checks found" in result.output
    assert tree_hashes(done_run) == before
    assert sorted(p.name for p in done_run.parent.iterdir() if p.name.startswith(".")) == []


def test_overwrite_swaps_the_new_run_in_and_keeps_the_plan(
    done_run: Path, quick: dict, tmp_path: Path
) -> None:
    (done_run / "plan.md").write_text("# plan\n")
    old = read_json(done_run / "manifest.json")["started"]
    raw = {**quick, "training": {**quick["training"], "seed": 7}}
    run(parse_config(raw), done_run, overwrite=True)
    assert (done_run / "plan.md").read_text() == "# plan\n"
    assert read_json(done_run / "manifest.json")["status"] == "complete"
    assert yaml.safe_load((done_run / "config.yaml").read_text())["training"]["seed"] == 7
    assert read_json(done_run / "manifest.json")["started"] >= old
    assert [p.name for p in done_run.parent.iterdir() if p.name.startswith(".")] == []


def test_resume_on_a_completed_run_exits_2(done_run: Path, quick: dict, tmp_path: Path) -> None:
    before = tree_hashes(done_run)
    cfg = _write_cfg(quick, tmp_path / "cfg.yaml")
    result = runner.invoke(app, ["train", str(cfg), "-o", str(done_run), "--resume"])
    assert result.exit_code == 2, result.output
    assert "already complete" in result.output
    assert tree_hashes(done_run) == before


def test_eval_refuses_a_corrupt_metrics_json_and_leaves_it(done_run: Path) -> None:
    path = done_run / "metrics.json"
    path.write_text('{"version": 1, "training": {')  # cut off
    before = path.read_bytes()
    result = runner.invoke(app, ["eval", str(done_run)])
    assert result.exit_code == 2, result.output
    assert "metrics.json" in result.output and "invalid JSON" in result.output
    assert path.read_bytes() == before


def test_max_length_beyond_the_models_positions_exits_2_before_writing(
    quick: dict, tmp_path: Path
) -> None:
    raw = {**quick, "data": {**quick["data"], "max_length": 100}}  # the tiny BERT has 64
    out = tmp_path / "out"
    with pytest.raises(UserError, match=r"data.max_length: 100 .* 64 positions"):
        run(parse_config(raw), out)
    assert not out.exists()


def test_blank_label_exits_2_from_check_and_train_alike(quick: dict, toy_data, tmp_path) -> None:
    rows = toy_rows(96, seed=1, prefix="tr")
    rows[5]["label"] = ""
    write_csv(toy_data["train"], rows)
    cfg = _write_cfg(quick, tmp_path / "cfg.yaml")
    out = tmp_path / "out"
    results = {
        "train": runner.invoke(app, ["train", str(cfg), "-o", str(out)]),
        "check": runner.invoke(app, ["check", str(cfg), "-o", str(tmp_path / "c1")]),
        "check --train": runner.invoke(
            app, ["check", "--train", str(toy_data["train"]), "-o", str(tmp_path / "c2")]
        ),
    }
    for name, result in results.items():
        assert result.exit_code == 2, (name, result.output)
        lines = _lines(result.output)
        assert len(lines) == 1 and "train.csv: row 5: label 'label' is empty" in lines[0], name
    assert not out.exists() and not (tmp_path / "c1").exists()


def test_check_config_honours_checks_skip_and_set(quick: dict, toy_data, tmp_path: Path) -> None:
    leaked = toy_rows(32, seed=3, prefix="te")
    leaked[0]["text"] = toy_rows(1, seed=1, prefix="tr")[0]["text"]  # a train row in test
    write_csv(toy_data["test"], leaked)
    raw = {**quick, "checks": {"skip": ["leakage"]}}
    cfg = _write_cfg(raw, tmp_path / "cfg.yaml")
    out = tmp_path / "c"

    def checks_found(*args: str) -> set[str]:
        result = runner.invoke(app, ["check", str(cfg), "-o", str(out), *args])
        assert result.exit_code == 0, result.output
        return {f["check"] for f in read_json(out / "checks.json")["findings"]}

    assert "leakage" not in checks_found()
    assert "leakage" in checks_found("--set", "checks.skip=[]")


@pytest.mark.parametrize("command", ["train", "check", "plan", "init"])
def test_output_that_cannot_be_written_is_one_line_exit_2(
    command: str, quick: dict, tmp_path: Path
) -> None:
    """A path under a regular file cannot be created, also for root (chmod would not stop root);
    the error comes before any data is loaded."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    cfg = _write_cfg(quick, tmp_path / "cfg.yaml")
    target = str(blocker / "out")
    args = {
        "train": ["train", str(cfg), "-o", target],
        "check": ["check", str(cfg), "-o", target],
        "plan": ["plan", "-m", "minilm-l6", "--train-rows", "1000", "-o", target],
        "init": ["init", "-o", str(blocker / "t.yaml")],
    }[command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = _lines(result.output)
    assert len(lines) == 1 and "cannot write here" in lines[0], result.output
    assert blocker.read_text() == "x"


def test_set_overrides_are_validated_and_recorded(quick: dict, tmp_path: Path) -> None:
    cfg = _write_cfg(quick, tmp_path / "cfg.yaml")
    out = tmp_path / "out"
    bad = runner.invoke(
        app, ["train", str(cfg), "-o", str(out), "--set", "training.learnin_rate=1e-4"]
    )
    assert bad.exit_code == 2
    assert "did you mean 'learning_rate'" in bad.output and not out.exists()
    args = ["--set", "training.learning_rate=1e-4", "--set", "training.max_steps=2"]
    result = runner.invoke(app, ["train", str(cfg), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load((out / "config.yaml").read_text())["training"]
    assert saved["learning_rate"] == 1e-4 and saved["max_steps"] == 2
    assert read_json(out / "metrics.json")["training"]["global_step"] == 2


def test_apply_overrides_uses_yaml_values_and_suggests_keys() -> None:
    from tuneproof.config import apply_overrides

    raw = {"data": {"train": "x.csv"}}
    out = apply_overrides(
        raw, ["training.learning_rate=1e-4", "strategy.lora.r=4", "checks.skip=[leakage]"]
    )
    assert out["training"] == {"learning_rate": 1e-4}
    assert out["strategy"] == {"lora": {"r": 4}} and out["checks"] == {"skip": ["leakage"]}
    assert raw == {"data": {"train": "x.csv"}}  # a copy
    with pytest.raises(UserError, match="did you mean 'training'"):
        apply_overrides(raw, ["trainig.seed=1"])
    with pytest.raises(UserError, match="use eval_strategy"):
        apply_overrides(raw, ["training.evaluation_strategy=steps"])
    with pytest.raises(UserError, match="KEY=VALUE"):
        apply_overrides(raw, ["training.seed"])


SIGTERM_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, yaml
    from transformers import TrainerCallback
    from tuneproof.config import parse_config
    from tuneproof.train import run

    class TermAtStep(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 2:
                os.kill(os.getpid(), signal.SIGTERM)

    cfg = parse_config(yaml.safe_load(open(sys.argv[1])))
    run(cfg, sys.argv[2], callbacks=[TermAtStep()])
    """
)


def test_sigterm_mid_training_leaves_a_failed_manifest(quick: dict, tmp_path: Path) -> None:
    cfg = _write_cfg(quick, tmp_path / "cfg.yaml")
    (tmp_path / "term.py").write_text(SIGTERM_SCRIPT)
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "term.py"), str(cfg), str(out)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode not in (0, -signal.SIGTERM), proc.stderr[-2000:]
    assert "Terminated" in proc.stderr
    manifest = read_json(out / "manifest.json")
    assert manifest["status"] == "failed"
    assert manifest["reason"] == "terminated by SIGTERM"
    assert manifest["ended"] is not None
    assert not (out / "metrics.json").exists()


def test_checkpoint_problems_name_what_is_missing(tmp_path: Path) -> None:
    from tuneproof.train.run import checkpoint_problem

    ckpt = tmp_path / "checkpoint-4"
    ckpt.mkdir()
    assert checkpoint_problem(ckpt) == "no trainer_state.json"
    (ckpt / "trainer_state.json").write_text("{")
    assert checkpoint_problem(ckpt) == "trainer_state.json does not parse"
    (ckpt / "trainer_state.json").write_text(json.dumps({"global_step": 4}))
    assert checkpoint_problem(ckpt) == "no model weights"


def test_row_ids_agree_between_checks_and_predictions_with_data_split(
    toy_data, tiny_bert_dir
) -> None:
    """With data.split, both name a row by its row in the train file (not its position in the
    cut split)."""
    from transformers import AutoTokenizer

    from tuneproof.checks.base import CheckContext
    from tuneproof.data.load import load_splits
    from tuneproof.tasks import get_task

    cfg = parse_config({"data": {"train": str(toy_data["train"]), "split": {"test": 0.2}}})
    loaded = load_splits(cfg.data)
    prepared = get_task(cfg.task).prepare(loaded, cfg, AutoTokenizer.from_pretrained(tiny_bert_dir))
    ctx = CheckContext(
        splits=loaded.splits, text_column="text", label_column="label", id_column=None
    )
    for split in ("train", "validation", "test"):
        assert prepared.ids[split] == ctx.row_ids(split)
    all_ids = [i for s in ("train", "validation", "test") for i in prepared.ids[s]]
    assert sorted(all_ids, key=int) == [str(i) for i in range(96)]


def test_resume_skips_a_checkpoint_cut_off_while_saving(
    tiny_bert_dir, toy_data, make_config, tmp_path
) -> None:
    """A kill during the save of checkpoint-8 (simulated: its optimizer.pt truncated and its
    trainer_state.json gone, as when the process dies mid-save), then --resume: checkpoint-8 is
    skipped with a message, training continues from checkpoint-4 and ends with the metrics of an
    uninterrupted run."""
    from tests.train.test_run import KILL_SCRIPT

    raw = make_config(tiny_bert_dir, toy_data)
    cfg_path = _write_cfg(raw, tmp_path / "cfg.yaml")
    (tmp_path / "kill.py").write_text(KILL_SCRIPT)
    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "kill.py"), str(cfg_path), str(killed), "8"],
        env=env,
        capture_output=True,
    )
    assert proc.returncode == -signal.SIGKILL
    last = killed / "checkpoints" / "checkpoint-8"
    optimizer = last / "optimizer.pt"
    optimizer.write_bytes(optimizer.read_bytes()[: optimizer.stat().st_size // 2])
    (last / "trainer_state.json").unlink()

    result = runner.invoke(app, ["train", str(cfg_path), "-o", str(killed), "--resume"])
    assert result.exit_code == 0, result.output
    assert "skipping checkpoint-8" in result.output
    assert read_json(killed / "manifest.json")["resumed_from"] == "checkpoint-4"
    run(parse_config(raw), tmp_path / "straight")
    a = read_json(killed / "metrics.json")
    b = read_json(tmp_path / "straight" / "metrics.json")
    assert a == b


def test_a_failing_run_is_recorded_failed_in_process(quick: dict, tmp_path: Path) -> None:
    """An exception inside training (here from a callback) leaves status failed and the reason,
    and is re-raised unchanged."""
    from transformers import TrainerCallback

    class Boom(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            raise RuntimeError("disk on fire")

    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="disk on fire"):
        run(parse_config(quick), out, callbacks=[Boom()])
    manifest = read_json(out / "manifest.json")
    assert manifest["status"] == "failed" and manifest["reason"] == "RuntimeError: disk on fire"
    shutil.rmtree(out)


def test_the_report_shows_the_memory_estimate_beside_the_measured_peak(
    done_run: Path,
) -> None:
    from tuneproof.report import build_report

    build_report(done_run, formats="md", model_card=False)
    text = (done_run / "report.md").read_text()
    section = text.split("### Memory and throughput", 1)[1].split("\n## ", 1)[0]
    res = read_json(done_run / "manifest.json")["resources"]
    from tuneproof.plan.memory import format_bytes

    assert format_bytes(res["estimated_peak_bytes"]) in section
    assert format_bytes(res["peak_memory_bytes"]) in section
    assert "tokens/s" in section
