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

if TYPE_CHECKING:
    from torch import nn

    from tuneproof.config import RunConfig, StrategyConfig

QLORA_ON_CPU = "strategy.kind qlora needs a CUDA GPU (4-bit bitsandbytes kernels); on CPU use strategy.kind: lora"
# Task heads stay in full precision under 4-bit quantisation: they are small, new and trained.
HEAD_MODULES = ["classifier", "score", "qa_outputs", "lm_head"]


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


def check_strategy_available(strategy: StrategyConfig) -> None:
    """Fail before any data or weights are loaded when the strategy cannot run here."""
    if strategy.kind != "qlora":
        return
    import torch

    if not torch.cuda.is_available():
        raise UserError(QLORA_ON_CPU)
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        raise UserError(
            "strategy.kind qlora needs the bitsandbytes package: pip install bitsandbytes "
            "(or use strategy.kind: lora)"
        )


def base_model_kwargs(config: RunConfig) -> dict[str, Any]:
    """Extra ``from_pretrained`` arguments the strategy needs when the base model is loaded.

    LoRA never updates the base weights, so with ``precision: bf16|fp16`` the base is loaded in
    that dtype (half the memory); full fine-tuning keeps fp32 master weights (mixed precision).
    QLoRA loads the base in 4-bit NF4 with double quantisation and bf16 compute.
    """
    import torch

    kind = config.strategy.kind
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(config.training.precision)
    if kind == "qlora":
        from transformers import BitsAndBytesConfig

        check_strategy_available(config.strategy)
        return {
            "quantization_config": BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=torch.bfloat16,
                llm_int8_skip_modules=HEAD_MODULES,
            ),
            "dtype": dtype or torch.bfloat16,
            "device_map": {"": torch.cuda.current_device()},
        }
    if kind == "lora" and dtype is not None:
        return {"dtype": dtype}
    return {}


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
    trainable, total = count_params(model)
    return model, StrategyInfo(strategy.kind, trainable, total, detail)


@dataclass(frozen=True)
class LayerGroup:
    """Parameters unfrozen together by ``progressive``, with a name for the run log."""

    name: str
    names: tuple[str, ...]  # parameter names, as in ``model.named_parameters()``
    params: int  # element count (shared tensors once)


def layer_groups(model: nn.Module) -> list[LayerGroup]:
    """Unfreezing order: the head (everything outside the layers and the embeddings), then the
    transformer layers from the top down, then the embeddings."""
    layers_name, layers = find_layers(model)
    try:
        emb_prefix = next(
            n for n, m in model.named_modules() if m is find_embeddings(model, layers_name)
        )
    except (UserError, StopIteration):
        emb_prefix = None
    buckets: dict[str, list[str]] = {"head": []}
    order = [f"{layers_name}.{i}" for i in reversed(range(len(layers)))]
    for key in order:
        buckets[key] = []
    if emb_prefix:
        buckets[emb_prefix] = []
    seen: set[int] = set()
    sizes: dict[str, int] = dict.fromkeys(buckets, 0)
    for name, p in model.named_parameters():
        key = "head"
        if name.startswith(layers_name + "."):
            key = ".".join(name.split(".")[: layers_name.count(".") + 2])
        elif emb_prefix and name.startswith(emb_prefix + "."):
            key = emb_prefix
        buckets[key].append(name)
        if id(p) not in seen:
            seen.add(id(p))
            sizes[key] += p.numel()
    return [LayerGroup(k, tuple(v), sizes[k]) for k, v in buckets.items() if v]


def progressive_stage(strategy: StrategyConfig, global_step: int, epoch: float) -> int:
    """How many groups after the head are unfrozen at this point of training (pure; resume
    recomputes the same stage from the restored step and epoch)."""
    if strategy.unfreeze_every == "epoch":
        return int(epoch + 1e-9)
    return global_step // int(strategy.unfreeze_every)


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
