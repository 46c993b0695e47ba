"""Starter configs written by `tuneproof init`: commented, and runnable as they are offline."""

from __future__ import annotations

from tuneproof.config import TASKS
from tuneproof.errors import UserError, did_you_mean

SEQUENCE_CLASSIFICATION = """\
# tuneproof run config. Every key is checked: a typo is an error, not a silent default.
# Train with:  tuneproof train {path}
name: my-run
task: sequence-classification   # or token-classification, extractive-qa, summarization, similarity

data:
  # Offline demo data (English movie-review sentences, fetched once into ~/.cache/tuneproof).
  # For your own data, drop `builtin` and give files (csv, tsv, jsonl, json, parquet):
  #   train: data/train.csv
  #   validation: data/validation.csv     # or `split: {{validation: 0.1, test: 0.1}}`
  #   test: data/test.csv
  # or a Hugging Face dataset:  hf_dataset: glue  hf_config: sst2
  builtin: polarity-en
  text_column: text
  label_column: label
  id_column: id            # optional: stable row ids (default: row number)
  max_length: 64           # tokens; longer inputs are truncated (`tuneproof check` says how many)

model:
  name: minilm-l6          # built-in offline model, a hub name, or a local folder

strategy:
  kind: full               # full | freeze | progressive | lora | qlora
  # freeze_layers: 4       # freeze: bottom N layers
  # lora: {{r: 8, alpha: 16, dropout: 0.1, target_modules: [query, value]}}

training:
  epochs: 3
  batch_size: 32
  learning_rate: 5.0e-5    # full fine-tuning: 1e-5..1e-4; LoRA: 1e-4..1e-3
  warmup: 0.1              # < 1: ratio of all steps; >= 1: number of steps
  weight_decay: 0.01
  eval_strategy: epoch     # evaluate (and keep the best checkpoint) every epoch
  save_strategy: epoch
  early_stopping_patience: 2
  seed: 42                 # drives Python, NumPy, torch and the data order

tracking:
  enabled: true            # MLflow; default store: ./mlflow.db (or $MLFLOW_TRACKING_URI)
  experiment: tuneproof
"""

STARTERS: dict[str, str] = {"sequence-classification": SEQUENCE_CLASSIFICATION}


def starter_config(task: str, path: str = "tuneproof.yaml") -> str:
    if task not in TASKS:
        raise UserError(
            f"unknown task '{task}'{did_you_mean(task, TASKS)}; tasks: {', '.join(TASKS)}"
        )
    if task not in STARTERS:
        raise UserError(f"no starter config for '{task}' yet; available: {', '.join(STARTERS)}")
    return STARTERS[task].format(path=path)
