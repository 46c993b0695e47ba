"""label_issue on real text: the Pang & Lee polarity sentences with 5 % planted label flips.

benchmarks/label_issue_quality.py measures the same data; the bars below are its figures for
the default detector (TF-IDF averaged with MiniLM-L6 embeddings) minus a small margin, and the
rule before issue 13 (TF-IDF, confident learning plus every disagreement) misses them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tuneproof.checks import CheckOptions, check_data
from tuneproof.checks.base import normalise
from tuneproof.checks.label_issue import out_of_fold_probs

pytestmark = pytest.mark.slow

FLAGGED_PRECISION = 0.17
FLAGGED_RECALL = 0.6
WARNING_PRECISION = 0.29
WARNING_RECALL = 0.43


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, set[str]]:
    from tuneproof.data.corpora import builtin_dataset

    files = builtin_dataset("polarity-en")
    df = pd.concat(
        [pd.read_csv(files[s]) for s in ("train", "validation", "test")], ignore_index=True
    )
    rng = np.random.default_rng(0)
    rows = rng.choice(len(df), size=len(df) // 20, replace=False)
    other = {"positive": "negative", "negative": "positive"}
    df.loc[rows, "label"] = [other[v] for v in df.label.iloc[rows]]
    return df[["id", "text", "label"]], set(df.id.iloc[rows])


def precision_recall(ids: list[str], truth: set[str]) -> tuple[float, float]:
    hits = len(set(ids) & truth)
    return hits / max(len(ids), 1), hits / len(truth)


def test_planted_flips_in_real_text_are_found(planted) -> None:
    df, truth = planted
    report = check_data(
        {"train": df}, text_column="text", label_column="label", id_column="id",
        options=CheckOptions(only=("label_issue",)),
    )  # fmt: skip
    issues = [f for f in report.findings if f.rows]
    summary = next(f for f in report.findings if not f.rows)
    assert "minilm-l6" in summary.detail  # the encoder was used, not the fallback
    p, r = precision_recall([f.rows[0] for f in issues], truth)
    assert p >= FLAGGED_PRECISION and r >= FLAGGED_RECALL, (p, r)
    p, r = precision_recall([f.rows[0] for f in issues if f.severity == "warning"], truth)
    assert p >= WARNING_PRECISION and r >= WARNING_RECALL, (p, r)


def test_old_rule_misses_the_bars(planted) -> None:
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    df, truth = planted
    y = (df.label == "positive").to_numpy().astype(np.int64)
    probs = out_of_fold_probs([normalise(t) for t in df.text], y, folds=5, seed=0).probs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        confident = find_label_issues(y, probs, n_jobs=1)
        quality = get_label_quality_scores(y, probs)
    flagged = np.flatnonzero(confident | (probs.argmax(axis=1) != y))
    ids = df.id.to_numpy()
    p, _ = precision_recall(list(ids[flagged]), truth)
    assert p < FLAGGED_PRECISION
    _, r = precision_recall([ids[k] for k in flagged if 1 - quality[k] >= 0.8], truth)
    assert r < WARNING_RECALL
