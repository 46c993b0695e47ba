"""MLflow tracking of a run, live: it starts when training starts and ends with the manifest.

The run directory stays the source of truth; MLflow is an index over many runs that shows a run
while it trains. There is no global "active run": :func:`start` returns a :class:`Tracked` handle
(URI + run id, also recorded in ``manifest.json``) that the trainer's callback, ``tuneproof eval``,
``stress`` and ``report`` pass back in, so every later step updates the *same* MLflow run. The
default store is a SQLite file in the current directory, so no server is needed; any tracking URI
works (an ``mlflow server`` is tested).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneproof.io import flatten

if TYPE_CHECKING:
    from tuneproof.rundir import Metrics


def default_tracking_uri(uri: str | None = None) -> str:
    """Explicit URI > $MLFLOW_TRACKING_URI > ./mlflow.db (SQLite)."""
    if uri:
        return uri
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def metric_values(metrics: Metrics) -> dict[str, float]:
    """The MLflow metric keys of a metrics.json: the headline as ``<split>/<metric>`` (the
    in-distribution rows only), the last validation as ``validation/<metric>``, and each
    out-of-distribution file as ``ood/<name>/<metric>``, never pooled into the headline."""
    out: dict[str, float] = {}
    if metrics.overall.n is not None:
        out[f"{metrics.split}/n"] = float(metrics.overall.n)
    for v in metrics.overall.values():
        out[f"{metrics.split}/{v.name}"] = v.value
    for k, raw in metrics.validation.items():
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw == raw:
            out[f"validation/{k}"] = float(raw)
    for name, result in metrics.ood.items():
        key = _key(name)
        if result.overall.n is not None:
            out[f"ood/{key}/n"] = float(result.overall.n)
        for v in result.overall.values():
            out[f"ood/{key}/{v.name}"] = v.value
    return out


@dataclass(frozen=True)
class Tracked:
    """One MLflow run, by address (what ``manifest.json`` records under ``tracking``)."""

    uri: str
    run_id: str

    def client(self) -> Any:
        from mlflow.tracking import MlflowClient

        for name in ("alembic", "mlflow"):
            logging.getLogger(name).setLevel(logging.WARNING)
        return MlflowClient(tracking_uri=self.uri)


@dataclass(frozen=True)
class DatasetRef:
    """A data split as an MLflow dataset input: name, source path and its sha256 digest."""

    split: str
    path: str
    sha256: str | None
    rows: int | None = None


def start(
    *,
    uri: str,
    experiment: str,
    run_name: str,
    params: Mapping[str, Any],
    tags: Mapping[str, str],
    datasets: Iterable[DatasetRef] = (),
) -> Tracked:
    """Create the MLflow run at the start of training: params, tags and the datasets as inputs."""
    import json

    from mlflow.entities import Dataset, DatasetInput, InputTag, Param
    from mlflow.tracking import MlflowClient

    for name in ("alembic", "mlflow"):
        logging.getLogger(name).setLevel(logging.WARNING)
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    exp_id = exp.experiment_id if exp else client.create_experiment(experiment)
    run = client.create_run(exp_id, run_name=run_name, tags=dict(tags))
    rid = run.info.run_id
    flat = {k: str(v)[:500] for k, v in flatten(dict(params)).items()}  # MLflow params: strings
    plist = [Param(k, v) for k, v in flat.items()]
    for i in range(0, len(plist), 100):  # MLflow caps a batch at 100 params
        client.log_batch(rid, params=plist[i : i + 100])
    inputs = [
        DatasetInput(
            Dataset(
                name=d.split,
                digest=(d.sha256 or "unknown")[:36],
                source_type="local",
                source=json.dumps({"uri": d.path, "sha256": d.sha256}),
                profile=json.dumps({"num_rows": d.rows}),
            ),
            tags=[InputTag("mlflow.data.context", d.split)],
        )
        for d in datasets
    ]
    if inputs:
        client.log_inputs(rid, datasets=inputs)
    return Tracked(uri, str(rid))


def log_metrics(run: Tracked, metrics: Mapping[str, float], step: int = 0) -> None:
    """Numeric values only (a None or NaN metric is left out: its note says why)."""
    import math

    import mlflow
    from mlflow.entities import Metric

    ts = int(mlflow.utils.time.get_current_time_millis())
    batch = [
        Metric(_key(k), float(v), ts, step)
        for k, v in metrics.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ]
    client = run.client()
    for i in range(0, len(batch), 1000):  # MLflow caps a batch at 1000 metrics
        client.log_batch(run.run_id, metrics=batch[i : i + 1000])


def _key(name: str) -> str:
    """MLflow metric names allow letters, digits, ``_-./`` and spaces; a slice key has ``=``."""
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in name)


def metric_block_values(prefix: str, block: Mapping[str, Any]) -> dict[str, float]:
    """A metrics.json block (value, ``_ci`` pair, n) as flat MLflow metrics with CI bounds."""
    out: dict[str, float] = {}
    for k, v in block.items():
        if k.endswith("_ci") and isinstance(v, list) and len(v) == 2:
            out[f"{prefix}/{k[:-3]}_ci_low"], out[f"{prefix}/{k[:-3]}_ci_high"] = v
        elif k == "n" or (isinstance(v, (int, float)) and not isinstance(v, bool)):
            out[f"{prefix}/{k}"] = v
    return out


def log_evaluation(run: Tracked, metrics_doc: Mapping[str, Any], *, prefix: str = "test") -> None:
    """The headline block and every slice of a metrics.json document, each with its CI."""
    flat = metric_block_values(prefix, metrics_doc.get("overall") or {})
    for key, block in (metrics_doc.get("slices") or {}).items():
        flat.update(metric_block_values(f"slice/{key}", block))
    for name, block in (metrics_doc.get("ood") or {}).items():
        overall = block.get("overall", block) if isinstance(block, Mapping) else {}
        flat.update(metric_block_values(f"ood/{name}", overall))
    log_metrics(run, flat)


def log_files(run: Tracked, paths: Iterable[Path], folder: str | None = None) -> None:
    client = run.client()
    for path in paths:
        if path.is_file():
            client.log_artifact(run.run_id, str(path), artifact_path=folder)
        elif path.is_dir():
            client.log_artifacts(run.run_id, str(path), artifact_path=folder or path.name)


def finish(run: Tracked, status: str) -> None:
    """End the MLflow run as the manifest ends: ``complete`` → FINISHED, else FAILED/KILLED."""
    mapping = {"complete": "FINISHED", "failed": "FAILED", "killed": "KILLED"}
    run.client().set_terminated(run.run_id, status=mapping.get(status, "FAILED"))


def live_callback(run: Tracked) -> Any:
    """A TrainerCallback that logs the Trainer's loss and evaluation metrics as they happen."""
    from transformers import TrainerCallback

    class MlflowLive(TrainerCallback):  # type: ignore[misc]
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if not state.is_world_process_zero or not logs:
                return
            named = {f"history/{k}": v for k, v in logs.items() if k not in ("epoch", "step")}
            log_metrics(run, named, step=int(state.global_step))

    return MlflowLive()


def log_run(
    *,
    uri: str,
    experiment: str,
    run_name: str,
    params: dict[str, Any],
    metrics: dict[str, float],
    history: Iterable[dict[str, Any]],
    artifacts: Iterable[Path],
    tags: dict[str, str] | None = None,
) -> str:
    """Log a finished run in one go (for runs trained without live tracking); return its id."""
    run = start(uri=uri, experiment=experiment, run_name=run_name, params=params, tags=tags or {})
    log_metrics(run, metrics)
    for row in history:
        step = int(row.get("step", 0))
        log_metrics(
            run, {f"history/{k}": v for k, v in row.items() if k not in ("step", "epoch")}, step
        )
    log_files(run, artifacts)
    finish(run, "complete")
    return run.run_id


def attached(run_dir: Path) -> Tracked | None:
    """The MLflow run a run directory's manifest names (None when it was trained untracked)."""
    from tuneproof import rundir

    manifest = rundir.read_optional(run_dir, rundir.Manifest)
    t = manifest.tracking if manifest is not None else None
    if t is None or not t.run_id or not t.uri:
        return None
    return Tracked(t.uri, t.run_id)


def update(
    run_dir: Path,
    files: Iterable[Path],
    *,
    metrics_doc: Mapping[str, Any] | None = None,
    prefix: str = "eval",
    metrics: Mapping[str, float] | None = None,
) -> str | None:
    """Log a later step's results (``eval``, ``stress``, ``report``) to the run's own MLflow run.

    Returns a one-line note for the user: which run was updated, or why it could not be (the
    store is unreachable); None when the run was not tracked. The run directory is written
    either way: it is the source of truth."""
    run = attached(run_dir)
    if run is None:
        return None
    try:
        if metrics_doc is not None:
            log_evaluation(run, metrics_doc, prefix=prefix)
        if metrics:
            log_metrics(run, metrics)
        log_files(run, files)
    except Exception as err:  # MLflow store down or moved: say so, keep the files
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        return f"mlflow: could not update run {run.run_id} at {run.uri} ({first})"
    return f"mlflow: updated run {run.run_id} ({run.uri})"
