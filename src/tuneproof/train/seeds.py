"""`tuneproof train CONFIG --seeds 42,43,44`: one config trained once per seed, and the spread.

Layout (docs/training.md): the first seed trains the top-level run directory itself, exactly as
a one-seed run (model/, predictions.jsonl, slices: eval, report, stress and export work on it
unchanged); every further seed is a complete run directory of its own under ``seeds/<seed>/``.
The top-level ``metrics.json`` then gets a ``seeds`` section: each seed's test and validation
metrics, and per metric the mean, the sample standard deviation and a Student-t interval of the
mean across seeds. Only ``training.seed`` changes between seeds; the data split
(``data.split.seed``) stays, so the spread is the training's, not the data's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tuneproof import rundir
from tuneproof.config import RunConfig
from tuneproof.errors import UserError
from tuneproof.stats import t_interval

SEEDS_DIR = "seeds"
CONFIDENCE = 0.95


def parse_seeds(text: str) -> list[int]:
    """``"42,43,44"`` -> ``[42, 43, 44]``; a bad or repeated value is a one-line error."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            seed = int(part)
        except ValueError:
            raise UserError(
                f"--seeds {text!r}: '{part}' is not an integer; give e.g. --seeds 42,43,44"
            ) from None
        if seed in seeds:
            raise UserError(f"--seeds {text!r}: seed {seed} is given twice")
        seeds.append(seed)
    if not seeds:
        raise UserError("--seeds: give at least one seed, e.g. --seeds 42,43,44")
    return seeds


def seed_config(config: RunConfig, seed: int, *, track: bool) -> RunConfig:
    """The config of one seed: the same run with ``training.seed`` set (and, for every seed
    after the first, no MLflow run of its own: the top-level run's carries the spread)."""
    raw = config.to_dict()
    raw["training"]["seed"] = seed
    if not track:
        raw["tracking"]["enabled"] = False
    return RunConfig.model_validate(raw)


def seed_stat(values: Sequence[float], confidence: float = CONFIDENCE) -> rundir.SeedStat:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    ci = t_interval(list(values), confidence)
    return rundir.SeedStat(
        n=n, mean=mean, std=std, interval=list(ci) if ci else None, values=list(values)
    )


def spread(runs: Sequence[rundir.SeedRun], confidence: float = CONFIDENCE) -> rundir.SeedSpread:
    """Per metric present in every seed's results: its spread across the seeds (pure)."""
    series: dict[str, list[float]] = {}
    for i, r in enumerate(runs):
        values = {m.name: m.value for m in r.overall.values()}
        values |= {
            f"validation.{k}": float(v)
            for k, v in r.validation.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)
        }
        for name, v in values.items():
            if i == 0:
                series[name] = [v]
            elif name in series:
                series[name].append(v)
    stats = {k: seed_stat(v, confidence) for k, v in series.items() if len(v) == len(runs)}
    return rundir.SeedSpread(confidence=confidence, runs=list(runs), stats=stats)


def run_seeds(
    config: RunConfig,
    output_dir: str | Path,
    seeds: Sequence[int],
    *,
    train: Callable[..., Any],
    **kwargs: Any,
) -> Any:
    """Train ``config`` once per seed (``train`` is :func:`tuneproof.train.run.run`, passed in
    to keep this module below it); return the first seed's result with the spread in its
    metrics. A failing seed stops the run with its error: the top-level manifest lists only
    the seeds that completed."""
    from tuneproof.train.run import is_main_process

    output_dir = Path(output_dir)
    first, *rest = seeds
    result = train(seed_config(config, first, track=True), output_dir, **kwargs)
    runs = [_seed_run(first, ".", result.metrics)]
    for seed in rest:
        sub = output_dir / SEEDS_DIR / str(seed)
        seed_kwargs = {**kwargs, "overwrite": True, "resume": False}
        seed_kwargs["command"] = [*(kwargs.get("command") or []), f"(seed {seed})"]
        r = train(seed_config(config, seed, track=False), sub, **seed_kwargs)
        runs.append(_seed_run(seed, f"{SEEDS_DIR}/{seed}", r.metrics))
    result.metrics = result.metrics.model_copy(update={"seeds": spread(runs)})
    if not is_main_process():
        return result
    rundir.write(output_dir, result.metrics)
    manifest = rundir.read(output_dir, rundir.Manifest)
    rundir.write(output_dir, manifest.model_copy(update={"seeds": list(seeds)}))
    if result.tracking_run_id:
        _track_spread(result, output_dir)
    return result


def _seed_run(seed: int, path: str, metrics: rundir.Metrics) -> rundir.SeedRun:
    return rundir.SeedRun(
        seed=seed, path=path, overall=metrics.overall, validation=dict(metrics.validation)
    )


def _track_spread(result: Any, output_dir: Path) -> None:
    """The spread on the top-level MLflow run (``seeds.<metric>.mean`` / ``.std``) and the
    final metrics.json as its artifact."""
    from tuneproof import track

    assert result.metrics.seeds is not None
    values: dict[str, float] = {}
    for name, st in result.metrics.seeds.stats.items():
        values[f"seeds.{name}.mean"] = st.mean
        if st.std is not None:
            values[f"seeds.{name}.std"] = st.std
    tracked = track.Tracked(result.tracking_uri, result.tracking_run_id)
    track.log_metrics(tracked, values)
    track.log_files(tracked, [output_dir / rundir.METRICS, output_dir / rundir.MANIFEST])
