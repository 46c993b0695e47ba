"""The adapters over HF tokenizers, tiktoken and SentencePiece, on tiny tokenizers built here."""

from __future__ import annotations

import io

import pytest

from tuneproof.tokens.base import (
    HFTokenizer,
    SentencePieceTokenizer,
    TiktokenTokenizer,
    byte_to_char_spans,
    is_partial_utf8,
    render_bytes,
)
from tuneproof.tokens.builtins import load_tokenizer

LINES = [
    "the tram stop is closed today",
    "die straßenbahnhaltestelle ist heute geschlossen",
    "the café near the station opens at eight",
    "café, crème brûlée and naïve art",
] * 20


def test_byte_offsets_map_to_whole_characters():
    text = "aé東"  # bytes: a | c3 a9 | e6 9d b1
    assert byte_to_char_spans(text, [(0, 1), (1, 3), (3, 5), (5, 6)]) == [
        (0, 1),
        (1, 2),
        (2, 3),
        (2, 3),
    ]
    assert byte_to_char_spans("abc", [(1, 3)]) == [(1, 3)]
    assert byte_to_char_spans(text, [(3, 3)]) == [(2, 2)]


def test_partial_utf8_and_rendering():
    assert is_partial_utf8(b"\xe6\x9d") and not is_partial_utf8("東".encode())
    assert render_bytes(b" Stra") == " Stra"
    assert render_bytes(b"\xe6\x9d") == "\\xe6\\x9d"


@pytest.fixture
def wordpiece_json(tmp_path):
    """A BERT-style tokenizer.json with padding switched on, as the packaged MiniLM ships it."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    vocab = {
        t: i
        for i, t in enumerate(
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "die", "st", "##raße", "ist", "zu", "."]
        )
    }
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tok.enable_padding(length=16)
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    return path


def test_hf_wordpiece_without_padding_or_special_tokens(wordpiece_json):
    tok = load_tokenizer(str(wordpiece_json))
    assert isinstance(tok, HFTokenizer)
    assert (tok.kind, tok.unk_id, tok.n_special, tok.lossless) == ("WordPiece", 1, 2, False)
    enc = tok.encode("Die Straße ist zu!")
    assert enc.tokens == ["die", "st", "##raße", "ist", "zu", "[UNK]"]
    assert enc.spans == [(0, 3), (4, 6), (6, 10), (11, 14), (15, 17), (17, 18)]
    assert tok.decode(enc.ids) == "die straße ist zu"  # UNK is a special token: skipped
    assert [len(e) for e in tok.encode_batch(["ist", "ist zu"])] == [1, 2]
    assert tok.ids_batch(["ist zu"]) == [[7, 8]]
    assert not tok.is_byte_token(5)


def test_hf_byte_level_bpe_is_lossless_and_marks_split_characters(tmp_path):
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(LINES, vocab_size=300, min_frequency=2, show_progress=False)
    path = tmp_path / "bpe.json"
    bpe.save(str(path))
    tok = load_tokenizer(str(path))
    assert tok.kind == "byte-level BPE" and tok.lossless and tok.unk_id is None
    text = "the 東京 café"
    enc = tok.encode(text)
    assert tok.decode(enc.ids) == text
    # 東 and 京 are unseen: each becomes 3 single-byte tokens, readable as \x escapes
    byte_tokens = [t for i, t in zip(enc.ids, enc.tokens, strict=True) if tok.is_byte_token(i)]
    assert len(byte_tokens) == 6 and all(t.startswith("\\x") for t in byte_tokens)
    assert enc.spans.count((4, 5)) == 3


def test_tiktoken_adapter_spans_and_byte_tokens():
    import tiktoken

    ranks = {bytes([b]): b for b in range(256)} | {b"ab": 256}
    enc = tiktoken.Encoding(
        name="tiny", pat_str=r"\S+|\s+", mergeable_ranks=ranks, special_tokens={}
    )
    tok = TiktokenTokenizer("tiny", enc)
    out = tok.encode("ab é")
    assert out.ids == [256, 32, 0xC3, 0xA9]
    assert out.tokens == ["ab", " ", "\\xc3", "\\xa9"]
    assert out.spans == [(0, 2), (2, 3), (3, 4), (3, 4)]
    assert [tok.is_byte_token(i) for i in out.ids] == [False, False, True, True]
    assert tok.decode(out.ids) == "ab é"
    assert tok.ids_batch(["ab", "é"]) == [[256], [0xC3, 0xA9]]


def _train_sentencepiece(**kwargs) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(LINES), model_writer=model, minloglevel=2, **kwargs
    )
    return model.getvalue()


def test_sentencepiece_unigram_has_unk_and_normalises(tmp_path):
    path = tmp_path / "tiny.model"
    path.write_bytes(
        _train_sentencepiece(vocab_size=60, model_type="unigram", hard_vocab_limit=False)
    )
    tok = load_tokenizer(str(path))
    assert isinstance(tok, SentencePieceTokenizer)
    assert tok.kind == "SentencePiece Unigram" and not tok.lossless
    assert tok.unk_id == 0 and tok.n_special == 1
    enc = tok.encode("the 東")
    assert enc.ids[-1] == tok.unk_id and enc.spans[-1] == (4, 5)


def test_sentencepiece_byte_fallback_is_lossless_without_normalisation():
    common = {
        "vocab_size": 300,
        "model_type": "bpe",
        "byte_fallback": True,
        "hard_vocab_limit": False,
    }
    nfkc = SentencePieceTokenizer.from_bytes("sp", _train_sentencepiece(**common))
    assert not nfkc.lossless  # the default NFKC rule and whitespace folding change text
    model = _train_sentencepiece(
        **common, normalization_rule_name="identity", remove_extra_whitespaces=False
    )
    tok = SentencePieceTokenizer.from_bytes("sp", model)
    assert tok.lossless and tok.kind == "SentencePiece BPE (byte fallback)"
    enc = tok.encode("the 東")
    assert tok.decode(enc.ids) == "the 東"
    assert sum(tok.is_byte_token(i) for i in enc.ids) == 3
    assert tok.unk_id not in enc.ids


class SlowHF:
    """The few methods of a transformers tokenizer without a Rust backend (a word-level one)."""

    vocab = ("[UNK]", "[CLS]", "[SEP]", "the", "tram", "stop")
    unk_token_id = 0

    def encode(self, text, add_special_tokens=False):
        return [self.vocab.index(w) if w in self.vocab else 0 for w in text.lower().split()]

    def convert_ids_to_tokens(self, ids):
        return self.vocab[ids] if isinstance(ids, int) else [self.vocab[i] for i in ids]

    def decode(self, ids, skip_special_tokens=False):
        return " ".join(self.vocab[i] for i in ids if not (skip_special_tokens and i < 3))

    def num_special_tokens_to_add(self):
        return 2

    def __call__(self, texts, add_special_tokens=False):
        return {"input_ids": [self.encode(t) for t in texts]}


def test_python_tokenizers_get_approximate_spans():
    from tuneproof.tokens.base import TransformersTokenizer

    tok = TransformersTokenizer("slow", SlowHF())
    enc = tok.encode("the tram ??? stop")
    assert enc.ids == [3, 4, 0, 5] and enc.tokens == ["the", "tram", "[UNK]", "stop"]
    # UNK cannot be located in the text: an empty span where the search stood
    assert enc.spans == [(0, 3), (4, 8), (8, 8), (13, 17)]
    assert (tok.unk_id, tok.n_special, tok.lossless, tok.is_fast) == (0, 2, False, False)
    assert tok.decode(enc.ids) == "the tram stop"
    assert tok.ids_batch(["stop the"]) == [[5, 3]]
