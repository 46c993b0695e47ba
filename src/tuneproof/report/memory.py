"""Planned vs. measured: the planner's peak-memory estimate beside the peak the run measured, and
its tokens/s (``manifest.json`` ``resources``, written by ``tuneproof train``).

A run from before these figures existed has none, and the report says so instead of guessing.
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
class MemoryFigures:
    estimate: str | None  # "1.05 GiB (full, batch 32, 128 tokens; ...)" or why there is none
    measured: str | None  # "812 MiB (peak RSS ...)"; None when the run did not complete
    ratio: float | None  # measured / estimate
    tokens_per_second: float | None


def memory_figures(run_dir: Path) -> MemoryFigures | None:
    """The run's recorded resources, or None when its manifest has none."""
    manifest = rundir.read_optional(run_dir, rundir.Manifest)
    res = manifest.resources if manifest is not None else None
    if res is None:
        return None
    est, meas = res.estimated_peak_bytes, res.peak_memory_bytes
    estimate = f"{format_bytes(est)} ({res.estimate_note})" if est else res.estimate_note
    measured = None
    if meas:
        measured = f"{format_bytes(meas)} ({_KINDS.get(res.peak_memory_kind or '', '?')})"
    return MemoryFigures(
        estimate=estimate,
        measured=measured,
        ratio=meas / est if est and meas else None,
        tokens_per_second=res.tokens_per_second,
    )
