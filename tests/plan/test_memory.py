"""Memory arithmetic (pure) and the saved-tensor trace on meta vs real tensors."""

from __future__ import annotations

import math

import pytest
import torch

from tuneproof.errors import UserError
from tuneproof.plan import memory as mem
from tuneproof.plan.memory import (
    ActivationProfile,
    ParamInventory,
    TrainableInventory,
    format_bytes,
    parse_size,
)

INV = ParamInventory(total=10_000, quantizable=6_400, quantizable_rows=80)


def profile(batch: int = 4) -> ActivationProfile:
    return ActivationProfile(
        batch=batch,
        seq=16,
        dtype="float32",
        outside_bytes=100,
        layer_bytes=(1000, 1200, 800),
        layer_input_bytes=(64, 64, 64),
        attention="fused",
    )


def test_base_weight_bytes_per_bit_width():
    assert mem.base_weight_bytes(INV, 32) == 40_000
    assert mem.base_weight_bytes(INV, 16) == 20_000
    # int8: one byte per quantized weight, a fp32 scale per row, the rest in 16 bit.
    assert mem.base_weight_bytes(INV, 8) == 6_400 + 80 * 4 + 3_600 * 2
    # NF4 with double quantization: 0.5 B + 1 B absmax per 64 + 4 B per 64*256 weights.
    nf4 = math.ceil(6_400 * (0.5 + 1 / 64 + 4 / (64 * 256)))
    assert mem.base_weight_bytes(INV, 4) == nf4 + 3_600 * 2
    with pytest.raises(UserError, match="--bits"):
        mem.base_weight_bytes(INV, 3)


def test_full_fine_tuning_bytes_per_parameter():
    act = profile()
    fp32 = mem.full_memory(INV, act, "fp32")
    mixed = mem.full_memory(INV, act, "bf16")
    assert (fp32.weights_bytes, fp32.gradients_bytes, fp32.optimizer_bytes) == (
        40_000,
        40_000,
        80_000,
    )
    assert mixed.weights_bytes == 60_000  # fp32 master + 16-bit copy
    assert mixed.state_bytes == 18 * INV.total  # the usual "18 bytes per parameter"
    assert fp32.total_bytes == fp32.state_bytes + act.total_bytes


def test_lora_memory_trains_only_adapters():
    t = TrainableInventory(adapter=500, other=20)
    m = mem.lora_memory(INV, t, profile(), 16)
    assert m.weights_bytes == 20_000 + 500 * 4 + 20 * 2
    assert m.gradients_bytes == 500 * 4 + 20 * 2
    assert m.optimizer_bytes == 500 * 8 + 20 * 4
    q = mem.lora_memory(INV, t, profile(), 4)
    assert q.strategy == "qlora" and q.weights_bytes < m.weights_bytes
    assert q.gradients_bytes == m.gradients_bytes


def test_freeze_memory_counts_gradients_for_the_unfrozen_part_only():
    m = mem.freeze_memory(INV, 4_000, profile(), "fp32")
    assert (m.weights_bytes, m.gradients_bytes, m.optimizer_bytes) == (40_000, 16_000, 32_000)


def test_checkpointing_keeps_layer_inputs_and_one_layer():
    p = profile()
    assert p.total_bytes == 100 + 3000
    assert p.checkpointed_bytes == 100 + 3 * 64 + 1200
    doubled = p.scaled(8)
    assert doubled.total_bytes == 2 * p.total_bytes
    assert doubled.checkpointed_bytes == 2 * p.checkpointed_bytes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24GiB", 24 * 2**30),
        ("24 GiB", 24 * 2**30),
        ("80GB", 80 * 10**9),
        ("16G", 16 * 2**30),
        ("12", 12 * 2**30),
        ("512MiB", 512 * 2**20),
        ("1.5TiB", int(1.5 * 2**40)),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "24 GiBs", "-3GB", "0"])
def test_parse_size_rejects_garbage(text):
    with pytest.raises(UserError, match="--gpu-memory"):
        parse_size(text)


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.50 KiB"
    assert format_bytes(3 * 2**30, 1) == "3.0 GiB"


# --- the trace ------------------------------------------------------------------------------


def _tiny_bert(device: str, **extra):
    from transformers import BertConfig, BertForSequenceClassification

    cfg = BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        vocab_size=100,
        max_position_embeddings=64,
        num_labels=2,
        **extra,
    )
    with torch.device(device):
        return BertForSequenceClassification._from_config(cfg, attn_implementation="eager")


def _inputs(device: str, batch: int, seq: int) -> dict:
    ids = torch.zeros(batch, seq, dtype=torch.long, device=device)
    return {"input_ids": ids, "labels": torch.zeros(batch, dtype=torch.long, device=device)}


def test_meta_trace_equals_the_real_saved_tensors():
    """The meta-device trace sees exactly what a real CPU forward saves for backward."""
    torch.manual_seed(0)
    real = _tiny_bert("cpu")
    meta = _tiny_bert("meta")
    got_real = mem.trace_activations(
        real, _inputs("cpu", 3, 10), batch=3, seq=10, attention="eager"
    )
    got_meta = mem.trace_activations(
        meta, _inputs("meta", 3, 10), batch=3, seq=10, attention="eager"
    )
    assert got_meta.layer_bytes == got_real.layer_bytes
    assert got_meta.outside_bytes == got_real.outside_bytes
    assert got_meta.total_bytes > 0


def test_trace_scales_with_batch_and_skips_frozen_models():
    meta = _tiny_bert("meta")
    small = mem.trace_activations(meta, _inputs("meta", 2, 16), batch=2, seq=16, attention="eager")
    big = mem.trace_activations(meta, _inputs("meta", 4, 16), batch=4, seq=16, attention="eager")
    assert big.layer_bytes == tuple(2 * b for b in small.layer_bytes)
    for p in meta.parameters():
        p.requires_grad = False
    frozen = mem.trace_activations(meta, _inputs("meta", 2, 16), batch=2, seq=16, attention="eager")
    assert frozen.total_bytes == 0  # nothing needs a gradient, nothing is saved


def test_fused_attention_saves_no_score_matrix():
    """Eager attention keeps batch x heads x seq x seq scores; the fused estimate does not."""
    from transformers import BertConfig

    from tuneproof.plan.lora import ModelRecipe, ModelSource, build_meta_model, trace_inputs

    cfg = BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        vocab_size=100,
        max_position_embeddings=512,
        attention_probs_dropout_prob=0.0,
    )
    source = ModelSource("tiny", "test", "-", cfg)
    recipe = ModelRecipe("BertModel", None, 2)
    fused, used = build_meta_model(source, recipe, estimate_attention=True)
    eager, _ = build_meta_model(source, recipe, estimate_attention=False)
    assert used == "fused"
    seqs = (128, 256)
    per_layer = {}
    for name, model in (("fused", fused), ("eager", eager)):
        per_layer[name] = [
            mem.trace_activations(
                model, trace_inputs(model, recipe, 1, s), batch=1, seq=s, attention=name
            ).layer_bytes[0]
            for s in seqs
        ]
    # Fused: linear in the sequence length. Eager: the seq^2 scores make it grow faster.
    assert per_layer["fused"][1] == 2 * per_layer["fused"][0]
    assert per_layer["eager"][1] > 2 * per_layer["eager"][0]
