"""Sequence classification: one text (or a text pair) → one label."""

# ``row_ids`` lives in data.load (one validation path for check, train and eval); other task
# adapters import it from here.

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneproof.data.load import label_values, require_columns, row_ids
from tuneproof.errors import UserError
from tuneproof.tasks.base import (
    CardTemplate,
    EvalTemplate,
    Prepared,
    StarterConfig,
    TrainerTask,
    encoding_counts,
    from_base,
)

if TYPE_CHECKING:
    import pandas as pd
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase

    from tuneproof.config import RunConfig
    from tuneproof.data.load import LoadedData


def _texts(df: pd.DataFrame, column: str, where: str) -> list[str]:
    values = df[column].tolist()
    for i, v in enumerate(values):
        if not isinstance(v, str):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                raise UserError(f"{where}: row {i}: '{column}' is empty; fill it or drop the row")
            values[i] = str(v)
    return values


def label_set(train_labels: list[str], configured: list[str] | None) -> list[str]:
    """The model's label order: as configured, else the sorted labels seen in train."""
    if configured:
        return list(configured)
    return sorted(set(train_labels))


def classification_metrics(gold: np.ndarray, pred: np.ndarray, n_labels: int) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": float(accuracy_score(gold, pred)),
        "macro_f1": float(
            f1_score(gold, pred, average="macro", labels=list(range(n_labels)), zero_division=0)
        ),
    }


STARTER = """\
# tuneproof run config. Every key is checked: a typo is an error, not a silent default.
# Train with:  tuneproof train {path}
name: my-run
task: sequence-classification   # or {other_tasks}

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
  learning_rate: 5.0e-5    # {lr_comment}
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


class SequenceClassification(TrainerTask):
    name = "sequence-classification"
    main_metric = "accuracy"
    greater_is_better = True
    peft_task_type = "SEQ_CLS"  # PEFT LoraConfig.task_type
    auto_class = "AutoModelForSequenceClassification"
    head_labels: int | None = None
    label_set = True
    card = CardTemplate("text-classification", 'pipe("a gorgeous, witty film")')
    starter = StarterConfig(text=STARTER)
    eval_templates: tuple[EvalTemplate, ...] = (
        EvalTemplate(
            "sentiment",
            "negation and contrast ('good but ...') flip the label; test both",
            negation=True,
            expected_labels=("positive", "negative"),
        ),
        EvalTemplate(
            "classification",
            "check each label within each language (per-slice confusion matrices)",
            negation=True,
        ),
    )

    def prepare(
        self,
        data: LoadedData,
        config: RunConfig,
        tokenizer: PreTrainedTokenizerBase,
        *,
        label_names: list[str] | None = None,
    ) -> Prepared:
        from datasets import Dataset

        dc = config.data
        cols = [dc.text_column, dc.label_column]
        if dc.text_pair_column:
            cols.append(dc.text_pair_column)
        texts: dict[str, list[str]] = {}
        pairs: dict[str, list[str] | None] = {}
        labels: dict[str, list[str]] = {}
        ids: dict[str, list[str]] = {}
        for split, df in data.splits.items():
            where = data.sources[split].path if split in data.sources else split
            require_columns(df, cols, where, "data.text_column / data.label_column")
            texts[split] = _texts(df, dc.text_column, where)
            pairs[split] = _texts(df, dc.text_pair_column, where) if dc.text_pair_column else None
            labels[split] = label_values(df, dc.label_column, where, "data.label_column")
            ids[split] = row_ids(df, dc.id_column, where)
        if label_names is not None:
            names = list(label_names)
        elif "train" in labels:
            names = label_set(labels["train"], dc.label_names)
        else:
            raise UserError("data: no train split to learn the label set from; set data.train")
        if len(names) < 2:
            raise UserError(
                f"{next(iter(data.sources.values())).path}: only one label ({names[0]!r}) in "
                f"'{dc.label_column}'; classification needs at least two"
            )
        index = {n: i for i, n in enumerate(names)}
        for split, labs in labels.items():
            for row, lab in enumerate(labs):
                if lab not in index:
                    where = data.sources[split].path if split in data.sources else split
                    fix = (
                        "the model was not trained on it; fix the row or drop it"
                        if label_names is not None
                        else "fix the row or list it in data.label_names"
                    )
                    raise UserError(
                        f"{where}: row {row}: label {lab!r} is not in the label set {names}; {fix}"
                    )
        datasets: dict[str, Dataset] = {}
        counts = {}
        for split in data.splits:
            enc = tokenizer(
                texts[split],
                pairs[split],
                truncation=True,
                max_length=dc.max_length,
            )
            columns: dict[str, Any] = dict(enc)
            columns["labels"] = [index[lab] for lab in labels[split]]
            datasets[split] = Dataset.from_dict(columns)
            counts[split] = encoding_counts(tokenizer, texts[split], pairs[split], enc)
        return Prepared(
            datasets=datasets,
            frames=data.splits,
            ids=ids,
            label_names=names,
            extra={"texts": texts, "pairs": pairs, "labels": labels},
            tokens=counts,
        )

    def build_model(
        self, model_path: str, prepared: Prepared, config: RunConfig
    ) -> PreTrainedModel:
        names = prepared.label_names or []
        return from_base(
            self.auto_class,
            model_path,
            config,
            num_labels=len(names),
            id2label=dict(enumerate(names)),
            label2id={n: i for i, n in enumerate(names)},
        )

    def metrics_from_rows(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        names = sorted({r["gold"] for r in rows} | {r["pred"] for r in rows})
        index = {n: i for i, n in enumerate(names)}
        gold = np.array([index[r["gold"]] for r in rows])
        pred = np.array([index[r["pred"]] for r in rows])
        return classification_metrics(gold, pred, len(names))

    def compute_metrics(
        self, prepared: Prepared, split: str
    ) -> Callable[[EvalPrediction], dict[str, float]]:
        n_labels = len(prepared.label_names or [])

        def compute(ev: EvalPrediction) -> dict[str, float]:
            logits = ev.predictions[0] if isinstance(ev.predictions, tuple) else ev.predictions
            return classification_metrics(
                np.asarray(ev.label_ids), np.asarray(logits).argmax(-1), n_labels
            )

        return compute

    def prediction_rows(
        self, prepared: Prepared, split: str, predictions: Any
    ) -> list[dict[str, Any]]:
        from scipy.special import softmax

        names = prepared.label_names or []
        logits = predictions[0] if isinstance(predictions, tuple) else predictions
        probs = softmax(np.asarray(logits, dtype=np.float64), axis=-1)
        rows = []
        pairs = prepared.extra["pairs"][split]
        for i, (rid, text, gold) in enumerate(
            zip(
                prepared.ids[split],
                prepared.extra["texts"][split],
                prepared.extra["labels"][split],
                strict=True,
            )
        ):
            p = probs[i]
            k = int(p.argmax())
            row: dict[str, Any] = {"id": rid, "text": text}
            if pairs is not None:
                row["text_pair"] = pairs[i]
            row.update(
                {
                    "gold": gold,
                    "pred": names[k],
                    "score": round(float(p[k]), 6),
                    "probabilities": {n: round(float(p[j]), 6) for j, n in enumerate(names)},
                }
            )
            rows.append(row)
        return rows
