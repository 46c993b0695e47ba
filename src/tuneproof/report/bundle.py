"""Collect the evidence of a run directory into typed, read-only records.

Every number the report shows comes from here, and everything here is *read* from the run's files
(``metrics.json``, ``manifest.json``, ``checks.json``, ``predictions.jsonl``, ``stress.json``,
``plan.md``): nothing is recomputed, so the report cannot drift from what ``train``/``eval``
measured. A missing optional file is recorded in ``missing`` with the command that produces it,
so every section can say what to run instead of failing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tuneproof.errors import UserError

# File name -> the command that writes it (shown when the file is absent).
PRODUCERS: dict[str, str] = {
    "config.yaml": "tuneproof train CONFIG -o RUN",
    "manifest.json": "tuneproof train CONFIG -o RUN",
    "metrics.json": "tuneproof train CONFIG -o RUN",
    "predictions.jsonl": "tuneproof eval RUN",
    "checks.json": "tuneproof check CONFIG --output RUN",
    "plan.md": "tuneproof plan ... -o RUN (before training)",
    "stress.json": "tuneproof stress RUN --data FILE",
    "model": "tuneproof train CONFIG -o RUN",
}

# Keys of a metrics mapping that are bookkeeping, not metrics.
_NOT_METRICS = {"n", "small_n", "epoch", "step"}


@dataclass(frozen=True)
class MetricValue:
    """One metric as written by train/eval; ``ci`` is the 95 % interval when one was written."""

    name: str
    value: float
    ci: tuple[float, float] | None = None


@dataclass(frozen=True)
class SliceResult:
    """The metrics of one slice (``key`` is ``name=value``, e.g. ``language=fr``)."""

    key: str
    name: str
    value: str
    n: int | None
    metrics: tuple[MetricValue, ...]
    small_n: bool = False

    def metric(self, name: str) -> MetricValue | None:
        return next((m for m in self.metrics if m.name == name), None)


@dataclass(frozen=True)
class CurvePoint:
    step: float
    epoch: float | None
    value: float


@dataclass(frozen=True)
class Curve:
    """A series from the Trainer log (``metrics.json`` history): ``loss``, ``eval_loss``, ..."""

    name: str
    points: tuple[CurvePoint, ...]


@dataclass(frozen=True)
class TrainingInfo:
    global_step: int | None = None
    epochs: float | None = None
    train_loss: float | None = None
    best_checkpoint: str | None = None
    best_metric: float | None = None
    strategy: str | None = None
    strategy_detail: str | None = None
    trainable_params: int | None = None
    total_params: int | None = None
    trainable_percent: float | None = None


@dataclass(frozen=True)
class FailureCategory:
    """A failure category of ``tuneproof eval`` (confident_wrong, near_boundary, truncated, ...):
    how many rows have the property and how many of those the model got wrong."""

    name: str
    description: str
    rows: int | None
    errors: int
    error_rate: float | None
    share_of_errors: float | None


@dataclass(frozen=True)
class Confusion:
    key: str  # "overall" or a slice key
    labels: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]  # rows: gold, columns: pred


@dataclass(frozen=True)
class FailureEvidence:
    n_rows: int | None
    n_errors: int | None
    categories: tuple[FailureCategory, ...]
    confusion: tuple[Confusion, ...]
    note: str = ""

    def confusion_of(self, key: str) -> Confusion | None:
        return next((c for c in self.confusion if c.key == key), None)


@dataclass(frozen=True)
class PlanCheck:
    """A slice of the evaluation plan against the evaluated data (``eval --plan``)."""

    key: str
    min_examples: int
    n: int
    met: bool


@dataclass(frozen=True)
class EvalSettings:
    """How ``tuneproof eval`` measured: resampling, interval level, language source."""

    seed: int | None
    n_resamples: int | None
    confidence: float | None
    language_from: str | None


@dataclass(frozen=True)
class MetricsEvidence:
    path: Path
    task: str
    main_metric: str
    split: str
    n: int | None
    overall: tuple[MetricValue, ...]
    validation: tuple[MetricValue, ...]
    training: TrainingInfo
    curves: tuple[Curve, ...]
    slices: tuple[SliceResult, ...]
    failures: FailureEvidence | None = None  # written by `tuneproof eval`
    eval_data: tuple[DataSource, ...] = ()  # eval files when metrics.json names them
    plan_checks: tuple[PlanCheck, ...] = ()
    eval_settings: EvalSettings | None = None

    @property
    def headline(self) -> MetricValue | None:
        return self.metric(self.main_metric)

    def metric(self, name: str) -> MetricValue | None:
        return next((m for m in self.overall if m.name == name), None)

    def curve(self, name: str) -> Curve | None:
        return next((c for c in self.curves if c.name == name), None)

    def slice(self, key: str) -> SliceResult | None:
        return next((s for s in self.slices if s.key == key), None)


@dataclass(frozen=True)
class DataSource:
    """A data split as fingerprinted by the manifest: enough to check the same bytes were used."""

    split: str
    path: str
    sha256: str | None
    rows: int | None


@dataclass(frozen=True)
class Hardware:
    platform: str | None = None
    machine: str | None = None
    cpu_count: int | None = None
    cuda: bool | None = None
    gpus: tuple[str, ...] = ()

    @property
    def cpu_only(self) -> bool:
        return self.cuda is False and not self.gpus


@dataclass(frozen=True)
class ManifestEvidence:
    path: Path
    status: str | None
    versions: tuple[tuple[str, str], ...]  # (package, version), python first
    git_commit: str | None
    git_dirty: bool | None
    data: tuple[DataSource, ...]
    model: str | None
    seed: int | None
    hardware: Hardware
    command: tuple[str, ...]
    started: str | None
    ended: str | None
    cwd: str | None = None
    seeds: tuple[int, ...] = ()  # several seeds when a run records them

    def source(self, split: str) -> DataSource | None:
        return next((d for d in self.data if d.split == split), None)


@dataclass(frozen=True)
class Finding:
    """One data-quality finding of ``checks.json`` (schema: docs/checks.md)."""

    check: str
    severity: str
    split: str
    rows: tuple[str, ...]
    related: tuple[str, ...]  # "split:row"
    score: float | None
    detail: str


@dataclass(frozen=True)
class ChecksEvidence:
    path: Path
    errors: int
    warnings: int
    info: int
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class Prediction:
    """One row of ``predictions.jsonl``; ``gold``/``pred`` keep their JSON type."""

    id: str
    text: str
    gold: Any
    pred: Any
    score: float | None
    slices: tuple[tuple[str, str], ...] = ()
    source: str = ""  # the eval file the row came from (ids are unique per source)

    @property
    def correct(self) -> bool:
        return bool(self.gold == self.pred)

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.id)

    @property
    def slice_keys(self) -> tuple[str, ...]:
        return tuple(f"{k}={v}" for k, v in self.slices)


@dataclass(frozen=True)
class StressExample:
    original: str
    edited: str
    pred_before: str
    pred_after: str


@dataclass(frozen=True)
class StressTest:
    """One behaviour test of ``stress.json`` (invariance or directional)."""

    name: str
    kind: str
    description: str
    applicable: int | None
    failures: int | None
    failure_rate: float | None
    examples: tuple[StressExample, ...] = ()


@dataclass(frozen=True)
class MissingFile:
    name: str
    produced_by: str


@dataclass(frozen=True)
class RunEvidence:
    """Everything the report needs from one run directory, read once."""

    run_dir: Path
    name: str
    config: Mapping[str, Any] | None
    metrics: MetricsEvidence
    manifest: ManifestEvidence | None
    checks: ChecksEvidence | None
    predictions: tuple[Prediction, ...] | None
    stress: tuple[StressTest, ...] | None
    plan_md: str | None
    has_model: bool
    missing: tuple[MissingFile, ...] = field(default_factory=tuple)

    def is_missing(self, name: str) -> bool:
        return any(m.name == name for m in self.missing)

    def config_value(self, dotted: str) -> Any:
        node: Any = self.config
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node


# --- loading ----------------------------------------------------------------------------------


def load_evidence(run_dir: str | Path) -> RunEvidence:
    """Read a run directory; ``metrics.json`` is required, every other file is optional."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(
            f"{run_dir}: run directory not found; give the folder `tuneproof train` wrote"
        )
    metrics_path = run_dir / "metrics.json"
    if not metrics_path.is_file():
        raise UserError(
            f"{metrics_path}: not found; train the run first (`tuneproof train CONFIG -o "
            f"{run_dir}`) or evaluate its model (`tuneproof eval {run_dir}`)"
        )
    missing: list[MissingFile] = []

    def optional(name: str) -> Path | None:
        path = run_dir / name
        if path.exists():
            return path
        missing.append(MissingFile(name, PRODUCERS[name].replace("RUN", str(run_dir))))
        return None

    metrics = parse_metrics(_read_json(metrics_path), metrics_path)
    config_path = optional("config.yaml")
    config = _read_yaml(config_path) if config_path else None
    manifest_path = optional("manifest.json")
    manifest = parse_manifest(_read_json(manifest_path), manifest_path) if manifest_path else None
    checks_path = optional("checks.json")
    checks = parse_checks(_read_json(checks_path), checks_path) if checks_path else None
    pred_path = optional("predictions.jsonl")
    predictions = parse_predictions(pred_path) if pred_path else None
    stress_path = optional("stress.json")
    stress = parse_stress(_read_json(stress_path), stress_path) if stress_path else None
    plan_path = optional("plan.md")
    plan_md = plan_path.read_text(encoding="utf-8") if plan_path else None
    has_model = optional("model") is not None
    name = config.get("name") if isinstance(config, Mapping) else None
    return RunEvidence(
        run_dir=run_dir,
        name=str(name or run_dir.resolve().name),
        config=config if isinstance(config, Mapping) else None,
        metrics=metrics,
        manifest=manifest,
        checks=checks,
        predictions=predictions,
        stress=stress,
        plan_md=plan_md,
        has_model=has_model,
        missing=tuple(missing),
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise UserError(
            f"{path}: invalid JSON at line {err.lineno} ({err.msg}); re-run the step that wrote it"
        ) from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; re-run the step that wrote it") from None


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "bad YAML"
        raise UserError(f"{path}: invalid YAML ({first}); re-run the step that wrote it") from None


def _map(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``d[key]`` when it is a mapping, else empty: a section of the wrong shape reads as absent."""
    v = d.get(key)
    return v if isinstance(v, Mapping) else {}


def _seq(d: Mapping[str, Any], key: str) -> list[Any]:
    v = d.get(key)
    return v if isinstance(v, list) else []


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return None if math.isnan(v) else float(v)


def _int(v: Any) -> int | None:
    f = _num(v)
    return int(f) if f is not None else None


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def _ci(v: Any) -> tuple[float, float] | None:
    if isinstance(v, Sequence) and not isinstance(v, str) and len(v) == 2:
        lo, hi = _num(v[0]), _num(v[1])
        if lo is not None and hi is not None:
            return (lo, hi)
    return None


def metric_values(d: Mapping[str, Any]) -> tuple[MetricValue, ...]:
    """Numeric metrics of a mapping, each with its ``<name>_ci`` interval when present."""
    out = []
    for k, v in d.items():
        value = _num(v)
        if value is None or k in _NOT_METRICS or k.endswith("_ci"):
            continue
        out.append(MetricValue(k, value, _ci(d.get(f"{k}_ci"))))
    return tuple(out)


def parse_metrics(raw: Any, path: Path) -> MetricsEvidence:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("overall"), Mapping):
        raise UserError(
            f"{path}: no 'overall' metrics; re-run `tuneproof train` or `tuneproof eval` to "
            "rewrite it"
        )
    overall = metric_values(raw["overall"])
    main = str(raw.get("main_metric") or (overall[0].name if overall else "accuracy"))
    training = _map(raw, "training")
    slices = _map(raw, "slices")
    history = _seq(raw, "history")
    validation = raw.get("validation")
    ev = _map(raw, "eval")
    return MetricsEvidence(
        path=path,
        task=str(raw.get("task") or "unknown"),
        main_metric=main,
        split=str(raw.get("split") or "test"),
        n=_int(raw["overall"].get("n")),
        overall=overall,
        validation=metric_values(validation) if isinstance(validation, Mapping) else (),
        training=TrainingInfo(
            global_step=_int(training.get("global_step")),
            epochs=_num(training.get("epochs")),
            train_loss=_num(training.get("train_loss")),
            best_checkpoint=_str(training.get("best_checkpoint")),
            best_metric=_num(training.get("best_metric")),
            strategy=_str(training.get("kind")),
            strategy_detail=_str(training.get("detail")),
            trainable_params=_int(training.get("trainable_params")),
            total_params=_int(training.get("total_params")),
            trainable_percent=_num(training.get("trainable_percent")),
        ),
        curves=parse_curves(history),
        slices=tuple(_slice(str(k), v) for k, v in slices.items() if isinstance(v, Mapping)),
        failures=_failures(ev.get("failures")),
        eval_data=_eval_data(ev.get("data")),
        plan_checks=_plan_checks(ev.get("plan")),
        eval_settings=_eval_settings(ev) if ev else None,
    )


def _slice(key: str, d: Mapping[str, Any]) -> SliceResult:
    name, _, value = key.partition("=")
    return SliceResult(
        key=key,
        name=name,
        value=value,
        n=_int(d.get("n")),
        metrics=metric_values(d),
        small_n=bool(d.get("small_n", False)),
    )


def parse_curves(history: list[Any]) -> tuple[Curve, ...]:
    """One curve per numeric log key (``loss``, ``eval_loss``, ``eval_accuracy``, ...).

    The Trainer logs a last evaluation of the reloaded best model at the final step; the first
    value per step is kept so that curves show training progress, not that re-evaluation.
    """
    series: dict[str, dict[float, CurvePoint]] = {}
    for entry in history:
        if not isinstance(entry, Mapping):
            continue
        step = _num(entry.get("step"))
        epoch = _num(entry.get("epoch"))
        x = step if step is not None else epoch
        if x is None:
            continue
        for k, v in entry.items():
            value = _num(v)
            if value is None or k in ("step", "epoch", "learning_rate", "grad_norm"):
                continue
            if k != "loss" and not k.startswith("eval_"):
                continue
            series.setdefault(k, {}).setdefault(x, CurvePoint(x, epoch, value))
    return tuple(
        Curve(name, tuple(sorted(points.values(), key=lambda p: p.step)))
        for name, points in series.items()
    )


def _failures(raw: Any) -> FailureEvidence | None:
    """``metrics.json`` ``eval.failures`` (schema: docs/evaluation.md)."""
    if not isinstance(raw, Mapping):
        return None
    cats = _map(raw, "categories")
    conf = _map(raw, "confusion")
    return FailureEvidence(
        n_rows=_int(raw.get("n_rows")),
        n_errors=_int(raw.get("n_errors")),
        categories=tuple(
            FailureCategory(
                name=str(name),
                description=str(c.get("description", "")),
                rows=_int(c.get("rows")),
                errors=_int(c.get("errors")) or 0,
                error_rate=_num(c.get("error_rate")),
                share_of_errors=_num(c.get("share_of_errors")),
            )
            for name, c in cats.items()
            if isinstance(c, Mapping)
        ),
        confusion=tuple(
            Confusion(
                str(key),
                tuple(str(x) for x in c.get("labels") or ()),
                tuple(tuple(int(v) for v in row) for row in c.get("matrix") or ()),
            )
            for key, c in conf.items()
            if isinstance(c, Mapping)
        ),
        note=str(raw.get("note", "")),
    )


def _plan_checks(raw: Any) -> tuple[PlanCheck, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        PlanCheck(
            str(c.get("key")),
            _int(c.get("min_examples")) or 0,
            _int(c.get("n")) or 0,
            bool(c.get("met")),
        )
        for c in raw
        if isinstance(c, Mapping) and c.get("key")
    )


def _eval_settings(ev: Mapping[str, Any]) -> EvalSettings:
    lang = _map(ev, "language")
    return EvalSettings(
        seed=_int(ev.get("seed")),
        n_resamples=_int(ev.get("n_resamples")),
        confidence=_num(ev.get("confidence")),
        language_from=_str(lang.get("from")),
    )


def _eval_data(raw: Any) -> tuple[DataSource, ...]:
    """``eval.data``: one entry per evaluated file (name, path, sha256, rows)."""
    if not isinstance(raw, list):
        return ()
    return tuple(
        _source(str(d.get("name") or d.get("path") or "eval"), d)
        for d in raw
        if isinstance(d, Mapping)
    )


def _source(split: str, d: Mapping[str, Any]) -> DataSource:
    return DataSource(split, str(d.get("path") or ""), _str(d.get("sha256")), _int(d.get("rows")))


def parse_manifest(raw: Any, path: Path) -> ManifestEvidence:
    if not isinstance(raw, Mapping):
        raise UserError(f"{path}: expected a JSON object; re-run `tuneproof train`")
    versions = _map(raw, "versions")
    git = _map(raw, "git")
    data = _map(raw, "data")
    hw = _map(raw, "hardware")
    command = raw.get("command")
    seeds = raw.get("seeds")
    cuda = hw.get("cuda")
    return ManifestEvidence(
        path=path,
        status=_str(raw.get("status")),
        versions=tuple((str(k), str(v)) for k, v in versions.items() if v is not None),
        git_commit=_str(git.get("commit")),
        git_dirty=git.get("dirty") if isinstance(git.get("dirty"), bool) else None,
        data=tuple(_source(str(k), v) for k, v in data.items() if isinstance(v, Mapping)),
        model=_str(raw.get("model")),
        seed=_int(raw.get("seed")),
        hardware=Hardware(
            platform=_str(hw.get("platform")),
            machine=_str(hw.get("machine")),
            cpu_count=_int(hw.get("cpu_count")),
            cuda=cuda if isinstance(cuda, bool) else None,
            gpus=tuple(str(g) for g in hw.get("gpus") or ()),
        ),
        command=tuple(str(c) for c in command) if isinstance(command, list) else (),
        started=_str(raw.get("started")),
        ended=_str(raw.get("ended")),
        cwd=_str(raw.get("cwd")),
        seeds=tuple(int(s) for s in seeds if _int(s) is not None)
        if isinstance(seeds, list)
        else (),
    )


def parse_checks(raw: Any, path: Path) -> ChecksEvidence:
    if not isinstance(raw, Mapping):
        raise UserError(f"{path}: expected a JSON object; re-run `tuneproof check`")
    summary = _map(raw, "summary")
    findings = []
    for f in raw.get("findings") or ():
        if not isinstance(f, Mapping):
            continue
        related = tuple(
            f"{r.get('split')}:{r.get('row')}"
            for r in f.get("related") or ()
            if isinstance(r, Mapping)
        )
        findings.append(
            Finding(
                check=str(f.get("check", "?")),
                severity=str(f.get("severity", "info")),
                split=str(f.get("split", "")),
                rows=tuple(str(r) for r in f.get("rows") or ()),
                related=related,
                score=_num(f.get("score")),
                detail=str(f.get("detail", "")),
            )
        )
    return ChecksEvidence(
        path=path,
        errors=_int(summary.get("errors")) or 0,
        warnings=_int(summary.get("warnings")) or 0,
        info=_int(summary.get("info")) or 0,
        findings=tuple(findings),
    )


def parse_predictions(path: Path) -> tuple[Prediction, ...]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as err:
                raise UserError(
                    f"{path}: line {lineno} is not valid JSON ({err.msg}); re-run `tuneproof eval`"
                ) from None
            if isinstance(r, Mapping):
                rows.append(_prediction(r, lineno))
    return tuple(rows)


def _prediction(r: Mapping[str, Any], lineno: int) -> Prediction:
    text = r.get("text")
    if not isinstance(text, str):
        text = next(
            (str(r[k]) for k in ("question", "context", "input") if isinstance(r.get(k), str)),
            "" if text is None else json.dumps(text, ensure_ascii=False),
        )
    slices = _map(r, "slices")
    return Prediction(
        id=str(r.get("id", lineno - 1)),
        text=text,
        gold=r.get("gold"),
        pred=r.get("pred"),
        score=_num(r.get("score")),
        slices=tuple((str(k), str(v)) for k, v in slices.items()),
        source=str(r.get("source") or ""),
    )


def parse_stress(raw: Any, path: Path) -> tuple[StressTest, ...]:
    """``stress.json`` as ``tuneproof stress`` writes it: ``{"tests": [...]}``."""
    tests = raw.get("tests") if isinstance(raw, Mapping) else None
    if not isinstance(tests, list):
        raise UserError(f"{path}: no 'tests' list; re-run `tuneproof stress`")
    out = []
    for t in tests:
        if not isinstance(t, Mapping):
            continue
        examples = _seq(t, "examples")
        out.append(
            StressTest(
                name=str(t.get("name") or "?"),
                kind=str(t.get("kind") or ""),
                description=str(t.get("description") or ""),
                applicable=_int(t.get("applicable")),
                failures=_int(t.get("failures")),
                failure_rate=_num(t.get("failure_rate")),
                examples=tuple(
                    StressExample(
                        str(e.get("original", "")),
                        str(e.get("edited", "")),
                        str(e.get("pred_before", "")),
                        str(e.get("pred_after", "")),
                    )
                    for e in examples
                    if isinstance(e, Mapping)
                ),
            )
        )
    return tuple(out)
