"""Strategies across tasks: progressive unfreezing, LoRA dtype, QLoRA's early CPU failure."""

from __future__ import annotations

import pytest
import torch
import yaml
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.config import parse_config
from tuneproof.data import synthetic
from tuneproof.modeling import QLORA_ON_CPU, base_model_kwargs, count_params, layer_groups
from tuneproof.rundir import dump
from tuneproof.train import run
from tuneproof.train.strategy import progressive_stage

from .conftest import task_config, write_splits


def test_layer_groups_go_head_first_then_top_down_then_embeddings(tiny_encoder_dir):
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(tiny_encoder_dir, num_labels=3)
    groups = layer_groups(model)
    assert [g.name for g in groups] == [
        "head",
        "bert.encoder.layer.1",
        "bert.encoder.layer.0",
        "bert.embeddings",
    ]
    assert groups[0].names == ("classifier.weight", "classifier.bias")
    names = [n for g in groups for n in g.names]
    assert sorted(names) == sorted(n for n, _ in model.named_parameters())  # each exactly once
    assert sum(g.params for g in groups) == count_params(model)[1]


def test_progressive_stage_is_a_pure_function_of_step_or_epoch():
    cfg = parse_config(
        {"data": {"train": "x.csv"}, "strategy": {"kind": "progressive", "unfreeze_every": 5}}
    )
    assert [progressive_stage(cfg.strategy, s, 0.0) for s in (0, 4, 5, 11)] == [0, 0, 1, 2]
    cfg.strategy.unfreeze_every = "epoch"
    assert [progressive_stage(cfg.strategy, 99, e) for e in (0.0, 0.99, 1.0, 2.5)] == [0, 0, 1, 2]


def test_progressive_unfreezes_on_schedule_and_frozen_weights_stay(tiny_encoder_dir, tmp_path):
    from safetensors.torch import load_file

    files = write_splits(tmp_path / "data", synthetic.ner_rows, sizes=(32, 8, 8))
    raw = task_config(
        tiny_encoder_dir,
        files,
        "token-classification",
        training={"max_steps": 12},
        strategy={"kind": "progressive", "unfreeze_every": 5},
    )
    out = tmp_path / "run"
    metrics = dump(run(parse_config(raw), out).metrics)
    prog = metrics["training"]["progressive"]
    schedule = prog["schedule"]
    assert [e["step"] for e in schedule] == [0, 5, 10]
    assert [e["unfrozen"] for e in schedule] == [
        "head",
        "bert.encoder.layer.1",
        "bert.encoder.layer.0",
    ]
    sizes = [g["params"] for g in prog["groups"]]
    assert [e["trainable_params"] for e in schedule] == [sizes[0], sum(sizes[:2]), sum(sizes[:3])]
    assert metrics["training"]["trainable_params"] == sizes[0]  # the first stage

    # unfrozen at step 10 of 12: layer 0 changed; never unfrozen: the embeddings did not
    before = load_file(str(tiny_encoder_dir / "model.safetensors"))
    after = load_file(str(out / "model" / "model.safetensors"))
    emb = "bert.embeddings.word_embeddings.weight"
    key = next(k for k in before if k.endswith(emb.removeprefix("bert.")))
    assert torch.equal(before[key], after[emb])
    l0 = "bert.encoder.layer.0.attention.self.query.weight"
    key0 = next(k for k in before if k.endswith(l0.removeprefix("bert.")))
    assert not torch.equal(before[key0], after[l0])


def test_lora_in_bf16_loads_the_base_in_bf16_full_keeps_fp32(tiny_encoder_dir):
    base = {"task": "similarity", "data": {"train": "x.csv"}, "training": {"precision": "bf16"}}
    lora = parse_config({**base, "strategy": {"kind": "lora"}})
    assert base_model_kwargs(lora) == {"dtype": torch.bfloat16}
    assert base_model_kwargs(parse_config({**base, "strategy": {"kind": "full"}})) == {}
    assert (
        base_model_kwargs(parse_config({**base, "training": {}, "strategy": {"kind": "lora"}}))
        == {}
    )

    from tuneproof.tasks import Prepared, get_task

    model = get_task("similarity").build_model(
        str(tiny_encoder_dir), Prepared(datasets={}, frames={}, ids={}), lora
    )
    assert model.bert.encoder.layer[0].attention.self.query.weight.dtype == torch.bfloat16


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only failure")
def test_qlora_on_cpu_fails_before_loading_anything(tiny_encoder_dir, tmp_path):
    missing = tmp_path / "does-not-exist.jsonl"  # not even the data is read first
    raw = task_config(tiny_encoder_dir, {"train": missing}, "token-classification")
    raw["strategy"] = {"kind": "qlora"}
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(
        app, ["train", str(tmp_path / "cfg.yaml"), "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert QLORA_ON_CPU.split(";")[0] in result.output.replace("\n", " ")
    assert "strategy.kind: lora" in result.output.replace("\n", " ")
    assert not (tmp_path / "r").exists()


def test_every_example_config_validates():
    from pathlib import Path

    from tuneproof.config import load_config

    examples = Path(__file__).parents[2] / "examples"
    for path in sorted(examples.glob("*.yaml")):
        cfg = load_config(path)
        for split in ("train", "validation", "test"):
            value = getattr(cfg.data, split)
            assert value is None or Path(value).is_file(), f"{path.name}: {value} missing"
