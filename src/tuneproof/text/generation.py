"""Corpus-level generation metrics (BLEU, chrF, TER through sacrebleu) for any generation task.

A task adapter whose rows hold a generated ``pred`` and a reference ``gold`` (both strings) adds
:func:`corpus_scores` to its ``metrics_from_rows`` and returns :func:`corpus_resampler` from its
``resampler``: the evaluation's bootstrap then gives every slice an interval for these metrics too.

BLEU, chrF and TER are *corpus* scores, not means of sentence scores: BLEU's n-gram precisions
and brevity penalty, chrF's character n-gram F-score and TER's edits per reference word are
computed from counts summed over all segments. A bootstrap resample therefore resamples
documents (rows) and recomputes the corpus score from the summed counts of the rows it drew.
The per-row counts are sacrebleu's own segment statistics and each resample's score is
sacrebleu's own ``_compute_score_from_stats`` (the path its paired bootstrap test uses), so a
resample of all rows gives exactly ``corpus_score`` (the evaluation checks that before it uses
the resampler, and falls back to recomputing the metric per resample if not).

sacrebleu's defaults: BLEU with the ``13a`` tokenizer and exponential smoothing, chrF with
character 6-grams and β=2 (chrF++ would add word bigrams: not used), TER case-sensitive. ``13a``
splits on spaces and punctuation, so BLEU and TER mean little for Chinese, Japanese or Thai
output; chrF needs no tokenizer and is the one to read for those languages. Scores are on
sacrebleu's 0-100 scale; TER is an error rate (lower is better).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

GENERATION_METRICS: tuple[str, ...] = ("bleu", "chrf", "ter")


@lru_cache(maxsize=1)
def _scorers() -> dict[str, Any]:
    from sacrebleu.metrics import BLEU, CHRF, TER

    scorers = {"bleu": BLEU(), "chrf": CHRF(), "ter": TER()}
    assert tuple(scorers) == GENERATION_METRICS
    return scorers


def _texts(values: Sequence[Any]) -> list[str]:
    return ["" if v is None else str(v) for v in values]


def corpus_scores(golds: Sequence[Any], preds: Sequence[Any]) -> dict[str, float]:
    """sacrebleu's corpus BLEU, chrF and TER of ``preds`` against one reference each.

    The same computation as ``corpus_score`` (segment statistics, summed, scored), with each
    segment's statistics cached: the evaluation scores every slice and every single row too,
    and TER's shift search costs milliseconds per segment.
    """
    if not golds:
        return dict.fromkeys(GENERATION_METRICS, float("nan"))
    stats = segment_statistics(golds, preds)
    return {name: score_from_statistics(name, s.sum(axis=0)) for name, s in stats.items()}


@lru_cache(maxsize=200_000)
def _segment(gold: str, pred: str) -> tuple[tuple[float, ...], ...]:
    """One segment's statistics per metric (in :data:`GENERATION_METRICS` order)."""
    return tuple(
        tuple(s._extract_corpus_statistics([pred], [[gold]])[0]) for s in _scorers().values()
    )


def segment_statistics(golds: Sequence[Any], preds: Sequence[Any]) -> dict[str, np.ndarray]:
    """sacrebleu's sufficient statistics per row, one ``(n_rows, k)`` array per metric."""
    per_row = [_segment(g, p) for g, p in zip(_texts(golds), _texts(preds), strict=True)]
    return {
        name: np.asarray([row[j] for row in per_row], dtype=np.float64)
        for j, name in enumerate(GENERATION_METRICS)
    }


def score_from_statistics(name: str, summed: np.ndarray) -> float:
    """The corpus score of metric ``name`` from statistics summed over rows."""
    scorer = _scorers()[name]
    stats: Any = [int(v) for v in np.rint(summed)] if name != "ter" else list(summed)
    return float(scorer._compute_score_from_stats(stats).score)


def corpus_resampler(
    rows: Sequence[Mapping[str, Any]],
) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """A function from resampled row indices ``(B, m)`` to each metric per resample ``(B,)``:
    the statistics of the drawn rows are summed, then scored (the module docstring)."""
    stats = segment_statistics([r.get("gold") for r in rows], [r.get("pred") for r in rows])

    def resample(idx: np.ndarray) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name, per_row in stats.items():
            # one statistic at a time: (B, m) in memory, never (B, m, k)
            summed = np.stack([col[idx].sum(axis=1) for col in per_row.T], axis=1)
            out[name] = np.fromiter(
                (score_from_statistics(name, s) for s in summed), np.float64, len(summed)
            )
        return out

    return resample
