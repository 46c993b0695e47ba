"""``label_issue``: rows whose label is probably wrong, by confident learning (cleanlab).

Two cheap models are cross-validated over all labelled rows of all splits, on the same folds,
so every row gets an out-of-fold predicted probability from models that never saw it: TF-IDF
word uni+bigrams → logistic regression, and logistic regression on frozen, mean-pooled
embeddings of a small packaged encoder (``label_encoder``, MiniLM-L6 by default; skipped below
``label_encoder_min_rows`` and above ``label_encoder_max_rows`` rows, or when it cannot be
loaded). Their probabilities are averaged: the two make different mistakes, so the average
ranks planted flips higher than either (benchmarks/label_issue_quality.py: on the Pang & Lee
polarity sentences with 5 % flipped labels, flagged rows go from precision 0.12 / recall 0.70
with TF-IDF alone and the old rule to 0.19 / 0.66, warnings from 0.39 / 0.16 to 0.32 / 0.48).

Flagged are the rows ``cleanlab.filter.find_label_issues`` flags with
``filter_by="prune_by_noise_rate"`` (it removes as many rows per class pair as the confident
joint estimates are mislabelled, the least likely first), ranked by cleanlab's self-confidence
score. Rows where the model merely disagrees with the label are flagged too only when the
model's out-of-fold accuracy reaches ``label_disagree_accuracy`` (0.9): with few rows of
learnable data a regularised model's probabilities are soft and confident learning misses
some flips, but on real text a 75 % accurate model disagrees with a quarter of the correct
labels.

Each finding is one row with its given label, the label the model suggests and a score
(1 − the averaged probability of the given label); it is a ``warning`` from score 0.65
(``label_issue_warning``, chosen on one planted seed for warnings precision ≥ 0.3, checked on
two others), below that ``info``. One more ``info`` finding states how many rows
were flagged, which models were used and their out-of-fold accuracy, so a reviewer can judge how
much to trust the flags.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np

from tuneproof.checks.base import Check, CheckContext, CheckOptions, Finding
from tuneproof.errors import UserError

NAME = "label_issue"
EMBED_BATCH = 64
EMBED_MAX_LENGTH = 128  # tokens; longer texts are truncated for the embedding only


@dataclass(frozen=True)
class OutOfFold:
    """Averaged out-of-fold probabilities, and what produced them."""

    probs: np.ndarray
    models: tuple[str, ...]
    note: str = ""  # why the encoder was not used, when it was configured


def embed(texts: list[str], model: str) -> np.ndarray:
    """Mean-pooled, L2-normalised last hidden states of a frozen encoder (CPU, no gradients).

    Texts are sorted by length before batching so that padding stays small.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    from tuneproof.models import resolve_model

    path = resolve_model(model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    encoder = AutoModel.from_pretrained(path).eval()
    out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
    order = np.argsort([len(t) for t in texts], kind="stable")
    with torch.no_grad():
        for start in range(0, len(texts), EMBED_BATCH):
            idx = order[start : start + EMBED_BATCH]
            batch = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=EMBED_MAX_LENGTH,
                return_tensors="pt",
            )
            hidden = encoder(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out[idx] = torch.nn.functional.normalize(pooled, dim=1).numpy()
    return out


def out_of_fold_probs(
    texts: list[str],
    y: np.ndarray,
    *,
    folds: int,
    seed: int,
    options: CheckOptions | None = None,
) -> OutOfFold:
    """Predicted class probabilities for every row from models trained without that row."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    opts = options or CheckOptions(label_encoder=None)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    x = TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, sublinear_tf=True, dtype=np.float32, max_features=500_000
    ).fit_transform(texts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings: probabilities are still usable
        probs = [
            cross_val_predict(
                LogisticRegression(C=4.0, max_iter=300, tol=1e-3),
                x,
                y,
                cv=cv,
                method="predict_proba",
                n_jobs=1,
            )
        ]
    models = ["TF-IDF"]
    note = ""
    if opts.label_encoder:
        if len(texts) < opts.label_encoder_min_rows:
            note = f"{opts.label_encoder} not used below {opts.label_encoder_min_rows:,} rows"
        elif len(texts) > opts.label_encoder_max_rows:
            note = (
                f"{opts.label_encoder} not used above label_encoder_max_rows="
                f"{opts.label_encoder_max_rows:,} rows (embedding cost)"
            )
        else:
            try:
                e = embed(texts, opts.label_encoder)
            except (
                UserError,
                OSError,
                ValueError,
                ImportError,
            ) as exc:  # package or folder missing
                note = f"{opts.label_encoder} could not be loaded ({str(exc).splitlines()[0]})"
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    probs.append(
                        cross_val_predict(
                            LogisticRegression(C=1.0, max_iter=1000),
                            e,
                            y,
                            cv=cv,
                            method="predict_proba",
                            n_jobs=1,
                        )
                    )
                models.append(opts.label_encoder)
    mean = np.mean(np.stack(probs), axis=0)
    return OutOfFold(np.asarray(mean, dtype=np.float64), tuple(models), note)


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
    oof = out_of_fold_probs(
        [texts[i] for i in keep], y, folds=opts.label_folds, seed=opts.seed, options=opts
    )
    probs = oof.probs

    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        flagged = find_label_issues(
            y,
            probs,
            filter_by="prune_by_noise_rate",
            return_indices_ranked_by="self_confidence",  # most likely wrong first
            n_jobs=1,
            verbose=False,
        )
        quality = get_label_quality_scores(y, probs)  # self-confidence: p(given label)
    accuracy = float((probs.argmax(axis=1) == y).mean())
    rows = np.asarray(flagged, dtype=np.int64)
    if accuracy >= opts.label_disagree_accuracy:
        rows = np.union1d(rows, np.flatnonzero(probs.argmax(axis=1) != y))
        rows = rows[np.argsort(quality[rows], kind="stable")]
    findings = []
    for k in rows.tolist():
        split, row = owners[keep[k]]
        given, suggested = classes[y[k]], classes[int(probs[k].argmax())]
        score = 1.0 - float(quality[k])
        findings.append(
            Finding(
                check=NAME,
                severity="warning" if score >= opts.label_issue_warning else "info",
                split=split,
                rows=ctx.ids_of(split, [row]),
                score=score,
                detail=f"given label '{given}', suggested '{suggested}' (out-of-fold "
                f"p={probs[k].max():.2f} vs {probs[k][y[k]]:.2f} for the given label)",
                label=given,
                suggested=suggested,
            )
        )
    n_flagged = len(findings)
    models = " + ".join(oof.models)
    note = f" ({oof.note})" if oof.note else ""
    findings.append(
        Finding(
            NAME,
            "info",
            "",
            (),
            (),
            n_flagged / len(y),
            f"{n_flagged:,} of {len(y):,} labelled rows flagged ({n_flagged / len(y):.1%}) by "
            f"cleanlab's confident learning; the out-of-fold accuracy of the {models} "
            f"model{'s' if len(oof.models) > 1 else ''}{note} is {accuracy:.2f}: the lower, the "
            f"more flags are the model's mistakes rather than the labels'. Warnings from score "
            f"{opts.label_issue_warning}.",
        )
    )
    return findings


CHECK = Check(
    name=NAME,
    description="likely wrong labels: cleanlab confident learning on out-of-fold probabilities "
    "of TF-IDF + logistic regression, averaged with logistic regression on frozen encoder "
    "embeddings",
    severity="warning",
    run=run,
    needs_labels=True,
)
