"""Apply a fine-tuning strategy to a model: what is trainable, and how many parameters that is.

Layer discovery is generic (the largest ``ModuleList`` of transformer blocks), so freezing works
for BERT-style encoders (``encoder.layer``) and decoder LMs (``model.layers``) alike.

The strategy touches three moments of a run, each a plain function here:
``check_strategy_available`` before anything is loaded (qlora needs CUDA and bitsandbytes),
``base_model_kwargs`` when the task adapter loads the base model (dtype, 4-bit quantisation), and
``apply_strategy`` on the loaded model (freezing, LoRA wrapping, the progressive schedule; the
callback that executes that schedule is ``tuneproof.train.progressive``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuneproof.errors import UserError
from tuneproof.modeling import (
    check_strategy_available,
    count_params,
    drop_layers,
    freeze_bottom,
    layer_groups,
    linear_module_names,
)
from tuneproof.tasks import get_task

if TYPE_CHECKING:
    from torch import nn

    from tuneproof.config import StrategyConfig


@dataclass(frozen=True)
class StrategyInfo:
    kind: str
    trainable_params: int
    total_params: int
    detail: str

    @property
    def trainable_percent(self) -> float:
        return 100.0 * self.trainable_params / max(self.total_params, 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "trainable_params": self.trainable_params,
            "total_params": self.total_params,
            "trainable_percent": round(self.trainable_percent, 4),
            "detail": self.detail,
        }


def apply_strategy(
    model: nn.Module,
    strategy: StrategyConfig,
    task: str,
    *,
    gradient_checkpointing: bool = False,
) -> tuple[Any, StrategyInfo]:
    """Return the model to train (possibly PEFT-wrapped) and what is trainable.

    For ``progressive`` every parameter stays trainable here so the optimizer holds them all;
    the callback freezes all but the head when training starts and unfreezes group by group
    (a parameter frozen when the optimizer is built would never be updated). The reported
    trainable count is the first stage's.
    """
    detail = "all parameters trainable"
    if strategy.kind == "qlora":
        check_strategy_available(strategy)
    if strategy.kind == "freeze":
        detail = freeze_bottom(model, strategy.freeze_layers, strategy.freeze_embeddings)
    elif strategy.kind == "progressive":
        groups = layer_groups(model)
        every = (
            "each epoch"
            if strategy.unfreeze_every == "epoch"
            else f"every {strategy.unfreeze_every} steps"
        )
        detail = (
            f"progressive: {groups[0].name} first, then one more of {len(groups) - 1} groups "
            f"(top layer down to {groups[-1].name}) {every}"
        )
        trainable, total = groups[0].params, count_params(model)[1]
        return model, StrategyInfo(strategy.kind, trainable, total, detail)
    elif strategy.kind == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=gradient_checkpointing
        )
        model, detail = _wrap_lora(model, strategy, task)
        detail = "4-bit NF4 base (double quantisation, bf16 compute); " + detail
    elif strategy.kind == "lora":
        model, detail = _wrap_lora(model, strategy, task)
    elif strategy.kind == "prune":
        detail = drop_layers(model, strategy.drop_layers) + "; all remaining parameters trainable"
    elif strategy.kind == "distill":
        detail = (
            f"distilled from {strategy.teacher} (T={strategy.temperature}, "
            f"alpha={strategy.alpha}: loss = (1-alpha)·CE + alpha·T²·KL)"
        )
    trainable, total = count_params(model)
    return model, StrategyInfo(strategy.kind, trainable, total, detail)


def progressive_stage(strategy: StrategyConfig, global_step: int, epoch: float) -> int:
    """How many groups after the head are unfrozen at this point of training (pure; resume
    recomputes the same stage from the restored step and epoch)."""
    if strategy.unfreeze_every == "epoch":
        return int(epoch + 1e-9)
    return global_step // int(strategy.unfreeze_every)


def _wrap_lora(model: nn.Module, strategy: StrategyConfig, task: str) -> tuple[Any, str]:
    from peft import LoraConfig, get_peft_model

    lc = strategy.lora
    targets = lc.target_modules
    if targets != "all-linear":
        known = linear_module_names(model)
        missing = [t for t in targets if t not in known]
        if missing:
            raise UserError(
                f"strategy.lora.target_modules: {missing} not in the model; linear modules are: "
                f"{', '.join(known)}"
            )
    config = LoraConfig(
        r=lc.r,
        lora_alpha=lc.alpha,
        lora_dropout=lc.dropout,
        target_modules=targets,
        bias=lc.bias,
        task_type=get_task(task).peft_task_type,
    )
    wrapped = get_peft_model(model, config)  # type: ignore[arg-type]
    shown = targets if isinstance(targets, str) else ",".join(targets)
    return wrapped, f"LoRA r={lc.r} alpha={lc.alpha} dropout={lc.dropout} on {shown}"
