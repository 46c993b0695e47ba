"""Bootstrap intervals: agreement with closed forms, exact fast paths, seeding, the small-n rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tuneproof.evaluate.metrics import (
    analyse,
    confusion_metrics,
    percentile_interval,
    resample,
    rows_rng,
    small_n,
    summarize,
    summarize_rows,
)
from tuneproof.tasks import get_task

TASK = get_task("sequence-classification")
Z = 1.959963984540054


def binary_rows(n: int, p: float, seed: int, key: str = "x") -> list[dict]:
    rng = np.random.default_rng(seed)
    right = rng.random(n) < p
    return [
        {"id": str(i), "gold": "a", "pred": "a" if ok else "b", "slices": {"part": key}}
        for i, ok in enumerate(right)
    ]


def wald(p: float, n: int) -> tuple[float, float]:
    half = Z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


def wilson(p: float, n: int) -> tuple[float, float]:
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("n", "p"), [(2000, 0.8), (500, 0.6), (300, 0.9)])
def test_accuracy_interval_matches_the_binomial_closed_form(n, p):
    rows = binary_rows(n, p, seed=n)
    s = summarize_rows(rows, TASK.metrics_from_rows, "accuracy", seed=1, n_resamples=4000)
    acc = s.overall.metrics["accuracy"]
    lo, hi = s.overall.ci["accuracy"]
    # The percentile bootstrap of a proportion approximates the normal (Wald) interval; Wilson
    # differs from both by O(1/n). Bound the difference by a fraction of the half-width.
    half = Z * math.sqrt(acc * (1 - acc) / n)
    for ref in (wald(acc, n), wilson(acc, n)):
        assert lo == pytest.approx(ref[0], abs=0.15 * half)
        assert hi == pytest.approx(ref[1], abs=0.15 * half)
    assert lo < acc < hi


def exact_rows(n: int, right: int, value: str) -> list[dict]:
    """``n`` rows of which exactly ``right`` are right, tagged ``language=value``."""
    return [
        {"id": f"{value}{i}", "gold": "pos", "pred": "pos" if i < right else "neg",
         "slices": {"language": value}}
        for i in range(n)
    ]  # fmt: skip


@pytest.mark.parametrize(("n", "right"), [(400, 320), (120, 111), (1000, 537)])
def test_bootstrap_distribution_of_accuracy_is_the_exact_binomial(n, right):
    """Resampling n rows with k right gives Binomial(n, k/n)/n: compare pmf, moments, quantiles."""
    from scipy.stats import binom

    p_hat, b = right / n, 20_000
    rm = analyse(exact_rows(n, right, "x"), TASK.metrics_from_rows)
    dist = resample(rm, np.arange(n), b, np.random.default_rng(3))[0]["accuracy"]
    counts = np.rint(dist * n).astype(int)
    assert np.allclose(counts / n, dist)  # the confusion path gives exact k/n values
    assert dist.mean() == pytest.approx(p_hat, abs=4 * math.sqrt(p_hat * (1 - p_hat) / n / b))
    assert dist.var() == pytest.approx(p_hat * (1 - p_hat) / n, rel=0.05)
    # Kolmogorov distance between the empirical and the binomial CDF on the support
    ks = np.arange(n + 1)
    empirical = np.searchsorted(np.sort(counts), ks, side="right") / b
    assert np.max(np.abs(empirical - binom.cdf(ks, n, p_hat))) < 0.02
    # the percentile interval sits on the binomial's 2.5 % / 97.5 % quantiles (one lattice step)
    lo, hi = percentile_interval(dist)
    assert lo == pytest.approx(binom.ppf(0.025, n, p_hat) / n, abs=1.01 / n)
    assert hi == pytest.approx(binom.ppf(0.975, n, p_hat) / n, abs=1.01 / n)


def test_each_slice_interval_matches_its_own_binomial():
    """Slices with different accuracies: each interval is its own binomial's, not the pool's."""
    from scipy.stats import binom

    parts = {"en": (500, 450), "fr": (250, 150), "de": (80, 60)}
    rows = [r for lang, (n, k) in parts.items() for r in exact_rows(n, k, lang)]
    s = summarize_rows(rows, TASK.metrics_from_rows, "accuracy", seed=5, n_resamples=10_000)
    assert list(s.slices) == ["language=de", "language=en", "language=fr"]
    for lang, (n, k) in parts.items():
        sm = s.slices[f"language={lang}"]
        assert sm.n == n and sm.metrics["accuracy"] == k / n
        lo, hi = sm.ci["accuracy"]
        assert lo == pytest.approx(binom.ppf(0.025, n, k / n) / n, abs=1.01 / n), lang
        assert hi == pytest.approx(binom.ppf(0.975, n, k / n) / n, abs=1.01 / n), lang
        assert not sm.small_n
    total = sum(n for n, _ in parts.values())
    right = sum(k for _, k in parts.values())
    lo, hi = s.overall.ci["accuracy"]
    assert lo == pytest.approx(binom.ppf(0.025, total, right / total) / total, abs=1.01 / total)


def test_intervals_cover_the_true_accuracy_about_95_percent_of_the_time():
    true_p, n, trials = 0.7, 200, 300
    covered = 0
    for t in range(trials):
        rows = binary_rows(n, true_p, seed=1000 + t)
        rm = analyse(rows, TASK.metrics_from_rows)
        dist = resample(rm, np.arange(n), 1000, np.random.default_rng(t))[0]
        lo, hi = percentile_interval(dist["accuracy"])
        covered += lo <= true_p <= hi
    assert 0.90 <= covered / trials <= 0.985


def test_confusion_path_equals_sklearn_on_every_resample():
    rng = np.random.default_rng(3)
    labels = ["neg", "neu", "pos"]
    rows = [
        {"gold": labels[g], "pred": labels[(g + int(rng.random() < 0.3)) % 3]}
        for g in rng.integers(0, 3, 120)
    ]
    rows[0]["pred"] = "other"  # a label the gold never has
    rm = analyse(rows, TASK.metrics_from_rows)
    assert rm.kinds == {"accuracy": "confusion", "macro_f1": "confusion"}
    idx = rng.integers(0, len(rows), size=(25, 40))  # small resamples: labels go missing
    from tuneproof.evaluate.metrics import _confusion_counts

    fast = confusion_metrics(_confusion_counts(rm.codes, rm.n_labels, idx))
    for b in range(idx.shape[0]):
        ref = TASK.metrics_from_rows([rows[i] for i in idx[b]])
        assert fast["accuracy"][b] == pytest.approx(ref["accuracy"], abs=1e-12)
        assert fast["macro_f1"][b] == pytest.approx(ref["macro_f1"], abs=1e-12)


def exact_match(rows):
    return {"exact_match": float(np.mean([r["gold"] == r["pred"] for r in rows]))}


def token_f1(rows):
    """A per-row mean (QA-style F1) and a non-decomposable metric (max length seen)."""
    f1 = []
    for r in rows:
        g, p = set(r["gold"].split()), set(r["pred"].split())
        common = len(g & p)
        f1.append(0.0 if not common else 2 * common / (len(g) + len(p)))
    return {"f1": float(np.mean(f1)), "longest": float(max(len(r["pred"]) for r in rows))}


def qa_rows(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    words = ["the", "red", "house", "on", "hill", "a", "blue", "car"]
    rows = []
    for i in range(n):
        gold = " ".join(rng.choice(words, 3))
        pred = gold if rng.random() < 0.5 else " ".join(rng.choice(words, 2))
        rows.append({"id": str(i), "gold": gold, "pred": pred, "slices": {"k": str(i % 2)}})
    return rows


def test_per_row_means_use_the_fast_path_and_others_the_general_one():
    rows = qa_rows(200, seed=5)
    rm = analyse(rows, token_f1)
    assert rm.kinds == {"f1": "mean", "longest": "general"}
    s = summarize_rows(rows, token_f1, "f1", seed=0, n_resamples=500)
    lo, hi = s.overall.ci["f1"]
    assert lo < s.overall.metrics["f1"] < hi
    assert s.overall.ci["longest"] is not None
    # the mean path reproduces a direct NumPy bootstrap with the same indices
    per_row = rm.per_row["f1"]
    idx = rows_rng(0, np.arange(200)).integers(0, 200, size=(500, 200))
    direct = np.percentile(per_row[idx].mean(axis=1), [2.5, 97.5])
    assert (lo, hi) == pytest.approx(tuple(direct))


def test_exact_match_rows_give_a_correctness_vector_for_small_n():
    rm = analyse(qa_rows(50, seed=1), exact_match)
    assert rm.kinds == {"exact_match": "mean"}
    assert rm.correct is not None and set(np.unique(rm.correct)) <= {0.0, 1.0}


def test_seeded_and_independent_of_other_slices():
    rows = binary_rows(400, 0.75, seed=2)
    for i, r in enumerate(rows):
        r["slices"] = {"lang": "en" if i % 2 else "fr"}
    a = summarize_rows(rows, TASK.metrics_from_rows, "accuracy", seed=7)
    b = summarize_rows(rows, TASK.metrics_from_rows, "accuracy", seed=7)
    assert a.slices["lang=fr"].ci == b.slices["lang=fr"].ci
    rm = analyse(rows, TASK.metrics_from_rows)
    pos = np.arange(0, 400, 2)
    d7 = resample(rm, pos, 200, np.random.default_rng(7))[0]["accuracy"]
    d8 = resample(rm, pos, 200, np.random.default_rng(8))[0]["accuracy"]
    assert not np.array_equal(d7, d8)  # the seed drives the resamples
    for r in rows:  # another dimension appears: the fr interval must not move
        r["slices"]["extra"] = "x"
    d = summarize_rows(rows, TASK.metrics_from_rows, "accuracy", seed=7)
    assert d.slices["lang=fr"].ci == a.slices["lang=fr"].ci
    # a slice holding exactly the overall rows gets the overall interval, not a second opinion
    assert d.slices["extra=x"].ci == d.overall.ci
    assert d.slices["lang=fr"].ci != d.slices["lang=en"].ci


def test_small_n_rule():
    assert small_n(29, None)
    assert not small_n(30, None)
    assert small_n(100, np.array([1.0] * 97 + [0.0] * 3))  # 3 errors: interval collapses
    assert not small_n(100, np.array([1.0] * 80 + [0.0] * 20))
    assert small_n(100, np.array([0.0] * 98 + [1.0] * 2))  # minority side is "right"


def test_summarize_returns_the_metrics_json_shape():
    rows = binary_rows(60, 0.5, seed=4)
    for i, r in enumerate(rows):
        r["slices"] = {"length": ["0-16", "16-32", "128-256"][i % 3]}
    out = summarize(rows, "sequence-classification", seed=0)
    assert set(out) == {"overall", "slices"}
    assert list(out["slices"]) == ["length=0-16", "length=16-32", "length=128-256"]
    fr = out["slices"]["length=16-32"]
    assert fr["n"] == 20 and fr["small_n"] is True
    assert set(fr) == {"n", "accuracy", "accuracy_ci", "macro_f1", "macro_f1_ci", "small_n"}
    lo, hi = fr["accuracy_ci"]
    assert 0 <= lo <= fr["accuracy"] <= hi <= 1
