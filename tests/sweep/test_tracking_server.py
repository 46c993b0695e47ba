"""`--tracking-uri http://...` against a real `mlflow server` process (issue 17 item 4): the run,
its params, metrics (live history and the final evaluation) and the config/manifest artifacts
arrive on the server, and the manifest names the server's run."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from tuneproof import rundir
from tuneproof.cli import app


def test_train_records_on_a_tracking_server(
    tmp_path: Path, sweep_files: tuple[Path, Path], mlflow_server: str
) -> None:
    config, _ = sweep_files
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["tracking"] = {"enabled": True, "experiment": "server-train"}
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["train", str(config), "-o", str(out), "--tracking-uri", mlflow_server]
    )
    assert result.exit_code == 0, result.output
    manifest = rundir.read(out, rundir.Manifest)
    assert manifest.tracking is not None and manifest.tracking.uri == mlflow_server
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server)
    run = client.get_run(manifest.tracking.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.experiment_id == client.get_experiment_by_name("server-train").experiment_id
    assert run.data.params["training.learning_rate"] == "0.005"
    assert run.data.params["model.name"] == raw["model"]["name"]
    metrics = rundir.read(out, rundir.Metrics)
    assert run.data.metrics["test/accuracy"] == metrics.overall.get("accuracy").value  # type: ignore[union-attr]
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "history/loss")]
    assert steps == sorted(steps) and len(steps) >= 3  # logged live, one per logging step
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "manifest.json", "metrics.json", "predictions.jsonl"} <= names
    local = client.download_artifacts(run.info.run_id, "config.yaml", str(tmp_path))
    assert Path(local).read_text(encoding="utf-8") == (out / "config.yaml").read_text(
        encoding="utf-8"
    )
    got = rundir.read(
        Path(client.download_artifacts(run.info.run_id, "manifest.json", str(tmp_path))).parent,
        rundir.Manifest,
    )
    assert got.status == "complete" and got.tracking == manifest.tracking
