"""End to end on real offline data: MiniLM trained on English polarity, evaluated on en/fr/de."""

from __future__ import annotations

import csv

import pytest

from tuneproof.config import parse_config
from tuneproof.data.corpora import builtin_dataset
from tuneproof.data.load import sha256_file
from tuneproof.evaluate import evaluate_run
from tuneproof.io import read_json
from tuneproof.train import run


def head(src, dest, n: int):
    """The first ``n`` rows of a built-in CSV (keeps the test fast; the lang column stays)."""
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[:n]
    with dest.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return dest


@pytest.mark.slow
def test_english_model_evaluated_per_language_with_intervals(tmp_path) -> None:
    cfg = parse_config(
        {
            "name": "e2e-eval",
            "data": {"builtin": "polarity-en", "id_column": "id", "max_length": 48},
            "model": {"name": "minilm-l6"},
            "training": {
                "max_steps": 30,
                "batch_size": 16,
                "learning_rate": 1e-4,
                "eval_strategy": "no",
                "save_strategy": "no",
                "early_stopping_patience": None,
            },
            "tracking": {"enabled": False},
            "checks": {"enabled": False},
        }
    )
    out = tmp_path / "run"
    run(cfg, out)
    files = [
        builtin_dataset("polarity-en")["test"],
        head(builtin_dataset("polarity-fr")["test"], tmp_path / "fr.csv", 300),
        builtin_dataset("polarity-de")["test"],
    ]
    result = evaluate_run(out, files, lang_column="lang", batch_size=64)

    metrics = read_json(out / "metrics.json")
    slices = metrics["slices"]
    # the headline is the English test split (the run's own); fr and de are OOD results
    assert metrics["split"] == "test" and metrics["overall"]["n"] == 400
    assert set(k for k in slices if k.startswith("language=")) == {"language=en"}
    ood = {r["data"]["sha256"]: r for r in metrics["ood"].values()}
    assert len(ood) == 2
    blocks = [("en", slices["language=en"], 400)]
    for path, lang, n in ((files[1], "fr", 300), (files[2], "de", 200)):
        r = ood[sha256_file(path)]
        assert r["overall"]["n"] == n
        blocks.append((lang, r["slices"][f"language={lang}"], n))
    for _lang, s, n in blocks:
        assert s["n"] == n and not s["small_n"]
        lo, hi = s["accuracy_ci"]
        assert lo < s["accuracy"] < hi and hi - lo < 0.2
    # French reviews are long: the 48-token limit truncates most of them
    assert ood[sha256_file(files[1])]["slices"]["truncated=yes"]["n"] >= 250
    assert metrics["eval"]["failures"]["categories"]["high_fertility"]["rows"] > 0
    assert metrics["training"]["global_step"] == 30  # kept from training
    assert result.worst_slices(1)
    assert "## Out-of-distribution evaluations" in (out / "slices.md").read_text(encoding="utf-8")
