"""Throughput of `tuneproof check` on synthetic data: duplicates + leakage at 10⁶ rows, labels at 10⁵.

Targets (issue #4): exact + near duplicate + leakage on 1,000,000 rows of ~20 words in ≤ 120 s and
≤ 4 GiB peak memory on 2 cores; label-issue detection on 100,000 rows in ≤ 120 s.

Text is drawn from a Zipf(1) distribution over a 20,000-word vocabulary whose 318 most frequent
words are real English stop words (so "the", "of", "and" behave as in real text: they sit in most
rows and are the adversarial case for MinHash buckets); the rest are pronounceable pseudo-words.
About 1 % of rows are planted duplicates (exact with case/space changes, near with 1-3 words
changed) and 1 % of test rows are copies of train rows.

    python benchmarks/check_throughput.py                 # both parts, 1M and 100k rows
    python benchmarks/check_throughput.py --rows 200000 --label-rows 0
    python benchmarks/check_throughput.py --repeat 3      # the machine is shared: take the best

Peak memory is the process's maximum resident set size (``ru_maxrss``) measured in a fresh child
process per part, so data generation and the other part do not count.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

VOCAB = 20_000
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def vocabulary(size: int = VOCAB, seed: int = 0) -> np.ndarray:
    """Stop words first (most frequent), then distinct pseudo-words of 2-4 syllables."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    rng = np.random.default_rng(seed)
    stop = sorted(ENGLISH_STOP_WORDS, key=lambda w: (len(w), w))
    words: list[str] = list(stop)
    seen = set(words)
    while len(words) < size:
        w = "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 5))))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return np.array(words[:size], dtype=object)


def zipf_probs(size: int, s: float = 1.0) -> np.ndarray:
    p = 1.0 / np.arange(1, size + 1) ** s
    return p / p.sum()


@dataclass
class Corpus:
    train: pd.DataFrame
    test: pd.DataFrame
    exact_groups: list[list[int]] = field(default_factory=list)  # train row indices
    near_pairs: list[tuple[int, int]] = field(default_factory=list)  # train (original, edited)
    leaks: list[tuple[int, int]] = field(default_factory=list)  # (test row, train row)


def sentences(
    n: int, rng: np.random.Generator, vocab: np.ndarray, lo: int = 12, hi: int = 28
) -> list[list[str]]:
    lengths = rng.integers(lo, hi + 1, size=n)
    idx = rng.choice(len(vocab), size=int(lengths.sum()), p=zipf_probs(len(vocab)))
    words = vocab[idx]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return [list(words[bounds[i] : bounds[i + 1]]) for i in range(n)]


def edit(words: list[str], k: int, rng: np.random.Generator, vocab: np.ndarray) -> list[str]:
    """Replace or delete k distinct positions (the near-duplicate edit)."""
    out = list(words)
    for pos in sorted(rng.choice(len(out), size=k, replace=False), reverse=True):
        if rng.random() < 0.5:
            del out[pos]
        else:
            out[pos] = str(vocab[rng.integers(400, len(vocab))])
    return out


def variant(text: str, rng: np.random.Generator) -> str:
    """Same text after normalisation: change case and spacing."""
    if rng.random() < 0.5:
        text = text.upper() if rng.random() < 0.3 else text.capitalize()
    return text.replace(" ", "  ", 1) + (" " if rng.random() < 0.5 else "")


def make_corpus(
    rows: int, seed: int = 0, test_share: float = 0.1, planted: float = 0.005
) -> Corpus:
    """``rows`` rows split train/test with planted exact dups, near dups and train→test leaks."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary(seed=seed)
    n_test = int(rows * test_share)
    n_train = rows - n_test
    sents = sentences(rows, rng, vocab)
    texts = [" ".join(s) for s in sents]
    corpus = Corpus(train=pd.DataFrame(), test=pd.DataFrame())
    n_plant = int(n_train * planted)
    slots = rng.choice(np.arange(n_train // 2, n_train), size=2 * n_plant, replace=False)
    sources = rng.choice(n_train // 2, size=2 * n_plant, replace=False)
    for dst, src in zip(slots[:n_plant], sources[:n_plant], strict=True):
        texts[dst] = variant(texts[src], rng)
        corpus.exact_groups.append([int(src), int(dst)])
    for dst, src in zip(slots[n_plant:], sources[n_plant:], strict=True):
        texts[dst] = " ".join(edit(sents[src], int(rng.integers(1, 4)), rng, vocab))
        corpus.near_pairs.append((int(src), int(dst)))
    n_leak = int(n_test * 2 * planted)
    leak_src = rng.choice(n_train // 2, size=n_leak, replace=False)
    for k, src in enumerate(leak_src):
        dst = n_train + k
        texts[dst] = (
            variant(texts[src], rng) if k % 2 else " ".join(edit(sents[src], 1, rng, vocab))
        )
        corpus.leaks.append((k, int(src)))
    labels = rng.choice(["pos", "neg", "neutral"], size=rows, p=[0.45, 0.45, 0.1])
    df = pd.DataFrame({"text": texts, "label": labels})
    corpus.train = df.iloc[:n_train].reset_index(drop=True)
    corpus.test = df.iloc[n_train:].reset_index(drop=True)
    return corpus


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dedup_part(rows: int, seed: int, queue: mp.Queue) -> None:
    from tuneproof.checks import CheckOptions, check_data

    corpus = make_corpus(rows, seed)
    splits = {"train": corpus.train, "test": corpus.test}
    base = peak_rss_mib()
    opts = CheckOptions(only=("exact_duplicate", "near_duplicate", "leakage"))
    t0 = time.perf_counter()
    report = check_data(splits, text_column="text", label_column="label", options=opts)
    elapsed = time.perf_counter() - t0
    found = {c: sum(1 for f in report.findings if f.check == c) for c in opts.only or ()}
    queue.put({"seconds": elapsed, "peak_mib": peak_rss_mib(), "data_mib": base, "found": found})


def _label_part(rows: int, seed: int, queue: mp.Queue) -> None:
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from check_quality import learnable_dataset

    from tuneproof.checks import CheckOptions, check_data

    df, flipped = learnable_dataset(rows, seed=seed, flip=0.05)
    base = peak_rss_mib()
    t0 = time.perf_counter()
    report = check_data(
        {"train": df},
        text_column="text",
        label_column="label",
        options=CheckOptions(only=("label_issue",)),
    )
    elapsed = time.perf_counter() - t0
    hits = {int(r) for f in report.findings if f.check == "label_issue" for r in f.rows}
    queue.put(
        {
            "seconds": elapsed,
            "peak_mib": peak_rss_mib(),
            "data_mib": base,
            "found": {
                "label_issue": len(hits),
                "planted": len(flipped),
                "recall": len(hits & flipped) / max(len(flipped), 1),
            },
        }
    )


def run_part(target, rows: int, seed: int) -> dict:
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(rows, seed, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows for duplicates + leakage")
    ap.add_argument(
        "--label-rows", type=int, default=100_000, help="rows for label issues (0: skip)"
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs per part (shared machine)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    parts = []
    if args.rows:
        parts.append(("exact + near duplicate + leakage", _dedup_part, args.rows))
    if args.label_rows:
        parts.append(("label_issue", _label_part, args.label_rows))
    for name, target, rows in parts:
        for run in range(args.repeat):
            r = run_part(target, rows, args.seed)
            print(
                f"{name}: {rows:,} rows in {r['seconds']:.1f} s = {rows / r['seconds']:,.0f} rows/s; "
                f"peak RSS {r['peak_mib'] / 1024:.2f} GiB (data alone {r['data_mib'] / 1024:.2f} GiB)"
                f"; findings {r['found']}  [run {run + 1}/{args.repeat}]",
                flush=True,
            )


if __name__ == "__main__":
    main()
