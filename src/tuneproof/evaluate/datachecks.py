"""The data checks on the files `tuneproof eval` evaluates (``eval_checks.json``).

An evaluation file can hold copies of one text (the built-in German test file: 45 of 200 rows)
or rows of the run's train split; both make its figures look surer or better than they are. So
``eval`` runs ``exact_duplicate``, ``leakage`` (against the train split the run recorded in
``manifest.json``) and ``empty_text`` on every evaluated file, with the library the ``check``
command uses. The rows compared are the task's input as one text (as ``tuneproof check`` sees
it): the text column, the words of a token list, question + context, the prompt input.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tuneproof import rundir
from tuneproof.checks.api import check_data
from tuneproof.checks.base import CheckOptions, as_text
from tuneproof.data.load import SourceInfo, load_splits
from tuneproof.errors import UserError

if TYPE_CHECKING:
    from tuneproof.config import RunConfig
    from tuneproof.evaluate.predict import EvalData

EVAL_CHECKS = ("exact_duplicate", "leakage", "empty_text")
TRAIN = "train"


def input_columns(config: RunConfig, frame: pd.DataFrame) -> list[str]:
    """The columns that hold a row's input for the run's task (those present in ``frame``)."""
    dc = config.data
    cols = {
        "token-classification": [dc.tokens_column],
        "extractive-qa": [dc.question_column, dc.context_column],
        "summarization": [dc.input_column if dc.input_column in frame else dc.messages_column],
    }.get(config.task, [dc.text_column])
    return [c for c in cols if c in frame.columns]


def check_frame(config: RunConfig, frame: pd.DataFrame) -> pd.DataFrame:
    """``id``, ``text`` per row: the row id (the run's id column, else the 0-based row index)
    and its input as one text."""
    cols = input_columns(config, frame)
    values = [frame[c].tolist() for c in cols]
    texts = [" ".join(as_text(v[i]) for v in values).strip() for i in range(len(frame))]
    idc = config.data.id_column
    ids = (
        frame[idc].astype(str).tolist()
        if idc and idc in frame
        else list(map(str, range(len(frame))))
    )
    return pd.DataFrame({"id": ids, "text": texts})


def train_split(
    config: RunConfig, manifest: rundir.Manifest | None
) -> tuple[pd.DataFrame | None, SourceInfo | None, str | None]:
    """The run's train split as configured (a file, a built-in or HF dataset), and a note when it
    cannot be read or its bytes differ from the sha256 the run recorded."""
    try:
        loaded = load_splits(config.data)
    except UserError as err:
        return None, None, f"the train split could not be read ({err}); no leakage check"
    frame, src = loaded.splits[TRAIN], loaded.sources.get(TRAIN)
    recorded = manifest.data.get(TRAIN) if manifest is not None else None
    if recorded and recorded.sha256 and src and src.sha256 != recorded.sha256:
        return (
            frame,
            src,
            (
                f"{src.path}: sha256 {src.sha256[:12]}… differs from the {recorded.sha256[:12]}… the "
                "run trained on; leakage is checked against the file as it is now"
            ),
        )
    return frame, src, None


def check_eval_data(
    config: RunConfig, run_dir: str | Path, data: Sequence[EvalData], *, seed: int
) -> rundir.EvalChecks:
    """Run :data:`EVAL_CHECKS` on the evaluated files (and their overlap with train)."""
    manifest = rundir.read_optional(run_dir, rundir.Manifest)
    train, train_src, note = train_split(config, manifest)
    names = [d.name for d in data]
    splits: dict[str, pd.DataFrame] = {}
    sources: dict[str, SourceInfo] = {}
    if train is not None and TRAIN not in names:
        splits[TRAIN] = check_frame(config, train)
        if train_src is not None:
            sources[TRAIN] = train_src
    for d in data:
        splits[d.name] = check_frame(config, d.frame)
        sources[d.name] = d.source
    report = check_data(
        splits,
        text_column="text",
        label_column=None,
        id_column="id",
        sources=sources,
        options=CheckOptions(only=EVAL_CHECKS, seed=seed),
    )
    # findings about the train split alone are `tuneproof check`'s business, not the evaluation's
    findings = [f.to_dict() for f in report.findings if f.split != TRAIN]
    summary = {s: sum(f["severity"] == s for f in findings) for s in ("error", "warning", "info")}
    return rundir.EvalChecks.model_validate(
        {
            "train": train_src.to_dict() if train_src is not None else None,
            "dataset": {d.name: {"name": d.name, **d.source.to_dict()} for d in data},
            "checks_run": list(report.checks_run),
            "summary": {
                "errors": summary["error"],
                "warnings": summary["warning"],
                "info": summary["info"],
            },
            "findings": findings,
            "note": note,
        }
    )
