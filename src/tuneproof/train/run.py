"""`tuneproof train`: one config → a complete, reproducible run directory.

Reads top to bottom: validate everything that can be wrong *before* writing anything, then set up
the run directory, train with the Hugging Face ``Trainer``, evaluate, and write the files of the
run-directory contract (docs/architecture.md) atomically.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneproof import io, rundir
from tuneproof.config import RunConfig
from tuneproof.data.load import LoadedData, load_splits
from tuneproof.errors import UserError
from tuneproof.evaluate.metrics import summarize
from tuneproof.models import BUILTIN_MODELS, resolve_model
from tuneproof.tasks import Prepared, TaskAdapter, TokenCount, get_task
from tuneproof.tasks.base import checks_view
from tuneproof.train.manifest import now, start_manifest
from tuneproof.train.strategy import StrategyInfo, apply_strategy, check_strategy_available

if TYPE_CHECKING:
    from rich.console import Console

# Files written before training (by `tuneproof plan`) that a new run keeps.
KEEP_FILES = ("plan.md",)

# Log keys that measure speed, not the model: kept out of metrics.json so it is reproducible.
TIMING_KEYS = ("runtime", "per_second", "total_flos")


@dataclass
class RunResult:
    output_dir: Path
    metrics: rundir.Metrics
    strategy: StrategyInfo
    tracking_uri: str | None = None
    tracking_run_id: str | None = None
    checks_summary: dict[str, int] | None = None
    timing: dict[str, float] = field(default_factory=dict)


def check_output_dir(output_dir: Path, *, resume: bool, overwrite: bool) -> Path | None:
    """Refuse to clobber a run; on resume, return the checkpoint to continue from."""
    # A folder holding only the plan (`tuneproof plan -o`) is where the run is meant to go.
    exists = output_dir.exists() and any(p.name not in KEEP_FILES for p in output_dir.iterdir())
    if resume:
        ckpt = last_checkpoint(output_dir)
        if ckpt is None:
            raise UserError(
                f"{output_dir}: no checkpoint to resume from; run without --resume "
                "(and with --overwrite to start again)"
            )
        return ckpt
    if exists and not overwrite:
        raise UserError(
            f"{output_dir}: run directory already exists; pass --overwrite to replace it, "
            "--resume to continue it, or --output to choose another"
        )
    return None


def last_checkpoint(output_dir: Path) -> Path | None:
    from transformers.trainer_utils import get_last_checkpoint

    ckpts = output_dir / "checkpoints"
    if not ckpts.is_dir():
        return None
    found = get_last_checkpoint(str(ckpts))
    return Path(found) if found else None


def load_tokenizer(model_path: str, config: RunConfig) -> Any:
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(
            model_path,
            revision=config.model.revision,
            trust_remote_code=config.model.trust_remote_code,
        )
    except (OSError, ValueError) as err:
        builtins = ", ".join(BUILTIN_MODELS)
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        raise UserError(
            f"model.name '{config.model.name}': cannot load a tokenizer ({first}); use a built-in "
            f"({builtins}), a local folder, or a hub name with internet access"
        ) from None
    return tok


def prepare(config: RunConfig, task: TaskAdapter) -> tuple[LoadedData, str, Any, Prepared]:
    """Everything that can fail on the user's input, with nothing written yet."""
    check_strategy_available(config.strategy)  # e.g. qlora on CPU: before any loading
    loaded = load_splits(config.data)
    model_path = resolve_model(config.model.name, revision=config.model.revision)
    tokenizer = load_tokenizer(model_path, config)
    prepared = task.prepare(loaded, config, tokenizer)
    return loaded, model_path, tokenizer, prepared


def run(
    config: RunConfig,
    output_dir: str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    skip_checks: bool = False,
    command: list[str] | None = None,
    tracking_uri: str | None = None,
    console: Console | None = None,
    callbacks: list[Any] | None = None,
) -> RunResult:
    """Train and evaluate one run; return its metrics and where everything was written.

    ``callbacks`` are extra ``TrainerCallback``s (custom logging, profiling, ...).
    """
    import transformers
    from transformers import EarlyStoppingCallback, Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from tuneproof.arguments import training_kwargs
    from tuneproof.train.progress import RichProgressCallback

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()  # we report what matters ourselves
    output_dir = Path(output_dir)
    task = get_task(config.task)
    resume_from = check_output_dir(output_dir, resume=resume, overwrite=overwrite)
    if resume_from is not None:
        _same_config_or_fail(output_dir, config)
    loaded, model_path, tokenizer, prepared = prepare(config, task)
    main_metric = prepared.main_metric or task.main_metric
    select_metric, greater_is_better = prepared.selection or (main_metric, task.greater_is_better)
    kwargs = training_kwargs(
        config,
        output_dir / "checkpoints",
        main_metric=select_metric,
        greater_is_better=greater_is_better,
    )
    has_eval = "validation" in prepared.datasets
    if not has_eval and kwargs["eval_strategy"] != "no":
        raise UserError(
            "data: no validation split for training.eval_strategy "
            f"'{kwargs['eval_strategy']}'; set data.validation, data.split, or eval_strategy: no"
        )

    # --- from here on, the run directory is written ---------------------------------------
    if not resume and output_dir.exists():
        for child in output_dir.iterdir():
            if child.name in KEEP_FILES:
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    output_dir.mkdir(parents=True, exist_ok=True)
    rundir.write_config(output_dir, config)
    manifest = start_manifest(
        seed=config.training.seed,
        data={k: v.to_dict() for k, v in loaded.sources.items()},
        command=command,
        model=model_path,
    )
    if resume_from is not None:
        manifest.resumed_from = resume_from.name
    rundir.write(output_dir, manifest)

    checks_summary = None
    if config.checks.enabled and not skip_checks and resume_from is None:
        checks_summary = run_checks(
            *checks_view(config, loaded, prepared), tokenizer, output_dir, prepared.tokens
        )

    transformers.set_seed(config.training.seed)  # before the head is initialised
    model = task.build_model(model_path, prepared, config)
    model, strategy = apply_strategy(
        model,
        config.strategy,
        config.task,
        gradient_checkpointing=config.training.gradient_checkpointing,
    )

    bar = RichProgressCallback(console)
    callbacks = [bar, *(callbacks or [])]
    progressive = None
    if config.strategy.kind == "progressive":  # the schedule prints beside the progress bar
        from tuneproof.train.progressive import ProgressiveUnfreezing

        progressive = ProgressiveUnfreezing(model, config.strategy, bar.console)
        callbacks.insert(1, progressive)
    if kwargs["load_best_model_at_end"] and config.training.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(config.training.early_stopping_patience))
    trainer = Trainer(
        model=model,
        args=TrainingArguments(**kwargs),
        train_dataset=prepared.datasets["train"],
        eval_dataset=prepared.datasets.get("validation"),
        processing_class=tokenizer,
        data_collator=task.collator(tokenizer),
        compute_metrics=task.compute_metrics(prepared, "validation"),
        callbacks=callbacks,
    )
    for default in (PrinterCallback, ProgressCallback):  # the rich bar replaces both
        trainer.remove_callback(default)
    train_out = trainer.train(
        resume_from_checkpoint=str(resume_from) if resume_from is not None else None
    )

    # --- evaluate and write the run's files ----------------------------------------------
    eval_split = "test" if "test" in prepared.datasets else "validation"
    trainer.compute_metrics = None  # the metrics come from the rows below, not from predict()
    rows = task.predict_rows(trainer, prepared, eval_split)
    # point metrics plus seeded bootstrap intervals, the same as `tuneproof eval` computes
    summary = summarize(rows, task, seed=config.training.seed, main_metric=main_metric)
    val_metrics: dict[str, Any] = {}
    if has_eval and eval_split != "validation":
        # compute_metrics may be split-specific (QA maps features back to that split's rows)
        trainer.compute_metrics = task.compute_metrics(prepared, "validation")
        val_metrics = _strip_timing(trainer.evaluate())
    timing = {k: float(v) for k, v in train_out.metrics.items() if any(t in k for t in TIMING_KEYS)}
    metrics = rundir.Metrics.model_validate(
        {
            "task": config.task,
            "main_metric": main_metric,
            "split": eval_split,
            "overall": summary["overall"],
            "validation": _unprefix(val_metrics, "eval"),
            "training": {
                "global_step": trainer.state.global_step,
                "epochs": trainer.state.epoch,
                # Mean of the logged step losses: HF's own train_loss only covers the steps since a
                # resume, so a resumed run would report a different figure for the same training.
                "train_loss": _mean_logged_loss(trainer.state.log_history),
                "best_checkpoint": _relative(trainer.state.best_model_checkpoint, output_dir),
                "best_metric": trainer.state.best_metric,
                **strategy.to_dict(),
                **({"progressive": progressive.to_dict()} if progressive is not None else {}),
            },
            "history": [
                _strip_timing(r) for r in trainer.state.log_history if "train_loss" not in r
            ],
            "slices": summary["slices"],
        }
    )
    with io.atomic_dir(output_dir / "model") as tmp:
        trainer.save_model(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        if (tmp / "adapter_config.json").exists():
            save_adapter_base(trainer.model, tmp, config.model.name)
    rundir.write_predictions(output_dir, rows)
    rundir.write(output_dir, metrics)

    result = RunResult(output_dir, metrics, strategy, checks_summary=checks_summary, timing=timing)
    if config.tracking.enabled:
        result.tracking_uri, result.tracking_run_id = _track(
            config, output_dir, metrics, tracking_uri
        )
    manifest.status = "complete"
    manifest.ended = now()
    manifest.timing = timing
    manifest.tracking = rundir.Tracking(uri=result.tracking_uri, run_id=result.tracking_run_id)
    rundir.write(output_dir, manifest)
    return result


def run_checks(
    config: RunConfig,
    loaded: LoadedData,
    tokenizer: Any,
    output_dir: Path,
    token_counts: dict[str, list[TokenCount]] | None = None,
) -> dict[str, int] | None:
    """Data-quality checks before training; findings go into the run directory. The length
    check reads the adapter's ``token_counts`` (what training truncates)."""
    try:
        from tuneproof.checks import check_run_data
    except ImportError:  # checks module not installed in this build
        return None
    report = check_run_data(
        config, loaded, tokenizer=tokenizer, output_dir=output_dir, token_counts=token_counts
    )
    summary: dict[str, int] = dict(report["summary"])
    fail_on = config.checks.fail_on
    if fail_on != "never" and (
        summary.get("errors", 0) or (fail_on == "warning" and summary.get("warnings", 0))
    ):
        raise UserError(
            f"data checks found {summary.get('errors', 0)} error(s) and "
            f"{summary.get('warnings', 0)} warning(s) (checks.fail_on: {fail_on}); "
            f"see {output_dir / 'checks.md'}"
        )
    return summary


def _same_config_or_fail(output_dir: Path, config: RunConfig) -> None:
    saved = output_dir / "config.yaml"
    if saved.exists() and saved.read_text(encoding="utf-8") != config.to_yaml():
        raise UserError(
            f"{saved}: the config differs from the one this run started with; resume with the "
            "same config, or start a new run with --overwrite"
        )


def _mean_logged_loss(history: list[dict[str, Any]]) -> float | None:
    losses = [float(r["loss"]) for r in history if "loss" in r]
    return sum(losses) / len(losses) if losses else None


def save_adapter_base(model: Any, folder: Path, model_name: str) -> None:
    """Beside a PEFT adapter, the fine-tuned base config (labels, problem type; not the 4-bit
    quantization, which is a training choice) and a portable base reference: the Hub id of a
    built-in model rather than a path into this machine's environment."""
    cfg = model.get_base_model().config
    cfg = type(cfg).from_dict(cfg.to_dict())  # a copy: the live model keeps its settings
    if hasattr(cfg, "quantization_config"):
        del cfg.quantization_config
    cfg.save_pretrained(folder)
    builtin = BUILTIN_MODELS.get(model_name)
    if builtin is not None and builtin.hub_id:
        adapter_config = folder / "adapter_config.json"
        raw = io.read_json(adapter_config)
        raw["base_model_name_or_path"] = builtin.hub_id
        io.write_json(adapter_config, raw)


def _strip_timing(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if not any(t in k for t in TIMING_KEYS)}


def _unprefix(d: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k.removeprefix(prefix + "_"): v for k, v in d.items()}


def _relative(path: str | None, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return path


def _track(
    config: RunConfig, output_dir: Path, record: rundir.Metrics, uri: str | None
) -> tuple[str, str]:
    from tuneproof.track import default_tracking_uri, log_run

    metrics = rundir.dump(record)
    uri = default_tracking_uri(uri or config.tracking.uri)
    flat_metrics = {f"test/{k}": v for k, v in metrics["overall"].items() if _is_num(v)}
    flat_metrics.update(
        {f"validation/{k}": v for k, v in metrics["validation"].items() if _is_num(v)}
    )
    run_id = log_run(
        uri=uri,
        experiment=config.tracking.experiment,
        run_name=config.name or output_dir.name,
        params=config.to_dict(),
        metrics=flat_metrics,
        history=metrics["history"],
        artifacts=[output_dir / f for f in ("config.yaml", "manifest.json", "metrics.json")],
        tags={"tuneproof.run_dir": str(output_dir.resolve()), "tuneproof.task": config.task},
    )
    return uri, run_id


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
