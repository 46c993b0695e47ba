"""Time BLEU/chrF/TER (+ ROUGE) per slice with 1,000 bootstrap resamples on synthetic summaries.

    python benchmarks/generation_metrics_speed.py --rows 1000 --slices 10 --resamples 1000

Each resample sums sacrebleu's per-row statistics of the drawn rows and scores them with
sacrebleu's own ``_compute_score_from_stats`` (one Python call per resample and metric). The
first run also computes every segment's statistics (TER's shift search dominates) and ROUGE;
the second finds them cached, so it times the bootstrap alone.
"""

from __future__ import annotations

import argparse
import random
import time

WORDS = [
    "the",
    "council",
    "met",
    "on",
    "tuesday",
    "to",
    "approve",
    "a",
    "new",
    "budget",
    "for",
    "roads",
    "schools",
    "and",
    "parks",
]


def rows(n: int, slices: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        gold = " ".join(rng.choices(WORDS, k=rng.randint(8, 20)))
        pred = " ".join(w if rng.random() < 0.7 else rng.choice(WORDS) for w in gold.split())
        out.append(
            {"id": str(i), "text": f"doc {i}", "gold": gold, "pred": pred,
             "slices": {"bucket": str(i % slices)}}
        )  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--slices", type=int, default=10)
    ap.add_argument("--resamples", type=int, default=1000)
    args = ap.parse_args()
    from tuneproof.evaluate.metrics import summarize_rows
    from tuneproof.tasks import get_task

    data = rows(args.rows, args.slices)
    task = get_task("summarization")
    times = []
    for _ in range(2):  # the second run finds every segment's statistics cached
        start = time.perf_counter()
        s = summarize_rows(data, task.metrics_from_rows, "rougeL", n_resamples=args.resamples)
        times.append(time.perf_counter() - start)
    o = s.overall
    print(
        f"{args.rows:,} rows, {args.slices} slices + overall, {args.resamples:,} resamples: "
        f"{times[0]:.2f} s (first: scores every segment), {times[1]:.2f} s (segments cached: "
        f"the bootstrap); kinds {s.kinds}"
    )
    for m in ("bleu", "chrf", "ter", "rougeL"):
        lo, hi = o.ci[m] or (float("nan"), float("nan"))
        print(f"  overall {m}: {o.metrics[m]:.2f} [{lo:.2f}, {hi:.2f}]")


if __name__ == "__main__":
    main()
