"""`tracking.report_to`: W&B (offline) and TensorBoard through the Trainer's own integrations,
read back with their own readers; MLflow stays the default."""

from __future__ import annotations

import pytest

from tuneproof.arguments import training_kwargs
from tuneproof.config import parse_config
from tuneproof.train import run


def _kwargs(raw: dict) -> dict:
    cfg = parse_config(raw)
    return training_kwargs(cfg, "out", main_metric="accuracy", greater_is_better=True)


def test_mlflow_is_the_default_and_not_the_trainers(tiny_bert_dir, toy_data, make_config):
    raw = make_config(tiny_bert_dir, toy_data)
    raw.pop("tracking")
    assert parse_config(raw).tracking.report_to == ["mlflow"]
    assert _kwargs(raw)["report_to"] == "none"  # tuneproof's own MLflow run, not a second one
    raw["tracking"] = {"report_to": ["mlflow", "tensorboard", "wandb"]}
    assert _kwargs(raw)["report_to"] == ["tensorboard", "wandb"]


def test_unknown_tracker_is_refused(tiny_bert_dir, toy_data, make_config):
    from tuneproof.errors import UserError
    from tuneproof.tasks import parse_config as parse

    raw = make_config(tiny_bert_dir, toy_data) | {"tracking": {"report_to": ["comet"]}}
    with pytest.raises(UserError, match=r"tracking\.report_to\.0"):
        parse(raw)


def test_tensorboard_events_read_back(tiny_bert_dir, toy_data, make_config, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    raw = make_config(tiny_bert_dir, toy_data, max_steps=8)
    raw["tracking"] = {"enabled": False, "report_to": ["tensorboard"]}
    run(parse_config(raw), tmp_path / "run")
    folder = tmp_path / "run" / "tensorboard"
    assert folder.is_dir()
    acc = EventAccumulator(str(folder))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert "train/loss" in tags and "eval/accuracy" in tags
    assert [e.step for e in acc.Scalars("train/loss")] == [2, 4, 6, 8]  # logging_steps 2


def test_wandb_offline_writes_its_run_files(
    tiny_bert_dir, toy_data, make_config, tmp_path, monkeypatch
):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")  # no account, no network
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_DIR", raising=False)
    raw = make_config(tiny_bert_dir, toy_data, max_steps=4)
    raw["tracking"] = {"enabled": False, "report_to": ["wandb"], "experiment": "tp-test"}
    run(parse_config(raw), tmp_path / "run")
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert len(runs) == 1, list((tmp_path / "run").iterdir())
    (record,) = runs[0].glob("run-*.wandb")
    # wandb 0.31 ships no Python reader for its run file (wandb-core writes and syncs it): the
    # history keys the Trainer logged are protobuf strings in the record stream
    data = record.read_bytes()
    assert data and b"train/loss" in data and b"eval/accuracy" in data
    assert (runs[0] / "files").is_dir()
    import os

    assert "WANDB_DIR" not in os.environ  # restored after the run


def test_sampling_and_fsdp_pass_through(tiny_bert_dir, toy_data, make_config, monkeypatch):
    from transformers import TrainingArguments

    raw = make_config(tiny_bert_dir, toy_data)
    assert "train_sampling_strategy" not in _kwargs(raw)  # random: transformers' own default
    raw["training"] |= {"sampling": "group_by_length", "fsdp": "full_shard auto_wrap"}
    kw = _kwargs(raw)
    assert kw["train_sampling_strategy"] == "group_by_length"
    assert kw["fsdp"] == "full_shard auto_wrap"
    monkeypatch.setenv("WORLD_SIZE", "2")  # under torchrun: real DDP on CPU, loss not scaled
    kw = _kwargs(make_config(tiny_bert_dir, toy_data))
    assert kw["average_tokens_across_devices"] is False
    assert (kw["use_cpu"], kw["ddp_backend"]) == (True, "gloo")
    monkeypatch.delenv("WORLD_SIZE")
    kw = _kwargs(make_config(tiny_bert_dir, toy_data) | {})
    TrainingArguments(**kw)  # every key is a real TrainingArguments field
