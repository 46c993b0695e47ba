"""Precision and recall of the ``code_switching`` slice tag, old detector vs new, side by side.

    python benchmarks/code_switch_quality.py            # held-out half + the plain-English check
    python benchmarks/code_switch_quality.py --tune     # the threshold grid on the tuning half

The labelled set, ``benchmarks/data/code_switching.jsonl``, was written by hand for this
benchmark: 86 mixed-language rows (romanised and Devanagari Hindi, Spanish, Arabic and Arabizi,
Japanese, Chinese, Korean, French, German, Portuguese, Italian, Russian, Turkish, Dutch, each
with English; Spanish-French, German-French) and 76 single-language rows in 14 languages, with
hard negatives (Japanese kanji + kana, English with loanwords, place names, emoji, version
numbers, romanised Hindi alone). Rows alternate between ``tune`` and ``heldout`` within each
language pair; the thresholds in ``tuneproof.evaluate.slices`` were chosen on ``tune`` only.

The old detector is the one before issue 13: two real scripts (Unicode script, kana and kanji
apart) or two sentences confidently in different languages. A second check runs both detectors
on the 4,000 English sentences of the built-in ``polarity-en`` corpus, where every flag is a
false positive.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data" / "code_switching.jsonl"


@dataclass(frozen=True)
class Row:
    text: str
    mixed: bool
    languages: str
    split: str


def load(split: str | None = None) -> list[Row]:
    rows = [Row(**json.loads(line)) for line in DATA.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if split is None or r.split == split]


def old_detector(texts: Sequence[str]) -> list[bool]:
    from tuneproof.evaluate.slices import DEFAULT_LANGUAGES, language_switches, real_scripts

    by_sentence = language_switches(texts, DEFAULT_LANGUAGES)
    return [len(real_scripts(t)) >= 2 or s for t, s in zip(texts, by_sentence, strict=True)]


def new_detector(texts: Sequence[str], **thresholds: float) -> list[bool]:
    from tuneproof.evaluate.slices import code_switching

    return code_switching(texts, **thresholds)  # type: ignore[arg-type]


def precision_recall(rows: Sequence[Row], pred: Sequence[bool]) -> tuple[float, float, int, int]:
    tp = sum(p and r.mixed for p, r in zip(pred, rows, strict=True))
    fp = sum(p and not r.mixed for p, r in zip(pred, rows, strict=True))
    positives = sum(r.mixed for r in rows)
    return tp / max(tp + fp, 1), tp / max(positives, 1), tp, fp


def score(rows: Sequence[Row], detector: Callable[[Sequence[str]], list[bool]]) -> dict[str, float]:
    p, r, tp, fp = precision_recall(rows, detector([r.text for r in rows]))
    return {"precision": p, "recall": r, "tp": tp, "fp": fp}


def per_pair(rows: Sequence[Row], old: list[bool], new: list[bool]) -> None:
    pairs = sorted({r.languages for r in rows if r.mixed})
    print(f"  {'mixed pair':10s} {'rows':>4s} {'old found':>9s} {'new found':>9s}")
    for pair in pairs:
        sel = [i for i, r in enumerate(rows) if r.mixed and r.languages == pair]
        print(
            f"  {pair:10s} {len(sel):4d} {sum(old[i] for i in sel):9d} {sum(new[i] for i in sel):9d}"
        )
    singles = sorted({r.languages for r in rows if not r.mixed})
    flagged = {
        lang: (
            sum(old[i] for i, r in enumerate(rows) if not r.mixed and r.languages == lang),
            sum(new[i] for i, r in enumerate(rows) if not r.mixed and r.languages == lang),
        )
        for lang in singles
    }
    wrong = {lang: f for lang, f in flagged.items() if any(f)}
    print(f"  false positives per language (old, new): {wrong or 'none'}")


def report(split: str) -> None:
    rows = load(split)
    texts = [r.text for r in rows]
    old, new = old_detector(texts), new_detector(texts)
    n_mixed = sum(r.mixed for r in rows)
    print(f"{split} half: {n_mixed} mixed, {len(rows) - n_mixed} single-language rows")
    print(f"  {'detector':8s} {'precision':>9s} {'recall':>7s} {'tp':>4s} {'fp':>4s}")
    for name, pred in (("old", old), ("new", new)):
        p, r, tp, fp = precision_recall(rows, pred)
        print(f"  {name:8s} {p:9.3f} {r:7.3f} {tp:4d} {fp:4d}")
    per_pair(rows, old, new)


def plain_english() -> None:
    import pandas as pd

    from tuneproof.data.corpora import builtin_dataset

    files = builtin_dataset("polarity-en")
    texts = [str(t) for f in files.values() for t in pd.read_csv(f).text]
    print(f"polarity-en, {len(texts):,} English sentences (every flag is a false positive):")
    for name, detector in (("old", old_detector), ("new", new_detector)):
        t0 = time.perf_counter()
        flags = detector(texts)
        elapsed = time.perf_counter() - t0
        print(
            f"  {name:8s} flagged {sum(flags):4d} ({sum(flags) / len(texts):.2%}) "
            f"in {elapsed:.1f} s"
        )


def tune() -> None:
    rows = load("tune")
    texts = [r.text for r in rows]
    print(
        f"{'min_span_words':>14s} {'span_conf':>9s} {'clause_conf':>11s} {'precision':>9s} {'recall':>7s} {'F1':>6s}"
    )
    for words in (2, 3, 4):
        for conf in (0.3, 0.5, 0.7, 0.9):
            for clause in (0.5, 0.7, 0.8, 0.9, 1.01):
                pred = new_detector(
                    texts, min_span_words=words, span_confidence=conf, clause_confidence=clause
                )
                p, r, _, _ = precision_recall(rows, pred)
                f1 = 2 * p * r / max(p + r, 1e-9)
                print(f"{words:14d} {conf:9.2f} {clause:11.2f} {p:9.3f} {r:7.3f} {f1:6.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tune", action="store_true", help="print the threshold grid on 'tune'")
    ap.add_argument("--no-english", action="store_true", help="skip the polarity-en check")
    args = ap.parse_args()
    if args.tune:
        tune()
        return
    report("tune")
    report("heldout")
    if not args.no_english:
        plain_english()


if __name__ == "__main__":
    main()
