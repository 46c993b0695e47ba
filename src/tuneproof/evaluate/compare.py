"""`tuneproof compare BASELINE RUN ...`: is a run better or worse than the baseline, per slice?

The library compares one run A with one baseline B (:func:`compare_runs`); the CLI does that for
every run it is given against the first (or ``--baseline``) and shows them in one table.

Both runs must have been evaluated on the same rows (matched by source file and id, with the same
text and gold label); anything else is refused with the reason, because a delta between two
different test sets measures the data, not the model.

For each slice (membership from the stored tags of ``predictions.jsonl``, never recomputed: a
dimension from A's tags for every row, from B's when A has no such dimension) the main metric's delta
A − B gets a **paired bootstrap** interval: the same resampled rows are scored under both runs,
so row-to-row difficulty cancels out and small real differences become visible. Verdict:
``improved`` when the interval lies above 0, ``regressed`` when below, ``no evidence``
otherwise. For accuracy-like tasks the exact **McNemar** p-value (discordant pairs) is reported
beside it. Intervals are per slice, not corrected for the number of slices: with 30 unchanged
slices at 95 %, about 1.5 would be flagged by chance when predictions differ by noise alone, so a
strict CI gate should raise ``confidence`` (e.g. 0.99) — identical predictions never are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tuneproof import rundir
from tuneproof.errors import UserError
from tuneproof.evaluate.metrics import (
    CONFIDENCE,
    GENERAL_RESAMPLES,
    N_RESAMPLES,
    RowMetricsFn,
    analyse,
    numeric,
    percentile_interval,
    resample,
    rows_rng,
    slice_positions,
    small_n,
)
from tuneproof.io import flatten

Verdict = Literal["improved", "regressed", "no evidence"]


@dataclass(frozen=True)
class MetricDelta:
    a: float
    b: float
    delta: float
    delta_ci: tuple[float, float] | None

    def to_dict(self) -> dict[str, Any]:
        ci = list(self.delta_ci) if self.delta_ci is not None else None
        return {"a": self.a, "b": self.b, "delta": self.delta, "delta_ci": ci}


@dataclass(frozen=True)
class SliceDelta:
    key: str
    n: int
    metric: str  # the main metric the verdict is about
    verdict: Verdict
    metrics: dict[str, MetricDelta]
    mcnemar_p: float | None = None  # accuracy-like tasks only
    small_n: bool = False

    @property
    def main(self) -> MetricDelta:
        return self.metrics[self.metric]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "metric": self.metric,
            "verdict": self.verdict,
            **self.main.to_dict(),
            "mcnemar_p": self.mcnemar_p,
            "small_n": self.small_n,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
        }


@dataclass(frozen=True)
class ConfigChange:
    key: str
    a: Any
    b: Any


@dataclass
class Comparison:
    run_a: str
    run_b: str
    main_metric: str
    n_rows: int
    confidence: float
    n_resamples: int
    slices: list[SliceDelta]
    config_diff: list[ConfigChange] = field(default_factory=list)
    seeds: SeedNote | None = None  # train --seeds on either side: the seed-to-seed spread
    suite: SuiteDiff | None = None  # both runs replayed one regression suite (eval --suite)

    @property
    def regressions(self) -> list[SliceDelta]:
        return [s for s in self.slices if s.verdict == "regressed"]

    @property
    def improvements(self) -> list[SliceDelta]:
        return [s for s in self.slices if s.verdict == "improved"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_a": self.run_a,
            "run_b": self.run_b,
            "baseline": self.run_b,
            "main_metric": self.main_metric,
            "n_rows": self.n_rows,
            "confidence": self.confidence,
            "n_resamples": self.n_resamples,
            "slices": {s.key: s.to_dict() for s in self.slices},
            "regressed": [s.key for s in self.regressions],
            "improved": [s.key for s in self.improvements],
            "config_diff": [{"key": c.key, "a": c.a, "b": c.b} for c in self.config_diff],
            "seeds": self.seeds.to_dict() if self.seeds is not None else None,
            **({"suite": self.suite.to_dict()} if self.suite else {}),
        }


def row_key(row: Mapping[str, Any]) -> tuple[str, str]:
    return str(row.get("source", "")), str(row.get("id"))


def _show(key: tuple[str, str]) -> str:
    return f"'{key[1]}'" + (f" of {key[0]}" if key[0] else "")


def align(
    rows_a: Sequence[dict[str, Any]],
    rows_b: Sequence[dict[str, Any]],
    *,
    name_a: str = "A",
    name_b: str = "B",
) -> list[dict[str, Any]]:
    """B's rows in A's order; refuses (UserError) unless both hold the same rows."""
    keys_a = [row_key(r) for r in rows_a]
    by_b = {row_key(r): r for r in rows_b}
    if len(set(keys_a)) != len(keys_a) or len(by_b) != len(rows_b):
        raise UserError(
            f"{name_a} / {name_b}: predictions.jsonl has repeated (source, id) pairs; "
            "re-run `tuneproof eval` with an id column that is unique per file"
        )
    only_a = [k for k in keys_a if k not in by_b]
    only_b = [k for k in by_b if k not in set(keys_a)]
    if only_a or only_b:
        parts = []
        if only_a:
            parts.append(f"{len(only_a)} rows only in {name_a} (e.g. {_show(only_a[0])})")
        if only_b:
            parts.append(f"{len(only_b)} rows only in {name_b} (e.g. {_show(only_b[0])})")
        raise UserError(
            f"{name_a} and {name_b} were evaluated on different data: {'; '.join(parts)}; "
            "evaluate both on the same files (tuneproof eval RUN --data FILE ...)"
        )
    aligned = []
    for ra, key in zip(rows_a, keys_a, strict=True):
        rb = by_b[key]
        for field_name in ("text", "text_pair", "question", "context", "gold"):
            if ra.get(field_name) != rb.get(field_name):
                raise UserError(
                    f"{name_a} and {name_b} were evaluated on different data: row {_show(key)} "
                    f"has a different {field_name} ({_clip(ra.get(field_name))} vs "
                    f"{_clip(rb.get(field_name))}); evaluate both on the same files"
                )
        aligned.append(rb)
    return aligned


def _clip(value: Any, n: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def mcnemar_p(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Exact two-sided McNemar test on the discordant pairs (binomial, p = 0.5)."""
    from scipy.stats import binomtest

    a_only = int(np.sum((correct_a == 1) & (correct_b == 0)))
    b_only = int(np.sum((correct_a == 0) & (correct_b == 1)))
    if a_only + b_only == 0:
        return 1.0
    return float(binomtest(a_only, a_only + b_only, 0.5).pvalue)


def format_p(p: float | None) -> str:
    """A p-value as every output shows it (CLI, report.md, report.html): three significant
    digits, so a tiny p reads ``9.22e-21``, never a rounded ``0.0000``."""
    return "–" if p is None else f"{p:.3g}"


def verdict_of(ci: tuple[float, float] | None, greater_is_better: bool = True) -> Verdict:
    if ci is None:
        return "no evidence"
    lo, hi = ci
    if lo > 0:
        return "improved" if greater_is_better else "regressed"
    if hi < 0:
        return "regressed" if greater_is_better else "improved"
    return "no evidence"


def stored_tags(
    rows_a: Sequence[Mapping[str, Any]], rows_b: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Slice tags for the paired rows, from the runs' stored tags (never recomputed): each
    dimension from one run for every row — A's when A tagged it on any row, else B's — so a
    slice never mixes two runs' membership row by row."""

    def dims(rows: Sequence[Mapping[str, Any]]) -> set[str]:
        return {k for r in rows for k in (r.get("slices") or {})}

    in_a = dims(rows_a)
    from_b = dims(rows_b) - in_a
    out = []
    for ra, rb in zip(rows_a, rows_b, strict=True):
        tags = dict(ra.get("slices") or {})
        tags.update({k: v for k, v in (rb.get("slices") or {}).items() if k in from_b})
        out.append({"slices": tags})
    return out


def compare_rows(
    rows_a: list[dict[str, Any]],
    rows_b: list[dict[str, Any]],
    fn: RowMetricsFn,
    main_metric: str,
    *,
    greater_is_better: bool = True,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> list[SliceDelta]:
    """Paired per-slice deltas of aligned row lists (``rows_b[i]`` is ``rows_a[i]`` under B)."""
    rm_a, rm_b = analyse(rows_a, fn), analyse(rows_b, fn)
    # ``overall`` and the slices are the in-distribution rows (the headline, as metrics.json);
    # each out-of-distribution file is one group of its own, ``ood:<source>``
    inside = [ra.get("in_distribution") is not False for ra in rows_a]
    tagged = [
        t if ok else {"slices": {}}
        for t, ok in zip(stored_tags(rows_a, rows_b), inside, strict=True)
    ]
    ood: dict[str, list[int]] = {}
    for i, (ra, ok) in enumerate(zip(rows_a, inside, strict=True)):
        if not ok:
            ood.setdefault(f"ood:{ra.get('source', '')}", []).append(i)
    groups = {
        "overall": np.flatnonzero(np.asarray(inside, dtype=bool))
        if ood
        else np.arange(len(rows_a)),
        **slice_positions(tagged),
        **{k: np.asarray(v, dtype=np.int64) for k, v in ood.items()},
    }
    out = []
    for key, pos in groups.items():
        pa = numeric(fn([rows_a[i] for i in pos]))
        pb = numeric(fn([rows_b[i] for i in pos]))
        dist_a, dist_b = resample(
            rm_a,
            pos,
            n_resamples,
            rows_rng(seed, pos),
            general_resamples=GENERAL_RESAMPLES,
            others=[rm_b],
        )
        deltas = {}
        for m in pa:
            if m not in pb:
                continue
            da, db = dist_a.get(m, np.empty(0)), dist_b.get(m, np.empty(0))
            k = min(len(da), len(db))  # equal unless A and B resample m by different paths
            diff = da[:k] - db[:k]
            deltas[m] = MetricDelta(
                pa[m], pb[m], pa[m] - pb[m], percentile_interval(diff, confidence)
            )
        if main_metric not in deltas:
            continue
        p = None
        correct = None
        if rm_a.correct is not None and rm_b.correct is not None:
            p = mcnemar_p(rm_a.correct[pos], rm_b.correct[pos])
            correct = rm_a.correct[pos]
        out.append(
            SliceDelta(
                key,
                len(pos),
                main_metric,
                verdict_of(deltas[main_metric].delta_ci, greater_is_better),
                deltas,
                p,
                small_n(len(pos), correct),
            )
        )
    return out


def config_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[ConfigChange]:
    """Changed keys (dotted) between two configs; keys missing on one side show as None."""
    fa, fb = flatten(a), flatten(b)
    return [
        ConfigChange(k, fa.get(k), fb.get(k))
        for k in sorted(set(fa) | set(fb))
        if fa.get(k) != fb.get(k)
    ]


def _read_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Config, prediction rows and metrics of a run, parsed by their run-directory schemas (an
    unknown version or a corrupt file is an error naming it); plain mappings for the diff."""
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: run directory not found")
    pred = run_dir / rundir.PREDICTIONS
    if not pred.is_file():
        raise UserError(f"{run_dir}: no predictions.jsonl; run `tuneproof eval {run_dir}` first")
    if not (run_dir / rundir.CONFIG).is_file():
        raise UserError(f"{run_dir}: no config.yaml, so not a tuneproof run directory")
    config = rundir.read_config(run_dir).to_dict()
    record = rundir.read_optional(run_dir, rundir.Metrics)
    metrics = rundir.dump(record) if record is not None else {}
    rows = [r.model_dump(mode="json", exclude_none=True) for r in rundir.read_predictions(run_dir)]
    if not rows:
        raise UserError(f"{pred}: no prediction rows; re-run `tuneproof eval {run_dir}`")
    return config, rows, metrics


def _same_files(a: Path, ma: dict[str, Any], b: Path, mb: dict[str, Any]) -> None:
    """A readable refusal when the recorded eval files differ (before the row-level check)."""
    da = (ma.get("eval") or {}).get("data", []) + [o["data"] for o in ma.get("ood", {}).values()]
    db = (mb.get("eval") or {}).get("data", []) + [o["data"] for o in mb.get("ood", {}).values()]
    if not da or not db:
        return
    sa = {d.get("sha256"): d.get("name", d.get("path")) for d in da}
    sb = {d.get("sha256"): d.get("name", d.get("path")) for d in db}
    if set(sa) != set(sb):
        miss_b = [sa[h] for h in sa if h not in sb]
        miss_a = [sb[h] for h in sb if h not in sa]
        parts = []
        if miss_b:
            parts.append(f"only {a} used {', '.join(map(str, miss_b))}")
        if miss_a:
            parts.append(f"only {b} used {', '.join(map(str, miss_a))}")
        raise UserError(
            f"{a} and {b} were evaluated on different data ({'; '.join(parts)}, by sha256); "
            "evaluate both on the same files (tuneproof eval RUN --data FILE ...)"
        )


def compare_runs(
    run_a: str | Path,
    run_b: str | Path,
    *,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> Comparison:
    """Compare run A against baseline B on their evaluated predictions (no model is loaded)."""
    from tuneproof.tasks import get_task

    a, b = Path(run_a), Path(run_b)
    cfg_a, rows_a, m_a = _read_run(a)
    cfg_b, rows_b, m_b = _read_run(b)
    task_a, task_b = (
        cfg_a.get("task", "sequence-classification"),
        cfg_b.get("task", "sequence-classification"),
    )
    if task_a != task_b:
        raise UserError(f"{a} is a {task_a} run and {b} a {task_b} run; compare runs of one task")
    _same_files(a, m_a, b, m_b)
    aligned_b = align(rows_a, rows_b, name_a=str(a), name_b=str(b))
    task = get_task(task_a)
    main_metric = str(m_a.get("main_metric") or task.main_metric)  # data-dependent for tagging
    slices = compare_rows(
        rows_a,
        aligned_b,
        task.metrics_from_rows,
        main_metric,
        greater_is_better=task.greater_is_better,
        seed=seed,
        n_resamples=n_resamples,
        confidence=confidence,
    )
    return Comparison(
        run_a=str(a),
        run_b=str(b),
        main_metric=main_metric,
        n_rows=len(rows_a),
        confidence=confidence,
        n_resamples=n_resamples,
        slices=slices,
        config_diff=config_diff(cfg_a, cfg_b),
        seeds=_seed_note_of(a, b),
        suite=suite_diff(a, b),
    )


def _seed_note_of(a: Path, b: Path) -> SeedNote | None:
    ra, rb = rundir.read_optional(a, rundir.Metrics), rundir.read_optional(b, rundir.Metrics)
    return seed_note(ra, rb) if ra is not None else None


@dataclass(frozen=True)
class Flip:
    """A row one run got right and the other wrong (``fixed``: A right, B wrong)."""

    source: str
    id: str
    text: str
    gold: Any
    pred_a: Any
    pred_b: Any
    direction: Literal["fixed", "broken"]


def flipped_rows(run_a: str | Path, run_b: str | Path) -> list[Flip]:
    """The rows whose correctness differs between A and baseline B (same rows as compare_runs)."""
    a, b = Path(run_a), Path(run_b)
    _, rows_a, _ = _read_run(a)
    _, rows_b, _ = _read_run(b)
    out = []
    for ra, rb in zip(rows_a, align(rows_a, rows_b, name_a=str(a), name_b=str(b)), strict=True):
        pa, pb = rundir.PredictionRow.model_validate(ra), rundir.PredictionRow.model_validate(rb)
        if pa.correct == pb.correct:
            continue
        out.append(
            Flip(
                pa.source,
                pa.id,
                pa.display_text,
                pa.gold,
                pa.pred,
                pb.pred,
                "fixed" if pa.correct else "broken",
            )
        )
    return out


@dataclass(frozen=True)
class SeedNote:
    """A run's main metric across seeds against its baseline's (``train --seeds``): a difference
    smaller than the seed-to-seed spread could be another seed, not a better config."""

    metric: str
    run: rundir.SeedStat | None  # None: the run has one seed
    baseline: rundir.SeedStat | None
    delta: float  # run − baseline: means across seeds where there are several
    spread: float  # the larger standard deviation across seeds of the two

    @property
    def within_spread(self) -> bool:
        return abs(self.delta) < self.spread

    def lines(self) -> list[str]:
        out = []
        for who, st in (("run", self.run), ("baseline", self.baseline)):
            if st is not None and st.std is not None:
                ci = (
                    f"; 95 % t-interval {st.interval[0]:.4f} – {st.interval[1]:.4f}"
                    if (st.interval)
                    else ""
                )
                out.append(
                    f"The {who} was trained with {st.n} seeds: {self.metric} mean {st.mean:.4f}, "
                    f"seed-to-seed sd {st.std:.4f}{ci}."
                )
        verdict = (
            f"smaller than the seed-to-seed spread (sd {self.spread:.4f}): another seed could "
            "give it, so it is not evidence the change helped or hurt"
            if self.within_spread
            else f"larger than the seed-to-seed spread (sd {self.spread:.4f})"
        )
        out.append(f"The difference against the baseline ({self.delta:+.4f}) is {verdict}.")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "run": self.run.model_dump(mode="json") if self.run else None,
            "baseline": self.baseline.model_dump(mode="json") if self.baseline else None,
            "delta": self.delta,
            "spread": self.spread,
            "within_spread": self.within_spread,
        }


def seed_note(run: rundir.Metrics, baseline: rundir.Metrics | None) -> SeedNote | None:
    """The seed spread of run and baseline (None when neither has several seeds, or a value is
    missing). Several seeds on one side only: that side's mean against the other's value."""
    if baseline is None:
        return None
    a, b = run.seed_stat, baseline.seed_stat
    if (a is None or a.std is None) and (b is None or b.std is None):
        return None
    metric = run.main_metric
    va = a.mean if a is not None else (run.headline.value if run.headline else None)
    vb = b.mean if b is not None else (baseline.headline.value if baseline.headline else None)
    if va is None or vb is None:
        return None
    spread = max((s.std for s in (a, b) if s is not None and s.std is not None), default=0.0)
    return SeedNote(metric, a, b, va - vb, spread)


@dataclass(frozen=True)
class SuiteDiff:
    """Cases of one suite on a baseline (B) and a run (A): which A fixed, which it broke."""

    suite: str
    fixed: list[str]  # failed on B, pass on A
    broken: list[str]  # passed on B, fail on A
    still_failing: int
    n_common: int
    note: str | None = None  # why the suites could not be paired (different files)

    def to_dict(self) -> dict[str, object]:
        return {
            "suite": self.suite,
            "fixed": self.fixed,
            "newly_broken": self.broken,
            "still_failing": self.still_failing,
            "n_common": self.n_common,
            "note": self.note,
        }


def suite_diff(run_a: str | Path, run_b: str | Path) -> SuiteDiff | None:
    """Pair both runs' ``suite.json`` case by case; None when either run has not replayed one."""
    a = rundir.read_optional(run_a, rundir.SuiteResults)
    b = rundir.read_optional(run_b, rundir.SuiteResults)
    if a is None or b is None:
        return None
    if a.suite_sha256 != b.suite_sha256:
        return SuiteDiff(
            a.suite, [], [], 0, 0,
            note=f"the runs replayed different suites ({a.suite} vs {b.suite}); replay one "
            "suite on both with `tuneproof eval RUN --suite FILE`",
        )  # fmt: skip
    on_b = {c.id: c.passed for c in b.cases}
    common = [c for c in a.cases if c.id in on_b]
    fixed = [c.id for c in common if c.passed and not on_b[c.id]]
    broken = [c.id for c in common if not c.passed and on_b[c.id]]
    still = sum(1 for c in common if not c.passed and not on_b[c.id])
    return SuiteDiff(a.suite, fixed, broken, still, len(common))
