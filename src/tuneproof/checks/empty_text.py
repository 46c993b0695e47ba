"""``empty_text``: rows whose text is missing, empty or only whitespace/punctuation.

They train the model to map "nothing" to a label and count as free errors (or free hits) in
evaluation. One finding per split listing the rows.
"""

from __future__ import annotations

import unicodedata

from tuneproof.checks.base import Check, CheckContext, Finding

NAME = "empty_text"


def _has_content(text: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def run(ctx: CheckContext) -> list[Finding]:
    findings = []
    for split in ctx.splits:
        norm = ctx.normalised(split)
        empty = [i for i, t in enumerate(norm) if not t]
        blank = [i for i, t in enumerate(norm) if t and not _has_content(t)]
        for rows, what in (
            (empty, "empty or whitespace-only"),
            (blank, "without letters or digits"),
        ):
            if rows:
                findings.append(
                    Finding(
                        check=NAME,
                        severity=CHECK.severity,
                        split=split,
                        rows=ctx.ids_of(split, rows),
                        score=len(rows) / len(norm),
                        detail=f"{len(rows)} of {len(norm)} rows have a text {what}",
                    )
                )
    return findings


CHECK = Check(
    name=NAME,
    description="missing, empty or whitespace/punctuation-only texts",
    severity="warning",
    run=run,
)
