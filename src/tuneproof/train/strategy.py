"""Apply a fine-tuning strategy to a model: what is trainable, and how many parameters that is.

Layer discovery is generic (the largest ``ModuleList`` of transformer blocks), so freezing works
for BERT-style encoders (``encoder.layer``) and decoder LMs (``model.layers``) alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuneproof.errors import UserError

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


def count_params(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameters, counting each shared tensor once."""
    seen: set[int] = set()
    trainable = total = 0
    for p in model.parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return trainable, total


def find_layers(model: nn.Module) -> tuple[str, nn.ModuleList]:
    """The transformer block list: the longest ``ModuleList`` (ties: the first found)."""
    from torch import nn

    best: tuple[str, nn.ModuleList] | None = None
    for name, module in model.named_modules():
        if (
            isinstance(module, nn.ModuleList)
            and len(module) > 0
            and (best is None or len(module) > len(best[1]))
        ):
            best = (name, module)
    if best is None:
        raise UserError(f"{type(model).__name__}: no layer list found; use strategy.kind: full")
    return best


def find_embeddings(model: nn.Module, layers_name: str) -> nn.Module:
    """The embeddings block beside the layers (``embeddings`` in BERT), else the input embeddings."""
    parent_name = layers_name.rsplit(".", 2)[0] if layers_name.count(".") >= 2 else ""
    for name, module in model.named_modules():
        if (
            name.endswith("embeddings")
            and not name.endswith("word_embeddings")
            and name.startswith(parent_name)
            and "." in name
        ):
            return module
    getter = getattr(model, "get_input_embeddings", None)
    emb = getter() if callable(getter) else None
    if emb is None:
        raise UserError(f"{type(model).__name__}: no embeddings found to freeze")
    return emb  # type: ignore[no-any-return]


def freeze_bottom(model: nn.Module, n_layers: int, embeddings: bool) -> str:
    layers_name, layers = find_layers(model)
    if n_layers > len(layers):
        raise UserError(
            f"strategy.freeze_layers: {n_layers} is more than the model's {len(layers)} layers"
        )
    for layer in list(layers)[:n_layers]:
        for p in layer.parameters():
            p.requires_grad = False
    if embeddings:
        for p in find_embeddings(model, layers_name).parameters():
            p.requires_grad = False
    emb = " and the embeddings" if embeddings else ""
    return f"bottom {n_layers} of {len(layers)} layers ({layers_name}){emb} frozen"


def apply_strategy(
    model: nn.Module, strategy: StrategyConfig, task: str
) -> tuple[Any, StrategyInfo]:
    """Return the model to train (possibly PEFT-wrapped) and what is trainable."""
    detail = "all parameters trainable"
    if strategy.kind == "qlora":
        import torch

        if not torch.cuda.is_available():
            raise UserError(
                "strategy.kind qlora needs a CUDA GPU (4-bit bitsandbytes kernels); "
                "on CPU use strategy.kind: lora"
            )
    if strategy.kind in ("freeze",):
        detail = freeze_bottom(model, strategy.freeze_layers, strategy.freeze_embeddings)
    elif strategy.kind in ("lora", "qlora"):
        model, detail = _wrap_lora(model, strategy, task)
    trainable, total = count_params(model)
    return model, StrategyInfo(strategy.kind, trainable, total, detail)


PEFT_TASK_TYPES = {
    "sequence-classification": "SEQ_CLS",
    "similarity": "SEQ_CLS",
    "token-classification": "TOKEN_CLS",
    "extractive-qa": "QUESTION_ANS",
    "summarization": "CAUSAL_LM",
}


def linear_module_names(model: nn.Module) -> list[str]:
    """Distinct leaf names of Linear layers (what LoRA ``target_modules`` can name)."""
    from torch import nn

    return sorted(
        {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    )


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
        task_type=PEFT_TASK_TYPES.get(task),
    )
    wrapped = get_peft_model(model, config)  # type: ignore[arg-type]
    shown = targets if isinstance(targets, str) else ",".join(targets)
    return wrapped, f"LoRA r={lc.r} alpha={lc.alpha} dropout={lc.dropout} on {shown}"
