"""``near_duplicate``: rows of one split whose texts differ by a few words (MinHash + LSH over
word unigrams and bigrams, verified with the exact Jaccard similarity, grouped with union-find).
Near copies are templated or scraped-twice rows; like exact ones they over-weight one example."""

from __future__ import annotations

from tuneproof.checks.base import Check, CheckContext, Finding

NAME = "near_duplicate"


def run(ctx: CheckContext) -> list[Finding]:
    index = ctx.duplicates()
    findings = []
    for split in index.codes:
        group, best = index.components(index.present(split))
        for g, rows in index.rows_of(split, group):
            texts = len({int(index.codes[split][r]) for r in rows})
            sim = best[g]
            findings.append(
                Finding(
                    check=NAME,
                    severity=CHECK.severity,
                    split=split,
                    rows=ctx.ids_of(split, rows),
                    score=sim,
                    detail=f"{len(rows)} rows, {texts} distinct texts that differ by a few words "
                    f"(word Jaccard up to {sim:.2f})",
                )
            )
    return findings


CHECK = Check(
    name=NAME,
    description="texts that differ by a few words (MinHash + LSH, verified Jaccard ≥ threshold), "
    "within a split",
    severity="warning",
    run=run,
)
