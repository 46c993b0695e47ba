"""Measured figures of a training run (peak memory, tokens/s) for ``manifest.json``.

The planner estimates memory before a run; these are what the run actually used, so the report
can set one beside the other. Timing figures live in the manifest, never in metrics.json (which
must be byte-identical for the same config).
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Any, Literal

from transformers import TrainerCallback

from tuneproof import rundir


class Measure(TrainerCallback):
    """Tokens seen (non-padding, via ``include_num_input_tokens_seen``) and wall time of the
    training loop, and the peak memory: CUDA ``max_memory_allocated`` on a GPU (reset at the start
    of training, so it is the training peak with the weights resident), else the process's peak
    RSS (``ru_maxrss``: KiB on Linux, bytes on macOS; it includes loading and cannot be reset)."""

    def __init__(self) -> None:
        self.t0: float | None = None
        self.seconds: float | None = None
        self.tokens0 = 0
        self.tokens: int | None = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        self.tokens0 = int(state.num_input_tokens_seen or 0)
        self.t0 = time.perf_counter()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.t0 is not None:
            self.seconds = time.perf_counter() - self.t0
        self.tokens = int(state.num_input_tokens_seen or 0)

    def resources(self, estimate: rundir.Resources | None = None) -> rundir.Resources:
        """The measured figures, beside the planner's ``estimate`` (kept as it was)."""
        peak, kind = peak_memory()
        session = (self.tokens or 0) - self.tokens0
        rate = (
            round(session / self.seconds, 1) if self.seconds and self.tokens is not None else None
        )
        base = estimate.model_dump() if estimate is not None else {}
        return rundir.Resources.model_validate(
            {
                **base,
                "peak_memory_bytes": peak,
                "peak_memory_kind": kind,
                "tokens_per_second": rate,
                "train_tokens": self.tokens,
            }
        )


def peak_memory() -> tuple[int, Literal["cuda", "rss"]]:
    """The peak in bytes and what it is: ``cuda`` (``torch.cuda.max_memory_allocated`` over the
    training loop) or ``rss`` (the process's peak resident set, ``ru_maxrss``)."""
    import torch

    if torch.cuda.is_available():
        return int(torch.cuda.max_memory_allocated()), "cuda"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1 if sys.platform == "darwin" else 1024  # KiB on Linux, bytes on macOS
    return int(rss * scale), "rss"
