"""The training flow on a tiny random-init BERT: files written, learning, determinism, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tuneproof.config import parse_config
from tuneproof.io import read_json, read_jsonl
from tuneproof.rundir import dump
from tuneproof.train import run

RUN_FILES = {
    "config.yaml",
    "lint.json",
    "manifest.json",
    "metrics.json",
    "predictions.jsonl",
    "model",
    "checkpoints",
    "progress.json",
}


def test_run_writes_the_run_directory_and_learns(tiny_bert_dir, toy_data, make_config, tmp_path):
    cfg = parse_config(make_config(tiny_bert_dir, toy_data, max_steps=24))
    out = tmp_path / "run"
    result = run(cfg, out)

    assert {p.name for p in out.iterdir()} == RUN_FILES
    progress = read_json(out / "progress.json")  # the last write: training done, evaluating
    assert (progress["step"], progress["max_steps"], progress["phase"]) == (24, 24, "evaluate")
    metrics = read_json(out / "metrics.json")
    losses = [h["loss"] for h in metrics["history"] if "loss" in h]
    assert losses[-1] < losses[0], "training loss should go down"
    assert metrics["overall"]["accuracy"] > 0.6  # toy task is learnable; chance is 0.5

    rows = read_jsonl(out / "predictions.jsonl")
    assert len(rows) == metrics["overall"]["n"] == 32
    assert {"id", "text", "gold", "pred", "score", "probabilities"} <= set(rows[0])
    acc = np.mean([r["gold"] == r["pred"] for r in rows])
    assert acc == pytest.approx(metrics["overall"]["accuracy"])  # metrics agree with the rows
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-4 for r in rows)

    manifest = read_json(out / "manifest.json")
    assert manifest["status"] == "complete"
    assert manifest["data"]["train"]["rows"] == 96
    assert len(manifest["data"]["train"]["sha256"]) == 64
    assert manifest["versions"]["transformers"]
    assert (out / "model" / "model.safetensors").exists()
    assert result.strategy.trainable_params == result.strategy.total_params
    # the resolved config round-trips
    assert parse_config(__import__("yaml").safe_load((out / "config.yaml").read_text())) == cfg


def test_same_config_twice_gives_identical_metrics(tiny_bert_dir, toy_data, make_config, tmp_path):
    cfg = parse_config(make_config(tiny_bert_dir, toy_data))
    run(cfg, tmp_path / "a")
    run(cfg, tmp_path / "b")
    a = (tmp_path / "a" / "metrics.json").read_bytes()
    b = (tmp_path / "b" / "metrics.json").read_bytes()
    assert a == b


def test_freeze_and_lora_change_what_trains(tiny_bert_dir, toy_data, make_config, tmp_path):
    raw = make_config(tiny_bert_dir, toy_data, max_steps=4)
    raw["strategy"] = {"kind": "freeze", "freeze_layers": 1, "freeze_embeddings": True}
    frozen = run(parse_config(raw), tmp_path / "freeze").strategy
    raw["strategy"] = {"kind": "lora", "lora": {"r": 4, "target_modules": ["query", "value"]}}
    lora = run(parse_config(raw), tmp_path / "lora").strategy
    assert frozen.trainable_params < frozen.total_params
    assert lora.trainable_params < frozen.trainable_params
    assert (tmp_path / "lora" / "model" / "adapter_config.json").exists()


def test_a_lora_run_reloads_with_its_labels_and_predictions(
    tiny_bert_dir, toy_data, make_config, tmp_path
):
    """The adapter's base comes from the run's model name, with the saved fine-tuned config:
    the reloaded model has the run's labels and predicts what training predicted."""
    from tuneproof.evaluate import evaluate_run
    from tuneproof.io import read_json, read_jsonl

    raw = make_config(tiny_bert_dir, toy_data, max_steps=6)
    raw["strategy"] = {"kind": "lora", "lora": {"r": 4, "target_modules": ["query", "value"]}}
    out = tmp_path / "lora"
    trained = dump(run(parse_config(raw), out).metrics)
    at_train = {r["id"]: r["pred"] for r in read_jsonl(out / "predictions.jsonl")}
    saved = read_json(out / "model" / "config.json")
    assert sorted(saved["id2label"].values()) == ["neg", "pos"]
    evaluate_run(out)  # reloads model/ and predicts the run's test split again
    reloaded = {r["id"]: r["pred"] for r in read_jsonl(out / "predictions.jsonl")}
    assert reloaded == at_train
    assert read_json(out / "metrics.json")["overall"]["accuracy"] == trained["overall"]["accuracy"]


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, yaml
    from transformers import TrainerCallback
    from tuneproof.config import parse_config
    from tuneproof.train import run

    class KillAfterSave(TrainerCallback):
        def on_save(self, args, state, control, **kw):
            if state.global_step == int(sys.argv[3]):
                os.kill(os.getpid(), signal.SIGKILL)

    cfg = parse_config(yaml.safe_load(open(sys.argv[1])))
    run(cfg, sys.argv[2], callbacks=[KillAfterSave()])
    """
)


def test_sigkill_then_resume_matches_uninterrupted(tiny_bert_dir, toy_data, make_config, tmp_path):
    import yaml

    raw = make_config(tiny_bert_dir, toy_data)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "kill.py").write_text(KILL_SCRIPT)
    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "kill.py"), str(tmp_path / "cfg.yaml"), str(killed), "8"],
        env=env,
        capture_output=True,
    )
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "metrics.json").exists()
    assert (killed / "checkpoints" / "checkpoint-8").exists()

    cfg = parse_config(raw)
    resumed = run(cfg, killed, resume=True)
    run(cfg, tmp_path / "straight")
    assert read_json(killed / "manifest.json")["resumed_from"] == "checkpoint-8"
    a = json.loads((killed / "metrics.json").read_text())
    b = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    assert a == b
    assert resumed.metrics.training.global_step == 12
