"""Several `tuneproof sweep --workers 1` processes on one study (issue 17 item 1 acceptance):
together they run exactly the requested trials, none twice, on the journal file and on
PostgreSQL; a worker killed with SIGKILL leaves its trial FAILED (heartbeat) and the other
finishes the study. Real processes of the real CLI, a real PostgreSQL cluster (or a skip)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tuneproof import rundir

TRIALS = 4


def _sweep(config: Path, space: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "tuneproof", "sweep", str(config), "--space", str(space),
           "--trials", str(TRIALS), "-o", str(out), "--study", "shared", "--workers", "1",
           "--heartbeat-interval", "1", "--grace-period", "4", *extra]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    log = (out.parent / f"proc-{time.monotonic_ns()}.log").open("wb")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)


def _wait(procs: list[subprocess.Popen[bytes]], timeout: float = 900) -> list[int]:
    deadline = time.monotonic() + timeout
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            p.kill()
            raise
    return codes


def _logs(out: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in out.parent.glob("proc-*.log"))


def _check_exact(out: Path, pids: set[int]) -> rundir.Sweep:
    rec = rundir.read(out, rundir.Sweep)
    assert [t.number for t in rec.trials] == list(range(TRIALS))  # exactly N, none added
    host = socket.gethostname()
    for t in rec.trials:
        assert t.worker in {f"{host}:{pid}" for pid in pids}
        assert t.run == f"trials/trial-{t.number:03d}"
        manifest = rundir.read(out / t.run, rundir.Manifest)
        # a trial run twice would have failed on the existing run directory
        assert "already exists" not in (manifest.reason or "")
    return rec


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["journal", "postgresql"])
def test_two_processes_share_one_study(
    request: pytest.FixtureRequest, tmp_path: Path, sweep_files: tuple[Path, Path], backend: str
) -> None:
    config, space = sweep_files
    out = tmp_path / "sweep"
    extra: list[str] = []
    if backend == "postgresql":
        extra = ["--storage", request.getfixturevalue("postgres_database")]
    procs = [_sweep(config, space, out, *extra) for _ in range(2)]
    assert _wait(procs) == [0, 0], _logs(out)
    rec = _check_exact(out, {p.pid for p in procs})
    assert {t.state for t in rec.trials} <= {"COMPLETE", "PRUNED"}
    assert rec.best is not None and rec.best.reproduced is True
    import optuna

    storage = (
        optuna.storages.RDBStorage(extra[1])
        if extra
        else optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(out / "journal.log"))
        )
    )
    assert len(optuna.load_study(study_name="shared", storage=storage).trials) == TRIALS


@pytest.mark.slow
def test_sigkilled_worker_leaves_its_trial_failed(
    tmp_path: Path, sweep_files: tuple[Path, Path]
) -> None:
    import optuna
    from optuna.storages.journal import JournalFileBackend

    config, space = sweep_files
    out = tmp_path / "sweep"
    longer = ["--set", "training.max_steps=40"]  # a window to kill it mid-training
    procs = {p.pid: p for p in (_sweep(config, space, out, *longer) for _ in range(2))}
    journal = out / "journal.log"
    host = socket.gethostname()
    victim, number = None, None
    deadline = time.monotonic() + 600
    while victim is None and time.monotonic() < deadline:
        time.sleep(0.2)
        if not journal.exists():
            continue
        try:
            study = optuna.load_study(
                study_name="shared",
                storage=optuna.storages.JournalStorage(JournalFileBackend(str(journal))),
            )
        except KeyError:  # the study is not created yet
            continue
        for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,)):
            worker = str(t.user_attrs.get("tuneproof.worker", ""))
            run = out / str(t.user_attrs.get("tuneproof.run", "-"))
            pid = int(worker.rsplit(":", 1)[1]) if worker.startswith(f"{host}:") else None
            if pid in procs and (run / "manifest.json").is_file():
                victim, number = procs[pid], t.number
                break
    assert victim is not None, _logs(out)
    os.kill(victim.pid, signal.SIGKILL)
    survivor = next(p for p in procs.values() if p is not victim)
    assert _wait([survivor]) == [0], _logs(out)
    assert victim.wait(5) == -signal.SIGKILL
    rec = _check_exact(out, set(procs))
    killed = rec.trials[number]
    assert killed.state == "FAIL" and killed.worker == f"{host}:{victim.pid}"
    assert killed.note is not None and "no heartbeat" in killed.note
    manifest = rundir.read(out / f"trials/trial-{number:03d}", rundir.Manifest)
    assert manifest.status == "failed" and "no heartbeat" in (manifest.reason or "")
    others = [t for t in rec.trials if t.number != number]
    assert {t.state for t in others} <= {"COMPLETE", "PRUNED"}
    assert rec.best is not None and rec.best.trial != number
