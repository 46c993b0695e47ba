"""Precision and recall of `tuneproof check` on planted problems (near duplicates, label issues).

    python benchmarks/check_quality.py                       # 100k rows dedup, labels
    python benchmarks/check_quality.py --rows 20000 --no-labels

Near duplicates: rows of the throughput corpus (benchmarks/check_throughput.py: Zipf text over a
20k vocabulary, stop words on top) with planted copies that have 1, 2 or 3 words deleted or
replaced. A planted pair is *found* when both rows sit in one near_duplicate finding; precision
counts the found pairs (within each group) that were planted. Recall is also given per number of
edits and per exact word Jaccard, since 3 edits in a 12-word sentence fall below the 0.5
threshold on purpose.

Label issues: real text with planted flips (benchmarks/label_issue_quality.py: the polarity
sentences, old rule vs new side by side). The synthetic learnable dataset below
(:func:`learnable_dataset`) is kept for the throughput benchmark only: it overstated precision
(0.83 for all flagged rows, against 0.12 on real text with the same rule).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from check_throughput import make_corpus, sentences, vocabulary

CLASSES = ("pos", "neg", "neutral")


def learnable_dataset(
    rows: int, seed: int = 0, flip: float = 0.05
) -> tuple[pd.DataFrame, set[int]]:
    """Rows whose label follows from 3 class words; ``flip`` of the labels changed. Returns the
    frame (text, label) and the positions of the flipped rows."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary(seed=seed)
    class_words = {
        c: [f"{c}{w}" for w in vocab[1000 + 50 * k : 1050 + 50 * k]] for k, c in enumerate(CLASSES)
    }
    base = sentences(rows, rng, vocab, lo=14, hi=20)
    labels = rng.choice(len(CLASSES), size=rows)
    texts = []
    for words, y in zip(base, labels, strict=True):
        words = list(words)
        for _ in range(3):
            src = y if rng.random() > 0.1 else rng.integers(len(CLASSES))
            words.insert(
                int(rng.integers(len(words) + 1)), str(rng.choice(class_words[CLASSES[src]]))
            )
        texts.append(" ".join(words))
    flipped = rng.choice(rows, size=int(rows * flip), replace=False)
    given = labels.copy()
    given[flipped] = (labels[flipped] + rng.integers(1, len(CLASSES), size=len(flipped))) % len(
        CLASSES
    )
    df = pd.DataFrame({"text": texts, "label": [CLASSES[k] for k in given]})
    return df, {int(i) for i in flipped}


def near_quality(rows: int, seed: int) -> None:
    from tuneproof.checks import CheckOptions, check_data
    from tuneproof.checks._minhash import jaccard, word_shingles
    from tuneproof.checks.base import normalise

    corpus = make_corpus(rows, seed)
    t0 = time.perf_counter()
    report = check_data(
        {"train": corpus.train, "test": corpus.test},
        text_column="text",
        label_column="label",
        options=CheckOptions(only=("near_duplicate",)),
    )
    elapsed = time.perf_counter() - t0
    group_of: dict[int, int] = {}
    found_pairs = 0
    for g, f in enumerate(f for f in report.findings if f.split == "train"):
        members = [int(r) for r in f.rows]
        found_pairs += len(members) * (len(members) - 1) // 2
        for r in members:
            group_of[r] = g
    texts = [normalise(t) for t in corpus.train.text]
    planted = corpus.near_pairs
    sh = word_shingles([texts[a] for a, _ in planted] + [texts[b] for _, b in planted])
    n = len(planted)
    sim = jaccard(sh, np.stack([np.arange(n), np.arange(n) + n], axis=1))
    hit = np.array([a in group_of and group_of.get(a) == group_of.get(b) for a, b in planted])
    # Planted exact-duplicate sources can also be near-duplicate sources: pairs among them count.
    planted_set = {tuple(sorted(p)) for p in planted}
    true_found = sum(
        1 for a, b in planted_set if a in group_of and group_of.get(a) == group_of.get(b)
    )
    edits = np.array(
        [abs(len(texts[a].split()) - len(texts[b].split())) for a, b in planted]
    )  # deletions only; replacements keep the length
    del edits
    print(f"near_duplicate on {rows:,} rows ({elapsed:.1f} s): {len(planted):,} planted pairs")
    print(f"  recall (all planted)          {hit.mean():.4f}")
    for lo, hi in ((0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 1.01)):
        sel = (sim >= lo) & (sim < hi)
        if sel.any():
            print(
                f"  recall, Jaccard {lo:.1f}–{min(hi, 1):.1f}      {hit[sel].mean():.4f} ({sel.sum():,} pairs)"
            )
    sel = sim >= 0.5
    print(f"  recall, Jaccard ≥ 0.5         {hit[sel].mean():.4f} ({sel.sum():,} of {n:,} pairs)")
    print(
        f"  below threshold (missed by design) {(~sel).sum():,}: Jaccard "
        f"{sim[~sel].min() if (~sel).any() else 0:.2f}–{sim[~sel].max() if (~sel).any() else 0:.2f}"
    )
    print(
        f"  precision (pairs in groups that were planted) {true_found / max(found_pairs, 1):.4f} "
        f"({true_found:,} of {found_pairs:,})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000, help="rows for near duplicates (0: skip)")
    ap.add_argument("--no-labels", action="store_true", help="skip the label-issue benchmark")
    ap.add_argument("--flip", type=float, default=0.05, help="share of labels flipped")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.rows:
        near_quality(args.rows, args.seed)
    if not args.no_labels:
        from label_issue_quality import report

        report(args.flip, args.seed)


if __name__ == "__main__":
    main()
