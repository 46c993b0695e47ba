"""Progressive unfreezing as a ``TrainerCallback``: head first, then one layer group at a time.

The schedule is a pure function of (global step, epoch) (``strategy.progressive_stage``), so a
resumed run freezes exactly what the uninterrupted run had frozen at that step. Every change is
printed to the run's console and kept in :attr:`ProgressiveUnfreezing.schedule`, which
``metrics.json`` records under ``training.progressive``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from transformers import TrainerCallback

from tuneproof.modeling import LayerGroup, layer_groups
from tuneproof.train.strategy import progressive_stage

if TYPE_CHECKING:
    from rich.console import Console
    from torch import nn

    from tuneproof.config import StrategyConfig


class ProgressiveUnfreezing(TrainerCallback):
    def __init__(
        self, model: nn.Module, strategy: StrategyConfig, console: Console | None = None
    ) -> None:
        self.model = model
        self.strategy = strategy
        self.console = console
        self.groups: list[LayerGroup] = layer_groups(model)
        self.stage = -1  # nothing applied yet
        self.updates_per_epoch = 1
        self.schedule: list[dict[str, Any]] = []

    def _entry(self, stage: int, step: int) -> dict[str, Any]:
        # The epoch is derived from the step (not read from the live state) so a resumed run,
        # which rebuilds the earlier entries, records exactly what an uninterrupted one does.
        return {
            "step": step,
            "epoch": round(step / self.updates_per_epoch, 4),
            "unfrozen": self.groups[stage].name,
            "trainable_groups": stage + 1,
            "trainable_params": sum(g.params for g in self.groups[: stage + 1]),
        }

    def _stage_start(self, stage: int) -> int:
        """The global step at which ``stage`` begins: every stage starts on a step or epoch
        boundary, so a resumed run rebuilds the entries of an uninterrupted one exactly."""
        every = self.strategy.unfreeze_every
        return stage * (self.updates_per_epoch if every == "epoch" else int(every))

    def _apply(self, state: Any) -> None:
        stage = min(
            progressive_stage(self.strategy, state.global_step, state.epoch or 0.0),
            len(self.groups) - 1,
        )
        if stage == self.stage:
            return
        open_names = {n for g in self.groups[: stage + 1] for n in g.names}
        for name, p in self.model.named_parameters():
            p.requires_grad = name in open_names
        for s in range(self.stage + 1, stage + 1):
            entry = self._entry(s, self._stage_start(s))
            self.schedule.append(entry)
            if self.console is not None:
                self.console.print(
                    f"  progressive: step {entry['step']} (epoch {entry['epoch']:.2f}): "
                    f"unfroze {entry['unfrozen']} -> {entry['trainable_params']:,} trainable "
                    f"parameters ({s + 1}/{len(self.groups)} groups)"
                )
        self.stage = stage

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        loader = kwargs.get("train_dataloader")
        if loader is not None:
            ga = max(int(args.gradient_accumulation_steps), 1)
            self.updates_per_epoch = max(len(loader) // ga + int(len(loader) % ga > 0), 1)
        self._apply(state)  # the optimizer already holds every parameter; now freeze

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._apply(state)

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._apply(state)

    def to_dict(self) -> dict[str, Any]:
        return {
            "unfreeze_every": self.strategy.unfreeze_every,
            "groups": [{"name": g.name, "params": g.params} for g in self.groups],
            "schedule": self.schedule,
        }
