"""Fixtures for the plan tests: tiny model configs written as config.json files."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

TINY_BERT = {
    "architectures": ["BertForMaskedLM"],
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 37,
    "vocab_size": 100,
    "max_position_embeddings": 64,
}

TINY_LLAMA = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 48,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "intermediate_size": 80,
    "vocab_size": 120,
    "max_position_embeddings": 64,
    "tie_word_embeddings": True,
}


@pytest.fixture
def tiny_bert() -> dict:
    return copy.deepcopy(TINY_BERT)


@pytest.fixture
def tiny_llama() -> dict:
    return copy.deepcopy(TINY_LLAMA)


@pytest.fixture
def config_file(tmp_path: Path) -> Callable[..., Path]:
    """``config_file(dict_or_text, name="config.json") -> Path`` in a temp folder."""

    def write(content: dict | str, name: str = "config.json") -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else json.dumps(content)
        path.write_text(text, encoding="utf-8")
        return path

    return write
