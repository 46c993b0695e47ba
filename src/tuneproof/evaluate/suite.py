"""Regression suites: the failing cases of `tuneproof stress`, replayed on any run.

`stress --save-suite FILE` keeps every failing case (original text, edited text, the rule);
`eval RUN --suite FILE` predicts both texts of each case with RUN's model and judges it with the
same rule stress uses (:func:`tuneproof.evaluate.stress.case_failed`), writing ``suite.json``;
`compare` then lists the cases one run fixed and the ones it newly broke
(:func:`tuneproof.evaluate.compare.suite_diff`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tuneproof import rundir
from tuneproof.data.load import SourceInfo, sha256_file
from tuneproof.errors import UserError
from tuneproof.evaluate.predict import (
    EvalData,
    batch_progress,
    eval_trainer,
    load_run,
    predict_frame,
)
from tuneproof.evaluate.stress import case_failed

if TYPE_CHECKING:
    from rich.console import Console

CASE_ID = "__suite_id"


def run_suite(
    run_dir: str | Path,
    suite: str | Path,
    *,
    batch_size: int | None = None,
    write: bool = True,
    console: Console | None = None,
) -> rundir.SuiteResults:
    """Replay every case of ``suite`` on the run; write ``suite.json`` in the run."""
    run_dir, suite = Path(run_dir), Path(suite)
    cases = rundir.read_suite(suite)
    loaded = load_run(run_dir)
    config = loaded.config
    if config.task != "sequence-classification":
        raise UserError(
            f"{run_dir}: a stress suite compares labels and probabilities; this run is "
            f"{config.task}, suites need a sequence-classification run"
        )
    labels = loaded.label_names or []
    for lineno, case in enumerate(cases, start=1):
        if case.gold is not None and labels and case.gold not in labels:
            raise UserError(
                f"{suite}: case {case.id} (line {lineno}): gold label '{case.gold}' is not one "
                f"of the run's labels ({', '.join(labels)}); the suite was saved from a run "
                "with other labels"
            )
    # gold labels only satisfy the adapter's input check; the rule compares predictions
    fill = labels[0] if labels else ""
    text_col, label_col = config.data.text_column, config.data.label_column
    frame = pd.DataFrame(
        {
            CASE_ID: [f"{c.id}\x00{side}" for c in cases for side in ("o", "e")],
            text_col: [t for c in cases for t in (c.original, c.edited)],
            label_col: [c.gold or fill for c in cases for _ in (0, 1)],
        }
    )
    source = SourceInfo(str(suite), sha256_file(suite), len(cases))
    progress = batch_progress(console)
    with eval_trainer(loaded, batch_size, progress) as trainer:
        rows = predict_frame(
            loaded, EvalData(suite.name, frame, source), trainer, progress, id_column=CASE_ID
        ).rows
    by_id = {str(r["id"]): r for r in rows}
    outcomes = []
    for c in cases:
        before, after = by_id[f"{c.id}\x00o"], by_id[f"{c.id}\x00e"]
        label = str(before["pred"])
        probs_b, probs_a = before.get("probabilities") or {}, after.get("probabilities") or {}
        outcomes.append(
            rundir.SuiteOutcome(
                id=c.id,
                test=c.test,
                kind=c.kind,
                lang=c.lang,
                passed=not case_failed(c.kind, before, after),
                pred_original=label,
                pred_edited=str(after["pred"]),
                p_original=round(float(probs_b.get(label, 0.0)), 4),
                p_edited=round(float(probs_a.get(label, 0.0)), 4),
            )
        )
    passed = sum(o.passed for o in outcomes)
    result = rundir.SuiteResults(
        suite=str(suite),
        suite_sha256=source.sha256,
        n_cases=len(outcomes),
        passed=passed,
        failed=len(outcomes) - passed,
        cases=outcomes,
    )
    if write:
        rundir.write(run_dir, result)
    return result
