"""One text as each tokenizer splits it, as plain records: every token with its character span and
UNK / byte-fallback flags, the display segments over the text, and the per-text metrics.

This is what ``tuneproof tokens show --json`` prints and what the tokenizer page of ``tuneproof ui``
draws, so the two can never disagree. The stress-suite problems are explained in training terms
here too (:func:`training_impact`), for the same reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from tuneproof.errors import UserError
from tuneproof.tokens.analysis import share, text_stats
from tuneproof.tokens.base import Tokenizer
from tuneproof.tokens.render import segments

if TYPE_CHECKING:
    from tuneproof.tokens.compare import Comparison
    from tuneproof.tokens.stress import StressReport

#: Longer texts are refused: the view is for reading splits, not for corpora (use ``compare``).
MAX_TEXT_CHARS = 20_000


def check_text(text: str, *, field: str = "text") -> str:
    """The text to show, or a one-line error for an empty or oversized one."""
    if not text.strip():
        raise UserError(f"{field}: empty; type or paste a sentence to tokenize")
    if len(text) > MAX_TEXT_CHARS:
        raise UserError(
            f"{field}: {len(text):,} characters, more than the {MAX_TEXT_CHARS:,} this view "
            "shows; paste a shorter passage, or run `tuneproof tokens compare -f FILE` on a corpus"
        )
    return text


@dataclass(frozen=True)
class TokenPiece:
    """One token: its id, its piece as text, the characters ``[start, end)`` it covers."""

    id: int
    piece: str
    start: int
    end: int
    unk: bool
    byte: bool  # a byte-fallback piece or a byte-level piece of a split character


@dataclass(frozen=True)
class Segment:
    """A stretch of the text: the tokens covering it (several when a character is split into
    byte pieces), or none (whitespace, or characters the tokenizer dropped)."""

    start: int
    end: int
    text: str
    tokens: tuple[int, ...]
    unk: bool
    byte: bool
    colour: int  # alternating colour index of token segments; -1 for uncovered text

    @property
    def dropped(self) -> bool:
        """No token covers non-space text: the tokenizer lost it."""
        return not self.tokens and bool(self.text.strip())


@dataclass(frozen=True)
class TokenView:
    tokenizer: str
    kind: str
    text: str
    n_special: int  # special tokens the model adds around the text (not in ``pieces``)
    n_chars: int
    n_units: int  # words, or characters for unsegmented scripts
    unsegmented: bool
    fertility: float  # tokens per unit
    chars_per_token: float
    n_unk: int
    n_byte: int
    pieces: tuple[TokenPiece, ...]
    segments: tuple[Segment, ...]

    @property
    def count(self) -> int:
        return len(self.pieces)

    def to_dict(self) -> dict[str, object]:
        return {
            "tokenizer": self.tokenizer,
            "kind": self.kind,
            "count": self.count,
            "tokens": [p.piece for p in self.pieces],
            "ids": [p.id for p in self.pieces],
            "n_special": self.n_special,
            "n_chars": self.n_chars,
            "n_units": self.n_units,
            "unit": "character" if self.unsegmented else "word",
            "fertility": round(self.fertility, 6),
            "chars_per_token": round(self.chars_per_token, 6),
            "unk": self.n_unk,
            "byte_tokens": self.n_byte,
            "pieces": [asdict(p) for p in self.pieces],
            "segments": [
                {
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                    "tokens": list(s.tokens),
                    "unk": s.unk,
                    "byte": s.byte,
                    "dropped": s.dropped,
                }
                for s in self.segments
            ],
        }


def token_view(tokenizer: Tokenizer, text: str) -> TokenView:
    """Encode ``text`` (special tokens excluded) and describe every token and segment."""
    enc = tokenizer.encode(text)
    stats = text_stats(text, enc, tokenizer)
    unk_id = tokenizer.unk_id
    pieces = tuple(
        TokenPiece(
            id=int(i),
            piece=tok,
            start=int(s),
            end=int(e),
            unk=unk_id is not None and i == unk_id,
            byte=tokenizer.is_byte_token(i),
        )
        for i, tok, (s, e) in zip(enc.ids, enc.tokens, enc.spans, strict=True)
    )
    segs = []
    colour = 0
    for seg in segments(text, enc):
        covered = bool(seg.tokens)
        segs.append(
            Segment(
                start=seg.start,
                end=seg.end,
                text=text[seg.start : seg.end],
                tokens=seg.tokens,
                unk=any(pieces[i].unk for i in seg.tokens),
                byte=any(pieces[i].byte for i in seg.tokens),
                colour=colour % 4 if covered else -1,
            )
        )
        colour += covered
    return TokenView(
        tokenizer=tokenizer.name,
        kind=tokenizer.kind,
        text=text,
        n_special=tokenizer.n_special,
        n_chars=stats.n_chars,
        n_units=stats.n_units,
        unsegmented=stats.unsegmented,
        fertility=stats.fertility,
        chars_per_token=share(stats.n_chars, stats.n_tokens),
        n_unk=stats.n_unk,
        n_byte=stats.n_byte,
        pieces=pieces,
        segments=tuple(segs),
    )


def token_views(tokenizers: Sequence[Tokenizer], text: str) -> list[TokenView]:
    check_text(text)
    return [token_view(t, text) for t in tokenizers]


@dataclass(frozen=True)
class Impact:
    problem: str  # round_trip | unk | fertility
    title: str
    training: str


IMPACTS: dict[str, Impact] = {
    "round_trip": Impact(
        "round_trip",
        "lost characters (diacritics, marks, invisible joiners)",
        "the model never sees what was lost: words that differ only in an accent or vowel sign "
        "become one input, and a label that depends on them cannot be learned; generated text "
        "comes back without them",
    ),
    "unk": Impact(
        "unk",
        "UNK tokens",
        "every unknown word maps to the same id, so the model cannot tell them apart or learn "
        "from them; a script the vocabulary lacks is mostly UNK, and evaluation on it measures "
        "the prior, not the model",
    ),
    "fertility": Impact(
        "fertility",
        "too many tokens per word",
        "the same text takes more of max_length, so it is truncated sooner (the evidence at the "
        "end is cut off), each step costs more compute and memory, and the model has to learn "
        "words from fragments",
    ),
}


def problem_kind(problem: str) -> str:
    """Which kind of stress-suite problem a message (``CaseResult.problems``) describes."""
    if problem.startswith("decode(encode(text))"):
        return "round_trip"
    if "UNK" in problem:
        return "unk"
    return "fertility"


def training_impact(problem: str) -> Impact:
    """What a stress-suite problem means for fine-tuning on such text."""
    return IMPACTS[problem_kind(problem)]


# --- built-ins only, loaded once per process (the web app never reaches for the hub) ------------


def check_builtins(names: Sequence[str]) -> list[str]:
    """``names`` deduplicated, each a built-in tokenizer; else a one-line error listing them."""
    from tuneproof.errors import did_you_mean
    from tuneproof.tokens.builtins import BUILTIN_TOKENIZERS

    wanted = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not wanted:
        raise UserError(f"tokenizers: none chosen; pick from {', '.join(BUILTIN_TOKENIZERS)}")
    for name in wanted:
        if name not in BUILTIN_TOKENIZERS:
            raise UserError(
                f"tokenizers: '{name}' is not a built-in"
                f"{did_you_mean(name, BUILTIN_TOKENIZERS)}; use one of "
                f"{', '.join(BUILTIN_TOKENIZERS)}"
            )
    return wanted


@cache
def builtin(name: str) -> Tokenizer:
    """A built-in tokenizer, loaded once (loading XLM-R's 250k vocabulary takes a second)."""
    from tuneproof.tokens.builtins import load_tokenizer

    return load_tokenizer(check_builtins([name])[0])


@lru_cache(maxsize=32)
def parallel_comparison(names: tuple[str, ...]) -> Comparison:
    """Fertility and parity (premium against English) on the shipped parallel corpus, which
    ``tuneproof tokens compare -t NAME ...`` computes the same way."""
    from tuneproof.tokens.compare import compare_tokenizers
    from tuneproof.tokens.corpus import parallel_corpus

    return compare_tokenizers(
        [builtin(n) for n in check_builtins(names)],
        parallel_corpus(),
        source=PARALLEL_SOURCE,
    )


@lru_cache(maxsize=32)
def stress_reports(names: tuple[str, ...]) -> tuple[StressReport, ...]:
    """The built-in stress suite on each tokenizer (``tuneproof tokens stress``'s defaults)."""
    from tuneproof.tokens.stress import stress

    return tuple(stress(builtin(n)) for n in check_builtins(names))


PARALLEL_SOURCE = "built-in parallel corpus (tuneproof/tokens/parallel.tsv)"


# --- a padded batch (what a collator hands the model) ---------------------------------------


@dataclass(frozen=True)
class BatchRow:
    text: str
    tokens: tuple[str, ...]  # the row's tokens, then PAD up to the longest row
    attention_mask: tuple[int, ...]  # 1 for a real token, 0 for padding
    truncated: bool


@dataclass(frozen=True)
class BatchView:
    """Texts as one padded batch: every row as long as the longest (or ``max_length``), and the
    attention mask that tells the model which positions are padding."""

    tokenizer: str
    n_special: int  # added around every row by the model's tokenizer, not shown here
    length: int
    rows: tuple[BatchRow, ...]

    @property
    def padding_share(self) -> float:
        """Share of the batch's positions that are padding (compute spent on nothing)."""
        cells = self.length * len(self.rows)
        return share(sum(r.attention_mask.count(0) for r in self.rows), cells)


PAD = "[PAD]"
MAX_BATCH = 16


def batch_view(
    tokenizer: Tokenizer, texts: Sequence[str], max_length: int | None = None
) -> BatchView:
    """Pad (and with ``max_length``, truncate) ``texts`` as a collator would, special tokens
    excluded; at most :data:`MAX_BATCH` texts."""
    texts = [t for t in texts if t.strip()][:MAX_BATCH]
    if not texts:
        raise UserError("text: empty; put one text per line to see them as a batch")
    encoded = tokenizer.encode_batch(texts)
    longest = max(len(e) for e in encoded)
    length = min(longest, max_length) if max_length else longest
    rows = []
    for text, enc in zip(texts, encoded, strict=True):
        kept = list(enc.tokens[:length])
        pad = length - len(kept)
        rows.append(
            BatchRow(
                text, tuple(kept + [PAD] * pad), (1,) * len(kept) + (0,) * pad, len(enc) > length
            )
        )
    return BatchView(tokenizer.name, tokenizer.n_special, length, tuple(rows))
