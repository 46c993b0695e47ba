"""Precision and recall of the ``label_issue`` check on real text with planted label flips.

    python benchmarks/label_issue_quality.py                 # 5 % flips, seed 0
    python benchmarks/label_issue_quality.py --flip 0.1 --seed 1

Data: the 4,000 Pang & Lee polarity sentences of the built-in ``polarity-en`` corpus (train,
validation and test together, as the check sees them), with ``--flip`` of the labels changed to
the other class. Real sentences are much harder than the synthetic set this benchmark replaces
(a TF-IDF model is about 72 % accurate out of fold), so most disagreements of the model with a
label are the model's mistakes, and precision is the hard part.

Three detectors side by side: ``old`` is the rule before issue 13 (TF-IDF model; cleanlab's
default filter plus every row where the model disagrees; warnings from score 0.8), ``tfidf``
the new rule with the TF-IDF model alone (``label_encoder=None``, what large data falls back
to), ``new`` the default (TF-IDF averaged with logistic regression on MiniLM-L6 embeddings).
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Planted:
    frame: pd.DataFrame  # id, text, label (some flipped)
    flipped: frozenset[str]  # ids of the flipped rows


def planted_polarity(flip: float = 0.05, seed: int = 0) -> Planted:
    from tuneproof.data.corpora import builtin_dataset

    files = builtin_dataset("polarity-en")
    df = pd.concat(
        [pd.read_csv(files[s]) for s in ("train", "validation", "test")], ignore_index=True
    )
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(df), size=round(flip * len(df)), replace=False)
    other = {"positive": "negative", "negative": "positive"}
    df.loc[rows, "label"] = [other[v] for v in df.label.iloc[rows]]
    return Planted(df[["id", "text", "label"]], frozenset(df.id.iloc[rows]))


def old_rule(p: Planted) -> tuple[list[str], list[str]]:
    """Flagged and warned ids as the check computed them before issue 13."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    from tuneproof.checks.base import normalise
    from tuneproof.checks.label_issue import out_of_fold_probs

    classes = sorted(set(p.frame.label))
    y = np.array([classes.index(v) for v in p.frame.label])
    texts = [normalise(str(t)) for t in p.frame.text]
    probs = out_of_fold_probs(texts, y, folds=5, seed=0).probs  # TF-IDF only
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        confident = find_label_issues(y, probs, n_jobs=1, verbose=False)
        quality = get_label_quality_scores(y, probs)
    flagged = np.flatnonzero(confident | (probs.argmax(axis=1) != y))
    ids = p.frame.id.to_numpy()
    warned = [k for k in flagged if 1 - quality[k] >= 0.8]
    return [str(i) for i in ids[flagged]], [str(i) for i in ids[warned]]


def check_rule(p: Planted, **options: object) -> tuple[list[str], list[str]]:
    from tuneproof.checks import CheckOptions, check_data

    report = check_data(
        {"train": p.frame},
        text_column="text",
        label_column="label",
        id_column="id",
        options=CheckOptions(only=("label_issue",), **options),  # type: ignore[arg-type]
    )
    issues = [f for f in report.findings if f.rows]
    summary = next(f for f in report.findings if not f.rows)
    print(f"    {summary.detail}")
    return [str(f.rows[0]) for f in issues], [
        str(f.rows[0]) for f in issues if f.severity == "warning"
    ]


def precision_recall(ids: list[str], truth: frozenset[str]) -> tuple[float, float, int]:
    hits = len(set(ids) & truth)
    return hits / max(len(ids), 1), hits / max(len(truth), 1), len(ids)


def report(flip: float = 0.05, seed: int = 0) -> None:
    p = planted_polarity(flip, seed)
    print(f"polarity-en: {len(p.frame):,} rows, {len(p.flipped):,} labels flipped")
    results = {}
    for name, run in (
        ("old", lambda: old_rule(p)),
        ("tfidf", lambda: check_rule(p, label_encoder=None)),
        ("new", lambda: check_rule(p)),
    ):
        print(f"  running {name} ...", flush=True)
        t0 = time.perf_counter()
        results[name] = run()
        print(f"    {time.perf_counter() - t0:.1f} s")
    print(
        f"\n  {'detector':8s} {'flagged P':>9s} {'R':>6s} {'n':>5s}   {'warnings P':>10s} {'R':>6s} {'n':>5s}"
    )
    for name, (flagged, warned) in results.items():
        fp, fr, fn = precision_recall(flagged, p.flipped)
        wp, wr, wn = precision_recall(warned, p.flipped)
        print(f"  {name:8s} {fp:9.3f} {fr:6.3f} {fn:5d}   {wp:10.3f} {wr:6.3f} {wn:5d}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flip", type=float, default=0.05, help="share of labels flipped")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    report(args.flip, args.seed)


if __name__ == "__main__":
    main()
