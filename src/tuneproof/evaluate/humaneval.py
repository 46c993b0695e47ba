"""Human A/B evaluation: the pure calculators (win/tie/loss with intervals, agreement, raters).

A rating says which of two blinded outputs a rater prefers (``a``, ``b`` or ``tie``); the key of
the sheet (``humaneval_key.json``) says which side was the run, so each rating becomes an
outcome from the run's point of view: ``win``, ``tie`` or ``loss``.

- **Rates.** Win, tie and loss are shares of all ratings; their 95 % intervals are the evaluation's
  cluster bootstrap (``tuneproof.evaluate.metrics``) with one cluster per *item*: the ratings of
  one item (by several raters) resample together, because three raters judging the same pair
  are not three independent pairs.
- **Agreement** is computed on the un-blinded outcomes as nominal categories. Cohen's κ
  (``sklearn.metrics.cohen_kappa_score``) for exactly two raters, on the items both rated;
  Krippendorff's α (``nltk.metrics.agreement.AnnotationTask.alpha``, nominal distance) for two
  or more, which uses every item rated at least twice, so raters need not rate the same items.
- **A rater who disagrees with everyone** (:func:`flag_raters`, three raters or more): their κ
  with every other rater (on at least :data:`MIN_SHARED` shared items) is below
  :data:`FLAG_KAPPA`, while the other raters agree among themselves at least that well. With two
  raters nobody can be singled out: a low κ says the pair disagrees, not who is off.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np

from tuneproof.evaluate.metrics import (
    CONFIDENCE,
    MIN_N,
    N_RESAMPLES,
    draw_chunks,
    percentile_interval,
)
from tuneproof.evaluate.slices import natural_key
from tuneproof.rundir import Agreement, HumanRates, RaterPair, RaterRecord

Choice = Literal["a", "b", "tie"]
Outcome = Literal["loss", "tie", "win"]
CHOICES: tuple[Choice, ...] = ("a", "b", "tie")
OUTCOMES: tuple[Outcome, ...] = ("loss", "tie", "win")
FLAG_KAPPA = 0.2  # below: "slight" agreement at best (Landis & Koch 1977)
MIN_SHARED = 5  # items two raters must share before their κ is used to flag one of them


@dataclass(frozen=True)
class Rating:
    """One rater's choice on one item, with the outcome for the run once un-blinded."""

    item_id: str
    rater: str
    choice: Choice
    outcome: Outcome


def outcome_of(choice: Choice, run_side: Literal["a", "b"]) -> Outcome:
    """``a``/``b``/``tie`` on the sheet → ``win``/``loss``/``tie`` for the run."""
    if choice == "tie":
        return "tie"
    return "win" if choice == run_side else "loss"


def rates(
    outcomes: Sequence[Outcome],
    items: Sequence[str],
    *,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> HumanRates:
    """Win/tie/loss shares of ``outcomes`` with cluster-bootstrap intervals (items are clusters)."""
    n = len(outcomes)
    n_items = len(set(items))
    if n == 0:
        return HumanRates(n_items=0, n_ratings=0, small_n=True)
    codes = np.array([OUTCOMES.index(o) for o in outcomes])
    index = {item: i for i, item in enumerate(dict.fromkeys(items))}
    groups = np.array([index[i] for i in items], dtype=np.int64)
    positions = np.arange(n)
    values = {o: (codes == k).astype(np.float64) for k, o in enumerate(OUTCOMES)}
    dist: dict[str, list[np.ndarray]] = {o: [] for o in OUTCOMES}
    # seeded by the items rated, so a slice's interval depends on its own ratings only
    rng = np.random.default_rng([seed, zlib.crc32("\x1f".join(items).encode())])
    for d in draw_chunks(positions, n_resamples, rng, groups):
        for o, v in values.items():
            if d.idx is not None:
                dist[o].append(v[d.idx].mean(axis=1))
            else:
                assert d.length is not None
                dist[o].append(d.group_totals(v) / d.length)
    ci = {o: percentile_interval(np.concatenate(dist[o]), confidence) for o in OUTCOMES}
    return HumanRates(
        n_items=n_items,
        n_ratings=n,
        win=float(values["win"].mean()),
        tie=float(values["tie"].mean()),
        loss=float(values["loss"].mean()),
        win_ci=ci["win"],
        tie_ci=ci["tie"],
        loss_ci=ci["loss"],
        small_n=n_items < MIN_N,
    )


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's κ (scikit-learn) of two raters' labels on the same items; None when undefined
    (no shared item, or both raters gave one and the same label throughout)."""
    from sklearn.metrics import cohen_kappa_score

    if not first:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined κ: sklearn warns, we return None
        value = float(cohen_kappa_score(list(first), list(second), labels=list(OUTCOMES)))
    return None if math.isnan(value) else value


def krippendorff_alpha(triples: Sequence[tuple[str, str, str]]) -> float | None:
    """Krippendorff's α (nominal) of ``(rater, item, label)`` triples (nltk); items rated once
    are ignored, as α defines; None when no item was rated twice."""
    from nltk.metrics.agreement import AnnotationTask

    per_item: dict[str, int] = {}
    for _, item, _ in triples:
        per_item[item] = per_item.get(item, 0) + 1
    if not any(c >= 2 for c in per_item.values()):
        return None
    return float(AnnotationTask(data=list(triples)).alpha())


def _by_rater(ratings: Sequence[Rating]) -> dict[str, dict[str, Outcome]]:
    out: dict[str, dict[str, Outcome]] = {}
    for r in ratings:
        out.setdefault(r.rater, {})[r.item_id] = r.outcome
    return out


def pairwise_kappa(ratings: Sequence[Rating]) -> list[RaterPair]:
    """Cohen's κ of every pair of raters on the items both rated."""
    by = _by_rater(ratings)
    pairs = []
    for a, b in combinations(sorted(by), 2):
        shared = sorted(set(by[a]) & set(by[b]))
        kappa = cohen_kappa([by[a][i] for i in shared], [by[b][i] for i in shared])
        pairs.append(RaterPair(a=a, b=b, n=len(shared), kappa=kappa))
    return pairs


def flag_raters(raters: Sequence[str], pairs: Sequence[RaterPair]) -> dict[str, str]:
    """Raters who disagree with everyone (module docstring), with the reason, by name."""
    usable = [p for p in pairs if p.kappa is not None and p.n >= MIN_SHARED]
    flagged: dict[str, str] = {}
    if len(raters) < 3:
        return flagged
    for r in raters:
        mine = [p for p in usable if r in (p.a, p.b)]
        others = [p.kappa for p in usable if r not in (p.a, p.b) and p.kappa is not None]
        if len(mine) < 2 or not others:
            continue
        if (
            all(p.kappa is not None and p.kappa < FLAG_KAPPA for p in mine)
            and float(np.mean(others)) >= FLAG_KAPPA
        ):
            worst = max(p.kappa for p in mine if p.kappa is not None)
            flagged[r] = (
                f"κ < {FLAG_KAPPA} with every other rater (best {worst:.2f}) while the others "
                f"agree at κ {float(np.mean(others)):.2f} on average"
            )
    return flagged


def agreement(ratings: Sequence[Rating]) -> Agreement:
    """κ (two raters), α (two or more) and the pairwise κ table."""
    raters = sorted({r.rater for r in ratings})
    per_item: dict[str, int] = {}
    for r in ratings:
        per_item[r.item_id] = per_item.get(r.item_id, 0) + 1
    shared = sum(c >= 2 for c in per_item.values())
    pairs = pairwise_kappa(ratings)
    note = None
    if len(raters) < 2:
        note = "one rater: agreement needs two or more"
    elif shared == 0:
        note = "no item was rated by two raters, so agreement cannot be measured"
    alpha = (
        krippendorff_alpha([(r.rater, r.item_id, r.outcome) for r in ratings])
        if len(raters) >= 2
        else None
    )
    kappa = pairs[0].kappa if len(raters) == 2 else None
    if len(raters) == 2 and kappa is None and shared:
        note = "κ undefined: both raters gave one and the same answer on every shared item"
    return Agreement(
        n_raters=len(raters),
        n_items_shared=shared,
        cohen_kappa=kappa,
        krippendorff_alpha=alpha,
        pairwise=pairs,
        note=note,
    )


def rater_records(ratings: Sequence[Rating], pairs: Sequence[RaterPair]) -> list[RaterRecord]:
    """Per rater: ratings given, win/tie/loss shares, mean κ with the others, the flag."""
    by = _by_rater(ratings)
    flags = flag_raters(sorted(by), pairs)
    out = []
    for name in sorted(by):
        got = list(by[name].values())
        kappas = [p.kappa for p in pairs if name in (p.a, p.b) and p.kappa is not None and p.n > 0]
        out.append(
            RaterRecord(
                name=name,
                n=len(got),
                win=got.count("win") / len(got),
                tie=got.count("tie") / len(got),
                loss=got.count("loss") / len(got),
                mean_kappa=float(np.mean(kappas)) if kappas else None,
                flagged=name in flags,
                reason=flags.get(name),
            )
        )
    return out


def slice_rates(
    ratings: Sequence[Rating],
    slices: Mapping[str, Mapping[str, str]],
    *,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> dict[str, HumanRates]:
    """Win/tie/loss per slice ``name=value`` (an item's slices come from its prediction row)."""
    keyed: dict[str, list[Rating]] = {}
    for r in ratings:
        for name, value in (slices.get(r.item_id) or {}).items():
            keyed.setdefault(f"{name}={value}", []).append(r)

    def order(key: str) -> tuple[str, tuple[object, ...]]:
        name, _, value = key.partition("=")
        return name, natural_key(value)

    return {
        key: rates(
            [r.outcome for r in keyed[key]],
            [r.item_id for r in keyed[key]],
            seed=seed,
            n_resamples=n_resamples,
            confidence=confidence,
        )
        for key in sorted(keyed, key=order)
    }
