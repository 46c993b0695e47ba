"""Copies of one text resample together (cluster bootstrap): duplicating rows must not shrink a CI."""

from __future__ import annotations

import numpy as np
import pytest

from tuneproof.evaluate.metrics import (
    duplicate_groups,
    index_chunks,
    percentile_interval,
    rows_rng,
    summarize_rows,
)
from tuneproof.tasks import get_task

TASK = get_task("sequence-classification")
SIM = get_task("similarity")


def labelled_rows(n: int, seed: int, p: float = 0.75) -> list[dict]:
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 2, n)
    right = rng.random(n) < p
    return [
        {
            "id": str(i),
            "text": f"review {i} of the film",
            "gold": ["neg", "pos"][g],
            "pred": ["neg", "pos"][g if ok else 1 - g],
            "slices": {"part": "all"},
        }
        for i, (g, ok) in enumerate(zip(gold, right, strict=True))
    ]


def copied(rows: list[dict], k: int) -> list[dict]:
    """Every row k times (ids unique, text the same; case and spaces changed on some copies)."""
    out = []
    for c in range(k):
        for r in rows:
            text = r["text"].upper() if c % 2 else "  ".join(r["text"].split())
            out.append({**r, "id": f"{r['id']}-{c}", "text": text})
    return out


def width(ci: tuple[float, float] | None) -> float:
    assert ci is not None
    return ci[1] - ci[0]


def reference_cluster_ci(
    correct: np.ndarray, group: np.ndarray, n_resamples: int, seed: int
) -> tuple[float, float]:
    """An independent cluster bootstrap of accuracy: draw groups, sum their rows."""
    rng = np.random.default_rng(seed)
    ids, inverse = np.unique(group, return_inverse=True)
    right = np.bincount(inverse, weights=correct)
    size = np.bincount(inverse).astype(float)
    draws = rng.integers(0, len(ids), size=(n_resamples, len(ids)))
    acc = right[draws].sum(axis=1) / size[draws].sum(axis=1)
    lo, hi = np.percentile(acc, [2.5, 97.5])
    return float(lo), float(hi)


@pytest.mark.parametrize("k", [4, 9])
def test_copying_every_row_k_times_keeps_the_interval_width(k: int) -> None:
    rows = labelled_rows(300, seed=1)
    one = summarize_rows(rows, TASK.metrics_from_rows, "accuracy", n_resamples=3000)
    many = summarize_rows(copied(rows, k), TASK.metrics_from_rows, "accuracy", n_resamples=3000)
    assert many.overall.metrics["accuracy"] == pytest.approx(one.overall.metrics["accuracy"])
    ratio = width(many.overall.ci["accuracy"]) / width(one.overall.ci["accuracy"])
    # a row bootstrap would shrink it by sqrt(k) (ratio 0.5 for k=4, 0.33 for k=9)
    assert 0.85 < ratio < 1.15, ratio
    for key in [m for m in one.overall.ci if m != "accuracy"]:
        r = width(many.overall.ci[key]) / width(one.overall.ci[key])
        assert 0.85 < r < 1.15, (key, r)
    assert many.slices["part=all"].ci["accuracy"] == many.overall.ci["accuracy"]


def test_interval_matches_an_independent_cluster_bootstrap() -> None:
    rng = np.random.default_rng(5)
    base = labelled_rows(250, seed=2, p=0.7)
    # uneven groups, like real test files: most texts once, some 2-6 times
    counts = np.where(rng.random(len(base)) < 0.2, rng.integers(2, 7, len(base)), 1)
    rows = [
        {**r, "id": f"{r['id']}-{c}"} for r, n in zip(base, counts, strict=True) for c in range(n)
    ]
    group = duplicate_groups(rows)
    assert len(set(group.tolist())) == len(base)
    correct = np.array([r["gold"] == r["pred"] for r in rows], dtype=float)
    ours = summarize_rows(rows, TASK.metrics_from_rows, "accuracy", n_resamples=20_000)
    ref = reference_cluster_ci(correct, group, 20_000, seed=9)
    assert ours.overall.ci["accuracy"] == pytest.approx(ref, abs=0.006)
    row_boot = reference_cluster_ci(correct, np.arange(len(rows)), 20_000, seed=9)
    assert width(row_boot) < 0.85 * width(ref)  # what the old row bootstrap reported


def test_vectorised_path_clusters_too() -> None:
    rng = np.random.default_rng(3)
    gold = rng.uniform(0, 5, 200)
    rows = [
        {"id": str(i), "text": f"pair {i}", "text_pair": "other", "gold": float(g),
         "pred": float(g + rng.normal(0, 1.5)), "slices": {}}
        for i, g in enumerate(gold)
    ]  # fmt: skip
    one = summarize_rows(rows, SIM.metrics_from_rows, "spearman", n_resamples=2000)
    many = summarize_rows(copied(rows, 4), SIM.metrics_from_rows, "spearman", n_resamples=2000)
    assert many.kinds["spearman"] == "vectorised"
    for m in ("pearson", "spearman"):
        ratio = width(many.overall.ci[m]) / width(one.overall.ci[m])
        assert 0.8 < ratio < 1.2, (m, ratio)


def test_without_copies_the_draws_are_the_row_bootstrap() -> None:
    rows = labelled_rows(120, seed=4)
    pos = np.arange(len(rows))
    plain = np.concatenate(list(index_chunks(pos, 500, rows_rng(0, pos))))
    grouped = np.concatenate(list(index_chunks(pos, 500, rows_rng(0, pos), duplicate_groups(rows))))
    assert np.array_equal(plain, grouped)


def test_cluster_resamples_hold_whole_groups() -> None:
    rows = copied(labelled_rows(30, seed=6), 3)[:75]  # groups of 3 and of 2
    group = duplicate_groups(rows)
    pos = np.arange(len(rows))
    n = 0
    for idx in index_chunks(pos, 300, rows_rng(0, pos), group):
        for sample in idx:
            g, c = np.unique(group[sample], return_counts=True)
            size = np.bincount(group)[g]
            assert np.all(c % size == 0)  # every drawn group with all of its rows
            n += 1
    assert n == 300


def test_rows_without_text_are_not_one_group() -> None:
    rows = [{"id": str(i), "gold": "a", "pred": "a"} for i in range(5)]
    assert len(set(duplicate_groups(rows).tolist())) == 5


def test_percentile_interval_sanity() -> None:
    assert percentile_interval(np.array([0.5] * 10)) == (0.5, 0.5)
