"""Sentence similarity (STS): a sentence pair → a real-valued score.

A cross-encoder: both sentences go through the model together and a one-output regression head
predicts the score (mean squared error loss). Scored by Pearson and Spearman correlation, the
STS benchmark's figures; Spearman (rank agreement) is the main one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneproof.data.load import require_columns
from tuneproof.errors import UserError
from tuneproof.tasks.base import (
    CardTemplate,
    EvalTemplate,
    Prepared,
    StarterConfig,
    TrainerTask,
    column_texts,
    encoding_counts,
    from_base,
    source_name,
)
from tuneproof.tasks.classification import row_ids

if TYPE_CHECKING:
    import pandas as pd
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase

    from tuneproof.config import RunConfig
    from tuneproof.data.load import LoadedData


def correlation_metrics(gold: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """Pearson, Spearman and MSE; a correlation is NaN when undefined (< 2 rows, or constant)."""
    from scipy.stats import pearsonr, spearmanr

    gold = np.asarray(gold, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    defined = len(gold) >= 2 and np.ptp(gold) > 0 and np.ptp(pred) > 0
    return {
        "pearson": float(pearsonr(gold, pred)[0]) if defined else float("nan"),
        "spearman": float(spearmanr(gold, pred)[0]) if defined else float("nan"),
        "mse": float(np.mean((gold - pred) ** 2)) if len(gold) else float("nan"),
    }


def scores(df: pd.DataFrame, column: str, where: str) -> list[float]:
    out = []
    for i, v in enumerate(df[column].tolist()):
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = math.nan
        if math.isnan(x) or math.isinf(x):
            raise UserError(
                f"{where}: row {i}: score {v!r} in '{column}' is not a number; similarity needs "
                "a real-valued score per pair"
            )
        out.append(x)
    return out


class SentenceSimilarity(TrainerTask):
    name = "similarity"
    main_metric = "spearman"
    greater_is_better = True
    peft_task_type = "SEQ_CLS"  # PEFT LoraConfig.task_type
    auto_class = "AutoModelForSequenceClassification"
    head_labels: int | None = 1  # a regression head: one score
    label_set = False
    card = CardTemplate(
        "sentence-similarity",
        'pipe({"text": "A man plays a guitar.", "text_pair": "Someone plays the guitar."}, '
        'function_to_apply="none")',
        pipeline="text-classification",
    )
    starter = StarterConfig(
        name="similarity",
        data="""\
  builtin: synthetic-similarity
  text_column: sentence1
  text_pair_column: sentence2
  label_column: score      # a real-valued score per pair → Pearson and Spearman
  id_column: id
  max_length: 64
""",
    )
    eval_templates: tuple[EvalTemplate, ...] = (
        EvalTemplate(
            "similarity",
            "cross-lingual pairs (one text per language) are a slice of their own",
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
        if dc.text_pair_column is None:
            raise UserError(
                "data.text_pair_column: similarity needs the second sentence's column; "
                "set it (e.g. text_pair_column: sentence2)"
            )
        cols = [dc.text_column, dc.text_pair_column, dc.label_column]
        texts: dict[str, list[str]] = {}
        pairs: dict[str, list[str]] = {}
        gold: dict[str, list[float]] = {}
        ids: dict[str, list[str]] = {}
        datasets: dict[str, Dataset] = {}
        counts = {}
        for split, df in data.splits.items():
            where = source_name(data, split)
            require_columns(df, cols, where, "data.text_column / text_pair_column / label_column")
            texts[split] = column_texts(df, dc.text_column, where)
            pairs[split] = column_texts(df, dc.text_pair_column, where)
            gold[split] = scores(df, dc.label_column, where)
            ids[split] = row_ids(df, dc.id_column, where)
            enc = tokenizer(texts[split], pairs[split], truncation=True, max_length=dc.max_length)
            columns: dict[str, Any] = dict(enc)
            columns["labels"] = gold[split]
            datasets[split] = Dataset.from_dict(columns)
            counts[split] = encoding_counts(tokenizer, texts[split], pairs[split], enc)
        return Prepared(
            datasets=datasets,
            frames=data.splits,
            ids=ids,
            extra={"texts": texts, "pairs": pairs, "gold": gold},
            tokens=counts,
        )

    def build_model(
        self, model_path: str, prepared: Prepared, config: RunConfig
    ) -> PreTrainedModel:
        return from_base(
            self.auto_class,
            model_path,
            config,
            num_labels=1,
            problem_type="regression",
        )

    def compute_metrics(
        self, prepared: Prepared, split: str
    ) -> Callable[[EvalPrediction], dict[str, float]]:
        def compute(ev: EvalPrediction) -> dict[str, float]:
            preds = ev.predictions[0] if isinstance(ev.predictions, tuple) else ev.predictions
            return correlation_metrics(
                np.asarray(ev.label_ids).reshape(-1), np.asarray(preds).reshape(-1)
            )

        return compute

    def prediction_rows(
        self, prepared: Prepared, split: str, predictions: Any
    ) -> list[dict[str, Any]]:
        preds = predictions[0] if isinstance(predictions, tuple) else predictions
        values = np.asarray(preds, dtype=np.float64).reshape(-1)
        return [
            {
                "id": rid,
                "text": text,
                "text_pair": pair,
                "gold": gold,
                "pred": round(float(v), 6),
                "score": round(float(v), 6),
            }
            for rid, text, pair, gold, v in zip(
                prepared.ids[split],
                prepared.extra["texts"][split],
                prepared.extra["pairs"][split],
                prepared.extra["gold"][split],
                values,
                strict=True,
            )
        ]

    def metrics_from_rows(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        gold = np.array([float(r["gold"]) for r in rows])
        pred = np.array([float(r["pred"]) for r in rows])
        return correlation_metrics(gold, pred)

    def resampler(
        self, rows: list[dict[str, Any]]
    ) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
        """Pearson, Spearman (Pearson of average ranks, as scipy) and MSE for every resample
        at once; NaN where a resample is constant, as ``correlation_metrics`` says."""
        from scipy.stats import rankdata

        gold = np.array([float(r["gold"]) for r in rows])
        pred = np.array([float(r["pred"]) for r in rows])

        def pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            x = x - x.mean(axis=1, keepdims=True)
            y = y - y.mean(axis=1, keepdims=True)
            den = np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                r = (x * y).sum(axis=1) / den
            defined = (np.ptp(x, axis=1) > 0) & (np.ptp(y, axis=1) > 0) & (x.shape[1] >= 2)
            return np.where(defined, np.clip(r, -1.0, 1.0), np.nan)

        def metrics(idx: np.ndarray) -> dict[str, np.ndarray]:
            g, p = gold[idx], pred[idx]
            return {
                "pearson": pearson(g, p),
                "spearman": pearson(rankdata(g, axis=1), rankdata(p, axis=1)),
                "mse": ((g - p) ** 2).mean(axis=1),
            }

        return metrics
