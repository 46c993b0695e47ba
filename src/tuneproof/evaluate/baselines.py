"""Cheap baselines that ask "was fine-tuning worth it?", scored on the run's own test rows.

``tuneproof baseline RUN`` (or ``baselines: [...]`` in the config, run after training) trains
each baseline on the run's train split and predicts the *same* in-distribution rows the
fine-tuned model's headline is computed on (``predictions.jsonl``), so every comparison is
paired:

- ``majority``: always the most frequent train label.
- ``tfidf-lr``: TF-IDF of word uni- and bigrams (sublinear tf) → logistic regression, its C
  chosen by 3-fold cross-validation on the train split from (0.25, 1, 4, 16) (scikit-learn's
  ``LogisticRegressionCV``): a tuned linear model, not a strawman.
- ``embed-lr``: logistic regression (C by the same cross-validation) on the frozen, mean-pooled,
  L2-normalised embeddings of a packaged encoder (the run's base model when it is a built-in
  encoder, else ``minilm-l6``; ``tuneproof.checks.label_issue.embed``).
- ``zero-shot``: no training at all: each row gets the label whose description embeds closest
  (cosine) to the text, with the same frozen encoder. Descriptions are the label names, with
  common abbreviations spelled out (``pos`` → "positive"), or what ``descriptions`` gives.
  Prompting the packaged SmolLM2-135M instead was rejected: generating for every test row costs
  minutes on a CPU, and a 135M model answers a classification prompt close to chance, so it
  would be a weaker and slower baseline than the embedding similarity.

Each baseline gets the task's metrics with the cluster-bootstrap interval of
``tuneproof.evaluate.metrics``; against the fine-tuned model, the delta (fine-tuned − baseline)
of the main metric gets the **paired** bootstrap interval of ``compare`` (the same resampled
rows under both) and the exact McNemar p-value. ``best`` is the baseline with the highest main
metric; :func:`fine_tune_verdict` is the one sentence the report and the strategy selector cite.
Single-label classification only.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tuneproof import rundir
from tuneproof.errors import UserError
from tuneproof.evaluate.compare import mcnemar_p, verdict_of
from tuneproof.evaluate.metrics import (
    CONFIDENCE,
    N_RESAMPLES,
    RowMetricsFn,
    analyse,
    percentile_interval,
    resample,
    rows_rng,
    slice_metrics,
)

BaselineName = Literal["majority", "tfidf-lr", "embed-lr", "zero-shot"]
BASELINES: tuple[BaselineName, ...] = ("majority", "tfidf-lr", "embed-lr", "zero-shot")
DESCRIPTIONS: dict[BaselineName, str] = {
    "majority": "always the most frequent train label",
    "tfidf-lr": "TF-IDF word 1-2-grams + logistic regression (C by 3-fold CV)",
    "embed-lr": "frozen encoder embeddings + logistic regression (C by 3-fold CV)",
    "zero-shot": "nearest label description by frozen-encoder cosine similarity (no training)",
}
ENCODERS = ("minilm-l6", "multilingual-e5-small")  # built-in encoders embed-lr can use
DEFAULT_ENCODER = "minilm-l6"
CS = (0.25, 1.0, 4.0, 16.0)
#: label names spelled out for the zero-shot descriptions
EXPANSIONS = {
    "pos": "positive",
    "neg": "negative",
    "neu": "neutral",
    "0": "negative",
    "1": "positive",
}


@dataclass(frozen=True)
class BaselineData:
    """Train texts/labels and the evaluated rows (texts, gold) of one run."""

    train_texts: list[str]
    train_labels: list[str]
    rows: list[dict[str, Any]]  # the fine-tuned model's in-distribution prediction rows

    @property
    def test_texts(self) -> list[str]:
        return [row_text(r) for r in self.rows]


def row_text(row: Mapping[str, Any]) -> str:
    text = row.get("text")
    base = text if isinstance(text, str) else " ".join(map(str, text or []))
    pair = row.get("text_pair")
    return f"{base} {pair}" if isinstance(pair, str) and pair else base


def predict_majority(data: BaselineData) -> list[str]:
    top = Counter(data.train_labels).most_common(1)[0][0]
    return [top] * len(data.rows)


def _fit_lr(x: Any, y: list[str], seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(y)
    folds = min(3, min(counts.values()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings: the fit is still usable
        if folds >= 2:
            cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
            return LogisticRegressionCV(Cs=list(CS), cv=cv, max_iter=1000).fit(x, y)
        return LogisticRegression(C=1.0, max_iter=1000).fit(x, y)


def predict_tfidf(data: BaselineData, seed: int = 0) -> list[str]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
    x = vec.fit_transform(data.train_texts)
    model = _fit_lr(x, data.train_labels, seed)
    return [str(p) for p in model.predict(vec.transform(data.test_texts))]


def _embed(texts: list[str], encoder: str) -> np.ndarray:
    import transformers

    from tuneproof.checks.label_issue import embed

    transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar per call
    prefix = "query: " if "e5" in encoder else ""  # e5 expects its prefix on both sides
    return embed([prefix + t for t in texts], encoder)


def predict_embed(data: BaselineData, encoder: str, seed: int = 0) -> list[str]:
    x_train = _embed(data.train_texts, encoder)
    model = _fit_lr(x_train, data.train_labels, seed)
    return [str(p) for p in model.predict(_embed(data.test_texts, encoder))]


def describe(label: str, descriptions: Mapping[str, str] | None = None) -> str:
    if descriptions and label in descriptions:
        return descriptions[label]
    return EXPANSIONS.get(label.lower(), label.replace("_", " ").replace("-", " "))


def predict_zero_shot(
    data: BaselineData, encoder: str, descriptions: Mapping[str, str] | None = None
) -> list[str]:
    labels = sorted(set(data.train_labels))
    label_vecs = _embed([describe(lab, descriptions) for lab in labels], encoder)
    sims = _embed(data.test_texts, encoder) @ label_vecs.T
    return [labels[i] for i in sims.argmax(axis=1)]


def score(
    finetuned: list[dict[str, Any]],
    preds: Sequence[str],
    fn: RowMetricsFn,
    main_metric: str,
    *,
    name: str,
    greater_is_better: bool = True,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> rundir.BaselineResult:
    """A baseline's predictions of the fine-tuned model's rows: its metrics with intervals, and
    the paired delta fine-tuned − baseline with McNemar's p."""
    rows = [{**r, "pred": p} for r, p in zip(finetuned, preds, strict=True)]
    rm_ft, rm_bl = analyse(finetuned, fn), analyse(rows, fn)
    pos = np.arange(len(rows))
    sm = slice_metrics(rm_bl, pos, seed=seed, n_resamples=n_resamples, confidence=confidence)
    dist_ft, dist_bl = resample(rm_ft, pos, n_resamples, rows_rng(seed, pos), others=[rm_bl])
    delta = delta_ci = None
    ft_point = float(fn(finetuned)[main_metric])
    main = sm.metrics.get(main_metric)
    if main is not None:
        delta = ft_point - main
        a, b = dist_ft.get(main_metric), dist_bl.get(main_metric)
        if a is not None and b is not None:
            k = min(len(a), len(b))
            delta_ci = percentile_interval(a[:k] - b[:k], confidence)
    p = None
    if rm_ft.correct is not None and rm_bl.correct is not None:
        p = mcnemar_p(rm_ft.correct, rm_bl.correct)
    v = verdict_of(delta_ci, greater_is_better)
    verdict: Literal["fine-tuned better", "baseline better", "no evidence"] = (
        "fine-tuned better"
        if v == "improved"
        else "baseline better"
        if v == "regressed"
        else "no evidence"
    )
    return rundir.BaselineResult(
        name=name,
        description=DESCRIPTIONS.get(name, ""),  # type: ignore[call-overload]
        metrics=rundir.MetricBlock.model_validate(sm.to_dict()),
        main=main,
        main_ci=sm.ci.get(main_metric),
        delta=delta,
        delta_ci=delta_ci,
        mcnemar_p=p,
        verdict=verdict,
    )


def choose_encoder(model_name: str | None) -> str:
    """The run's base model when it is a built-in encoder, else :data:`DEFAULT_ENCODER`."""
    return model_name if model_name in ENCODERS else DEFAULT_ENCODER


def load_baseline_data(run_dir: Path, config: Any, rows: list[dict[str, Any]]) -> BaselineData:
    from tuneproof.data.load import label_values, load_splits, require_columns

    loaded = load_splits(config.data)
    if "train" not in loaded.splits:
        raise UserError(f"{run_dir}: the run's config has no train split to fit baselines on")
    df = loaded.splits["train"]
    dc = config.data
    where = loaded.sources["train"].path
    columns = [dc.text_column] + ([dc.text_pair_column] if dc.text_pair_column else [])
    require_columns(df, columns, where, "data.text_column")
    texts = df[dc.text_column].astype(str).tolist()
    if dc.text_pair_column:
        texts = [
            f"{a} {b}" for a, b in zip(texts, df[dc.text_pair_column].astype(str), strict=True)
        ]
    labels = label_values(df, dc.label_column, where, "data.label_column")
    return BaselineData(texts, labels, rows)


def run_baselines(
    run_dir: str | Path,
    names: Sequence[str] | None = None,
    *,
    encoder: str | None = None,
    descriptions: Mapping[str, str] | None = None,
    seed: int | None = None,
    n_resamples: int = N_RESAMPLES,
    write: bool = True,
) -> rundir.Baselines:
    """Fit and score the baselines ``names`` (default: the config's ``baselines``, else all)
    for a run directory; writes ``baselines.json`` atomically unless ``write`` is False."""
    from tuneproof.evaluate.compare import _read_run
    from tuneproof.tasks import get_task

    run = Path(run_dir)
    _, raw_rows, metrics = _read_run(run)
    config = rundir.read_config(run)
    chosen = list(names or config.baselines or BASELINES)
    unknown = [n for n in chosen if n not in BASELINES]
    if unknown:
        raise UserError(f"baseline '{unknown[0]}': unknown; choose from {', '.join(BASELINES)}")
    if config.task != "sequence-classification":
        raise UserError(
            f"{run}: baselines are for single-label classification; this is a {config.task} run"
        )
    rows = [r for r in raw_rows if r.get("in_distribution") is not False]
    if not rows:
        raise UserError(f"{run}: no in-distribution prediction rows; run `tuneproof eval {run}`")
    task = get_task(config.task)
    main = str(metrics.get("main_metric") or task.main_metric)
    seed = config.training.seed if seed is None else seed
    data = load_baseline_data(run, config, rows)
    enc = encoder or choose_encoder(config.model.name)
    predictors = {
        "majority": lambda: predict_majority(data),
        "tfidf-lr": lambda: predict_tfidf(data, seed),
        "embed-lr": lambda: predict_embed(data, enc, seed),
        "zero-shot": lambda: predict_zero_shot(data, enc, descriptions),
    }
    results = []
    for name in chosen:
        preds = predictors[name]()
        results.append(
            score(
                rows,
                preds,
                task.metrics_from_rows,
                main,
                name=name,
                greater_is_better=task.greater_is_better,
                seed=seed,
                n_resamples=n_resamples,
            )
        )
    ft = slice_metrics(
        analyse(rows, task.metrics_from_rows),
        np.arange(len(rows)),
        seed=seed,
        n_resamples=n_resamples,
    )
    scored = [r for r in results if r.main is not None]
    sign = 1.0 if task.greater_is_better else -1.0
    best = max(scored, key=lambda r: sign * (r.main or 0.0)).name if scored else None
    record = rundir.Baselines(
        task=config.task,
        main_metric=main,
        split=str(metrics.get("split") or "test"),
        n=len(rows),
        train_rows=len(data.train_texts),
        seed=seed,
        n_resamples=n_resamples,
        finetuned=ft.metrics.get(main),
        finetuned_ci=ft.ci.get(main),
        best=best,
        encoder=enc if {"embed-lr", "zero-shot"} & set(chosen) else None,
        baselines=results,
    )
    if write:
        rundir.write(run, record)
    return record


@dataclass(frozen=True)
class FineTuneVerdict:
    """Whether fine-tuning beat the best cheap baseline, for the strategy selector to cite.

    ``worth_it`` is True when the paired interval of fine-tuned − best baseline lies above 0,
    False when it lies below, None when it includes 0 (no evidence either way).
    """

    best: str
    best_value: float | None
    finetuned: float | None
    delta: float | None
    delta_ci: tuple[float, float] | None
    worth_it: bool | None
    sentence: str


def fine_tune_verdict(baselines: rundir.Baselines) -> FineTuneVerdict | None:
    """One sentence on fine-tuned vs the best baseline (None when no baseline was scored)."""
    best = baselines.best_result
    if best is None:
        return None
    ci = best.delta_ci
    worth = None if best.verdict == "no evidence" else best.verdict == "fine-tuned better"
    m = baselines.main_metric
    ci_text = f" (paired 95 % CI {ci[0]:+.4f} – {ci[1]:+.4f})" if ci else ""
    delta = f"{best.delta:+.4f}" if best.delta is not None else "–"
    tail = {
        True: "fine-tuning was worth it",
        False: "the baseline is better: don't fine-tune",
        None: "no evidence that fine-tuning beats it",
    }[worth]
    return FineTuneVerdict(
        best=best.name,
        best_value=best.main,
        finetuned=baselines.finetuned,
        delta=best.delta,
        delta_ci=ci,
        worth_it=worth,
        sentence=f"fine-tuned vs the best baseline ({best.name}): {m} {delta}{ci_text}; {tail}",
    )


def read_verdict(run_dir: str | Path) -> FineTuneVerdict | None:
    """:func:`fine_tune_verdict` of a run's ``baselines.json`` (None when it has none)."""
    record = rundir.read_optional(run_dir, rundir.Baselines)
    return fine_tune_verdict(record) if record is not None else None
