"""`torchrun --nproc_per_node 2 -m tuneproof train` and `accelerate launch --cpu --num_processes 2
-m tuneproof train` on CPU (gloo): one run directory, one MLflow run, written by rank 0 only, and
the same model as one process with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tuneproof import rundir

# Tolerance. The train split is 16 rows, one global batch: each step of the 2 x 8 launch and of the
# 1 x 16 launch sees all of them whatever the order, and DDP's average of the two ranks' mean
# losses is the mean over the 16 rows. With dropout off, what is left is float summation order
# (all-reduce, padding 2 batches instead of 1): measured 1e-6 on the probabilities after 12 steps.
# 1e-4 is far above that drift and far below what a real difference moves (a wrong loss scale
# or unsharded data moved the probabilities by 3e-2 and the loss by 1e-2 in this test).
TOL = 1e-4


@pytest.fixture
def no_dropout_bert(tiny_bert_dir: Path, tmp_path: Path) -> Path:
    """The tiny BERT without dropout: dropout masks are drawn per process, so with dropout two
    processes and one could not be compared within float error."""
    import shutil

    folder = tmp_path / "bert-nodrop"
    shutil.copytree(tiny_bert_dir, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg |= {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def _config(model: Path, data: dict[str, Path], make_config, batch: int) -> dict:  # type: ignore[no-untyped-def]
    from tests.conftest import toy_rows, write_csv

    train = write_csv(data["train"].parent / "train16.csv", toy_rows(16, seed=1, prefix="tr"))
    raw = make_config(model, {**data, "train": train}, batch_size=batch, sampling="random")
    raw["tracking"] = {"enabled": True, "experiment": "ddp"}
    return raw


def _train(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(sys.path),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("WORLD_SIZE", None)
    env.pop("RANK", None)
    return subprocess.run(
        [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )


# the two launchers of the issue: torch's own and Hugging Face accelerate's. accelerate's
# ``--cpu`` starts one process unless an MPI hostfile is configured, so the CPU test uses its
# ``--multi_gpu`` launcher, which starts the processes through torch.distributed.run (gloo here)
LAUNCHERS = {
    "torchrun": ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"],
    "accelerate": ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                   "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                   "--main_process_port", "0"],
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_two_processes_match_one(launcher, no_dropout_bert, toy_data, make_config, tmp_path):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    two = tmp_path / "two.yaml"
    two.write_text(yaml.safe_dump(_config(no_dropout_bert, toy_data, make_config, batch=8)))
    one = tmp_path / "one.yaml"
    one.write_text(yaml.safe_dump(_config(no_dropout_bert, toy_data, make_config, batch=16)))

    ddp = _train(
        [*LAUNCHERS[launcher],
         "-m", "tuneproof", "train", str(two), "-o", str(tmp_path / "ddp"),
         "--tracking-uri", uri],
        tmp_path,
    )  # fmt: skip
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    single = _train(
        ["-m", "tuneproof", "train", str(one), "-o", str(tmp_path / "single"),
         "--tracking-uri", uri],
        tmp_path,
    )  # fmt: skip
    assert single.returncode == 0, single.stderr[-3000:]

    # rank 0 alone printed the summary and wrote one complete run directory
    assert ddp.stdout.count("headline:") == 1
    run_dirs = [p.name for p in tmp_path.iterdir() if (p / "manifest.json").exists()]
    assert sorted(run_dirs) == ["ddp", "single"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ddp")]  # no stray stage
    manifest = rundir.read(tmp_path / "ddp", rundir.Manifest)
    assert manifest.status == "complete" and manifest.world_size == 2
    assert rundir.read(tmp_path / "single", rundir.Manifest).world_size == 1

    # one MLflow run per launch, FINISHED, with the evaluation logged
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("ddp").experiment_id])
    by_dir = {r.data.tags["tuneproof.run_dir"]: r for r in runs}
    assert len(runs) == 2 and set(by_dir) == {
        str((tmp_path / "ddp").resolve()),
        str((tmp_path / "single").resolve()),
    }
    assert all(r.info.status == "FINISHED" for r in runs)
    assert "test/accuracy" in by_dir[str((tmp_path / "ddp").resolve())].data.metrics

    # the same training, within float error
    m2 = rundir.read(tmp_path / "ddp", rundir.Metrics)
    m1 = rundir.read(tmp_path / "single", rundir.Metrics)
    assert m2.training is not None and m1.training is not None
    assert m2.training.global_step == m1.training.global_step == 12
    assert m2.training.train_loss == pytest.approx(m1.training.train_loss, abs=TOL)
    assert m2.overall == m1.overall or m2.overall.get("accuracy") == m1.overall.get("accuracy")
    p2 = {r.id: r for r in rundir.read_predictions(tmp_path / "ddp")}
    p1 = {r.id: r for r in rundir.read_predictions(tmp_path / "single")}
    assert set(p2) == set(p1) and len(p1) == 32  # every test row once, none duplicated
    for rid, r in p1.items():
        assert r.probabilities is not None and p2[rid].probabilities is not None
        for label, p in r.probabilities.items():
            assert p2[rid].probabilities[label] == pytest.approx(p, abs=TOL)
