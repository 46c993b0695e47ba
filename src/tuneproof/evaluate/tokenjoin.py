"""Tokenization joined to errors: the model's accuracy by how its own tokenizer saw each input.

From the prediction rows alone (``token_stats`` that ``tuneproof eval`` records per row: tokens,
UNK tokens, fertility; the ``truncated`` and ``language`` slice tags), so the report and the
app show the same numbers and nothing is re-tokenised:

- accuracy with a 95 % Wilson interval per **fertility** bin (tokens per word; per character for
  unsegmented scripts), per **UNK-rate** bin and **truncated** or not;
- for multilingual data, each language's mean fertility, its **token premium** (the ratio to
  English's, else to the most economical language's: Petrov et al. 2023, "Language Model
  Tokenizers Introduce Unfairness Between Languages", on why it costs accuracy and context),
  and whether the language paying the largest premium is also the weakest one.

All evaluated rows count (the run's test split and every other evaluated file), because the
question is how the tokenizer treats the inputs the model met, whichever file they came from.
Rows whose gold is not a single label (tags, spans, texts) are left out: accuracy is exact match.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tuneproof.rundir import PredictionRow
from tuneproof.stats import wilson

FERTILITY_EDGES = (1.2, 1.5, 2.0, 3.0)  # tokens per word
UNK_EDGES = (0.01, 0.05)  # share of the input's tokens
MIN_LANGUAGE_ROWS = 20  # a language needs this many rows to be ranked


@dataclass(frozen=True)
class Bin:
    key: str
    n: int
    accuracy: float
    ci: tuple[float, float]


@dataclass(frozen=True)
class LanguageCost:
    language: str
    n: int
    fertility: float  # mean tokens per word
    premium: float | None  # fertility / the reference language's
    accuracy: float
    ci: tuple[float, float]


@dataclass(frozen=True)
class TokenJoin:
    n: int
    overall: float
    fertility: list[Bin]
    unk: list[Bin]
    truncated: list[Bin]
    languages: list[LanguageCost] = field(default_factory=list)
    reference: str | None = None  # the language premiums are relative to
    costliest: str | None = None  # largest premium
    weakest: str | None = None  # lowest accuracy

    @property
    def costliest_is_weakest(self) -> bool | None:
        if self.costliest is None or self.weakest is None:
            return None
        return self.costliest == self.weakest

    @property
    def sentence(self) -> str | None:
        """One line for the report: who pays the premium, and whether it costs accuracy."""
        if self.costliest is None or self.weakest is None:
            return None
        by = {c.language: c for c in self.languages}
        cost, weak = by[self.costliest], by[self.weakest]
        head = (
            f"{cost.language} pays the largest token premium ({cost.premium:.2f}× "
            f"{self.reference}'s tokens per word)"
        )
        if self.costliest_is_weakest:
            return f"{head} and is also the weakest language (accuracy {cost.accuracy:.3f})."
        return (
            f"{head} but is not the weakest language: {weak.language} is (accuracy "
            f"{weak.accuracy:.3f} vs {cost.accuracy:.3f})."
        )


def _bin_label(value: float, edges: Sequence[float], fmt: str) -> str:
    for i, edge in enumerate(edges):
        if value < edge:
            lo = "0" if i == 0 else format(edges[i - 1], fmt)
            return f"{lo}–{format(edge, fmt)}"
    return f"{format(edges[-1], fmt)}+"


def _bins(keys: list[str], correct: np.ndarray, order: list[str]) -> list[Bin]:
    out = []
    for key in order:
        mask = np.array([k == key for k in keys], dtype=bool)
        n = int(mask.sum())
        if n:
            k = int(correct[mask].sum())
            out.append(Bin(key, n, k / n, wilson(k, n)))
    return out


def _labels(edges: Sequence[float], fmt: str, zero: str | None = None) -> list[str]:
    probes = [edges[0] / 2, *((a + b) / 2 for a, b in itertools.pairwise(edges))]
    labels = [_bin_label(p, edges, fmt) for p in probes] + [f"{format(edges[-1], fmt)}+"]
    return ([zero] if zero else []) + labels


def token_join(rows: Sequence[PredictionRow]) -> TokenJoin | None:
    """The tables of the module docstring; None when no row has token statistics."""
    rows = [
        r
        for r in rows
        if r.token_stats is not None
        and r.token_stats.n
        and not isinstance(r.gold, (list, dict))
        and r.gold is not None
    ]
    if not rows:
        return None
    correct = np.array([r.correct for r in rows], dtype=bool)
    fert_keys, unk_keys, trunc_keys = [], [], []
    for r in rows:
        ts = r.token_stats
        assert ts is not None and ts.n
        unit = " /char" if ts.per_char else ""
        fert_keys.append(
            _bin_label(ts.fertility, FERTILITY_EDGES, ".1f") + unit
            if ts.fertility is not None
            else "unknown"
        )
        rate = (ts.unk or 0) / ts.n
        unk_keys.append("none" if rate == 0 else _bin_label(rate, UNK_EDGES, ".0%"))
        trunc_keys.append(r.slices.get("truncated", "unknown"))
    fert_order = _labels(FERTILITY_EDGES, ".1f")
    fert_order += [k + " /char" for k in fert_order] + ["unknown"]
    unk_order = ["none", *_labels(UNK_EDGES, ".0%")]
    languages, reference, costliest, weakest = _languages(rows, correct)
    return TokenJoin(
        n=len(rows),
        overall=float(correct.mean()),
        fertility=_bins(fert_keys, correct, fert_order),
        unk=_bins(unk_keys, correct, unk_order),
        truncated=_bins(trunc_keys, correct, ["no", "yes", "unknown"]),
        languages=languages,
        reference=reference,
        costliest=costliest,
        weakest=weakest,
    )


def _languages(
    rows: Sequence[PredictionRow], correct: np.ndarray
) -> tuple[list[LanguageCost], str | None, str | None, str | None]:
    groups: dict[str, list[float]] = {}
    where: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        lang = r.slices.get("language")
        ts = r.token_stats
        # tokens per character (unsegmented scripts) is another unit: not comparable
        if lang and lang != "unknown" and ts and ts.fertility is not None and not ts.per_char:
            groups.setdefault(lang, []).append(ts.fertility)
            where.setdefault(lang, []).append(i)
    ranked = {k: v for k, v in where.items() if len(v) >= MIN_LANGUAGE_ROWS}
    if len(ranked) < 2:
        return [], None, None, None
    fert = {k: float(np.mean(groups[k])) for k in ranked}
    reference = "en" if "en" in fert else min(fert, key=lambda k: fert[k])
    costs = []
    for lang, idx in sorted(ranked.items()):
        k = int(correct[idx].sum())
        costs.append(
            LanguageCost(lang, len(idx), fert[lang], fert[lang] / fert[reference], k / len(idx),
                         wilson(k, len(idx)))
        )  # fmt: skip
    costs.sort(key=lambda c: -(c.premium or 0))
    others = [c for c in costs if c.language != reference] or costs
    costliest = max(others, key=lambda c: c.premium or 0).language
    weakest = min(costs, key=lambda c: c.accuracy).language
    return costs, reference, costliest, weakest
