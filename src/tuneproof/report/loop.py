"""Plan vs. run: the TrainingArguments lint of the resolved arguments (``lint.json``) and the
planner's memory estimate beside the measured peak (``manifest.json`` ``resources``).

Read through :mod:`tuneproof.rundir` as written by ``tuneproof train``; a run from before these
files existed has neither, and the report says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tuneproof import rundir
from tuneproof.plan.memory import format_bytes

_KINDS = {
    "cuda": "torch.cuda.max_memory_allocated over the training loop",
    "rss": "peak RSS of the process: includes loading and Python itself",
}


@dataclass(frozen=True)
class PlanLoop:
    lint: tuple[rundir.LintFinding, ...] | None  # None: no lint.json
    estimate: str | None  # "1.05 GiB (full, batch 32, 128 tokens; ...)" or why there is none
    measured: str | None  # "812 MiB (peak RSS ...)"
    ratio: float | None  # measured / estimate
    tokens_per_second: float | None


def plan_loop(run_dir: Path) -> PlanLoop | None:
    """What the run recorded about its plan, or None when it recorded nothing of it."""
    lint = rundir.read_optional(run_dir, rundir.Lint)
    manifest = rundir.read_optional(run_dir, rundir.Manifest)
    res = manifest.resources if manifest is not None else None
    if lint is None and res is None:
        return None
    res = res or rundir.Resources()
    est, meas = res.estimated_peak_bytes, res.peak_memory_bytes
    estimate = res.estimate_note
    if est:
        estimate = f"{format_bytes(est)} ({res.estimate_note})"
    measured = None
    if meas:
        measured = f"{format_bytes(meas)} ({_KINDS.get(res.peak_memory_kind or '', '?')})"
    return PlanLoop(
        lint=tuple(lint.findings) if lint is not None else None,
        estimate=estimate,
        measured=measured,
        ratio=meas / est if est and meas else None,
        tokens_per_second=res.tokens_per_second,
    )
