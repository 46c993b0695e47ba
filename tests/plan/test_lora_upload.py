"""An uploaded config.json for the LoRA calculator: one-line errors for what is not one, and the
adapter size PEFT's file would have."""

from __future__ import annotations

import json

import pytest

from tuneproof.errors import UserError
from tuneproof.plan import lora as calc


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON (line 1 column 2"),
        ("[1, 2]", "expected a JSON object"),
        ('{"hidden_size": 8}', "no 'model_type' key"),
        ('{"model_type": "bertt"}', "did you mean 'bert'"),
        (json.dumps({"model_type": "bert", "num_hidden_layers": 10**6}), "at most 1000 layers"),
        (b"\xff\xfe{", "not UTF-8"),
        ("x" * (calc.MAX_CONFIG_BYTES + 1), "a config.json is a few kB"),
    ],
)
def test_malformed_uploads(text: str | bytes, message: str) -> None:
    with pytest.raises(UserError, match="config.json: .*" + message.replace("(", r"\(")):
        calc.source_from_json(text)


def test_uploaded_sizes_that_cannot_build_are_user_errors(tiny_bert) -> None:  # type: ignore[no-untyped-def]
    raw = {**tiny_bert, "hidden_size": 30, "num_attention_heads": 4}  # 30 is not divisible by 4
    source = calc.source_from_json(json.dumps(raw))
    with pytest.raises(UserError, match=r"config\.json"):
        calc.analyze_uploaded(source, seq=16)


def test_adapter_bytes_counts_fp32_adapters_and_16_bit_heads(config_file, tiny_bert) -> None:  # type: ignore[no-untyped-def]
    est = calc.calculate(
        str(config_file(tiny_bert)), calc.LoraSpec(r=4), task="sequence-classification", seq=16
    )
    head = est.trainable_params - est.adapter_params
    assert head > 0 and est.adapter_bytes == 4 * est.adapter_params + 2 * head
