"""The protocol every task adapter follows, and the prepared-data bundle it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from tuneproof.errors import UserError

if TYPE_CHECKING:
    import pandas as pd
    from datasets import Dataset
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase, Trainer

    from tuneproof.config import RunConfig
    from tuneproof.data.load import LoadedData


@dataclass(frozen=True)
class TokenCount:
    """One row's input in model tokens, counted by the adapter that tokenised it.

    Every reader of lengths (the length/truncation check, eval's ``length`` and ``truncated``
    slices, the report) uses these, so they agree with what the model saw. ``total`` is the
    whole input untruncated with special tokens; ``kept`` what the model sees (the longest window
    for windowed QA). ``first``/``second`` are each text's own tokens (``second`` None for one-text
    tasks; pair tasks: sentence pair, question + context, prompt + reply) and ``first_cut`` /
    ``second_cut`` whether that text lost tokens (QA: whether the context needed more than one
    window).
    """

    total: int
    kept: int
    first: int
    second: int | None = None
    first_cut: bool = False
    second_cut: bool = False

    @property
    def truncated(self) -> bool:
        return self.first_cut or self.second_cut


@dataclass(frozen=True)
class StarterConfig:
    """What `tuneproof init --task T` writes: the data block and a few training choices in the
    shared layout (``tasks.templates``), or a whole template of the task's own (``text``)."""

    name: str = ""
    data: str = ""
    model: str = "minilm-l6"
    strategy: str | None = None  # None: full fine-tuning
    epochs: int = 10
    learning_rate: str = "1.0e-4"
    text: str | None = None


@dataclass(frozen=True)
class CardTemplate:
    """The model card's task-specific parts: the Hub pipeline tag and the usage example."""

    pipeline_tag: str
    example: str  # Python that uses ``pipe``, e.g. ``pipe("a gorgeous, witty film")``
    pipeline: str | None = None  # the ``pipeline()`` task when it differs from the tag


@dataclass(frozen=True)
class EvalTemplate:
    """One ``tuneproof evalplan --task`` template: the note to the evaluator, whether a
    negation slice is planned, and the labels code-switched cases expect (positive, negative)."""

    name: str
    note: str
    negation: bool = False
    expected_labels: tuple[str, str] | None = None


@dataclass
class Prepared:
    """Tokenised splits plus what is needed to turn model outputs back into rows.

    ``frames`` keep the raw rows (ids, texts, gold labels) aligned with ``datasets``.
    ``label_names`` is the label order of the model head (None for regression/generation).
    ``extra`` holds task-specific state (e.g. QA feature-to-example maps).
    ``main_metric`` overrides the adapter's when it depends on the data (token classification:
    entity F1 for BIO tags, accuracy for POS tags). ``selection`` is the (metric, greater is
    better) that picks the best checkpoint when the main metric cannot be computed during
    training (summarization: ROUGE needs generation, so the eval loss selects).
    ``check_texts`` is one text per row for the data checks, for tasks whose input is not a
    single text column (tokens, question + context, chat messages). ``tokens`` is each row's
    :class:`TokenCount` per split, aligned with ``ids``.
    """

    datasets: dict[str, Dataset]
    frames: dict[str, pd.DataFrame]
    ids: dict[str, list[str]]
    label_names: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    main_metric: str | None = None
    selection: tuple[str, bool] | None = None
    check_texts: dict[str, list[str]] | None = None
    tokens: dict[str, list[TokenCount]] = field(default_factory=dict)
    #: a collator that depends on the config (masked LM's ``data.mlm_probability``); None: the
    #: adapter's ``collator(tokenizer)``
    collator: Callable[..., Any] | None = None


class TaskAdapter(Protocol):
    """A task: what it declares (read by plan, init, evalplan and the model card through
    :data:`tuneproof.tasks.TASKS`) and what it does (prepare, build, predict, score)."""

    name: str
    main_metric: str
    greater_is_better: bool
    peft_task_type: str  # PEFT ``LoraConfig.task_type``
    auto_class: str  # the transformers Auto class that adds the task's head
    head_labels: int | None  # a fixed head size (regression: 1); None: the label set's size
    label_set: bool  # the head has named labels that evaluation data must use
    card: CardTemplate
    starter: StarterConfig
    eval_templates: tuple[EvalTemplate, ...]

    def prepare(
        self,
        data: LoadedData,
        config: RunConfig,
        tokenizer: PreTrainedTokenizerBase,
        *,
        label_names: list[str] | None = None,
    ) -> Prepared:
        """Validate columns and labels (raising UserError naming file/row), then tokenise.

        ``label_names`` is given when evaluating a trained model: labels must come from the
        model's label set, and a train split is not required.
        """
        ...

    def load_trained(self, model_dir: Path, config: RunConfig) -> PreTrainedModel:
        """Load ``RUN/model`` (full weights or a PEFT adapter) for this task."""
        ...

    def predict_rows(
        self, trainer: Trainer, prepared: Prepared, split: str
    ) -> list[dict[str, Any]]:
        """Run the model on a split and return prediction rows (generation tasks override)."""
        ...

    def metrics_from_rows(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        """The task's metrics recomputed from prediction rows alone (used per slice, with CIs)."""
        ...

    def build_model(
        self, model_path: str, prepared: Prepared, config: RunConfig
    ) -> PreTrainedModel: ...

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Callable[..., Any]: ...

    def compute_metrics(
        self, prepared: Prepared, split: str
    ) -> Callable[[EvalPrediction], dict[str, float]] | None: ...

    def prediction_rows(
        self, prepared: Prepared, split: str, predictions: Any
    ) -> list[dict[str, Any]]:
        """One JSON-able row per example: id, text, gold, pred and task-specific scores."""
        ...


def trainer_predict_rows(
    task: TaskAdapter, trainer: Trainer, prepared: Prepared, split: str
) -> list[dict[str, Any]]:
    """The usual ``predict_rows``: ``Trainer.predict`` then the adapter's ``prediction_rows``."""
    out = trainer.predict(prepared.datasets[split], metric_key_prefix=split)
    return task.prediction_rows(prepared, split, out.predictions)


def from_base(
    auto_class: str, model_path: str, config: RunConfig, **kwargs: Any
) -> PreTrainedModel:
    """``transformers.<auto_class>.from_pretrained`` of the base model, the one place that applies
    the config's revision and remote-code flag and the strategy's load arguments (dtype for LoRA
    in bf16/fp16, 4-bit for QLoRA)."""
    import transformers

    from tuneproof.modeling import base_model_kwargs

    model: PreTrainedModel = getattr(transformers, auto_class).from_pretrained(
        model_path,
        revision=config.model.revision,
        trust_remote_code=config.model.trust_remote_code,
        **base_model_kwargs(config),
        **kwargs,
    )
    return model


def load_saved(auto_class: str, model_dir: Path, config: RunConfig) -> PreTrainedModel:
    """A run's ``model/`` folder: full weights, or a PEFT adapter on its base model.

    For an adapter, the base comes from the run's ``model.name`` resolved on this machine (the
    path in ``adapter_config.json`` may point into another environment) with the fine-tuned
    ``config.json`` saved beside the adapter, so the head has the run's labels.
    """
    import transformers

    auto = getattr(transformers, auto_class)
    if not (model_dir / "adapter_config.json").exists():
        model: PreTrainedModel = auto.from_pretrained(model_dir)
        return model
    from peft import PeftModel

    from tuneproof.models import resolve_model

    kwargs: dict[str, Any] = {}
    if (model_dir / "config.json").exists():
        kwargs["config"] = transformers.AutoConfig.from_pretrained(model_dir)
    base = auto.from_pretrained(
        resolve_model(config.model.name, revision=config.model.revision),
        revision=config.model.revision,
        trust_remote_code=config.model.trust_remote_code,
        **kwargs,
    )
    adapted: PreTrainedModel = PeftModel.from_pretrained(base, model_dir)  # type: ignore[assignment]
    return adapted


def metrics_through_rows(
    task: TaskAdapter, prepared: Prepared, split: str
) -> Callable[[EvalPrediction], dict[str, float]]:
    """``compute_metrics`` that goes through the prediction rows, so metrics during training and
    the final metrics are computed the same way (truncated words, windows mapped to questions)."""

    def compute(ev: EvalPrediction) -> dict[str, float]:
        return task.metrics_from_rows(task.prediction_rows(prepared, split, ev.predictions))

    return compute


class TrainerTask:
    """The usual Trainer-facing half of a :class:`TaskAdapter`, so an adapter writes only what
    its task does differently: load ``RUN/model`` with the task's Auto class, pad batches
    dynamically, predict through ``Trainer.predict`` and score via the adapter's own
    ``metrics_from_rows`` (the same function the slices use, so the two cannot disagree)."""

    auto_class: str

    def load_trained(self, model_dir: Path, config: RunConfig) -> PreTrainedModel:
        return load_saved(self.auto_class, model_dir, config)

    def collator(self, tokenizer: PreTrainedTokenizerBase) -> Callable[..., Any]:
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer)

    def predict_rows(
        self, trainer: Trainer, prepared: Prepared, split: str
    ) -> list[dict[str, Any]]:
        return trainer_predict_rows(cast(TaskAdapter, self), trainer, prepared, split)

    def compute_metrics(
        self, prepared: Prepared, split: str
    ) -> Callable[[EvalPrediction], dict[str, float]] | None:
        return metrics_through_rows(cast(TaskAdapter, self), prepared, split)


def source_name(data: LoadedData, split: str) -> str:
    """The file (or HF split) a split came from, for error messages."""
    return data.sources[split].path if split in data.sources else split


def checks_view(
    config: RunConfig, loaded: LoadedData, prepared: Prepared
) -> tuple[RunConfig, LoadedData]:
    """What the data checks read: the rows as loaded, or one text per row (``id``, ``text``
    columns) when the task's input is not a single text column."""
    if prepared.check_texts is None:
        return config, loaded
    import pandas as pd

    from tuneproof.data.load import LoadedData as Loaded

    frames = {
        split: pd.DataFrame({"id": prepared.ids[split], "text": texts})
        for split, texts in prepared.check_texts.items()
    }
    view = config.model_copy(deep=True)
    view.data.text_column, view.data.id_column = "text", "id"
    return view, Loaded(splits=frames, sources=loaded.sources)


def column_texts(df: pd.DataFrame, column: str, where: str) -> list[str]:
    """The column as strings; an empty cell is a UserError naming the row."""
    import math

    values = df[column].tolist()
    for i, v in enumerate(values):
        if not isinstance(v, str):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                raise UserError(f"{where}: row {i}: '{column}' is empty; fill it or drop the row")
            values[i] = str(v)
    return values


def _per_sequence(sequence_ids: list[int | None]) -> tuple[int, int]:
    return sum(s == 0 for s in sequence_ids), sum(s == 1 for s in sequence_ids)


def encoding_counts(
    tokenizer: PreTrainedTokenizerBase,
    firsts: list[str],
    seconds: list[str] | None,
    truncated: Any,
) -> list[TokenCount]:
    """Each row's :class:`TokenCount` for an encoding made with ``truncation=True`` (padded
    or not).

    The texts are encoded again untruncated; with a fast tokenizer the sequence ids of both
    encodings say which text lost tokens. A slow tokenizer has no sequence ids: the first text
    is encoded alone and the cut follows ``longest_first`` (tokens come off the longer text until
    both are equally long, then off both).
    """
    full = tokenizer(firsts, seconds, truncation=False, verbose=False)
    fast = bool(getattr(tokenizer, "is_fast", False))
    if not fast:
        specials = tokenizer.num_special_tokens_to_add(pair=seconds is not None)
        alone = tokenizer(firsts, add_special_tokens=False, verbose=False)["input_ids"]
    mask = truncated.get("attention_mask")  # padded batches: count the real tokens only
    out = []
    for i, ids in enumerate(full["input_ids"]):
        total = len(ids)
        kept = int(sum(mask[i])) if mask is not None else len(truncated["input_ids"][i])
        if fast:
            a, b = _per_sequence(full.sequence_ids(i))
            ka, kb = _per_sequence(truncated.sequence_ids(i))
            cut_a, cut_b = ka < a, kb < b
        else:
            a = len(alone[i]) if seconds is not None else total - specials
            b = total - specials - a
            excess = total - kept
            if seconds is None:
                cut_a, cut_b = excess > 0, False
            else:
                longer_a = a >= b
                both = excess > abs(a - b)
                cut_a = excess > 0 and (longer_a or both)
                cut_b = excess > 0 and (not longer_a or both)
        out.append(
            TokenCount(
                total=total,
                kept=kept,
                first=a,
                second=b if seconds is not None else None,
                first_cut=cut_a,
                second_cut=cut_b,
            )
        )
    return out
