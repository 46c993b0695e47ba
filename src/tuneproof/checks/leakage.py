"""``leakage``: a validation/test row that exactly or nearly duplicates a train row.

The most expensive mistake: the model is scored on what it memorised, so every metric of the run
is too high. Reported as ``error``. Rows shared by two evaluation splits (validation and test)
do not inflate scores the same way and are a ``warning``. One finding per leaked text, listing
its rows in the evaluation split and, as ``related``, the train rows it copies.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from tuneproof.checks._dedup import DuplicateIndex
from tuneproof.checks.base import Check, CheckContext, Finding, Related, Severity

NAME = "leakage"
TRAIN = "train"


def run(ctx: CheckContext) -> list[Finding]:
    index = ctx.duplicates()
    splits = list(index.codes)
    refs = [s for s in splits if s == TRAIN]
    findings: list[Finding] = []
    if refs:
        for split in splits:
            if split != TRAIN:
                findings += _overlap(ctx, index, split, TRAIN, "error")
    others = [s for s in splits if s != TRAIN]
    for i, ref in enumerate(others):
        for split in others[i + 1 :]:
            findings += _overlap(ctx, index, split, ref, "warning")
    return findings


def _overlap(
    ctx: CheckContext, index: DuplicateIndex, split: str, ref: str, severity: Severity
) -> list[Finding]:
    """Texts of ``split`` equal or near to a text of ``ref``."""
    in_ref = index.present(ref)
    here = index.present(split)
    # Near matches: code in `split` (not itself in `ref`) -> [(code in ref, jaccard)].
    near: dict[int, list[tuple[int, float]]] = defaultdict(list)
    p, sim = index.near.pairs, index.near.jaccard
    for (a, b), s in zip(p.tolist(), sim.tolist(), strict=True):
        for x, y in ((a, b), (b, a)):
            if here[x] and in_ref[y] and not in_ref[x]:
                near[x].append((y, s))
    leaked = np.where(here & in_ref, np.arange(index.n_codes), -1)
    for code in near:
        leaked[code] = code
    if not (leaked >= 0).any():
        return []
    matches: dict[int, list[tuple[int, float]]] = {}
    for code in np.flatnonzero(leaked >= 0).tolist():
        matches[code] = [(code, 1.0)] if in_ref[code] else sorted(near[code], key=lambda t: -t[1])
    ref_rows = _rows_by_code(
        index, ref, np.array(sorted({c for m in matches.values() for c, _ in m}))
    )
    cap = ctx.options.max_rows_listed
    findings = []
    for code, rows in index.rows_of(split, leaked):
        match = matches[code]
        related: list[Related] = []
        for ref_code, _ in match:
            related += [Related(ref, r) for r in ctx.ids_of(ref, ref_rows[ref_code])]
        score = match[0][1]
        kind = (
            "an exact duplicate (after normalisation)"
            if score == 1.0 and in_ref[code]
            else (f"a near duplicate (word Jaccard {score:.2f})")
        )
        shown = related[:cap]
        more = f"; first {cap} listed" if len(related) > cap else ""
        findings.append(
            Finding(
                check=NAME,
                severity=severity,
                split=split,
                rows=ctx.ids_of(split, rows),
                related=tuple(shown),
                score=score,
                detail=f"{kind} of {len(related)} {ref} row(s){more}",
            )
        )
    return findings


def _rows_by_code(index: DuplicateIndex, split: str, codes: np.ndarray) -> dict[int, np.ndarray]:
    want = np.full(index.n_codes, -1, dtype=np.int64)
    want[codes] = codes
    return dict(index.rows_of(split, want))


CHECK = Check(
    name=NAME,
    description="a validation/test row that exactly or nearly duplicates a train row (error); "
    "validation and test sharing a row (warning)",
    severity="error",
    run=run,
)
