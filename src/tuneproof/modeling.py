"""Model-level facts that tasks, plan and train share: where the transformer blocks and the
embeddings are, how many parameters are trainable, and what a strategy needs when the base model
is loaded (dtype, 4-bit quantisation).

Layer discovery is generic (the largest ``ModuleList`` of transformer blocks), so it works for
BERT-style encoders (``encoder.layer``) and decoder LMs (``model.layers``) alike.
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


def linear_module_names(model: nn.Module) -> list[str]:
    """Distinct leaf names of Linear layers (what LoRA ``target_modules`` can name)."""
    from torch import nn

    return sorted(
        {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    )


def drop_layers(model: nn.Module, indices: list[int]) -> str:
    """Remove transformer blocks before fine-tuning (layer pruning, DistilBERT-style); the model
    config's layer count follows, so the saved model reloads with the smaller depth."""
    from torch import nn

    name, layers = find_layers(model)
    bad = [i for i in indices if not 0 <= i < len(layers)]
    if bad:
        raise UserError(
            f"strategy.drop_layers: {bad} out of range; the model has layers 0..{len(layers) - 1}"
        )
    if len(set(indices)) >= len(layers):
        raise UserError("strategy.drop_layers: keep at least one layer")
    kept = nn.ModuleList(layer for i, layer in enumerate(layers) if i not in set(indices))
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, kept)
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "num_hidden_layers"):
        cfg.num_hidden_layers = len(kept)
    return f"pruned {len(set(indices))} of {len(layers)} layers ({name}); {len(kept)} kept"
