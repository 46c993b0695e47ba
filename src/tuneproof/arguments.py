"""RunConfig.training → ``TrainingArguments`` keyword arguments (a pure mapping, easy to print).

Kept pure so `tuneproof args snippet` can show the exact Python the run uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneproof.config import RunConfig
from tuneproof.errors import UserError


def training_kwargs(
    config: RunConfig, output_dir: str | Path, *, main_metric: str, greater_is_better: bool
) -> dict[str, Any]:
    t = config.training
    evaluates = t.eval_strategy != "no"
    save = t.save_strategy
    # Keeping the best checkpoint needs saves aligned with evaluations.
    load_best = evaluates and save in (t.eval_strategy, "best")
    if load_best and save == "steps" and t.eval_strategy == "steps":
        assert t.save_steps is not None and t.eval_steps is not None
        if t.save_steps % t.eval_steps != 0:
            raise UserError(
                f"training.save_steps ({t.save_steps}) must be a multiple of eval_steps "
                f"({t.eval_steps}) to keep the best checkpoint"
            )
    if t.precision == "fp16":
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
        "report_to": "none",  # tuneproof logs to MLflow itself, once, after the run
        "disable_tqdm": True,  # a rich progress bar replaces tqdm
        "dataloader_pin_memory": _has_cuda(),
        "include_num_input_tokens_seen": "non_padding",  # tokens/s in manifest.json
    }
    if t.gradient_checkpointing:
        kwargs["activation_checkpointing"] = True
    if t.eval_steps is not None:
        kwargs["eval_steps"] = t.eval_steps
    if t.save_steps is not None:
        kwargs["save_steps"] = t.save_steps
    return kwargs


def _has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())
