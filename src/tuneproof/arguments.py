"""RunConfig.training → ``TrainingArguments`` keyword arguments (a pure mapping, easy to print),
and the learning rates that suit each strategy.

Kept pure so `tuneproof args snippet` can show the exact Python the run uses, and `tuneproof args
lint` lints exactly what the run would pass (``validate=False``: it reports those problems itself,
all at once). The learning-rate table is read by the linter, `args explain`, `plan --emit-config`
and the starter configs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneproof.config import RunConfig
from tuneproof.errors import UserError


def _rate(x: float) -> str:
    return f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e")


@dataclass(frozen=True)
class LearningRates:
    """Learning rates that work for fine-tuning a pretrained transformer with one family of
    strategies: below ``low`` the model hardly changes, above ``high`` pretrained features are
    overwritten (or, for adapters, training diverges); ``typical`` is where to look first, and
    ``start`` the rate to begin with under 200 M, under 1 B and above 1 B parameters."""

    low: float
    high: float
    typical: tuple[float, float]
    start: tuple[float, float, float]
    why_low: str

    @property
    def typical_text(self) -> str:
        return f"{_rate(self.typical[0])} .. {_rate(self.typical[1])}"

    @property
    def start_text(self) -> str:
        a, b, c = (_rate(x) for x in self.start)
        return f"start at {a} under 200 M parameters, {b} under 1 B, {c} above"

    def start_for(self, total_params: int) -> float:
        return (
            self.start[0]
            if total_params < 200e6
            else self.start[1]
            if total_params < 1e9
            else self.start[2]
        )


_FULL = LearningRates(1e-6, 1e-4, (2e-5, 5e-5), (5e-5, 2e-5, 1e-5), "the model will hardly change")
_ADAPTER = LearningRates(
    5e-5, 5e-3, (1e-4, 1e-3), (1e-3, 5e-4, 2e-4), "LoRA's B matrix starts at zero and barely moves"
)
#: ``strategy.kind`` -> its learning rates (adapters start at zero and need ~10x more).
LR_GUIDANCE: dict[str, LearningRates] = {
    "full": _FULL,
    "freeze": _FULL,
    "progressive": _FULL,
    "lora": _ADAPTER,
    "qlora": _ADAPTER,
    "prune": _FULL,  # the remaining layers are fine-tuned in full
    "distill": _FULL,  # the student is fine-tuned in full on soft + gold labels
}


def training_kwargs(
    config: RunConfig,
    output_dir: str | Path,
    *,
    main_metric: str,
    greater_is_better: bool,
    validate: bool = True,
) -> dict[str, Any]:
    """The ``TrainingArguments`` keyword arguments of a run. ``validate=False`` skips the two
    checks that raise (save_steps a multiple of eval_steps, fp16 on a CUDA GPU): the linter
    reports them as findings beside the rest."""
    t = config.training
    evaluates = t.eval_strategy != "no"
    save = t.save_strategy
    # Keeping the best checkpoint needs saves aligned with evaluations.
    load_best = evaluates and save in (t.eval_strategy, "best")
    if validate and load_best and save == "steps" and t.eval_strategy == "steps":
        assert t.save_steps is not None and t.eval_steps is not None
        if t.save_steps % t.eval_steps != 0:
            raise UserError(
                f"training.save_steps ({t.save_steps}) must be a multiple of eval_steps "
                f"({t.eval_steps}) to keep the best checkpoint"
            )
    if validate and t.precision == "fp16":
        import torch

        if not torch.cuda.is_available():
            raise UserError("training.precision fp16 needs a CUDA GPU; use fp32 (or bf16) on CPU")
    kwargs: dict[str, Any] = {
        "output_dir": str(output_dir),
        "num_train_epochs": t.epochs,
        "max_steps": t.max_steps,
        "per_device_train_batch_size": t.batch_size,
        "per_device_eval_batch_size": t.eval_batch_size,
        "gradient_accumulation_steps": t.gradient_accumulation_steps,
        "learning_rate": t.learning_rate,
        "lr_scheduler_type": t.lr_scheduler,
        "warmup_steps": t.warmup if t.warmup < 1 else int(t.warmup),
        "weight_decay": t.weight_decay,
        "max_grad_norm": t.max_grad_norm,
        "eval_strategy": t.eval_strategy,
        "save_strategy": save,
        "save_total_limit": t.save_total_limit,
        "logging_steps": t.logging_steps,
        "load_best_model_at_end": load_best,
        "metric_for_best_model": (t.metric_for_best_model or main_metric) if evaluates else None,
        "greater_is_better": greater_is_better if evaluates else None,
        "seed": t.seed,
        "data_seed": t.seed,
        "fp16": t.precision == "fp16",
        "bf16": t.precision == "bf16",
        # tuneproof logs to MLflow itself (one run per run directory); W&B and TensorBoard are
        # the Trainer's own integrations, passed through
        "report_to": [r for r in config.tracking.report_to if r != "mlflow"] or "none",
        "disable_tqdm": True,  # a rich progress bar replaces tqdm
        "dataloader_pin_memory": _has_cuda(),
        "include_num_input_tokens_seen": "non_padding",  # tokens/s in manifest.json
    }
    if _world_size() > 1:
        # transformers multiplies the loss by the number of processes when a model takes loss
        # kwargs, expecting it to divide by the global item count; the task heads here (and most
        # models) take a mean per process, so the loss (logged, clipped) would be N times too big
        kwargs["average_tokens_across_devices"] = False
    if _world_size() > 1 and not _has_cuda():
        # torchrun / accelerate launch on CPU: without use_cpu accelerate sees no distributed
        # setup and every process would train alone on all the data (gloo is the CPU backend)
        kwargs |= {"use_cpu": True, "ddp_backend": "gloo"}
    if t.sampling != "random":  # transformers' default; only a change is written out
        kwargs["train_sampling_strategy"] = t.sampling
    if t.fsdp:
        kwargs["fsdp"] = t.fsdp
        if t.fsdp_config:
            kwargs["fsdp_config"] = t.fsdp_config
    if t.gradient_checkpointing:
        kwargs["activation_checkpointing"] = True
    if t.eval_steps is not None:
        kwargs["eval_steps"] = t.eval_steps
    if t.save_steps is not None:
        kwargs["save_steps"] = t.save_steps
    return kwargs


def _world_size() -> int:
    import os

    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def _has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())
