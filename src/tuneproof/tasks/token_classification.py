"""Token classification (NER, POS): one tag per word, predicted on the word's first subword.

Words are split into subwords by the tokenizer; only the first subword of each word carries the
word's label, the others (and special tokens) get -100 so the loss and the metrics see each word
once. BIO/BIOES tags (``B-PER``, ``I-LOC``, ``O``) are scored with seqeval's entity-level F1,
any other tag set (POS) with token accuracy.
"""

from __future__ import annotations

import json
import re
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
    TokenCount,
    TrainerTask,
    from_base,
    source_name,
)
from tuneproof.tasks.classification import row_ids

if TYPE_CHECKING:
    import pandas as pd
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from tuneproof.config import RunConfig
    from tuneproof.data.load import LoadedData

IGNORE = -100
_ENTITY_TAG = re.compile(r"^(O|[BIESLU]-.+)$")


def is_bio(tags: set[str] | list[str]) -> bool:
    """True for entity tag sets (``O`` plus ``B-X``/``I-X``/...), false for POS tags."""
    tags = set(tags)
    return bool(tags) and tags != {"O"} and all(_ENTITY_TAG.match(t) for t in tags)


def as_list(value: Any) -> list[Any] | None:
    """A list cell from JSONL (list), Parquet/HF (array) or CSV (a JSON string); else None."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, (list, tuple, np.ndarray)):
        return list(value)
    return None


def align_labels(word_ids: list[int | None], word_labels: list[int]) -> list[int]:
    """Label the first subword of each word; -100 for later subwords and special tokens."""
    out = []
    previous = None
    for w in word_ids:
        out.append(IGNORE if w is None or w == previous else word_labels[w])
        previous = w
    return out


def first_subword_positions(word_ids: list[int | None], n_words: int) -> list[int]:
    """Token position of each word's first subword; -1 for words with none (truncated away)."""
    pos = [-1] * n_words
    for i, w in enumerate(word_ids):
        if w is not None and pos[w] < 0:
            pos[w] = i
    return pos


def tagging_metrics(
    gold: list[list[str]], pred: list[list[str | None]], bio: bool | None = None
) -> dict[str, float]:
    """Token accuracy always; entity precision/recall/F1 (seqeval) when the tags are BIO
    (``bio=None``: decided from the gold tags).

    A word with no prediction (``None``: truncated away by ``max_length``) counts as wrong, and
    as ``O`` for the entity scores.
    """
    total = sum(len(g) for g in gold)
    correct = sum(
        p == g for gs, ps in zip(gold, pred, strict=True) for g, p in zip(gs, ps, strict=True)
    )
    out = {"accuracy": correct / total if total else float("nan")}
    if bio is None:
        bio = is_bio({t for g in gold for t in g})
    if bio:
        from seqeval.metrics import f1_score, precision_score, recall_score

        filled = [[p if p is not None else "O" for p in ps] for ps in pred]
        out.update(
            precision=float(precision_score(gold, filled, zero_division=0)),
            recall=float(recall_score(gold, filled, zero_division=0)),
            f1=float(f1_score(gold, filled, zero_division=0)),
        )
    return out


def word_rows(
    df: pd.DataFrame, tokens_column: str, tags_column: str, where: str, tag_names: list[str] | None
) -> tuple[list[list[str]], list[list[str]]]:
    """Validated (tokens, tags) per row: lists of equal length; integer tags (HF ClassLabel)
    become names through ``tag_names`` (``data.label_names``)."""
    all_tokens: list[list[str]] = []
    all_tags: list[list[str]] = []
    for i, (tv, gv) in enumerate(zip(df[tokens_column], df[tags_column], strict=True)):
        tokens, tags = as_list(tv), as_list(gv)
        if tokens is None or tags is None:
            col = tokens_column if tokens is None else tags_column
            raise UserError(
                f"{where}: row {i}: '{col}' is not a list; give a JSON list of strings "
                '(e.g. ["The", "cat"])'
            )
        if len(tokens) != len(tags):
            raise UserError(
                f"{where}: row {i}: {len(tokens)} tokens but {len(tags)} tags; give exactly one "
                "tag per token"
            )
        if not tokens:
            raise UserError(f"{where}: row {i}: no tokens; drop the row")
        names = []
        for t in tags:
            if isinstance(t, (int, np.integer)) and not isinstance(t, bool):
                if tag_names is None:
                    names.append(str(int(t)))
                elif 0 <= int(t) < len(tag_names):
                    names.append(tag_names[int(t)])
                else:
                    raise UserError(
                        f"{where}: row {i}: tag id {int(t)} is outside data.label_names "
                        f"({len(tag_names)} names); list every tag name in id order"
                    )
            else:
                names.append(str(t))
        all_tokens.append([str(t) for t in tokens])
        all_tags.append(names)
    return all_tokens, all_tags


class TokenClassification(TrainerTask):
    name = "token-classification"
    main_metric = "f1"  # entity F1 for BIO tags; ``Prepared.main_metric`` says accuracy for POS
    greater_is_better = True
    peft_task_type = "TOKEN_CLS"  # PEFT LoraConfig.task_type
    auto_class = "AutoModelForTokenClassification"
    head_labels: int | None = None
    label_set = True
    card = CardTemplate("token-classification", 'pipe("Ada Lovelace was born in London.")')
    starter = StarterConfig(
        name="ner",
        data="""\
  builtin: synthetic-ner   # real POS data: builtin: pos-en-wsj (English WSJ, Penn tags)
  tokens_column: tokens    # a list of words per row (JSONL), or CoNLL / word/TAG text files
  tags_column: tags        # one tag per word; BIO tags → entity F1, others → token accuracy
  id_column: id
  max_length: 64
""",
    )
    eval_templates: tuple[EvalTemplate, ...] = (
        EvalTemplate(
            "token-classification", "entity names differ per language and script; swap them"
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
        if not getattr(tokenizer, "is_fast", False):
            raise UserError(
                f"model.name '{config.model.name}': token classification needs a fast tokenizer "
                "(tokenizer.json) to map subwords to words; use a model that ships one"
            )
        tokens: dict[str, list[list[str]]] = {}
        tags: dict[str, list[list[str]]] = {}
        ids: dict[str, list[str]] = {}
        cols = [dc.tokens_column, dc.tags_column]
        for split, df in data.splits.items():
            where = source_name(data, split)
            require_columns(df, cols, where, "data.tokens_column / data.tags_column")
            tokens[split], tags[split] = word_rows(
                df, dc.tokens_column, dc.tags_column, where, label_names or dc.label_names
            )
            ids[split] = row_ids(df, dc.id_column, where)
        if label_names is not None:
            names = list(label_names)
        elif dc.label_names:
            names = list(dc.label_names)
        else:
            # Every tag seen in any split: a rare tag that only occurs in test still gets a
            # row in the head (it is never predicted, and scores as an error, as it should).
            names = sorted({t for rows in tags.values() for row in rows for t in row})
        index = {n: i for i, n in enumerate(names)}
        for split, rows in tags.items():
            for r, row in enumerate(rows):
                unknown = next((t for t in row if t not in index), None)
                if unknown is not None:
                    fix = (
                        "the model was not trained on it; fix the row or drop it"
                        if label_names is not None
                        else "fix the row or add it to data.label_names"
                    )
                    raise UserError(
                        f"{source_name(data, split)}: row {r}: tag {unknown!r} is not in the tag "
                        f"set; {fix}"
                    )
        datasets: dict[str, Dataset] = {}
        positions: dict[str, list[list[int]]] = {}
        counts: dict[str, list[TokenCount]] = {}
        specials = tokenizer.num_special_tokens_to_add(pair=False)
        for split in data.splits:
            enc = tokenizer(
                tokens[split], is_split_into_words=True, truncation=True, max_length=dc.max_length
            )
            full = tokenizer(
                tokens[split], is_split_into_words=True, truncation=False, verbose=False
            )
            counts[split] = [
                TokenCount(
                    total=len(f),
                    kept=len(k),
                    first=len(f) - specials,
                    first_cut=len(k) < len(f),
                )
                for f, k in zip(full["input_ids"], enc["input_ids"], strict=True)
            ]
            labels, pos = [], []
            for i, row in enumerate(tags[split]):
                word_ids = enc.word_ids(i)
                labels.append(align_labels(word_ids, [index[t] for t in row]))
                pos.append(first_subword_positions(word_ids, len(row)))
            columns: dict[str, Any] = dict(enc)
            columns["labels"] = labels
            datasets[split] = Dataset.from_dict(columns)
            positions[split] = pos
        bio = is_bio(set(names))
        return Prepared(
            datasets=datasets,
            frames=data.splits,
            ids=ids,
            label_names=names,
            extra={"tokens": tokens, "tags": tags, "positions": positions, "bio": bio},
            main_metric="f1" if bio else "accuracy",
            check_texts={s: [" ".join(t) for t in rows] for s, rows in tokens.items()},
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

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Callable[..., Any]:
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(tokenizer)

    def prediction_rows(
        self, prepared: Prepared, split: str, predictions: Any
    ) -> list[dict[str, Any]]:
        from scipy.special import softmax

        names = prepared.label_names or []
        logits = predictions[0] if isinstance(predictions, tuple) else predictions
        logits = np.asarray(logits, dtype=np.float64)
        scheme = "bio" if prepared.extra["bio"] else "tags"
        rows = []
        for i, (rid, tokens, gold, pos) in enumerate(
            zip(
                prepared.ids[split],
                prepared.extra["tokens"][split],
                prepared.extra["tags"][split],
                prepared.extra["positions"][split],
                strict=True,
            )
        ):
            kept = [p for p in pos if p >= 0]
            probs = softmax(logits[i, kept], axis=-1) if kept else np.zeros((0, len(names)))
            best = probs.argmax(-1) if kept else np.zeros(0, dtype=int)
            it = iter(range(len(kept)))
            pred: list[str | None] = []
            for p in pos:
                pred.append(names[int(best[next(it)])] if p >= 0 else None)
            rows.append(
                {
                    "id": rid,
                    "text": " ".join(tokens),
                    "tokens": tokens,
                    "gold": gold,
                    "pred": pred,
                    "score": round(float(probs.max(-1).mean()), 6) if kept else 0.0,
                    "truncated": len(pos) - len(kept),
                    "scheme": scheme,
                }
            )
        return rows

    def metrics_from_rows(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        gold = [r["gold"] for r in rows]
        pred = [r["pred"] for r in rows]
        # The scheme travels with the rows: a slice whose gold has no entity is still scored
        # with entity F1 (its false positives count), not silently switched to accuracy.
        bio = rows[0].get("scheme") == "bio" if rows else None
        return tagging_metrics(gold, pred, bio)

    def resampler(
        self, rows: list[dict[str, Any]]
    ) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
        """Bootstrap metrics from per-sentence counts: token accuracy and seqeval's micro
        entity scores are ratios of sums over sentences (entities never cross a sentence)."""
        gold = [r["gold"] for r in rows]
        pred = [[p if p is not None else "O" for p in r["pred"]] for r in rows]
        raw = [r["pred"] for r in rows]
        correct = np.array(
            [
                sum(p == g for g, p in zip(gs, ps, strict=True))
                for gs, ps in zip(gold, raw, strict=True)
            ]
        )
        total = np.array([len(g) for g in gold])
        scheme = rows[0].get("scheme") if rows else None
        bio = scheme == "bio" if scheme is not None else is_bio({t for g in gold for t in g})
        if bio:
            from seqeval.metrics.sequence_labeling import get_entities

            ents = [
                (set(get_entities(g)), set(get_entities(p)))
                for g, p in zip(gold, pred, strict=True)
            ]
            tp = np.array([len(g & p) for g, p in ents])
            n_gold = np.array([len(g) for g, _ in ents])
            n_pred = np.array([len(p) for _, p in ents])

        def metrics(idx: np.ndarray) -> dict[str, np.ndarray]:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = {"accuracy": correct[idx].sum(axis=1) / total[idx].sum(axis=1)}
                if bio:
                    t, g, p = tp[idx].sum(axis=1), n_gold[idx].sum(axis=1), n_pred[idx].sum(axis=1)
                    out["precision"] = np.where(p > 0, t / p, 0.0)
                    out["recall"] = np.where(g > 0, t / g, 0.0)
                    out["f1"] = np.where(g + p > 0, 2 * t / (g + p), 0.0)
            return out

        return metrics
