"""`tuneproof eval`: run a trained model on labelled files; write per-slice metrics with intervals.

Reads top to bottom: load the run and the data (every user error before any work), predict each
file, tag each row with its slices, summarise (bootstrap intervals per slice), find the failure
categories, run the data checks on the evaluated files (duplicates, leakage against the run's
train split, empty texts), then write ``predictions.jsonl``, ``metrics.json``,
``eval_checks.json`` and ``slices.md`` atomically.
``metrics.json`` keeps the schema ``train`` writes (docs/evaluation.md); the training sections
of an existing one are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tuneproof import io, rundir
from tuneproof.data.load import require_columns
from tuneproof.evaluate.datachecks import check_eval_data
from tuneproof.evaluate.failures import FailureReport, analyse_failures
from tuneproof.evaluate.metrics import N_RESAMPLES, Summary, slice_positions, summarize_rows
from tuneproof.evaluate.plan import EvalPlan, PlanCheck, check_plan, load_plan
from tuneproof.evaluate.predict import (
    EvalData,
    LoadedRun,
    Predicted,
    batch_progress,
    default_eval_data,
    eval_trainer,
    load_run,
    predict_frame,
    read_eval_files,
)
from tuneproof.evaluate.slices import DEFAULT_LANGUAGES, SliceOptions, is_categorical, tag_rows

if TYPE_CHECKING:
    from rich.console import Console

    from tuneproof.tasks import TokenCount


@dataclass
class EvalResult:
    """What ``evaluate_run`` computed and wrote."""

    run_dir: Path
    main_metric: str
    summary: Summary
    failures: FailureReport
    data: list[EvalData]
    rows: list[dict[str, Any]]
    metrics: rundir.Metrics  # the content of metrics.json
    data_checks: rundir.EvalChecks  # the content of eval_checks.json
    plan: list[PlanCheck] | None = None
    files: list[Path] = field(default_factory=list)
    tracking_note: str | None = None  # the MLflow run updated (or why it could not be)

    def worst_slices(self, k: int = 5) -> list[tuple[str, float]]:
        return worst_slices(self.summary, self.main_metric, k)


def worst_slices(summary: Summary, main: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` lowest-scoring slices on the main metric, leaving out small-n slices."""
    scored = [
        (key, s.metrics[main])
        for key, s in summary.slices.items()
        if not s.small_n and main in s.metrics
    ]
    return sorted(scored, key=lambda kv: kv[1])[:k]


def _slice_columns(
    data: list[EvalData], explicit: Sequence[str] | None, skip: set[str]
) -> list[str]:
    """Categorical columns to slice by: the ones asked for (must exist), else detected."""
    if explicit:
        for d in data:
            require_columns(d.frame, explicit, d.source.path, "--slice-column")
        return list(explicit)
    columns: list[str] = []
    for d in data:
        for col in map(str, d.frame.columns):
            if col in skip or col in columns or col.startswith("__"):
                continue
            values = [v for e in data if col in e.frame for v in e.frame[col].tolist()]
            if is_categorical(values):
                columns.append(col)
    return columns


def _column_values(d: EvalData, column: str, positions: list[int | None]) -> list[Any]:
    if column not in d.frame.columns:
        return [None] * len(positions)
    values = d.frame[column].tolist()
    return [values[p] if p is not None else None for p in positions]


def _text_of(row: dict[str, Any], frame_value: Any) -> str:
    """The text a row's slices are computed from (the configured text column)."""
    for v in (frame_value, row.get("text")):
        if isinstance(v, str):
            return v
        if isinstance(v, list):
            return " ".join(map(str, v))
    parts = [row[k] for k in ("question", "context") if isinstance(row.get(k), str)]
    return " ".join(parts)


def wrap_tokenizer(hf: Any) -> Any:
    """The model's tokenizer as a ``tuneproof.tokens`` tokenizer (UNK and fertility counts)."""
    from tuneproof.tokens.base import HFTokenizer, TransformersTokenizer

    backend = getattr(hf, "backend_tokenizer", None) if getattr(hf, "is_fast", False) else None
    if backend is None:
        return TransformersTokenizer("model", hf)
    from tokenizers import Tokenizer as Backend

    copy = Backend.from_str(backend.to_str())  # from_backend switches off truncation: a copy
    unigram = type(copy.model).__name__ == "Unigram"
    return HFTokenizer.from_backend("model", copy, unk_id=hf.unk_token_id if unigram else None)


def tag_predictions(
    loaded: LoadedRun,
    data: list[EvalData],
    per_file: list[Predicted],
    *,
    lang_column: str | None,
    slice_columns: list[str],
    languages: Sequence[str],
) -> list[dict[str, Any]]:
    """Rows of all files with ``source``, ``slices`` and ``tokens`` added.

    Lengths and truncation are the task adapter's (``Predicted.tokens``: what the model saw,
    both texts of a pair); the tokenizer analysis adds only UNK and fertility counts.
    """
    from tuneproof.tokens.analysis import token_stats

    text_col = loaded.config.data.text_column
    texts: list[str] = []
    langs: list[str | None] = []
    columns: dict[str, list[Any]] = {c: [] for c in slice_columns}
    sources: list[str] = []
    all_rows: list[dict[str, Any]] = []
    counts: list[TokenCount] = []
    for d, pred in zip(data, per_file, strict=True):
        counts += pred.tokens
        rows, positions = pred.rows, pred.positions
        frame_texts = _column_values(d, text_col, positions)
        texts += [_text_of(r, v) for r, v in zip(rows, frame_texts, strict=True)]
        if lang_column:
            langs += [
                None if v is None or v != v else str(v)
                for v in _column_values(d, lang_column, positions)
            ]
        else:
            langs += [None] * len(rows)
        for c in slice_columns:
            columns[c] += _column_values(d, c, positions)
        sources += [d.name] * len(rows)
        all_rows += rows
    tok = wrap_tokenizer(loaded.tokenizer)
    stats = token_stats(tok, texts)
    n_tokens = [c.total for c in counts]
    if len(data) > 1:
        columns = {"source": sources, **columns}
    tags = tag_rows(
        texts,
        n_tokens=n_tokens,
        truncated=[c.truncated for c in counts],
        languages=langs,
        columns=columns,
        options=SliceOptions(languages=tuple(languages)),
    )
    out = []
    for row, src, tag, st, n in zip(all_rows, sources, tags, stats, n_tokens, strict=True):
        new = {"id": row.get("id"), "source": src}
        new.update({k: v for k, v in row.items() if k != "id"})
        new["slices"] = tag
        new["token_stats"] = {
            "n": n,
            "unk": st.n_unk,
            "fertility": round(st.fertility, 4),
            "per_char": st.unsegmented,
        }
        out.append(new)
    return out


def _existing_metrics(run_dir: Path) -> rundir.Metrics | None:
    """The run's metrics.json, read strictly *before* any work: a corrupt or unknown-version file
    is an error naming it (and stays as it is), never silently replaced without its training
    history."""
    return rundir.read_optional(run_dir, rundir.Metrics)


def evaluate_run(
    run_dir: str | Path,
    data_files: Sequence[str | Path] | None = None,
    *,
    lang_column: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    slice_columns: Sequence[str] | None = None,
    plan: str | Path | EvalPlan | None = None,
    languages: Sequence[str] | None = None,
    batch_size: int | None = None,
    n_resamples: int = N_RESAMPLES,
    seed: int | None = None,
    write: bool = True,
    console: Console | None = None,
) -> EvalResult:
    """Evaluate a run's model on ``data_files`` (default: the run's test split), by slice.

    ``lang_column`` names a column with a language code per row (default: the run's
    ``data.lang_column``); without one, languages are detected among ``languages`` (default:
    ``slices.DEFAULT_LANGUAGES``, with or without a ``plan``: the plan only checks coverage, so
    a planned language outside that list needs a language column). ``slice_columns`` are categorical
    columns to slice by (default: detected). ``seed`` defaults to the run's training seed.
    With ``write``, ``predictions.jsonl``, ``metrics.json`` and ``slices.md`` are (re)written in
    the run directory.
    """
    run_dir = Path(run_dir)
    old_metrics = _existing_metrics(run_dir)
    loaded = load_run(run_dir, text_column=text_column, label_column=label_column)
    config = loaded.config
    the_plan = load_plan(plan) if isinstance(plan, (str, Path)) else plan
    if data_files:
        split = "eval"
        data = read_eval_files(list(data_files))
    else:
        split, data = default_eval_data(config)
    lang_column = lang_column or config.data.lang_column
    if lang_column:
        for d in data:
            require_columns(d.frame, [lang_column], d.source.path, "--lang-column")
    dc = config.data
    skip = {dc.text_column, dc.label_column, dc.text_pair_column, dc.id_column, lang_column}
    columns = _slice_columns(data, slice_columns, {c for c in skip if c})
    # Slice tags are a property of the row: the plan says which slices need how many rows, it
    # never changes which language a row is detected as (so tags agree with or without --plan).
    langs = tuple(languages or DEFAULT_LANGUAGES)
    seed = config.training.seed if seed is None else seed

    progress = batch_progress(console)
    with eval_trainer(loaded, batch_size, progress) as trainer:
        per_file = [predict_frame(loaded, d, trainer, progress) for d in data]
    rows = tag_predictions(
        loaded, data, per_file, lang_column=lang_column, slice_columns=columns, languages=langs
    )
    task = loaded.task
    main_metric = next((p.main_metric for p in per_file if p.main_metric), task.main_metric)
    summary = summarize_rows(
        rows, task.metrics_from_rows, main_metric, seed=seed, n_resamples=n_resamples
    )
    failures = analyse_failures(
        rows, slice_positions(rows), correct=summary.correct, labelled=summary.labelled
    )
    checks = None
    if the_plan is not None:
        sizes = {k: s.n for k, s in summary.slices.items()}
        checks = check_plan(the_plan, sizes)

    metrics = _metrics_json(
        old_metrics,
        loaded,
        split,
        summary,
        failures,
        data,
        seed=seed,
        lang_source=f"column '{lang_column}'" if lang_column else "lingua",
        languages=list(langs),
        checks=checks,
    )
    data_checks = check_eval_data(config, run_dir, data, seed=seed)
    result = EvalResult(
        run_dir, main_metric, summary, failures, data, rows, metrics, data_checks, checks
    )
    if write:
        from tuneproof.evaluate.report import render_slices_md

        rundir.write_predictions(run_dir, rows)
        rundir.write(run_dir, metrics)
        rundir.write(run_dir, data_checks)
        io.write_text(run_dir / "slices.md", render_slices_md(result, loaded.name))
        names = (rundir.PREDICTIONS, rundir.METRICS, rundir.EVAL_CHECKS, "slices.md")
        result.files = [run_dir / f for f in names]
        from tuneproof import track

        result.tracking_note = track.update(
            run_dir, result.files, metrics_doc=rundir.dump(result.metrics), prefix="eval"
        )
    return result


def _metrics_json(
    old: rundir.Metrics | None,
    loaded: LoadedRun,
    split: str,
    summary: Summary,
    failures: FailureReport,
    data: list[EvalData],
    *,
    seed: int,
    lang_source: str,
    languages: list[str],
    checks: list[PlanCheck] | None,
) -> rundir.Metrics:
    """The train schema (version, task, main_metric, split, overall, validation, training,
    history, slices) with ``overall``/``slices`` from this evaluation and an ``eval`` section."""
    body = summary.to_dict()
    eval_info: dict[str, Any] = {
        "data": [{"name": d.name, **d.source.to_dict()} for d in data],
        "seed": seed,
        "n_resamples": summary.n_resamples,
        "confidence": summary.confidence,
        "resampling": summary.kinds,
        "language": {"from": lang_source, "languages": languages},
        "failures": failures.to_dict(),
    }
    if checks is not None:
        eval_info["plan"] = [c.to_dict() for c in checks]
    return rundir.Metrics.model_validate(
        {
            "task": loaded.config.task,
            "main_metric": summary.main_metric,
            "split": split,
            "overall": body["overall"],
            "validation": old.validation if old else {},
            "training": old.training if old else None,
            "history": old.history if old else [],
            "slices": body["slices"],
            "eval": eval_info,
        }
    )


def rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Prediction rows with their slice tags as columns (handy in a notebook)."""
    flat = [{**{k: v for k, v in r.items() if k != "slices"}, **r.get("slices", {})} for r in rows]
    return pd.DataFrame(flat)
