"""The protocol every task adapter follows, and the prepared-data bundle it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tuneproof.errors import UserError

if TYPE_CHECKING:
    import pandas as pd
    from datasets import Dataset
    from transformers import EvalPrediction, PreTrainedModel, PreTrainedTokenizerBase, Trainer

    from tuneproof.config import RunConfig
    from tuneproof.data.load import LoadedData


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
    single text column (tokens, question + context, chat messages).
    """

    datasets: dict[str, Dataset]
    frames: dict[str, pd.DataFrame]
    ids: dict[str, list[str]]
    label_names: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    main_metric: str | None = None
    selection: tuple[str, bool] | None = None
    check_texts: dict[str, list[str]] | None = None


class TaskAdapter(Protocol):
    name: str
    main_metric: str
    greater_is_better: bool
    peft_task_type: str  # PEFT ``LoraConfig.task_type``

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
