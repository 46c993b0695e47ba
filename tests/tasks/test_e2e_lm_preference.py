"""End-to-end runs of language-modeling and preference on the packaged models (issue #19).

SmolLM2-135M-Instruct continues pre-training on French reviews (causal LM, LoRA) and learns the
TOY preference pairs (DPO, LoRA); MiniLM continues as a masked LM on English reviews. A few
dozen steps on a few dozen rows each; the metric must move the right way: perplexity down on the
training domain, reward accuracy up (it is 0 before training) on held-out toy pairs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tuneproof.data.corpora import PREFERENCE_PROMPT, builtin_dataset

from .test_e2e_packaged import packaged_config, train

pytestmark = pytest.mark.slow

LORA = {
    "kind": "lora",
    "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear"},
}


def subset(name: str, folder: Path, sizes: dict[str, int]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in sizes.items():
        out[split] = folder / f"{split}.csv"
        pd.read_csv(builtin_dataset(name)[split]).head(n).to_csv(out[split], index=False)
    return out


def test_language_modeling_smollm2_french_reviews(tmp_path: Path) -> None:
    files = subset("reviews-fr", tmp_path / "data", {"train": 64, "test": 24})
    raw = packaged_config(
        "language-modeling",
        "smollm2",
        files,
        data={"max_length": 64, "lang_column": "lang"},
        strategy=LORA,
        training={"max_steps": 16, "batch_size": 4, "learning_rate": 1e-3, "logging_steps": 4},
    )
    metrics, rows = train(raw, tmp_path / "run")
    o = metrics["overall"]
    assert metrics["main_metric"] == "perplexity" and o["n"] == 24
    assert o["perplexity"] < o["base_perplexity"], o
    assert o["perplexity_ratio_ci"][1] < 1  # the drop is outside the bootstrap noise
    assert all(r["tokens"] > 0 for r in rows)


def test_masked_language_modeling_minilm_english_reviews(tmp_path: Path) -> None:
    files = subset("reviews-en", tmp_path / "data", {"train": 96, "test": 32})
    raw = packaged_config(
        "language-modeling",
        "minilm-l6",
        files,
        data={"max_length": 64},
        training={"max_steps": 24, "batch_size": 8, "learning_rate": 1e-4, "logging_steps": 4},
    )
    metrics, _ = train(raw, tmp_path / "run")
    o = metrics["overall"]
    assert o["perplexity"] < o["base_perplexity"], o


def test_preference_smollm2_toy_sentiment_pairs(tmp_path: Path) -> None:
    files = subset("preference-toy-en", tmp_path / "data", {"train": 48, "test": 16})
    raw = packaged_config(
        "preference",
        "smollm2",
        files,
        data={
            "max_length": 160,
            "max_new_tokens": 3,
            "system_prompt": "Be brief.",
            "prompt_template": PREFERENCE_PROMPT,
        },
        strategy=LORA,
        training={
            "max_steps": 12,
            "batch_size": 4,
            "eval_batch_size": 16,
            "learning_rate": 1e-3,
            "logging_steps": 3,
            "beta": 0.1,
        },
    )
    metrics, rows = train(raw, tmp_path / "run")
    o = metrics["overall"]
    assert metrics["main_metric"] == "reward_accuracy"
    assert o["reward_accuracy"] > 0.6, o  # 0 before training
    assert o["reward_margin"] > 0
    assert o["likelihood_accuracy"] >= o["base_accuracy"], o
    assert {r["gold"] for r in rows} <= {"positive", "negative"}
