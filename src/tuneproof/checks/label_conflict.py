"""``label_conflict``: the same normalised text with different labels, anywhere in the data.

Either a labelling mistake or a genuinely ambiguous text; in both cases the model is trained
(or scored) against itself. One finding per text, listing its rows in the first split where it
occurs (train first) and its rows elsewhere as ``related``.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from tuneproof.checks.base import Check, CheckContext, Finding, Related

NAME = "label_conflict"


def run(ctx: CheckContext) -> list[Finding]:
    index = ctx.duplicates()
    order = sorted(index.codes, key=lambda s: (s != "train", list(index.codes).index(s)))
    labels_of: dict[int, Counter[str]] = defaultdict(Counter)
    for split in order:
        labels = ctx.labels(split)
        if labels is None:
            continue
        codes = index.codes[split]
        for code, label in zip(codes.tolist(), labels, strict=True):
            if code >= 0 and label is not None:
                labels_of[code][label] += 1
    conflicts = {c: cnt for c, cnt in labels_of.items() if len(cnt) > 1}
    if not conflicts:
        return []
    group = np.full(index.n_codes, -1, dtype=np.int64)
    group[list(conflicts)] = list(conflicts)
    rows_in: dict[str, dict[int, np.ndarray]] = {s: dict(index.rows_of(s, group)) for s in order}
    findings = []
    for code, cnt in conflicts.items():
        home = next(s for s in order if code in rows_in[s])
        related = tuple(
            Related(s, r)
            for s in order
            if s != home and code in rows_in[s]
            for r in ctx.ids_of(s, rows_in[s][code])
        )
        total = sum(cnt.values())
        shown = ", ".join(f"'{lab}' ×{n}" for lab, n in cnt.most_common())
        findings.append(
            Finding(
                check=NAME,
                severity=CHECK.severity,
                split=home,
                rows=ctx.ids_of(home, rows_in[home][code]),
                related=related,
                score=1 - cnt.most_common(1)[0][1] / total,
                detail=f"the same text has different labels: {shown}",
            )
        )
    return findings


CHECK = Check(
    name=NAME,
    description="the same (normalised) text with different labels",
    severity="warning",
    run=run,
    needs_labels=True,
)
