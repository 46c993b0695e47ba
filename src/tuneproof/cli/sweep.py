"""`sweep`: Optuna hyperparameter search over ordinary run directories (docs/sweep.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tuneproof.cli._common import console, err_console
from tuneproof.errors import UserError


def sweep(
    config: Annotated[Path, typer.Argument(help="the starting run config (YAML)")],
    space: Annotated[
        Path | None,
        typer.Option(
            help="search space YAML: 'training.learning_rate: {log: [1.0e-5, 1.0e-3]}', "
            "{float: [a, b]}, {int: [a, b]}, {choice: [...]} over any config path "
            "[default: a space for the config's strategy]"
        ),
    ] = None,
    trials: Annotated[int, typer.Option(help="trials in the study (all workers together)")] = 20,
    timeout: Annotated[
        float | None, typer.Option(help="stop claiming new trials after this many seconds")
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(help="validation metric to optimise [default: the task's selection metric]"),
    ] = None,
    direction: Annotated[
        str | None, typer.Option(help="max or min [default: max, min for a loss]")
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="Optuna storage: an RDB URL (postgresql+psycopg://..., sqlite:///...) or a "
            "journal file path [default: SWEEP/journal.log]"
        ),
    ] = None,
    study: Annotated[
        str | None,
        typer.Option(help="study name; an existing one is joined [default: the -o folder name]"),
    ] = None,
    workers: Annotated[int, typer.Option(help="worker processes on this machine")] = 1,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="sweep directory [default: sweeps/<name>]")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="sampler seed [default: the config's training.seed]")
    ] = None,
    prune: Annotated[bool, typer.Option(help="median pruner on each validation evaluation")] = True,
    heartbeat_interval: Annotated[
        int, typer.Option(help="seconds between a running trial's heartbeats")
    ] = 60,
    grace_period: Annotated[
        int | None,
        typer.Option(help="seconds without a heartbeat before a trial is failed [default: 2×]"),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="override a config value first, e.g. training.epochs=2"),
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(help="MLflow tracking URI [default: $MLFLOW_TRACKING_URI or ./mlflow.db]"),
    ] = None,
) -> None:
    """Search hyperparameters with Optuna (TPE, seeded; median pruning) on the validation split.

    Each trial is an ordinary run directory under SWEEP/trials/ (eval, report and compare work on
    it), evaluated on validation only; the best configuration is written to SWEEP/best.yaml and
    retrained into SWEEP/best/, the only run that reads the test split. Writes sweep.json,
    sweep.md and sweep.html; in MLflow one parent run with a nested run per trial.
    Several processes (`--workers N`, or `sweep` with the same `--study` and `--storage` on other
    machines) share one study; a killed worker's trial is failed by heartbeat.
    Example: `tuneproof sweep examples/polarity-lora.yaml --trials 20 -o sweeps/lora`
    """
    from tuneproof.sweep import SweepOptions, run_sweep
    from tuneproof.tasks import load_config

    directions = {"max": "maximize", "min": "minimize", "maximize": "maximize"}
    directions["minimize"] = "minimize"
    if direction is not None and direction not in directions:
        raise UserError(f"--direction {direction}: use max or min")
    if output is None:
        output = Path("sweeps") / (load_config(config, overrides or ()).name or config.stem)
    result = run_sweep(
        SweepOptions(
            config=config,
            output=output,
            space=space,
            trials=trials,
            timeout=timeout,
            metric=metric,
            direction=directions[direction] if direction else None,
            storage=storage,
            study=study,
            workers=workers,
            tracking_uri=tracking_uri,
            seed=seed,
            prune=prune,
            heartbeat_interval=heartbeat_interval,
            grace_period=grace_period,
            overrides=list(overrides or []),
        ),
        console=err_console,
    )
    r = result.record
    counts: dict[str, int] = {}
    for t in r.trials:
        counts[t.state] = counts.get(t.state, 0) + 1
    shown = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
    console.print(f"sweep {r.study}: {len(r.trials)} trials ({shown})", highlight=False)
    if r.best is not None:
        b = r.best
        console.print(
            f"best: trial {b.trial}, validation {r.metric} {b.value:.4f} {b.params}",
            highlight=False,
        )
        if b.reproduced is not None:
            same = "identical" if b.reproduced else "DIFFERENT"
            console.print(
                f"best.yaml retrained: validation {r.metric} {b.reproduced_value} ({same})"
            )
        main = b.test.get(r.metric)
        if isinstance(main, (int, float)):
            console.print(f"test {r.metric} (best only): {main:.4f}")
    console.print(f"wrote {result.sweep_dir}/sweep.json, sweep.md, sweep.html, best.yaml")


def register(app: typer.Typer) -> None:
    app.command()(sweep)
