"""`RunConfig`: one YAML file describes a whole run, validated before anything runs.

Unknown keys are errors (a typo must not silently fall back to a default), and every error names
the key, the bad value and the fix. Names that transformers 5 removed from ``TrainingArguments``
(``evaluation_strategy``, ``warmup_ratio``, ...) get a message that says what replaced them.

The task name is a plain string here: the task registry (``tuneproof.tasks``) sits above this
module, so ``tuneproof.tasks.load_config`` / ``parse_config`` check it against the registered
adapters (with the file named in the error); every command loads configs through those.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tuneproof.errors import UserError, did_you_mean


@dataclass(frozen=True)
class OldArgument:
    """A TrainingArguments name tutorials use: what transformers 5 made of it and what a tuneproof
    config writes instead. The one table behind both the config's error messages and the
    TrainingArguments linter (``tuneproof.plan.args``)."""

    transformers: (
        str | None
    )  # its TrainingArguments (or Trainer) name in transformers 5; None: gone
    removed: str | None  # how transformers 5 changed it; None: still a field
    tuneproof: str | None  # the RunConfig training key that says it; None: none
    use: str | None  # in a RunConfig: what to write instead ("use ..."); None: not a tuneproof key


OLD_ARGUMENTS: dict[str, OldArgument] = {
    "evaluation_strategy": OldArgument(
        "eval_strategy",
        "renamed to eval_strategy in transformers 5",
        "eval_strategy",
        "eval_strategy (renamed in transformers 5)",
    ),
    "warmup_ratio": OldArgument(
        "warmup_steps",
        "removed in transformers 5: warmup_steps takes a float < 1 as a ratio of all steps",
        "warmup",
        "warmup (a float < 1 is a ratio of the total steps)",
    ),
    "warmup_steps": OldArgument(
        "warmup_steps",
        None,
        "warmup",
        "warmup (an int is a number of steps, a float < 1 a ratio)",
    ),
    "num_train_epochs": OldArgument("num_train_epochs", None, "epochs", "epochs"),
    "per_device_train_batch_size": OldArgument(
        "per_device_train_batch_size", None, "batch_size", "batch_size"
    ),
    "per_device_eval_batch_size": OldArgument(
        "per_device_eval_batch_size", None, "eval_batch_size", "eval_batch_size"
    ),
    "lr_scheduler_type": OldArgument("lr_scheduler_type", None, "lr_scheduler", "lr_scheduler"),
    "group_by_length": OldArgument(
        "train_sampling_strategy",
        'removed in transformers 5: use train_sampling_strategy="group_by_length"',
        None,  # not a boolean in tuneproof: training.sampling says it
        "sampling: group_by_length (opt-in; random is the default)",
    ),
    "overwrite_output_dir": OldArgument(
        None,
        "removed in transformers 5: delete it",
        None,
        "the --overwrite flag of `tuneproof train`",
    ),
    "logging_dir": OldArgument(
        None,
        "removed in transformers 5: delete it (set the tracker's own directory, e.g. "
        "TENSORBOARD_LOGGING_DIR, if you need one)",
        None,
        "nothing: logs are written to the run directory",
    ),
    "no_cuda": OldArgument(
        "use_cpu",
        "renamed to use_cpu in transformers 5",
        None,
        "nothing: tuneproof uses the GPU when there is one (set CUDA_VISIBLE_DEVICES='')",
    ),
    "fp16": OldArgument("fp16", None, "precision", "precision: fp16"),
    "bf16": OldArgument("bf16", None, "precision", "precision: bf16"),
    "tokenizer": OldArgument(
        "processing_class",
        "Trainer(tokenizer=...) is Trainer(processing_class=...) in transformers 5",
        None,
        None,
    ),
    "per_gpu_train_batch_size": OldArgument("per_device_train_batch_size", "renamed", None, None),
    "per_gpu_eval_batch_size": OldArgument("per_device_eval_batch_size", "renamed", None, None),
}

#: Old name in a RunConfig's ``training:`` -> what to write instead (the config's error message).
RENAMED_KEYS: dict[str, str] = {k: o.use for k, o in OLD_ARGUMENTS.items() if o.use is not None}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SplitConfig(_Section):
    """How to cut validation/test from `train` when they are not given as files."""

    validation: float = Field(0.1, gt=0, lt=0.5, description="share of rows for validation")
    test: float = Field(0.1, ge=0, lt=0.5, description="share of rows for test")
    stratify: bool = Field(True, description="keep label proportions in every split")
    seed: int = 42


class DataConfig(_Section):
    builtin: str | None = Field(
        None, description="an offline dataset shipped by tuneproof (see `tuneproof data list`)"
    )
    train: str | None = Field(None, description="train file (csv, tsv, jsonl, json, parquet)")
    validation: str | None = None
    test: str | None = None
    hf_dataset: str | None = Field(
        None, description="a Hugging Face datasets name instead of files"
    )
    hf_config: str | None = None
    hf_splits: dict[str, str] = Field(
        default_factory=lambda: {"train": "train", "validation": "validation", "test": "test"},
        description="tuneproof split -> HF split name",
    )
    split: SplitConfig | None = Field(
        None, description="cut validation/test from train when those files are not given"
    )
    text_column: str = "text"
    text_pair_column: str | None = Field(None, description="second text (similarity, pairs)")
    label_column: str = "label"
    id_column: str | None = Field(None, description="stable row ids; default: row index")
    label_names: list[str] | None = Field(
        None, description="label order; default: sorted labels found in train"
    )
    max_length: int = Field(128, gt=0, le=8192, description="tokens; longer inputs are truncated")
    lang_column: str | None = Field(None, description="column with a language code per row")
    # --- task-specific columns and lengths (each used by one task only; defaults fit the
    # usual file layouts, so most configs never set them) ---------------------------------------
    tokens_column: str = Field("tokens", description="token-classification: list of words per row")
    tags_column: str = Field(
        "tags", description="token-classification: list of tags per row, one per word"
    )
    question_column: str = Field("question", description="extractive-qa: the question")
    context_column: str = Field("context", description="extractive-qa: the passage to search")
    answers_column: str = Field(
        "answers",
        description="extractive-qa: SQuAD answers, {text: [...], answer_start: [...]} "
        "(character offsets into the context)",
    )
    doc_stride: int | None = Field(
        None,
        gt=0,
        description="extractive-qa: tokens shared by consecutive windows of a long context; "
        "default: a quarter of max_length",
    )
    max_answer_length: int = Field(
        30, gt=0, description="extractive-qa: longest answer span considered, in tokens"
    )
    input_column: str = Field("input", description="summarization/SFT: the prompt text")
    output_column: str = Field("output", description="summarization/SFT: the response to learn")
    messages_column: str = Field(
        "messages",
        description="summarization/SFT: chat rows [{role, content}, ...] ending with the "
        "assistant's reply (used when the row has no input column)",
    )
    prompt_template: str | None = Field(
        None,
        description="summarization/SFT: user message built from the input, with {input} where "
        "it goes (e.g. 'Summarise in one sentence: {input}'); default: the input as is",
    )
    system_prompt: str | None = Field(
        None, description="summarization/SFT: system message; default: the chat template's own"
    )
    max_new_tokens: int = Field(
        64, gt=0, le=4096, description="summarization/SFT: tokens generated per example in eval"
    )
    mlm_probability: float = Field(
        0.15,
        gt=0,
        lt=1,
        description="language-modeling: (encoders) share of tokens masked for masked-LM training "
        "and perplexity",
    )
    packing: bool = Field(
        True,
        description="language-modeling: pack the training texts into full blocks of max_length "
        "tokens (evaluation always scores each text on its own)",
    )
    prompt_column: str = Field("prompt", description="preference: the prompt")
    chosen_column: str = Field("chosen", description="preference: the preferred answer")
    rejected_column: str = Field("rejected", description="preference: the dispreferred answer")

    @field_validator("prompt_template")
    @classmethod
    def _has_input_slot(cls, v: str | None) -> str | None:
        if v is not None and "{input}" not in v:
            raise ValueError("must contain {input} where the row's input goes")
        return v

    @model_validator(mode="after")
    def _has_source(self) -> DataConfig:
        if not (self.train or self.hf_dataset or self.builtin):
            raise ValueError(
                "give data.train (a file), data.hf_dataset (a datasets name) "
                "or data.builtin (an offline dataset)"
            )
        return self


class ModelConfig(_Section):
    name: str = Field("minilm-l6", description="built-in name, hub name or local folder")
    revision: str | None = None
    trust_remote_code: bool = Field(
        False, description="run code shipped with the model; off unless you have read it"
    )
    reference: str | None = Field(
        None,
        description="preference: the DPO reference model (built-in, hub name or folder); "
        "default: the base model (the adapter disabled under LoRA, a frozen copy otherwise)",
    )


class LoraSettings(_Section):
    r: int = Field(8, gt=0, le=1024)
    alpha: int = Field(16, gt=0)
    dropout: float = Field(0.1, ge=0, lt=1)
    target_modules: list[str] | Literal["all-linear"] = Field(
        default_factory=lambda: ["query", "value"]
    )
    bias: Literal["none", "all", "lora_only"] = "none"


class StrategyConfig(_Section):
    kind: Literal["full", "freeze", "progressive", "lora", "qlora", "distill", "prune"] = "full"
    freeze_layers: int = Field(0, ge=0, description="freeze: bottom N transformer layers")
    freeze_embeddings: bool = Field(False, description="freeze: also the embeddings")
    unfreeze_every: int | Literal["epoch"] = Field(
        "epoch", description="progressive: steps between unfreezing one more layer group"
    )
    lora: LoraSettings = Field(default_factory=LoraSettings)
    drop_layers: list[int] = Field(
        default_factory=list,
        description="prune: transformer layers removed before fine-tuning (0 = bottom); "
        "DistilBERT's recipe keeps every other layer",
    )
    teacher: str | None = Field(None, description="distill: the teacher's run directory")
    temperature: float = Field(2.0, gt=0, description="distill: temperature of the soft labels")
    alpha: float = Field(
        0.5, ge=0, le=1, description="distill: weight of the soft-label loss (T²·KL) against CE"
    )

    @model_validator(mode="after")
    def _needs(self) -> StrategyConfig:
        if self.kind == "distill" and not self.teacher:
            raise ValueError(
                "strategy.kind distill needs strategy.teacher: the teacher's run directory"
            )
        if self.kind == "prune" and not self.drop_layers:
            raise ValueError("strategy.kind prune needs strategy.drop_layers, e.g. [1, 3, 5]")
        return self

    @field_validator("unfreeze_every")
    @classmethod
    def _positive(cls, v: int | str) -> int | str:
        if isinstance(v, int) and v <= 0:
            raise ValueError("must be a positive number of steps or 'epoch'")
        return v


class TrainingConfig(_Section):
    epochs: float = Field(3.0, gt=0)
    max_steps: int = Field(-1, description="> 0 overrides epochs")
    batch_size: int = Field(32, gt=0)
    eval_batch_size: int = Field(64, gt=0)
    gradient_accumulation_steps: int = Field(1, gt=0)
    learning_rate: float = Field(5e-5, gt=0, lt=1)
    lr_scheduler: Literal[
        "linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup"
    ] = "linear"
    warmup: float = Field(0.1, ge=0, description="< 1: ratio of total steps; >= 1: steps")
    weight_decay: float = Field(0.01, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    eval_strategy: Literal["no", "steps", "epoch"] = "epoch"
    eval_steps: int | None = Field(None, gt=0)
    save_strategy: Literal["no", "steps", "epoch", "best"] = "epoch"
    save_steps: int | None = Field(None, gt=0)
    save_total_limit: int | None = Field(2, gt=0)
    logging_steps: int = Field(10, gt=0)
    early_stopping_patience: int | None = Field(
        2, ge=1, description="evaluations without improvement before stopping; null: never"
    )
    metric_for_best_model: str | None = Field(None, description="default: the task's main metric")
    seed: int = 42
    precision: Literal["fp32", "fp16", "bf16"] = "fp32"
    gradient_checkpointing: bool = False
    beta: float = Field(
        0.1,
        gt=0,
        description="preference: DPO beta (how far the policy may drift from the reference)",
    )
    loss_type: list[str] = Field(
        default_factory=lambda: ["sigmoid"],
        description="preference: trl DPOConfig.loss_type (sigmoid = DPO, ipo, hinge, robust, ...)",
    )
    sampling: Literal["random", "group_by_length"] = Field(
        "random",
        description="random batches, or group_by_length: batches of similar lengths (less "
        "padding, faster; not the default: it cost accuracy in tuneproof's measurements, "
        "docs/training.md)",
    )
    fsdp: str | None = Field(
        None,
        description="TrainingArguments.fsdp as is (e.g. 'full_shard auto_wrap'), for runs "
        "launched with torchrun/accelerate on several GPUs; default: plain DDP",
    )
    fsdp_config: dict[str, Any] | None = Field(
        None, description="TrainingArguments.fsdp_config as is (with training.fsdp)"
    )

    @model_validator(mode="after")
    def _steps_given(self) -> TrainingConfig:
        if self.eval_strategy == "steps" and self.eval_steps is None:
            raise ValueError("eval_strategy 'steps' needs eval_steps")
        if self.save_strategy == "steps" and self.save_steps is None:
            raise ValueError("save_strategy 'steps' needs save_steps")
        return self


Tracker = Literal["mlflow", "wandb", "tensorboard"]


class TrackingConfig(_Section):
    enabled: bool = True
    uri: str | None = Field(
        None, description="MLflow tracking URI; default $MLFLOW_TRACKING_URI or ./mlflow.db"
    )
    experiment: str = "tuneproof"
    report_to: list[Tracker] = Field(
        default_factory=lambda: list[Tracker](["mlflow"]),
        description="trackers: mlflow (tuneproof's own run, the default); wandb and tensorboard "
        "are the Trainer's integrations, passed through (W&B honours WANDB_MODE=offline; "
        "TensorBoard events go to RUN/tensorboard)",
    )

    @field_validator("report_to")
    @classmethod
    def _unique(cls, v: list[Tracker]) -> list[Tracker]:
        return list(dict.fromkeys(v))


class ChecksConfig(_Section):
    enabled: bool = Field(True, description="run `tuneproof check` before training")
    fail_on: Literal["error", "warning", "never"] = Field(
        "never", description="stop before training when findings reach this severity"
    )
    skip: list[str] = Field(default_factory=list, description="check names not to run")


class RunConfig(_Section):
    """Everything a run needs; `config.yaml` in the run directory is this, fully resolved."""

    VERSION: ClassVar[int] = 1

    version: int = Field(1, ge=1, le=1, description="config schema version (1)")
    name: str | None = Field(None, description="run name; default: the config file's stem")
    task: str = Field(
        "sequence-classification",
        description="one of tuneproof.tasks.TASKS (checked by tuneproof.tasks.load_config)",
    )
    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    baselines: list[Literal["majority", "tfidf-lr", "embed-lr", "zero-shot"]] = Field(
        default_factory=list,
        description="cheap baselines scored on the test rows after training "
        "(tuneproof.evaluate.baselines; also `tuneproof baseline RUN`)",
    )

    @model_validator(mode="before")
    @classmethod
    def _lora_for_generation(cls, raw: Any) -> Any:
        """Summarization/SFT fine-tunes a causal LM: LoRA on every linear layer unless the config
        says otherwise (full fine-tuning of a whole LM is rarely what a first run wants)."""
        lora_tasks = ("summarization", "preference")
        if isinstance(raw, dict) and raw.get("task") in lora_tasks and "strategy" not in raw:
            return {**raw, "strategy": {"kind": "lora", "lora": {"target_modules": "all-linear"}}}
        return raw

    @model_validator(mode="after")
    def _baselines_for_classification(self) -> RunConfig:
        """Refuse before training, not after: the baselines only exist for one-label
        classification (they would fail only once the run had finished)."""
        if self.baselines and self.task != "sequence-classification":
            raise ValueError(
                f"baselines are for task sequence-classification (this config's task is "
                f"{self.task}); remove the baselines list"
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


def _section_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The valid keys at ``loc`` (used to suggest the closest one for a typo)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None:
            return []
        ann = field.annotation
        for arg in (ann, *getattr(ann, "__args__", ())):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                current = arg
                break
        else:
            return []
    return list(current.model_fields) if hasattr(current, "model_fields") else []


def format_validation_error(err: ValidationError, source: str) -> str:
    """First error as one line: ``file: key: problem (value ...); fix``."""
    e = err.errors()[0]
    loc = tuple(e["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    if e["type"] == "extra_forbidden":
        last = str(loc[-1])
        if last in RENAMED_KEYS:
            return f"{source}: unknown key '{key}'; use {RENAMED_KEYS[last]}"
        hint = did_you_mean(last, _section_fields(RunConfig, loc))
        return f"{source}: unknown key '{key}'{hint}; see `tuneproof init` for all keys"
    if e["type"] == "missing":
        return f"{source}: missing required key '{key}'"
    msg = e["msg"].removeprefix("Value error, ")
    value = e.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    return f"{source}: {key}: {msg}{shown}"


def parse_config(raw: Any, source: str = "config") -> RunConfig:
    if not isinstance(raw, dict):
        raise UserError(f"{source}: expected a mapping of keys (data:, model:, ...) at top level")
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as err:
        raise UserError(format_validation_error(err, source)) from None


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _override_fields(loc: list[str]) -> list[str] | None:
    """The keys valid after ``loc`` in RunConfig (None: ``loc`` is a leaf or a free mapping)."""
    return _section_fields(RunConfig, (*loc, "")) if loc else list(RunConfig.model_fields)


def apply_overrides(raw: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """``["training.learning_rate=1e-4", ...]`` applied to a raw config mapping (a copy).

    Values follow YAML scalar rules (``1e-4`` a float, ``true`` a bool, ``null`` None,
    ``[a, b]`` a list), so ``--set`` means what the same text means in the file. Each key must
    exist in RunConfig (a typo is a did-you-mean UserError, not a silently ignored setting); the
    values are validated with the whole config afterwards. Also used by ``sweep``.
    """
    import copy

    out = copy.deepcopy(raw)
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. training.learning_rate=1e-4")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = text
        if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
            value = float(value)  # YAML 1.2 reads 1e-4 as a float; PyYAML (1.1) as a string
        parts = key.split(".")
        node = out
        for depth, part in enumerate(parts):
            valid = _override_fields(parts[:depth])
            if valid is not None and valid and part not in valid:
                where = ".".join(parts[: depth + 1])
                if part in RENAMED_KEYS:
                    raise UserError(
                        f"--set {item}: unknown key '{where}'; use {RENAMED_KEYS[part]}"
                    )
                hint = did_you_mean(part, valid)
                raise UserError(f"--set {item}: unknown key '{where}'{hint}")
            if depth == len(parts) - 1:
                node[part] = value
                break
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise UserError(f"--set {item}: '{'.'.join(parts[: depth + 1])}' is not a section")
            node = child
    return out


def parse_yaml_text(text: str, source: str) -> Any:
    """YAML text's content, or a one-line UserError naming ``source`` and the line of the
    syntax error; the one place a person's YAML (a file, a pasted config) is parsed."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(f"{source}:{where} invalid YAML: {getattr(err, 'problem', err)}") from None


def read_yaml_file(path: Path, what: str) -> Any:
    """A YAML file's content, or a one-line UserError naming the file (and the line of a
    syntax error) — for every YAML file a person writes: configs, search spaces."""
    if not path.is_file():
        raise UserError(f"{path}: {what} file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; save the {what} as UTF-8") from None
    return parse_yaml_text(text, str(path))


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """Load and validate a YAML config; relative data paths resolve against the file's folder
    (those given with ``--set`` against the current folder, where they were typed)."""
    path = Path(path)
    raw = read_yaml_file(path, "config")
    cwd_paths: set[str] = set()
    if overrides:
        if not isinstance(raw, dict):
            raise UserError(f"{path}: expected a mapping of keys (data:, model:, ...) at top level")
        raw = apply_overrides(raw, overrides)
        cwd_paths = {k.split("=", 1)[0].strip().removeprefix("data.") for k in overrides}
    cfg = parse_config(raw, f"{path} (with --set)" if overrides else str(path))
    base = path.resolve().parent
    for split in ("train", "validation", "test"):
        value = getattr(cfg.data, split)
        if value and split in cwd_paths:
            setattr(cfg.data, split, str(Path(os.path.expandvars(value)).expanduser().resolve()))
        elif value:
            expanded = Path(os.path.expandvars(value)).expanduser()
            setattr(cfg.data, split, str(expanded if expanded.is_absolute() else base / expanded))
    if cfg.name is None:
        cfg.name = path.stem
    return cfg
