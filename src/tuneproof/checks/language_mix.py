"""``language_mix``: rows in another language than the rest of their split, and splits whose
main language differs from train's (language per row from lingua, offline).

A few stray rows in another language are noise the model cannot learn from; a test set in
another language than train measures transfer, not the task. Only confident detections count
(lingua's confidence ≥ 0.9; short texts such as "brisk hack job ." rarely reach it), and on big
splits a random sample is detected, so row lists are examples, shares are estimates.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from tuneproof.checks.base import Check, CheckContext, Finding, Severity

NAME = "language_mix"
CONFIDENCE = 0.9


def detect(texts: list[str], languages: tuple[str, ...]) -> list[str | None]:
    """ISO 639-1 code per text, or None when no language reaches the confidence threshold.

    Loading lingua's models takes seconds and ~300 MB; they are unloaded afterwards so that
    `train`, which runs the checks first, does not carry them through training.
    """
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    out: list[str | None] = [None] * len(texts)
    idx = [i for i, t in enumerate(texts) if sum(c.isalpha() for c in t) >= 10]
    if not idx:
        return out
    codes = [IsoCode639_1.from_str(c) for c in languages]
    detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
    try:
        values = detector.compute_language_confidence_values_in_parallel([texts[i] for i in idx])
    finally:
        detector.unload_language_models()
    for i, conf in zip(idx, values, strict=True):
        if conf and conf[0].value >= CONFIDENCE:
            out[i] = conf[0].language.iso_code_639_1.name.lower()
    return out


def run(ctx: CheckContext) -> list[Finding]:
    opts = ctx.options
    findings: list[Finding] = []
    dominant: dict[str, str] = {}
    sample: dict[str, np.ndarray] = {}
    for split in ctx.splits:
        n = len(ctx.texts(split))
        sample[split] = np.arange(n)
        if n > opts.language_sample:
            rng = np.random.default_rng(opts.seed)
            sample[split] = np.sort(rng.choice(n, size=opts.language_sample, replace=False))
    # One detector run for all splits: the models load once.
    everything = [ctx.texts(s)[i] for s, pos in sample.items() for i in pos]
    detected = iter(detect(everything, opts.languages))
    for split, pos in sample.items():
        n = len(ctx.texts(split))
        langs = [next(detected) for _ in pos]
        counts = Counter(lang for lang in langs if lang is not None)
        if not counts:
            continue
        known = sum(counts.values())
        main = counts.most_common(1)[0][0]
        dominant[split] = main
        sampled = f" (sample of {len(pos):,} of {n:,} rows)" if len(pos) < n else ""
        for lang, c in counts.most_common()[1:]:
            share = c / known
            rows = [int(pos[i]) for i, lg in enumerate(langs) if lg == lang]
            sev: Severity = "warning" if share < opts.minority_share else "info"
            what = "stray rows" if sev == "warning" else "a large share"
            findings.append(
                Finding(
                    check=NAME,
                    severity=sev,
                    split=split,
                    rows=ctx.ids_of(split, rows[: opts.max_rows_listed]),
                    score=share,
                    detail=f"{c} rows ({share:.1%}) are in '{lang}' while most are '{main}' "
                    f"({what}){sampled}",
                )
            )
    train = dominant.get("train")
    for split, main in dominant.items():
        if train is not None and split != "train" and main != train:
            findings.append(
                Finding(NAME, "warning", split, (), (), 1.0,
                        f"mostly '{main}' while train is mostly '{train}'")
            )  # fmt: skip
    return findings


CHECK = Check(
    name=NAME,
    description="rows in another language than their split (lingua, offline; sampled on big "
    "splits); splits whose main language differs from train",
    severity="warning",
    run=run,
)
