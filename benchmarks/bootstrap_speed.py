"""Speed of the per-slice bootstrap behind `tuneproof eval` (figures printed, never asserted).

Builds synthetic sequence-classification prediction rows (3 labels, ~80 % accurate) tagged with
``--slices`` slice values spread over ``--dims`` dimensions, as `eval` tags them (every row has one
value per dimension, so with the defaults each row sits in 6 slices plus ``overall``), and times
``tuneproof.evaluate.metrics.summarize_rows`` — the entry point the CLI calls: fast-path analysis,
point metrics through the task adapter, and ``--resamples`` percentile-bootstrap resamples of
every metric on ``overall`` and every slice. Target (issue #6): 10,000 rows × 30 slices × 1,000
resamples in ≤ 2 s.

``--copies SHARE`` gives the rows texts, SHARE of them copies of another row's text (groups of 2-5,
as the built-in German test file holds 45 copies in 200 rows): the intervals then come from the
cluster bootstrap (whole groups of copies resampled), which must stay within the same target.

Run: ``taskset -c 1 python benchmarks/bootstrap_speed.py [--rows 10000] [--slices 30]
[--resamples 1000] [--repeat 3] [--copies 0.25]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

TARGET_S = 2.0
LABELS = ("negative", "neutral", "positive")


def synthetic_rows(
    n_rows: int, n_slices: int, n_dims: int, seed: int, copies: float | None = None
) -> list[dict[str, Any]]:
    """Prediction rows with ``n_slices`` distinct slice keys over ``n_dims`` dimensions; with
    ``copies``, a text per row, that share of them a copy of an earlier row's text."""
    rng = np.random.default_rng(seed)
    dims = max(1, min(n_dims, n_slices))
    # values per dimension: n_slices split as evenly as possible (at least 1 each)
    sizes = [n_slices // dims + (1 if d < n_slices % dims else 0) for d in range(dims)]
    gold = rng.integers(0, len(LABELS), n_rows)
    wrong = rng.random(n_rows) < 0.2
    pred = np.where(wrong, (gold + rng.integers(1, len(LABELS), n_rows)) % len(LABELS), gold)
    # skewed slice sizes, like real languages / length buckets
    values = []
    for size in sizes:
        weights = 1.0 / np.arange(1, size + 1)
        values.append(rng.choice(size, n_rows, p=weights / weights.sum()))
    text = np.arange(n_rows)
    if copies:
        copied = np.flatnonzero(rng.random(n_rows) < copies)
        copied = copied[copied > 0]
        # a copy repeats a row 1-4 places back: groups of 2-5 rows
        text[copied] = np.maximum(copied - rng.integers(1, 5, len(copied)), 0)
        for i in copied.tolist():
            text[i] = text[text[i]]
    rows = []
    for i in range(n_rows):
        extra = {"text": f"review number {text[i]}"} if copies is not None else {}
        rows.append(
            {
                "id": str(i),
                "gold": LABELS[gold[i]],
                "pred": LABELS[pred[i]],
                "slices": {f"dim{d}": f"v{values[d][i]}" for d in range(dims)},
                **extra,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="prediction rows")
    parser.add_argument("--slices", type=int, default=30, help="distinct slice keys")
    parser.add_argument("--dims", type=int, default=6, help="slice dimensions (rows per slice)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (after one warm-up)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--copies", type=float, default=None, help="share of rows copying another's text"
    )
    args = parser.parse_args()

    from tuneproof.evaluate.metrics import summarize_rows
    from tuneproof.tasks import get_task

    task = get_task("sequence-classification")
    rows = synthetic_rows(args.rows, args.slices, args.dims, args.seed, args.copies)

    def once() -> Any:
        return summarize_rows(
            rows, task.metrics_from_rows, "accuracy", seed=args.seed, n_resamples=args.resamples
        )

    summary = once()  # warm-up: imports, scikit-learn and NumPy first-call costs
    n_in_slices = sum(s.n for s in summary.slices.values())
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)

    best, median = min(times), statistics.median(times)
    metrics = ", ".join(f"{m} ({k})" for m, k in summary.kinds.items())
    print(
        f"{args.rows:,} rows, {len(summary.slices)} slices over {min(args.dims, args.slices)} "
        f"dimensions + overall ({n_in_slices + summary.overall.n:,} slice rows), "
        f"{args.resamples:,} resamples; metrics: {metrics}"
    )
    if args.copies is not None:
        n_texts = len({r["text"] for r in rows})
        print(f"texts: {n_texts:,} distinct of {len(rows):,} rows (cluster bootstrap)")
    print(f"summarize_rows: best {best:.3f} s, median {median:.3f} s of {args.repeat} runs")
    verdict = "ok" if best <= TARGET_S else "OVER TARGET"
    print(f"target: <= {TARGET_S:.1f} s -> {verdict}")


if __name__ == "__main__":
    main()
