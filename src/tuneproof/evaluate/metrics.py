"""Per-slice metrics with seeded, vectorised bootstrap confidence intervals.

The point estimate of every metric is the task adapter's own ``metrics_from_rows`` on the slice's
rows, so any task works and ``metrics.json`` agrees with ``predictions.jsonl``. The interval is a
95 % percentile bootstrap: resample the slice's row indices with replacement ``n_resamples``
times, recompute the metric on each resample, take the 2.5th and 97.5th percentiles.

Recomputing a metric through Python 1,000 times per slice is too slow (30 slices × 1,000
resamples × a scikit-learn call ≈ 30 s), so each metric is resampled by the fastest path that
gives the *same* number as ``metrics_from_rows`` — checked on the full data before it is used:

- ``confusion``: single-label classification rows (scalar ``gold`` and ``pred``). Every resample
  becomes a confusion matrix with one ``bincount``; accuracy, macro/micro/weighted F1 and macro
  precision/recall follow in NumPy over all resamples at once.
- ``mean``: metrics that are the mean of a per-row score (exact match, token F1, ROUGE per row,
  ...): detected by checking that the mean of ``metrics_from_rows([row])`` equals the metric on
  the full data; resamples are means of gathered per-row values.
- ``vectorised``: the task adapter offers ``resampler(rows)``, a function from resampled indices
  ``(B, m)`` to one value per resample (entity-level F1 from per-sentence entity counts, Pearson
  and Spearman over gathered scores); used for the metrics where it reproduces
  ``metrics_from_rows`` on the full data.
- ``general``: anything else: ``metrics_from_rows`` on each resample, with fewer resamples
  (``general_resamples``, default 200) to bound the cost.

**Copies resample together** (a cluster bootstrap). Rows whose inputs are the same text (after
the data checks' normalisation: NFKC, case folding, whitespace) are one group
(:func:`duplicate_groups`); a resample draws *groups* with replacement, each with all its rows.
Copies are not independent evidence: a text held 5 times is one observation that the model gets
right or wrong 5 times, and resampling rows would count it as 5 and shrink the interval by up to
√5. Resamples then differ in length; the vectorised paths stay vectorised by scoring the resamples
of each length together (a few dozen lengths per slice). Without copies the draws are exactly
the row bootstrap's.

Each slice draws its indices from its own generator seeded with ``(seed, crc32(its row
positions))``, so a slice's interval does not depend on which other slices exist or their order,
and two slices that hold the same rows (``language=en`` and ``script=Latin`` on English data) get
the same interval and the same verdict.

**small_n** is set when the interval means little: fewer than :data:`MIN_N` rows, or, for a
proportion (accuracy-like main metric), fewer than :data:`MIN_MINORITY` rows on its minority side
(right or wrong) — the n·p ≥ 5 rule of thumb; with 0 errors the percentile interval collapses to
a point although the true error rate is not 0.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tuneproof.checks.base import as_text, normalise
from tuneproof.evaluate.slices import natural_key

RowMetricsFn = Callable[[list[dict[str, Any]]], Mapping[str, Any]]
Resampler = Callable[[np.ndarray], Mapping[str, np.ndarray]]
Kind = Literal["confusion", "vectorised", "mean", "general"]

CONFIDENCE = 0.95
N_RESAMPLES = 1000
GENERAL_RESAMPLES = 200
MIN_N = 30
MIN_MINORITY = 5
CONFUSION_METRICS = (
    "accuracy",
    "macro_f1",
    "micro_f1",
    "weighted_f1",
    "macro_precision",
    "macro_recall",
)
CHUNK_ELEMENTS = 4_000_000  # indices per chunk: bounds memory at ~32 MB for any slice size
_TOL = 1e-9


@dataclass(frozen=True)
class SliceMetrics:
    """One slice: its size, the task's metrics, their intervals and the small-n flag."""

    n: int
    metrics: dict[str, float]
    ci: dict[str, tuple[float, float] | None]
    small_n: bool

    def to_dict(self) -> dict[str, Any]:
        """The metrics.json block; a metric that cannot be computed on these rows (a correlation
        of constant values, one row) is written as null with a ``note`` saying why, never NaN."""
        out: dict[str, Any] = {"n": self.n}
        undefined = []
        for name, value in self.metrics.items():
            if isinstance(value, float) and math.isnan(value):
                out[name] = None
                undefined.append(name)
                continue
            out[name] = value
            if name in self.ci:
                ci = self.ci[name]
                out[f"{name}_ci"] = [ci[0], ci[1]] if ci is not None else None
        out["small_n"] = self.small_n
        if undefined:
            out["note"] = (
                f"{', '.join(undefined)}: undefined on these {self.n} rows (constant gold or "
                "predictions, or too few rows), so not reported"
            )
        return out


@dataclass(frozen=True)
class Summary:
    """Overall and per-slice metrics of one set of prediction rows."""

    main_metric: str
    overall: SliceMetrics
    slices: dict[str, SliceMetrics]
    seed: int
    n_resamples: int
    confidence: float
    kinds: dict[str, str] = field(default_factory=dict)
    #: Per-row 1/0 (right/wrong) as the task's metrics define it; None when they define none.
    correct: np.ndarray | None = field(default=None, repr=False)
    labelled: bool = False  # single-label rows scored by the confusion path (classification)

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "slices": {k: v.to_dict() for k, v in self.slices.items()},
        }


@dataclass
class RowMetrics:
    """Prediction rows prepared for fast resampling of each metric of a task."""

    rows: list[dict[str, Any]]
    fn: RowMetricsFn
    names: list[str]
    kinds: dict[str, Kind]
    codes: np.ndarray | None = None  # gold * K + pred per row (confusion kind)
    n_labels: int = 0
    per_row: dict[str, np.ndarray] = field(default_factory=dict)  # mean kind
    vectorised: Resampler | None = None  # vectorised kind
    correct: np.ndarray | None = None  # per-row 0/1 when the task has one (small_n, McNemar)
    groups: np.ndarray | None = None  # copies of one text share a group (cluster bootstrap)

    def __len__(self) -> int:
        return len(self.rows)


def numeric(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The numeric metrics of a ``metrics_from_rows`` result (bools and None left out)."""
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)
    }


def is_label_row(row: Mapping[str, Any]) -> bool:
    """Single-label rows: scalar, non-float gold and pred (classification)."""
    g, p = row.get("gold"), row.get("pred")
    return isinstance(g, (str, int, bool)) and isinstance(p, (str, int, bool))


def label_codes(rows: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Gold and pred as indices into the sorted union of labels seen."""
    names = sorted({r["gold"] for r in rows} | {r["pred"] for r in rows}, key=str)
    index = {n: i for i, n in enumerate(names)}
    gold = np.fromiter((index[r["gold"]] for r in rows), dtype=np.int64, count=len(rows))
    pred = np.fromiter((index[r["pred"]] for r in rows), dtype=np.int64, count=len(rows))
    return gold, pred, names


def confusion_metrics(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics from confusion matrices ``(B, K, K)`` (rows gold, columns pred), one per matrix.

    Labels absent from both gold and pred of a matrix are left out of macro averages, as
    scikit-learn does when given the labels present in the rows.
    """
    counts = counts.astype(np.float64)
    n = counts.sum(axis=(1, 2))
    tp = np.diagonal(counts, axis1=1, axis2=2)
    gold = counts.sum(axis=2)
    pred = counts.sum(axis=1)
    fp, fn = pred - tp, gold - tp
    present = (gold + pred) > 0
    n_present = np.maximum(present.sum(axis=1), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        accuracy = np.where(n > 0, tp.sum(axis=1) / n, 0.0)
        weighted = np.where(n > 0, (f1 * gold).sum(axis=1) / n, 0.0)
    return {
        "accuracy": accuracy,
        "micro_f1": accuracy,  # single-label: micro F1 equals accuracy
        "macro_f1": (f1 * present).sum(axis=1) / n_present,
        "weighted_f1": weighted,
        "macro_precision": (precision * present).sum(axis=1) / n_present,
        "macro_recall": (recall * present).sum(axis=1) / n_present,
    }


def _confusion_counts(codes: np.ndarray, n_labels: int, idx: np.ndarray) -> np.ndarray:
    """Confusion matrices of resamples ``idx`` ``(B, m)`` in one bincount."""
    b = idx.shape[0]
    kk = n_labels * n_labels
    flat = codes[idx] + (np.arange(b, dtype=np.int64) * kk)[:, None]
    return np.bincount(flat.ravel(), minlength=b * kk).reshape(b, n_labels, n_labels)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= _TOL * max(1.0, abs(a), abs(b))


def analyse(rows: list[dict[str, Any]], fn: RowMetricsFn, *, probe: int = 50) -> RowMetrics:
    """Decide, per metric, the fastest resampling path that reproduces ``fn`` exactly."""
    full = numeric(fn(rows)) if rows else {}
    rm = RowMetrics(rows=rows, fn=fn, names=list(full), kinds={}, groups=duplicate_groups(rows))
    todo = list(full)
    if rows and any(m in CONFUSION_METRICS for m in todo) and all(map(is_label_row, rows)):
        gold, pred, names = label_codes(rows)
        k = max(len(names), 1)
        codes = gold * k + pred
        counts = np.bincount(codes, minlength=k * k).reshape(1, k, k)
        fast = {m: float(v[0]) for m, v in confusion_metrics(counts).items()}
        for m in list(todo):
            if m in fast and _close(fast[m], full[m]):
                rm.kinds[m] = "confusion"
                todo.remove(m)
        if len(todo) < len(full):  # labels, not free text: gold == pred is "right"
            rm.codes, rm.n_labels = codes, k
            rm.correct = (gold == pred).astype(np.float64)
    make_resampler = getattr(getattr(fn, "__self__", None), "resampler", None)
    if todo and rows and make_resampler is not None:  # fn is a task adapter's bound method
        vec = make_resampler(rows)
        whole = vec(np.arange(len(rows))[None, :])
        for m in list(todo):
            if m in whole and _close(float(whole[m][0]), full[m]):
                rm.kinds[m] = "vectorised"
                rm.vectorised = vec
                todo.remove(m)
    if todo:
        per_row = _per_row_values(rows, fn, todo, full, probe)
        for m in todo:
            if m in per_row:
                rm.kinds[m] = "mean"
                rm.per_row[m] = per_row[m]
            else:
                rm.kinds[m] = "general"
    if rm.correct is None:
        # A mean metric with 0/1 rows (exact match) is the task's per-row correctness.
        for m in rm.names:
            v = rm.per_row.get(m)
            if v is not None and np.isin(v, (0.0, 1.0)).all():
                rm.correct = v
                break
    return rm


def _per_row_values(
    rows: list[dict[str, Any]],
    fn: RowMetricsFn,
    names: list[str],
    full: dict[str, float],
    probe: int,
) -> dict[str, np.ndarray]:
    """Per-row values of the metrics that are a mean of per-row scores (checked, not assumed)."""

    def one(row: dict[str, Any]) -> dict[str, float] | None:
        try:
            return numeric(fn([row]))
        except Exception:  # a metric undefined on one row (a correlation) is not a mean
            return None

    head = rows[:probe]
    try:
        head_full = numeric(fn(head))
    except Exception:
        return {}
    head_rows = [one(r) for r in head]
    if any(r is None for r in head_rows):
        return {}
    cand = [
        m
        for m in names
        if all(m in r for r in head_rows if r is not None)
        and m in head_full
        and _close(float(np.mean([r[m] for r in head_rows if r is not None])), head_full[m])
    ]
    if not cand:
        return {}
    values = {m: np.empty(len(rows)) for m in cand}
    for i, row in enumerate(rows):
        r = head_rows[i] if i < len(head_rows) else one(row)
        if r is None:
            return {}
        for m in cand:
            values[m][i] = r.get(m, np.nan)
    return {m: v for m, v in values.items() if _close(float(np.mean(v)), full[m])}


def rows_rng(seed: int, positions: np.ndarray) -> np.random.Generator:
    """A generator per set of rows: the same rows always get the same resamples."""
    raw = np.ascontiguousarray(positions, dtype=np.int64).tobytes()
    return np.random.default_rng([seed, zlib.crc32(raw)])


#: The fields of a prediction row that hold its input (one of them per task).
INPUT_FIELDS = ("text", "text_pair", "question", "context", "input", "messages")


def duplicate_key(row: Mapping[str, Any]) -> str:
    """What makes two rows copies: the same input text(s), normalised as the data checks do."""
    parts = []
    for name in INPUT_FIELDS:
        value = row.get(name)
        if value is None:
            continue
        if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            text = as_text(value)
        else:
            text = json.dumps(value, sort_keys=True, ensure_ascii=False)
        parts.append(normalise(text))
    return "\x1f".join(parts)


def duplicate_groups(rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """A group id per row; rows with the same :func:`duplicate_key` share one, rows without an
    input field are each their own group."""
    table: dict[str, int] = {}
    out = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        key = duplicate_key(row)
        out[i] = table.setdefault(key, len(table)) if key else -1 - i
    return out


@dataclass(frozen=True)
class Draws:
    """A chunk of ``b`` resamples: ``idx (b, m)`` when all have the same length (row bootstrap),
    else (cluster bootstrap) the rows of all resamples concatenated in ``flat`` with ``length``
    rows each. ``ordinal`` numbers each resample among all draws of the slice."""

    ordinal: np.ndarray
    idx: np.ndarray | None = None
    draws: np.ndarray | None = None  # cluster: (b, G) the local groups drawn
    sizes: np.ndarray | None = None  # cluster: rows per local group
    length: np.ndarray | None = None
    weights: np.ndarray | None = None  # cluster: (b, G) times each group was drawn
    group_of_member: np.ndarray | None = None  # cluster: local group of each slice row
    members: np.ndarray | None = None  # cluster: the slice's rows sorted by group

    def group_totals(self, values: np.ndarray) -> np.ndarray:
        """Per resample, the sum of per-row ``values`` over its rows, from the group draws alone
        (one matrix product, no expansion to rows)."""
        assert self.weights is not None and self.members is not None
        assert self.group_of_member is not None
        n_groups = self.weights.shape[1]
        per_group = np.bincount(
            self.group_of_member, weights=values[self.members], minlength=n_groups
        )
        return self.weights @ per_group

    def code_counts(self, codes: np.ndarray, n_codes: int) -> np.ndarray:
        """Per resample, how many of its rows have each code ``(b, n_codes)``."""
        assert self.weights is not None and self.members is not None
        assert self.group_of_member is not None
        n_groups = self.weights.shape[1]
        flat = self.group_of_member * n_codes + codes[self.members]
        per_group = np.bincount(flat, minlength=n_groups * n_codes).reshape(n_groups, n_codes)
        return self.weights @ per_group

    @property
    def b(self) -> int:
        return len(self.ordinal)

    def flat(self) -> np.ndarray:
        """Cluster: the rows of all resamples concatenated (row k of drawn group j is
        ``members[start[j] + k]``)."""
        assert self.draws is not None and self.sizes is not None and self.members is not None
        drawn = self.draws.ravel()
        lens = self.sizes[drawn]
        starts = np.cumsum(self.sizes) - self.sizes
        within = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        return self.members[np.repeat(starts[drawn], lens) + within]

    def by_length(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(indices (b_k, L), which resamples)`` per distinct length ``L``."""
        if self.idx is not None:
            yield self.idx, np.arange(self.b)
            return
        assert self.length is not None
        flat = self.flat()
        offset = np.cumsum(self.length) - self.length
        for value in np.unique(self.length):
            which = np.flatnonzero(self.length == value)
            yield flat[offset[which][:, None] + np.arange(value)], which


def index_chunks(
    positions: np.ndarray,
    n_resamples: int,
    rng: np.random.Generator,
    groups: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """Resampled row indices ``(b, m)`` drawn with replacement from ``positions``, in chunks.

    With ``groups`` (a group id per row of the whole row set), whole groups are drawn (the
    cluster bootstrap of the module docstring); chunks then hold resamples of one length each.
    """
    for draws in draw_chunks(positions, n_resamples, rng, groups):
        for idx, _ in draws.by_length():
            yield idx


def draw_chunks(
    positions: np.ndarray,
    n_resamples: int,
    rng: np.random.Generator,
    groups: np.ndarray | None = None,
) -> Iterator[Draws]:
    """The resamples of a slice in chunks of bounded memory; groups of copies drawn whole."""
    m = len(positions)
    members = sizes = None
    if groups is not None and m:
        uniq, inverse, counts = np.unique(
            groups[positions], return_inverse=True, return_counts=True
        )
        if len(uniq) < m:  # some rows are copies: resample groups
            members = positions[np.argsort(inverse, kind="stable")]
            sizes = counts
    per_chunk = max(1, CHUNK_ELEMENTS // max(m, 1))
    done = 0
    while done < n_resamples:
        b = min(per_chunk, n_resamples - done)
        ordinal = np.arange(done, done + b)
        if members is None or sizes is None:
            yield Draws(ordinal, idx=positions[rng.integers(0, m, size=(b, m))])
        else:
            yield _cluster_draws(members, sizes, rng, ordinal)
        done += b


def _cluster_draws(
    members: np.ndarray, sizes: np.ndarray, rng: np.random.Generator, ordinal: np.ndarray
) -> Draws:
    """Cluster resamples: draw as many groups as there are, each with all of its rows
    (``members``: the slice's rows sorted by group)."""
    b, n_groups = len(ordinal), len(sizes)
    draws = rng.integers(0, n_groups, size=(b, n_groups))
    weights = np.bincount(
        (draws + (np.arange(b) * n_groups)[:, None]).ravel(), minlength=b * n_groups
    ).reshape(b, n_groups)
    return Draws(
        ordinal,
        draws=draws,
        sizes=sizes,
        length=weights @ sizes,
        weights=weights.astype(np.float64),
        group_of_member=np.repeat(np.arange(n_groups), sizes),
        members=members,
    )


def resample(
    rm: RowMetrics,
    positions: np.ndarray,
    n_resamples: int,
    rng: np.random.Generator,
    *,
    general_resamples: int = GENERAL_RESAMPLES,
    others: Sequence[RowMetrics] = (),
    groups: np.ndarray | None = None,
) -> list[dict[str, np.ndarray]]:
    """Bootstrap distributions of every metric of ``rm`` (and of ``others``, paired).

    ``positions`` index the rows of the slice. ``others`` are row sets aligned with ``rm`` (the
    same rows under another model): they get the *same* resampled indices, which is what a
    paired comparison needs. Returns one ``{metric: (B,) array}`` per row set; ``general``
    metrics have ``general_resamples`` values (the first draws). ``groups``: a group id per row
    (:func:`duplicate_groups`) for the cluster bootstrap; default: ``rm.groups``.

    A cluster chunk's confusion and mean metrics come from one ``bincount`` over all its rows
    (whatever each resample's length); the task adapters' resamplers and the general path see
    the resamples of each length together.
    """
    sets = [rm, *others]
    out: list[dict[str, list[np.ndarray]]] = [{m: [] for m in s.names} for s in sets]
    groups = rm.groups if groups is None else groups
    for d in draw_chunks(positions, n_resamples, rng, groups):
        for s, acc in zip(sets, out, strict=True):
            conf = None
            vec = _vectorised(s, d) if s.vectorised is not None else None
            for m in s.names:
                kind = s.kinds[m]
                if kind == "confusion":
                    if conf is None:
                        assert s.codes is not None
                        conf = confusion_metrics(_draw_counts(s.codes, s.n_labels, d))
                    acc[m].append(conf[m])
                elif kind == "vectorised":
                    assert vec is not None
                    acc[m].append(vec[m])
                elif kind == "mean":
                    values = s.per_row[m]
                    if d.idx is not None:
                        acc[m].append(values[d.idx].mean(axis=1))
                    else:
                        assert d.length is not None
                        acc[m].append(d.group_totals(values) / d.length)
                else:
                    early = d.ordinal < general_resamples
                    if early.any():
                        acc[m].append(_general(s, d, early, m))
    return [{m: np.concatenate(v) if v else np.empty(0) for m, v in acc.items()} for acc in out]


def _draw_counts(codes: np.ndarray, n_labels: int, d: Draws) -> np.ndarray:
    if d.idx is not None:
        return _confusion_counts(codes, n_labels, d.idx)
    return d.code_counts(codes, n_labels * n_labels).reshape(d.b, n_labels, n_labels)


def _vectorised(rm: RowMetrics, d: Draws) -> dict[str, np.ndarray]:
    """The task adapter's resampler over a chunk, one call per resample length."""
    assert rm.vectorised is not None
    out: dict[str, np.ndarray] = {}
    for idx, which in d.by_length():
        for m, v in rm.vectorised(idx).items():
            out.setdefault(m, np.full(d.b, np.nan))[which] = np.asarray(v, dtype=np.float64)
    return out


def _general(rm: RowMetrics, d: Draws, early: np.ndarray, name: str) -> np.ndarray:
    vals = np.full(d.b, np.nan)
    for idx, which in d.by_length():
        for row_idx, j in zip(idx, which, strict=True):
            if not early[j]:
                continue
            try:
                vals[j] = numeric(rm.fn([rm.rows[i] for i in row_idx])).get(name, np.nan)
            except Exception:  # undefined on this resample (e.g. one class only)
                vals[j] = np.nan
    return vals[early]


def percentile_interval(
    values: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """The central ``confidence`` percentile interval; None when no resample was defined."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(finite, [tail, 100 - tail])
    return float(lo), float(hi)


def small_n(n: int, correct: np.ndarray | None) -> bool:
    """The module docstring's rule: n < 30, or < 5 rows on the minority side of a proportion."""
    if n < MIN_N:
        return True
    if correct is not None:
        right = int(correct.sum())
        return min(right, n - right) < MIN_MINORITY
    return False


def slice_metrics(
    rm: RowMetrics,
    positions: np.ndarray,
    *,
    seed: int,
    n_resamples: int = N_RESAMPLES,
    general_resamples: int = GENERAL_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> SliceMetrics:
    """Metrics of the rows at ``positions`` with their bootstrap intervals."""
    rows = [rm.rows[i] for i in positions]
    point = numeric(rm.fn(rows)) if rows else {}
    ci: dict[str, tuple[float, float] | None] = {}
    if len(positions):
        dist = resample(
            rm,
            positions,
            n_resamples,
            rows_rng(seed, positions),
            general_resamples=general_resamples,
        )[0]
        ci = {m: percentile_interval(dist[m], confidence) for m in point if m in dist}
    correct = rm.correct[positions] if rm.correct is not None else None
    return SliceMetrics(len(positions), point, ci, small_n(len(positions), correct))


def slice_positions(rows: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Row positions per slice key ``name=value``, ordered by dimension then natural value."""
    groups: dict[str, dict[str, list[int]]] = {}
    for i, row in enumerate(rows):
        for name, value in (row.get("slices") or {}).items():
            groups.setdefault(name, {}).setdefault(str(value), []).append(i)
    out: dict[str, np.ndarray] = {}
    for name, values in groups.items():
        for value in sorted(values, key=natural_key):
            out[f"{name}={value}"] = np.asarray(values[value], dtype=np.int64)
    return out


def summarize_rows(
    rows: list[dict[str, Any]],
    fn: RowMetricsFn,
    main_metric: str,
    *,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    general_resamples: int = GENERAL_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> Summary:
    """Overall and per-slice metrics (slices from each row's ``"slices"`` tags) with CIs."""
    rm = analyse(rows, fn)
    kw: dict[str, Any] = {
        "seed": seed,
        "n_resamples": n_resamples,
        "general_resamples": general_resamples,
        "confidence": confidence,
    }
    overall = slice_metrics(rm, np.arange(len(rows)), **kw)
    slices = {key: slice_metrics(rm, pos, **kw) for key, pos in slice_positions(rows).items()}
    return Summary(
        main_metric,
        overall,
        slices,
        seed,
        n_resamples,
        confidence,
        dict(rm.kinds),
        rm.correct,
        rm.codes is not None,
    )


def summarize(
    rows: list[dict[str, Any]],
    task: Any,
    *,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
    main_metric: str | None = None,
) -> dict[str, Any]:
    """``{"overall": {...}, "slices": {...}}`` for metrics.json, from prediction rows alone.

    ``task`` is a task adapter or a task name. This is the entry point for the trainer: it
    needs no model, only the rows ``predict_rows`` returned (with ``"slices"`` tags if any).
    ``main_metric`` overrides the adapter's (``Prepared.main_metric``).
    """
    if isinstance(task, str):
        from tuneproof.tasks import get_task

        task = get_task(task)
    return summarize_rows(
        rows,
        task.metrics_from_rows,
        main_metric or task.main_metric,
        seed=seed,
        n_resamples=n_resamples,
        confidence=confidence,
    ).to_dict()
