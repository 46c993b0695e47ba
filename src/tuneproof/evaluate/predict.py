"""Load a trained run and predict on labelled tables through the run's task adapter.

Generic over tasks: the adapter prepares (validating columns and labels against the model's label
set), the Hugging Face ``Trainer`` predicts (batched, no grad), the adapter turns outputs into
rows. Rows are predicted longest first (less padding per batch, a memory error shows at once) and
returned in the table's order.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tuneproof import rundir
from tuneproof.data.load import LoadedData, SourceInfo, load_splits, read_table, sha256_file
from tuneproof.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console

    from tuneproof.config import RunConfig
    from tuneproof.tasks import TaskAdapter, TokenCount

ROW_ID = "__tuneproof_row__"  # row ids when the data has no id column: the 0-based row index
SPLIT = "test"


@dataclass
class LoadedRun:
    run_dir: Path
    config: RunConfig
    task: TaskAdapter
    model: Any
    tokenizer: Any
    label_names: list[str] | None

    @property
    def name(self) -> str:
        return self.config.name or self.run_dir.name


@dataclass(frozen=True)
class Predicted:
    """Prediction rows of one table in table order, each row's position in the table and its
    token count as the task adapter tokenised it (``Prepared.tokens``)."""

    rows: list[dict[str, Any]]
    positions: list[int | None]
    main_metric: str | None = None  # ``Prepared.main_metric`` when the data decides it
    tokens: list[TokenCount] = field(default_factory=list)  # aligned with ``rows``


@dataclass(frozen=True)
class EvalData:
    """One labelled table to evaluate on, with where it came from."""

    name: str  # short display name, unique among the files of one evaluation
    frame: pd.DataFrame
    source: SourceInfo


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:200] if text else type(err).__name__


def read_run_config(run_dir: Path) -> RunConfig:
    if not run_dir.is_dir():
        raise UserError(
            f"{run_dir}: run directory not found; give a folder `tuneproof train` wrote"
        )
    if not (run_dir / rundir.CONFIG).is_file():
        raise UserError(
            f"{run_dir}: no config.yaml, so not a tuneproof run directory; "
            "train one first: tuneproof train CONFIG -o RUN"
        )
    from tuneproof.tasks import check_task

    return check_task(rundir.read_config(run_dir), str(run_dir / rundir.CONFIG))


def load_run(
    run_dir: str | Path,
    *,
    text_column: str | None = None,
    label_column: str | None = None,
) -> LoadedRun:
    """The run's config, task adapter, trained model and tokenizer; column overrides applied."""
    import transformers
    from transformers import AutoTokenizer

    from tuneproof.tasks import get_task

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    if text_column:
        config.data.text_column = text_column
    if label_column:
        config.data.label_column = label_column
    model_dir = run_dir / "model"
    if (
        not (model_dir / "config.json").is_file()
        and not (model_dir / "adapter_config.json").is_file()
    ):
        raise UserError(
            f"{run_dir}: no trained model (model/config.json or model/adapter_config.json); "
            f"finish training first: tuneproof train CONFIG -o {run_dir}"
        )
    task = get_task(config.task)
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = task.load_trained(model_dir, config)
    except (OSError, ValueError) as err:
        raise UserError(f"{model_dir}: cannot load the model ({_first_line(err)})") from None
    model.eval()
    labels = None
    if task.label_set:  # the head's labels: evaluation data must use them
        id2label: dict[Any, str] = dict(model.config.id2label or {})
        labels = [str(id2label[i]) for i in range(len(id2label))]
    return LoadedRun(run_dir, config, task, model, tokenizer, labels)


def display_names(paths: list[str]) -> list[str]:
    """The shortest unique path suffixes: ``polarity-fr/test.csv`` beside ``polarity-de/...``."""
    parts = [Path(p).parts for p in paths]
    for k in range(1, max((len(p) for p in parts), default=1) + 1):
        names = ["/".join(p[-k:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return list(paths)


def read_eval_files(paths: list[str | Path]) -> list[EvalData]:
    names = display_names([str(p) for p in paths])
    out = []
    for name, path in zip(names, paths, strict=True):
        df = read_table(path)
        out.append(EvalData(name, df, SourceInfo(str(path), sha256_file(path), len(df))))
    return out


def default_eval_data(config: RunConfig) -> tuple[str, list[EvalData]]:
    """The run's own test split (validation when there is none), as configured."""
    loaded = load_splits(config.data)
    for split in ("test", "validation"):
        if split in loaded.splits:
            src = loaded.sources[split]
            return split, [EvalData(display_names([src.path])[0], loaded.splits[split], src)]
    raise UserError(
        "config.yaml: the run has no test or validation split to evaluate on; pass --data FILE"
    )


def batch_progress(console: Console | None) -> Any:
    """A TrainerCallback advancing a rich bar per predicted batch (None: no display)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from transformers import TrainerCallback

    class BatchProgress(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.progress = (
                Progress(
                    TextColumn("[bold]predict[/] {task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    TextColumn("eta"),
                    TimeRemainingColumn(),
                    console=console,
                )
                if console is not None
                else None
            )
            self.task: Any = None
            self.live = False

        def start(self, name: str, batches: int) -> None:
            # shown from the first file's first batch: an error while preparing the data
            # (a missing column, an unknown label) prints alone, with no empty bar before it
            if self.progress is not None:
                if not self.live:
                    self.progress.start()
                    self.live = True
                self.task = self.progress.add_task(name, total=batches)

        def close(self) -> None:
            if self.progress is not None and self.live:
                self.progress.stop()
                self.live = False

        def on_prediction_step(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if self.progress is not None and self.task is not None:
                self.progress.advance(self.task)

    return BatchProgress()


@contextmanager
def eval_trainer(
    loaded: LoadedRun, batch_size: int | None = None, progress: Any = None
) -> Iterator[Any]:
    """An eval-only ``Trainer`` (no logging integrations, no tqdm), in a throwaway output dir."""
    import torch
    from transformers import Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    bs = batch_size or loaded.config.training.eval_batch_size
    with tempfile.TemporaryDirectory(prefix="tuneproof-eval-") as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            per_device_eval_batch_size=bs,
            report_to="none",
            disable_tqdm=True,
            seed=loaded.config.training.seed,
            dataloader_num_workers=0,
            dataloader_pin_memory=torch.cuda.is_available(),  # pinning warns on CPU
        )
        trainer = Trainer(
            model=loaded.model,
            args=args,
            processing_class=loaded.tokenizer,
            data_collator=loaded.task.collator(loaded.tokenizer),
            callbacks=[progress] if progress is not None else None,
        )
        for default in (PrinterCallback, ProgressCallback):
            trainer.remove_callback(default)
        try:
            yield trainer
        finally:
            if progress is not None:
                progress.close()


def _char_lengths(df: pd.DataFrame) -> pd.Series:
    """Characters of all text columns per row: a task-independent proxy for token length."""
    lengths = pd.Series(0, index=df.index)
    for col in df.columns:
        if df[col].dtype == object:
            lengths = lengths + df[col].map(lambda v: len(v) if isinstance(v, str) else 0)
    return lengths


def predict_frame(
    loaded: LoadedRun,
    data: EvalData,
    trainer: Any,
    progress: Any = None,
    *,
    id_column: str | None = None,
) -> Predicted:
    """Prediction rows for one table, in table order, with each row's position in the table.

    Ids come from ``id_column`` (default: the run's ``data.id_column``) when the table has it,
    else from the row index (as in training). Errors name the file and the row in the file's own order.
    """
    df = data.frame.reset_index(drop=True)
    config = loaded.config.model_copy(deep=True)
    config.data.id_column = id_column or config.data.id_column
    if config.data.id_column is None or config.data.id_column not in df.columns:
        df = df.assign(**{ROW_ID: [str(i) for i in range(len(df))]})
        config.data.id_column = ROW_ID
    order = _char_lengths(df).sort_values(ascending=False, kind="stable").index
    ranked = df.loc[order].reset_index(drop=True)

    def prepare(frame: pd.DataFrame) -> Any:
        split = LoadedData(splits={SPLIT: frame}, sources={SPLIT: data.source})
        return loaded.task.prepare(split, config, loaded.tokenizer, label_names=loaded.label_names)

    try:
        prepared = prepare(ranked)
    except UserError:
        prepare(df)  # same check in file order, so the message names the file's own row
        raise
    if progress is not None:
        bs = trainer.args.per_device_eval_batch_size
        progress.start(data.name, math.ceil(len(prepared.datasets[SPLIT]) / bs))
    rows = loaded.task.predict_rows(trainer, prepared, SPLIT)
    ids = [str(v) for v in df[config.data.id_column].tolist()]
    where = {rid: i for i, rid in enumerate(ids)}
    positions = [where.get(str(r.get("id"))) for r in rows]
    # Each row's token count, matched by id (rows come back in the prepared order, one per id).
    by_id = dict(zip(prepared.ids[SPLIT], prepared.tokens[SPLIT], strict=True))
    counts = [by_id[str(r["id"])] for r in rows]
    paired = sorted(
        zip(positions, rows, counts, strict=True), key=lambda pr: (pr[0] is None, pr[0] or 0)
    )
    return Predicted(
        [r for _, r, _ in paired],
        [p for p, _, _ in paired],
        prepared.main_metric,
        tokens=[c for _, _, c in paired],
    )
