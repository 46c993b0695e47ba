"""``length_outlier``: how many rows the tokenizer would truncate at ``max_length``, and rows far
longer or shorter than the rest.

Truncation silently drops the end of a text (often where a review's verdict is); an extreme
length is usually a parsing error (a whole file in one cell, a stray header). With a run's
config the lengths and truncation are the task adapter's own counts (``Prepared.tokens``: both
texts of a pair, the windows of QA), so the check counts what training truncates; without one,
they are tokens of the given tokenizer, else whitespace-separated words.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tuneproof.checks.base import Check, CheckContext, Finding, Severity

NAME = "length_outlier"


def token_lengths(tokenizer: Any, texts: list[str], batch: int = 1000) -> np.ndarray:
    """Tokens per text with special tokens: a HF tokenizer, tiktoken, or anything with .encode."""
    out: list[int] = []
    for lo in range(0, len(texts), batch):
        part = texts[lo : lo + batch]
        if hasattr(tokenizer, "encode_ordinary_batch"):  # tiktoken
            out += [len(ids) for ids in tokenizer.encode_ordinary_batch(part)]
        elif callable(tokenizer):  # transformers tokenizers
            enc = tokenizer(part, add_special_tokens=True, truncation=False, verbose=False)
            out += [len(ids) for ids in enc["input_ids"]]
        else:
            out += [len(tokenizer.encode(t)) for t in part]
    return np.asarray(out, dtype=np.int64)


def _sample(n: int, size: int, seed: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def run(ctx: CheckContext) -> list[Finding]:
    opts = ctx.options
    findings: list[Finding] = []
    for split in ctx.splits:
        texts = ctx.texts(split)
        if not texts:
            continue
        counts = (ctx.token_counts or {}).get(split)
        cut: np.ndarray | None = None
        if counts is not None and len(counts) == len(texts):
            # The adapter counted every row while preparing it: no sample, no second rule.
            unit = "tokens"
            pos = np.arange(len(texts))
            lengths = np.fromiter((c.total for c in counts), dtype=np.int64, count=len(counts))
            cut = np.fromiter((c.truncated for c in counts), dtype=bool, count=len(counts))
        else:
            unit = "tokens" if ctx.tokenizer is not None else "words"
            pos = _sample(len(texts), opts.length_sample, opts.seed)
            part = [texts[i] for i in pos]
            if ctx.tokenizer is not None:
                lengths = token_lengths(ctx.tokenizer, part)
            else:
                lengths = np.fromiter(
                    (len(t.split()) for t in part), dtype=np.int64, count=len(part)
                )
        sampled = (
            f" (in a sample of {len(pos):,} of {len(texts):,} rows)"
            if len(pos) < len(texts)
            else ""
        )
        stats = (
            f"median {int(np.median(lengths))}, p95 {int(np.percentile(lengths, 95))}, "
            f"max {int(lengths.max())} {unit}"
        )
        if cut is None and ctx.max_length is not None:
            cut = lengths > ctx.max_length
        if cut is not None:
            over = np.flatnonzero(cut)
            if len(over):
                share = len(over) / len(lengths)
                sev: Severity = "warning" if share > opts.truncation_warning else "info"
                worst = over[np.argsort(-lengths[over], kind="stable")][: opts.max_rows_listed]
                how = (
                    "" if unit == "tokens" else " (no tokenizer: counted in words, so likely more)"
                )
                findings.append(
                    Finding(
                        check=NAME,
                        severity=sev,
                        split=split,
                        rows=ctx.ids_of(split, pos[worst]),
                        score=share,
                        detail=f"{share:.1%} of rows ({len(over):,}) are longer than max_length "
                        f"{ctx.max_length} {unit} and get truncated{how}{sampled}; {stats}",
                    )
                )
        findings += _outliers(ctx, split, pos, lengths, unit, sampled)
    return findings


def _outliers(
    ctx: CheckContext, split: str, pos: np.ndarray, lengths: np.ndarray, unit: str, sampled: str
) -> list[Finding]:
    """Robust z-score of log length (median, MAD): long tails are normal, 50× the median is not."""
    x = np.log1p(lengths.astype(np.float64))
    med = float(np.median(x))
    # Scale from the median absolute deviation, floored so that data of near-constant length
    # (MAD 0) still needs a 3.5-fold difference from the median at the default z of 5.
    mad = max(float(np.median(np.abs(x - med))) * 1.4826, 0.25)
    if len(x) < 20:
        return []
    z = (x - med) / mad
    findings = []
    median_len = int(np.median(lengths))
    for sign, word in ((1, "longer"), (-1, "shorter")):
        out = np.flatnonzero(sign * z > ctx.options.outlier_z)
        if not len(out):
            continue
        worst = out[np.argsort(-sign * z[out], kind="stable")][: ctx.options.max_rows_listed]
        findings.append(
            Finding(
                check=NAME,
                severity="info",
                split=split,
                rows=ctx.ids_of(split, pos[worst]),
                score=len(out) / len(x),
                detail=f"{len(out)} rows are far {word} than the median of {median_len} {unit} "
                f"(e.g. {int(lengths[worst[0]])} {unit}){sampled}",
            )
        )
    return findings


CHECK = Check(
    name=NAME,
    description="share of rows the tokenizer truncates at max_length; extremely long or short rows",
    severity="warning",
    run=run,
)
