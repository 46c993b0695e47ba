"""One pass over all splits that ``exact_duplicate``, ``near_duplicate``, ``leakage`` and
``label_conflict`` share: every distinct normalised text gets a code (equal code = exact
duplicate), and MinHash/LSH finds the pairs of codes whose texts are near duplicates.

Working on distinct texts, not rows, means a text copied 1,000 times costs one signature, and
exact duplicates never show up again as near duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tuneproof.checks._minhash import NearPairs, near_groups, near_pairs
from tuneproof.text.scripts import is_unsegmented

if TYPE_CHECKING:
    from tuneproof.checks.base import CheckContext

NO_TEXT = -1  # code of rows whose normalised text is empty (the empty_text check reports them)


@dataclass(frozen=True)
class DuplicateIndex:
    codes: dict[str, np.ndarray]  # per split: the code of each row's normalised text, or NO_TEXT
    n_codes: int
    near: NearPairs  # pairs of codes with Jaccard ≥ threshold

    def present(self, split: str) -> np.ndarray:
        """Boolean mask over codes: which texts occur in ``split``."""
        mask = np.zeros(self.n_codes, dtype=bool)
        c = self.codes[split]
        mask[c[c >= 0]] = True
        return mask

    def rows_of(self, split: str, group_of_code: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """(group, row positions in ``split``) for each group in ``group_of_code`` (-1: none).

        Row positions come in file order; groups in order of their first row.
        """
        c = self.codes[split]
        group = np.where(c >= 0, group_of_code[np.maximum(c, 0)], -1)
        sel = np.flatnonzero(group >= 0)
        if len(sel) == 0:
            return
        order = sel[np.argsort(group[sel], kind="stable")]
        g = group[order]
        cuts = np.flatnonzero(g[1:] != g[:-1]) + 1
        chunks = np.split(order, cuts)
        chunks.sort(key=lambda rows: int(rows[0]))
        for rows in chunks:
            yield int(group[rows[0]]), rows

    def components(self, mask: np.ndarray) -> tuple[np.ndarray, dict[int, float]]:
        """Near-duplicate groups among the codes in ``mask``: group per code (-1: alone) and
        the highest Jaccard inside each group."""
        p, sim = self.near.pairs, self.near.jaccard
        keep = mask[p[:, 0]] & mask[p[:, 1]] if len(p) else np.zeros(0, dtype=bool)
        p, sim = p[keep], sim[keep]
        group = np.full(self.n_codes, -1, dtype=np.int64)
        best: dict[int, float] = {}
        if len(p) == 0:
            return group, best
        nodes, local = np.unique(p, return_inverse=True)
        local = local.reshape(-1, 2)
        labels = near_groups(len(nodes), local)
        group[nodes] = labels
        top = np.zeros(int(labels.max()) + 1)
        np.maximum.at(top, labels[local[:, 0]], sim)
        best = dict(enumerate(top.tolist()))
        return group, best


def shingle_text(text: str) -> str:
    """Text as MinHash sees it: Chinese, Japanese, Thai, ... have no spaces between words, so
    each character counts as a word there (character unigrams and bigrams)."""
    if is_unsegmented(text):
        return " ".join(ch for ch in text if not ch.isspace())
    return text


def build_index(ctx: CheckContext) -> DuplicateIndex:
    opts = ctx.options
    table: dict[str, int] = {}
    codes: dict[str, np.ndarray] = {}
    for split in ctx.splits:
        setdefault = table.setdefault
        codes[split] = np.fromiter(
            (setdefault(t, len(table)) if t else NO_TEXT for t in ctx.normalised(split)),
            dtype=np.int64,
        )
    texts = list(table)  # dicts keep insertion order: texts[code]
    near = near_pairs(
        [t if t.isascii() else shingle_text(t) for t in texts],
        threshold=opts.near_threshold,
        num_perm=opts.num_perm,
        bands=opts.bands,
        seed=opts.seed + 1,
        max_df=opts.stop_df,
        max_bucket=opts.max_bucket,
    )
    return DuplicateIndex(codes=codes, n_codes=len(texts), near=near)
