"""Starter configs written by `tuneproof init`: commented, and runnable as they are offline.

Each task adapter declares its own (``TaskAdapter.starter``); the tasks other than sequence
classification share one layout, filled with the adapter's data block and training choices.
"""

from __future__ import annotations

from tuneproof.arguments import LR_GUIDANCE
from tuneproof.errors import UserError, did_you_mean
from tuneproof.tasks import TASKS
from tuneproof.tasks.base import StarterConfig

# The tasks other than sequence classification: tiny synthetic data that trains in a minute or
# two on a CPU (the configs of examples/, with `builtin` instead of file paths).
OTHER_TASK = """\
# tuneproof run config. Every key is checked: a typo is an error, not a silent default.
# Train with:  tuneproof train {{path}}   (docs: docs/tasks.md)
name: my-{name}
task: {task}

data:
  # Offline demo data: tiny synthetic rows that tuneproof writes itself, clearly not real text.
  # For your own data, drop `builtin` and give files: train: data/train.jsonl, validation: ...,
  # test: ... (or hf_dataset: NAME).
{data}
model:
  name: {model}          # built-in offline model, a hub name, or a local folder

strategy:
{strategy}
training:
  epochs: {epochs}
  batch_size: 8
  learning_rate: {lr}
  warmup: 0.1              # < 1: ratio of all steps; >= 1: number of steps
  eval_strategy: epoch     # evaluate (and keep the best checkpoint) every epoch
  save_strategy: epoch
  early_stopping_patience: 3
  seed: 42

tracking:
  enabled: true            # MLflow; default store: ./mlflow.db (or $MLFLOW_TRACKING_URI)
  experiment: tuneproof
"""

FULL = """\
  kind: full               # full | freeze | progressive | lora | qlora
  # progressive: {{unfreeze_every: epoch}}   # unfreeze one more layer group each epoch
"""


def _lr_comment() -> str:
    full, lora = LR_GUIDANCE["full"], LR_GUIDANCE["lora"]
    return f"full fine-tuning: {full.typical_text}; LoRA: {lora.typical_text}"


def starter_template(task: str, starter: StarterConfig) -> str:
    """The task's template, still with ``{path}`` to fill."""
    if starter.text is not None:
        others = ", ".join(t for t in TASKS if t != task)
        return starter.text.replace("{other_tasks}", others).replace("{lr_comment}", _lr_comment())
    return OTHER_TASK.format(
        name=starter.name or task,
        task=task,
        data=starter.data,
        model=starter.model,
        strategy=starter.strategy or FULL,
        epochs=starter.epochs,
        lr=starter.learning_rate,
    )


def starter_config(task: str, path: str = "tuneproof.yaml") -> str:
    if task not in TASKS:
        raise UserError(
            f"unknown task '{task}'{did_you_mean(task, TASKS)}; tasks: {', '.join(TASKS)}"
        )
    return starter_template(task, TASKS[task].starter).format(path=path)
