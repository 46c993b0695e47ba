"""The evidence of a run directory: its files, parsed by their one schema in ``tuneproof.rundir``.

Every number the report shows comes from these models, and everything in them is *read* from the
run's files: nothing is recomputed, so the report cannot drift from what ``train``/``eval``
measured, and a field renamed by a writer is renamed here too (it is the same class). A file of a
newer or unknown version, or one that does not parse, stops the report with one line naming it
(``rundir`` raises; nothing here catches it). A missing optional file is recorded in ``missing``
with the command that writes it, so every section can say what to run instead of failing.

What the report derives from the files (curves from ``history``, a slice key's name and value)
are the small pure functions at the end of this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneproof import rundir
from tuneproof.config import RunConfig
from tuneproof.errors import UserError


@dataclass(frozen=True)
class MissingFile:
    name: str
    produced_by: str


@dataclass(frozen=True)
class RunEvidence:
    """Everything the report needs from one run directory, read once."""

    run_dir: Path
    name: str
    config: RunConfig | None
    metrics: rundir.Metrics
    manifest: rundir.Manifest | None
    checks: rundir.Checks | None
    stress: rundir.Stress | None
    lint: rundir.Lint | None
    predictions: tuple[rundir.PredictionRow, ...] | None
    plan_md: str | None
    has_model: bool
    plan: rundir.PlanRecommendation | None = None
    missing: tuple[MissingFile, ...] = field(default_factory=tuple)
    slices_found: rundir.SlicesFound | None = None  # `tuneproof slices find`, when it was run
    baselines: rundir.Baselines | None = None  # `tuneproof baseline`, when it was run

    def is_missing(self, name: str) -> bool:
        return any(m.name == name for m in self.missing)

    def config_value(self, dotted: str) -> Any:
        """A value of the resolved config by dotted key (``training.learning_rate``), or None."""
        node: Any = self.config.to_dict() if self.config is not None else None
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        return node

    @property
    def training(self) -> rundir.TrainingInfo:
        """``metrics.json`` ``training`` (empty for a run evaluated without training it here)."""
        return self.metrics.training or rundir.TrainingInfo()

    @property
    def failures(self) -> rundir.Failures | None:
        return self.metrics.eval.failures if self.metrics.eval else None

    @property
    def eval_data(self) -> list[rundir.DataRef]:
        return self.metrics.eval.data if self.metrics.eval else []

    @property
    def plan_checks(self) -> list[rundir.PlanCheckRecord]:
        return (self.metrics.eval.plan or []) if self.metrics.eval else []

    @property
    def ood(self) -> dict[str, rundir.OodResult]:
        """Evaluations on other distributions, by file name (never part of the headline)."""
        return self.metrics.ood

    @property
    def stress_tests(self) -> list[rundir.StressTest] | None:
        return self.stress.tests if self.stress is not None else None


def load_evidence(run_dir: str | Path) -> RunEvidence:
    """Read a run directory; ``metrics.json`` is required, every other file is optional."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(
            f"{run_dir}: run directory not found; give the folder `tuneproof train` wrote"
        )
    metrics_path = run_dir / rundir.METRICS
    if not metrics_path.is_file():
        raise UserError(
            f"{metrics_path}: not found; train the run first (`tuneproof train CONFIG -o "
            f"{run_dir}`) or evaluate its model (`tuneproof eval {run_dir}`)"
        )
    missing: list[MissingFile] = []

    def present(name: str) -> bool:
        if (run_dir / name).exists():
            return True
        missing.append(MissingFile(name, rundir.PRODUCERS[name].replace("RUN", str(run_dir))))
        return False

    metrics = rundir.read(run_dir, rundir.Metrics)
    config = rundir.read_config(run_dir) if present(rundir.CONFIG) else None
    manifest = rundir.read(run_dir, rundir.Manifest) if present(rundir.MANIFEST) else None
    checks = rundir.read(run_dir, rundir.Checks) if present(rundir.CHECKS) else None
    predictions = tuple(rundir.read_predictions(run_dir)) if present(rundir.PREDICTIONS) else None
    stress = rundir.read(run_dir, rundir.Stress) if present(rundir.STRESS) else None
    lint = rundir.read(run_dir, rundir.Lint) if present(rundir.LINT) else None
    plan_md = (run_dir / rundir.PLAN).read_text(encoding="utf-8") if present(rundir.PLAN) else None
    plan = rundir.read(run_dir, rundir.PlanRecommendation) if present(rundir.PLAN_JSON) else None
    has_model = present(rundir.MODEL)
    name = config.name if config is not None else None
    return RunEvidence(
        run_dir=run_dir,
        name=str(name or run_dir.resolve().name),
        config=config,
        metrics=metrics,
        manifest=manifest,
        checks=checks,
        stress=stress,
        lint=lint,
        predictions=predictions,
        plan_md=plan_md,
        has_model=has_model,
        plan=plan,
        missing=tuple(missing),
        slices_found=rundir.read_optional(run_dir, rundir.SlicesFound),
        baselines=rundir.read_optional(run_dir, rundir.Baselines),
    )


# --- derived from the files ---------------------------------------------------------------------

# Keys of metrics.json ``validation`` that are bookkeeping, not metrics.
_NOT_METRICS = {"n", "small_n", "epoch", "step"}


def split_slice_key(key: str) -> tuple[str, str]:
    """``"language=fr"`` -> ``("language", "fr")`` (the form ``tuneproof eval`` writes)."""
    name, _, value = key.partition("=")
    return name, value


def slice_keys(row: rundir.PredictionRow) -> tuple[str, ...]:
    """The slice keys a prediction row is tagged with, as metrics.json names them."""
    return tuple(f"{k}={v}" for k, v in row.slices.items())


def validation_values(metrics: rundir.Metrics) -> tuple[rundir.MetricValue, ...]:
    """The numeric metrics of the last validation (``loss``, ``accuracy``, ...)."""
    return tuple(
        rundir.MetricValue(k, float(v))
        for k, v in metrics.validation.items()
        if isinstance(v, (int, float))
        and not isinstance(v, bool)
        and v == v  # not NaN
        and k not in _NOT_METRICS
    )


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


def curves(history: Iterable[Mapping[str, Any]]) -> tuple[Curve, ...]:
    """One curve per logged loss or evaluation metric (``loss``, ``eval_loss``, ``eval_accuracy``).

    The Trainer logs a last evaluation of the reloaded best model at the final step; the first
    value per step is kept so that curves show training progress, not that re-evaluation.
    """

    def num(v: Any) -> float | None:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
        return float(v) if ok else None

    series: dict[str, dict[float, CurvePoint]] = {}
    for entry in history:
        step, epoch = num(entry.get("step")), num(entry.get("epoch"))
        x = step if step is not None else epoch
        if x is None:
            continue
        for k, v in entry.items():
            value = num(v)
            if value is None or k in ("step", "epoch", "learning_rate", "grad_norm"):
                continue
            if k != "loss" and not k.startswith("eval_"):
                continue
            series.setdefault(k, {}).setdefault(x, CurvePoint(x, epoch, value))
    return tuple(
        Curve(name, tuple(sorted(points.values(), key=lambda p: p.step)))
        for name, points in series.items()
    )


def curve(history: Iterable[Mapping[str, Any]], name: str) -> Curve | None:
    return next((c for c in curves(history) if c.name == name), None)
