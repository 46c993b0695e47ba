"""Sentence similarity: Pearson/Spearman by hand, a tiny regression run, bad scores."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.config import parse_config
from tuneproof.data import synthetic
from tuneproof.io import read_json, read_jsonl
from tuneproof.rundir import dump
from tuneproof.tasks import get_task
from tuneproof.tasks.similarity import correlation_metrics
from tuneproof.train import run

from .conftest import task_config, write_splits

PAIR_COLUMNS = {
    "text_column": "sentence1",
    "text_pair_column": "sentence2",
    "label_column": "score",
}


def test_correlations_match_hand_computed_values():
    # ranks differ by one swap: Spearman = 1 - 6 * (0 + 1 + 1 + 0) / (4 * (16 - 1)) = 0.8
    m = correlation_metrics(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 4.0]))
    assert m["spearman"] == pytest.approx(0.8)
    # monotone but not linear: Spearman 1; Pearson = 4 / sqrt(2 * 78 / 9)
    m = correlation_metrics(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 4.0]))
    assert m["spearman"] == pytest.approx(1.0)
    assert m["pearson"] == pytest.approx(4 / math.sqrt(2 * 78 / 9))
    assert m["mse"] == pytest.approx(4 / 3)
    # undefined (constant predictions) is NaN, not a made-up number
    assert math.isnan(correlation_metrics(np.array([1.0, 2.0]), np.array([3.0, 3.0]))["spearman"])


def test_tiny_run_learns_and_metrics_agree_with_rows(tiny_encoder_dir, tmp_path):
    files = write_splits(tmp_path / "data", synthetic.similarity_rows)
    cfg = task_config(
        tiny_encoder_dir, files, "similarity", data=PAIR_COLUMNS, training={"learning_rate": 1e-3}
    )
    out = tmp_path / "run"
    metrics = dump(run(parse_config(cfg), out).metrics)
    losses = [h["loss"] for h in metrics["history"] if "loss" in h]
    assert losses[-1] < losses[0]
    rows = read_jsonl(out / "predictions.jsonl")
    assert len(rows) == metrics["overall"]["n"] == 16
    assert {"text", "text_pair", "gold", "pred"} <= set(rows[0])
    recomputed = get_task("similarity").metrics_from_rows(rows)
    assert metrics["overall"]["mse"] == pytest.approx(recomputed["mse"])
    assert metrics["overall"]["mse"] == pytest.approx(
        np.mean([(r["gold"] - r["pred"]) ** 2 for r in rows])
    )
    assert metrics["main_metric"] == "spearman"
    assert read_json(out / "model" / "config.json")["problem_type"] == "regression"


def test_a_score_that_is_not_a_number_names_the_row(tiny_encoder_dir, tmp_path):
    rows = synthetic.similarity_rows(6, 0)
    rows[4]["score"] = "high"
    train = synthetic.write_jsonl(tmp_path / "train.jsonl", rows)
    cfg = task_config(tiny_encoder_dir, {"train": train}, "similarity", data=PAIR_COLUMNS)
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    result = CliRunner().invoke(
        app, ["train", str(tmp_path / "cfg.yaml"), "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert "row 4: score 'high'" in result.output and "Traceback" not in result.output


def test_resampler_matches_metrics_from_rows_with_ties_and_constant_resamples():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 5, size=30).astype(float)  # ties, as STS scores have
    rows = [{"gold": g, "pred": float(g + rng.normal())} for g in gold]
    task = get_task("similarity")
    idx = np.vstack([rng.integers(0, 30, size=(20, 30)), np.zeros((1, 30), dtype=int)])
    fast = task.resampler(rows)(idx)
    for b in range(idx.shape[0]):
        slow = task.metrics_from_rows([rows[i] for i in idx[b]])
        for name, value in slow.items():
            if np.isnan(value):
                assert np.isnan(fast[name][b]), name  # the all-one-row resample
            else:
                assert fast[name][b] == pytest.approx(value, abs=1e-9), name
