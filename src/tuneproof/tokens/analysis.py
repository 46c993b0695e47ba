"""Tokenization metrics: pure functions over texts, token spans and counts.

Definitions follow Rust et al. 2021 ("How Good is Your Tokenizer?", fertility and proportion of
continued words) and Petrov et al. 2023 ("Language Model Tokenizers Introduce Unfairness Between
Languages", parity); docs/tokens.md states them with worked examples. The unit a token count is
divided by is the *word* (a run of letters, marks and digits; every other non-space character
counts as a word of its own, as punctuation does in Universal Dependencies), or the *character*
for texts in scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar), where
"words" would be whole clauses.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from tuneproof.text.scripts import is_unsegmented
from tuneproof.tokens.base import Encoded, Span, Tokenizer

ZWJ = "\u200d"
_SEPARATORS = {"\u200b", "\ufeff"}  # zero-width space and BOM separate words like a space


def _is_joiner(ch: str) -> bool:
    """Marks, format characters (ZWJ, ZWNJ) and emoji skin-tone modifiers extend what precedes."""
    cat = unicodedata.category(ch)
    return cat[0] == "M" or cat == "Cf" or 0x1F3FB <= ord(ch) <= 0x1F3FF


def _is_regional(ch: str) -> bool:
    return len(ch) == 1 and 0x1F1E6 <= ord(ch) <= 0x1F1FF


def word_spans(text: str) -> list[Span]:
    """Words as ``(start, end)`` character offsets.

    A word is a maximal run of letters, digits and combining marks (a Devanagari vowel sign stays
    in its word). Any other non-space character is a word of its own, together with the marks,
    modifiers and ZWJ-joined symbols that follow it (one emoji sequence is one word).
    """
    spans: list[Span] = []
    start = -1
    kind = ""  # "w" letter run, "s" symbol cluster
    prev = ""
    for i, ch in enumerate(text):
        if ch.isspace() or ch in _SEPARATORS:
            if start >= 0:
                spans.append((start, i))
            start, kind, prev = -1, "", ""
            continue
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            extend = kind == "w" or (kind == "s" and prev == ZWJ)
            new_kind = "w"
        elif _is_joiner(ch):
            extend, new_kind = start >= 0, kind or "s"
        else:
            pair = _is_regional(ch) and _is_regional(prev) and i - start == 1
            extend, new_kind = kind == "s" and (prev == ZWJ or pair), "s"
        if not extend:
            if start >= 0:
                spans.append((start, i))
            start = i
        kind, prev = new_kind, ch
    if start >= 0:
        spans.append((start, len(text)))
    return spans


def char_spans(text: str) -> list[Span]:
    """User-perceived characters: a base character with the marks and joiners that follow it."""
    spans: list[Span] = []
    for i, ch in enumerate(text):
        if ch.isspace() or ch in _SEPARATORS:
            continue
        joins_prev = spans and spans[-1][1] == i and (_is_joiner(ch) or text[i - 1] == ZWJ)
        if joins_prev:
            spans[-1] = (spans[-1][0], i + 1)
        else:
            spans.append((i, i + 1))
    return spans


def unit_spans(text: str) -> tuple[list[Span], bool]:
    """The units fertility divides by: characters for unsegmented scripts, else words."""
    unsegmented = is_unsegmented(text)
    return (char_spans(text) if unsegmented else word_spans(text)), unsegmented


def tokens_per_unit(units: Sequence[Span], token_spans: Sequence[Span]) -> list[int]:
    """How many tokens overlap each unit (units sorted and disjoint; empty token spans ignored)."""
    counts = [0] * len(units)
    ends = [e for _, e in units]
    for ts, te in token_spans:
        if te <= ts:
            continue
        j = bisect.bisect_right(ends, ts)
        while j < len(units) and units[j][0] < te:
            counts[j] += 1
            j += 1
    return counts


def fertility(n_tokens: int, n_units: int) -> float:
    """Tokens per unit (word, or character for unsegmented scripts); 0 for an empty text."""
    return n_tokens / n_units if n_units else 0.0


def share(part: int, whole: int) -> float:
    """``part / whole``, 0 when there is nothing to divide by."""
    return part / whole if whole else 0.0


def parity(counts: Mapping[str, int], reference: Mapping[str, int]) -> float | None:
    """Petrov et al.'s premium: tokens for the texts over tokens for their reference translations.

    ``counts`` and ``reference`` map a sentence id to its token count; only ids in both are used,
    so a partly translated corpus still compares like with like. None when nothing overlaps.
    """
    common = [k for k in counts if k in reference]
    ref = sum(reference[k] for k in common)
    if not common or ref == 0:
        return None
    return sum(counts[k] for k in common) / ref


def over_length_share(n_tokens: Sequence[int], n_special: int, max_length: int) -> float:
    """Share of texts a model would truncate: tokens plus added special tokens > max_length."""
    return share(sum(1 for n in n_tokens if n + n_special > max_length), len(n_tokens))


@dataclass(frozen=True)
class TextStats:
    """Counts for one text under one tokenizer (the inputs of every aggregate metric)."""

    n_chars: int  # code points, whitespace included
    n_units: int  # words, or characters when unsegmented
    unsegmented: bool
    n_tokens: int
    n_unk: int
    n_byte: int  # byte-fallback tokens / pieces of a split character
    n_continued: int  # units covered by two or more tokens

    @property
    def fertility(self) -> float:
        return fertility(self.n_tokens, self.n_units)


def text_stats(text: str, encoded: Encoded, tokenizer: Tokenizer) -> TextStats:
    """Count tokens, UNKs, byte tokens and continued units of one encoded text."""
    units, unsegmented = unit_spans(text)
    per_unit = tokens_per_unit(units, encoded.spans)
    unk = tokenizer.unk_id
    return TextStats(
        n_chars=len(text),
        n_units=len(units),
        unsegmented=unsegmented,
        n_tokens=len(encoded.ids),
        n_unk=sum(1 for i in encoded.ids if i == unk) if unk is not None else 0,
        n_byte=sum(1 for i in encoded.ids if tokenizer.is_byte_token(i)),
        n_continued=sum(1 for n in per_unit if n >= 2),
    )


def token_stats(tokenizer: Tokenizer, texts: Sequence[str]) -> list[TextStats]:
    """Per-text stats for ``texts`` in one batched call (what ``eval`` and ``check`` use)."""
    encoded = tokenizer.encode_batch(texts)
    return [text_stats(t, e, tokenizer) for t, e in zip(texts, encoded, strict=True)]


@dataclass(frozen=True)
class GroupStats:
    """Metrics of one tokenizer on one group of texts (a language, or a script)."""

    tokenizer: str
    group: str
    script: str
    n_texts: int
    n_tokens: int
    n_units: int
    fertility: float
    continued_share: float
    unk_rate: float
    byte_rate: float
    chars_per_token: float
    over_length_share: float
    max_length: int
    parity: float | None = None  # relative to the reference language; None without one

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def summarize(
    tokenizer: str,
    group: str,
    script: str,
    stats: Sequence[TextStats],
    *,
    n_special: int,
    max_length: int,
    parity: float | None = None,
) -> GroupStats:
    """Corpus-level metrics: ratios of sums (long texts weigh more, as in Rust et al.)."""
    tokens = sum(s.n_tokens for s in stats)
    units = sum(s.n_units for s in stats)
    return GroupStats(
        tokenizer=tokenizer,
        group=group,
        script=script,
        n_texts=len(stats),
        n_tokens=tokens,
        n_units=units,
        fertility=fertility(tokens, units),
        continued_share=share(sum(s.n_continued for s in stats), units),
        unk_rate=share(sum(s.n_unk for s in stats), tokens),
        byte_rate=share(sum(s.n_byte for s in stats), tokens),
        chars_per_token=share(sum(s.n_chars for s in stats), tokens),
        over_length_share=over_length_share([s.n_tokens for s in stats], n_special, max_length),
        max_length=max_length,
        parity=parity,
    )
