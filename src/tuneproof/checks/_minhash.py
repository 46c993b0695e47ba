"""Near-duplicate search at a million rows: word shingles → MinHash → LSH bands → exact Jaccard.

Everything runs in numpy batches, because per-text Python calls (``MinHash.update`` per shingle,
``MinHashLSH.insert`` per row) cost tens of microseconds each and would dominate at 10⁶ rows:
datasketch's own pipeline (``MinHash.bulk`` + an insertion session + ``query``) measured 15× the
CPU time of this module at equal recall on 200k rows (``benchmarks/check_throughput.py
--compare-rows``, docs/checks.md), so this is kept rather than replaced by datasketch.
The maths is datasketch's: signatures use its ``affine32`` permutation scheme (MurmurHash3
finaliser, then ``a·h + b mod 2³²`` per permutation, with datasketch's own ``a, b``), so a row's
signature equals ``datasketch.MinHash(num_perm, seed, hashfunc=<ours>).hashvalues``; bands and
rows per band come from ``datasketch.MinHashLSH``'s optimiser. Only the bucket bookkeeping is ours
(sort band keys, read off runs of equal keys), which is what makes it vectorisable.

Shingles are the words (runs of ASCII letters/digits/underscore or non-ASCII characters) *and*
the word bigrams of a text. Unigrams keep one replaced word in a 20-word sentence at Jaccard ≈ 0.86
and three at ≈ 0.6; bigrams keep different sentences with the same words on the same topic apart.
See docs/checks.md for the figures.

Cost is linear in the number of shingles (≈ 2 × words) for hashing and signatures, O(n log n)
per band for the bucket sort, and linear in the number of candidate pairs for verification.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

_U32 = np.uint32
_U64 = np.uint64

# Which bytes belong to a word: ASCII letters, digits, "_" and every byte of a multi-byte UTF-8
# character (so "café" and "straße" are one word each; punctuation and spaces separate words).
_WORD_BYTE = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_":
    _WORD_BYTE[_c] = True
_WORD_BYTE[0x80:] = True

_MAX_WORD_BYTES = 64  # bytes past the 64th of a word share the last power (still hashed)
_BYTE_POW = np.array(
    [pow(0x100000001B3, k, 1 << 64) for k in range(_MAX_WORD_BYTES)], dtype=_U64
)  # FNV prime powers: a polynomial hash of a word's bytes, wrapping mod 2^64


@dataclass(frozen=True)
class Shingles:
    """32-bit shingle hashes of many texts (CSR): text i owns values[indptr[i] : indptr[i + 1]]."""

    indptr: np.ndarray  # int64, len n + 1
    values: np.ndarray  # uint32

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def sizes(self) -> np.ndarray:
        return np.diff(self.indptr)


def _fmix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads polynomial hashes over all bits."""
    x = x ^ (x >> _U64(33))
    x = x * _U64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> _U64(33))
    x = x * _U64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> _U64(33))


def fmix32(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch's affine32 scheme applies to input hashes."""
    x = x ^ (x >> _U32(16))
    x = x * _U32(0x85EBCA6B)
    x = x ^ (x >> _U32(13))
    x = x * _U32(0xC2B2AE35)
    return x ^ (x >> _U32(16))


def _chunk_shingles(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of a few thousand texts: (per-text counts, uint32 values in text order)."""
    n = len(texts)
    buf = np.frombuffer(("\n".join(texts) + "\n").encode("utf-8"), dtype=np.uint8)
    row_end = np.flatnonzero(buf == 10)  # one newline ends each text; texts hold none
    is_word = _WORD_BYTE[buf]
    start = is_word.copy()
    start[1:] &= ~is_word[:-1]
    word_start = np.flatnonzero(start)
    n_words = len(word_start)
    if n_words == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(0, dtype=_U32)
    # Polynomial hash of each word's bytes, summed segment-wise (non-word bytes contribute 0).
    word_of_byte = np.cumsum(start) - 1
    pos = np.arange(len(buf), dtype=np.int64) - word_start[np.maximum(word_of_byte, 0)]
    np.minimum(pos, _MAX_WORD_BYTES - 1, out=pos)
    terms = (buf.astype(_U64) + _U64(1)) * _BYTE_POW[pos]
    terms[~is_word] = 0
    word_hash = _fmix64(np.add.reduceat(terms, word_start))
    row = np.searchsorted(row_end, word_start)  # text index of each word
    counts_u = np.bincount(row, minlength=n).astype(np.int64)
    same_row = row[1:] == row[:-1]
    bigram = _fmix64(word_hash[:-1][same_row] * _U64(0x9E3779B97F4A7C15) + word_hash[1:][same_row])
    # Lay out each text's shingles contiguously: its unigrams, then its bigrams.
    per_row = counts_u + np.maximum(counts_u - 1, 0)
    offset = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_row, out=offset[1:])
    first_word = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts_u, out=first_word[1:])
    out = np.empty(int(offset[-1]), dtype=_U64)
    rank = np.arange(n_words, dtype=np.int64) - first_word[row]
    out[offset[row] + rank] = word_hash ^ _U64(0x5BD1E995)
    brow = row[:-1][same_row]
    out[offset[brow] + counts_u[brow] + rank[:-1][same_row]] = bigram
    return per_row, (out >> _U64(32)).astype(_U32)


def word_shingles(texts: Sequence[str], *, chunk: int = 20_000) -> Shingles:
    """Word unigram + bigram hashes of normalised texts (texts must not contain newlines)."""
    counts: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for lo in range(0, len(texts), chunk):
        c, v = _chunk_shingles(texts[lo : lo + chunk])
        counts.append(c)
        values.append(v)
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    if counts:
        np.cumsum(np.concatenate(counts), out=indptr[1:])
    vals = np.concatenate(values) if values else np.zeros(0, dtype=_U32)
    return Shingles(indptr=indptr, values=vals)


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters ``(a, b)`` for ``num_perm`` and ``seed``."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return np.asarray(a, dtype=_U32), np.asarray(b, dtype=_U32)


def frequent_words(
    shingles: Shingles, *, max_df: float, min_count: int = 50, sample: int = 100_000
) -> np.ndarray:
    """Hashes of the word unigrams found in more than ``max_df`` of the texts (in a sample).

    These are stop words ("the", "of"). As a text's minimum they put unrelated texts into one
    LSH bucket, so signatures ignore them (exact Jaccard still counts them). Bigrams are kept
    even when frequent: a template shared by thousands of rows is exactly what must collide.
    A word must also occur more than ``min_count`` times, so small datasets (where buckets
    are cheap anyway) keep all their words.
    """
    n = min(len(shingles), sample)
    if n == 0:
        return np.zeros(0, dtype=_U32)
    # A text of u words has u unigrams then u - 1 bigrams: 2u - 1 shingles.
    starts = shingles.indptr[:n]
    n_words = (np.diff(shingles.indptr[: n + 1]) + 1) // 2
    owner = np.repeat(np.arange(n), n_words)
    first = np.zeros(n, dtype=np.int64)
    np.cumsum(n_words[:-1], out=first[1:])
    pos = starts[owner] + (np.arange(int(n_words.sum()), dtype=np.int64) - first[owner])
    uniq, counts = np.unique(shingles.values[pos], return_counts=True)
    return uniq[counts > max(max_df * n, min_count)]


def _is_member(values: np.ndarray, members: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``np.isin`` for a few hundred sorted members: a 2^20-slot filter, exact check on hits."""
    out = np.zeros(len(values), dtype=bool)
    if len(members) == 0:
        return out
    hit = np.flatnonzero(table[values & 0xFFFFF])
    cand = values[hit]
    pos = np.minimum(np.searchsorted(members, cand), len(members) - 1)
    out[hit] = members[pos] == cand
    return out


def signatures(
    shingles: Shingles,
    *,
    num_perm: int,
    seed: int,
    ignore: np.ndarray | None = None,
    block: int = 1 << 15,
    bits: int = 32,
) -> np.ndarray:
    """MinHash signatures, shape (texts, num_perm) uint32; texts without shingles get all-max.

    Shingles in ``ignore`` take no part, except in texts made of nothing else. Works through
    blocks of about ``block`` shingles so the (num_perm × block) temporary stays cache-sized.
    ``bits=16`` keeps only the low 16 bits of each minimum (uint16; b-bit minwise hashing,
    Li & König 2010): half the memory (2.4 instead of 4.8 GB at 10M texts × 120), while two
    different minima still agree by chance with p = 2⁻¹⁶ only.
    """
    if bits not in (16, 32):
        raise ValueError(f"bits must be 16 or 32, not {bits}")
    a, b = permutations(num_perm, seed)
    n = len(shingles)
    dtype = np.dtype(np.uint16 if bits == 16 else np.uint32)
    sig = np.full((n, num_perm), (1 << bits) - 1, dtype=dtype)
    indptr = shingles.indptr
    nonempty = np.flatnonzero(np.diff(indptr) > 0)
    if len(nonempty) == 0:
        return sig
    members = np.sort(np.zeros(0, dtype=_U32) if ignore is None else ignore)
    table = np.zeros(1 << 20, dtype=bool)
    table[members & 0xFFFFF] = True
    # Empty texts own no values, so the texts of a block own one contiguous slice of `values`.
    ends = indptr[nonempty + 1]
    cuts = np.searchsorted(ends, np.arange(block, int(ends[-1]), block), side="right")
    edges = np.unique(np.concatenate([[0], cuts, [len(nonempty)]]))
    a_col, b_col = a[:, None], b[:, None]
    for lo, hi in itertools.pairwise(edges):
        rows = nonempty[lo:hi]
        sizes = indptr[rows + 1] - indptr[rows]
        vals = shingles.values[int(indptr[rows[0]]) : int(indptr[rows[-1] + 1])]
        common = _is_member(vals, members, table)
        if common.any():
            owner = np.repeat(np.arange(len(rows)), sizes)
            kept = np.bincount(owner[~common], minlength=len(rows))
            use = ~common | (kept == 0)[owner]  # texts of nothing but common shingles keep all
            vals = vals[use]
            sizes = np.bincount(owner[use], minlength=len(rows))
        starts = np.zeros(len(rows), dtype=np.int64)
        np.cumsum(sizes[:-1], out=starts[1:])
        perm = a_col * fmix32(vals)[None, :] + b_col
        sig[rows] = np.minimum.reduceat(perm, starts, axis=1).T  # uint16: the low bits
    return sig


def band_params(threshold: float, num_perm: int, weights: tuple[float, float]) -> tuple[int, int]:
    """(bands, rows per band) as ``datasketch.MinHashLSH`` chooses them for this threshold."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
    return int(lsh.b), int(lsh.r)


def _band_keys(sig: np.ndarray, lo: int, hi: int) -> np.ndarray:
    key = np.zeros(len(sig), dtype=_U64)
    for k in range(lo, hi):
        key = _fmix64(key * _U64(0x100000001B3) + sig[:, k].astype(_U64) + _U64(k + 1))
    return key


def _run_pairs(members: np.ndarray, run_start: np.ndarray, run_len: np.ndarray) -> np.ndarray:
    """All (i, j) pairs inside each run of ``members`` (runs given by start and length)."""
    out = [np.zeros((0, 2), dtype=np.int64)]
    for size in np.unique(run_len):
        starts = run_start[run_len == size]
        iu, ju = np.triu_indices(int(size), k=1)
        i = members[starts[:, None] + iu[None, :]].ravel()
        j = members[starts[:, None] + ju[None, :]].ravel()
        out.append(np.stack([i, j], axis=1))
    return np.concatenate(out)


@dataclass(frozen=True)
class Candidates:
    pairs: np.ndarray  # (m, 2) int64, i < j, unique
    big_buckets: int  # buckets larger than max_bucket, linked as chains instead of all pairs


def lsh_candidates(
    sig: np.ndarray, *, bands: int, rows: int, usable: np.ndarray, max_bucket: int = 50
) -> Candidates:
    """Pairs of texts that agree on all ``rows`` minima of at least one band.

    A bucket of up to ``max_bucket`` texts yields all its pairs. A bigger one (a template that
    thousands of rows share, or common words that survived the stop-shingle filter) yields only
    the chain of neighbours in it, so its cost is linear in its size: verification then keeps
    the links of a real cluster, and union-find joins the cluster through them.
    """
    idx = np.flatnonzero(usable)
    n = np.int64(len(sig))
    found: list[np.ndarray] = []
    big_buckets = 0
    sub = sig if len(idx) == len(sig) else sig[idx]  # no 4.8 GB copy at 10M rows
    for band in range(bands):
        key = _band_keys(sub, band * rows, (band + 1) * rows)
        # Hash-group the keys (linear), then sort only the texts that share a bucket.
        group, _ = pd.factorize(key)
        shared = np.flatnonzero(np.bincount(group)[group] > 1)
        order = shared[np.argsort(group[shared], kind="stable")]
        k = group[order]
        members = idx[order]
        run_start = np.flatnonzero(np.concatenate([[True], k[1:] != k[:-1]]))
        run_len = np.diff(np.append(run_start, len(k)))
        big = run_len > max_bucket
        big_buckets += int(big.sum())
        small = (run_len > 1) & ~big
        pairs = _run_pairs(members, run_start[small], run_len[small])
        if big.any():
            in_big = np.repeat(big, run_len)
            link = np.flatnonzero(in_big[1:] & (k[1:] == k[:-1]))
            pairs = np.concatenate([pairs, np.stack([members[link], members[link + 1]], axis=1)])
        if len(pairs):
            pairs.sort(axis=1)
            found.append(pairs[:, 0] * n + pairs[:, 1])
    if not found:
        return Candidates(np.zeros((0, 2), dtype=np.int64), big_buckets)
    code = np.unique(np.concatenate(found))
    return Candidates(np.stack([code // n, code % n], axis=1), big_buckets)


def jaccard(shingles: Shingles, pairs: np.ndarray, *, batch: int = 250_000) -> np.ndarray:
    """Exact Jaccard similarity of each pair's shingle *sets* (repeats within a text count once)."""
    out = np.zeros(len(pairs), dtype=np.float64)
    if len(pairs) == 0:
        return out
    texts = np.unique(pairs)
    local = np.full(len(shingles), -1, dtype=np.int64)
    local[texts] = np.arange(len(texts))
    sets = _unique_sets(shingles, texts)
    set_size = sets.sizes()
    for lo in range(0, len(pairs), batch):
        p = pairs[lo : lo + batch]
        a, b = local[p[:, 0]], local[p[:, 1]]
        pid = np.arange(len(p), dtype=np.int64)
        val_a, pid_a = _gather(sets, a, pid)
        val_b, pid_b = _gather(sets, b, pid)
        keys = np.concatenate([(pid_a << 32) | val_a, (pid_b << 32) | val_b])
        keys.sort()
        both = keys[1:][keys[1:] == keys[:-1]]
        inter = np.bincount(both >> 32, minlength=len(p))
        union = set_size[a] + set_size[b] - inter
        out[lo : lo + len(p)] = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return out


def _unique_sets(shingles: Shingles, texts: np.ndarray) -> Shingles:
    vals, owner = _gather(shingles, texts, np.arange(len(texts), dtype=np.int64))
    keys = np.sort((owner << 32) | vals)
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys >> 32, minlength=len(texts)), out=indptr[1:])
    return Shingles(indptr=indptr, values=(keys & 0xFFFFFFFF).astype(_U32))


def _gather(sh: Shingles, which: np.ndarray, tag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated values of texts ``which`` (as int64) and, per value, the tag of its text."""
    starts = sh.indptr[which]
    sizes = sh.indptr[which + 1] - starts
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(which)), sizes)
    first = np.zeros(len(which), dtype=np.int64)
    np.cumsum(sizes[:-1], out=first[1:])
    pos = starts[owner] + (np.arange(total, dtype=np.int64) - first[owner])
    return sh.values[pos].astype(np.int64), tag[owner]


def near_groups(n: int, pairs: np.ndarray) -> np.ndarray:
    """Group label (0..k-1) of each of ``n`` texts, joining every pair transitively: the
    connected components of the pair graph (scipy's, linear in nodes + pairs)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), (n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


@dataclass(frozen=True)
class NearPairs:
    """Verified similar pairs among texts (indices into the texts given), Jaccard ≥ threshold."""

    pairs: np.ndarray  # (m, 2) int64
    jaccard: np.ndarray  # (m,) float64
    candidates: int  # pairs LSH proposed (before exact Jaccard)
    big_buckets: int


def near_pairs(
    texts: Sequence[str],
    *,
    threshold: float,
    num_perm: int,
    bands: int,
    seed: int = 1,
    max_df: float = 0.01,
    max_bucket: int = 50,
    timings: dict[str, float] | None = None,
) -> NearPairs:
    """All pairs of ``texts`` with shingle Jaccard ≥ ``threshold`` that LSH surfaces.

    ``timings``, when given, receives the CPU seconds of each stage (shingles, minhash, lsh,
    verify) for benchmarks/check_throughput.py (CPU, not wall: the build machine is shared).
    """
    clock = [time.process_time()]

    def lap(stage: str) -> None:
        clock.append(time.process_time())
        if timings is not None:
            timings[stage] = clock[-1] - clock[-2]

    sh = word_shingles(texts)
    lap("shingles")
    ignore = frequent_words(sh, max_df=max_df)
    # 16-bit minima: bands of 3 then compare 48 bits (a chance collision among 10M texts is
    # expected ~7 times over all 40 bands), and the estimate below moves by < 0.001.
    sig = signatures(sh, num_perm=num_perm, seed=seed, ignore=ignore, bits=16)
    lap("minhash")
    cand = lsh_candidates(
        sig, bands=bands, rows=num_perm // bands, usable=sh.sizes() > 0, max_bucket=max_bucket
    )
    lap("lsh")
    # Most candidates share one band by chance: drop those whose signatures agree on few
    # permutations (estimated Jaccard under half the threshold, > 5 sigma below it at 96
    # permutations) before computing exact Jaccard on the rest.
    pairs = cand.pairs[estimate(sig, cand.pairs) >= threshold / 2]
    del sig
    sim = jaccard(sh, pairs)
    keep = sim >= threshold
    lap("verify")
    return NearPairs(pairs[keep], sim[keep], len(cand.pairs), cand.big_buckets)


def estimate(sig: np.ndarray, pairs: np.ndarray, batch: int = 100_000) -> np.ndarray:
    """MinHash estimate of each pair's Jaccard: the share of permutations whose minima agree."""
    out = np.zeros(len(pairs), dtype=np.float64)
    for lo in range(0, len(pairs), batch):
        p = pairs[lo : lo + batch]
        out[lo : lo + len(p)] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
    return out
