"""Acceptance of `tuneproof sweep` (issue 17 item 1) on a tiny config against a real
`mlflow server`: 6 trials finish, best.yaml retrains to the reported validation value
identically, the test split is predicted once (by the best configuration only) and MLflow shows
one parent run with 6 nested children."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tuneproof import rundir
from tuneproof.sweep import SweepOptions, run_sweep
from tuneproof.tasks import load_config


def _ids(run: Path) -> set[str]:
    return {r.id for r in rundir.read_predictions(run)}


@pytest.mark.slow
def test_six_trial_sweep(
    tmp_path: Path, sweep_files: tuple[Path, Path], mlflow_server: str
) -> None:
    config, space = sweep_files
    out = tmp_path / "sweep"
    result = run_sweep(
        SweepOptions(
            config=config,
            output=out,
            space=space,
            trials=6,
            tracking_uri=mlflow_server,
            overrides=[
                "tracking.enabled=true",
                "tracking.experiment=sweep-e2e",
                "baselines=[majority]",
            ],
        )
    )
    rec = rundir.read(out, rundir.Sweep)
    assert rec == result.record
    assert [t.number for t in rec.trials] == list(range(6))
    assert {t.state for t in rec.trials} <= {"COMPLETE", "PRUNED"}
    assert rec.baseline_trial == 0 and rec.trials[0].params == {
        "training.learning_rate": 5e-3,
        "training.batch_size": 8,
    }
    for t in rec.trials:  # each trial is an ordinary run directory
        assert t.run is not None and (out / t.run / "config.yaml").is_file()

    # best.yaml trains the best trial as is: the same config, the same validation value
    best = rec.best
    assert best is not None
    trial = next(t for t in rec.trials if t.number == best.trial)
    assert trial.state == "COMPLETE" and trial.value == best.value
    assert best.reproduced is True and best.reproduced_value == best.value
    assert trial.run is not None
    trained = rundir.read_config(out / trial.run).to_dict()
    again = load_config(out / "best.yaml").to_dict()
    # ... but for the baselines, scored once, by the best run on the test split
    assert trained["baselines"] == [] and again["baselines"] == ["majority"]
    assert {**again, "name": None, "baselines": []} == {**trained, "name": None}
    assert (out / "best" / rundir.BASELINES).is_file()
    assert not any((out / t.run / rundir.BASELINES).exists() for t in rec.trials if t.run)
    best_metrics = rundir.read(out / "best", rundir.Metrics)
    assert best_metrics.validation[rec.metric] == best.value

    # the test split: predicted by the best configuration's run only
    test_ids = {f"te{i}" for i in range(32)}
    splits = {
        str(p.parent.relative_to(out)): rundir.read(p.parent, rundir.Metrics).split
        for p in out.rglob("metrics.json")
    }
    assert [k for k, v in splits.items() if v == "test"] == ["best"]
    assert all(v == "validation" for k, v in splits.items() if k != "best")
    for t in rec.trials:
        assert t.run is not None and not (_ids(out / t.run) & test_ids)
    assert _ids(out / "best") == test_ids
    assert best.test["n"] == 32 and isinstance(best.test[rec.metric], float)

    # the reports: markdown, html with the SVG figures inline, each SVG well-formed
    md = (out / "sweep.md").read_text(encoding="utf-8")
    assert "starting config" in md and "Parameter importances" in md
    html = (out / "sweep.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 2
    for name in ("sweep_history.svg", "sweep_parallel.svg"):
        root = ET.fromstring((out / name).read_text(encoding="utf-8"))
        assert root.tag.endswith("svg")
    history = ET.fromstring((out / "sweep_history.svg").read_text(encoding="utf-8"))
    dots = [e for e in history.iter() if e.tag.endswith("circle")]
    assert len(dots) == 6

    # MLflow: one parent run, six nested children, the best run linked (not nested)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server)
    exp = client.get_experiment_by_name("sweep-e2e")
    assert exp is not None
    runs = client.search_runs([exp.experiment_id], max_results=100)
    assert rec.tracking is not None and rec.tracking.run_id
    parent_id = rec.tracking.run_id
    parents = [r for r in runs if r.info.run_name == f"sweep {rec.study}"]
    assert [r.info.run_id for r in parents] == [parent_id]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent_id]
    assert sorted(int(r.data.tags["tuneproof.sweep.trial"]) for r in children) == list(range(6))
    linked = [r for r in runs if r.data.tags.get("tuneproof.sweep.best_of") == parent_id]
    assert len(linked) == 1 and "mlflow.parentRunId" not in linked[0].data.tags
    assert len(runs) == 8
    parent = client.get_run(parent_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics[f"best/validation/{rec.metric}"] == best.value
    names = {a.path for a in client.list_artifacts(parent_id)}
    assert {"sweep.json", "sweep.md", "best.yaml"} <= names
