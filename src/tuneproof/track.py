"""MLflow logging of a finished run: params, metrics (with their history) and the run's files.

Logged once at the end from the run directory, not through a global "active run": the run
directory stays the source of truth and MLflow is an index over many runs. The default store is a
SQLite file in the current directory, so no server is needed; any tracking URI works.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneproof.rundir import Metrics

from tuneproof.io import flatten


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
        key = _metric_key(name)
        if result.overall.n is not None:
            out[f"ood/{key}/n"] = float(result.overall.n)
        for v in result.overall.values():
            out[f"ood/{key}/{v.name}"] = v.value
    return out


def _metric_key(name: str) -> str:
    """A file name as an MLflow key part (letters, digits, ``_-./`` and spaces only)."""
    return "".join(c if c.isalnum() or c in "_-./ " else "_" for c in name)


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
    """Log one run; return its MLflow run id."""
    import mlflow
    from mlflow.tracking import MlflowClient

    for name in ("alembic", "mlflow"):
        logging.getLogger(name).setLevel(logging.WARNING)
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    exp_id = exp.experiment_id if exp else client.create_experiment(experiment)
    run = client.create_run(exp_id, run_name=run_name, tags=tags or {})
    rid = run.info.run_id
    from mlflow.entities import Metric, Param

    flat = {k: str(v)[:500] for k, v in flatten(params).items()}  # MLflow params are strings
    param_list = [Param(k, v) for k, v in flat.items()]
    ts = int(mlflow.utils.time.get_current_time_millis())
    metric_list = [Metric(k, float(v), ts, 0) for k, v in metrics.items()]
    for row in history:
        step = int(row.get("step", 0))
        for k, v in row.items():
            if k not in ("step", "epoch") and isinstance(v, (int, float)):
                metric_list.append(Metric(f"history/{k}", float(v), ts, step))
    for i in range(0, len(param_list), 100):  # MLflow caps a batch at 100 params
        client.log_batch(rid, params=param_list[i : i + 100])
    for i in range(0, len(metric_list), 1000):  # ... and at 1000 metrics
        client.log_batch(rid, metrics=metric_list[i : i + 1000])
    for path in artifacts:
        if path.exists():
            client.log_artifact(rid, str(path))
    client.set_terminated(rid)
    return str(rid)
