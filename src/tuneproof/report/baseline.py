"""What changed between a run and its baseline, and whether it made a measurable difference.

Config, data and code diffs come from the two runs' files; per-slice verdicts come from
``tuneproof.evaluate.compare`` (paired bootstrap over the two runs' predictions of the *same*
rows, McNemar beside it), the same function behind `tuneproof compare`. A baseline evaluated on
other data cannot be compared slice by slice, so it is refused with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneproof.errors import UserError
from tuneproof.io import flatten
from tuneproof.report.bundle import RunEvidence
from tuneproof.rundir import DataRef, MetricBlock, Metrics

if TYPE_CHECKING:
    from tuneproof.evaluate.compare import Comparison


@dataclass(frozen=True)
class ConfigChange:
    key: str  # dotted, e.g. training.learning_rate
    baseline: str
    run: str


@dataclass(frozen=True)
class DataChange:
    split: str
    run: DataRef | None
    baseline: DataRef | None

    @property
    def same(self) -> bool:
        if self.run is None or self.baseline is None:
            return False
        return (self.run.sha256, self.run.rows) == (self.baseline.sha256, self.baseline.rows)


@dataclass(frozen=True)
class CodeChange:
    run_commit: str | None
    baseline_commit: str | None
    run_dirty: bool | None
    baseline_dirty: bool | None

    @property
    def same(self) -> bool:
        return (
            self.run_commit is not None
            and self.run_commit == self.baseline_commit
            and not self.run_dirty
            and not self.baseline_dirty
        )


@dataclass(frozen=True)
class SliceVerdict:
    """Run vs baseline on one slice (``overall`` first): metric values read from both
    ``metrics.json`` files, the paired difference and its verdict."""

    key: str
    n: int | None
    run: float | None
    baseline: float | None
    paired_delta: float | None
    paired_ci: tuple[float, float] | None
    verdict: str  # improved | regressed | no evidence | not tested
    mcnemar_p: float | None = None

    @property
    def delta(self) -> float | None:
        if self.run is None or self.baseline is None:
            return None
        return self.run - self.baseline


@dataclass(frozen=True)
class BaselineComparison:
    baseline_dir: Path
    baseline_name: str
    metric: str
    config_changes: tuple[ConfigChange, ...]
    data_changes: tuple[DataChange, ...]
    code: CodeChange
    verdicts: tuple[SliceVerdict, ...]
    method: str
    same_data: str  # how the shared evaluation data was verified
    baseline_metrics: Metrics | None = None  # the baseline's metrics.json (its seed spread)

    @property
    def overall(self) -> SliceVerdict | None:
        return next((v for v in self.verdicts if v.key == "overall"), None)

    @property
    def regressions(self) -> tuple[SliceVerdict, ...]:
        return tuple(v for v in self.verdicts if v.verdict == "regressed")

    @property
    def has_mcnemar(self) -> bool:
        return any(v.mcnemar_p is not None for v in self.verdicts)

    @property
    def improvements(self) -> tuple[SliceVerdict, ...]:
        return tuple(v for v in self.verdicts if v.verdict == "improved")

    def verdict(self, key: str) -> SliceVerdict | None:
        return next((v for v in self.verdicts if v.key == key), None)


def compare_to_baseline(
    run: RunEvidence, baseline: RunEvidence, *, seed: int = 0
) -> BaselineComparison:
    """Diff two runs and give a verdict per slice; refuses a baseline on other eval data."""
    if run.run_dir.resolve() == baseline.run_dir.resolve():
        raise UserError(f"{baseline.run_dir}: the baseline is the run itself; give another run")
    if run.metrics.task != baseline.metrics.task:
        raise UserError(
            f"{baseline.run_dir}: a {baseline.metrics.task} run cannot be the baseline of a "
            f"{run.metrics.task} run; choose a baseline of the same task"
        )
    same_data = ensure_same_eval_data(run, baseline)
    metric = run.metrics.main_metric
    paired, method = _paired(run, baseline, seed=seed)
    return BaselineComparison(
        baseline_dir=baseline.run_dir,
        baseline_name=baseline.name,
        metric=metric,
        config_changes=config_diff(_config(baseline), _config(run)),
        data_changes=data_diff(run, baseline),
        code=CodeChange(
            run.manifest.git.commit if run.manifest else None,
            baseline.manifest.git.commit if baseline.manifest else None,
            run.manifest.git.dirty if run.manifest else None,
            baseline.manifest.git.dirty if baseline.manifest else None,
        ),
        verdicts=_verdicts(run, baseline, metric, paired),
        method=method,
        same_data=same_data,
        baseline_metrics=baseline.metrics,
    )


def _config(ev: RunEvidence) -> dict[str, Any]:
    return ev.config.to_dict() if ev.config is not None else {}


def _paired(
    run: RunEvidence, baseline: RunEvidence, *, seed: int
) -> tuple[dict[str, SliceVerdict], str]:
    """Per-slice paired deltas and verdicts from ``tuneproof.evaluate.compare``."""
    for ev in (run, baseline):
        for name in ("predictions.jsonl", "config.yaml"):
            if ev.is_missing(name):
                return {}, f"not tested: {ev.run_dir / name} is missing (run `tuneproof eval`)"
    for ev in (run, baseline):
        if not _tagged(ev):
            return {}, (
                f"not tested: {ev.run_dir} has predictions from `tuneproof train` only; run "
                f"`tuneproof eval {ev.run_dir}` so both runs' rows carry source and slice tags"
            )
    from tuneproof.evaluate.compare import compare_runs

    c = compare_runs(run.run_dir, baseline.run_dir, seed=seed)
    return _from_comparison(c), (
        f"paired bootstrap of the {c.main_metric} difference ({c.n_resamples:,} resamples, "
        f"{c.confidence:.0%} interval; McNemar p for accuracy-like tasks), "
        "as tuneproof compare computes it; intervals are per slice, not corrected for the number "
        "of slices"
    )


def _from_comparison(c: Comparison) -> dict[str, SliceVerdict]:
    return {
        s.key: SliceVerdict(
            key=s.key,
            n=s.n,
            run=None,
            baseline=None,
            paired_delta=s.main.delta,
            paired_ci=s.main.delta_ci,
            verdict=s.verdict,
            mcnemar_p=s.mcnemar_p,
        )
        for s in c.slices
    }


def _verdicts(
    run: RunEvidence, baseline: RunEvidence, metric: str, paired: dict[str, SliceVerdict]
) -> tuple[SliceVerdict, ...]:
    """One row per slice (overall first): values read from both metrics.json files, the paired
    delta and verdict from the comparison."""

    def block_of(ev: RunEvidence, key: str) -> MetricBlock | None:
        if key == "overall":
            return ev.metrics.overall
        if key.startswith("ood:"):  # an out-of-distribution file (compare's group name)
            result = ev.metrics.ood.get(key.removeprefix("ood:"))
            return result.overall if result else None
        return ev.metrics.slices.get(key)

    def value(ev: RunEvidence, key: str) -> float | None:
        block = block_of(ev, key)
        m = block.get(metric) if block else None
        return m.value if m else None

    keys = ["overall", *run.metrics.slices]
    keys += [k for k in baseline.metrics.slices if k not in keys]
    keys += [k for k in paired if k not in keys]
    out = []
    for key in keys:
        p = paired.get(key)
        s = block_of(run, key)
        n = s.n if s else None
        out.append(
            SliceVerdict(
                key=key,
                n=n if n is not None else (p.n if p else None),
                run=value(run, key),
                baseline=value(baseline, key),
                paired_delta=p.paired_delta if p else None,
                paired_ci=p.paired_ci if p else None,
                verdict=p.verdict if p else "not tested",
                mcnemar_p=p.mcnemar_p if p else None,
            )
        )
    return tuple(out)


def ensure_same_eval_data(run: RunEvidence, baseline: RunEvidence) -> str:
    """Say how the shared evaluation data was verified, or raise UserError saying why not."""

    def refuse(reason: str) -> UserError:
        return UserError(
            f"{baseline.run_dir}: baseline was evaluated on different data ({reason}); "
            f"evaluate both runs on the same data (`tuneproof eval {baseline.run_dir} --data FILE`)"
            " or choose another --baseline"
        )

    checks = []
    a, b = _eval_fingerprints(run), _eval_fingerprints(baseline)
    if a and b:
        if a != b:
            raise refuse(f"eval data sha256 {_short(a)} vs baseline {_short(b)}")
        checks.append(f"eval data sha256 {_short(a)}")
    if run.predictions is not None and baseline.predictions is not None:
        # rows written by `train` carry no source; match those by id alone
        by_id = not (_tagged(run) and _tagged(baseline))
        rows_a = {("" if by_id else p.source, p.id): p.display_text for p in run.predictions}
        rows_b = {("" if by_id else p.source, p.id): p.display_text for p in baseline.predictions}
        only = sorted(set(rows_a) ^ set(rows_b))
        if only:
            raise refuse(
                f"{len(only)} prediction ids are in only one of the runs, e.g. {only[0][1]!r}"
            )
        changed = [k for k in rows_a if rows_a[k] != rows_b[k]]
        if changed:
            raise refuse(
                f"{len(changed)} rows have the same id but another text, e.g. {changed[0][1]!r}"
            )
        checks.append(f"the same {len(rows_a):,} prediction ids and texts")
    if not checks:
        return "not verified: neither eval data sha256 nor predictions are in both runs"
    return "verified: " + " and ".join(checks)


def _tagged(ev: RunEvidence) -> bool:
    """Predictions written by `tuneproof eval` (each row names its source file)."""
    return bool(ev.predictions) and all(p.source for p in ev.predictions or ())


def _eval_fingerprints(ev: RunEvidence) -> tuple[str, ...]:
    """sha256 of the data the metrics were computed on (eval files, else the eval split)."""
    if ev.eval_data:
        return tuple(sorted(d.sha256 for d in ev.eval_data if d.sha256))
    src = ev.manifest.data.get(ev.metrics.split) if ev.manifest else None
    return (src.sha256,) if src and src.sha256 else ()


def _short(shas: tuple[str, ...]) -> str:
    return ",".join(s[:12] for s in shas)


def _show(v: Any) -> str:
    if v is _ABSENT:
        return "(absent)"
    return json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v


_ABSENT = object()


def config_diff(baseline: Mapping[str, Any], run: Mapping[str, Any]) -> tuple[ConfigChange, ...]:
    """Only the keys whose values differ (added or removed keys included)."""
    a, b = flatten(baseline, keep_empty=True), flatten(run, keep_empty=True)
    keys = list(a) + [k for k in b if k not in a]
    return tuple(
        ConfigChange(k, _show(a.get(k, _ABSENT)), _show(b.get(k, _ABSENT)))
        for k in keys
        if a.get(k, _ABSENT) != b.get(k, _ABSENT)
    )


def data_diff(run: RunEvidence, baseline: RunEvidence) -> tuple[DataChange, ...]:
    ra = run.manifest.data if run.manifest else {}
    rb = baseline.manifest.data if baseline.manifest else {}
    splits = list(ra) + [s for s in rb if s not in ra]
    return tuple(DataChange(s, ra.get(s), rb.get(s)) for s in splits)
