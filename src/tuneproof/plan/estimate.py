"""The planner's peak-memory estimate for one run's config, to set beside the measured peak.

`tuneproof plan` estimates before a run; `tuneproof train` records this figure in
``manifest.json`` next to what it measured, so the report can show how far off the memory model
was for this exact setup (batch, ``data.max_length``, strategy, precision). Everything runs on
the meta device: no weights are loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuneproof.plan import lora as lora_calc
from tuneproof.plan.memory import MemoryBreakdown

if TYPE_CHECKING:
    from tuneproof.config import RunConfig


def run_memory_estimate(config: RunConfig, num_labels: int = 2) -> dict[str, Any]:
    """``{"peak_bytes", "strategy", "breakdown", "note"}`` for ``config`` on one device.

    ``progressive`` ends as full fine-tuning (its peak); ``freeze`` uses the planner's
    bottom-half freeze, an approximation when ``strategy.freeze_layers`` differs.
    """
    t, s = config.training, config.strategy
    source = lora_calc.resolve_source(config.model.name)
    recipe = lora_calc.model_recipe(source, config.task, num_labels)
    precision = t.precision
    base = lora_calc.analyze_base(
        source, recipe, batch=t.batch_size, seq=config.data.max_length, precision=precision
    )
    note = ""
    memory: MemoryBreakdown
    if s.kind in ("lora", "qlora"):
        targets = s.lora.target_modules
        spec = lora_calc.LoraSpec(
            r=s.lora.r,
            alpha=s.lora.alpha,
            dropout=s.lora.dropout,
            targets=targets if isinstance(targets, str) else tuple(targets),
            bias=s.lora.bias,
        )
        est = lora_calc.estimate_lora(base, spec, precision=precision, bits=16)
        memory = est.memory[s.kind]
    elif s.kind == "freeze":
        from tuneproof.plan.memory import freeze_memory

        frz = lora_calc.estimate_freeze(base, precision=precision)
        memory = freeze_memory(base.params, frz.trainable_params, frz.activations, precision)
        note = f"planner's freeze of {frz.frozen_layers} of {frz.layers} layers"
    else:
        from tuneproof.plan.memory import full_memory

        memory = full_memory(base.params, base.full_activations, precision)
        if s.kind == "progressive":
            note = "progressive unfreezing peaks as full fine-tuning"
    return {
        "peak_bytes": memory.total(checkpointing=t.gradient_checkpointing),
        "strategy": s.kind,
        "batch": t.batch_size,
        "seq": config.data.max_length,
        "breakdown": memory.to_dict(),
        "note": note or memory.note,
    }
