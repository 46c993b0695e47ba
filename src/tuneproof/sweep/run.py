"""`tuneproof sweep`: the study loop around ordinary training runs, then the best config on test.

1. Validate everything before any trial: the config, the search space (each bound and choice
   applied to the config and validated as a RunConfig), the metric and the storage.
2. Create the study (or join it: same ``--study`` on the same storage), with exactly
   ``n_trials`` trials queued, trial 0 the starting config when it lies in the space.
3. Work: claim a queued trial, sample its parameters (TPE, seeded by the sweep seed + the trial
   number, so workers never draw the same startup points), train it with
   :func:`tuneproof.train.run` into ``SWEEP/trials/trial-NNN`` on validation only (the test split
   is never predicted), pruned by Optuna's median pruner on each validation evaluation.
4. Finish (one process, under a file lock): retrain the best trial's config (``best.yaml``) into
   ``SWEEP/best`` with the test split, the only test evaluation of the sweep, and check that it
   reproduces the trial's validation value; write ``sweep.json``, ``sweep.md``/``sweep.html``;
   end the MLflow parent run whose nested children are the trials.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneproof import io, rundir
from tuneproof.errors import UserError
from tuneproof.sweep import study as st
from tuneproof.sweep.space import SearchSpace, default_space, load_space, parse_space, validate

if TYPE_CHECKING:
    from rich.console import Console

PARENT_ATTR = "tuneproof.mlflow_parent"
RUN_ATTR = "tuneproof.run"
DURATION_ATTR = "tuneproof.duration_s"
NOTE_ATTR = "tuneproof.note"


@dataclass
class SweepOptions:
    """What ``tuneproof sweep`` was asked (the CLI's options, as a library call)."""

    config: Path
    output: Path
    space: Path | None = None
    trials: int = 20
    timeout: float | None = None
    metric: str | None = None
    direction: str | None = None  # "maximize" / "minimize"; default: the metric's own
    storage: str | None = None
    study: str | None = None
    workers: int = 1
    tracking_uri: str | None = None
    seed: int | None = None
    prune: bool = True
    heartbeat_interval: int = 60
    grace_period: int | None = None
    overrides: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """Everything a worker needs, resolved and validated once (picklable for spawned workers)."""

    base: dict[str, Any]  # the resolved starting config (absolute data paths)
    space: dict[str, dict[str, Any]]
    space_source: str
    metric: str
    direction: str
    seed: int
    n_trials: int
    study: str
    storage: st.StorageSpec
    sweep_dir: Path
    tracking_uri: str | None  # None: tracking off
    prune: bool
    timeout: float | None
    command: list[str]

    def search_space(self) -> SearchSpace:
        return parse_space(self.space, self.space_source)

    @property
    def name(self) -> str:
        return str(self.base.get("name") or self.sweep_dir.name)


@dataclass
class SweepResult:
    sweep_dir: Path
    record: rundir.Sweep
    created: bool


def plan(opts: SweepOptions) -> Plan:
    """Validate the config, space, metric and storage: nothing is written."""
    from tuneproof.tasks import get_task, load_config, parse_config

    if opts.trials < 1:
        raise UserError("--trials: must be at least 1")
    if opts.workers < 1:
        raise UserError("--workers: must be at least 1")
    cfg = load_config(opts.config, opts.overrides)
    base = cfg.to_dict()
    space = load_space(opts.space) if opts.space else default_space(cfg.strategy.kind)
    validate(space, base, parse_config)
    task = get_task(cfg.task)
    metric = opts.metric or cfg.training.metric_for_best_model or task.main_metric
    metric = metric.removeprefix("eval_")
    direction = opts.direction or (
        "minimize" if metric.endswith("loss") or not task.greater_is_better else "maximize"
    )
    if direction not in ("maximize", "minimize"):
        raise UserError(f"--direction {direction}: use max or min")
    if cfg.training.eval_strategy == "no":
        raise UserError(
            f"{opts.config}: training.eval_strategy is 'no'; a sweep selects on the validation "
            "metric, so set eval_strategy: epoch (or steps)"
        )
    sweep_dir = opts.output.resolve()
    io.ensure_writable(sweep_dir, what="-o")
    tracking_uri = None
    if cfg.tracking.enabled:
        from tuneproof import track

        tracking_uri = track.default_tracking_uri(opts.tracking_uri or cfg.tracking.uri)
    return Plan(
        base=base,
        space=space.to_dict(),
        space_source=space.source,
        metric=metric,
        direction=direction,
        seed=cfg.training.seed if opts.seed is None else opts.seed,
        n_trials=opts.trials,
        study=opts.study or sweep_dir.name,
        storage=st.storage_spec(
            opts.storage, sweep_dir, opts.heartbeat_interval, opts.grace_period
        ),
        sweep_dir=sweep_dir,
        tracking_uri=tracking_uri,
        prune=opts.prune,
        timeout=opts.timeout,
        command=list(sys.argv),
    )


def run_sweep(opts: SweepOptions, console: Console | None = None) -> SweepResult:
    """Plan, work (in this process, or ``opts.workers`` spawned processes), finish."""
    from rich.console import Console

    console = console or Console(stderr=True)
    p = plan(opts)
    created = False
    if opts.workers == 1:
        created = work(p, console)
    else:
        ctx = multiprocessing.get_context("spawn")
        logs = p.sweep_dir / "workers"
        logs.mkdir(parents=True, exist_ok=True)
        procs = [
            ctx.Process(target=_worker_entry, args=(p, logs / f"worker-{i}.log"), daemon=False)
            for i in range(opts.workers)
        ]
        for proc in procs:
            proc.start()
        console.print(f"sweep: {opts.workers} workers on study {p.study} (logs in {logs})")
        for proc in procs:
            proc.join()
        bad = [i for i, proc in enumerate(procs) if proc.exitcode != 0]
        if bad:
            console.print(f"[yellow]note:[/] worker(s) {bad} exited with an error; see {logs}")
    record = finish(p, console)
    return SweepResult(p.sweep_dir, record, created)


def _worker_entry(p: Plan, log: Path) -> None:
    from rich.console import Console

    with log.open("a", encoding="utf-8") as fh:
        sys.stdout = sys.stderr = fh
        try:
            work(p, Console(file=fh, width=120))
        except UserError as err:
            print(f"error: {err}", file=fh)
            raise SystemExit(2) from None


# --- working ---------------------------------------------------------------------------------


def _samplers(p: Plan, number: int = 0) -> tuple[Any, Any]:
    import optuna

    startup = min(10, max(2, p.n_trials // 4))
    sampler = optuna.samplers.TPESampler(seed=p.seed + number, n_startup_trials=startup)
    pruner: Any = (
        optuna.pruners.MedianPruner(n_startup_trials=min(5, max(1, p.n_trials // 4)))
        if p.prune
        else optuna.pruners.NopPruner()
    )
    return sampler, pruner


def _on_failed(p: Plan) -> Any:
    """A trial whose worker stopped beating: its run directory and MLflow run say failed too."""

    def on_failed(study: Any, frozen: Any) -> None:
        reason = (
            f"worker {frozen.user_attrs.get(st.WORKER_ATTR, '?')} stopped (no heartbeat for "
            f"{p.storage.grace} s); trial failed by the study"
        )
        rel = frozen.user_attrs.get(RUN_ATTR)
        run_dir = p.sweep_dir / rel if rel else None
        if run_dir is None or not run_dir.is_dir():
            return
        with contextlib.suppress(UserError):
            manifest = rundir.read_optional(run_dir, rundir.Manifest)
            if manifest is not None and manifest.status == "running":
                from tuneproof.train.manifest import now

                manifest.status, manifest.reason, manifest.ended = "failed", reason, now()
                rundir.write(run_dir, manifest)
                if manifest.tracking is not None and manifest.tracking.run_id:
                    from tuneproof import track

                    with contextlib.suppress(Exception):
                        t = track.Tracked(manifest.tracking.uri or "", manifest.tracking.run_id)
                        track.finish(t, "failed")

    return on_failed


def _enqueue(p: Plan) -> Any:
    def enqueue(study: Any) -> None:
        space = p.search_space()
        study.set_user_attr("tuneproof.n_trials", p.n_trials)
        study.set_user_attr("tuneproof.metric", p.metric)
        study.set_user_attr("tuneproof.space", p.space)
        if p.tracking_uri is not None:
            from tuneproof import track

            parent = track.start(
                uri=p.tracking_uri,
                experiment=str(p.base["tracking"]["experiment"]),
                run_name=f"sweep {p.study}",
                params={
                    "sweep": {"trials": p.n_trials, "metric": p.metric, "seed": p.seed},
                    "space": p.space,
                    "config": p.base,
                },
                tags={
                    "tuneproof.sweep": p.study,
                    "tuneproof.sweep_dir": str(p.sweep_dir),
                    "tuneproof.storage": p.storage.shown(),
                },
            )
            study.set_user_attr(PARENT_ATTR, parent.run_id)
        start = space.current(p.base)
        queued = 0
        if space.in_space(start):
            study.enqueue_trial({q.path: q.fixed(start[q.path]) for q in space.params})
            study.set_user_attr("tuneproof.baseline_trial", 0)
            queued = 1
        for _ in range(p.n_trials - queued):
            study.enqueue_trial({})

    return enqueue


def open_study(p: Plan) -> tuple[Any, Any, bool]:
    storage = p.storage.open(on_failed=_on_failed(p))
    sampler, pruner = _samplers(p)
    study, created = st.create_or_join(
        storage, p.study, direction=p.direction, sampler=sampler, pruner=pruner, enqueue=_enqueue(p)
    )
    return study, storage, created


def work(p: Plan, console: Console) -> bool:
    """Run queued trials until none is left (or the timeout), then wait for the other workers'
    trials to end (a dead worker's trial is failed once its heartbeat is stale). Returns whether
    this process created the study."""
    study, storage, created = open_study(p)
    theirs = study.user_attrs.get("tuneproof.n_trials")
    if not created and theirs != p.n_trials:
        console.print(f"[yellow]note:[/] joined study {p.study}: it runs {theirs} trials")
    started = time.monotonic()
    on_failed = _on_failed(p)
    while p.timeout is None or time.monotonic() - started < p.timeout:
        st.fail_stale(study, storage, p.storage.grace, on_failed)
        number = st.claim(study, storage)
        if number is None:
            break
        run_trial(p, study, storage, number, console)
    while st.running(study):
        st.fail_stale(study, storage, p.storage.grace, on_failed)
        time.sleep(min(2.0, p.storage.heartbeat_interval))
    return created


def pruning_callback(trial: Any, metric: str) -> Any:
    """Report each validation evaluation to the trial; stop the run when the pruner says so."""
    import optuna
    from transformers import TrainerCallback

    class PruneOnValidation(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.training = True

        def on_train_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
            self.training = False  # the final evaluate() after training is not pruned

        def on_evaluate(
            self, args: Any, state: Any, control: Any, metrics: Any = None, **_: Any
        ) -> None:
            value = (metrics or {}).get(f"eval_{metric}")
            if not self.training or not isinstance(value, (int, float)):
                return
            # the median is taken over trials at the same step: per epoch when evaluating per
            # epoch (trials with another batch size have other step numbers), else per step
            per_epoch = getattr(args.eval_strategy, "value", args.eval_strategy) == "epoch"
            step = round(float(state.epoch or 0)) if per_epoch else int(state.global_step)
            where = f"epoch {step}" if per_epoch else f"step {step}"
            trial.report(float(value), step=step)
            if trial.should_prune():
                raise optuna.TrialPruned(
                    f"pruned at {where}: validation {metric} {value:.4g} "
                    "is worse than the median of earlier trials there"
                )

    return PruneOnValidation()


def trial_config(p: Plan, values: dict[str, Any], number: int) -> Any:
    from tuneproof.tasks import parse_config

    raw = p.search_space().apply(p.base, values)
    raw["name"] = f"{p.name}-trial-{number:03d}"
    # baselines are scored once, by the best run on the test split (best.yaml keeps them): on
    # every trial they would cost an embedding pass and score validation rows nobody reads
    raw["baselines"] = []
    return parse_config(raw, f"sweep trial {number}")


def run_trial(p: Plan, study: Any, storage: Any, number: int, console: Console) -> None:
    import optuna
    from optuna.trial import TrialState

    from tuneproof.train import run

    tid = st.trial_id(study, storage, number)
    study.sampler, _ = _samplers(p, number)  # seeded per trial: reproducible, never shared
    trial = optuna.trial.Trial(study, tid)
    rel = f"trials/trial-{number:03d}"
    storage.set_trial_user_attr(tid, RUN_ATTR, rel)
    started = time.monotonic()
    state, value, note = TrialState.FAIL, None, None
    with st.heartbeat(storage, tid, p.storage.heartbeat_interval):
        try:
            values = {q.path: q.suggest(trial) for q in p.search_space().params}
            console.print(f"sweep: trial {number} {values}", highlight=False)
            config = trial_config(p, values, number)
            tags = {"tuneproof.sweep": p.study, "tuneproof.sweep.trial": str(number)}
            parent = study.user_attrs.get(PARENT_ATTR)
            if parent:
                tags["mlflow.parentRunId"] = str(parent)
            result = run(
                config,
                p.sweep_dir / rel,
                skip_checks=True,  # the same data every trial: the best run checks it once
                command=p.command,
                tracking_uri=p.tracking_uri,
                console=console,
                callbacks=[pruning_callback(trial, p.metric)],
                evaluate_test=False,
                tracking_tags=tags,
            )
            got = result.metrics.validation.get(p.metric)
            if not isinstance(got, (int, float)) or math.isnan(got):
                have = ", ".join(sorted(result.metrics.validation)) or "none"
                note = f"no validation metric '{p.metric}' (the run has: {have}); use --metric"
            else:
                state, value = TrialState.COMPLETE, float(got)
        except optuna.TrialPruned as err:
            state, note = TrialState.PRUNED, str(err)
        except UserError as err:
            note = str(err)
        except Exception as err:  # a trial's crash fails that trial, not the study
            from tuneproof.train.run import failure_reason

            note = failure_reason(err)
        storage.set_trial_user_attr(tid, DURATION_ATTR, time.monotonic() - started)
        if note:
            storage.set_trial_user_attr(tid, NOTE_ATTR, note[:500])
    if state == TrialState.COMPLETE:
        study.tell(number, value)
    else:
        study.tell(number, state=state)
    shown = f"{p.metric} {value:.4g}" if value is not None else (note or "")
    console.print(f"sweep: trial {number} {state.name}: {shown}", highlight=False)


# --- finishing -------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _trials(p: Plan, study: Any) -> list[rundir.SweepTrial]:
    out = []
    for t in study.get_trials(deepcopy=False):
        note = t.user_attrs.get(NOTE_ATTR)
        rel = t.user_attrs.get(RUN_ATTR)
        if t.state.name == "FAIL" and not note and rel:
            manifest = _manifest(p.sweep_dir / rel)
            note = manifest.reason if manifest is not None else None
        duration = t.user_attrs.get(DURATION_ATTR)
        if duration is None and t.datetime_start and t.datetime_complete:
            duration = (t.datetime_complete - t.datetime_start).total_seconds()
        value = t.value
        if value is None and t.state.name == "PRUNED" and t.intermediate_values:
            value = t.intermediate_values[max(t.intermediate_values)]
        out.append(
            rundir.SweepTrial(
                number=t.number,
                state=t.state.name,
                params=dict(t.params),
                value=value,
                duration_s=duration,
                run=rel,
                worker=t.user_attrs.get(st.WORKER_ATTR),
                note=note,
            )
        )
    return out


def _manifest(run_dir: Path) -> rundir.Manifest | None:
    try:
        return rundir.read_optional(run_dir, rundir.Manifest)
    except UserError:
        return None


def _importances(study: Any) -> tuple[dict[str, float], str | None]:
    import optuna

    try:
        raw = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError) as err:
        return {}, f"no importances: {str(err).splitlines()[0][:160]}"
    return {k: float(v) for k, v in raw.items()}, None


def finish(p: Plan, console: Console) -> rundir.Sweep:
    """Write the sweep's outputs once (a second finisher finds them written and returns them)."""
    with _locked(p.sweep_dir / ".finish.lock"):
        study, _storage, _ = open_study(p)
        trials = _trials(p, study)
        done = {(t.number, t.state) for t in trials}
        old = None
        with contextlib.suppress(UserError):
            old = rundir.read_optional(p.sweep_dir, rundir.Sweep)
        if (
            old is not None
            and old.study == p.study
            and {(t.number, t.state) for t in old.trials} == done
        ):
            return old
        parent = study.user_attrs.get(PARENT_ATTR)
        importances, importance_note = _importances(study)
        record = rundir.Sweep(
            study=p.study,
            storage=p.storage.shown(),
            metric=p.metric,
            direction=p.direction,  # type: ignore[arg-type]
            sampler=f"TPESampler(seed={p.seed} + trial number)",
            seed=p.seed,
            n_trials=int(study.user_attrs.get("tuneproof.n_trials", p.n_trials)),
            space=study.user_attrs.get("tuneproof.space", p.space),
            baseline_trial=study.user_attrs.get("tuneproof.baseline_trial"),
            trials=trials,
            importances=importances,
            importance_note=importance_note,
            tracking=rundir.Tracking(uri=p.tracking_uri, run_id=parent) if parent else None,
        )
        complete = [t for t in trials if t.state == "COMPLETE" and t.value is not None]
        if complete:
            record.best = train_best(p, study, console)
        rundir.write(p.sweep_dir, record)
        from tuneproof.sweep.render import write_reports

        written = write_reports(p.sweep_dir, record)
        if parent and p.tracking_uri:
            _finish_parent(p, str(parent), record, [p.sweep_dir / rundir.SWEEP, *written])
        if not complete:
            raise UserError(
                f"{p.sweep_dir}: no trial completed ({len(trials)} trials); see the reasons in "
                f"{p.sweep_dir / rundir.SWEEP}"
            )
        return record


def train_best(p: Plan, study: Any, console: Console) -> rundir.SweepBest:
    """``best.yaml`` (the best trial's own config.yaml) trained into ``SWEEP/best`` with the test
    split: the sweep's one test evaluation, and a check that the trial's value reproduces."""
    from tuneproof.tasks import parse_config
    from tuneproof.train import run

    best = study.best_trial
    rel = best.user_attrs.get(RUN_ATTR) or f"trials/trial-{best.number:03d}"
    config = rundir.read_config(p.sweep_dir / rel)
    config.name = f"{p.name}-best"
    config.baselines = parse_config(p.base, "sweep config").baselines
    io.write_text(p.sweep_dir / "best.yaml", config.to_yaml())
    console.print(
        f"sweep: best trial {best.number} ({p.metric} {best.value:.4g}); training best.yaml"
    )
    parent = study.user_attrs.get(PARENT_ATTR)
    tags = {"tuneproof.sweep": p.study, "tuneproof.sweep.best_of": str(parent or "")}
    result = run(
        config,
        p.sweep_dir / "best",
        overwrite=True,
        command=p.command,
        tracking_uri=p.tracking_uri,
        console=console,
        tracking_tags=tags,
    )
    again = result.metrics.validation.get(p.metric)
    test: dict[str, Any] = {}
    if result.metrics.split == "test":
        test = {"n": result.metrics.overall.n}
        for v in result.metrics.overall.values():
            test[v.name] = v.value
            if v.ci is not None:
                test[f"{v.name}_ci"] = list(v.ci)
    return rundir.SweepBest(
        trial=best.number,
        value=float(best.value),
        params=dict(best.params),
        run="best",
        reproduced_value=float(again) if isinstance(again, (int, float)) else None,
        reproduced=again == best.value if isinstance(again, (int, float)) else None,
        test=test,
    )


def _finish_parent(p: Plan, parent: str, record: rundir.Sweep, files: list[Path]) -> None:
    from tuneproof import track

    assert p.tracking_uri is not None
    run = track.Tracked(p.tracking_uri, parent)
    counts: dict[str, float] = {}
    for t in record.trials:
        counts[f"trials/{t.state.lower()}"] = counts.get(f"trials/{t.state.lower()}", 0) + 1
    if record.best is not None:
        counts[f"best/validation/{p.metric}"] = record.best.value
        counts["best/trial"] = record.best.trial
        for k, v in record.best.test.items():
            if isinstance(v, (int, float)):
                counts[f"best/test/{k}"] = v
    for t in record.trials:
        if t.value is not None:
            track.log_metrics(run, {f"trial/{p.metric}": t.value}, step=t.number)
    track.log_metrics(run, counts)
    track.log_files(run, [f for f in files if f.is_file()])
    best_yaml = p.sweep_dir / "best.yaml"
    if best_yaml.is_file():
        track.log_files(run, [best_yaml])
    track.finish(run, "complete" if record.best is not None else "failed")
