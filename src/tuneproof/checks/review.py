"""The review queue of the label-issue check: one row per suspected label, for a person to decide.

Built from the ``label_issue`` findings (most likely wrong first) and the data they refer to;
written by ``tuneproof check ... --review review.csv`` and the web app's review page, applied
by ``tuneproof data apply-review`` (:mod:`tuneproof.data.review`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from tuneproof import rundir
from tuneproof.checks.base import CheckReport
from tuneproof.checks.label_issue import NAME as LABEL_ISSUE
from tuneproof.data.load import SourceInfo, row_ids


def review_rows(
    report: CheckReport,
    splits: Mapping[str, pd.DataFrame],
    *,
    text_column: str,
    label_column: str,
    id_column: str | None,
) -> list[rundir.ReviewRow]:
    """One undecided row per label-issue finding, in the report's order (highest score first)."""
    where = {
        split: {rid: i for i, rid in enumerate(row_ids(df, id_column, split))}
        for split, df in splits.items()
    }
    out = []
    for f in report.findings:
        if f.check != LABEL_ISSUE or f.suggested is None or not f.rows:
            continue
        df, pos = splits[f.split], where[f.split][f.rows[0]]
        out.append(
            rundir.ReviewRow(
                split=f.split,
                row=f.rows[0],
                text=str(df[text_column].iloc[pos]),
                label=str(df[label_column].iloc[pos]),
                suggested=f.suggested,
                score=round(float(f.score), 4),
                evidence=f.detail,
            )
        )
    return sorted(out, key=lambda r: -r.score)


def review_manifest(
    sources: Mapping[str, SourceInfo],
    *,
    text_column: str,
    label_column: str,
    id_column: str | None,
) -> rundir.ReviewManifest:
    return rundir.ReviewManifest(
        text_column=text_column,
        label_column=label_column,
        id_column=id_column,
        sources={
            split: rundir.ReviewSource(path=absolute_source(s.path), sha256=s.sha256, rows=s.rows)
            for split, s in sources.items()
        },
    )


def absolute_source(path: str) -> str:
    """File paths made absolute (so the review applies from any folder); others kept."""
    from pathlib import Path

    if path.startswith("hf:"):
        return path
    file, _, part = path.partition("#")
    return str(Path(file).resolve()) + (f"#{part}" if part else "")
