"""RunConfig: strict keys with helpful messages, YAML round-trip, shipped examples stay valid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tuneproof.cli.demo import demo_config
from tuneproof.config import RunConfig, load_config, parse_config
from tuneproof.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
BASE = {"data": {"train": "train.csv"}}


def _err(raw: dict) -> str:
    with pytest.raises(UserError) as exc:
        parse_config(raw, "cfg.yaml")
    return str(exc.value)


def test_unknown_key_suggests_the_closest_valid_key() -> None:
    msg = _err({**BASE, "training": {"learnin_rate": 1e-4}})
    assert "training.learnin_rate" in msg and "did you mean 'learning_rate'" in msg


def test_removed_transformers_name_says_what_replaced_it() -> None:
    msg = _err({**BASE, "training": {"evaluation_strategy": "epoch"}})
    assert "eval_strategy" in msg and "transformers 5" in msg


def test_negative_learning_rate_names_key_and_value() -> None:
    msg = _err({**BASE, "training": {"learning_rate": -1e-5}})
    assert msg.startswith("cfg.yaml: training.learning_rate:") and "-1e-05" in msg


def test_no_data_source_is_an_error() -> None:
    assert "data.train" in _err({"data": {}})


def test_yaml_round_trip_is_lossless() -> None:
    cfg = parse_config({**BASE, "strategy": {"kind": "lora", "lora": {"r": 4}}})
    again = parse_config(yaml.safe_load(cfg.to_yaml()))
    assert again == cfg and again.strategy.lora.r == 4


def test_relative_data_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(BASE))
    cfg = load_config(tmp_path / "cfg.yaml")
    assert cfg.data.train == str(tmp_path / "train.csv") and cfg.name == "cfg"


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_example_validates(path: Path) -> None:
    assert isinstance(load_config(path), RunConfig)


@pytest.mark.parametrize("strategy", ["full", "lora"])
def test_demo_config_is_the_shipped_example(strategy: str) -> None:
    shipped = load_config(ROOT / "examples" / f"polarity-{strategy}.yaml")
    assert shipped == demo_config(strategy)


def test_init_template_is_a_valid_config(tmp_path: Path) -> None:
    from tuneproof.tasks.templates import starter_config

    cfg = parse_config(yaml.safe_load(starter_config("sequence-classification")))
    assert cfg.data.builtin == "polarity-en" and cfg.model.name == "minilm-l6"


@pytest.mark.parametrize(
    ("task", "builtin"),
    [
        ("token-classification", "synthetic-ner"),
        ("extractive-qa", "synthetic-qa"),
        ("summarization", "synthetic-summarization"),
        ("similarity", "synthetic-similarity"),
    ],
)
def test_every_task_has_a_starter_whose_data_the_task_accepts(task: str, builtin: str) -> None:
    """`tuneproof init --task T` trains as it is: the config is valid and the task adapter
    prepares its built-in data (the training itself is in tests/train/tasks/)."""
    from transformers import AutoTokenizer

    from tuneproof.data.load import load_splits
    from tuneproof.models import resolve_model
    from tuneproof.tasks import get_task
    from tuneproof.tasks.templates import starter_config

    cfg = parse_config(yaml.safe_load(starter_config(task)))
    assert cfg.task == task and cfg.data.builtin == builtin
    data = load_splits(cfg.data)
    assert set(data.splits) == {"train", "validation", "test"}
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(cfg.model.name))
    prepared = get_task(task).prepare(data, cfg, tokenizer)
    assert len(prepared.datasets["train"]) >= 48  # QA windows: at least one per question
