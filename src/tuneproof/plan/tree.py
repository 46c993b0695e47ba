"""The strategy decision tree of ``tuneproof plan`` and the app's ``/strategy`` page, step by step.

:func:`~tuneproof.plan.strategy.make_plan` costs full fine-tuning, freezing, LoRA and QLoRA and
picks by memory, data, deployment and time. The tree asks the questions that come before and
after it, and records every branch it takes with the numbers behind it:

1. *Is there enough labelled data to fine-tune at all?* Below :data:`FEW_ROWS` rows the test split
   is too small to show a fine-tuned model beats a prompt (its 95 % interval is ± tens of points),
   so the answer is *don't fine-tune*: prompt an instruction model or use a zero-shot classifier.
2. *Does the task change often?* When labels or instructions change faster than a relabel-and-
   retrain cycle, every change costs a new training run: prompting again.
3. The memory, deployment, data-size and time rules of ``make_plan`` (their numbers).
4. *How far is the task from pre-training?* Only when full fine-tuning won: a far task
   (``shift="high"``) with less than ``LARGE_DATA_ROWS`` rows unfreezes progressively (top
   layers first, so early updates do not wreck general features); a near one (``shift="low"``)
   freezes the bottom half, whose general features already fit.

Every option not taken is listed with the reason it lost.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

from tuneproof.errors import UserError, did_you_mean
from tuneproof.plan.memory import format_bytes
from tuneproof.plan.strategy import (
    LARGE_DATA_ROWS,
    RULES,
    SMALL_DATA_ROWS,
    OptionCost,
    Plan,
    format_hours,
    run_config_dict,
)

Shift = Literal["low", "medium", "high"]
SHIFTS: tuple[str, ...] = ("low", "medium", "high")
FEW_ROWS = 200  # below: a 10 % test split has < 20 rows, a ±22-point interval or wider
TEST_FRACTION = 0.1  # the split the emitted config uses
Z95 = 1.96

KINDS = ("prompting", "full", "freeze", "progressive", "lora", "qlora")
NAMES = {
    "prompting": "Don't fine-tune: prompt an instruction model or use a zero-shot classifier",
    "full": "Full fine-tuning",
    "freeze": "Layer freezing (bottom half)",
    "progressive": "Progressive unfreezing",
    "lora": "LoRA",
    "qlora": "QLoRA",
    "none": "Nothing fits",
}


@dataclass(frozen=True)
class Step:
    """One question of the tree: the answer for these inputs, its numbers and what it decided."""

    question: str
    answer: str
    numbers: dict[str, Any]
    outcome: str  # "continue" or the kind it decided

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Rejected:
    kind: str
    why: str

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Walk:
    """The path through the tree, on top of the costed :class:`Plan`."""

    plan: Plan
    shift: str
    changes_often: bool
    steps: tuple[Step, ...]
    recommendation: str  # a key of NAMES
    reason: str
    rejected: tuple[Rejected, ...]

    @property
    def fine_tunes(self) -> bool:
        return self.recommendation not in ("prompting", "none")

    def option(self) -> OptionCost | None:
        """The costed option the recommendation trains with (progressive: full's memory)."""
        kind = {"progressive": "full"}.get(self.recommendation, self.recommendation)
        return self.plan.option(kind) if kind in ("full", "freeze", "lora", "qlora") else None

    def to_dict(self) -> dict[str, Any]:
        o = self.option()
        return {
            "recommendation": self.recommendation,
            "name": NAMES[self.recommendation],
            "reason": self.reason,
            "shift": self.shift,
            "changes_often": self.changes_often,
            "trainable_params": o.trainable_params if o else None,
            "peak_bytes": o.peak_bytes if o else None,
            "hours": round(o.hours, 3) if o else None,
            "steps": [s.to_dict() for s in self.steps],
            "rejected": [r.to_dict() for r in self.rejected],
            "plan": self.plan.to_dict(),
        }


def ci_half_width(n: int) -> float:
    """The 95 % half-width of an accuracy near 50 % on ``n`` test rows (normal approximation)."""
    return Z95 * math.sqrt(0.25 / max(n, 1))


def check_shift(shift: str) -> str:
    if shift not in SHIFTS:
        raise UserError(
            f"--shift: '{shift}' is not one of {', '.join(SHIFTS)}{did_you_mean(shift, SHIFTS)}"
        )
    return shift


def walk(plan: Plan, *, shift: str = "medium", changes_often: bool = False) -> Walk:
    """Walk the tree for a costed plan; see the module docstring for the questions."""
    check_shift(shift)
    i = plan.inputs
    usable = format_bytes(i.usable_bytes)
    fitting = [o for o in plan.options if o.fits]
    steps: list[Step] = []
    test_rows = max(1, int(i.train_rows * TEST_FRACTION))
    half = ci_half_width(test_rows)
    decided: str | None = None
    reason = ""

    enough = i.train_rows >= FEW_ROWS
    steps.append(
        Step(
            "Is there enough labelled data to fine-tune?",
            f"{'yes' if enough else 'no'}: {i.train_rows:,} rows (at least {FEW_ROWS:,} needed)",
            {
                "train_rows": i.train_rows,
                "few_rows": FEW_ROWS,
                "test_rows": test_rows,
                "ci_half_width": round(half, 4),
            },
            "continue" if enough else "prompting",
        )
    )
    if not enough:
        decided = "prompting"
        reason = (
            f"{i.train_rows:,} labelled rows leave {test_rows} for a test split, where a "
            f"95 % interval is ±{half:.0%}: no fine-tuned model could be shown to beat a prompt; "
            "use the rows as few-shot examples and as the evaluation set"
        )

    cheapest = min(fitting, key=lambda o: o.hours) if fitting else None
    if decided is None:
        retrain = format_hours(cheapest.hours) if cheapest else "n/a"
        steps.append(
            Step(
                "Does the task change often (labels, instructions)?",
                "yes" if changes_often else "no",
                {"retrain_hours": round(cheapest.hours, 3) if cheapest else None},
                "prompting" if changes_often else "continue",
            )
        )
        if changes_often:
            decided = "prompting"
            reason = (
                f"each change means relabelling and retraining (~{retrain} for the cheapest "
                "option that fits, plus evaluation); a prompt or a zero-shot model changes with "
                "an edit"
            )

    if decided is None:
        peaks = {o.kind: o.peak_bytes for o in plan.options}
        fits = {o.kind: o.fits for o in plan.options}
        steps.append(
            Step(
                "What fits in GPU memory?",
                ", ".join(f"{o.kind} {format_bytes(o.peak_bytes)}" for o in plan.options)
                + f" per GPU of {usable} usable; fits: "
                + (", ".join(o.kind for o in fitting) or "none"),
                {"usable_bytes": i.usable_bytes, "peak_bytes": peaks, "fits": fits},
                "continue" if fitting else "none",
            )
        )
        recommended = plan.recommended
        decided = recommended.kind if recommended is not None else "none"
        steps.append(
            Step(
                f"Memory, deployment ({i.deploy}), data size and time budget: which rule holds?",
                f"{plan.rule}: {RULES[plan.rule]}",
                {
                    "rule": plan.rule,
                    "train_rows": i.train_rows,
                    "small_data_rows": SMALL_DATA_ROWS,
                    "large_data_rows": LARGE_DATA_ROWS,
                    "deploy": i.deploy,
                    "time_budget_s": i.time_budget_s,
                },
                decided,
            )
        )
        reason = plan.reason
        if plan.rule == "full-fits":
            decided, reason = _shift_step(plan, shift, steps)

    return Walk(
        plan=plan,
        shift=shift,
        changes_often=changes_often,
        steps=tuple(steps),
        recommendation=decided,
        reason=reason,
        rejected=tuple(_rejected(plan, decided, shift, changes_often)),
    )


def _shift_step(plan: Plan, shift: str, steps: list[Step]) -> tuple[str, str]:
    i = plan.inputs
    full, freeze = plan.option("full"), plan.option("freeze")
    pct = 100 * freeze.trainable_params / max(plan.total_params, 1)
    numbers = {
        "shift": shift,
        "train_rows": i.train_rows,
        "large_data_rows": LARGE_DATA_ROWS,
        "freeze_trainable_params": freeze.trainable_params,
        "frozen_layers": plan.freeze.frozen_layers,
        "layers": plan.freeze.layers,
    }
    question = "How far is the task from what the model was pre-trained on?"
    if shift == "high" and i.train_rows < LARGE_DATA_ROWS:
        steps.append(Step(question, f"far ({shift})", numbers, "progressive"))
        return "progressive", (
            f"the task is far from pre-training and {i.train_rows:,} rows (< "
            f"{LARGE_DATA_ROWS:,}) are not plenty: unfreeze from the top one layer group per "
            f"epoch so early, large updates do not wreck the general features; peak memory as "
            f"full fine-tuning ({format_bytes(full.peak_bytes)})"
        )
    if shift == "low" and freeze.fits:
        steps.append(Step(question, f"near ({shift})", numbers, "freeze"))
        return "freeze", (
            f"the task is close to pre-training, so the bottom {plan.freeze.frozen_layers} of "
            f"{plan.freeze.layers} layers already compute what it needs: train "
            f"{freeze.trainable_params:,} parameters ({pct:.1f} %) at "
            f"{format_bytes(freeze.peak_bytes)} per GPU, ~{format_hours(freeze.hours)}"
        )
    steps.append(Step(question, shift, numbers, "full"))
    return "full", plan.reason


def _rejected(plan: Plan, chosen: str, shift: str, changes_often: bool) -> list[Rejected]:
    i = plan.inputs
    usable = format_bytes(i.usable_bytes)
    out: list[Rejected] = []
    lora = plan.option("lora")
    for kind in KINDS:
        if kind == chosen:
            continue
        cost = None if kind == "prompting" else plan.option({"progressive": "full"}.get(kind, kind))
        if cost is not None and not cost.fits:
            why = f"needs {format_bytes(cost.peak_bytes)} per GPU, more than the {usable} usable"
        elif kind == "prompting" and chosen == "none":
            why = (
                "the fallback when no larger GPU is at hand: prompt a hosted model, paying per "
                "request instead of training"
            )
        elif kind == "prompting":
            why = (
                f"{i.train_rows:,} labelled rows and a task that is stable: a fine-tuned model "
                "is smaller and cheaper to serve, and the test split can measure it"
            )
        elif chosen == "prompting":
            why = (
                "too little labelled data to show a gain over a prompt"
                if i.train_rows < FEW_ROWS
                else "the task changes often: each change would need a new training run"
                + (f" (~{format_hours(cost.hours)} each)" if cost else "")
            )
        elif chosen == "none":
            why = "does not fit"
        elif kind == "full":
            why = _full_lost(plan, chosen)
        elif kind == "freeze" and cost is not None:
            far = " to a task far from pre-training" if shift == "high" else ""
            why = (
                f"trains {cost.trainable_params:,} parameters, but its frozen bottom "
                f"{plan.freeze.frozen_layers} layers cannot adapt{far}; {chosen} suits these "
                "inputs better"
            )
        elif kind == "progressive":
            why = (
                "worth its extra schedule only when the task is far from pre-training and data "
                f"is moderate (shift high, < {LARGE_DATA_ROWS:,} rows); here shift is {shift} "
                f"and {i.train_rows:,} rows"
            )
        elif kind == "lora":
            why = (
                f"{lora.trainable_params:,} trainable parameters cap what the model can learn; "
                f"{chosen} fits and the data can use more"
                if chosen in ("full", "freeze", "progressive")
                else "16-bit LoRA does not fit; QLoRA's 4-bit base does"
            )
        else:  # qlora
            why = (
                "~1.3x slower than LoRA (dequantisation) and a 4-bit base adds error; only worth "
                "it when 16-bit LoRA does not fit"
            )
        out.append(Rejected(kind, why))
    return out


def _full_lost(plan: Plan, chosen: str) -> str:
    i, full = plan.inputs, plan.option("full")
    if plan.rule == "many-adapters":
        return (
            f"a {format_bytes(plan.total_params * 2)} model copy per task instead of one small "
            "adapter on a shared base"
        )
    if plan.rule == "small-data":
        return f"{i.train_rows:,} rows are few to update all {plan.total_params:,} weights"
    if plan.rule == "time-budget":
        return f"~{format_hours(full.hours)}, over the time budget"
    if chosen == "freeze":
        return "updates every weight where the bottom layers' general features already fit"
    if chosen == "progressive":
        return (
            "updating every layer from the first step risks wrecking general features on a far task"
        )
    return f"{plan.reason}"


def starter_config(w: Walk, *, data_train: str | None = None) -> dict[str, Any] | None:
    """The RunConfig for the tree's recommendation (None when it is not to fine-tune)."""
    o = w.option()
    if not w.fine_tunes or o is None:
        return None
    raw = run_config_dict(dataclasses.replace(w.plan, recommended=o), data_train=data_train)
    if w.recommendation == "progressive":
        from tuneproof.tasks import parse_config

        raw["strategy"] = {"kind": "progressive", "unfreeze_every": "epoch"}
        raw["name"] = str(raw["name"]).removesuffix("-full") + "-progressive"
        parse_config(raw, source="tuneproof plan --emit-config")
    return raw


def tree_markdown(w: Walk) -> str:
    """The tree's section for the ADR (``plan.md``): each branch with its answer, then the
    options that lost and why."""
    lines = ["## Decision tree", ""]
    for n, s in enumerate(w.steps, 1):
        lines.append(f"{n}. {s.question} **{s.answer}** → {s.outcome}")
    lines += ["", f"Recommendation: **{NAMES[w.recommendation]}**. {w.reason}", ""]
    lines += ["Rejected:", ""]
    lines += [f"- {NAMES[r.kind]}: {r.why}" for r in w.rejected]
    return "\n".join(lines) + "\n"


def starter_yaml(w: Walk, *, data_train: str | None = None) -> str:
    """The starter config as YAML with a header saying where it came from."""
    import yaml

    raw = starter_config(w, data_train=data_train)
    if raw is None:
        raise UserError(
            f"--emit-config: the tree recommends not fine-tuning ({w.reason}); no config to write"
        )
    header = (
        f"# Written by `tuneproof plan` for {w.plan.inputs.model}: {w.recommendation}.\n"
        f"# {w.reason}\n"
    )
    if data_train is None:
        header += "# data.train is a placeholder: point it at your training file.\n"
    return header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)


def walk_dict(w: Walk) -> dict[str, Any]:
    """``tuneproof plan --json`` and ``POST /api/strategy``: the plan with the tree under
    ``tree`` (the plan's own keys stay where they were)."""
    tree = w.to_dict()
    plan = tree.pop("plan")
    return {**plan, "tree": tree}
