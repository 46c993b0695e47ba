"""`tuneproof eval`: run a trained model on labelled files; write per-slice metrics with intervals.

Reads top to bottom: load the run and the data (every user error before any work), predict each
file, tag each row with its slices, summarise (bootstrap intervals per slice), find the failure
categories, run the data checks on the evaluated files (duplicates, leakage against the run's
train split, empty texts), then write ``predictions.jsonl``, ``metrics.json``,
``eval_checks.json`` and ``slices.md`` atomically.
``metrics.json`` keeps the schema ``train`` writes (docs/evaluation.md); the training sections
of an existing one are kept.

The headline (``overall``, ``slices``) covers in-distribution rows only: a file is
in-distribution when it is the run's own test or validation split (same sha256) or the user says
so (``in_distribution``); every other file is a named out-of-distribution result (``ood``). An
evaluation of OOD files only keeps the previous headline and its rows.
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
from tuneproof.evaluate.metrics import (
    N_RESAMPLES,
    Summary,
    analyse,
    slice_positions,
    summarize_rows,
)
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


def split_fingerprints(run_dir: Path, config: Any) -> dict[str, str]:
    """sha256 -> split name of the run's own test and validation files (from manifest.json,
    else hashed from the config's files)."""
    out: dict[str, str] = {}
    manifest = rundir.read_optional(run_dir, rundir.Manifest)
    if manifest is not None:
        for split in ("validation", "test"):
            ref = manifest.data.get(split)
            if ref is not None and ref.sha256:
                out[ref.sha256] = split
        if out:
            return out
    from tuneproof.data.load import sha256_file

    files: dict[str, Path] = {}
    if config.data.builtin:
        from tuneproof.data.corpora import builtin_dataset

        files.update(builtin_dataset(config.data.builtin))
    for split in ("validation", "test"):
        value = getattr(config.data, split, None)
        if value:
            files[split] = Path(value)
    for split in ("validation", "test"):
        path = files.get(split)
        if path is not None and path.is_file():
            out[sha256_file(path)] = split
    return out


def classify_files(
    data: list[EvalData],
    fingerprints: dict[str, str],
    declared: Sequence[str] = (),
) -> dict[str, str | None]:
    """Each file's name -> the split it is (``test``/``validation``, ``eval`` when declared
    in-distribution), or None for an out-of-distribution file. ``declared`` holds file names
    (as shown), paths or path suffixes; one that matches no file is an error."""
    out: dict[str, str | None] = {}
    used: set[str] = set()
    for d in data:
        split = fingerprints.get(d.source.sha256)
        for name in declared:
            if name in (d.name, d.source.path) or d.source.path.endswith(name):
                used.add(name)
                split = split or "eval"
        out[d.name] = split
    unknown = [n for n in declared if n not in used]
    if unknown:
        from tuneproof.errors import UserError

        raise UserError(
            f"--in-distribution {unknown[0]}: no evaluated file has that name; give one of "
            + ", ".join(d.name for d in data)
        )
    return out


def block_baseline(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``majority`` (share of the most frequent gold label) and ``n_classes`` of single-label
    rows; empty for other tasks (span, tag-list or numeric gold)."""
    golds = [r.get("gold") for r in rows]
    if not golds or not all(isinstance(g, str) for g in golds):
        return {}
    from collections import Counter

    counts = Counter(golds)
    return {"majority": max(counts.values()) / len(golds), "n_classes": len(counts)}


def _block_dicts(summary: Summary, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``summary.to_dict()`` with each block's majority-class rate added."""
    body = summary.to_dict()
    body["overall"].update(block_baseline(rows))
    for key, pos in slice_positions(rows).items():
        if key in body["slices"]:
            body["slices"][key].update(block_baseline([rows[i] for i in pos]))
    return body


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
    in_distribution: Sequence[str] = (),
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
    a planned language outside that list needs a language column). ``in_distribution`` names
    files (besides the run's own test/validation split) that count towards the headline; every
    other file is an out-of-distribution result. ``slice_columns`` are categorical
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
        data = read_eval_files(list(data_files))
        kinds = classify_files(data, split_fingerprints(run_dir, config), in_distribution)
    else:
        split, data = default_eval_data(config)
        kinds = {data[0].name: split}
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
    for row in rows:
        row["in_distribution"] = kinds[row["source"]] is not None
    task = loaded.task
    main_metric = next((p.main_metric for p in per_file if p.main_metric), task.main_metric)
    in_rows = [r for r in rows if r["in_distribution"]]
    if not in_rows and old_metrics is not None and (run_dir / rundir.PREDICTIONS).exists():
        # OOD files only: the headline stays the previous in-distribution evaluation
        # (and the rows of OOD files evaluated before, unless this evaluation replaces them)
        evaluated = {d.name for d in data}
        kept = [
            p.model_dump(mode="json", exclude_none=True)
            for p in rundir.read_predictions(run_dir)
            if p.in_distribution is not False or p.source not in evaluated
        ]
        rows = kept + rows
    in_splits = {v for v in kinds.values() if v is not None}
    split = in_splits.pop() if len(in_splits) == 1 else "eval"

    def summarise(subset: list[dict[str, Any]]) -> tuple[Summary, dict[str, Any]]:
        s = summarize_rows(
            subset, task.metrics_from_rows, main_metric, seed=seed, n_resamples=n_resamples
        )
        return s, _block_dicts(s, subset)

    summary: Summary | None = None
    body: dict[str, Any] | None = None
    if in_rows:
        summary, body = summarise(in_rows)
    ood: dict[str, Any] = {}
    for d in data:
        if kinds[d.name] is not None:
            continue
        subset = [r for r in rows if r["source"] == d.name and r["in_distribution"] is False]
        _, ood_body = summarise(subset)
        ood[d.name] = {"data": {"name": d.name, **d.source.to_dict()}, **ood_body}
    everything = analyse(rows, task.metrics_from_rows)
    failures = analyse_failures(
        rows,
        slice_positions(rows),
        correct=everything.correct,
        labelled=everything.codes is not None,
    )
    checks = None
    if the_plan is not None:
        sizes = {k: len(v) for k, v in slice_positions(rows).items()}
        checks = check_plan(the_plan, sizes)

    metrics = _metrics_json(
        old_metrics,
        loaded,
        split,
        body,
        ood,
        failures,
        [d for d in data if kinds[d.name] is not None],
        main_metric=main_metric,
        seed=seed,
        n_resamples=n_resamples,
        resampling={k: str(v) for k, v in everything.kinds.items()},
        lang_source=f"column '{lang_column}'" if lang_column else "lingua",
        languages=list(langs),
        checks=checks,
    )
    if summary is None:  # nothing in-distribution evaluated now: the stored headline
        summary = summarize_rows(
            [r for r in rows if r.get("in_distribution") is not False] or rows,
            task.metrics_from_rows,
            main_metric,
            seed=seed,
            n_resamples=n_resamples,
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
    body: dict[str, Any] | None,
    ood: dict[str, Any],
    failures: FailureReport,
    in_data: list[EvalData],
    *,
    main_metric: str,
    seed: int,
    n_resamples: int,
    resampling: dict[str, str],
    lang_source: str,
    languages: list[str],
    checks: list[PlanCheck] | None,
) -> rundir.Metrics:
    """The train schema (version, task, main_metric, split, overall, validation, training,
    history, slices) with ``overall``/``slices`` from this evaluation's in-distribution rows,
    ``ood`` per other file and an ``eval`` section. Without in-distribution rows (``body`` is
    None) the previous headline, its slices and its files are kept and ``ood`` is merged."""
    from tuneproof.evaluate.metrics import CONFIDENCE

    old_eval = old.eval if old is not None else None
    if body is None:
        overall: Any = old.overall if old else {"n": 0}
        slices: Any = old.slices if old else {}
        split = old.split if old else "none"
        data_refs: Any = old_eval.data if old_eval else []
        merged: dict[str, Any] = dict(old.ood) if old else {}
        merged.update(ood)
        ood = merged
    else:
        overall, slices = body["overall"], body["slices"]
        data_refs = [{"name": d.name, **d.source.to_dict()} for d in in_data]
    eval_info: dict[str, Any] = {
        "data": data_refs,
        "seed": seed,
        "n_resamples": n_resamples,
        "confidence": CONFIDENCE,
        "resampling": resampling,
        "language": {"from": lang_source, "languages": languages},
        "failures": failures.to_dict(),
    }
    if checks is not None:
        eval_info["plan"] = [c.to_dict() for c in checks]
    return rundir.Metrics.model_validate(
        {
            "task": loaded.config.task,
            "main_metric": main_metric if body is not None or old is None else old.main_metric,
            "split": split,
            "overall": overall,
            "validation": old.validation if old else {},
            "training": old.training if old else None,
            "history": old.history if old else [],
            "slices": slices,
            "ood": ood,
            "eval": eval_info,
            "seeds": old.seeds if old else None,  # train --seeds: the spread measured at train
        }
    )


def rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Prediction rows with their slice tags as columns (handy in a notebook)."""
    flat = [{**{k: v for k, v in r.items() if k != "slices"}, **r.get("slices", {})} for r in rows]
    return pd.DataFrame(flat)
