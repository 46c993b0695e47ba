"""TrainingArguments explorer: explain a field, lint a config, print the equivalent Python.

``explain`` reads the help text and defaults from the installed transformers' own dataclass
fields (so it is right for the version you run) and adds our guidance for the fields that
matter most. ``lint`` reads the raw YAML/JSON itself — a tuneproof ``RunConfig`` or a plain
``TrainingArguments(**kwargs)`` mapping pasted from a tutorial — so it can report every problem
at once (``load_config`` stops at the first). ``snippet`` prints what ``tuneproof train`` passes to
``TrainingArguments``, from :func:`tuneproof.arguments.training_kwargs`.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import json
import math
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from tuneproof.arguments import LR_GUIDANCE
from tuneproof.config import OLD_ARGUMENTS, parse_yaml_text
from tuneproof.errors import UserError, did_you_mean

Severity = Literal["info", "warning", "error"]
SEVERITIES: tuple[str, ...] = ("info", "warning", "error")  # increasing

# Names transformers 5 removed from TrainingArguments (or Trainer) -> (replacement, how), and the
# same old names inside a tuneproof RunConfig's `training:` section -> the tuneproof key: both
# views of the one table, ``tuneproof.config.OLD_ARGUMENTS``.
REMOVED_ARGS: dict[str, tuple[str | None, str]] = {
    k: (o.transformers, o.removed) for k, o in OLD_ARGUMENTS.items() if o.removed is not None
}
_RUNCONFIG_RENAMES: dict[str, str | None] = {
    k: o.tuneproof for k, o in OLD_ARGUMENTS.items() if o.use is not None
}

_WRAPPER_KEYS = ("training_args", "training_arguments", "trainer_args", "args")
_RUNCONFIG_SECTIONS = {"data", "model", "strategy", "training", "tracking", "checks", "task"}

_DECAYING = {"linear", "cosine", "cosine_with_restarts", "polynomial"}
MIN_SCHEDULER_STEPS = 100


def _val(value: Any) -> str:
    """A value as it would be written in YAML (``epoch``, ``0.1``, ``true``)."""
    text = yaml.safe_dump(value, default_flow_style=True).strip()
    return text.removesuffix("...").strip()


def _lr(x: float) -> str:
    return f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e")


def alias_target(help_text: str) -> str | None:
    """``Deprecated alias of `activation_checkpointing` ...`` -> ``activation_checkpointing``."""
    m = re.search(r"alias (?:of|for) `(\w+)`", help_text)
    return m.group(1) if m else None


# --- explain ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guidance:
    full: str
    lora: str
    pitfalls: tuple[str, ...]
    tuneproof_key: str | None = None


GUIDANCE: dict[str, Guidance] = {
    "learning_rate": Guidance(
        f"{LR_GUIDANCE['full'].typical_text} ({LR_GUIDANCE['full'].start_text})",
        f"{LR_GUIDANCE['lora'].typical_text} ({LR_GUIDANCE['lora'].start_text}); adapters start "
        "at zero and need more",
        (
            "A LoRA rate (2e-4) used for full fine-tuning overwrites pretrained features "
            "(loss spikes, forgetting).",
            "Scale it with the effective batch size when you change that a lot.",
        ),
        "training.learning_rate",
    ),
    "num_train_epochs": Guidance(
        "2 .. 4 for classification; 1 .. 3 for LLM instruction tuning",
        "3 .. 10 (fewer parameters learn slower, overfit later)",
        ("Ignored when max_steps > 0.", "Many epochs on small data memorise it: watch eval loss."),
        "training.epochs",
    ),
    "max_steps": Guidance(
        "-1 (use epochs) unless you budget by steps",
        "same",
        ("Overrides num_train_epochs; the LR schedule is stretched over max_steps.",),
        "training.max_steps",
    ),
    "per_device_train_batch_size": Guidance(
        "16 .. 32 for encoders; as memory allows for LLMs",
        "same; LoRA frees memory for larger batches",
        (
            "Per device: the effective batch is this x gradient_accumulation_steps x GPUs.",
            "`tuneproof lora` shows the activation memory per batch and sequence length.",
        ),
        "training.batch_size",
    ),
    "gradient_accumulation_steps": Guidance(
        "raise it to keep the effective batch at 16..128 when memory forces a small batch",
        "same",
        ("logging/eval/save steps count optimizer steps, i.e. after accumulation.",),
        "training.gradient_accumulation_steps",
    ),
    "warmup_steps": Guidance(
        "0.06 .. 0.1 as a ratio (a float < 1) of all steps",
        "0.03 .. 0.1",
        (
            "transformers 5: a float < 1 is a ratio; warmup_ratio was removed.",
            "Warmup longer than ~30 % of training wastes most of the schedule.",
        ),
        "training.warmup",
    ),
    "lr_scheduler_type": Guidance(
        "linear (BERT recipe) or cosine",
        "cosine or linear; constant for very short runs",
        ("With fewer than ~100 steps a decaying schedule barely runs.",),
        "training.lr_scheduler",
    ),
    "weight_decay": Guidance(
        "0.01 .. 0.1",
        "0 .. 0.01 (adapters are small already)",
        ("The Trainer excludes biases and LayerNorm weights automatically.",),
        "training.weight_decay",
    ),
    "max_grad_norm": Guidance(
        "1.0",
        "0.3 .. 1.0 (QLoRA used 0.3)",
        ("0 disables clipping: loss spikes go unchecked.",),
        "training.max_grad_norm",
    ),
    "eval_strategy": Guidance(
        "epoch (or steps for long epochs)",
        "same",
        (
            "transformers 5 name; evaluation_strategy was removed.",
            "load_best_model_at_end needs save_strategy to match it.",
        ),
        "training.eval_strategy",
    ),
    "save_strategy": Guidance(
        "same as eval_strategy (or 'best')",
        "same; LoRA checkpoints are small",
        ("Saving more often than evaluating gives checkpoints without a metric.",),
        "training.save_strategy",
    ),
    "load_best_model_at_end": Guidance(
        "True with an eval set",
        "True",
        (
            "Requires eval_strategy == save_strategy (or save_strategy='best'); "
            "with 'steps', save_steps must be a multiple of eval_steps.",
        ),
        None,
    ),
    "metric_for_best_model": Guidance(
        "the task's main metric (accuracy/F1), not the loss",
        "same",
        ("Set greater_is_better to match (True for accuracy, False for loss).",),
        "training.metric_for_best_model",
    ),
    "seed": Guidance(
        "any fixed integer; report results over 3+ seeds",
        "same",
        (
            "Without data_seed the data order follows seed.",
            "Fine-tuning variance across seeds is often larger than the gap between methods.",
        ),
        "training.seed",
    ),
    "bf16": Guidance(
        "True on Ampere+ GPUs (A100, H100, RTX 30/40)",
        "True",
        ("Not on GPUs before Ampere (use fp16).",),
        "training.precision",
    ),
    "fp16": Guidance(
        "True on pre-Ampere GPUs (V100, T4)",
        "True where bf16 is unavailable",
        ("Needs a CUDA GPU; loss scaling can overflow with large learning rates.",),
        "training.precision",
    ),
    "activation_checkpointing": Guidance(
        "on when activations do not fit (~33 % more compute)",
        "often on for LLMs",
        ("gradient_checkpointing is its deprecated alias in transformers 5.",),
        "training.gradient_checkpointing",
    ),
    "logging_steps": Guidance(
        "10 .. 50",
        "same",
        ("More than the total steps: nothing is logged.",),
        "training.logging_steps",
    ),
    "save_total_limit": Guidance(
        "2 .. 3",
        "same",
        ("None keeps every checkpoint: disks fill up on long runs.",),
        "training.save_total_limit",
    ),
    "use_cpu": Guidance("False", "False", ("Replaces no_cuda; fp16 does not work on CPU.",), None),
}


Impact = Literal["high", "medium", "low"]

# How much a field moves the result (high: the model you get; medium: the run's cost or what you
# can measure; low: bookkeeping). Fields not listed are low.
IMPACT: dict[str, Impact] = {
    **dict.fromkeys(
        (
            "learning_rate",
            "num_train_epochs",
            "max_steps",
            "per_device_train_batch_size",
            "gradient_accumulation_steps",
            "warmup_steps",
            "lr_scheduler_type",
            "eval_strategy",
            "load_best_model_at_end",
            "metric_for_best_model",
            "seed",
        ),
        "high",
    ),
    **dict.fromkeys(
        (
            "weight_decay",
            "max_grad_norm",
            "save_strategy",
            "eval_steps",
            "save_steps",
            "bf16",
            "fp16",
            "activation_checkpointing",
            "gradient_checkpointing",
            "optim",
            "data_seed",
            "greater_is_better",
            "save_total_limit",
            "per_device_eval_batch_size",
            "use_cpu",
            "label_smoothing_factor",
        ),
        "medium",
    ),
}


@dataclass(frozen=True)
class Interaction:
    """A group of fields that only make sense together, and the rule that ties them."""

    name: str
    fields: tuple[str, ...]
    rule: str


INTERACTIONS: tuple[Interaction, ...] = (
    Interaction(
        "effective batch",
        ("per_device_train_batch_size", "gradient_accumulation_steps"),
        "effective batch = per-device batch x accumulation steps x devices; the learning rate "
        "goes with the effective batch",
    ),
    Interaction(
        "evaluation and saving",
        (
            "eval_strategy",
            "eval_steps",
            "save_strategy",
            "save_steps",
            "load_best_model_at_end",
            "metric_for_best_model",
            "greater_is_better",
        ),
        "load_best_model_at_end needs save_strategy equal to eval_strategy (or 'best'), and "
        "save_steps a multiple of eval_steps; greater_is_better must match the metric",
    ),
    Interaction(
        "schedule",
        ("learning_rate", "warmup_steps", "lr_scheduler_type", "num_train_epochs", "max_steps"),
        "warmup and decay are spread over all optimizer steps (max_steps > 0 overrides epochs); "
        "a float warmup_steps < 1 is a ratio of them",
    ),
    Interaction(
        "checkpoint limits",
        ("save_total_limit", "save_strategy", "save_steps", "load_best_model_at_end"),
        "save_total_limit deletes old checkpoints but always keeps the best one when "
        "load_best_model_at_end is on",
    ),
    Interaction(
        "precision",
        ("bf16", "fp16", "use_cpu"),
        "at most one of bf16 and fp16; fp16 needs a CUDA GPU, bf16 an Ampere-or-newer GPU "
        "(or use_cpu)",
    ),
)


def interactions_of(name: str) -> tuple[Interaction, ...]:
    return tuple(g for g in INTERACTIONS if name in g.fields)


@dataclass(frozen=True)
class ArgHelp:
    name: str
    type: str
    default: str
    help: str
    guidance: Guidance | None
    note: str | None = None  # e.g. "evaluation_strategy was removed; showing eval_strategy"

    @property
    def impact(self) -> str:
        return IMPACT.get(self.name, "low")

    def to_dict(self) -> dict[str, Any]:
        g = self.guidance
        fields = training_fields()
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "help": self.help,
            "note": self.note,
            "impact": self.impact,
            "interacts_with": [
                {
                    "group": i.name,
                    "fields": [f for f in i.fields if f != self.name and f in fields],
                    "rule": i.rule,
                }
                for i in interactions_of(self.name)
            ],
            "full_fine_tuning": g.full if g else None,
            "lora": g.lora if g else None,
            "pitfalls": list(g.pitfalls) if g else [],
            "tuneproof_key": g.tuneproof_key if g else None,
        }


def training_fields() -> dict[str, dataclasses.Field[Any]]:
    """The installed ``TrainingArguments`` dataclass fields, by name."""
    from transformers import TrainingArguments

    return {f.name: f for f in dataclasses.fields(TrainingArguments) if f.init}


@functools.lru_cache(maxsize=1)
def _field_hints() -> dict[str, Any]:
    import typing

    from transformers import TrainingArguments

    return typing.get_type_hints(TrainingArguments)


def number_type(name: str) -> type | None:
    """``float``/``int`` when the TrainingArguments field takes only numbers (or None), else None.

    Read from the installed dataclass's annotations (``learning_rate: float``,
    ``eval_steps: float | None``); a field that also takes strings (``lr_scheduler_type``) is None.
    """
    hint = _field_hints().get(name)
    if hint is None:
        return None
    args = [a for a in (typing.get_args(hint) or (hint,)) if a is not type(None)]
    if not args or any(a not in (int, float) for a in args):
        return None
    return float if float in args else int


def numeric_string(name: str, value: Any) -> tuple[type, float | int | None] | None:
    """A string where field ``name`` needs a number: (the type, the number it reads as or None).

    YAML 1.1 reads ``2e-5`` (no dot) as the string "2e-5"; ``TrainingArguments`` keeps it and the
    optimizer fails when training starts.
    """
    kind = number_type(name)
    if kind is None or not isinstance(value, str):
        return None
    try:
        number = float(value)
    except ValueError:
        return kind, None
    if kind is int and number.is_integer():
        return kind, int(number)
    return kind, number if kind is float else None


def _default(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        return repr(f.default)
    if f.default_factory is not dataclasses.MISSING:
        return repr(f.default_factory())
    return "(required)"


def _type_name(t: Any) -> str:
    return t.__name__ if isinstance(t, type) else str(t).replace("typing.", "")


def explain(name: str) -> ArgHelp:
    """What one TrainingArguments field does, its default, typical values and pitfalls."""
    fields = training_fields()
    note = None
    if name not in fields and name in REMOVED_ARGS:
        new, how = REMOVED_ARGS[name]
        if new is None or new not in fields:
            raise UserError(f"{name}: {how}")
        note = f"{name}: {how}; showing {new}"
        name = new
    if name not in fields:
        raise UserError(
            f"{name}: not a TrainingArguments field{did_you_mean(name, fields)}; "
            "`tuneproof args explain` lists the main ones"
        )
    f = fields[name]
    help_text = " ".join(str(f.metadata.get("help", "")).split())
    return ArgHelp(name, _type_name(f.type), _default(f), help_text, GUIDANCE.get(name), note)


def main_fields() -> list[ArgHelp]:
    """The fields with guidance (the ones worth understanding first), as installed."""
    fields = training_fields()
    return [explain(n) for n in GUIDANCE if n in fields]


@functools.lru_cache(maxsize=1)
def _all_fields() -> tuple[ArgHelp, ...]:
    order = {"high": 0, "medium": 1, "low": 2}
    helps = [explain(n) for n in training_fields()]
    return tuple(sorted(helps, key=lambda h: (order[h.impact], h.name)))


def all_fields() -> list[ArgHelp]:
    """Every field of the installed ``TrainingArguments``, most impact first, then by name."""
    return list(_all_fields())


# --- lint -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    key: str
    message: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TrainingView:
    """The settings the lint rules look at, from either config style, with their key names."""

    style: str  # "runconfig" | "training-args"
    prefix: str  # "training." or ""
    strategy: str
    strategy_assumed: bool
    given: frozenset[str]  # keys present in the file (after renames)
    learning_rate: float
    seed_given: bool
    eval_strategy: str
    eval_steps: float | None
    save_strategy: str
    save_steps: float | None
    load_best: bool
    early_stopping: bool
    batch_size: int
    accumulation: int
    warmup: float
    epochs: float
    max_steps: int
    scheduler: str
    fp16: bool
    bf16: bool
    use_cpu: bool
    logging_steps: float
    max_grad_norm: float
    names: dict[str, str]  # concept -> key as written in this style

    def key(self, concept: str) -> str:
        return self.prefix + self.names.get(concept, concept)


@dataclass(frozen=True)
class LintContext:
    """What the lint rules know about the run and the machine it would train on.

    The capabilities default to this machine's (asked the way ``TrainingArguments`` asks);
    pass them to lint for another machine, or in tests.
    """

    train_rows: int | None = None
    gpus: int = 1
    cuda_available: bool | None = None  # None: ask torch when a rule needs it
    bf16_available: bool | None = None  # a bf16-capable accelerator; None: ask transformers

    def has_cuda(self) -> bool:
        if self.cuda_available is not None:
            return self.cuda_available
        import torch

        return bool(torch.cuda.is_available())

    def has_bf16(self) -> bool:
        """``TrainingArguments`` accepts ``bf16=True`` without ``use_cpu`` only on these."""
        if self.bf16_available is not None:
            return self.bf16_available
        from transformers.utils import is_torch_bf16_gpu_available, is_torch_xla_available

        return bool(is_torch_bf16_gpu_available() or is_torch_xla_available())


def total_steps(v: TrainingView, ctx: LintContext) -> int | None:
    """Optimizer steps of the run when they can be known (max_steps, or rows given)."""
    if v.max_steps > 0:
        return v.max_steps
    if ctx.train_rows is None:
        return None
    per_step = v.batch_size * v.accumulation * ctx.gpus
    return max(1, math.ceil(v.epochs * math.ceil(ctx.train_rows / per_step)))


Rule = Callable[[TrainingView, LintContext], list[Finding]]


def _lr_range(v: TrainingView, ctx: LintContext) -> list[Finding]:
    rates = LR_GUIDANCE.get(v.strategy, LR_GUIDANCE["full"])
    lo, hi = rates.low, rates.high
    what = {"lora": "LoRA", "qlora": "QLoRA"}.get(v.strategy, f"{v.strategy} fine-tuning")
    assumed = " (assumed; pass --strategy if you train adapters)" if v.strategy_assumed else ""
    key = v.key("learning_rate")
    lr = v.learning_rate
    good = rates.typical_text
    if lr > hi:
        return [
            Finding(
                "lr-range",
                "warning",
                key,
                f"learning_rate {_lr(lr)} is high for {what}{assumed} (range {_lr(lo)} .. "
                f"{_lr(hi)}); "
                "it can overwrite pretrained features or diverge",
                f"set {key} to {good}",
            )
        ]
    if lr < lo:
        why = rates.why_low
        return [
            Finding(
                "lr-range",
                "warning",
                key,
                f"learning_rate {_lr(lr)} is low for {what}{assumed} (range {_lr(lo)} .. "
                f"{_lr(hi)}); {why}",
                f"set {key} to {good}",
            )
        ]
    return []


def _seed(v: TrainingView, ctx: LintContext) -> list[Finding]:
    if v.seed_given:
        return []
    key = v.key("seed")
    return [
        Finding(
            "no-seed",
            "warning",
            key,
            "no seed: the run silently uses the default (42), and the config does not say so",
            f"set {key}: 42 explicitly (and report results over several seeds)",
        )
    ]


def _load_best(v: TrainingView, ctx: LintContext) -> list[Finding]:
    out: list[Finding] = []
    ev, sv = v.eval_strategy, v.save_strategy
    steps_mismatch = (
        ev == sv == "steps"
        and v.eval_steps is not None
        and v.save_steps is not None
        and v.eval_steps >= 1
        and v.save_steps % v.eval_steps != 0
    )
    if v.style == "training-args":
        if v.load_best and (ev == "no" or (sv != "best" and ev != sv)):
            out.append(
                Finding(
                    "load-best-mismatch",
                    "error",
                    "load_best_model_at_end",
                    f"load_best_model_at_end needs matching strategies, got eval_strategy '{ev}' "
                    f"and save_strategy '{sv}' (the Trainer raises ValueError)",
                    f"set save_strategy: {ev if ev != 'no' else 'epoch'} "
                    f"(and eval_strategy: {ev if ev != 'no' else 'epoch'})",
                )
            )
        elif v.load_best and steps_mismatch:
            out.append(
                Finding(
                    "load-best-mismatch",
                    "error",
                    "save_steps",
                    f"save_steps ({v.save_steps:g}) is not a multiple of eval_steps "
                    f"({v.eval_steps:g}); load_best_model_at_end needs it to be",
                    f"set save_steps to {v.eval_steps:g} or a multiple of it",
                )
            )
        return out
    # RunConfig: tuneproof turns load_best on itself when the strategies match.
    if ev != "no" and sv not in (ev, "best", "no"):
        out.append(
            Finding(
                "load-best-mismatch",
                "warning",
                v.key("save_strategy"),
                f"eval_strategy '{ev}' and save_strategy '{sv}' differ, so the best checkpoint "
                "is not kept" + (" and early stopping is off" if v.early_stopping else ""),
                f"set {v.key('save_strategy')}: {ev}",
            )
        )
    if steps_mismatch:
        out.append(
            Finding(
                "load-best-mismatch",
                "error",
                v.key("save_steps"),
                f"save_steps ({v.save_steps:g}) is not a multiple of eval_steps "
                f"({v.eval_steps:g}); `tuneproof train` stops with an error",
                f"set {v.key('save_steps')} to {v.eval_steps:g} or a multiple of it",
            )
        )
    if ev == "no" and v.early_stopping:
        out.append(
            Finding(
                "early-stopping-off",
                "warning",
                v.key("early_stopping_patience"),
                "early_stopping_patience is set but eval_strategy is 'no': it never triggers",
                f"set {v.key('eval_strategy')}: epoch, or early_stopping_patience: null",
            )
        )
    return out


def _eval_vs_save(v: TrainingView, ctx: LintContext) -> list[Finding]:
    ev, sv = v.eval_strategy, v.save_strategy
    key = v.key("eval_strategy")
    if ev == "no":
        return [
            Finding(
                "no-eval",
                "warning",
                key,
                "no evaluation during training: no learning curve, no best checkpoint, "
                "no early stopping",
                f"set {key}: epoch (or steps with eval_steps)",
            )
        ]
    less_often = (ev == "epoch" and sv == "steps") or (
        ev == sv == "steps"
        and v.eval_steps is not None
        and v.save_steps is not None
        and v.eval_steps > v.save_steps
    )
    if less_often:
        return [
            Finding(
                "eval-less-often-than-save",
                "warning",
                key,
                "evaluation runs less often than saving: checkpoints in between have no metric "
                "to pick the best by",
                f"evaluate at least as often as you save ({v.key('eval_steps')} <= "
                f"{v.key('save_steps')}, or the same strategy)",
            )
        ]
    return []


def _batch(v: TrainingView, ctx: LintContext) -> list[Finding]:
    eff = v.batch_size * v.accumulation * ctx.gpus
    if eff < 8:
        return [
            Finding(
                "effective-batch",
                "warning",
                v.key("gradient_accumulation_steps"),
                f"effective batch size {eff} (batch {v.batch_size} x accumulation "
                f"{v.accumulation} x {ctx.gpus} GPU) gives noisy updates",
                f"raise {v.key('gradient_accumulation_steps')} to reach 16..32",
            )
        ]
    if ctx.train_rows is not None and eff > ctx.train_rows / 10:
        return [
            Finding(
                "effective-batch",
                "warning",
                v.key("batch_size"),
                f"effective batch size {eff} is over a tenth of the {ctx.train_rows:,} rows: "
                "fewer than 10 updates per epoch",
                "lower the batch size or gradient accumulation",
            )
        ]
    return []


def _warmup(v: TrainingView, ctx: LintContext) -> list[Finding]:
    key = v.key("warmup")
    steps = total_steps(v, ctx)
    if v.warmup == 0:
        if v.strategy in ("lora", "qlora"):
            return []
        return [
            Finding(
                "no-warmup",
                "warning",
                key,
                "no warmup: the first updates at the full learning rate can wreck pretrained "
                "features",
                f"set {key}: 0.1 (a ratio of all steps)",
            )
        ]
    if v.warmup < 1 and v.warmup > 0.3:
        return [
            Finding(
                "warmup-long",
                "warning",
                key,
                f"warmup of {v.warmup:.0%} of all steps leaves little time at the full rate",
                f"set {key}: 0.06 .. 0.1",
            )
        ]
    if v.warmup >= 1 and steps is not None and v.warmup >= steps:
        return [
            Finding(
                "warmup-long",
                "error",
                key,
                f"{v.warmup:g} warmup steps but the run has only {steps}: the learning rate "
                "never reaches its value",
                f"set {key}: 0.1 (a ratio)",
            )
        ]
    if v.warmup < 1 and steps is not None and 0 < v.warmup * steps < 1:
        return [
            Finding(
                "warmup-long",
                "warning",
                key,
                f"a warmup ratio of {v.warmup:g} over {steps} steps rounds to 0 warmup steps",
                "train for more steps or use an integer number of warmup steps",
            )
        ]
    return []


def _precision(v: TrainingView, ctx: LintContext) -> list[Finding]:
    out: list[Finding] = []
    if v.fp16 and v.bf16:
        out.append(
            Finding(
                "precision",
                "error",
                v.key("fp16"),
                "fp16 and bf16 are both on",
                "keep one (bf16 on Ampere or newer GPUs)",
            )
        )
    if v.fp16 and v.use_cpu:
        out.append(
            Finding(
                "fp16-cpu",
                "error",
                v.key("fp16"),
                "fp16 mixed precision with use_cpu: fp16 training needs a CUDA GPU",
                "drop fp16 (use bf16 or fp32 on CPU)",
            )
        )
    elif v.fp16 and not ctx.has_cuda():
        out.append(
            Finding(
                "fp16-cpu",
                "warning",
                v.key("fp16"),
                "fp16 needs a CUDA GPU and this machine has none: training here fails",
                "use bf16 or fp32 when training on CPU",
            )
        )
    if v.bf16 and not v.use_cpu and not ctx.has_bf16():
        key = v.key("bf16")
        cpu = "" if v.style == "runconfig" else " (or use_cpu: true to train in bf16 on CPU)"
        out.append(
            Finding(
                "bf16-unsupported",
                "warning",
                key,
                "bf16 needs a GPU with bf16 support (Ampere or newer) and this machine has none: "
                "TrainingArguments raises ValueError here",
                f"use fp32 on this machine{cpu}, or fp16 on an older CUDA GPU",
            )
        )
    return out


def _scheduler(v: TrainingView, ctx: LintContext) -> list[Finding]:
    steps = total_steps(v, ctx)
    out: list[Finding] = []
    if steps is None:
        return out
    if v.scheduler in _DECAYING and steps < MIN_SCHEDULER_STEPS:
        out.append(
            Finding(
                "few-steps",
                "warning",
                v.key("lr_scheduler_type"),
                f"only {steps} optimizer steps: the {v.scheduler} schedule (warmup then decay) "
                "has little room to work",
                "train longer (epochs/max_steps) or use a constant schedule with warmup",
            )
        )
    if v.logging_steps >= 1 and v.logging_steps > steps:
        out.append(
            Finding(
                "logging",
                "info",
                v.key("logging_steps"),
                f"logging every {v.logging_steps:g} steps but the run has {steps}: "
                "nothing is logged",
                f"set {v.key('logging_steps')} below {steps}",
            )
        )
    return out


def _clipping(v: TrainingView, ctx: LintContext) -> list[Finding]:
    if v.max_grad_norm > 0:
        return []
    return [
        Finding(
            "no-clipping",
            "info",
            v.key("max_grad_norm"),
            "gradient clipping is off: one bad batch can blow up the weights",
            f"set {v.key('max_grad_norm')}: 1.0",
        )
    ]


def _epochs(v: TrainingView, ctx: LintContext) -> list[Finding]:
    if v.max_steps > 0 or v.epochs <= 10 or v.strategy in ("lora", "qlora"):
        return []
    return [
        Finding(
            "many-epochs",
            "info",
            v.key("epochs"),
            f"{v.epochs:g} epochs of full fine-tuning usually memorise the training set",
            "use 2..4 epochs with early stopping on the validation metric",
        )
    ]


RULES: dict[str, Rule] = {
    "lr-range": _lr_range,
    "no-seed": _seed,
    "load-best-mismatch": _load_best,
    "eval-vs-save": _eval_vs_save,
    "effective-batch": _batch,
    "warmup": _warmup,
    "precision": _precision,
    "scheduler": _scheduler,
    "clipping": _clipping,
    "epochs": _epochs,
}


@dataclass(frozen=True)
class LintReport:
    source: str
    style: str
    findings: tuple[Finding, ...]

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)

    def worst(self) -> str | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=SEVERITIES.index)

    def fails(self, fail_on: str) -> bool:
        """True when a finding reaches ``fail_on`` (info < warning < error; 'never': never)."""
        if fail_on == "never" or not self.findings:
            return False
        worst = self.worst()
        assert worst is not None
        return SEVERITIES.index(worst) >= SEVERITIES.index(fail_on)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "style": self.style,
            "summary": {s: self.count(s) for s in reversed(SEVERITIES)},
            "findings": [f.to_dict() for f in self.findings],
        }


MAX_TEXT = 200_000  # characters of a pasted snippet or a config file (a config is ~2 KB)
FORMATS: tuple[str, ...] = ("auto", "yaml", "json", "python")
_PY_CALL = re.compile(r"\b\w*TrainingArguments\s*\(")


def _format_for(path: Path) -> str:
    return {".json": "json", ".py": "python"}.get(path.suffix, "yaml")


def read_source(path: str | Path) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A YAML, JSON or Python (``TrainingArguments(...)``) file as a mapping of keys, and the
    keyword arguments skipped because they are not literals (see :func:`parse_text`)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    return parse_text(text, str(path), _format_for(path))


def read_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML, JSON or Python file of keys (no validation: the linter reports problems)."""
    return read_source(path)[0]


def parse_text(
    text: str, source: str = "snippet", fmt: str = "auto"
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Pasted text as a mapping of keys: YAML, JSON, or Python with a ``TrainingArguments(...)``
    call (``auto``: Python when the text has such a call). Python is read with :mod:`ast` and
    only literal values are taken (``ast.literal_eval``; nothing is run); the names of the other
    keyword arguments come back as the second element."""
    if fmt not in FORMATS:
        raise UserError(f"format: '{fmt}' is not one of {', '.join(FORMATS)}")
    if not text.strip():
        raise UserError(
            f"{source}: empty; paste a YAML mapping or a Python TrainingArguments(...) call"
        )
    if len(text) > MAX_TEXT:
        raise UserError(
            f"{source}: {len(text):,} characters, over the {MAX_TEXT:,} a config can have; "
            "paste only the training arguments"
        )
    if fmt == "auto":
        fmt = "python" if _PY_CALL.search(text) else "yaml"
    if fmt == "python":
        return parse_python(text, source)
    if fmt == "json":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise UserError(f"{source}: invalid JSON (line {err.lineno}: {err.msg})") from None
    else:
        raw = parse_yaml_text(text, source)
    if not isinstance(raw, dict):
        raise UserError(f"{source}: expected a mapping of keys at top level")
    return raw, ()


def _callee(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def parse_python(text: str, source: str = "snippet") -> tuple[dict[str, Any], tuple[str, ...]]:
    """The keyword arguments of the first ``TrainingArguments(...)`` (or
    ``Seq2SeqTrainingArguments``) call in ``text``, parsed, never run."""
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        raise UserError(f"{source}: line {err.lineno}: invalid Python ({err.msg})") from None
    calls = sorted(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and _callee(n.func).endswith("TrainingArguments")
        ),
        key=lambda n: (n.lineno, n.col_offset),
    )
    if not calls:
        raise UserError(f"{source}: no TrainingArguments(...) call in the Python")
    call = calls[0]
    raw: dict[str, Any] = {}
    skipped: list[str] = []
    if call.args:  # TrainingArguments("out", ...): output_dir is the first positional argument
        try:
            raw["output_dir"] = ast.literal_eval(call.args[0])
        except ValueError:
            skipped.append("output_dir")
    for kw in call.keywords:
        if kw.arg is None:
            skipped.append("**" + ast.unparse(kw.value))
            continue
        try:
            raw[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            skipped.append(kw.arg)
    return raw, tuple(skipped)


def _unwrap(raw: dict[str, Any]) -> dict[str, Any]:
    if len(raw) == 1:
        ((key, value),) = raw.items()
        if key in _WRAPPER_KEYS and isinstance(value, dict):
            return value
    return raw


def is_runconfig(raw: dict[str, Any]) -> bool:
    return bool(_RUNCONFIG_SECTIONS & set(raw)) and not ({"output_dir"} & set(raw))


def lint_mapping(
    raw: dict[str, Any],
    source: str = "config",
    *,
    strategy: str | None = None,
    context: LintContext | None = None,
) -> LintReport:
    """Lint a parsed config (either style); every finding at once."""
    ctx = context or LintContext()
    if strategy is not None and strategy not in LR_GUIDANCE:
        raise UserError(f"--strategy: '{strategy}' is not one of {', '.join(LR_GUIDANCE)}")
    raw = _unwrap(raw)
    if is_runconfig(raw):
        findings, view = _runconfig_view(raw, strategy)
        style = "runconfig"
    else:
        findings, view = _training_args_view(raw, strategy)
        style = "training-args"
    if view is not None:
        for rule in RULES.values():
            findings += rule(view, ctx)
    return LintReport(source, style, tuple(findings))


def _with_skipped(report: LintReport, skipped: tuple[str, ...]) -> LintReport:
    notes = tuple(
        Finding(
            "not-literal",
            "info",
            name,
            f"{name} is not a literal value (a variable or an expression), so it is not linted",
            "write the value itself to have it checked",
        )
        for name in skipped
    )
    return LintReport(report.source, report.style, notes + report.findings)


def lint_file(
    path: str | Path, *, strategy: str | None = None, context: LintContext | None = None
) -> LintReport:
    raw, skipped = read_source(path)
    report = lint_mapping(raw, str(path), strategy=strategy, context=context)
    return _with_skipped(report, skipped)


def lint_text(
    text: str,
    source: str = "snippet",
    fmt: str = "auto",
    *,
    strategy: str | None = None,
    context: LintContext | None = None,
) -> LintReport:
    """Lint pasted YAML, JSON or Python ``TrainingArguments(...)`` (what the app's explorer and
    ``tuneproof args lint`` on a file give alike)."""
    raw, skipped = parse_text(text, source, fmt)
    report = lint_mapping(raw, source, strategy=strategy, context=context)
    return _with_skipped(report, skipped)


# --- the two config styles -> TrainingView ----------------------------------------------------

_ARGS_NAMES = {
    "epochs": "num_train_epochs",
    "batch_size": "per_device_train_batch_size",
    "warmup": "warmup_steps",
    "eval_steps": "eval_steps",
    "save_steps": "save_steps",
    "lr_scheduler_type": "lr_scheduler_type",
}
_RUNCONFIG_NAMES = {
    "lr_scheduler_type": "lr_scheduler",
    "fp16": "precision",
    "bf16": "precision",
    "use_cpu": "precision",
}


def _view_from_kwargs(
    values: dict[str, Any],
    fields: dict[str, dataclasses.Field[Any]],
    findings: list[Finding],
    *,
    style: str,
    prefix: str,
    strategy: str,
    strategy_assumed: bool,
    given: frozenset[str],
    early_stopping: bool,
    names: dict[str, str],
) -> TrainingView | None:
    """The view of ``TrainingArguments(**values)``: the given kwargs, else the installed
    defaults. Both config styles go through it (a RunConfig as ``training_kwargs`` maps it), so
    the rules lint what the Trainer gets. None (with a finding) when a value has the wrong type."""

    def get(name: str) -> Any:
        if name in values:
            return values[name]
        f = fields[name]
        if f.default is not dataclasses.MISSING:
            return f.default
        return None

    try:
        return TrainingView(
            style=style,
            prefix=prefix,
            strategy=strategy,
            strategy_assumed=strategy_assumed,
            given=given,
            learning_rate=float(get("learning_rate")),
            seed_given="seed" in given,
            eval_strategy=str(_enum(get("eval_strategy"))),
            eval_steps=_num(get("eval_steps")),
            save_strategy=str(_enum(get("save_strategy"))),
            save_steps=_num(get("save_steps")),
            load_best=bool(get("load_best_model_at_end")),
            early_stopping=early_stopping,
            batch_size=int(get("per_device_train_batch_size")),
            accumulation=int(get("gradient_accumulation_steps")),
            warmup=float(get("warmup_steps") or 0),
            epochs=float(get("num_train_epochs")),
            max_steps=int(get("max_steps")),
            scheduler=str(_enum(get("lr_scheduler_type"))),
            fp16=bool(get("fp16")),
            bf16=bool(get("bf16")),
            use_cpu=bool(get("use_cpu")),
            logging_steps=float(get("logging_steps")),
            max_grad_norm=float(get("max_grad_norm")),
            names=names,
        )
    except (TypeError, ValueError) as err:
        findings.append(
            Finding(
                "invalid-value",
                "error",
                "(values)",
                f"a value has the wrong type ({err})",
                "fix the value's type (numbers for rates and steps, true/false for flags)",
            )
        )
        return None


def _training_args_view(
    raw: dict[str, Any], strategy: str | None
) -> tuple[list[Finding], TrainingView | None]:
    fields = training_fields()
    findings: list[Finding] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in REMOVED_ARGS and key not in fields:
            new, how = REMOVED_ARGS[key]
            fix = (
                f"delete {key}"
                if new is None
                else f'{new}="group_by_length"'
                if key == "group_by_length"
                else f"{new}: {_val(value)}"
            )
            findings.append(Finding("removed-name", "error", key, how, fix))
            if new is not None and new in fields and key != "group_by_length":
                values.setdefault(new, value)
            continue
        if key not in fields:
            findings.append(
                Finding(
                    "unknown-key",
                    "error",
                    key,
                    f"{key} is not a TrainingArguments field in this transformers"
                    f"{did_you_mean(key, fields)}",
                    "fix the name or delete the key",
                )
            )
            continue
        text_number = numeric_string(key, value)
        if text_number is not None:
            kind, number = text_number
            why = f" (YAML reads {value} without a dot as a string)" if number is not None else ""
            findings.append(
                Finding(
                    "string-not-number",
                    "error",
                    key,
                    f"{key} is the string {value!r}, not "
                    f"{'an integer' if kind is int else 'a number'}{why}; TrainingArguments does "
                    "not check it and training fails later (the optimizer rejects a string)",
                    f"{key}: {_val(number)}" if number is not None else f"write {key} as a number",
                )
            )
            if number is None:
                continue
            value = number  # lint the rest with the number it was meant to be
        help_text = " ".join(str(fields[key].metadata.get("help", "")).split())
        if help_text.lower().startswith("deprecated"):
            target = alias_target(help_text)
            fix = f"{target}: {_val(value)}" if target else f"stop using {key}"
            findings.append(Finding("deprecated-name", "warning", key, help_text, fix))
        values[key] = value

    view = _view_from_kwargs(
        values,
        fields,
        findings,
        style="training-args",
        prefix="",
        strategy=strategy or "full",
        strategy_assumed=strategy is None,
        given=frozenset(values),
        early_stopping=False,
        names=dict(_ARGS_NAMES),
    )
    if view is None:
        return findings, None
    if view.eval_strategy == "steps" and "eval_steps" not in values:
        findings.append(
            Finding(
                "eval-steps-default",
                "info",
                "eval_steps",
                "eval_strategy 'steps' without eval_steps evaluates every logging_steps "
                f"({view.logging_steps:g})",
                "set eval_steps explicitly",
            )
        )
    return findings, view


def _enum(value: Any) -> Any:
    return getattr(value, "value", value)


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _section_keys(loc: tuple[Any, ...]) -> list[str]:
    """Valid keys beside the one at ``loc`` in RunConfig (for did-you-mean on typos)."""
    from pydantic import BaseModel

    from tuneproof.config import RunConfig

    current: Any = RunConfig
    for part in loc[:-1]:
        field = current.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return []
        ann = field.annotation
        nxt = next(
            (
                a
                for a in (ann, *getattr(ann, "__args__", ()))
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
        if nxt is None:
            return []
        current = nxt
    return list(current.model_fields)


def _pydantic_problem(e: Any, key: str) -> tuple[str, str]:
    """One pydantic error as (message, fix), in the words of tuneproof.config."""
    from tuneproof.config import RENAMED_KEYS

    loc = tuple(e["loc"])
    if e["type"] == "extra_forbidden":
        last = str(loc[-1])
        if last in RENAMED_KEYS:
            return f"unknown key '{key}'", f"use {RENAMED_KEYS[last]}"
        hint = did_you_mean(last, _section_keys(loc))
        return f"unknown key '{key}'{hint}", "fix or delete it; `tuneproof init` shows all keys"
    if e["type"] == "missing":
        return f"missing required key '{key}'", f"add {key}"
    value = e.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    return f"{key}: {e['msg'].removeprefix('Value error, ')}{shown}", f"fix {key}"


def _runconfig_view(
    raw: dict[str, Any], strategy: str | None
) -> tuple[list[Finding], TrainingView | None]:
    from pydantic import ValidationError

    from tuneproof.config import RENAMED_KEYS, RunConfig, TrainingConfig

    findings: list[Finding] = []
    training_raw = raw.get("training") or {}
    if not isinstance(training_raw, dict):
        return [
            Finding(
                "invalid-config",
                "error",
                "training",
                "training: must be a mapping",
                "write training: as a mapping of keys",
            )
        ], None
    training: dict[str, Any] = {}
    for key, value in training_raw.items():
        if key not in _RUNCONFIG_RENAMES or key in TrainingConfig.model_fields:
            training[key] = value
            continue
        new = _RUNCONFIG_RENAMES[key]
        how = RENAMED_KEYS.get(key, f"{new}" if new else "nothing")
        if key in ("fp16", "bf16"):
            fix = f"training.precision: {key}" if value else f"delete training.{key}"
            if value:
                training.setdefault("precision", key)
        elif new is None:
            fix = f"delete training.{key}"
        else:
            fix = f"training.{new}: {_val(value)}"
            training.setdefault(new, value)
        findings.append(
            Finding(
                "removed-name",
                "error",
                f"training.{key}",
                f"not a tuneproof key (an old TrainingArguments name); use {how}",
                fix,
            )
        )
    fixed = {**raw, "training": training}
    try:
        RunConfig.model_validate(fixed)
    except ValidationError as err:
        for e in err.errors():
            key = ".".join(str(p) for p in e["loc"]) or "(top level)"
            message, fix = _pydantic_problem(e, key)
            findings.append(Finding("invalid-config", "error", key, message, fix))
    from tuneproof.tasks import TASKS, unknown_task

    if "task" in raw and raw["task"] not in TASKS:
        findings.append(
            Finding("invalid-config", "error", "task", f"task: {unknown_task(str(raw['task']))}",
                    "fix task")
        )  # fmt: skip
    try:
        t = TrainingConfig.model_validate(training)
    except ValidationError:
        return findings, None  # its errors were reported above
    strat_raw = raw.get("strategy") or {}
    kind = strategy or (strat_raw.get("kind") if isinstance(strat_raw, dict) else None) or "full"
    # What `tuneproof train` passes to TrainingArguments (training_kwargs reads only the
    # training section; the data section is a stand-in when the file's is invalid).
    from tuneproof.arguments import training_kwargs

    task = TASKS.get(str(raw.get("task", "sequence-classification")))
    kwargs = training_kwargs(
        RunConfig(data={"train": "(linted)"}, training=t),
        "(linted)",
        main_metric=task.main_metric if task else "loss",
        greater_is_better=task.greater_is_better if task else False,
        validate=False,
    )
    view = _view_from_kwargs(
        kwargs,
        training_fields(),
        findings,
        style="runconfig",
        prefix="training.",
        strategy=str(kind),
        strategy_assumed=False,
        given=frozenset(training),
        early_stopping=t.early_stopping_patience is not None,
        names=dict(_RUNCONFIG_NAMES),
    )
    return findings, view


# --- snippet ----------------------------------------------------------------------------------


def _py(value: Any) -> str:
    return repr(value)


def _call(name: str, kwargs: dict[str, Any], comments: dict[str, str] | None = None) -> str:
    comments = comments or {}
    lines = [f"{name}("]
    for k, v in kwargs.items():
        note = f"  # {comments[k]}" if k in comments else ""
        lines.append(f"    {k}={_py(v)},{note}")
    lines.append(")")
    return "\n".join(lines)


def snippet_for_runconfig(path: str | Path) -> str:
    """``TrainingArguments(...)`` (and ``LoraConfig``) exactly as ``tuneproof train`` builds."""
    from tuneproof.tasks import load_config

    return _runconfig_python(load_config(path), str(path))


def _runconfig_python(cfg: Any, source: str) -> str:
    import transformers

    from tuneproof.arguments import training_kwargs
    from tuneproof.tasks import get_task

    task = get_task(cfg.task)
    metric, greater = task.main_metric, task.greater_is_better
    out_dir = Path("runs") / (cfg.name or Path(source).stem) / "checkpoints"
    kwargs = training_kwargs(cfg, out_dir, main_metric=metric, greater_is_better=greater)
    parts = [
        f"# {source}: what `tuneproof train` passes to the Trainer "
        f"(transformers {transformers.__version__})",
        "from transformers import TrainingArguments",
        "",
        "args = " + _call("TrainingArguments", kwargs),
    ]
    s = cfg.strategy
    if s.kind in ("lora", "qlora"):
        lc = s.lora
        targets = (
            lc.target_modules if isinstance(lc.target_modules, str) else list(lc.target_modules)
        )
        lora_kwargs = {
            "r": lc.r,
            "lora_alpha": lc.alpha,
            "lora_dropout": lc.dropout,
            "target_modules": targets,
            "bias": lc.bias,
            "task_type": task.peft_task_type,
        }
        parts += [
            "",
            "from peft import LoraConfig",
            "",
            "lora_config = " + _call("LoraConfig", lora_kwargs),
        ]
    return "\n".join(parts) + "\n"


def migrate_training_args(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Rename/drop what transformers 5 removed; returns (kwargs, comment per kwarg/dropped key).

    A number written as a string (``learning_rate: 2e-5`` in YAML) becomes the number; one
    that is no number at all is an error, never emitted.
    """
    fields = training_fields()
    kwargs: dict[str, Any] = {}
    comments: dict[str, str] = {}
    for key, value in _unwrap(raw).items():
        text_number = numeric_string(key, value)
        if text_number is not None:
            kind, number = text_number
            if number is None:
                raise UserError(
                    f"{key}: {value!r} is not {'an integer' if kind is int else 'a number'}; "
                    "fix it (`tuneproof args lint` lists every problem)"
                )
            comments[key] = f"was the string {value!r} (YAML reads {value} without a dot as text)"
            value = number
        if key in REMOVED_ARGS and key not in fields:
            new, how = REMOVED_ARGS[key]
            if new is None or new not in fields:
                comments[key] = f"dropped {key}: {how}"
                continue
            if key == "group_by_length":
                if value:
                    kwargs[new] = "group_by_length"
                    comments[new] = f"was group_by_length={value!r}"
                continue
            kwargs[new] = value
            comments[new] = f"was {key}"
        elif key in fields:
            target = alias_target(str(fields[key].metadata.get("help", "")))
            if target is not None and target in fields:
                kwargs[target] = value
                comments[target] = f"was {key} (deprecated alias)"
            else:
                kwargs[key] = value
        else:
            comments[key] = f"dropped {key}: not a TrainingArguments field"
    return kwargs, comments


def snippet_for_training_args(path: str | Path) -> str:
    """A tutorial-style kwargs file as transformers-5 ``TrainingArguments(...)``."""
    raw, skipped = read_source(path)
    return _training_args_python(raw, str(path), skipped)


def _training_args_python(raw: dict[str, Any], source: str, skipped: tuple[str, ...] = ()) -> str:
    import transformers

    kwargs, comments = migrate_training_args(raw)
    dropped = [c for k, c in comments.items() if k not in kwargs]
    dropped += [f"not a literal, left out (set it yourself): {name}" for name in skipped]
    parts = [
        f"# {source} for transformers {transformers.__version__} (old names migrated)",
        *[f"# {c}" for c in dropped],
        "from transformers import TrainingArguments",
        "",
        "args = "
        + _call("TrainingArguments", kwargs, {k: c for k, c in comments.items() if k in kwargs}),
    ]
    return "\n".join(parts) + "\n"


def snippet(path: str | Path) -> str:
    """The equivalent Python for either config style."""
    raw = _unwrap(read_mapping(path))
    if is_runconfig(raw):
        return snippet_for_runconfig(path)
    return snippet_for_training_args(path)


# TrainingArguments name -> tuneproof `training:` key (precision and checkpointing are special)
TO_TUNEPROOF: dict[str, str] = {
    "learning_rate": "learning_rate",
    "num_train_epochs": "epochs",
    "max_steps": "max_steps",
    "per_device_train_batch_size": "batch_size",
    "per_device_eval_batch_size": "eval_batch_size",
    "gradient_accumulation_steps": "gradient_accumulation_steps",
    "warmup_steps": "warmup",
    "lr_scheduler_type": "lr_scheduler",
    "weight_decay": "weight_decay",
    "max_grad_norm": "max_grad_norm",
    "eval_strategy": "eval_strategy",
    "eval_steps": "eval_steps",
    "save_strategy": "save_strategy",
    "save_steps": "save_steps",
    "save_total_limit": "save_total_limit",
    "logging_steps": "logging_steps",
    "metric_for_best_model": "metric_for_best_model",
    "seed": "seed",
    "activation_checkpointing": "gradient_checkpointing",
}
_SET_BY_TUNEPROOF = {
    "output_dir": "`tuneproof train -o runs/NAME` sets it",
    "load_best_model_at_end": "tuneproof turns it on when eval and save strategies match",
    "greater_is_better": "tuneproof sets it from the task's main metric",
    "report_to": "tuneproof tracks with MLflow (tracking:)",
}


def tuneproof_training(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """TrainingArguments kwargs (migrated to transformers-5 names) as a tuneproof ``training:``
    section, checked by ``TrainingConfig``; plus a note for each key not carried over."""
    from pydantic import ValidationError

    from tuneproof.config import TrainingConfig

    kwargs, _ = migrate_training_args(raw)
    training: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in kwargs.items():
        value = _enum(value)
        if key in ("bf16", "fp16"):
            if value:
                training["precision"] = key
            continue
        if key in TO_TUNEPROOF:
            training[TO_TUNEPROOF[key]] = value
        elif key in _SET_BY_TUNEPROOF:
            notes.append(f"{key}: {_SET_BY_TUNEPROOF[key]}")
        else:
            notes.append(f"{key}: no tuneproof key; keep it in Python if you need it")
    for _ in range(len(training) + 1):  # drop what TrainingConfig refuses, one key at a time
        try:
            TrainingConfig.model_validate(training)
            break
        except ValidationError as err:
            e = err.errors()[0]
            key = str(e["loc"][0]) if e["loc"] else ""
            if key not in training:
                break
            notes.append(f"{key}: dropped ({e['msg']})")
            training.pop(key)
    return training, notes


@dataclass(frozen=True)
class Snippet:
    style: str
    python: str
    yaml: str

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def snippet_text(text: str, source: str = "snippet", fmt: str = "auto") -> Snippet:
    """Pasted config text as Python for the installed transformers and as tuneproof YAML.

    A tuneproof config gives what ``tuneproof train`` passes (and the config normalised); a
    ``TrainingArguments`` mapping or call gives the migrated call and a ``training:`` section."""
    from tuneproof.tasks import parse_config

    raw, skipped = parse_text(text, source, fmt)
    raw = _unwrap(raw)
    if is_runconfig(raw):
        cfg = parse_config(raw, source)
        return Snippet("runconfig", _runconfig_python(cfg, source), cfg.to_yaml())
    training, notes = tuneproof_training(raw)
    body = yaml.safe_dump({"training": training}, sort_keys=False, allow_unicode=True)
    header = f"# {source} as a tuneproof config: the training section (add data, model, task)\n"
    footer = "".join(f"# not carried over: {n}\n" for n in notes)
    python = _training_args_python(raw, source, skipped)
    return Snippet("training-args", python, header + body + footer)


@dataclass(frozen=True)
class StepCounts:
    """Optimizer steps of a run, as the Trainer counts them (for the concepts page's calculator)."""

    rows: int
    batch_size: int
    accumulation: int
    devices: int
    epochs: float
    warmup: float
    effective_batch: int
    steps_per_epoch: int
    total_steps: int
    warmup_steps: int


def step_counts(
    rows: int,
    batch_size: int,
    accumulation: int = 1,
    devices: int = 1,
    epochs: float = 3.0,
    warmup: float = 0.1,
) -> StepCounts:
    """Steps per epoch = ceil(rows / effective batch); total = ceil(epochs x that) (the
    dataloader's last short batch is a step); warmup < 1 is a ratio, rounded up as transformers
    does."""
    for name, value in (("rows", rows), ("batch size", batch_size)):
        if value < 1:
            raise UserError(f"{name}: must be at least 1 (got {value})")
    if accumulation < 1 or devices < 1 or epochs <= 0 or warmup < 0:
        raise UserError("accumulation and devices must be >= 1, epochs > 0 and warmup >= 0")
    effective = batch_size * accumulation * devices
    per_epoch = math.ceil(rows / effective)
    total = max(1, math.ceil(epochs * per_epoch))
    warm = math.ceil(warmup * total) if warmup < 1 else int(warmup)
    return StepCounts(
        rows, batch_size, accumulation, devices, epochs, warmup, effective, per_epoch, total, warm
    )
