"""A tiny trained run and its exports, built once per session (the ONNX export is the slow part)."""

from __future__ import annotations

import csv
import random
import shutil
from pathlib import Path

import pytest

WORDS_POS = ["good", "great", "fine", "superb", "lovely", "wonderful", "brilliant", "charming"]
WORDS_NEG = ["bad", "awful", "poor", "dull", "boring", "terrible", "weak", "messy"]
NEUTRAL = ["the", "film", "movie", "plot", "was", "a", "story", "actor", "scene", "really"]


def _rows(n: int, seed: int, prefix: str) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = rng.choice(["pos", "neg"])
        main = WORDS_POS if label == "pos" else WORDS_NEG
        words = rng.sample(NEUTRAL, 3) + rng.sample(main, 2)
        rng.shuffle(words)
        out.append({"id": f"{prefix}{i}", "text": " ".join(words), "label": label})
    return out


def _csv(path: Path, rows: list[dict[str, str]]) -> str:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return str(path)


@pytest.fixture(scope="session")
def tiny_run(eval_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tuneproof.config import parse_config
    from tuneproof.train import run

    root = tmp_path_factory.mktemp("export-run")
    data = {
        "train": _csv(root / "train.csv", _rows(160, 1, "tr")),
        "validation": _csv(root / "validation.csv", _rows(32, 2, "va")),
        "test": _csv(root / "test.csv", _rows(64, 3, "te")),
    }
    cfg = {
        "name": "tiny-export",
        "data": {**data, "id_column": "id", "max_length": 16},
        "model": {"name": str(eval_bert_dir)},
        "training": {
            "max_steps": 40,
            "batch_size": 16,
            "learning_rate": 5e-3,
            "warmup": 0,
            "eval_strategy": "no",
            "save_strategy": "no",
            "early_stopping_patience": None,
        },
        "tracking": {"enabled": False},
        "checks": {"enabled": False},
    }
    out = root / "run"
    run(parse_config(cfg), out)
    return out


@pytest.fixture(scope="session")
def exported(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny run with its ONNX and int8 exports (export.json written)."""
    from tuneproof.export.exporters import export_run

    dest = tmp_path_factory.mktemp("exported") / "run"
    shutil.copytree(tiny_run, dest)
    export_run(dest, fmt="onnx", quantize="int8")
    return dest
