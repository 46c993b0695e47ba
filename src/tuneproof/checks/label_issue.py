"""``label_issue``: rows whose label is probably wrong, by confident learning (cleanlab).

A cheap model (TF-IDF word uni+bigrams → logistic regression) is cross-validated over all
labelled rows of all splits, so every row gets an out-of-fold predicted probability from a model
that never saw it. Flagged are the rows ``cleanlab.filter.find_label_issues`` (confident
learning) flags, plus every row whose out-of-fold prediction differs from its label: with few
rows, a regularised linear model's probabilities are soft, and confident learning's per-class
thresholds then miss up to half of the truly flipped labels (measured in
benchmarks/check_quality.py). All are ranked by cleanlab's self-confidence score. A wrong label
in train teaches the model the mistake; in test it makes a right prediction count as an error.

Each finding is one row with its given label, the label the model suggests and a score
(1 − the model's probability of the given label); it is a ``warning`` from score 0.8
(``label_issue_warning``), below that ``info``, because a weak model on hard data disagrees
with many correct labels. One more ``info`` finding states how many rows were flagged and the
model's out-of-fold accuracy, so a reviewer can judge how much to trust the flags.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np

from tuneproof.checks.base import Check, CheckContext, Finding

NAME = "label_issue"


def out_of_fold_probs(texts: list[str], y: np.ndarray, *, folds: int, seed: int) -> np.ndarray:
    """Predicted class probabilities for every row from a model trained without that row."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x = TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32, max_features=500_000
    ).fit_transform(texts)
    model = LogisticRegression(C=4.0, max_iter=300, tol=1e-3)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings: probabilities are still usable
        probs = cross_val_predict(model, x, y, cv=cv, method="predict_proba", n_jobs=1)
    return np.asarray(probs, dtype=np.float64)


def run(ctx: CheckContext) -> list[Finding]:
    opts = ctx.options
    owners: list[tuple[str, int]] = []
    texts: list[str] = []
    labels: list[str] = []
    for split in ctx.splits:
        split_labels = ctx.labels(split)
        if split_labels is None:
            continue
        for i, (text, label) in enumerate(zip(ctx.normalised(split), split_labels, strict=True)):
            if text and label is not None:
                owners.append((split, i))
                texts.append(text)
                labels.append(label)
    counts = Counter(labels)
    # A class needs a row in every fold to be learnable out of fold.
    usable = {lab for lab, n in counts.items() if n >= opts.label_folds}
    keep = [i for i, lab in enumerate(labels) if lab in usable]
    reason = None
    if len(usable) < 2:
        reason = f"needs 2+ labels with {opts.label_folds}+ rows each (found {len(usable)})"
    elif len(usable) > opts.label_max_classes:
        reason = f"{len(usable)} labels is more than label_max_classes={opts.label_max_classes}"
    elif len(keep) < opts.label_min_rows:
        reason = f"{len(keep)} labelled rows is fewer than label_min_rows={opts.label_min_rows}"
    if reason is not None:
        return [Finding(NAME, "info", "", (), (), 0.0, f"not run: {reason}")]
    classes = sorted(usable)
    code = {lab: k for k, lab in enumerate(classes)}
    y = np.array([code[labels[i]] for i in keep], dtype=np.int64)
    probs = out_of_fold_probs([texts[i] for i in keep], y, folds=opts.label_folds, seed=opts.seed)

    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        confident = find_label_issues(y, probs, n_jobs=1, verbose=False)
        quality = get_label_quality_scores(y, probs)  # self-confidence: p(given label)
    disagrees = probs.argmax(axis=1) != y
    flagged = np.flatnonzero(confident | disagrees)
    flagged = flagged[np.argsort(quality[flagged], kind="stable")]  # most likely wrong first
    findings = []
    for k in flagged.tolist():
        split, row = owners[keep[k]]
        given, suggested = classes[y[k]], classes[int(probs[k].argmax())]
        score = 1.0 - float(quality[k])
        how = "confident-learning flag" if confident[k] else "model disagrees, not a confident flag"
        findings.append(
            Finding(
                check=NAME,
                severity="warning" if score >= opts.label_issue_warning else "info",
                split=split,
                rows=ctx.ids_of(split, [row]),
                score=score,
                detail=f"given label '{given}', suggested '{suggested}' (out-of-fold "
                f"p={probs[k].max():.2f} vs {probs[k][y[k]]:.2f} for the given label; {how})",
            )
        )
    accuracy = float(1 - disagrees.mean())
    findings.append(
        Finding(
            NAME,
            "info",
            "",
            (),
            (),
            len(flagged) / len(y),
            f"{len(flagged):,} of {len(y):,} labelled rows flagged ({len(flagged) / len(y):.1%}; "
            f"{int(confident.sum()):,} by cleanlab's confident learning); the TF-IDF model's "
            f"out-of-fold accuracy is {accuracy:.2f}: the lower, the more flags are the model's "
            f"mistakes rather than the labels'. Warnings from score {opts.label_issue_warning}.",
        )
    )
    return findings


CHECK = Check(
    name=NAME,
    description="likely wrong labels: cleanlab confident learning on out-of-fold probabilities "
    "of a TF-IDF + logistic regression model",
    severity="warning",
    run=run,
    needs_labels=True,
)
