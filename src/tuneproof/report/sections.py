"""The records each report section is drawn from, selected (never recomputed) from the evidence."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneproof import rundir
from tuneproof.evaluate.degenerate import degenerate_warnings
from tuneproof.io import flatten
from tuneproof.report.baseline import BaselineComparison
from tuneproof.report.bundle import RunEvidence, curve, slice_keys
from tuneproof.rundir import DataRef, MetricBlock, MetricValue, PredictionRow


@dataclass(frozen=True)
class HumanEvaluation:
    """The "Human evaluation" section: humaneval.json, overall first, then each slice."""

    record: rundir.HumanEval
    rows: tuple[tuple[str, rundir.HumanRates], ...]
    flagged: tuple[rundir.RaterRecord, ...]


def human_evaluation(run_dir: Path) -> HumanEvaluation | None:
    """The section's record, or None when the run has no humaneval.json."""
    he = rundir.read_optional(run_dir, rundir.HumanEval)
    if he is None:
        return None
    return HumanEvaluation(
        he,
        (("overall", he.overall), *he.slices.items()),
        tuple(r for r in he.raters if r.flagged),
    )


# Packages whose versions go into the `pip install` line (python is a separate line).
_NOT_PIP = {"python"}
_LOCAL_VERSION = re.compile(r"\+.*$")


@dataclass(frozen=True)
class OodLine:
    """One out-of-distribution evaluation, shown beside the headline (never pooled into it)."""

    name: str
    n: int | None
    value: MetricValue | None
    majority: float | None


@dataclass(frozen=True)
class Summary:
    name: str
    task: str
    model: str
    strategy: str
    split: str
    n: int | None
    sources: str  # "name (rows), ..." of the evaluated files; "" for the run's own split
    headline: MetricValue | None
    main_metric: str
    baseline_name: str | None
    baseline_value: float | None
    delta: float | None
    verdict: str | None
    ood: tuple[OodLine, ...] = ()
    #: degenerate-model warnings (tuneproof.evaluate.degenerate), shown first in the headline
    warnings: tuple[str, ...] = ()
    #: ``train --seeds``: the spread across seeds, and whether the baseline difference is
    #: smaller than it (``tuneproof.evaluate.compare.seed_note``)
    seed_lines: tuple[str, ...] = ()


def ood_lines(ev: RunEvidence) -> tuple[OodLine, ...]:
    main = ev.metrics.main_metric
    return tuple(
        OodLine(name, r.overall.n, r.overall.get(main), r.overall.majority)
        for name, r in ev.ood.items()
    )


def summary(ev: RunEvidence, comparison: BaselineComparison | None) -> Summary:
    m = ev.metrics
    model = ev.config_value("model.name") or (ev.manifest.model if ev.manifest else None)
    t = ev.training
    strategy = t.kind or ev.config_value("strategy.kind") or "unknown"
    if t.trainable_params is not None and t.total_params:
        strategy += f" ({t.trainable_params:,} of {t.total_params:,} parameters trainable)"
    overall = comparison.overall if comparison else None
    return Summary(
        name=ev.name,
        task=m.task,
        model=str(model or "unknown"),
        strategy=strategy,
        split=m.split,
        n=m.overall.n,
        sources=", ".join(
            f"{_source_name(d)} ({d.rows:,})" if d.rows is not None else _source_name(d)
            for d in ev.eval_data
        ),
        headline=m.headline,
        main_metric=m.main_metric,
        baseline_name=comparison.baseline_name if comparison else None,
        baseline_value=overall.baseline if overall else None,
        delta=overall.delta if overall else None,
        verdict=overall.verdict if overall else None,
        ood=ood_lines(ev),
        warnings=warnings(ev),
        seed_lines=seed_lines(ev, comparison),
    )


def seed_lines(ev: RunEvidence, comparison: BaselineComparison | None) -> tuple[str, ...]:
    """The seed spread sentences: of the run alone, or against the baseline (when either
    was trained with several seeds)."""
    from tuneproof.evaluate.compare import seed_note

    note = seed_note(ev.metrics, comparison.baseline_metrics if comparison else None)
    if note is not None:
        return tuple(note.lines())
    st = ev.metrics.seed_stat
    if st is None or st.std is None:
        return ()
    ci = f"; 95 % t-interval {st.interval[0]:.4f} – {st.interval[1]:.4f}" if st.interval else ""
    return (
        f"Trained with {st.n} seeds: {ev.metrics.main_metric} mean {st.mean:.4f}, "
        f"seed-to-seed sd {st.std:.4f}{ci} (the headline is the first seed's run).",
    )


def warnings(ev: RunEvidence) -> tuple[str, ...]:
    """The degenerate-model warnings of the run's files (one model predicting one class, ...)."""
    return tuple(str(w) for w in degenerate_warnings(ev.metrics, ev.predictions, ev.baselines))


def _source_name(d: DataRef) -> str:
    return d.name or d.path or "eval"


# A config key documented as "<task>: ..." (config.py) is used by that task only.
_TASK_PREFIXES = {
    "token-classification:": "token-classification",
    "extractive-qa:": "extractive-qa",
    "summarization/SFT:": "summarization",
    "language-modeling:": "language-modeling",
    "preference:": "preference",
}
# strategy keys used by one strategy kind only
_STRATEGY_KEYS = {
    "strategy.freeze_layers": ("freeze",),
    "strategy.freeze_embeddings": ("freeze",),
    "strategy.unfreeze_every": ("progressive",),
    "strategy.lora": ("lora", "qlora"),
}


def _task_of_key(dotted: str) -> str | None:
    """The one task a ``data.*`` key is for (from its description in config.py), or None."""
    from tuneproof.config import DataConfig

    section, _, name = dotted.partition(".")
    if section != "data":
        return None
    field = DataConfig.model_fields.get(name.split(".", 1)[0])
    desc = (field.description or "") if field is not None else ""
    return next((task for pre, task in _TASK_PREFIXES.items() if desc.startswith(pre)), None)


def relevant_key(dotted: str, task: str, strategy: str) -> bool:
    """False for keys another task or strategy kind uses (they would only be noise)."""
    key_task = _task_of_key(dotted)
    if key_task is not None and key_task != task:
        return False
    for prefix, kinds in _STRATEGY_KEYS.items():
        if (dotted == prefix or dotted.startswith(prefix + ".")) and strategy not in kinds:
            return False
    return True


def config_rows(ev: RunEvidence) -> tuple[tuple[str, str], ...]:
    """The resolved config as (dotted key, value) rows: only the keys the run's task and
    strategy use."""
    if ev.config is None:
        return ()
    task, strategy = ev.config.task, ev.config.strategy.kind
    return tuple(
        (k, show(v))
        for k, v in flatten(ev.config.to_dict(), keep_empty=True).items()
        if relevant_key(k, task, strategy)
    )


@dataclass(frozen=True)
class PlanDeviation:
    """A setting where the run did something else than ``tuneproof plan`` recommended."""

    setting: str
    planned: str
    run: str


def plan_deviations(ev: RunEvidence) -> tuple[PlanDeviation, ...]:
    """plan.json's recommendation against config.yaml: strategy, max length, batch size."""
    p = ev.plan
    if p is None or ev.config is None:
        return ()
    c = ev.config
    pairs: list[tuple[str, object, object]] = [
        ("strategy", p.strategy, c.strategy.kind),
        ("max length", p.max_length, c.data.max_length),
        ("batch size", p.batch_size, c.training.batch_size),
        (
            "gradient accumulation steps",
            p.gradient_accumulation_steps,
            c.training.gradient_accumulation_steps,
        ),
    ]
    return tuple(
        PlanDeviation(name, str(planned), str(done))
        for name, planned, done in pairs
        if planned is not None and planned != done
    )


def show(v: Any, limit: int = 300) -> str:
    """A JSON value as display text (strings as they are), cut to ``limit`` characters."""
    text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    gold: str
    pred: str
    score: float | None


@dataclass(frozen=True)
class SliceExamples:
    key: str
    wrong: int
    total: int
    metric: MetricValue | None
    examples: tuple[Example, ...]


def _words(p: PredictionRow) -> list[str] | None:
    extra = p.__pydantic_extra__ or {}
    for v in (extra.get("tokens"), p.text):
        if isinstance(v, list):
            return [str(w) for w in v]
    return None


def _tag_lists(p: PredictionRow) -> tuple[str, str] | None:
    """Token-classification gold/pred (tag lists) as the words where they differ,
    ``Paris/B-LOC``, instead of two raw JSON lists; None for other tasks."""
    g, q = p.gold, p.pred
    if not (isinstance(g, list) and isinstance(q, list)) or not all(
        isinstance(t, str) for t in [*g, *q]
    ):
        return None
    words = _words(p) or []
    diff = [
        i
        for i in range(max(len(g), len(q)))
        if (g[i : i + 1] or [None]) != (q[i : i + 1] or [None])
    ]

    def tags(seq: list[str]) -> str:
        shown = [
            f"{words[i] if i < len(words) else f'#{i}'}/{seq[i] if i < len(seq) else '–'}"
            for i in diff[:8]
        ]
        more = f" (+{len(diff) - 8} more)" if len(diff) > 8 else ""
        return (" ".join(shown) + more) if shown else "(all tags equal)"

    return tags(g), tags(q)


def _example(p: PredictionRow) -> Example:
    tags = _tag_lists(p)
    if tags is not None:
        return Example(p.id, show(p.display_text), tags[0], tags[1], p.score)
    return Example(p.id, show(p.display_text), show(p.gold, 80), show(p.pred, 80), p.score)


def worst_examples(
    ev: RunEvidence, *, per_slice: int = 3, max_slices: int = 8
) -> tuple[SliceExamples, ...]:
    """Wrong predictions, most confident first, for the weakest slices (by their metric in
    metrics.json); the whole eval set when rows carry no slice tags."""
    if not ev.predictions or not has_errors_notion(ev.predictions):
        return ()
    # the slices of metrics.json are the in-distribution rows'; OOD files come after, by name
    rows = [p for p in ev.predictions if p.in_distribution is not False]
    wrong = sorted((p for p in rows if not p.correct), key=lambda p: -(p.score or 0.0))
    main = ev.metrics.main_metric

    def weakest_first(item: tuple[str, MetricBlock]) -> float:
        m = item[1].get(main)
        return m.value if m is not None else float("inf")

    ordered = sorted(ev.metrics.slices.items(), key=weakest_first)
    tags = {p.key: slice_keys(p) for p in rows}
    out = []
    for key, block in ordered:
        bad = [p for p in wrong if key in tags[p.key]]
        if not bad:
            continue
        total = sum(1 for p in rows if key in tags[p.key])
        out.append(
            SliceExamples(
                key, len(bad), total, block.get(main), tuple(map(_example, bad[:per_slice]))
            )
        )
        if len(out) == max_slices:
            break
    if not out and wrong:
        out.append(
            SliceExamples(
                "overall",
                len(wrong),
                len(rows),
                ev.metrics.headline,
                tuple(map(_example, wrong[: per_slice + 2])),
            )
        )
    for name, result in ev.ood.items():
        members = [p for p in ev.predictions if p.in_distribution is False and p.source == name]
        bad = sorted((p for p in members if not p.correct), key=lambda p: -(p.score or 0.0))
        if bad:
            out.append(
                SliceExamples(
                    f"ood:{name}",
                    len(bad),
                    len(members),
                    result.overall.get(main),
                    tuple(map(_example, bad[:per_slice])),
                )
            )
    return tuple(out)


def wrong_count(ev: RunEvidence) -> tuple[int, int, str] | None:
    """(wrong, total, file): from metrics.json's failure analysis, else counted in
    predictions.jsonl (tasks without a notion of "wrong", like regression, have neither)."""
    f = ev.failures
    if f is not None and f.n_errors is not None and f.n_rows is not None:
        return f.n_errors, f.n_rows, "metrics.json"
    if ev.predictions is None or not has_errors_notion(ev.predictions):
        return None
    return sum(1 for p in ev.predictions if not p.correct), len(ev.predictions), "predictions.jsonl"


def has_errors_notion(rows: tuple[PredictionRow, ...]) -> bool:
    """False for numeric gold values (similarity/regression): every row would count as wrong."""
    return not any(isinstance(p.gold, float) or isinstance(p.pred, float) for p in rows)


@dataclass(frozen=True)
class ShaCheck:
    split: str
    path: str
    sha256: str
    rows: int | None
    file: str | None  # the file to hash, None when the fingerprint is not of a local file


@dataclass(frozen=True)
class Reproduce:
    python: str | None
    pip: str | None
    local_versions: tuple[str, ...]  # e.g. torch 2.13.0+cpu: install from that build's index
    command: str | None
    sha_checks: tuple[ShaCheck, ...]
    environment: tuple[tuple[str, str], ...]


def reproduce(ev: RunEvidence) -> Reproduce:
    man = ev.manifest
    if man is None:
        return Reproduce(None, None, (), None, (), ())
    versions = {k: v for k, v in man.versions.items() if v is not None}
    pins, local = [], []
    for pkg, ver in versions.items():
        if pkg in _NOT_PIP:
            continue
        plain = _LOCAL_VERSION.sub("", ver)
        if plain != ver:
            local.append(f"{pkg} {ver}")
        pins.append(f"{pkg}=={plain}")
    checks = []
    seen: set[str] = set()
    for split, d in man.data.items():
        if not d.sha256 or not d.path:
            continue
        file = d.path.split("#", 1)[0]
        local_file = None if file.startswith("hf:") or file in seen else file
        seen.add(file)
        checks.append(ShaCheck(split, d.path, d.sha256, d.rows, local_file))
    hw = man.hardware
    env: list[tuple[str, str]] = [("python", versions.get("python", "?"))]
    env += [(k, v) for k, v in versions.items() if k != "python"]
    env += [
        ("platform", hw.platform or "?"),
        ("CPU cores", str(hw.cpu_count) if hw.cpu_count is not None else "?"),
        (
            "GPU",
            ", ".join(hw.gpus) if hw.gpus else ("none (CPU only)" if hw.cuda is False else "?"),
        ),
        ("seed", str(man.seed) if man.seed is not None else "?"),
        (
            "git commit",
            (man.git.commit or "?") + (" (uncommitted changes)" if man.git.dirty else ""),
        ),
        ("started", man.started or "?"),
        ("ended", man.ended or "?"),
    ]
    return Reproduce(
        python=versions.get("python"),
        pip="pip install " + " ".join(pins) if pins else None,
        local_versions=tuple(local),
        command=shlex.join(man.command) if man.command else None,
        sha_checks=tuple(checks),
        environment=tuple(env),
    )


def demote_headings(markdown: str, levels: int = 2) -> str:
    """Shift ATX headings down so an embedded document nests under a report section."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and re.match(r"^#{1,6} ", line):
            hashes = len(line) - len(line.lstrip("#"))
            line = "#" * min(6, hashes + levels) + line[hashes:]
        out.append(line)
    return "\n".join(out)


_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)


def escape_raw_html(markdown: str) -> str:
    """Make raw HTML in Markdown inert (``<`` -> ``&lt;``) outside code, which stays literal, so
    an embedded document renders the same but cannot add tags."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            out.append(line)
            continue
        if fenced:
            out.append(line)
            continue
        parts, last = [], 0
        for m in _CODE_SPAN.finditer(line):
            parts.append(line[last : m.start()].replace("<", "&lt;"))
            parts.append(m.group(0))
            last = m.end()
        parts.append(line[last:].replace("<", "&lt;"))
        out.append("".join(parts))
    return "\n".join(out)


def verdict_map(comparison: BaselineComparison | None) -> Mapping[str, str]:
    return {v.key: v.verdict for v in comparison.verdicts} if comparison else {}


def repro_script(ev: RunEvidence, r: Reproduce) -> str | None:
    """The shell lines to re-run the run: environment, pinned packages, data check, command."""
    if ev.manifest is None:
        return None
    lines = []
    if r.python:
        lines.append(f"# Python {r.python}")
    lines.append("python -m venv .venv && . .venv/bin/activate")
    if r.pip:
        lines.append(r.pip)
    for lv in r.local_versions:
        lines.append(f"# {lv} is a local build: install it from that build's package index")
    if ev.manifest.cwd:  # data paths and the command are relative to where the run started
        lines.append(f"cd {shlex.quote(ev.manifest.cwd)}")
    checks = [c for c in r.sha_checks if c.file]
    if checks:
        lines.append("# the data must be the same bytes:")
        lines += [f"echo {shlex.quote(f'{c.sha256}  {c.file}')} | sha256sum -c -" for c in checks]
    if r.command:
        lines.append(r.command)
    lines.append(
        f"# or from the resolved config: tuneproof train {shlex.quote(str(ev.run_dir))}"
        f"/config.yaml -o {shlex.quote(str(ev.run_dir))}-repro"
    )
    return "\n".join(lines)


@dataclass(frozen=True)
class CurveTable:
    columns: tuple[str, ...]
    rows: tuple[tuple[float, tuple[float | None, ...]], ...]  # (step, values per column)


def curve_table(ev: RunEvidence, max_rows: int = 12) -> CurveTable | None:
    """The training curves as a few evenly spaced rows (for Markdown, which has no charts)."""
    names = ["loss", "eval_loss", f"eval_{ev.metrics.main_metric}"]
    history = ev.metrics.history
    curves = [c for c in (curve(history, n) for n in names) if c is not None and c.points]
    if not curves:
        return None
    steps = sorted({p.step for c in curves for p in c.points})
    if len(steps) > max_rows:
        idx = sorted({round(i * (len(steps) - 1) / (max_rows - 1)) for i in range(max_rows)})
        steps = [steps[i] for i in idx]
    lookup = [{p.step: p.value for p in c.points} for c in curves]
    return CurveTable(
        tuple(c.name for c in curves),
        tuple((s, tuple(d.get(s) for d in lookup)) for s in steps),
    )
