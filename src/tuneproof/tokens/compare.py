"""Compare tokenizers on a corpus (metrics per tokenizer × language) and show single texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tuneproof.errors import UserError
from tuneproof.text.scripts import dominant_script
from tuneproof.tokens.analysis import GroupStats, TextStats, parity, summarize, text_stats
from tuneproof.tokens.base import Encoded, Tokenizer
from tuneproof.tokens.corpus import CorpusText


@dataclass(frozen=True)
class Shown:
    """One text as one tokenizer splits it (special tokens excluded)."""

    tokenizer: str
    text: str
    encoded: Encoded
    unk_id: int | None = None

    def to_dict(self) -> dict[str, object]:
        e = self.encoded
        return {"tokenizer": self.tokenizer, "tokens": e.tokens, "ids": e.ids, "count": len(e)}


def show(tokenizers: Sequence[Tokenizer], text: str) -> list[Shown]:
    """Encode ``text`` with each tokenizer."""
    return [Shown(t.name, text, t.encode(text), t.unk_id) for t in tokenizers]


@dataclass(frozen=True)
class Sample:
    """The first text of a group, encoded by every tokenizer (for the side-by-side view)."""

    group: str
    text: str
    shown: list[Shown]


@dataclass(frozen=True)
class Comparison:
    tokenizers: list[str]
    groups: list[str]
    group_by: str  # "language" (a language column) or "script" (detected per text)
    reference: str | None  # the group parity is relative to
    max_length: int
    source: str
    rows: list[GroupStats]
    samples: list[Sample] = field(default_factory=list)

    def get(self, tokenizer: str, group: str) -> GroupStats:
        for row in self.rows:
            if row.tokenizer == tokenizer and row.group == group:
                return row
        raise KeyError((tokenizer, group))

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "group_by": self.group_by,
            "reference": self.reference,
            "max_length": self.max_length,
            "tokenizers": self.tokenizers,
            "groups": self.groups,
            "rows": [r.to_dict() for r in self.rows],
        }


def compare_tokenizers(
    tokenizers: Sequence[Tokenizer],
    texts: Sequence[CorpusText],
    *,
    max_length: int = 128,
    reference: str = "en",
    source: str = "",
) -> Comparison:
    """Metrics per tokenizer × language (or × script when texts carry no language).

    Parity is computed against ``reference`` when that language is present, matching
    translations by ``CorpusText.id``.
    """
    if not texts:
        raise UserError(f"{source or 'corpus'}: no texts to compare")
    if not tokenizers:
        raise UserError("no tokenizer given; pass --tokenizer NAME (see `tuneproof tokens list`)")
    by_language = all(t.lang for t in texts)
    keys = [t.lang if by_language else dominant_script(t.text) for t in texts]
    groups = list(dict.fromkeys(keys))
    members = {g: [i for i, k in enumerate(keys) if k == g] for g in groups}
    scripts = {g: dominant_script(" ".join(texts[i].text for i in members[g])) for g in groups}
    ref = reference if by_language and reference in members else None

    rows: list[GroupStats] = []
    encodings: list[tuple[Tokenizer, list[Encoded]]] = []
    for tok in tokenizers:
        encoded = tok.encode_batch([t.text for t in texts])
        encodings.append((tok, encoded))
        stats = [text_stats(t.text, e, tok) for t, e in zip(texts, encoded, strict=True)]
        ref_counts = _counts(texts, stats, members[ref]) if ref else {}
        for g in groups:
            idx = members[g]
            par = parity(_counts(texts, stats, idx), ref_counts) if ref else None
            rows.append(
                summarize(
                    tok.name,
                    g,
                    scripts[g],
                    [stats[i] for i in idx],
                    n_special=tok.n_special,
                    max_length=max_length,
                    parity=par,
                )
            )
    samples = []
    for g in groups:
        first = members[g][0]
        text = texts[first].text
        shown = [Shown(tok.name, text, enc[first], tok.unk_id) for tok, enc in encodings]
        samples.append(Sample(g, text, shown))
    return Comparison(
        tokenizers=[t.name for t in tokenizers],
        groups=groups,
        group_by="language" if by_language else "script",
        reference=ref,
        max_length=max_length,
        source=source,
        rows=rows,
        samples=samples,
    )


def _counts(
    texts: Sequence[CorpusText], stats: Sequence[TextStats], idx: list[int]
) -> dict[str, int]:
    return {texts[i].id: stats[i].n_tokens for i in idx}
