"""Test-wide settings: never touch the model hub, keep MLflow and caches out of the home dir."""

import csv
import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

POSITIVE = ["good", "great", "fine", "superb", "lovely", "wonderful", "brilliant", "charming"]
NEGATIVE = ["bad", "awful", "poor", "dull", "boring", "terrible", "weak", "messy"]
NEUTRAL = ["the", "film", "movie", "plot", "was", "a", "story", "actor", "scene", "really", "quite"]


def toy_rows(n: int, seed: int, prefix: str = "r") -> list[dict[str, str]]:
    """Learnable synthetic sentiment rows: the label is the majority polarity of the words."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = rng.choice(["pos", "neg"])
        main, other = (POSITIVE, NEGATIVE) if label == "pos" else (NEGATIVE, POSITIVE)
        words = (
            rng.sample(NEUTRAL, 4) + rng.sample(main, 2) + rng.sample(other, 1) * rng.randint(0, 1)
        )
        rng.shuffle(words)
        rows.append({"id": f"{prefix}{i}", "text": " ".join(words), "label": label})
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init 2-layer BERT (hidden 32) with a WordPiece tokenizer over the toy vocabulary."""
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *POSITIVE, *NEGATIVE, *NEUTRAL]
    vocab += [chr(c) for c in range(ord("a"), ord("z") + 1)] + [
        f"##{chr(c)}" for c in range(97, 123)
    ]
    vocab += [".", ",", "!", "?", "'"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # vocab=, not vocab_file=: transformers 5 ignores vocab_file and every word becomes [UNK]
    tok = BertTokenizerFast(vocab=str(folder / "vocab.txt"), do_lower_case=True)
    assert tok.tokenize(POSITIVE[0]) == [POSITIVE[0]]
    tok.save_pretrained(folder)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    import torch

    torch.manual_seed(0)
    BertForMaskedLM(cfg).save_pretrained(folder)
    return folder


@pytest.fixture
def toy_data(tmp_path: Path) -> dict[str, Path]:
    """train/validation/test CSVs (id, text, label) of the toy sentiment task."""
    return {
        "train": write_csv(tmp_path / "train.csv", toy_rows(96, seed=1, prefix="tr")),
        "validation": write_csv(tmp_path / "validation.csv", toy_rows(32, seed=2, prefix="va")),
        "test": write_csv(tmp_path / "test.csv", toy_rows(32, seed=3, prefix="te")),
    }


def tiny_run_config(model_dir: Path, data: dict[str, Path], **training: object) -> dict:
    """A RunConfig dict for fast tests: tiny model, a few steps, no MLflow."""
    train = {
        "max_steps": 12,
        "batch_size": 8,
        "learning_rate": 5e-3,
        "warmup": 0,
        "eval_strategy": "steps",
        "eval_steps": 4,
        "save_strategy": "steps",
        "save_steps": 4,
        "logging_steps": 2,
        "early_stopping_patience": None,
    }
    train.update(training)
    return {
        "name": "tiny",
        "data": {k: str(v) for k, v in data.items()} | {"id_column": "id", "max_length": 32},
        "model": {"name": str(model_dir)},
        "training": train,
        "tracking": {"enabled": False},
        "checks": {"enabled": False},
    }


@pytest.fixture
def make_config():  # type: ignore[no-untyped-def]
    """Factory fixture: ``make_config(model_dir, data, **training) -> dict``."""
    return tiny_run_config
