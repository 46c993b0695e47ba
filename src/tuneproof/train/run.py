"""`tuneproof train`: one config → a complete, reproducible run directory.

Reads top to bottom: validate everything that can be wrong *before* writing anything, then set up
the run directory, train with the Hugging Face ``Trainer``, evaluate, and write the files of the
run-directory contract (docs/architecture.md) atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneproof import io, rundir
from tuneproof.config import RunConfig
from tuneproof.data.load import LoadedData, load_splits
from tuneproof.errors import Terminated, UserError
from tuneproof.evaluate.metrics import summarize
from tuneproof.models import BUILTIN_MODELS, resolve_model
from tuneproof.tasks import Prepared, TaskAdapter, TokenCount, get_task
from tuneproof.tasks.base import checks_view
from tuneproof.train.manifest import now, start_manifest
from tuneproof.train.strategy import StrategyInfo, apply_strategy, check_strategy_available

if TYPE_CHECKING:
    from rich.console import Console

    from tuneproof.checks.base import CheckReport
    from tuneproof.plan.args import LintReport

# Files written before training (by `tuneproof plan`) that a new run keeps.
KEEP_FILES = ("plan.md", "plan.json")

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


def check_output_dir(
    output_dir: Path, *, resume: bool, overwrite: bool, note: Callable[[str], None] | None = None
) -> Path | None:
    """Refuse to clobber a run; on resume, return the checkpoint to continue from."""
    # A folder holding only the plan (`tuneproof plan -o`) is where the run is meant to go.
    exists = output_dir.exists() and any(p.name not in KEEP_FILES for p in output_dir.iterdir())
    if resume:
        if run_status(output_dir) == "complete":
            raise UserError(
                f"{output_dir}: the run is already complete (manifest.json status: complete); "
                "nothing to resume. Pass --overwrite to train it again"
            )
        ckpt = last_checkpoint(output_dir, note=note)
        if ckpt is None:
            raise UserError(
                f"{output_dir}: no complete checkpoint to resume from; run without --resume "
                "(and with --overwrite to start again)"
            )
        return ckpt
    if exists and not overwrite:
        raise UserError(
            f"{output_dir}: run directory already exists; pass --overwrite to replace it, "
            "--resume to continue it, or --output to choose another"
        )
    return None


def run_status(output_dir: Path) -> str | None:
    """``status`` of the run's manifest.json (None without one); a corrupt one is an error."""
    manifest = rundir.read_optional(output_dir, rundir.Manifest)
    return manifest.status if manifest is not None else None


def last_checkpoint(output_dir: Path, note: Callable[[str], None] | None = None) -> Path | None:
    """The newest *complete* checkpoint. A kill during a save leaves a ``checkpoint-N`` folder
    without ``trainer_state.json`` or with a truncated weight/optimizer file; transformers'
    ``get_last_checkpoint`` only looks at names, so each candidate is validated, newest first,
    and an incomplete one is skipped with a message."""
    ckpts = output_dir / "checkpoints"
    if not ckpts.is_dir():
        return None
    candidates = sorted(
        (p for p in ckpts.iterdir() if p.is_dir() and p.name.startswith("checkpoint-")),
        key=lambda p: int(p.name.split("-")[-1]) if p.name.split("-")[-1].isdigit() else -1,
        reverse=True,
    )
    for ckpt in candidates:
        problem = checkpoint_problem(ckpt)
        if problem is None:
            return ckpt
        if note is not None:
            note(f"skipping {ckpt.name}: incomplete ({problem}); it was cut off while saving")
    return None


def checkpoint_problem(ckpt: Path) -> str | None:
    """Why ``ckpt`` cannot be resumed from, or None when it is complete."""
    import zipfile

    state = ckpt / "trainer_state.json"
    if not state.is_file():
        return "no trainer_state.json"
    try:
        json.loads(state.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return "trainer_state.json does not parse"
    weights = [*ckpt.glob("*.safetensors"), *ckpt.glob("*.bin")]
    if not weights:
        return "no model weights"
    for f in sorted(ckpt.iterdir()):
        if f.suffix == ".safetensors":
            from safetensors import safe_open

            try:
                with safe_open(str(f), framework="pt") as st:  # checks header vs. file size
                    list(st.keys())
            except Exception as err:  # safetensors raises its own error types
                return f"{f.name} is unreadable ({str(err).splitlines()[0][:80]})"
        elif f.suffix in (".pt", ".pth", ".bin") and not zipfile.is_zipfile(f):
            # torch.save writes a zip; a truncated one has no central directory at its end
            return f"{f.name} is truncated or not a torch file"
    return None


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
    check_max_length(config, model_path)
    prepared = task.prepare(loaded, config, tokenizer)
    return loaded, model_path, tokenizer, prepared


# Models whose position ids start after the padding index (``pad_token_id + 1``): two of the
# ``max_position_embeddings`` rows are never used for tokens.
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert", "longformer", "mpnet", "data2vec-text")


def position_limit(model_config: Any) -> int | None:
    """Tokens the model can take (None when it has no absolute positions, e.g. T5)."""
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(model_config, attr, None)
        if isinstance(value, int) and value > 0:
            if getattr(model_config, "model_type", None) in _OFFSET_POSITIONS:
                value -= int(getattr(model_config, "pad_token_id", None) or 1) + 1
            return value
    return None


def check_max_length(config: RunConfig, model_path: str) -> None:
    """``data.max_length`` beyond the model's positions would fail (or read garbage position
    embeddings) mid-training: refuse it before anything is written."""
    from transformers import AutoConfig

    try:
        model_config = AutoConfig.from_pretrained(
            model_path,
            revision=config.model.revision,
            trust_remote_code=config.model.trust_remote_code,
        )
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        raise UserError(
            f"model.name '{config.model.name}': cannot load its config ({first})"
        ) from None
    limit = position_limit(model_config)
    if limit is not None and config.data.max_length > limit:
        raise UserError(
            f"data.max_length: {config.data.max_length} is longer than the {limit} positions of "
            f"model '{config.model.name}'; use data.max_length <= {limit}"
        )


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
    keep_checkpoints: bool = False,
    evaluate_test: bool = True,
    tracking_tags: dict[str, str] | None = None,
) -> RunResult:
    """Train and evaluate one run; return its metrics and where everything was written.

    ``callbacks`` are extra ``TrainerCallback``s (custom logging, profiling, a sweep's pruner).
    ``evaluate_test=False`` evaluates on validation only (a sweep's trials: the test split is
    loaded and fingerprinted, but no model predicts on it, so nothing is tuned on test).
    ``tracking_tags`` are added to the MLflow run (a sweep nests its trials with
    ``mlflow.parentRunId``).
    """
    import transformers
    from transformers import EarlyStoppingCallback, Trainer, TrainingArguments
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from tuneproof.arguments import training_kwargs
    from tuneproof.train.measure import Measure
    from tuneproof.train.progress import RichProgressCallback

    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()  # we report what matters ourselves
    output_dir = Path(output_dir)
    # Under torchrun / accelerate launch every process runs this function; only the main one
    # reads and writes the run directory, logs to MLflow and prints (the others train in step).
    main, world = is_main_process(), world_size()
    if not main:
        from rich.console import Console

        console = Console(stderr=True, quiet=True)
    task = get_task(config.task)
    bar = RichProgressCallback(console, run_dir=output_dir)

    def check_target() -> Path | None:
        io.ensure_writable(output_dir)  # a read-only target fails before any data is loaded
        found = check_output_dir(
            output_dir, resume=resume, overwrite=overwrite, note=_note(bar.console)
        )
        if found is not None:
            _same_config_or_fail(output_dir, config)
        return found

    resume_from = on_main(check_target)
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
    checks = None
    if config.checks.enabled and not skip_checks and resume_from is None:
        checks = on_main(
            lambda: run_checks(*checks_view(config, loaded, prepared), tokenizer, prepared.tokens)
        )
    if not evaluate_test:
        if not has_eval:
            raise UserError("data: evaluating on validation only needs a validation split")
        prepared.datasets.pop("test", None)
    lint = lint_arguments(kwargs, config, train_rows=len(prepared.datasets["train"]))
    estimate = memory_estimate(config, prepared, _note(bar.console)) if main else None

    # --- from here on, files are written (into a sibling folder when replacing a run) -----
    work = on_main(lambda: stage_dir(output_dir, resume=resume_from is not None))
    kwargs["output_dir"] = str(work / "checkpoints")
    manifest = start_manifest(
        seed=config.training.seed,
        data={k: v.to_dict() for k, v in loaded.sources.items()},
        command=command,
        model=model_path,
    )
    manifest.world_size = world
    if resume_from is not None:
        manifest.resumed_from = resume_from.name
    manifest.resources = estimate
    tracked = None
    checks_summary = None
    if main:
        rundir.write_config(work, config)
        tracked = _start_tracking(
            config, output_dir, manifest, loaded, tracking_uri, resume_from, tracking_tags
        )
        if tracked is not None:
            manifest.tracking = rundir.Tracking(uri=tracked.uri, run_id=tracked.run_id)
        rundir.write(work, manifest)
        rundir.write(work, lint_record(lint))
        if checks is not None:
            from tuneproof.checks.report import write_report

            write_report(checks, work)
            checks_summary = dict(checks.summary.to_dict())

    recorded = failure_recorded(work, output_dir, manifest, tracked) if main else nullcontext()
    with recorded, sigterm_raises(), tracker_env(config, work):
        transformers.set_seed(config.training.seed)  # before the head is initialised
        model = task.build_model(model_path, prepared, config)
        model, strategy = apply_strategy(
            model,
            config.strategy,
            config.task,
            gradient_checkpointing=config.training.gradient_checkpointing,
        )

        measure = Measure()
        callbacks = [bar, measure, *(callbacks or [])]
        if tracked is not None:  # loss and eval metrics in MLflow while the run trains
            from tuneproof.track import live_callback

            callbacks.append(live_callback(tracked))
        progressive = None
        if config.strategy.kind == "progressive":  # the schedule prints beside the progress bar
            from tuneproof.train.progressive import ProgressiveUnfreezing

            progressive = ProgressiveUnfreezing(model, config.strategy, bar.console)
            callbacks.insert(1, progressive)
        if kwargs["load_best_model_at_end"] and config.training.early_stopping_patience:
            callbacks.append(EarlyStoppingCallback(config.training.early_stopping_patience))
        trainer_cls, train_set = Trainer, prepared.datasets["train"]
        if config.strategy.kind == "distill":  # soft labels from the teacher run, computed once
            from tuneproof.train.distill import DistillTrainer, with_teacher_logits

            trainer_cls = DistillTrainer.configured(config.strategy)
            train_set = with_teacher_logits(prepared, config)
        build_trainer = getattr(task, "build_trainer", None)  # a task trained by trl (DPO)
        if build_trainer is not None:
            trainer = build_trainer(
                model=model, kwargs=kwargs, prepared=prepared, tokenizer=tokenizer,
                callbacks=callbacks, config=config,
            )  # fmt: skip
        else:
            trainer = trainer_cls(
                model=model,
                args=TrainingArguments(**kwargs),
                train_dataset=train_set,
                eval_dataset=prepared.datasets.get("validation"),
                processing_class=tokenizer,
                data_collator=prepared.collator or task.collator(tokenizer),
                compute_metrics=task.compute_metrics(prepared, "validation"),
                callbacks=callbacks,
            )
        for default in (PrinterCallback, ProgressCallback):  # the rich bar replaces both
            trainer.remove_callback(default)
        place_tensorboard(trainer, work)
        train_out = trainer.train(
            resume_from_checkpoint=str(resume_from) if resume_from is not None else None
        )

        # --- evaluate and write the run's files ------------------------------------------
        eval_split = "test" if "test" in prepared.datasets else "validation"
        trainer.compute_metrics = None  # the metrics come from the rows below, not predict()
        rows = task.predict_rows(trainer, prepared, eval_split)
        # point metrics plus seeded bootstrap intervals, the same as `tuneproof eval` computes
        summary = summarize(rows, task, seed=config.training.seed, main_metric=main_metric)
        val_metrics: dict[str, Any] = {}
        if has_eval and (eval_split != "validation" or not evaluate_test):
            # compute_metrics may be split-specific (QA maps features back to that split's rows)
            trainer.compute_metrics = task.compute_metrics(prepared, "validation")
            val_metrics = _strip_timing(trainer.evaluate())
        timing = {
            k: float(v) for k, v in train_out.metrics.items() if any(t in k for t in TIMING_KEYS)
        }
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
                    # Mean of the logged step losses: HF's own train_loss only covers the steps
                    # since a resume, so a resumed run would report a different figure.
                    "train_loss": _mean_logged_loss(trainer.state.log_history),
                    "best_checkpoint": _relative(trainer.state.best_model_checkpoint, work),
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
        close_trackers(config)  # after predict/evaluate, which the W&B callback logs too
        if not main:  # the main process writes the run directory; this one only takes part
            model_tmp = on_main(lambda: None)  # in gathering a sharded (FSDP) model to save
            if config.training.fsdp:
                trainer.save_model(str(model_tmp))
            on_main(lambda: None)  # the main process moves the folder once every rank is done
            return RunResult(output_dir, metrics, strategy, timing=timing)
        with io.atomic_dir(work / "model") as tmp:
            on_main(lambda: tmp)  # every process saves into the same folder
            trainer.save_model(str(tmp))
            on_main(lambda: None)
            # no pickle in the shareable model folder: the Trainer's training_args.bin becomes JSON
            (tmp / "training_args.bin").unlink(missing_ok=True)
            io.write_text(tmp / "training_args.json", trainer.args.to_json_string())
            tokenizer.save_pretrained(str(tmp))
            if (tmp / "adapter_config.json").exists():
                save_adapter_base(trainer.model, tmp, config.model.name)
        rundir.write_predictions(work, rows)
        rundir.write(work, metrics)
        if not keep_checkpoints:
            prune_checkpoints(work / "checkpoints", trainer.state.best_model_checkpoint)

        result = RunResult(
            output_dir, metrics, strategy, checks_summary=checks_summary, timing=timing
        )
        manifest.status = "complete"
        manifest.ended = now()
        manifest.timing = timing
        manifest.resources = measure.resources(estimate)  # estimate: None on other ranks only
        rundir.write(work, manifest)
        if tracked is not None:
            result.tracking_uri, result.tracking_run_id = tracked.uri, tracked.run_id
            _finish_tracking(tracked, work, metrics)
    publish(work, output_dir)
    if config.baselines:  # "was fine-tuning worth it?" on the same test rows (baselines.json)
        from tuneproof.evaluate.baselines import run_baselines

        run_baselines(output_dir, config.baselines)
    return result


def world_size() -> int:
    """Processes training together: ``WORLD_SIZE`` as torchrun and accelerate launch set it."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def is_main_process() -> bool:
    """Rank 0 (``RANK``, set by torchrun and accelerate launch) or a plain single process."""
    return int(os.environ.get("RANK", "0") or 0) == 0


def on_main(fn: Callable[[], Any]) -> Any:
    """``fn()`` on the main process, its result shared with every process (pickled, through
    the launcher's process group); a ``UserError`` there is raised on every process, so a bad
    input stops all of them with one message instead of leaving the others waiting."""
    if world_size() == 1:
        return fn()
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():  # the Trainer's accelerate state reuses this process group
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    payload: list[Any] = [None]
    error: BaseException | None = None
    if is_main_process():
        try:
            payload = [("ok", fn())]
        except UserError as err:
            payload, error = [("user", str(err))], err
        except BaseException as err:
            payload, error = [("fail", failure_reason(err))], err
    dist.broadcast_object_list(payload, src=0)
    if error is not None:
        raise error
    kind, value = payload[0]
    if kind == "user":
        raise UserError(value)
    if kind == "fail":
        raise RuntimeError(f"the main process failed: {value}")
    return value


@contextmanager
def tracker_env(config: RunConfig, work: Path) -> Iterator[None]:
    """W&B's run files go under the run directory (``RUN/wandb``) and its project is the
    tracking experiment, unless ``WANDB_DIR`` / ``WANDB_PROJECT`` say otherwise; restored after."""
    if "wandb" not in config.tracking.report_to:
        yield
        return
    saved = {k: os.environ.get(k) for k in ("WANDB_DIR", "WANDB_PROJECT")}
    os.environ.setdefault("WANDB_DIR", str(work))
    os.environ.setdefault("WANDB_PROJECT", config.tracking.experiment)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def place_tensorboard(trainer: Any, work: Path) -> None:
    """TensorBoard event files in ``RUN/tensorboard`` (not under checkpoints/) unless
    ``TENSORBOARD_LOGGING_DIR`` names another folder."""
    from transformers.integrations import TensorBoardCallback

    for cb in trainer.callback_handler.callbacks:
        if isinstance(cb, TensorBoardCallback) and cb.logging_dir is None:
            cb.logging_dir = str(work / "tensorboard")


def close_trackers(config: RunConfig) -> None:
    """End the W&B run the Trainer opened: the next run (another seed) gets its own."""
    if "wandb" in config.tracking.report_to and is_main_process():
        import wandb

        if wandb.run is not None:
            wandb.finish()


def prune_checkpoints(folder: Path, best: str | None) -> list[str]:
    """After a complete run, keep only the best checkpoint (the last when none was selected): the
    rest are hundreds of MB of optimizer state nobody resumes from (``--keep-checkpoints`` keeps
    them). Returns the names removed."""
    if not folder.is_dir():
        return []
    ckpts = sorted(
        (p for p in folder.iterdir() if p.is_dir() and p.name.startswith("checkpoint-")),
        key=lambda p: int(p.name.rsplit("-", 1)[-1]) if p.name.rsplit("-", 1)[-1].isdigit() else -1,
    )
    if not ckpts:
        return []
    keep = Path(best).name if best else ckpts[-1].name
    removed = []
    for p in ckpts:
        if p.name != keep:
            shutil.rmtree(p)
            removed.append(p.name)
    return removed


def _note(console: Console) -> Callable[[str], None]:
    def note(message: str) -> None:
        console.print(f"[yellow]note:[/] {message}", highlight=False)

    return note


def stage_dir(output_dir: Path, *, resume: bool) -> Path:
    """Where this run writes: the run directory itself for a new run or a resume; a sibling
    temp folder (same parent, so the final rename is atomic) when an existing run is replaced,
    which stays untouched until the new run completes (:func:`publish`)."""
    replacing = (
        not resume
        and output_dir.exists()
        and any(p.name not in KEEP_FILES for p in output_dir.iterdir())
    )
    if not replacing:
        output_dir.mkdir(parents=True, exist_ok=True)
        return output_dir
    work = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.new-", dir=output_dir.parent))
    work.chmod(0o777 & ~io.current_umask())  # mkdtemp makes 0700; honour the umask
    for name in KEEP_FILES:  # the plan written for this run stays with it
        if (output_dir / name).is_file():
            shutil.copy2(output_dir / name, work / name)
    return work


def publish(work: Path, output_dir: Path) -> None:
    """Swap a completed staged run in for the old one: old moved aside, new renamed in, old
    removed. No moment without a complete run on disk under one of the two names."""
    if work == output_dir:
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.old-", dir=output_dir.parent))
    os.replace(output_dir, aside / output_dir.name)
    os.replace(work, output_dir)
    shutil.rmtree(aside)


@contextmanager
def failure_recorded(
    work: Path, output_dir: Path, manifest: rundir.Manifest, tracked: Any = None
) -> Iterator[None]:
    """An exception, Ctrl-C or SIGTERM while training leaves ``manifest.json`` saying
    ``failed`` and why (and its MLflow run FAILED, with that manifest); the error is re-raised.
    A staged replacement is removed (the old run stays as it was)."""
    try:
        yield
    except BaseException as err:
        manifest.status, manifest.ended = "failed", now()
        manifest.reason = failure_reason(err)
        rundir.write(work, manifest)
        if tracked is not None:
            from tuneproof import track

            try:
                track.log_files(tracked, [work / rundir.MANIFEST])
                track.finish(tracked, "failed")
            except Exception:  # the tracking store is down: the manifest already says it
                pass
        if work != output_dir:
            shutil.rmtree(work, ignore_errors=True)
        raise


def failure_reason(err: BaseException) -> str:
    if isinstance(err, Terminated):
        return "terminated by SIGTERM"
    if isinstance(err, KeyboardInterrupt):
        return "interrupted (SIGINT / Ctrl-C)"
    text = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """SIGTERM (a scheduler's kill, `docker stop`) raises :class:`Terminated` in the main thread,
    so the run unwinds through ``finally`` blocks like Ctrl-C instead of vanishing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated("terminated by SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def lint_record(report: LintReport) -> rundir.Lint:
    return rundir.Lint(
        findings=[
            rundir.LintFinding(severity=f.severity, argument=f.key, message=f.message, fix=f.fix)
            for f in report.findings
        ]
    )


def lint_arguments(kwargs: dict[str, Any], config: RunConfig, *, train_rows: int) -> LintReport:
    """The TrainingArguments linter on the arguments this run actually uses (lint.json)."""
    from tuneproof.plan.args import LintContext, lint_mapping

    return lint_mapping(
        kwargs,
        "TrainingArguments (resolved by tuneproof.arguments.training_kwargs)",
        strategy=config.strategy.kind,
        context=LintContext(train_rows=train_rows),
    )


def memory_estimate(
    config: RunConfig, prepared: Prepared, note: Callable[[str], None]
) -> rundir.Resources:
    """The planner's peak-memory estimate for this config, or why there is none."""
    from tuneproof.plan.estimate import run_memory_estimate

    try:
        est = run_memory_estimate(config, num_labels=len(prepared.label_names or ()) or 2)
    except Exception as err:  # an estimate is advisory: record why it is missing, go on
        reason = failure_reason(err)
        note(f"no memory estimate for this run ({reason})")
        return rundir.Resources(estimate_note=f"not estimated: {reason}")
    where = f"{est['strategy']}, batch {est['batch']}, {est['seq']} tokens"
    return rundir.Resources(
        estimated_peak_bytes=est["peak_bytes"], estimate_note=f"{where}; {est['note']}"
    )


def run_checks(
    config: RunConfig,
    loaded: LoadedData,
    tokenizer: Any,
    token_counts: dict[str, list[TokenCount]] | None = None,
) -> CheckReport:
    """Data-quality checks on the loaded data, in memory, before anything is written; a finding
    at ``checks.fail_on`` stops the run here (the old run, if any, is untouched)."""
    from tuneproof.checks import run_data_checks

    report = run_data_checks(config, loaded, tokenizer=tokenizer, token_counts=token_counts)
    summary = report.summary
    fail_on = config.checks.fail_on
    if fail_on != "never" and report.reaches(fail_on):
        worst = report.findings[0]
        raise UserError(
            f"data checks found {summary.errors} error(s) and {summary.warnings} warning(s) "
            f"(checks.fail_on: {fail_on}); worst: {worst.check} in {worst.split} "
            f"({worst.severity}); nothing was written. See them with `tuneproof check CONFIG`"
        )
    return report


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


def _start_tracking(
    config: RunConfig,
    output_dir: Path,
    manifest: rundir.Manifest,
    loaded: LoadedData,
    uri: str | None,
    resume_from: Path | None,
    extra_tags: dict[str, str] | None = None,
) -> Any:
    """The MLflow run, created when training starts (a resumed run continues its own)."""
    if not config.tracking.enabled or "mlflow" not in config.tracking.report_to:
        return None
    from tuneproof import track

    if resume_from is not None:
        old = rundir.read_optional(output_dir, rundir.Manifest)
        if old is not None and old.tracking is not None and old.tracking.run_id:
            return track.Tracked(
                old.tracking.uri or track.default_tracking_uri(uri), old.tracking.run_id
            )
    versions = manifest.versions
    tags = {
        "tuneproof.run_dir": str(output_dir.resolve()),
        "tuneproof.task": config.task,
        "tuneproof.version": str(versions.get("tuneproof") or ""),
        "mlflow.source.git.commit": manifest.git.commit or "",
        "tuneproof.git_dirty": str(manifest.git.dirty),
        **(extra_tags or {}),
    }
    datasets = [
        track.DatasetRef(split, src.path, src.sha256, src.rows)
        for split, src in loaded.sources.items()
    ]
    return track.start(
        uri=track.default_tracking_uri(uri or config.tracking.uri),
        experiment=config.tracking.experiment,
        run_name=config.name or output_dir.name,
        params=config.to_dict(),
        tags=tags,
        datasets=datasets,
    )


def _finish_tracking(tracked: Any, work: Path, record: rundir.Metrics) -> None:
    """The evaluation (headline and every slice with its CI) and the run's files, then the MLflow
    run ends FINISHED with the final manifest."""
    from tuneproof import track

    doc = rundir.dump(record)
    track.log_evaluation(tracked, doc, prefix=record.split)  # headline, slices, OOD, with CIs
    track.log_metrics(tracked, track.metric_values(record))  # the keys of a headline-only view
    files = ("config.yaml", "manifest.json", "metrics.json", "predictions.jsonl", "checks.json",
             "checks.md", "lint.json", "plan.md")  # fmt: skip
    track.log_files(tracked, [work / f for f in files])
    track.finish(tracked, "complete")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
