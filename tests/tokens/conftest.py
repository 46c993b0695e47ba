"""Fixtures for the tokens tests: a transparent character tokenizer and the loaded built-ins."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest

from tuneproof.tokens.base import Encoded, Tokenizer


@dataclass
class CharTokenizer:
    """One token per non-space character, id = code point; known pieces are hand-checkable.

    ``unknown`` characters become UNK (id 0); ``strip_marks`` imitates the uncased BERT
    normaliser (NFD, then combining marks dropped), so decode loses them.
    """

    name: str = "chars"
    unknown: str = ""
    strip_marks: bool = False
    lossless: bool = True
    kind: str = "test characters"
    unk_id: int | None = 0
    n_special: int = 2
    is_fast: bool = False
    bytes_for: str = ""  # characters reported as byte tokens
    calls: list[str] = field(default_factory=list)

    def encode(self, text: str) -> Encoded:
        ids, tokens, spans = [], [], []
        for i, ch in enumerate(text):
            if ch.isspace():
                continue
            piece = ch
            if self.strip_marks:
                piece = "".join(
                    c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c)[0] != "M"
                )
                if not piece:
                    continue
            unk = ch in self.unknown
            ids.append(0 if unk else ord(piece[0]))
            tokens.append("[UNK]" if unk else piece)
            spans.append((i, i + 1))
        return Encoded(ids, tokens, spans)

    def encode_batch(self, texts: Sequence[str]) -> list[Encoded]:
        return [self.encode(t) for t in texts]

    def ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(t).ids for t in texts]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(chr(i) for i in ids if i != 0)

    def is_byte_token(self, token_id: int) -> bool:
        return token_id != 0 and chr(token_id) in self.bytes_for


@pytest.fixture
def chars() -> CharTokenizer:
    return CharTokenizer()


@pytest.fixture(scope="session")
def builtin() -> Callable[[str], Tokenizer]:
    """Load a built-in tokenizer once per test session (XLM-R takes ~3 s)."""
    from tuneproof.tokens import load_tokenizer

    loaded: dict[str, Tokenizer] = {}

    def get(name: str) -> Tokenizer:
        if name not in loaded:
            loaded[name] = load_tokenizer(name)
        return loaded[name]

    return get
