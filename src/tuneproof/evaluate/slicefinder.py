"""The slice finder: the groups of rows where a model is weakest, with false-discovery control.

``tuneproof eval`` reports the slices it tags one dimension at a time; a reviewer rarely looks at
all of them and never at their conjunctions ("digits and short texts"). This module tests every
candidate slice and keeps only those that survive a Benjamini–Hochberg correction over *all*
tested slices, so the list is not a fishing trip.

**Candidates** (:func:`candidate_dimensions`): every key of a prediction row's ``slices`` (the
tags of ``eval``: language, script, code-switching, length, truncation, negation and any
categorical column the user tagged), plus text properties computed here from the row's input and
its ``token_stats`` (the adapter's token accounting): ``digits``, ``emoji``, ``entities``
(a capitalised word that does not start a sentence — a heuristic, no NER model is loaded),
``fertility`` and ``unk`` bins, and ``length``/``truncated``/``script``/``negation`` when the
rows were not tagged with them. Conjunctions of up to ``depth`` conditions on different
dimensions follow. A slice needs ``min_support`` rows, and the rest of the rows as many; slices
holding exactly the same rows (``language=en`` and ``script=Latin`` on English data) are tested
once, under the simplest key, the others listed as ``aliases``.

**The test** is one-sided — "is the model worse on this slice than on the rest?":

- when the task has a per-row right/wrong (classification, exact match), **Fisher's exact test**
  on the 2 × 2 table slice/rest × right/wrong, computed for all slices at once as the
  hypergeometric tail. It is the exact permutation test of the error rate (conditional on the
  margins), so it holds for small slices and extreme rates where a two-proportion z-test does
  not, and it gives the tiny p-values that must survive a correction over hundreds of slices (a
  Monte-Carlo permutation test with 2,000 shuffles cannot go below 1/2001);
- otherwise, when the main metric is a mean of per-row scores (token F1, ROUGE per row), Welch's
  t-test of the per-row scores;
- otherwise (corpus-level metrics such as entity F1 or Spearman) no test: the slices are listed
  with their metric and interval but none is called significant (``note`` says so).

``q`` is ``scipy.stats.false_discovery_control`` (Benjamini–Hochberg) over every tested slice.
The interval of a slice's metric is the cluster bootstrap of ``tuneproof.evaluate.metrics``
(the same resamples ``eval`` draws for that set of rows), computed for the significant slices
and the first ``limit`` of the ranking.

A significant conjunction whose metric is not below the interval of a significant parent
(``digits=yes & negation=no`` inside a weak ``digits=yes``) adds nothing: it is marked
``redundant_of`` the parent and ranked after the slices that do.

**Diff mode** (:func:`find_regressions`, ``tuneproof compare --find-slices``): the same
candidates on two runs' predictions of the same rows; the metric is B − A on the slice (with
the paired bootstrap interval of ``compare``), the test the exact one-sided McNemar test on the
slice's discordant rows (rows A got right and B wrong against the reverse) — where B is worse
than A.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from tuneproof import rundir
from tuneproof.evaluate.metrics import (
    CONFIDENCE,
    N_RESAMPLES,
    RowMetrics,
    RowMetricsFn,
    analyse,
    confusion_metrics,
    numeric,
    percentile_interval,
    resample,
    rows_rng,
    slice_metrics,
)
from tuneproof.evaluate.slices import (
    LENGTH_EDGES,
    has_negation,
    length_bucket,
    natural_key,
)
from tuneproof.text.scripts import dominant_script

MIN_SUPPORT = 30
DEPTH = 2
FDR = 0.05
LIMIT = 50  # slices of the ranking that get a bootstrap interval (besides the significant ones)
MAX_CANDIDATES = 20_000  # bounds the cost of deep conjunctions on many dimensions
FERTILITY_EDGES: tuple[float, ...] = (1.25, 1.5, 2.0, 3.0)  # tokens per word
_DIGIT = re.compile(r"\d")
_EMOJI = re.compile("[\U0001f300-\U0001faff\U0001f000-\U0001f2ff\u2600-\u27bf\u2b00-\u2bff\ufe0f]")
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?。！？]\s*$")
#: Dimensions computed here from the rows (beside the stored ``slices`` tags).
PROPERTY_DIMENSIONS = ("digits", "emoji", "entities", "fertility", "unk")
SEP = " & "


# --- candidates ---------------------------------------------------------------------------------


def has_entity(text: str) -> bool:
    """A capitalised word that is not the first of its sentence (and not "I"): a cheap,
    language-independent cue for names (Latin, Cyrillic, Greek scripts; none elsewhere)."""
    words = list(_WORD.finditer(text))
    for prev, word in pairwise(words):
        w = word.group()
        if not w[0].isupper() or len(w) == 1:
            continue
        between = text[prev.end() : word.start()]
        if _SENTENCE_END.search(between) or "\n" in between:
            continue
        return True
    return False


def fertility_bin(fertility: float, edges: Sequence[float] = FERTILITY_EDGES) -> str:
    """``"1.25-1.5"`` for 1.25 ≤ f < 1.5 tokens per word; ``"<1.25"``, ``"3.0+"`` at the ends."""
    if fertility < edges[0]:
        return f"<{edges[0]}"
    for low, high in pairwise(edges):
        if fertility < high:
            return f"{low}-{high}"
    return f"{edges[-1]}+"


def _text(row: Mapping[str, Any]) -> str:
    value = row.get("text")
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(map(str, value))
    for key in ("question", "context", "input"):
        if isinstance(row.get(key), str):
            return str(row[key])
    return ""


def candidate_dimensions(
    rows: Sequence[Mapping[str, Any]], *, max_length: int | None = None
) -> dict[str, list[str | None]]:
    """One value per row for every dimension (None: the row has no value for it).

    The stored ``slices`` tags come first, in their order; the text properties of the module
    docstring follow, each only when no stored tag of that name exists.
    """
    dims: dict[str, list[str | None]] = {}
    n = len(rows)
    for i, row in enumerate(rows):
        for name, value in (row.get("slices") or {}).items():
            dims.setdefault(name, [None] * n)[i] = str(value)
    texts = [_text(r) for r in rows]
    stats = [r.get("token_stats") or {} for r in rows]

    def add(name: str, values: list[str | None]) -> None:
        if name not in dims and any(v is not None for v in values):
            dims[name] = values

    add("digits", ["yes" if _DIGIT.search(t) else "no" for t in texts])
    add("emoji", ["yes" if _EMOJI.search(t) else "no" for t in texts])
    add("entities", ["yes" if has_entity(t) else "no" for t in texts])
    add("script", [dominant_script(t) for t in texts])
    add("negation", ["yes" if has_negation(t) else "no" for t in texts])
    ns = [s.get("n") for s in stats]
    add("length", [length_bucket(int(v), LENGTH_EDGES) if v is not None else None for v in ns])
    if max_length is not None:
        add("truncated", [None if v is None else ("yes" if v > max_length else "no") for v in ns])
    add(
        "fertility",
        [fertility_bin(float(s["fertility"])) if s.get("fertility") else None for s in stats],
    )
    add("unk", [None if s.get("unk") is None else ("0" if s["unk"] == 0 else "1+") for s in stats])
    return dims


@dataclass(frozen=True)
class Candidate:
    conditions: tuple[str, ...]  # "name=value", dimensions in candidate order
    dims: tuple[int, ...]
    positions: np.ndarray

    @property
    def key(self) -> str:
        return SEP.join(self.conditions)


def enumerate_slices(
    dims: Mapping[str, Sequence[str | None]],
    *,
    min_support: int = MIN_SUPPORT,
    depth: int = DEPTH,
    max_candidates: int = MAX_CANDIDATES,
) -> tuple[list[Candidate], dict[str, list[str]], int, bool]:
    """Slices with ``min_support`` rows (and as many outside), conjunctions up to ``depth``.

    Returns the distinct candidates (one per row set), the aliases of each kept key, the number
    of candidates before de-duplication, and whether ``max_candidates`` cut the search.
    """
    names = list(dims)
    n = len(next(iter(dims.values()))) if dims else 0
    singles: list[Candidate] = []
    for d, name in enumerate(names):
        by_value: dict[str, list[int]] = {}
        for i, v in enumerate(dims[name]):
            if v is not None:
                by_value.setdefault(v, []).append(i)
        for value in sorted(by_value, key=natural_key):
            pos = np.asarray(by_value[value], dtype=np.int64)
            if min_support <= len(pos) <= n - min_support:
                singles.append(Candidate((f"{name}={value}",), (d,), pos))
    masks = {c.conditions[0]: np.zeros(n, dtype=bool) for c in singles}
    for c in singles:
        masks[c.conditions[0]][c.positions] = True
    seen: dict[bytes, str] = {}
    aliases: dict[str, list[str]] = {}
    out: list[Candidate] = []
    total = 0
    capped = False

    def keep(c: Candidate) -> bool:
        nonlocal total
        total += 1
        sig = c.positions.tobytes()
        if sig in seen:
            aliases.setdefault(seen[sig], []).append(c.key)
            return False
        seen[sig] = c.key
        out.append(c)
        return True

    level = [c for c in singles if keep(c)]
    for _ in range(depth - 1):
        nxt: list[Candidate] = []
        for c in level:
            mask = np.zeros(n, dtype=bool)
            mask[c.positions] = True
            for s in singles:
                if s.dims[0] <= c.dims[-1]:
                    continue
                both = mask & masks[s.conditions[0]]
                m = int(both.sum())
                if m < min_support or m > n - min_support or m == len(c.positions):
                    continue
                child = Candidate(
                    (*c.conditions, s.conditions[0]), (*c.dims, s.dims[0]), np.flatnonzero(both)
                )
                if keep(child):
                    nxt.append(child)
                if len(out) >= max_candidates:
                    capped = True
                    break
            if capped:
                break
        level = nxt
        if capped or not level:
            break
    return out, aliases, total, capped


# --- scoring ------------------------------------------------------------------------------------


def point_metric(rm: RowMetrics, name: str, positions: np.ndarray) -> float:
    """The metric on the rows at ``positions``, by the fast path ``analyse`` chose for it."""
    kind = rm.kinds.get(name)
    if kind == "confusion" and rm.codes is not None:
        k = rm.n_labels
        counts = np.bincount(rm.codes[positions], minlength=k * k).reshape(1, k, k)
        return float(confusion_metrics(counts)[name][0])
    if kind == "mean":
        return float(rm.per_row[name][positions].mean())
    if kind == "vectorised" and rm.vectorised is not None:
        return float(rm.vectorised(positions[None, :])[name][0])
    return float(numeric(rm.fn([rm.rows[i] for i in positions])).get(name, np.nan))


def fisher_less(k: np.ndarray, m: np.ndarray, n_right: int, n: int) -> np.ndarray:
    """One-sided Fisher exact p-values: P(at most ``k`` right among ``m`` rows drawn from ``n``
    holding ``n_right`` right ones), i.e. ``fisher_exact(alternative="less")`` per slice."""
    from scipy.stats import hypergeom

    return np.asarray(hypergeom.cdf(k, n, n_right, m), dtype=np.float64)


def welch_less(values: np.ndarray, positions: Sequence[np.ndarray]) -> np.ndarray:
    """One-sided Welch t-test p-values: the slice's per-row scores lower than the rest's."""
    from scipy.stats import ttest_ind

    out = np.ones(len(positions))
    for j, pos in enumerate(positions):
        mask = np.zeros(len(values), dtype=bool)
        mask[pos] = True
        a, b = values[mask], values[~mask]
        if np.ptp(values) == 0:
            continue
        res = ttest_ind(a, b, equal_var=False, alternative="less")
        p = float(res.pvalue)
        out[j] = p if np.isfinite(p) else 1.0
    return out


def mcnemar_greater(a_only: np.ndarray, b_only: np.ndarray) -> np.ndarray:
    """One-sided exact McNemar p-values: P(X ≥ a_only), X ~ Binomial(a_only + b_only, ½) —
    more rows that A got right and B wrong than the reverse."""
    from scipy.stats import binom

    total = a_only + b_only
    p = binom.sf(a_only - 1, total, 0.5)
    return np.where(total > 0, p, 1.0).astype(np.float64)


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (scipy.stats.false_discovery_control)."""
    from scipy.stats import false_discovery_control

    if p.size == 0:
        return p
    return np.asarray(false_discovery_control(p, method="bh"), dtype=np.float64)


@dataclass
class _Scored:
    cand: Candidate
    metric: float
    rest: float
    p: float | None
    q: float | None = None
    ci: tuple[float, float] | None = None
    redundant_of: str | None = None

    @property
    def gap(self) -> float:
        return self.metric - self.rest


def _rank(
    scored: list[_Scored], fdr: float, worse_is_lower: bool
) -> tuple[list[_Scored], list[_Scored]]:
    """Significant slices first (by q, then the gap, worst first), then the rest by p."""

    def gap_key(s: _Scored) -> float:
        return s.gap if worse_is_lower else -s.gap

    sig = [s for s in scored if s.q is not None and s.q <= fdr]
    other = [s for s in scored if not (s.q is not None and s.q <= fdr)]
    sig.sort(key=lambda s: (s.q, gap_key(s), len(s.cand.conditions)))
    other.sort(key=lambda s: (s.p if s.p is not None else 2.0, gap_key(s), len(s.cand.conditions)))
    return sig, other


def _mark_redundant(sig: list[_Scored], worse_is_lower: bool) -> list[_Scored]:
    """A significant conjunction no worse than a significant parent's interval is redundant;
    the non-redundant ones keep their order, the redundant follow."""
    by_conditions = {frozenset(s.cand.conditions): s for s in sig}
    for s in sig:
        conds = s.cand.conditions
        if len(conds) < 2:
            continue
        for drop in range(len(conds)):
            parent = by_conditions.get(frozenset(conds[:drop] + conds[drop + 1 :]))
            if parent is None or parent.ci is None:
                continue
            lo, hi = parent.ci
            if (s.metric >= lo) if worse_is_lower else (s.metric <= hi):
                s.redundant_of = parent.cand.key
                break
    return [s for s in sig if s.redundant_of is None] + [s for s in sig if s.redundant_of]


@dataclass(frozen=True)
class SliceSearch:
    """What a search found; :meth:`to_record` is ``slices_found.json``."""

    record: rundir.SlicesFound

    @property
    def found(self) -> list[rundir.FoundSlice]:
        return self.record.found


def _finish(
    scored: list[_Scored],
    *,
    fdr: float,
    worse_is_lower: bool,
    limit: int,
    interval: Callable[[np.ndarray], tuple[float, float] | None],
    aliases: Mapping[str, list[str]],
) -> list[rundir.FoundSlice]:
    tested = [s for s in scored if s.p is not None]
    if tested:
        q = bh(np.asarray([s.p for s in tested], dtype=np.float64))
        for s, v in zip(tested, q, strict=True):
            s.q = float(v)
    sig, other = _rank(scored, fdr, worse_is_lower)
    for s in sig + other[: max(0, limit - len(sig))]:
        s.ci = interval(s.cand.positions)
    ranked = _mark_redundant(sig, worse_is_lower) + other
    return [
        rundir.FoundSlice(
            key=s.cand.key,
            conditions=list(s.cand.conditions),
            support=len(s.cand.positions),
            metric=_finite(s.metric),
            metric_ci=s.ci,
            rest=_finite(s.rest),
            gap=_finite(s.gap),
            p=s.p,
            q=s.q,
            significant=s.q is not None and s.q <= fdr,
            redundant_of=s.redundant_of,
            aliases=aliases.get(s.cand.key, []),
        )
        for s in ranked
    ]


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def find_slices(
    rows: list[dict[str, Any]],
    fn: RowMetricsFn,
    main_metric: str,
    *,
    greater_is_better: bool = True,
    min_support: int = MIN_SUPPORT,
    depth: int = DEPTH,
    fdr: float = FDR,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
    limit: int = LIMIT,
    max_length: int | None = None,
    run: str | None = None,
) -> SliceSearch:
    """The weakest slices of one run's prediction rows (see the module docstring)."""
    rm = analyse(rows, fn)
    dims = candidate_dimensions(rows, max_length=max_length)
    cands, aliases, total, capped = enumerate_slices(dims, min_support=min_support, depth=depth)
    n = len(rows)
    all_pos = np.arange(n)
    overall = point_metric(rm, main_metric, all_pos) if n else float("nan")
    note = None
    kind = rm.kinds.get(main_metric)
    if rm.correct is not None:
        test = "Fisher's exact test, one-sided (fewer right rows in the slice than the rest)"
    elif kind == "mean":
        test = f"Welch's t-test, one-sided, on the per-row {main_metric}"
    else:
        test = "none"
        note = (
            f"{main_metric} is not a per-row score and the task has no per-row right/wrong, "
            "so no slice is tested; the list shows metrics and intervals only"
        )
    metric_vals, rest_vals = [], []
    for c in cands:
        mask = np.ones(n, dtype=bool)
        mask[c.positions] = False
        metric_vals.append(point_metric(rm, main_metric, c.positions))
        rest_vals.append(point_metric(rm, main_metric, np.flatnonzero(mask)))
    if cands and rm.correct is not None:
        right = rm.correct.astype(np.int64)
        k = np.asarray([int(right[c.positions].sum()) for c in cands])
        m = np.asarray([len(c.positions) for c in cands])
        pvals: list[float | None] = list(fisher_less(k, m, int(right.sum()), n))
    elif cands and kind == "mean":
        values = rm.per_row[main_metric]
        if not greater_is_better:
            values = -values
        pvals = list(welch_less(values, [c.positions for c in cands]))
    else:
        pvals = [None] * len(cands)
    scored = [
        _Scored(c, mv, rv, p)
        for c, mv, rv, p in zip(cands, metric_vals, rest_vals, pvals, strict=True)
    ]

    def interval(pos: np.ndarray) -> tuple[float, float] | None:
        sm = slice_metrics(rm, pos, seed=seed, n_resamples=n_resamples, confidence=confidence)
        return sm.ci.get(main_metric)

    found = _finish(
        scored,
        fdr=fdr,
        worse_is_lower=greater_is_better,
        limit=limit,
        interval=interval,
        aliases=aliases,
    )
    if capped:
        note = ((note + "; ") if note else "") + (
            f"the search stopped at {MAX_CANDIDATES:,} distinct slices; lower --depth or raise "
            "--min-support"
        )
    overall_ci = interval(all_pos) if n else None
    return SliceSearch(
        rundir.SlicesFound(
            mode="run",
            run=run,
            metric=main_metric,
            test=test,
            min_support=min_support,
            depth=depth,
            fdr=fdr,
            seed=seed,
            n_resamples=n_resamples,
            n_rows=n,
            overall=_finite(overall),
            overall_ci=overall_ci,
            dimensions=list(dims),
            n_candidates=total,
            n_tested=sum(p is not None for p in pvals),
            n_significant=sum(s.significant for s in found),
            note=note,
            slices=found,
        )
    )


def find_regressions(
    rows_a: list[dict[str, Any]],
    rows_b: list[dict[str, Any]],
    fn: RowMetricsFn,
    main_metric: str,
    *,
    greater_is_better: bool = True,
    min_support: int = MIN_SUPPORT,
    depth: int = DEPTH,
    fdr: float = FDR,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
    limit: int = LIMIT,
    max_length: int | None = None,
    run_a: str | None = None,
    run_b: str | None = None,
) -> SliceSearch:
    """Slices where run B is worse than run A (``rows_b[i]`` is ``rows_a[i]`` under B).

    The metric of a slice is B − A (negative: B worse); the test is McNemar's, one-sided.
    """
    from tuneproof.evaluate.compare import stored_tags

    rm_a, rm_b = analyse(rows_a, fn), analyse(rows_b, fn)
    tagged = [
        {**ra, "slices": t["slices"]}
        for ra, t in zip(rows_a, stored_tags(rows_a, rows_b), strict=True)
    ]
    dims = candidate_dimensions(tagged, max_length=max_length)
    cands, aliases, total, capped = enumerate_slices(dims, min_support=min_support, depth=depth)
    n = len(rows_a)
    sign = 1.0 if greater_is_better else -1.0

    def delta(pos: np.ndarray) -> float:
        return point_metric(rm_b, main_metric, pos) - point_metric(rm_a, main_metric, pos)

    note = None
    if rm_a.correct is not None and rm_b.correct is not None:
        test = "exact McNemar test, one-sided (more rows A got right and B wrong than the reverse)"
        a_right, b_right = rm_a.correct.astype(bool), rm_b.correct.astype(bool)
        a_only = (a_right & ~b_right).astype(np.int64)
        b_only = (b_right & ~a_right).astype(np.int64)
        pvals: list[float | None] = list(
            mcnemar_greater(
                np.asarray([int(a_only[c.positions].sum()) for c in cands]),
                np.asarray([int(b_only[c.positions].sum()) for c in cands]),
            )
        )
    else:
        test = "none"
        note = "the task has no per-row right/wrong, so no slice is tested"
        pvals = [None] * len(cands)
    scored = []
    for c, p in zip(cands, pvals, strict=True):
        mask = np.ones(n, dtype=bool)
        mask[c.positions] = False
        scored.append(_Scored(c, delta(c.positions), delta(np.flatnonzero(mask)), p))

    def interval(pos: np.ndarray) -> tuple[float, float] | None:
        dist_b, dist_a = resample(rm_b, pos, n_resamples, rows_rng(seed, pos), others=[rm_a])
        db, da = dist_b.get(main_metric), dist_a.get(main_metric)
        if db is None or da is None:
            return None
        k = min(len(db), len(da))
        return percentile_interval(db[:k] - da[:k], confidence)

    found = _finish(
        scored,
        fdr=fdr,
        worse_is_lower=sign > 0,
        limit=limit,
        interval=interval,
        aliases=aliases,
    )
    if capped:
        note = ((note + "; ") if note else "") + f"search stopped at {MAX_CANDIDATES:,} slices"
    all_pos = np.arange(n)
    return SliceSearch(
        rundir.SlicesFound(
            mode="diff",
            run=run_b,
            against=run_a,
            metric=main_metric,
            test=test,
            min_support=min_support,
            depth=depth,
            fdr=fdr,
            seed=seed,
            n_resamples=n_resamples,
            n_rows=n,
            overall=_finite(delta(all_pos)) if n else None,
            overall_ci=interval(all_pos) if n else None,
            dimensions=list(dims),
            n_candidates=total,
            n_tested=sum(p is not None for p in pvals),
            n_significant=sum(s.significant for s in found),
            note=note,
            slices=found,
        )
    )


# --- run directories ----------------------------------------------------------------------------


def _in_distribution(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The headline's rows (the run's own test split); out-of-distribution files are left out:
    their slices would mostly rediscover "this is another file"."""
    return [r for r in rows if r.get("in_distribution") is not False]


def find_run_slices(
    run_dir: str | Path,
    *,
    min_support: int = MIN_SUPPORT,
    depth: int = DEPTH,
    fdr: float = FDR,
    seed: int | None = None,
    n_resamples: int = N_RESAMPLES,
    limit: int = LIMIT,
    write: bool = True,
) -> rundir.SlicesFound:
    """The slice finder on a run directory's in-distribution prediction rows; writes
    ``slices_found.json`` (atomically) unless ``write`` is False."""
    from tuneproof.errors import UserError
    from tuneproof.evaluate.compare import _read_run
    from tuneproof.tasks import get_task

    run = Path(run_dir)
    config, rows, metrics = _read_run(run)
    rows = _in_distribution(rows)
    if not rows:
        raise UserError(f"{run}: no in-distribution prediction rows; run `tuneproof eval {run}`")
    task = get_task(config.get("task", "sequence-classification"))
    main = str(metrics.get("main_metric") or task.main_metric)
    found = find_slices(
        rows,
        task.metrics_from_rows,
        main,
        greater_is_better=task.greater_is_better,
        min_support=min_support,
        depth=depth,
        fdr=fdr,
        seed=seed if seed is not None else int(config.get("training", {}).get("seed", 0)),
        n_resamples=n_resamples,
        limit=limit,
        max_length=(config.get("data") or {}).get("max_length"),
        run=str(run),
    ).record
    if write:
        rundir.write(run, found)
    return found


def find_run_regressions(
    run_a: str | Path,
    run_b: str | Path,
    *,
    min_support: int = MIN_SUPPORT,
    depth: int = DEPTH,
    fdr: float = FDR,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    limit: int = LIMIT,
) -> rundir.SlicesFound:
    """Where run B is worse than run A, on the same rows (refused otherwise, as ``compare``)."""
    from tuneproof.evaluate.compare import _read_run, align
    from tuneproof.tasks import get_task

    a, b = Path(run_a), Path(run_b)
    cfg_a, rows_a, m_a = _read_run(a)
    _, rows_b, _ = _read_run(b)
    aligned = align(rows_a, rows_b, name_a=str(a), name_b=str(b))
    keep = [i for i, r in enumerate(rows_a) if r.get("in_distribution") is not False]
    task = get_task(cfg_a.get("task", "sequence-classification"))
    return find_regressions(
        [rows_a[i] for i in keep],
        [aligned[i] for i in keep],
        task.metrics_from_rows,
        str(m_a.get("main_metric") or task.main_metric),
        greater_is_better=task.greater_is_better,
        min_support=min_support,
        depth=depth,
        fdr=fdr,
        seed=seed,
        n_resamples=n_resamples,
        limit=limit,
        max_length=(cfg_a.get("data") or {}).get("max_length"),
        run_a=str(a),
        run_b=str(b),
    ).record
