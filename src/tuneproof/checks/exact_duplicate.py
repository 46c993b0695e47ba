"""``exact_duplicate``: rows of one split whose texts are equal after NFKC, case folding and
whitespace collapsing. Duplicates over-weight their text in training and inflate scores when
they also sit in an evaluation split. One finding per group, listing every row of it."""

from __future__ import annotations

import numpy as np

from tuneproof.checks.base import Check, CheckContext, Finding

NAME = "exact_duplicate"


def run(ctx: CheckContext) -> list[Finding]:
    index = ctx.duplicates()
    findings = []
    for split, codes in index.codes.items():
        counts = np.bincount(codes[codes >= 0], minlength=index.n_codes)
        group_of_code = np.where(counts >= 2, np.arange(index.n_codes), -1)
        n = len(codes)
        for _, rows in index.rows_of(split, group_of_code):
            findings.append(
                Finding(
                    check=NAME,
                    severity=CHECK.severity,
                    split=split,
                    rows=ctx.ids_of(split, rows),
                    score=len(rows) / n,
                    detail=f"{len(rows)} rows with the same text (after case/space normalisation)",
                )
            )
    return findings


CHECK = Check(
    name=NAME,
    description="same text after Unicode NFKC, case folding and whitespace normalisation, "
    "within a split",
    severity="warning",
    run=run,
)
