"""Strategy selector: a small, ordered decision tree over numbers from the LoRA calculator.

Each option (full fine-tuning, freezing the bottom half, LoRA, QLoRA) gets a memory estimate per
GPU and a time estimate; then the first rule whose condition holds decides. The rules are plain
data (:data:`RULES`) so the plan can print which one fired and why, and a reviewer can disagree
with a specific rule rather than with a black box.

Assumptions, all overridable: 90 % of GPU memory is usable (CUDA context, allocator
fragmentation), a GPU sustains ``gpu_tflops`` (default 50 TFLOP/s, a 24 GiB-class card at ~40 %
utilisation), a training step costs 6 FLOPs per parameter and token for full fine-tuning and 4
for LoRA (no weight gradients for the frozen base), +2 with gradient checkpointing (one more
forward), and QLoRA is 1.3x slower than LoRA (dequantisation). Full fine-tuning on several GPUs
is sharded (FSDP: weights, gradients and optimizer state divided by the GPU count); the other
strategies run data-parallel (a whole model per GPU).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tuneproof.errors import UserError, did_you_mean
from tuneproof.plan import lora as lora_calc
from tuneproof.plan.memory import GIB, MemoryBreakdown, format_bytes

Deploy = Literal["server", "edge", "many-adapters"]
DEPLOYS: tuple[str, ...] = ("server", "edge", "many-adapters")
KINDS: tuple[str, ...] = ("full", "freeze", "lora", "qlora")

USABLE_FRACTION = 0.9
SMALL_DATA_ROWS = 5_000  # below this, updating every weight mostly memorises (favour LoRA)
LARGE_DATA_ROWS = 50_000  # above this, full fine-tuning has data to use its capacity
EDGE_MAX_PARAMS = 1_000_000_000
FLOPS_PER_PARAM_TOKEN = {"full": 6.0, "freeze": 4.0, "lora": 4.0, "qlora": 4.0}
QLORA_SLOWDOWN = 1.3

RULES: dict[str, str] = {
    "nothing-fits": "no strategy fits in GPU memory even at batch 1 with gradient checkpointing",
    "full-does-not-fit": "full fine-tuning does not fit in GPU memory, LoRA (16-bit base) does",
    "lora-does-not-fit": "neither full fine-tuning nor 16-bit LoRA fits, QLoRA (4-bit base) does",
    "many-adapters": "many tasks share one base model: train one small adapter per task",
    "small-data": f"fewer than {SMALL_DATA_ROWS:,} training rows: train few parameters",
    "full-fits": "full fine-tuning fits and there is enough data to update every weight",
    "time-budget": "the preferred option exceeds the time budget; the fastest that fits is chosen",
}


@dataclass(frozen=True)
class PlanInputs:
    """Everything the decision depends on (recorded in the ADR's context)."""

    model: str
    train_rows: int
    gpu_memory_bytes: int
    gpus: int = 1
    deploy: str = "server"
    time_budget_s: float | None = None
    task: str = "sequence-classification"
    num_labels: int = 2
    batch: int = 8
    seq: int = 256
    epochs: float = 3.0
    rank: int = 16
    alpha: int | None = None
    targets: tuple[str, ...] | str | None = None
    precision: str = "bf16"
    gpu_tflops: float = 50.0

    def __post_init__(self) -> None:
        if self.train_rows <= 0:
            raise UserError(
                f"--train-rows: must be a positive number of rows (got {self.train_rows})"
            )
        if self.gpus <= 0:
            raise UserError(f"--gpus: must be at least 1 (got {self.gpus})")
        if self.deploy not in DEPLOYS:
            raise UserError(
                f"--deploy: '{self.deploy}' is not one of {', '.join(DEPLOYS)}"
                f"{did_you_mean(self.deploy, DEPLOYS)}"
            )
        if self.epochs <= 0:
            raise UserError(f"--epochs: must be positive (got {self.epochs})")
        if self.gpu_tflops <= 0:
            raise UserError(f"--gpu-tflops: must be positive (got {self.gpu_tflops})")
        if self.time_budget_s is not None and self.time_budget_s <= 0:
            raise UserError("--time-budget: must be positive, e.g. 2h or 90m")

    @property
    def usable_bytes(self) -> int:
        return int(self.gpu_memory_bytes * USABLE_FRACTION)

    @property
    def tokens(self) -> float:
        """Tokens processed in training (every row padded/truncated to ``seq``: an upper bound)."""
        return self.train_rows * self.seq * self.epochs


@dataclass(frozen=True)
class OptionCost:
    """One strategy, set up to fit if it can: per-GPU memory, batch, checkpointing and time."""

    kind: str
    trainable_params: int
    memory: MemoryBreakdown
    fits: bool
    batch_size: int  # per device
    gradient_accumulation_steps: int
    checkpointing: bool
    peak_bytes: int  # per GPU at this setup
    hours: float
    detail: str

    def setup(self, short: bool = False) -> str:
        """``batch 8, gradient checkpointing`` (``short``: ``b8 ckpt``)."""
        acc = self.gradient_accumulation_steps
        if short:
            text = f"b{self.batch_size}" + (f"x{acc}" if acc > 1 else "")
            return text + (" ckpt" if self.checkpointing else "")
        parts = [f"batch {self.batch_size}"]
        if acc > 1:
            parts.append(f"x{acc} accumulation")
        if self.checkpointing:
            parts.append("gradient checkpointing")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "trainable_params": self.trainable_params,
            "fits": self.fits,
            "batch_size": self.batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "gradient_checkpointing": self.checkpointing,
            "peak_bytes": self.peak_bytes,
            "hours": round(self.hours, 3),
            "detail": self.detail,
            "memory": self.memory.to_dict(),
        }


@dataclass(frozen=True)
class Plan:
    inputs: PlanInputs
    architecture: str
    origin: str
    total_params: int
    options: tuple[OptionCost, ...]
    recommended: OptionCost | None
    rule: str  # a key of RULES
    reason: str  # the rule with this plan's numbers
    notes: tuple[str, ...]
    lora: lora_calc.LoraEstimate = field(repr=False)
    freeze: lora_calc.FreezeEstimate = field(repr=False)

    @property
    def alternatives(self) -> tuple[OptionCost, ...]:
        return tuple(o for o in self.options if o is not self.recommended)

    def option(self, kind: str) -> OptionCost:
        return next(o for o in self.options if o.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        i = self.inputs
        return {
            "model": i.model,
            "architecture": self.architecture,
            "total_params": self.total_params,
            "inputs": {
                "train_rows": i.train_rows,
                "gpu_memory_bytes": i.gpu_memory_bytes,
                "usable_bytes": i.usable_bytes,
                "gpus": i.gpus,
                "deploy": i.deploy,
                "time_budget_s": i.time_budget_s,
                "task": i.task,
                "batch": i.batch,
                "seq": i.seq,
                "epochs": i.epochs,
                "precision": i.precision,
                "gpu_tflops": i.gpu_tflops,
            },
            "recommendation": self.recommended.kind if self.recommended else None,
            "rule": self.rule,
            "reason": self.reason,
            "notes": list(self.notes),
            "options": [o.to_dict() for o in self.options],
            "lora": self.lora.to_dict()["lora"],
        }


# --- parsing helpers --------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])", re.IGNORECASE)
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> float:
    """``2h``, ``90m``, ``1h30m``, ``1.5h``, ``3600s`` or a bare number of hours -> seconds."""
    s = text.strip().lower()
    try:
        return float(s) * 3600
    except ValueError:
        pass
    parts = _DURATION.findall(s)
    if not parts or _DURATION.sub("", s).strip():
        raise UserError(f"--time-budget: cannot read '{text}'; write e.g. 2h, 90m or 1h30m")
    return sum(float(n) * _SECONDS[u] for n, u in parts)


def format_hours(hours: float) -> str:
    if hours < 1 / 60:
        return f"{hours * 3600:.0f} s"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:.1f} h"


# --- costing ----------------------------------------------------------------------------------


def _hours(kind: str, params: int, inputs: PlanInputs, checkpointing: bool) -> float:
    per_token = FLOPS_PER_PARAM_TOKEN[kind] + (2.0 if checkpointing else 0.0)
    flops = per_token * params * inputs.tokens
    if kind == "qlora":
        flops *= QLORA_SLOWDOWN
    return flops / (inputs.gpu_tflops * 1e12 * inputs.gpus) / 3600


def fit_option(
    kind: str,
    memory: MemoryBreakdown,
    trainable: int,
    total_params: int,
    inputs: PlanInputs,
    detail: str,
) -> OptionCost:
    """Find a per-GPU setup that fits: first smaller batches (gradient accumulation keeps the
    effective batch at ``batch``), then the same with gradient checkpointing (~33 % more
    compute) — the order Hugging Face's single-GPU guide recommends. Without a fit the option is
    returned at batch 1 with checkpointing and ``fits=False``.
    """
    shard = inputs.gpus if kind == "full" else 1  # FSDP for full FT, DDP otherwise
    state = memory.state_bytes // shard
    act = memory.activations_bytes
    act_ckpt = memory.activations_checkpointed_bytes
    if act is None or act_ckpt is None:
        raise UserError(f"{kind}: no activation estimate, so its fit cannot be judged")
    batch = inputs.batch
    sizes: list[int] = []
    b = batch
    while b >= 1:
        sizes.append(b)
        b //= 2
    candidates = [(b, False) for b in sizes] + [(b, True) for b in sizes]
    chosen: tuple[int, bool, int] | None = None
    for b, ckpt in candidates:
        peak = state + ((act_ckpt if ckpt else act) * b + batch - 1) // batch
        if peak <= inputs.usable_bytes:
            chosen = (b, ckpt, peak)
            break
    fits = chosen is not None
    if chosen is None:
        chosen = (1, True, state + (act_ckpt + batch - 1) // batch)
    b, ckpt, peak = chosen
    return OptionCost(
        kind=kind,
        trainable_params=trainable,
        memory=memory,
        fits=fits,
        batch_size=b,
        gradient_accumulation_steps=max(1, batch // b),
        checkpointing=ckpt,
        peak_bytes=peak,
        hours=_hours(kind, total_params, inputs, ckpt),
        detail=detail,
    )


@dataclass(frozen=True)
class Costing:
    lora: lora_calc.LoraEstimate
    freeze: lora_calc.FreezeEstimate
    total_params: int
    options: tuple[OptionCost, ...]


@dataclass(frozen=True)
class _Measured:
    est: lora_calc.LoraEstimate
    frz: lora_calc.FreezeEstimate
    base: lora_calc.BaseAnalysis


def _measure(inputs: PlanInputs) -> _Measured:
    """The meta-device trace of the model (seconds), cached for built-in and shipped names, whose
    config cannot change under a running app; a path is traced every time."""
    key = (
        inputs.model,
        inputs.task,
        inputs.num_labels,
        inputs.batch,
        inputs.seq,
        inputs.precision,
        inputs.rank,
        inputs.alpha,
        inputs.targets,
    )
    if Path(inputs.model).expanduser().exists():
        return _trace(*key)
    return _trace_cached(*key)


def _trace(
    model: str,
    task: str,
    num_labels: int,
    batch: int,
    seq: int,
    precision: str,
    rank: int,
    alpha: int | None,
    targets: tuple[str, ...] | str | None,
) -> _Measured:
    source = lora_calc.resolve_source(model)
    recipe = lora_calc.model_recipe(source, task, num_labels)
    base = lora_calc.analyze_base(source, recipe, batch=batch, seq=seq, precision=precision)
    spec = lora_calc.LoraSpec(r=rank, alpha=alpha, targets=targets)
    est = lora_calc.estimate_lora(base, spec, precision=precision, bits=16)
    return _Measured(est, lora_calc.estimate_freeze(base, precision=precision), base)


_trace_cached = functools.lru_cache(maxsize=16)(_trace)


def cost_options(inputs: PlanInputs) -> Costing:
    """Every strategy, measured on the meta-device model and fitted to the GPU."""
    from tuneproof.plan.memory import freeze_memory

    m = _measure(inputs)
    base, est, spec = m.base, m.est, m.est.spec
    why = est.activation_error or base.activation_error
    if why is not None:  # fitting batch and checkpointing to the GPU needs the activations
        raise UserError(
            f"--model '{inputs.model}': the plan needs an activation-memory estimate and there is "
            f"none: {why}; `tuneproof lora` still gives its parameter counts and weight, "
            "gradient and optimizer memory"
        )
    frz = m.frz
    n = base.params.total
    full_trainable = n
    targets = ", ".join(est.target_modules)
    lora_detail = f"r={spec.r}, alpha={spec.lora_alpha} on {targets}"
    options = (
        fit_option("full", est.memory["full"], full_trainable, n, inputs, "all parameters"),
        fit_option(
            "freeze",
            freeze_memory(base.params, frz.trainable_params, frz.activations, inputs.precision),
            frz.trainable_params,
            n,
            inputs,
            f"bottom {frz.frozen_layers} of {frz.layers} layers and the embeddings frozen",
        ),
        fit_option("lora", est.memory["lora"], est.trainable_params, n, inputs, lora_detail),
        fit_option("qlora", est.memory["qlora"], est.trainable_params, n, inputs, lora_detail),
    )
    return Costing(est, frz, n, options)


# --- the decision tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    choice: OptionCost | None
    rule: str  # a key of RULES
    reason: str  # the rule's condition with this plan's numbers
    notes: tuple[str, ...]


def decide(inputs: PlanInputs, options: tuple[OptionCost, ...], total_params: int) -> Decision:
    """Apply the rules of :data:`RULES` in order; the first whose condition holds decides."""
    by = {o.kind: o for o in options}
    full, lora, qlora = by["full"], by["lora"], by["qlora"]
    usable = format_bytes(inputs.usable_bytes)
    notes: list[str] = []

    def need(o: OptionCost) -> str:
        return format_bytes(o.peak_bytes)

    choice: OptionCost | None
    if not any(o.fits for o in options):
        choice, rule = None, "nothing-fits"
        reason = (
            f"even QLoRA needs {need(qlora)} per GPU at batch 1 with checkpointing, more than "
            f"the {usable} usable; use a GPU with more memory, more GPUs, or a smaller model"
        )
    elif not full.fits and lora.fits:
        choice, rule = lora, "full-does-not-fit"
        reason = (
            f"full fine-tuning needs {need(full)} per GPU (more than the {usable} usable); "
            f"LoRA fits at {need(lora)}"
        )
    elif not full.fits and not lora.fits and qlora.fits:
        choice, rule = qlora, "lora-does-not-fit"
        reason = (
            f"full fine-tuning needs {need(full)} and 16-bit LoRA {need(lora)} per GPU, more "
            f"than the {usable} usable; QLoRA fits at {need(qlora)}"
        )
    elif inputs.deploy == "many-adapters" and (lora.fits or qlora.fits):
        choice = lora if lora.fits else qlora
        rule = "many-adapters"
        adapter = format_bytes(choice.trainable_params * 2)
        model_copy = format_bytes(total_params * 2)
        reason = (
            f"each task adds a {adapter} adapter (16-bit) on one shared base instead of a "
            f"{model_copy} model copy"
        )
    elif inputs.train_rows < SMALL_DATA_ROWS and (lora.fits or qlora.fits):
        choice = lora if lora.fits else qlora
        rule = "small-data"
        pct = 100 * choice.trainable_params / max(total_params, 1)
        reason = (
            f"{inputs.train_rows:,} rows are few for {total_params:,} weights; LoRA trains "
            f"{choice.trainable_params:,} ({pct:.2f} %), overfits and forgets less"
        )
    elif full.fits:
        choice, rule = full, "full-fits"
        size = "plenty of" if inputs.train_rows >= LARGE_DATA_ROWS else "enough"
        reason = (
            f"full fine-tuning fits ({need(full)} of {usable} per GPU) and "
            f"{inputs.train_rows:,} rows are {size} data to update all {total_params:,} weights"
        )
    else:  # full does not fit, LoRA and QLoRA do not either but freeze does
        choice = next(o for o in options if o.fits)
        rule = "full-does-not-fit"
        reason = f"only {choice.kind} fits ({need(choice)} of {usable} per GPU)"

    budget = inputs.time_budget_s
    if choice is not None and budget is not None and choice.hours * 3600 > budget:
        in_time = [o for o in options if o.fits and o.hours * 3600 <= budget]
        if in_time:
            faster = min(in_time, key=lambda o: o.hours)
            reason = (
                f"{choice.kind} would take ~{format_hours(choice.hours)}, over the "
                f"{format_hours(budget / 3600)} budget; {faster.kind} takes "
                f"~{format_hours(faster.hours)} (before: {RULES[rule]})"
            )
            choice, rule = faster, "time-budget"
        else:
            notes.append(
                f"over the time budget: ~{format_hours(choice.hours)} for "
                f"{format_hours(budget / 3600)}; cut epochs, rows or max length"
            )
    if inputs.deploy == "edge" and total_params > EDGE_MAX_PARAMS:
        notes.append(
            f"edge deployment of {total_params / 1e9:.1f} B parameters: distil into a model "
            "under 1 B or quantize (int8/int4) after training"
        )
    elif inputs.deploy == "edge":
        notes.append("edge deployment: merge any adapter into the weights and export int8")
    if choice is not None and choice.gradient_accumulation_steps > 1:
        notes.append(
            f"per-GPU batch {choice.batch_size} with {choice.gradient_accumulation_steps} "
            f"accumulation steps keeps the effective batch at {inputs.batch}"
        )
    return Decision(choice, rule, reason, tuple(notes))


def make_plan(inputs: PlanInputs) -> Plan:
    """Cost every strategy and pick one with the decision tree."""
    c = cost_options(inputs)
    d = decide(inputs, c.options, c.total_params)
    return Plan(
        inputs=inputs,
        architecture=c.lora.architecture,
        origin=c.lora.origin,
        total_params=c.total_params,
        options=c.options,
        recommended=d.choice,
        rule=d.rule,
        reason=d.reason,
        notes=d.notes,
        lora=c.lora,
        freeze=c.freeze,
    )


# --- the RunConfig it can emit ----------------------------------------------------------------


def learning_rate(kind: str, total_params: int) -> float:
    """The starting learning rate for this strategy and model size (``arguments.LR_GUIDANCE``)."""
    from tuneproof.arguments import LR_GUIDANCE

    return LR_GUIDANCE.get(kind, LR_GUIDANCE["full"]).start_for(total_params)


def run_config_dict(
    plan: Plan, *, data_train: str | None = None, name: str | None = None
) -> dict[str, Any]:
    """The RunConfig for the recommended strategy as a compact dict, validated before returning.

    Only the keys the plan decides are written (the rest keep RunConfig's defaults), so the YAML
    stays short enough to review.
    """
    from tuneproof.tasks import parse_config

    choice = plan.recommended
    if choice is None:
        raise UserError(f"--emit-config: nothing fits ({plan.reason}); no config to write")
    i = plan.inputs
    strategy: dict[str, Any] = {"kind": choice.kind}
    if choice.kind in ("lora", "qlora"):
        strategy = lora_calc.strategy_section(plan.lora.spec, plan.lora.target_modules, choice.kind)
    elif choice.kind == "freeze":
        strategy |= {"freeze_layers": plan.freeze.frozen_layers, "freeze_embeddings": True}
    raw: dict[str, Any] = {
        "name": name or f"{_slug(i.model)}-{choice.kind}",
        "task": i.task,
        "data": {
            "train": data_train or "data/train.csv",
            "split": {"validation": 0.1, "test": 0.1},
            "max_length": i.seq,
        },
        "model": {"name": plan.lora.train_name},
        "strategy": strategy,
        "training": {
            "epochs": i.epochs,
            "batch_size": choice.batch_size,
            "gradient_accumulation_steps": choice.gradient_accumulation_steps,
            "learning_rate": learning_rate(choice.kind, plan.total_params),
            "warmup": 0.1,
            "weight_decay": 0.01,
            "eval_strategy": "epoch",
            "save_strategy": "epoch",
            "seed": 42,
            "precision": i.precision,
            "gradient_checkpointing": choice.checkpointing,
        },
    }
    parse_config(raw, source="tuneproof plan --emit-config")
    return raw


def _slug(name: str) -> str:
    stem = name.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
    return re.sub(r"[^a-zA-Z0-9]+", "-", stem).strip("-").lower() or "model"


def run_config_yaml(plan: Plan, *, data_train: str | None = None, name: str | None = None) -> str:
    """The emitted config as YAML with a header that says where it came from."""
    import yaml

    raw = run_config_dict(plan, data_train=data_train, name=name)
    assert plan.recommended is not None
    header = (
        f"# Written by `tuneproof plan` for {plan.inputs.model}: {plan.recommended.kind} "
        f"(rule {plan.rule}).\n# {plan.reason}\n"
    )
    if data_train is None:
        header += "# data.train is a placeholder: point it at your training file.\n"
    if plan.origin == "config.json":
        header += "# model.name came from a config.json: point it at the model's weights.\n"
    return header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)


def gib(n: float) -> int:
    """``gib(24)`` -> bytes; handy in tests and the library API."""
    return int(n * GIB)
