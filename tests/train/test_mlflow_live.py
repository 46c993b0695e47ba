"""MLflow shows the run, not a stale copy (issue 13, item 7): the MLflow run starts with training,
logs while it runs, ends with the manifest, and `eval`/`report` update the same run."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import TrainerCallback

from tuneproof import rundir
from tuneproof.config import parse_config
from tuneproof.train import run


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


class Peek(TrainerCallback):
    """Looks at the MLflow run from inside training (after the 8th step's log)."""

    def __init__(self, out: Path, uri: str) -> None:
        self.out, self.uri = out, uri
        self.seen: dict = {}

    def on_log(self, args, state, control, logs=None, **kw):  # type: ignore[no-untyped-def]
        if state.global_step == 8 and not self.seen:
            work = next(
                p
                for p in [self.out, *self.out.parent.glob(f".{self.out.name}.new-*")]
                if (p / "manifest.json").exists()
            )
            m = rundir.read(work, rundir.Manifest)
            assert m.tracking is not None
            r = _client(self.uri).get_run(m.tracking.run_id)
            self.seen = {"status": r.info.status, "metrics": dict(r.data.metrics)}


def test_live_run_then_eval_and_report_update_it(
    tiny_bert_dir: Path, toy_data: dict[str, Path], make_config, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    raw = make_config(tiny_bert_dir, toy_data, max_steps=12)
    raw["tracking"] = {"enabled": True, "uri": uri, "experiment": "live"}
    out = tmp_path / "run"
    peek = Peek(out, uri)
    result = run(parse_config(raw), out, callbacks=[peek])
    # while training: RUNNING, with the loss logged so far (the train callback logs on_log too)
    assert peek.seen["status"] == "RUNNING"
    assert "history/loss" in peek.seen["metrics"]
    client = _client(uri)
    r = client.get_run(result.tracking_run_id)
    assert r.info.status == "FINISHED"
    manifest = rundir.read(out, rundir.Manifest)
    assert manifest.tracking and manifest.tracking.run_id == r.info.run_id
    m = r.data.metrics
    assert m["test/accuracy"] == pytest.approx(result.metrics.overall.get("accuracy").value)  # type: ignore[union-attr]
    assert "test/accuracy_ci_low" in m and "test/accuracy_ci_high" in m
    tags = r.data.tags
    assert tags["mlflow.source.git.commit"] == (manifest.git.commit or "")
    assert tags["tuneproof.version"] == manifest.versions["tuneproof"]
    digests = {d.dataset.name: d.dataset.digest for d in r.inputs.dataset_inputs}
    assert digests["train"] == manifest.data["train"].sha256[:36]  # type: ignore[index]
    files = {f.path for f in client.list_artifacts(r.info.run_id)}
    assert {"manifest.json", "metrics.json", "predictions.jsonl", "config.yaml"} <= files

    from tuneproof.evaluate import evaluate_run
    from tuneproof.report import build_report

    ev = evaluate_run(out, [toy_data["test"]])
    assert ev.tracking_note and r.info.run_id in ev.tracking_note
    rep = build_report(out, formats=("md",), model_card=False)
    assert rep.tracking_note and r.info.run_id in rep.tracking_note
    after = client.get_run(r.info.run_id)
    assert any(k.startswith("eval/") for k in after.data.metrics)
    assert any(
        k.startswith("slice/language") for k in after.data.metrics
    )  # eval's slices, with CIs
    files = {f.path for f in client.list_artifacts(r.info.run_id)}
    assert {"report.md", "slices.md"} <= files


class Boom(TrainerCallback):
    def on_step_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
        if state.global_step == 3:
            raise RuntimeError("boom at step 3")


def test_a_failed_run_ends_failed_in_mlflow(
    tiny_bert_dir: Path, toy_data: dict[str, Path], make_config, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    raw = make_config(tiny_bert_dir, toy_data, max_steps=12)
    raw["tracking"] = {"enabled": True, "uri": uri, "experiment": "fail"}
    out = tmp_path / "run"
    with pytest.raises(RuntimeError, match="boom"):
        run(parse_config(raw), out, callbacks=[Boom()])
    manifest = rundir.read(out, rundir.Manifest)
    assert manifest.status == "failed" and "boom" in (manifest.reason or "")
    assert manifest.tracking is not None
    r = _client(uri).get_run(manifest.tracking.run_id)
    assert r.info.status == "FAILED"
