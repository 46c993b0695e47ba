"""End to end on real offline data: the packaged MiniLM on the polarity corpus, a few dozen steps."""

from __future__ import annotations

import pytest

from tuneproof.config import parse_config
from tuneproof.io import read_json, read_jsonl
from tuneproof.train import run


@pytest.mark.slow
def test_minilm_learns_polarity_in_a_few_dozen_steps(tmp_path) -> None:
    cfg = parse_config(
        {
            "name": "e2e",
            "data": {"builtin": "polarity-en", "id_column": "id", "max_length": 48},
            "model": {"name": "minilm-l6"},
            "training": {
                "max_steps": 40,
                "batch_size": 16,
                "learning_rate": 1e-4,
                "eval_strategy": "no",
                "save_strategy": "no",
                "early_stopping_patience": None,
            },
            "tracking": {"enabled": True, "uri": f"sqlite:///{tmp_path / 'mlflow.db'}"},
        }
    )
    result = run(cfg, tmp_path / "run")
    metrics = read_json(tmp_path / "run" / "metrics.json")
    rows = read_jsonl(tmp_path / "run" / "predictions.jsonl")
    assert metrics["overall"]["n"] == len(rows) == 400
    assert metrics["overall"]["accuracy"] > 0.6  # chance is 0.5 on this balanced test split
    manifest = read_json(tmp_path / "run" / "manifest.json")
    assert manifest["data"]["train"]["rows"] == 3200
    assert manifest["tracking"]["run_id"] == result.tracking_run_id

    from mlflow.tracking import MlflowClient

    logged = MlflowClient(tracking_uri=result.tracking_uri).get_run(result.tracking_run_id)
    assert logged.data.metrics["test/accuracy"] == pytest.approx(metrics["overall"]["accuracy"])
    assert logged.data.params["training.max_steps"] == "40"
