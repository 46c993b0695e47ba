"""Fixtures for the evaluate tests: the tiny BERT of ``tests/conftest.py`` (``eval_bert_dir``)
trained once per session, synthetic row sets."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest

POSITIVE = ["good", "great", "fine", "superb", "lovely", "wonderful", "brilliant", "charming"]
NEGATIVE = ["bad", "awful", "poor", "dull", "boring", "terrible", "weak", "messy"]
NEUTRAL = ["the", "film", "movie", "plot", "was", "a", "story", "actor", "scene", "really", "quite"]


def toy_rows(n: int, seed: int, prefix: str, lang: str = "en") -> list[dict[str, str]]:
    """Learnable rows: the label is the majority polarity of the words; a domain column."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = rng.choice(["pos", "neg"])
        main, other = (POSITIVE, NEGATIVE) if label == "pos" else (NEGATIVE, POSITIVE)
        words = rng.sample(NEUTRAL, 4) + rng.sample(main, 2) + rng.sample(other, rng.randint(0, 1))
        rng.shuffle(words)
        rows.append(
            {
                "id": f"{prefix}{i}",
                "text": " ".join(words),
                "label": label,
                "lang": lang,
                "domain": "books" if i % 3 == 0 else "films",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def eval_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """train/validation/test CSVs plus a second labelled file tagged as another language."""
    folder = tmp_path_factory.mktemp("eval-data")
    return {
        "train": write_csv(folder / "train.csv", toy_rows(160, seed=1, prefix="tr")),
        "validation": write_csv(folder / "validation.csv", toy_rows(32, seed=2, prefix="va")),
        "test": write_csv(folder / "test.csv", toy_rows(48, seed=3, prefix="te")),
        "extra": write_csv(folder / "extra.csv", toy_rows(40, seed=4, prefix="ex", lang="fr")),
    }


def run_config(model_dir: Path, data: dict[str, Path], **training: Any) -> dict[str, Any]:
    train = {
        "max_steps": 40,
        "batch_size": 16,
        "learning_rate": 5e-3,
        "warmup": 0,
        "eval_strategy": "no",
        "save_strategy": "no",
        "logging_steps": 10,
        "early_stopping_patience": None,
    }
    train.update(training)
    return {
        "name": "tiny-eval",
        "data": {k: str(data[k]) for k in ("train", "validation", "test")}
        | {"id_column": "id", "max_length": 8},
        "model": {"name": str(model_dir)},
        "training": train,
        "tracking": {"enabled": False},
        "checks": {"enabled": False},
    }


@pytest.fixture(scope="session")
def trained_run(
    eval_bert_dir: Path, eval_data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A trained tiny run directory (read-only for tests: copy it before evaluating)."""
    from tuneproof.config import parse_config
    from tuneproof.train import run

    out = tmp_path_factory.mktemp("eval-run") / "run"
    run(parse_config(run_config(eval_bert_dir, eval_data)), out)
    return out


@pytest.fixture
def run_copy(trained_run: Path, tmp_path: Path) -> Path:
    """A private copy of the trained run (eval writes into the run directory)."""
    import shutil

    dest = tmp_path / "run"
    shutil.copytree(trained_run, dest, ignore=shutil.ignore_patterns("checkpoints"))
    return dest
