"""Synthetic run directories for the report tests, written by hand in the documented schemas.

The run beats its baseline on English (36 vs 24 of 40 right, the baseline's right rows a subset of
the run's) and loses on French (12 vs 27 of 30), so a paired test must call en improved, fr
regressed and the tiny German slice no evidence. One wrong, confident English row carries an
HTML/script payload that must stay text everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

PAYLOAD = "<script>document.title='pwned'</script> & <b>bold</b> | pipe"
FINDING_PAYLOAD = "<img src=x onerror=\"document.title='pwned'\">"
TRAIN_SHA = "a" * 64
TEST_SHA = "b" * 64
N = {"en": 40, "fr": 30, "de": 6}
RIGHT = {  # rows answered right, per variant and language (prefixes of each language's rows)
    "run": {"en": 36, "fr": 12, "de": 4},
    "baseline": {"en": 24, "fr": 27, "de": 4},
}


def config(name: str, lr: float = 5e-5, kind: str = "full") -> dict[str, Any]:
    return {
        "name": name,
        "task": "sequence-classification",
        "data": {
            "train": "data/train.csv",
            "test": "data/test.csv",
            "text_column": "text",
            "label_column": "label",
            "max_length": 64,
        },
        "model": {"name": "minilm-l6", "revision": None, "trust_remote_code": False},
        "strategy": {"kind": kind, "lora": {"r": 8, "alpha": 16}},
        "training": {"epochs": 3.0, "batch_size": 32, "learning_rate": lr, "seed": 42},
    }


def manifest(commit: str) -> dict[str, Any]:
    return {
        "version": 1,
        "status": "complete",
        "versions": {
            "python": "3.11.7",
            "tuneproof": "0.1.0",
            "torch": "2.13.0+cpu",
            "transformers": "5.23.0",
            "peft": "0.21.2",
        },
        "git": {"commit": commit, "dirty": False},
        "data": {
            "train": {"path": "data/train.csv", "sha256": TRAIN_SHA, "rows": 400},
            "test": {"path": "data/test.csv", "sha256": TEST_SHA, "rows": 76},
        },
        "model": "/opt/models/minilm",
        "seed": 42,
        "hardware": {
            "platform": "Linux-x86_64",
            "machine": "x86_64",
            "cpu_count": 2,
            "cuda": False,
        },
        "command": ["tuneproof", "train", "examples/polarity-full.yaml", "-o", "runs/x"],
        "cwd": "/work/project",
        "started": "2026-01-01T10:00:00+00:00",
        "ended": "2026-01-01T10:05:00+00:00",
    }


def predictions(variant: str) -> list[dict[str, Any]]:
    rows = []
    for lang, n in N.items():
        for i in range(n):
            gold = "pos" if i % 2 == 0 else "neg"
            right = i < RIGHT[variant][lang]
            pred = gold if right else ("neg" if gold == "pos" else "pos")
            text = f"{lang} review number {i}"
            score = 0.97 if not right and lang == "en" else 0.7
            if lang == "en" and i == 39:
                text, score = PAYLOAD, 0.99  # the most confident mistake: shown first
            rows.append(
                {
                    "id": f"{lang}-{i}",
                    "text": text,
                    "gold": gold,
                    "pred": pred,
                    "score": score,
                    "probabilities": {pred: score, gold if not right else "x": 1 - score},
                    "source": "test.csv",
                    "slices": {"language": lang, "script": "Latin"},
                }
            )
    return rows


def _acc(rows: list[dict[str, Any]]) -> float:
    return sum(r["gold"] == r["pred"] for r in rows) / len(rows)


def _entry(rows: list[dict[str, Any]], small: bool = False) -> dict[str, Any]:
    acc = _acc(rows)
    return {
        "n": len(rows),
        "accuracy": acc,
        "accuracy_ci": [max(0.0, acc - 0.12), min(1.0, acc + 0.08)],
        "macro_f1": acc - 0.01,
        "macro_f1_ci": [max(0.0, acc - 0.14), min(1.0, acc + 0.07)],
        "small_n": small,
    }


def metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    slices = {
        f"language={lang}": _entry(
            [r for r in rows if r["slices"]["language"] == lang], lang == "de"
        )
        for lang in N
    }
    slices["script=Latin"] = _entry(rows)
    history = []
    for step in range(10, 130, 10):
        history.append(
            {"loss": 0.7 - step / 400, "learning_rate": 1e-5, "epoch": step / 40, "step": step}
        )
        if step % 40 == 0:
            history.append(
                {
                    "eval_loss": 0.6 - step / 600,
                    "eval_accuracy": 0.6 + step / 600,
                    "epoch": step / 40,
                    "step": step,
                }
            )
    return {
        "version": 1,
        "task": "sequence-classification",
        "main_metric": "accuracy",
        "split": "test",
        "overall": _entry(rows) | {"small_n": False},
        "validation": {"loss": 0.41, "accuracy": 0.81, "macro_f1": 0.80, "epoch": 3.0},
        "training": {
            "global_step": 120,
            "epochs": 3.0,
            "train_loss": 0.55,
            "best_checkpoint": "checkpoints/checkpoint-120",
            "best_metric": 0.81,
            "kind": "full",
            "trainable_params": 22713986,
            "total_params": 22713986,
            "trainable_percent": 100.0,
            "detail": "all parameters trainable",
        },
        "history": history,
        "slices": slices,
        "eval": {
            "data": [{"name": "test.csv", "path": "data/test.csv", "sha256": TEST_SHA, "rows": 76}],
            "seed": 42,
            "n_resamples": 1000,
            "confidence": 0.95,
            "language": {"from": "lingua", "languages": ["en", "fr", "de", "ar"]},
            "failures": {
                "n_rows": 76,
                "n_errors": sum(r["gold"] != r["pred"] for r in rows),
                "categories": {
                    "confident_wrong": _category("wrong with p >= 0.9", 10, 4),
                    "truncated": _category("wrong on input longer than max_length", 3, 1),
                },
                "confusion": {
                    "overall": {"labels": ["neg", "pos"], "matrix": [[26, 12], [12, 26]]}
                },
            },
            "plan": [
                {"key": "language=en", "min_examples": 20, "n": 40, "met": True},
                {"key": "language=de", "min_examples": 20, "n": 6, "met": False},
                {"key": "language=ar", "min_examples": 20, "n": 0, "met": False},
            ],
        },
    }


def _category(description: str, rows: int, errors: int) -> dict[str, Any]:
    return {
        "description": description,
        "rows": rows,
        "errors": errors,
        "error_rate": errors / rows,
        "error_rate_without": 0.3,
        "share_of_errors": errors / 24,
        "examples": [],
    }


CHECKS = {
    "version": 1,
    "dataset": {
        "train": {"rows": 400, "sha256": TRAIN_SHA},
        "test": {"rows": 76, "sha256": TEST_SHA},
    },
    "summary": {"errors": 1, "warnings": 1, "info": 1},
    "findings": [
        {
            "check": "leakage",
            "severity": "error",
            "split": "test",
            "rows": ["en-3"],
            "related": [{"split": "train", "row": "2051"}],
            "score": 0.93,
            "detail": f"near-duplicate of a train row (Jaccard 0.93) {FINDING_PAYLOAD}",
        },
        {
            "check": "near_duplicate",
            "severity": "warning",
            "split": "train",
            "rows": ["4", "17", "230"],
            "related": [],
            "score": 0.88,
            "detail": "3 rows differ by one or two words",
        },
        {
            "check": "language_mix",
            "severity": "info",
            "split": "train",
            "rows": [],
            "related": [],
            "score": 0.0,
            "detail": "en 98 %, fr 2 %",
        },
    ],
}


def _stress(
    name: str, kind: str, n: int, fails: int, example: tuple[str, str, str, str]
) -> dict[str, Any]:
    original, edited, before, after = example
    return {
        "name": name,
        "kind": kind,
        "description": f"{name} test",
        "applicable": n,
        "failures": fails,
        "failure_rate": fails / n,
        "flipped": fails,
        "mean_abs_shift": 0.1,
        "examples": [
            {
                "id": "en-1",
                "original": original,
                "edited": edited,
                "pred_before": before,
                "pred_after": after,
                "p_before": 0.9,
                "p_after": 0.4,
            }
        ],
    }


STRESS = {
    "version": 1,
    "run": "runs/x",
    "data": {"path": "data/test.csv", "sha256": TEST_SHA, "rows": 76},
    "n_rows": 76,
    "seed": 42,
    "tests": [
        _stress("casing", "invariance", 50, 3, ("Great film", "GREAT FILM", "pos", "neg")),
        _stress(
            "negation", "directional", 40, 14, ("a good film", "not a good film", "pos", "pos")
        ),
    ],
}

PLAN = """# Fine-tuning strategy for `minilm-l6`: full fine-tuning

## Context

- 400 training rows (small); CPU only. <script>document.title='pwned'</script>

## Decision

Full fine-tuning: the model is small enough.
"""


def set_eval_sha(run: Path, sha: str) -> None:
    """Pretend the run was evaluated on another file (same rows and ids)."""
    path = run / "metrics.json"
    raw = json.loads(path.read_text())
    raw["eval"]["data"][0]["sha256"] = sha
    path.write_text(json.dumps(raw))


def write_run(
    path: Path,
    *,
    variant: str = "run",
    name: str | None = None,
    lr: float = 5e-5,
    commit: str = "1" * 40,
    extras: bool = True,
) -> Path:
    """Write a run directory; ``extras`` adds checks.json, stress.json and plan.md."""
    path.mkdir(parents=True)
    rows = predictions(variant)
    (path / "config.yaml").write_text(yaml.safe_dump(config(name or variant, lr)), encoding="utf-8")
    (path / "manifest.json").write_text(json.dumps(manifest(commit)), encoding="utf-8")
    (path / "metrics.json").write_text(json.dumps(metrics(rows)), encoding="utf-8")
    (path / "predictions.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    (path / "model").mkdir()
    (path / "model" / "config.json").write_text("{}", encoding="utf-8")
    if extras:
        (path / "checks.json").write_text(json.dumps(CHECKS), encoding="utf-8")
        (path / "stress.json").write_text(json.dumps(STRESS), encoding="utf-8")
        (path / "plan.md").write_text(PLAN, encoding="utf-8")
    return path


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return write_run(tmp_path / "run", lr=1e-3, commit="2" * 40)


@pytest.fixture
def baseline_dir(tmp_path: Path) -> Path:
    return write_run(tmp_path / "baseline", variant="baseline", lr=5e-5, commit="1" * 40)
