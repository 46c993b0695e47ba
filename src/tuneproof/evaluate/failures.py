"""Where the wrong predictions are: failure categories and per-slice confusion matrices.

Each category is a property of a row (confident prediction, truncated input, ...). For each one
the report gives how many rows have it, how many of those are wrong, and the error rate with and
without the property, so "40 % of errors are truncated" can be read against "20 % of all rows
are truncated". Everything is computed from prediction rows alone (``predictions.jsonl``), so the
report can be rebuilt without the model.

Categories (thresholds are module constants, documented in docs/evaluation.md):

- ``confident_wrong``: top probability ≥ :data:`CONFIDENT` (0.9): the model is sure and wrong.
- ``near_boundary``: top-1 minus top-2 probability < :data:`NEAR_BOUNDARY` (0.1): a coin flip.
- ``truncated``: the input was longer than the run's ``max_length`` (slice tag).
- ``high_unk``: ≥ :data:`HIGH_UNK_RATE` (5 %) of the input's tokens are UNK.
- ``high_fertility``: > :data:`HIGH_FERTILITY` (2.0) tokens per word (per character for
  scripts written without spaces: > :data:`HIGH_CHAR_FERTILITY`): the tokenizer shreds it.

Example lists show one row per text: copies of one text (the same input after the data checks'
normalisation) are one example, with ``copies`` saying how many wrong rows it stands for, so a
text held 10 times does not fill the list.

A row is wrong as the task's metrics say (exact match for QA; ``gold != pred`` for labels and
label sequences); tasks without a right/wrong per row (similarity scores, ROUGE) get no failure
report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuneproof.evaluate.metrics import duplicate_key

CONFIDENT = 0.9
NEAR_BOUNDARY = 0.1
HIGH_UNK_RATE = 0.05
HIGH_FERTILITY = 2.0
HIGH_CHAR_FERTILITY = 1.0
N_EXAMPLES = 5

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Category:
    name: str
    description: str
    test: Callable[[Row], bool | None]  # None: not measurable on this row


def _top2(row: Row) -> tuple[float, float] | None:
    probs = row.get("probabilities")
    if not isinstance(probs, Mapping) or not probs:
        return None
    values = sorted((float(v) for v in probs.values()), reverse=True)
    return values[0], values[1] if len(values) > 1 else 0.0


def _confident(row: Row) -> bool | None:
    top = _top2(row)
    score = top[0] if top is not None else row.get("score")
    return None if not isinstance(score, (int, float)) else float(score) >= CONFIDENT


def _near_boundary(row: Row) -> bool | None:
    top = _top2(row)
    return None if top is None else top[0] - top[1] < NEAR_BOUNDARY


def _truncated(row: Row) -> bool | None:
    value = (row.get("slices") or {}).get("truncated")
    return None if value is None else value == "yes"


def _tokens(row: Row) -> Mapping[str, Any] | None:
    tok = row.get("token_stats")
    return tok if isinstance(tok, Mapping) else None


def _high_unk(row: Row) -> bool | None:
    tok = _tokens(row)
    if tok is None or not tok.get("n"):
        return None
    return tok.get("unk", 0) / tok["n"] >= HIGH_UNK_RATE


def _high_fertility(row: Row) -> bool | None:
    tok = _tokens(row)
    if tok is None or tok.get("fertility") is None:
        return None
    limit = HIGH_CHAR_FERTILITY if tok.get("per_char") else HIGH_FERTILITY
    return float(tok["fertility"]) > limit


CATEGORIES: tuple[Category, ...] = (
    Category(
        "confident_wrong",
        f"wrong with top probability ≥ {CONFIDENT}: the model is sure and wrong (label noise, "
        "spurious cues, out-of-distribution input)",
        _confident,
    ),
    Category(
        "near_boundary",
        f"wrong with top-1 − top-2 probability < {NEAR_BOUNDARY}: a coin flip; more data or "
        "calibration helps",
        _near_boundary,
    ),
    Category(
        "truncated",
        "wrong on input longer than max_length: the evidence may have been cut off",
        _truncated,
    ),
    Category(
        "high_unk",
        f"wrong on input with ≥ {HIGH_UNK_RATE:.0%} UNK tokens: the vocabulary does not cover it",
        _high_unk,
    ),
    Category(
        "high_fertility",
        f"wrong on input with > {HIGH_FERTILITY} tokens per word: the tokenizer shreds it "
        "(another language or script)",
        _high_fertility,
    ),
)


@dataclass(frozen=True)
class CategoryStats:
    name: str
    description: str
    rows: int  # rows with the property
    errors: int  # wrong rows with the property
    error_rate: float | None  # errors / rows with the property
    error_rate_without: float | None  # among measurable rows without it
    share_of_errors: float | None  # errors with the property / all errors
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "rows": self.rows,
            "errors": self.errors,
            "error_rate": self.error_rate,
            "error_rate_without": self.error_rate_without,
            "share_of_errors": self.share_of_errors,
            "examples": self.examples,
        }


@dataclass(frozen=True)
class ConfusionMatrix:
    labels: list[str]
    matrix: list[list[int]]  # rows: gold, columns: pred

    def to_dict(self) -> dict[str, Any]:
        return {"labels": self.labels, "matrix": self.matrix}


@dataclass(frozen=True)
class FailureReport:
    n_rows: int
    n_errors: int
    categories: list[CategoryStats]
    confusion: dict[str, ConfusionMatrix]
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "n_rows": self.n_rows,
            "n_errors": self.n_errors,
            "categories": {c.name: c.to_dict() for c in self.categories},
            "confusion": {k: v.to_dict() for k, v in self.confusion.items()},
        }
        if self.note:
            out["note"] = self.note
        return out


def comparable(rows: Sequence[Row]) -> bool:
    """Rows whose gold and pred are labels or label sequences: ``gold != pred`` means wrong."""

    def label(v: Any) -> bool:
        return isinstance(v, (str, int, bool)) and not isinstance(v, float)

    return bool(rows) and all(
        (label(r.get("gold")) and label(r.get("pred")))
        or (isinstance(r.get("gold"), list) and isinstance(r.get("pred"), list))
        for r in rows
    )


def example(row: Row, text_chars: int = 160) -> dict[str, Any]:
    text = row.get("text")
    shown = (
        text[:text_chars] + ("…" if len(text) > text_chars else "")
        if isinstance(text, str)
        else text
    )
    out: dict[str, Any] = {"id": row.get("id"), "text": shown, "gold": row.get("gold")}
    out["pred"] = row.get("pred")
    if "score" in row:
        out["score"] = row["score"]
    if "source" in row:
        out["source"] = row["source"]
    return out


def category_stats(
    rows: Sequence[Row],
    wrong: Sequence[bool],
    category: Category,
    n_examples: int = N_EXAMPLES,
) -> CategoryStats:
    with_p = wrong_p = without = wrong_without = 0
    examples: list[dict[str, Any]] = []
    shown: dict[str, dict[str, Any]] = {}  # duplicate key -> its example
    for row, is_wrong in zip(rows, wrong, strict=True):
        flag = category.test(row)
        if flag is None:
            continue
        if flag:
            with_p += 1
            if is_wrong:
                wrong_p += 1
                key = duplicate_key(row) or f"\x00{id(row)}"
                if key in shown:
                    shown[key]["copies"] = shown[key].get("copies", 1) + 1
                elif len(examples) < n_examples:
                    shown[key] = example(row)
                    examples.append(shown[key])
        else:
            without += 1
            wrong_without += is_wrong
    total_wrong = sum(wrong)
    return CategoryStats(
        name=category.name,
        description=category.description,
        rows=with_p,
        errors=wrong_p,
        error_rate=wrong_p / with_p if with_p else None,
        error_rate_without=wrong_without / without if without else None,
        share_of_errors=wrong_p / total_wrong if total_wrong else None,
        examples=examples,
    )


def confusion_matrix(rows: Sequence[Row], labels: Sequence[str]) -> ConfusionMatrix:
    index = {lab: i for i, lab in enumerate(labels)}
    m = [[0] * len(labels) for _ in labels]
    for r in rows:
        g, p = index.get(str(r.get("gold"))), index.get(str(r.get("pred")))
        if g is not None and p is not None:
            m[g][p] += 1
    return ConfusionMatrix(list(labels), m)


def label_order(rows: Sequence[Row]) -> list[str]:
    """The model's label order when rows carry probabilities, else sorted labels seen."""
    for r in rows:
        probs = r.get("probabilities")
        if isinstance(probs, Mapping) and probs:
            names = [str(k) for k in probs]
            extra = sorted({str(x.get(k)) for x in rows for k in ("gold", "pred")} - set(names))
            return names + extra
    return sorted({str(x.get(k)) for x in rows for k in ("gold", "pred")})


def analyse_failures(
    rows: Sequence[Row],
    slices: Mapping[str, Sequence[int] | np.ndarray] | None = None,
    *,
    correct: Sequence[float] | np.ndarray | None = None,
    labelled: bool | None = None,
    n_examples: int = N_EXAMPLES,
) -> FailureReport:
    """Failure categories over all rows, and confusion matrices overall and per slice.

    ``correct`` is the task's per-row right (1) / wrong (0), e.g. exact match for QA
    (``Summary.correct``); without it a row is wrong when ``gold != pred``, which only means
    something for labels and label sequences. ``labelled`` (single-label classification; default:
    detected from the values; pass ``Summary.labelled`` to tell labels from free text such as
    summaries) makes ``gold != pred`` the error and enables the confusion matrices. ``slices`` maps slice keys to row positions.
    """
    sequences = bool(rows) and all(
        isinstance(r.get("gold"), list) and isinstance(r.get("pred"), list) for r in rows
    )
    if labelled is None:
        labelled = comparable(rows) and not sequences
    if correct is not None:
        wrong = [not bool(c) for c in correct]
    elif labelled or sequences:
        wrong = [r.get("gold") != r.get("pred") for r in rows]
    else:
        return FailureReport(
            len(rows), 0, [], {}, note="the task's metrics define no right or wrong per row"
        )
    cats = [category_stats(rows, wrong, c, n_examples) for c in CATEGORIES]
    cats = [c for c in cats if c.rows or c.error_rate_without is not None]
    confusion: dict[str, ConfusionMatrix] = {}
    if labelled:
        labels = label_order(rows)
        confusion["overall"] = confusion_matrix(rows, labels)
        for key, pos in (slices or {}).items():
            confusion[key] = confusion_matrix([rows[i] for i in pos], labels)
    return FailureReport(len(rows), sum(wrong), cats, confusion)
