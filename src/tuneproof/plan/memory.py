"""Training memory: weights, gradients, optimizer state and activations, per strategy.

Two measured inputs feed pure arithmetic:

* :class:`ParamInventory` — parameter counts by role (all, the ``Linear`` weights bitsandbytes
  would quantize, the trainable ones after PEFT), read from a model built on the meta device;
* :class:`ActivationProfile` — the bytes autograd keeps for the backward pass, traced by running
  the forward pass on meta tensors with ``saved_tensors_hooks``. This is the real saved-tensor set
  of the installed transformers/PEFT code (frozen base layers save less, dropout saves masks, ...),
  not a rule of thumb, and it costs no memory, so a 70B config traces on a laptop. Attention is
  traced as a fused kernel (FlashAttention / memory-efficient SDPA, what a GPU runs): it keeps
  q, k, v, the output and a log-sum-exp, never the ``seq x seq`` score matrix. Some forward
  passes cannot run on meta tensors (DeBERTa-v2 reads tensor values, MoE routing under
  autocast); then the activation bytes are ``None`` with the reason, and everything that does not
  depend on them (parameters, weights, gradients, optimizer state) is still exact.

Byte rules follow Hugging Face's "model memory anatomy" guide: AdamW keeps two fp32 states per
trainable parameter (8 B), gradients are fp32, and mixed-precision full fine-tuning keeps fp32
master weights plus a 16-bit working copy (6 B/param). LoRA adapters stay fp32 (PEFT upcasts
them) over a frozen base stored at ``bits``; QLoRA stores the quantizable ``Linear`` weights as
NF4 with double quantization (0.5 B + ~0.016 B of constants per weight) and the rest in 16 bit.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from tuneproof.errors import UserError

if TYPE_CHECKING:
    import torch
    from torch import nn

Precision = Literal["fp32", "bf16", "fp16"]
PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "fp16")
BITS: tuple[int, ...] = (32, 16, 8, 4)

ADAMW_STATE_BYTES = 8  # exp_avg + exp_avg_sq, fp32
ADAPTER_BYTES = 4  # PEFT keeps LoRA A/B in fp32 (autocast_adapter_dtype=True)
NF4_BLOCK = 64  # bitsandbytes 4-bit block size (one absmax per 64 weights)
NF4_DOUBLE_QUANT_BLOCK = 256  # absmaxes are themselves quantized to 8 bit in blocks of 256
NF4_BYTES_PER_WEIGHT = 0.5 + 1 / NF4_BLOCK + 4 / (NF4_BLOCK * NF4_DOUBLE_QUANT_BLOCK)
INT8_SCALE_BYTES = 4  # LLM.int8 keeps one fp32 scale per output row
GIB = 1024**3
ESTIMATE_ATTENTION = "tuneproof_fused_estimate"


@dataclass(frozen=True)
class ParamInventory:
    """Parameter counts of a base model by the role that decides their bytes."""

    total: int  # every parameter, shared (tied) tensors once
    quantizable: int  # Linear weights that bitsandbytes would quantize (not head/output emb.)
    quantizable_rows: int  # their output rows (int8 keeps one scale per row)

    def to_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "quantizable": self.quantizable,
            "quantizable_rows": self.quantizable_rows,
        }


@dataclass(frozen=True)
class TrainableInventory:
    """What a PEFT-wrapped model trains: LoRA matrices (fp32) and copied modules (base dtype)."""

    adapter: int
    other: int  # modules_to_save copies (classifier heads) and trainable biases

    @property
    def total(self) -> int:
        return self.adapter + self.other


@dataclass(frozen=True)
class ActivationProfile:
    """Bytes saved for backward by one forward pass at ``batch`` x ``seq``.

    ``layer_bytes[i]`` is what transformer block ``i`` saves; ``layer_input_bytes[i]`` its input
    (all that gradient checkpointing keeps of it); ``outside_bytes`` the rest (embeddings, head,
    loss, logits).
    """

    batch: int
    seq: int
    dtype: str
    outside_bytes: int
    layer_bytes: tuple[int, ...]
    layer_input_bytes: tuple[int, ...]
    attention: str  # "fused" (FlashAttention-like) or the model's own implementation

    @property
    def total_bytes(self) -> int:
        return self.outside_bytes + sum(self.layer_bytes)

    @property
    def checkpointed_bytes(self) -> int:
        """With checkpointing: layer inputs kept, one layer recomputed at a time in backward."""
        if not self.layer_bytes:
            return self.total_bytes
        return self.outside_bytes + sum(self.layer_input_bytes) + max(self.layer_bytes)

    def scaled(self, batch: int) -> ActivationProfile:
        """The same profile at another batch size (saved activations grow linearly with it)."""

        def f(n: int) -> int:
            return math.ceil(n * batch / self.batch)

        return replace(
            self,
            batch=batch,
            outside_bytes=f(self.outside_bytes),
            layer_bytes=tuple(f(b) for b in self.layer_bytes),
            layer_input_bytes=tuple(f(b) for b in self.layer_input_bytes),
        )


@dataclass(frozen=True)
class MemoryBreakdown:
    """Peak training memory of one strategy, by what holds it."""

    strategy: str
    weights_bytes: int
    gradients_bytes: int
    optimizer_bytes: int
    activations_bytes: int | None  # None: the activation trace failed (see LoraEstimate)
    activations_checkpointed_bytes: int | None
    note: str

    @property
    def state_bytes(self) -> int:
        """Weights + gradients + optimizer state: what does not depend on batch and length."""
        return self.weights_bytes + self.gradients_bytes + self.optimizer_bytes

    @property
    def total_bytes(self) -> int | None:
        act = self.activations_bytes
        return None if act is None else self.state_bytes + act

    @property
    def total_checkpointed_bytes(self) -> int | None:
        act = self.activations_checkpointed_bytes
        return None if act is None else self.state_bytes + act

    def total(self, *, checkpointing: bool) -> int | None:
        return self.total_checkpointed_bytes if checkpointing else self.total_bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "weights_bytes": self.weights_bytes,
            "gradients_bytes": self.gradients_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "state_bytes": self.state_bytes,
            "activations_bytes": self.activations_bytes,
            "total_bytes": self.total_bytes,
            "activations_checkpointed_bytes": self.activations_checkpointed_bytes,
            "total_checkpointed_bytes": self.total_checkpointed_bytes,
            "note": self.note,
        }


def _act_bytes(act: ActivationProfile | None) -> tuple[int | None, int | None]:
    return (None, None) if act is None else (act.total_bytes, act.checkpointed_bytes)


# --- pure arithmetic --------------------------------------------------------------------------


def base_weight_bytes(params: ParamInventory, bits: int) -> int:
    """Bytes of a frozen base model stored at ``bits`` (8/4: only quantizable Linears shrink)."""
    if bits not in BITS:
        raise UserError(f"--bits: {bits} is not one of {', '.join(map(str, BITS))}")
    if bits in (32, 16):
        return params.total * bits // 8
    rest = (params.total - params.quantizable) * 2
    if bits == 8:
        return params.quantizable + params.quantizable_rows * INT8_SCALE_BYTES + rest
    return math.ceil(params.quantizable * NF4_BYTES_PER_WEIGHT) + rest


def full_memory(
    params: ParamInventory, act: ActivationProfile | None, precision: str
) -> MemoryBreakdown:
    """Full fine-tuning with AdamW; mixed precision keeps a 16-bit copy beside fp32 weights."""
    n = params.total
    mixed = precision != "fp32"
    return MemoryBreakdown(
        strategy="full",
        weights_bytes=n * (6 if mixed else 4),
        gradients_bytes=n * 4,
        optimizer_bytes=n * ADAMW_STATE_BYTES,
        activations_bytes=_act_bytes(act)[0],
        activations_checkpointed_bytes=_act_bytes(act)[1],
        note=(
            "fp32 master weights + 16-bit copy, fp32 gradients, AdamW fp32 states"
            if mixed
            else "fp32 weights, gradients and AdamW states"
        ),
    )


def freeze_memory(
    params: ParamInventory, trainable: int, act: ActivationProfile | None, precision: str
) -> MemoryBreakdown:
    """Full fine-tuning of the top layers only: gradients and AdamW states for those alone."""
    mixed = precision != "fp32"
    return MemoryBreakdown(
        strategy="freeze",
        weights_bytes=params.total * 4 + (trainable * 2 if mixed else 0),
        gradients_bytes=trainable * 4,
        optimizer_bytes=trainable * ADAMW_STATE_BYTES,
        activations_bytes=_act_bytes(act)[0],
        activations_checkpointed_bytes=_act_bytes(act)[1],
        note="fp32 weights, fp32 gradients and AdamW states for the unfrozen part",
    )


def lora_memory(
    params: ParamInventory, trainable: TrainableInventory, act: ActivationProfile | None, bits: int
) -> MemoryBreakdown:
    """LoRA (``bits`` 32/16/8) or QLoRA (``bits`` 4) with AdamW on the trainable parameters."""
    other_bytes = 4 if bits == 32 else 2  # modules_to_save copies live in the base dtype
    trainable_bytes = trainable.adapter * ADAPTER_BYTES + trainable.other * other_bytes
    kind = "qlora" if bits == 4 else "lora"
    base = {32: "fp32", 16: "16-bit", 8: "int8", 4: "NF4 (double quant)"}[bits]
    return MemoryBreakdown(
        strategy=kind,
        weights_bytes=base_weight_bytes(params, bits) + trainable_bytes,
        gradients_bytes=trainable_bytes,
        optimizer_bytes=trainable.adapter * ADAMW_STATE_BYTES + trainable.other * 2 * other_bytes,
        activations_bytes=_act_bytes(act)[0],
        activations_checkpointed_bytes=_act_bytes(act)[1],
        note=f"frozen base in {base}, fp32 adapters, AdamW on adapters only",
    )


def format_bytes(n: float, digits: int = 2) -> str:
    """Human-readable binary size: ``1.50 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.{digits}f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": GIB, "b": 1}
for _i, _p in enumerate("kmgt", start=1):
    _UNITS[_p] = _UNITS[_p + "ib"] = 1024**_i
    _UNITS[_p + "b"] = 1000**_i


def parse_size(text: str, what: str = "--gpu-memory") -> int:
    """``24GiB``, ``24 GB``, ``80G`` or a bare number of GiB -> bytes (GB = 10^9, GiB/G = 2^30)."""
    m = _SIZE.match(text)
    unit = (m.group(2) or "").lower() if m else ""
    if not m or unit not in _UNITS or float(m.group(1)) <= 0:
        raise UserError(f"{what}: cannot read '{text}' as a memory size; write e.g. 24GiB or 80GB")
    return int(float(m.group(1)) * _UNITS[unit])


# --- measuring a meta-device model ------------------------------------------------------------


def param_inventory(model: nn.Module) -> ParamInventory:
    """Count a base model's parameters by role (works on meta tensors)."""
    from torch import nn

    from tuneproof.modeling import count_params

    _, total = count_params(model)
    skip = _not_quantized(model)
    quantizable = rows = 0
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and name not in skip:
            quantizable += module.weight.numel()
            rows += module.out_features
    return ParamInventory(total=total, quantizable=quantizable, quantizable_rows=rows)


def _not_quantized(model: nn.Module) -> set[str]:
    """Modules bitsandbytes leaves in 16 bit: transformers' own rule (output embedding, last
    module, tied weights), so the QLoRA estimate follows the installed version."""
    try:
        from transformers.quantizers.base import get_keys_to_not_convert

        return set(get_keys_to_not_convert(model))
    except Exception:  # older/newer transformers without it: keep the output head in 16 bit
        getter = getattr(model, "get_output_embeddings", None)
        out = getter() if callable(getter) else None
        return {n for n, m in model.named_modules() if out is not None and m is out}


def trainable_inventory(model: nn.Module) -> TrainableInventory:
    """Split a PEFT model's trainable parameters into LoRA matrices and other (copied) modules."""
    adapter = other = 0
    seen: set[int] = set()
    for name, p in model.named_parameters():
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        if "lora_" in name:
            adapter += p.numel()
        else:
            other += p.numel()
    return TrainableInventory(adapter=adapter, other=other)


@functools.lru_cache(maxsize=1)
def register_estimate_attention() -> str:
    """Register (once) an attention function that saves what a fused GPU kernel saves.

    Transformers' ``AttentionInterface`` is the documented way to plug in attention; this one
    computes nothing (meta tensors) and keeps q, k, v, output and a fp32 log-sum-exp for backward.
    """
    import torch
    from transformers import AttentionInterface

    class _FusedSaves(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
            out = q.new_empty((*q.shape[:-1], v.shape[-1]))
            lse = q.new_empty(q.shape[:-1], dtype=torch.float32)
            ctx.save_for_backward(q, k, v, out, lse)
            return out

        @staticmethod
        def backward(ctx: Any, *grads: Any) -> Any:
            raise RuntimeError("estimation-only attention: it has no backward")

    def attention(
        module: Any, query: Any, key: Any, value: Any, attention_mask: Any, **kwargs: Any
    ) -> tuple[Any, None]:
        out = _FusedSaves.apply(query, key, value)
        return out.transpose(1, 2).contiguous(), None

    AttentionInterface.register(ESTIMATE_ATTENTION, attention)
    return ESTIMATE_ATTENTION


def trace_activations(
    model: nn.Module,
    inputs: dict[str, torch.Tensor],
    *,
    batch: int,
    seq: int,
    attention: str,
) -> ActivationProfile:
    """Run one forward pass on meta tensors and total the distinct tensors saved for backward.

    Parameters are excluded (they are counted as weights); tensors sharing a storage count once.
    Bytes are attributed to the transformer block that was running when they were saved.
    """
    import torch

    from tuneproof.modeling import find_layers

    model.train()
    param_storages = {_storage_key(p) for p in model.parameters()}
    _, layers = find_layers(model)
    current: list[int | None] = [None]
    per_layer = [0] * len(layers)
    inputs_bytes = [0] * len(layers)
    outside = 0
    seen: set[int] = set()
    keep: list[torch.Tensor] = []  # keep saved tensors alive so storage keys stay unique

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal outside
        key = _storage_key(t)
        if key in param_storages or key in seen:
            return t
        seen.add(key)
        keep.append(t)
        nbytes = t.untyped_storage().nbytes()
        if current[0] is None:
            outside += nbytes
        else:
            per_layer[current[0]] += nbytes
        return t

    handles = []
    for i, layer in enumerate(layers):
        handles.append(
            layer.register_forward_pre_hook(_enter(current, i, inputs_bytes), with_kwargs=True)
        )
        handles.append(layer.register_forward_hook(_leave(current)))
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            model(**inputs)
    finally:
        for h in handles:
            h.remove()
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    return ActivationProfile(
        batch=batch,
        seq=seq,
        dtype=dtype,
        outside_bytes=outside,
        layer_bytes=tuple(per_layer),
        layer_input_bytes=tuple(inputs_bytes),
        attention=attention,
    )


def _storage_key(t: torch.Tensor) -> int:
    return int(t.untyped_storage()._cdata)


def _enter(current: list[int | None], i: int, inputs_bytes: list[int]) -> Callable[..., None]:
    def hook(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        current[0] = i
        hidden = args[0] if args else kwargs.get("hidden_states")
        if hidden is not None and hasattr(hidden, "untyped_storage"):
            inputs_bytes[i] = hidden.untyped_storage().nbytes()

    return hook


def _leave(current: list[int | None]) -> Callable[..., None]:
    def hook(module: Any, args: Any, output: Any) -> None:
        current[0] = None

    return hook


@contextmanager
def meta_device() -> Iterator[None]:
    """Create every tensor in the block on the meta device (shapes only, no memory)."""
    import torch

    with torch.device("meta"):
        yield
