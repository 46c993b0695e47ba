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

# The other tasks: the same layout, on tiny synthetic data that trains in a minute or two on a
# CPU (the configs of examples/, with `builtin` instead of file paths).
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

STARTERS: dict[str, str] = {
    "sequence-classification": SEQUENCE_CLASSIFICATION,
    "token-classification": OTHER_TASK.format(
        name="ner",
        task="token-classification",
        data="""\
  builtin: synthetic-ner   # real POS data: builtin: pos-en-wsj (English WSJ, Penn tags)
  tokens_column: tokens    # a list of words per row (JSONL), or CoNLL / word/TAG text files
  tags_column: tags        # one tag per word; BIO tags → entity F1, others → token accuracy
  id_column: id
  max_length: 64
""",
        model="minilm-l6",
        strategy=FULL,
        epochs=10,
        lr="1.0e-4",
    ),
    "extractive-qa": OTHER_TASK.format(
        name="qa",
        task="extractive-qa",
        data="""\
  builtin: synthetic-qa    # rows {{id, question, context, answers: {{text, answer_start}}}}
  max_length: 64           # tokens per window (question + part of the context)
  doc_stride: 16           # tokens shared by consecutive windows of a long context
  max_answer_length: 10
  id_column: id
""",
        model="minilm-l6",
        strategy=FULL,
        epochs=10,
        lr="1.0e-4",
    ),
    "summarization": OTHER_TASK.format(
        name="summarization",
        task="summarization",
        data="""\
  builtin: synthetic-summarization   # rows {{id, input, output}} or {{messages: [...]}}
  prompt_template: "Summarise this report in one sentence.\\n\\n{{input}}"
  max_length: 128          # prompt + reply tokens; the loss is on the reply only
  max_new_tokens: 24       # generated per example at evaluation (ROUGE)
  id_column: id
""",
        model="smollm2",
        strategy="""\
  kind: lora               # the default for summarization/SFT
  lora: {{r: 8, alpha: 16, dropout: 0.05, target_modules: all-linear}}
""",
        epochs=3,
        lr="1.0e-3",
    ),
    "similarity": OTHER_TASK.format(
        name="similarity",
        task="similarity",
        data="""\
  builtin: synthetic-similarity
  text_column: sentence1
  text_pair_column: sentence2
  label_column: score      # a real-valued score per pair → Pearson and Spearman
  id_column: id
  max_length: 64
""",
        model="minilm-l6",
        strategy=FULL,
        epochs=10,
        lr="1.0e-4",
    ),
}


def starter_config(task: str, path: str = "tuneproof.yaml") -> str:
    if task not in TASKS:
        raise UserError(
            f"unknown task '{task}'{did_you_mean(task, TASKS)}; tasks: {', '.join(TASKS)}"
        )
    if task not in STARTERS:
        raise UserError(f"no starter config for '{task}' yet; available: {', '.join(STARTERS)}")
    return STARTERS[task].format(path=path)
