"""One small interface over three tokenizer families: HF ``tokenizers``, tiktoken, SentencePiece.

The analysis needs the same few things from every tokenizer (ids, readable pieces, the character
span each token covers, decode, which id is UNK, which tokens are raw bytes), so each family gets a
thin adapter rather than the analysis branching on library types. Encodings never contain the
special tokens a model adds around a sequence ([CLS], <s>, ...): ``n_special`` says how many there
are, for length budgets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import sentencepiece
    import tiktoken
    import tokenizers

Span = tuple[int, int]


@dataclass(frozen=True)
class Encoded:
    """A text's tokens without added special tokens; ``spans`` are character offsets into it."""

    ids: list[int]
    tokens: list[str]
    spans: list[Span]

    def __len__(self) -> int:
        return len(self.ids)


@runtime_checkable
class Tokenizer(Protocol):
    """What the analysis needs from a tokenizer."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str:
        """ "WordPiece", "Unigram", "byte-level BPE", "tiktoken BPE", "SentencePiece BPE", ..."""
        ...

    @property
    def unk_id(self) -> int | None:
        """None when the tokenizer cannot produce UNK (byte-level BPE)."""
        ...

    @property
    def n_special(self) -> int:
        """Special tokens the model adds around one sequence (they count toward max_length)."""
        ...

    @property
    def lossless(self) -> bool:
        """decode(encode(text)) is expected to give back text exactly."""
        ...

    @property
    def is_fast(self) -> bool:
        """Encoding runs in native code (Rust or C++), not in Python."""
        ...

    def encode(self, text: str) -> Encoded: ...

    def encode_batch(self, texts: Sequence[str]) -> list[Encoded]: ...

    def ids_batch(self, texts: Sequence[str]) -> list[list[int]]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def is_byte_token(self, token_id: int) -> bool: ...


def render_bytes(raw: bytes) -> str:
    """A token's bytes as text; bytes that are part of a split character show as ``\\xNN``."""
    return raw.decode("utf-8", errors="backslashreplace")


def is_partial_utf8(raw: bytes) -> bool:
    """True when ``raw`` is not a whole number of UTF-8 characters (a character split in pieces)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def byte_to_char_spans(text: str, byte_spans: Sequence[Span]) -> list[Span]:
    """Map UTF-8 byte offsets to character offsets; a partial character maps to the whole one."""
    encoded = text.encode("utf-8")
    if len(encoded) == len(text):  # ASCII: offsets are the same
        return [(s, e) for s, e in byte_spans]
    char_at = [0] * (len(encoded) + 1)
    pos = 0
    for i, ch in enumerate(text):
        n = len(ch.encode("utf-8"))
        char_at[pos : pos + n] = [i] * n
        pos += n
    char_at[pos] = len(text)
    out = []
    for s, e in byte_spans:
        s = min(max(s, 0), len(encoded))
        e = min(max(e, s), len(encoded))
        out.append((char_at[s], char_at[e - 1] + 1 if e > s else char_at[s]))
    return out


@lru_cache(maxsize=1)
def _byte_level_alphabet() -> dict[str, int]:
    """GPT-2's byte-to-printable-character map, inverted (piece characters back to bytes)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    chars = list(printable)
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")


@dataclass
class HFTokenizer:
    """A Hugging Face ``tokenizers.Tokenizer`` (what every fast transformers tokenizer wraps)."""

    name: str
    backend: tokenizers.Tokenizer
    unk_id: int | None
    n_special: int
    kind: str = ""
    byte_level: bool = False
    byte_fallback: bool = False
    is_fast: bool = True
    _byte_cache: dict[int, bool] = field(default_factory=dict, repr=False)
    _piece_cache: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_backend(
        cls, name: str, backend: tokenizers.Tokenizer, unk_id: int | None = None
    ) -> HFTokenizer:
        """Wrap a backend; padding and truncation are switched off (they would fake counts)."""
        backend.no_padding()
        backend.no_truncation()
        model = backend.model
        model_type = type(model).__name__
        byte_level = "ByteLevel" in f"{backend.pre_tokenizer!r} {backend.decoder!r}"
        byte_fallback = bool(getattr(model, "byte_fallback", False))
        if unk_id is None and getattr(model, "unk_token", None):
            unk_id = backend.token_to_id(model.unk_token)
        if byte_level and model_type == "BPE":
            unk_id = None  # every byte is in the vocabulary: UNK cannot occur
        post = backend.post_processor
        n_special = post.num_special_tokens_to_add(False) if post is not None else 0
        kind = "byte-level BPE" if byte_level else model_type
        if byte_fallback:
            kind += " (byte fallback)"
        return cls(name, backend, unk_id, n_special, kind, byte_level, byte_fallback)

    @classmethod
    def from_file(cls, name: str, path: str) -> HFTokenizer:
        """Load a ``tokenizer.json``; the UNK id of Unigram models is only in the file itself."""
        import json

        from tokenizers import Tokenizer as Backend

        with open(path, encoding="utf-8") as fh:
            raw = fh.read()
        model = json.loads(raw).get("model", {})
        unk = model.get("unk_id") if model.get("type") == "Unigram" else None
        return cls.from_backend(name, Backend.from_str(raw), unk_id=unk)

    @property
    def lossless(self) -> bool:
        return self.byte_level or self.byte_fallback

    def _piece(self, token: str) -> str:
        """A byte-level piece (``ĠStra``) as the text it stands for (`` Stra``)."""
        piece = self._piece_cache.get(token)
        if piece is None:
            alphabet = _byte_level_alphabet()
            if all(c in alphabet for c in token):
                piece = render_bytes(bytes(alphabet[c] for c in token))
            else:
                piece = token  # an added token (e.g. <|endoftext|>) is stored as plain text
            self._piece_cache[token] = piece
        return piece

    def _wrap(self, enc: Any) -> Encoded:
        tokens = [self._piece(t) for t in enc.tokens] if self.byte_level else enc.tokens
        return Encoded(enc.ids, tokens, enc.offsets)

    def encode(self, text: str) -> Encoded:
        return self._wrap(self.backend.encode(text, add_special_tokens=False))

    def encode_batch(self, texts: Sequence[str]) -> list[Encoded]:
        encs = self.backend.encode_batch(list(texts), add_special_tokens=False)
        return [self._wrap(e) for e in encs]

    def ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        encs = self.backend.encode_batch_fast(list(texts), add_special_tokens=False)
        return [e.ids for e in encs]

    def decode(self, ids: Sequence[int]) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=True)

    def is_byte_token(self, token_id: int) -> bool:
        """A byte-fallback piece (``<0xE3>``) or a byte-level piece that splits a character."""
        cached = self._byte_cache.get(token_id)
        if cached is None:
            token = self.backend.id_to_token(token_id) or ""
            if self.byte_fallback:
                cached = _BYTE_PIECE.fullmatch(token) is not None
            elif self.byte_level:
                alphabet = _byte_level_alphabet()
                cached = all(c in alphabet for c in token) and is_partial_utf8(
                    bytes(alphabet[c] for c in token)
                )
            else:
                cached = False
            self._byte_cache[token_id] = cached
        return cached


@dataclass
class TiktokenTokenizer:
    """A tiktoken ``Encoding``: byte-level BPE, lossless, no UNK, no added special tokens."""

    name: str
    encoding: tiktoken.Encoding
    kind: str = "tiktoken BPE"
    unk_id: int | None = None
    n_special: int = 0
    lossless: bool = True
    is_fast: bool = True
    _byte_cache: dict[int, bool] = field(default_factory=dict, repr=False)

    def _wrap(self, text: str, ids: list[int]) -> Encoded:
        pieces = [self.encoding.decode_single_token_bytes(i) for i in ids]
        byte_spans, pos = [], 0
        for p in pieces:
            byte_spans.append((pos, pos + len(p)))
            pos += len(p)
        return Encoded(ids, [render_bytes(p) for p in pieces], byte_to_char_spans(text, byte_spans))

    def encode(self, text: str) -> Encoded:
        return self._wrap(text, self.encoding.encode_ordinary(text))

    def encode_batch(self, texts: Sequence[str]) -> list[Encoded]:
        return [self._wrap(t, ids) for t, ids in zip(texts, self.ids_batch(texts), strict=True)]

    def ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        # A plain loop: tiktoken's encode_ordinary_batch starts a thread pool per call, which
        # costs more than it saves on sentence-length texts (1.3 vs 4.5 M chars/s measured).
        encode = self.encoding.encode_ordinary
        return [encode(t) for t in texts]

    def decode(self, ids: Sequence[int]) -> str:
        return self.encoding.decode(list(ids))

    def is_byte_token(self, token_id: int) -> bool:
        cached = self._byte_cache.get(token_id)
        if cached is None:
            cached = is_partial_utf8(self.encoding.decode_single_token_bytes(token_id))
            self._byte_cache[token_id] = cached
        return cached


@dataclass
class SentencePieceTokenizer:
    """A SentencePiece model (``.model`` file); BPE or Unigram, with or without byte fallback."""

    name: str
    processor: sentencepiece.SentencePieceProcessor
    kind: str
    unk_id: int | None
    n_special: int
    lossless: bool
    num_threads: int = 2
    is_fast: bool = True

    @classmethod
    def from_bytes(cls, name: str, model: bytes) -> SentencePieceTokenizer:
        """Load a serialised model; BOS counts as the one added special token when defined."""
        import sentencepiece as spm
        from sentencepiece import sentencepiece_model_pb2

        proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]
        proto.ParseFromString(model)
        processor = spm.SentencePieceProcessor(model_proto=model)
        fallback = bool(proto.trainer_spec.byte_fallback)
        identity = proto.normalizer_spec.name == "identity"
        lossless = fallback and identity and not proto.normalizer_spec.remove_extra_whitespaces
        model_type = {1: "Unigram", 2: "BPE", 3: "word", 4: "char"}.get(
            proto.trainer_spec.model_type, "model"
        )
        kind = f"SentencePiece {model_type}" + (" (byte fallback)" if fallback else "")
        unk = processor.unk_id()
        return cls(
            name,
            processor,
            kind=kind,
            unk_id=unk if unk >= 0 else None,
            n_special=1 if processor.bos_id() >= 0 else 0,
            lossless=lossless,
        )

    def _wrap(self, text: str, proto: Any) -> Encoded:
        ids = [p.id for p in proto.pieces]
        tokens = [p.piece for p in proto.pieces]
        spans = byte_to_char_spans(text, [(p.begin, p.end) for p in proto.pieces])
        return Encoded(ids, tokens, spans)

    def encode(self, text: str) -> Encoded:
        return self._wrap(text, self.processor.encode(text, out_type="proto"))

    def encode_batch(self, texts: Sequence[str]) -> list[Encoded]:
        return [self.encode(t) for t in texts]

    def ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self.processor.encode(list(texts), num_threads=self.num_threads)

    def decode(self, ids: Sequence[int]) -> str:
        return self.processor.decode(list(ids))

    def is_byte_token(self, token_id: int) -> bool:
        return bool(self.processor.is_byte(token_id))


@dataclass
class TransformersTokenizer:
    """A transformers tokenizer without a Rust backend (rare since transformers 5).

    Spans are found by locating each token's text in the input, so they are approximate where the
    tokenizer normalises; everything else is exact.
    """

    name: str
    hf: Any
    kind: str = "python tokenizer"
    lossless: bool = False
    is_fast: bool = False

    @property
    def unk_id(self) -> int | None:
        return self.hf.unk_token_id

    @property
    def n_special(self) -> int:
        return int(self.hf.num_special_tokens_to_add())

    def encode(self, text: str) -> Encoded:
        ids = list(self.hf.encode(text, add_special_tokens=False))
        tokens = [str(t) for t in self.hf.convert_ids_to_tokens(ids)]
        spans, pos = [], 0
        for i in ids:
            piece = self.hf.decode([i]).strip()
            at = text.find(piece, pos) if piece else -1
            spans.append((at, at + len(piece)) if at >= 0 else (pos, pos))
            pos = at + len(piece) if at >= 0 else pos
        return Encoded(ids, tokens, spans)

    def encode_batch(self, texts: Sequence[str]) -> list[Encoded]:
        return [self.encode(t) for t in texts]

    def ids_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [list(x) for x in self.hf(list(texts), add_special_tokens=False)["input_ids"]]

    def decode(self, ids: Sequence[int]) -> str:
        return str(self.hf.decode(list(ids), skip_special_tokens=True))

    def is_byte_token(self, token_id: int) -> bool:
        return _BYTE_PIECE.fullmatch(str(self.hf.convert_ids_to_tokens(token_id))) is not None
