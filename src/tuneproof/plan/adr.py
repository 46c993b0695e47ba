"""``plan.md``: the strategy decision as an Architecture Decision Record.

Context (what we knew), options considered (with their numbers), decision (and the rule that made
it), consequences, and the observations that would show the decision was wrong — so a reviewer
can check the reasoning, not only the result.
"""

from __future__ import annotations

import datetime as _dt

from tuneproof.plan.memory import format_bytes
from tuneproof.plan.strategy import (
    LARGE_DATA_ROWS,
    RULES,
    SMALL_DATA_ROWS,
    USABLE_FRACTION,
    OptionCost,
    Plan,
    format_hours,
)

NAMES = {
    "full": "Full fine-tuning",
    "freeze": "Freeze bottom layers",
    "lora": "LoRA",
    "qlora": "QLoRA",
}
SHORT = {"full": "full", "freeze": "freeze", "lora": "LoRA", "qlora": "QLoRA"}


def _params(n: int) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.2f} B"
    if n >= 1e6:
        return f"{n / 1e6:.1f} M"
    return f"{n:,}"


def _context(plan: Plan) -> list[str]:
    i = plan.inputs
    budget = format_hours(i.time_budget_s / 3600) if i.time_budget_s else "none given"
    data = (
        "small"
        if i.train_rows < SMALL_DATA_ROWS
        else "large"
        if i.train_rows >= LARGE_DATA_ROWS
        else "medium"
    )
    return [
        "## Context",
        "",
        f"- Model: `{i.model}` ({plan.architecture}, {plan.total_params:,} parameters; "
        f"{plan.origin})",
        f"- Task: {i.task}; {i.train_rows:,} training rows ({data}: small < {SMALL_DATA_ROWS:,}, "
        f"large >= {LARGE_DATA_ROWS:,}); max length {i.seq} tokens; {i.epochs:g} epochs; "
        f"batch {i.batch}",
        f"- Hardware: {i.gpus} GPU(s) with {format_bytes(i.gpu_memory_bytes)} each; "
        f"{format_bytes(i.usable_bytes)} usable ({USABLE_FRACTION:.0%}; the rest is CUDA "
        f"context and fragmentation); {i.gpu_tflops:g} TFLOP/s sustained per GPU assumed",
        f"- Precision: {i.precision}; deployment: {i.deploy}; time budget: {budget}",
        "- Memory comes from the model built on the meta device and PEFT's own parameter count "
        "(`tuneproof lora`); time from 6 (full) / 4 (adapters) FLOPs per parameter and token, "
        "+2 with gradient checkpointing.",
        "",
    ]


def _options(plan: Plan) -> list[str]:
    lines = [
        "## Options considered",
        "",
        "| option | trainable | weights | gradients | optimizer | activations | peak / GPU | "
        "fits | setup | est. time |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for o in plan.options:
        m = o.memory
        act = (m.activations_checkpointed_bytes if o.checkpointing else m.activations_bytes) or 0
        act = act * o.batch_size // max(plan.inputs.batch, 1)
        pct = 100 * o.trainable_params / max(plan.total_params, 1)
        lines.append(
            f"| {NAMES[o.kind]} | {_params(o.trainable_params)} ({pct:.2f} %) | "
            f"{format_bytes(m.weights_bytes)} | {format_bytes(m.gradients_bytes)} | "
            f"{format_bytes(m.optimizer_bytes)} | {format_bytes(act)} | "
            f"{format_bytes(o.peak_bytes)} | {'yes' if o.fits else 'no'} | {o.setup()} | "
            f"{format_hours(o.hours)} |"
        )
    lines += ["", "Details:", ""]
    lines += [f"- {NAMES[o.kind]}: {o.detail}; {o.memory.note}." for o in plan.options]
    lines.append("")
    return lines


def _decision(plan: Plan) -> list[str]:
    o = plan.recommended
    head = f"**{NAMES[o.kind]}** ({o.detail}), {o.setup()}." if o else "**No strategy fits.**"
    return [
        "## Decision",
        "",
        head,
        "",
        f"Rule `{plan.rule}` — {RULES[plan.rule]}: {plan.reason}.",
        "",
        "Rules, in the order they are checked: "
        + ", ".join(f"`{k}`" for k in RULES if k != "time-budget")
        + "; then `time-budget`.",
        "",
    ]


def _consequences(plan: Plan, o: OptionCost | None) -> list[str]:
    lines = ["## Consequences", ""]
    if o is None:
        lines += ["- Training cannot start on this hardware as planned.", ""]
        return lines
    n16 = format_bytes(plan.total_params * 2)
    adapter = format_bytes(o.trainable_params * 2)
    per_kind = {
        "full": [
            f"Every task keeps its own {n16} (16-bit) copy of the model.",
            "Highest quality ceiling; the most risk of forgetting what the base model knew.",
        ],
        "freeze": [
            f"Every task keeps its own {n16} copy; the frozen bottom layers keep general features.",
            "Cheaper than full fine-tuning; less capacity to adapt low-level features.",
        ],
        "lora": [
            f"One shared base; each task is a {adapter} adapter (merge it for a single-file "
            "deployment with `merge_and_unload()`).",
            "The base must be loaded in 16 bit (bf16/fp16) for the memory above.",
        ],
        "qlora": [
            f"The base is loaded in 4 bit (NF4, bitsandbytes, CUDA only); each task is a {adapter} "
            "adapter.",
            "Steps are ~30 % slower than 16-bit LoRA; quality can trail it slightly.",
        ],
    }
    lines += [f"- {t}" for t in per_kind[o.kind]]
    if o.checkpointing:
        lines.append(
            "- Gradient checkpointing recomputes activations: ~33 % more compute per step."
        )
    lines += [f"- {n}." for n in plan.notes]
    lines.append(
        f"- Estimated training time: {format_hours(o.hours)} on {plan.inputs.gpus} GPU(s)."
    )
    lines.append("")
    return lines


def _wrong_if(plan: Plan, o: OptionCost | None) -> list[str]:
    lines = ["## How we will know it was wrong", ""]
    if o is None:
        return [
            *lines,
            "- A smaller model or more GPUs makes an option fit: re-run `tuneproof plan`.",
            "",
        ]
    peak = format_bytes(o.peak_bytes * 1.15)
    lines += [
        f"- Peak GPU memory in the first steps (`torch.cuda.max_memory_allocated()`) above {peak} "
        "(estimate + 15 %): the memory model is off; re-plan with the measured figure.",
        f"- Training takes more than {format_hours(o.hours * 2)} (twice the estimate): throughput "
        "assumption wrong; re-plan with `--gpu-tflops`.",
    ]
    if o.kind in ("lora", "qlora"):
        lines.append(
            "- A full fine-tuning (or higher-rank / all-linear LoRA) pilot on a subset beats this "
            "run's validation metric by more than its confidence interval: adapters too small."
        )
    if o.kind == "qlora":
        lines.append(
            "- 16-bit LoRA on a subset beats QLoRA by more than the CI: quantization costs quality."
        )
    if o.kind in ("full", "freeze"):
        lines.append(
            "- Validation loss rises while training loss falls after the first epoch: too little "
            "data for this many trainable weights; try LoRA."
        )
    lines.append("")
    return lines


def render_adr(plan: Plan, *, date: _dt.date | None = None) -> str:
    """The full ADR as Markdown."""
    i = plan.inputs
    day = (date or _dt.date.today()).isoformat()
    o = plan.recommended
    title = NAMES[o.kind] if o else "no strategy fits"
    lines = [
        f"# Fine-tuning strategy for `{i.model}`: {title}",
        "",
        f"- Status: proposed ({day}, `tuneproof plan`)",
        f"- Decision rule: `{plan.rule}`",
        "",
        *_context(plan),
        *_options(plan),
        *_decision(plan),
        *_consequences(plan, o),
        *_wrong_if(plan, o),
    ]
    return "\n".join(lines)
