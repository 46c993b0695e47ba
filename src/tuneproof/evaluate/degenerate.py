"""Degenerate-model warnings: the failures an aggregate score prints without a word.

A model card that says "accuracy 0.93" beside a macro-F1 of 0.0 has a model that predicts one
class on a 93 %-majority test set. These checks look at a run's own files (``metrics.json``,
the prediction rows, ``baselines.json`` when present) and return one plain sentence per problem;
the train summary, the report headline and the model card print them.

- ``single_class``: every in-distribution row gets the same predicted label, although the gold
  labels hold two or more.
- ``zero_f1``: a class present in the gold labels has F1 0 (never predicted right).
- ``below_majority``: the main metric is not above what always predicting the most frequent
  class scores on the same rows (``baselines.json``'s ``majority`` when it was run — the train
  split's majority class — else the evaluated rows' own, scored by the task's metrics).
- ``overfit``: the last validation loss is at least :data:`OVERFIT_RATIO` × the last logged
  training loss and :data:`OVERFIT_GAP` nats above it (a heuristic; the logged training loss is
  a mean over the logging window, with dropout on, so small gaps are normal).

Single-label tasks only for the first three (scalar gold and pred); the loss gap for any task
that logged both losses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tuneproof import rundir

OVERFIT_RATIO = 2.0
OVERFIT_GAP = 0.3  # nats
Kind = Literal["single_class", "zero_f1", "below_majority", "overfit"]


@dataclass(frozen=True)
class DegenerateWarning:
    kind: Kind
    message: str

    def __str__(self) -> str:
        return self.message


def _as_dict(row: rundir.PredictionRow | Mapping[str, Any]) -> Mapping[str, Any]:
    return row.model_dump() if isinstance(row, rundir.PredictionRow) else row


def _label(v: Any) -> bool:
    return isinstance(v, (str, int, bool)) and not isinstance(v, float)


def class_f1(golds: Sequence[Any], preds: Sequence[Any]) -> dict[Any, float]:
    """F1 per gold class (one-vs-rest), for the classes present in ``golds``."""
    out = {}
    for c in sorted(set(golds), key=str):
        tp = sum(g == c and p == c for g, p in zip(golds, preds, strict=True))
        fp = sum(g != c and p == c for g, p in zip(golds, preds, strict=True))
        fn = sum(g == c and p != c for g, p in zip(golds, preds, strict=True))
        out[c] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return out


def _majority_score(
    metrics: rundir.Metrics, rows: Sequence[Mapping[str, Any]], baselines: rundir.Baselines | None
) -> tuple[float, str] | None:
    """The main metric of always predicting the majority class, and where it came from."""
    if baselines is not None:
        b = baselines.get("majority")
        if b is not None and b.main is not None:
            return b.main, "the majority-class baseline (baselines.json)"
    golds = [r.get("gold") for r in rows]
    if not golds:
        return None
    top = Counter(golds).most_common(1)[0][0]
    if metrics.main_metric == "accuracy":
        return sum(g == top for g in golds) / len(golds), "always predicting the majority class"
    from tuneproof.tasks import get_task

    try:
        fn = get_task(metrics.task).metrics_from_rows
        value = fn([{**r, "pred": top} for r in rows]).get(metrics.main_metric)
    except Exception:  # a task whose metrics need more than gold/pred: no comparison
        return None
    if value is None:
        return None
    return float(value), "always predicting the majority class"


def _last(history: Sequence[Mapping[str, Any]], key: str) -> float | None:
    for entry in reversed(history):
        v = entry.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


def degenerate_warnings(
    metrics: rundir.Metrics,
    rows: Sequence[rundir.PredictionRow | Mapping[str, Any]] | None,
    baselines: rundir.Baselines | None = None,
) -> list[DegenerateWarning]:
    """The warnings of the module docstring, in a fixed order (empty: nothing degenerate)."""
    out: list[DegenerateWarning] = []
    inside = [r for r in (_as_dict(x) for x in rows or ()) if r.get("in_distribution") is not False]
    labelled = [r for r in inside if _label(r.get("gold")) and _label(r.get("pred"))]
    if labelled and len(labelled) == len(inside):
        golds = [r["gold"] for r in labelled]
        preds = [r["pred"] for r in labelled]
        if len(set(preds)) == 1 and len(set(golds)) >= 2:
            out.append(
                DegenerateWarning(
                    "single_class",
                    f"the model predicts one class ('{preds[0]}') for all {len(preds):,} "
                    f"{metrics.split} rows, whose gold labels hold {len(set(golds))} classes",
                )
            )
        zero = [str(c) for c, f in class_f1(golds, preds).items() if f == 0.0]
        if zero:
            out.append(
                DegenerateWarning(
                    "zero_f1",
                    f"class{'es' if len(zero) > 1 else ''} {', '.join(repr(z) for z in zero)} "
                    f"{'have' if len(zero) > 1 else 'has'} F1 0 on the {metrics.split} split "
                    "(never predicted right)",
                )
            )
        head = metrics.headline
        chance = _majority_score(metrics, labelled, baselines)
        if head is not None and chance is not None and head.value <= chance[0] + 1e-12:
            out.append(
                DegenerateWarning(
                    "below_majority",
                    f"{metrics.main_metric} {head.value:.4f} is not above {chance[1]} "
                    f"({chance[0]:.4f}): the model has learned nothing a constant does not do",
                )
            )
    train_loss = _last(metrics.history, "loss")
    val_loss = _last(metrics.history, "eval_loss")
    if val_loss is None:
        v = metrics.validation.get("loss")
        val_loss = float(v) if isinstance(v, (int, float)) else None
    if (
        train_loss is not None
        and val_loss is not None
        and val_loss >= OVERFIT_RATIO * train_loss
        and val_loss - train_loss >= OVERFIT_GAP
    ):
        out.append(
            DegenerateWarning(
                "overfit",
                f"validation loss {val_loss:.3f} is {val_loss / max(train_loss, 1e-12):.1f}× the "
                f"last training loss {train_loss:.3f}: the model overfits the train split "
                "(fewer epochs, more regularisation or more data)",
            )
        )
    return out


def run_warnings(run_dir: str | Path) -> list[DegenerateWarning]:
    """:func:`degenerate_warnings` of a run directory (``metrics.json`` is required; rows and
    ``baselines.json`` are used when present)."""
    metrics = rundir.read(run_dir, rundir.Metrics)
    rows = (
        rundir.read_predictions(run_dir) if (Path(run_dir) / rundir.PREDICTIONS).is_file() else None
    )
    return degenerate_warnings(metrics, rows, rundir.read_optional(run_dir, rundir.Baselines))
