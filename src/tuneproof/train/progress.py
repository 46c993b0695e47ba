"""A rich progress bar for the Trainer (replaces tqdm) that shows loss and eval metrics.

With a ``run_dir`` it also keeps ``progress.json`` (``rundir.Progress``) up to date, written
atomically at most every ``PROGRESS_EVERY_S`` seconds and on every log, so the web app can show
live progress from the run directory alone.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from transformers import TrainerCallback

from tuneproof import rundir

PROGRESS_EVERY_S = 1.0


class RichProgressCallback(TrainerCallback):
    def __init__(self, console: Console | None = None, run_dir: str | Path | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress: Progress | None = None
        self.task: Any = None
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.record = rundir.Progress()
        self._t0 = self._written = 0.0
        self._step0 = 0

    def _save(self, state: Any, *, force: bool = False, **changes: Any) -> None:
        """Update progress.json (throttled unless ``force``); only the main process writes."""
        if self.run_dir is None or not state.is_world_process_zero:
            return
        now = time.monotonic()
        elapsed = now - self._t0
        done = state.global_step - self._step0
        left = state.max_steps - state.global_step
        eta = elapsed / done * left if done > 0 else None
        self.record = self.record.model_copy(
            update={
                "step": state.global_step,
                "max_steps": state.max_steps,
                "epoch": state.epoch,
                "elapsed_s": round(elapsed, 2),
                "eta_s": None if eta is None else round(eta, 2),
                "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                **changes,
            }
        )
        if force or now - self._written >= PROGRESS_EVERY_S:
            rundir.write(self.run_dir, self.record)
            self._written = now

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        self.progress = Progress(
            TextColumn("[bold]train[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=self.console,
            transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task("", total=state.max_steps, completed=state.global_step)
        self._t0, self._step0 = time.monotonic(), state.global_step
        self._save(state, force=True)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step)
        self._save(state)

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if self.progress is None or not logs:
            return
        if "loss" in logs:
            self.progress.update(self.task, description=f"loss {logs['loss']:.4f}")
        evals = {
            k: v
            for k, v in logs.items()
            if k.startswith("eval_") and "runtime" not in k and "per_second" not in k
        }
        changes: dict[str, Any] = {}
        if isinstance(logs.get("loss"), (int, float)):
            changes["loss"] = float(logs["loss"])
        if evals:
            changes["eval"] = {k[5:]: float(v) for k, v in evals.items() if isinstance(v, float)}
        self._save(state, force=True, **changes)
        if evals:
            shown = "  ".join(f"{k[5:]} {v:.4f}" for k, v in evals.items() if isinstance(v, float))
            self.progress.console.print(
                f"  epoch {state.epoch:.2f} step {state.global_step}: {shown}"
            )

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._save(state, force=True, phase="evaluate", eta_s=None)
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
