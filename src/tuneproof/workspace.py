"""A workspace: the folder whose ``runs/`` holds run directories, as the web app and the CLI see it.

Everything here reads the run-directory files through :mod:`tuneproof.rundir`; the only state of
its own is a launch record per run started in the background (``.tuneproof/launches/NAME.json``:
pid, process group, command, log file), kept outside the run directory because ``train`` clears a
run directory before writing it. A run's status comes from ``manifest.json`` plus that record: a
``running`` manifest whose process is gone is ``failed``, so a crash, a kill or a cancel shows as
such after a restart of the app, and a run still training is found again.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tuneproof import io, rundir
from tuneproof.config import RunConfig, parse_config, parse_yaml_text
from tuneproof.errors import UserError

RUNS = "runs"
STATE = ".tuneproof"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
LOG_TAIL_LINES = 20

Status = Literal["starting", "running", "complete", "failed"]


class Launch(BaseModel):
    """A background ``tuneproof train`` started from the workspace (the pid file)."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    pid: int
    command: list[str]
    config: str  # the config file, relative to the workspace
    log: str  # stdout + stderr of the process, relative to the workspace
    started: str
    cancelled: bool = False


@dataclass(frozen=True)
class RunSummary:
    """One row of the runs table."""

    name: str
    path: Path
    status: Status
    reason: str | None
    task: str | None
    model: str | None
    strategy: str | None
    metric: str | None
    value: float | None
    ci: tuple[float, float] | None
    best: float | None  # the best validation value of the selection metric (training)
    started: str | None


def check_name(name: str) -> str:
    """A run name is one path component of letters, digits, ``.``, ``_`` and ``-``."""
    if not NAME_RE.match(name) or name in {".", ".."} or ".." in name:
        raise UserError(
            f"run name '{name}': use letters, digits, '.', '_' and '-' (at most 100), "
            "starting with a letter or digit"
        )
    return name


def runs_dir(workspace: Path) -> Path:
    return workspace / RUNS


def run_path(workspace: Path, name: str) -> Path:
    """The run directory of ``name`` (it may not exist yet)."""
    return runs_dir(workspace) / check_name(name)


# Never served by the app: the key that un-blinds a human-evaluation sheet (raters use the app's
# rating page, so the app must not hand them the answer).
NOT_SERVED = frozenset({rundir.HUMANEVAL_KEY})


def inside(workspace: Path, relative: str) -> Path | None:
    """``workspace/relative`` if it is an existing file inside the workspace, else None.

    The path is resolved (symlinks followed) before the check, so ``..``, absolute paths and
    links that point out of the workspace all give None; the state folder is never served.
    """
    if not relative or "\x00" in relative or relative.startswith(("/", "\\")):
        return None
    root = workspace.resolve()
    try:
        target = (root / relative).resolve()
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(root) or not target.is_file():
        return None
    if target.relative_to(root).parts[:1] == (STATE,):
        return None
    if target.name in NOT_SERVED:
        return None
    return target


# --- launch records ------------------------------------------------------------------------------


def _launch_path(workspace: Path, name: str) -> Path:
    return workspace / STATE / "launches" / f"{check_name(name)}.json"


def read_launch(workspace: Path, name: str) -> Launch | None:
    path = _launch_path(workspace, name)
    if not path.is_file():
        return None
    try:
        return Launch.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError:
        return None  # a torn or foreign file: treat the run as not launched from here


def _write_launch(workspace: Path, name: str, launch: Launch) -> None:
    io.write_json(_launch_path(workspace, name), launch.model_dump(mode="json"))


def pid_alive(pid: int) -> bool:
    """Is ``pid`` a live (not zombie) ``tuneproof`` process? Our own dead children are reaped."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child (the app restarted): ask the kernel
    except OSError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process reuses the pid
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError):
            return False
        return state != "Z" and b"tuneproof" in cmdline
    return True


def log_tail(workspace: Path, launch: Launch, lines: int = LOG_TAIL_LINES) -> str:
    path = workspace / launch.log
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _error_line(tail: str) -> str | None:
    """The one-line UserError a failed ``tuneproof train`` printed, if it printed one."""
    for line in reversed(tail.splitlines()):
        if line.startswith("error:"):
            return line.removeprefix("error:").strip()
    return None


# --- status ---------------------------------------------------------------------------------------


def run_status(workspace: Path, name: str) -> tuple[Status, str | None]:
    """(status, reason) of a run, from ``manifest.json`` and the launch record."""
    run_dir = run_path(workspace, name)
    try:
        manifest = rundir.read_optional(run_dir, rundir.Manifest)
    except UserError as err:
        return "failed", str(err)
    launch = read_launch(workspace, name)
    if manifest is not None and manifest.status != "running":
        if manifest.status == "failed" and launch is not None and launch.cancelled:
            return "failed", "cancelled"  # train records a SIGTERM as a failure of its own
        return manifest.status, manifest.reason
    if launch is None:
        # started elsewhere (a terminal): only the manifest can tell
        return ("running", None) if manifest is not None else ("failed", "no manifest.json")
    if pid_alive(launch.pid):
        return ("running" if manifest is not None else "starting"), None
    if launch.cancelled:
        return "failed", "cancelled"
    tail = log_tail(workspace, launch)
    return "failed", _error_line(tail) or "the training process ended before the run completed"


def _summary(workspace: Path, run_dir: Path) -> RunSummary:
    name = run_dir.name
    status, reason = run_status(workspace, name)
    task = model = strategy = metric = started = None
    value = best = None
    ci = None
    try:
        if (run_dir / rundir.CONFIG).is_file():
            cfg = rundir.read_config(run_dir)
            task, model, strategy = cfg.task, cfg.model.name, cfg.strategy.kind
        manifest = rundir.read_optional(run_dir, rundir.Manifest)
        if manifest is not None:
            started = manifest.started
        metrics = rundir.read_optional(run_dir, rundir.Metrics)
        if metrics is not None:
            metric = metrics.main_metric
            head = metrics.headline
            if head is not None:
                value, ci = head.value, head.ci
            if metrics.training is not None:
                best = metrics.training.best_metric
    except UserError as err:
        reason = reason or str(err)
    if started is None:
        launch = read_launch(workspace, name)
        started = launch.started if launch else None
    return RunSummary(
        name, run_dir, status, reason, task, model, strategy, metric, value, ci, best, started
    )


def list_runs(workspace: Path) -> list[RunSummary]:
    """Every run directory under ``runs/`` (and runs launched but not yet written), newest first."""
    root = runs_dir(workspace)
    names = {p.name for p in root.iterdir() if p.is_dir()} if root.is_dir() else set()
    launches = workspace / STATE / "launches"
    if launches.is_dir():
        names |= {p.stem for p in launches.glob("*.json")}
    out = [_summary(workspace, root / n) for n in names if NAME_RE.match(n)]
    return sorted(out, key=lambda r: (r.started or "", r.name), reverse=True)


def get_run(workspace: Path, name: str) -> RunSummary:
    run_dir = run_path(workspace, name)
    if not run_dir.is_dir() and read_launch(workspace, name) is None:
        raise UserError(f"{run_dir}: no such run")
    return _summary(workspace, run_dir)


def read_progress(workspace: Path, name: str) -> rundir.Progress | None:
    try:
        return rundir.read_optional(run_path(workspace, name), rundir.Progress)
    except UserError:
        return None  # never torn (atomic writes), but a foreign file must not break a page


# --- configs and launching ------------------------------------------------------------------------


def validate_config(text: str, workspace: Path) -> RunConfig:
    """A YAML config as the run would see it: relative data paths resolve against the workspace."""
    cfg = parse_config(parse_yaml_text(text, "config"), "config")
    for split in ("train", "validation", "test"):
        value = getattr(cfg.data, split)
        if value and not Path(value).expanduser().is_absolute():
            setattr(cfg.data, split, str(workspace.resolve() / value))
    return cfg


def config_file(name: str) -> str:
    """Where a launched run's config is kept, relative to the workspace."""
    return f"configs/{check_name(name)}.yaml"


def train_command(name: str, *, python: str | None = None) -> list[str]:
    """The CLI command a launch runs (``python -m tuneproof`` in the background)."""
    head = [python, "-m", "tuneproof"] if python else ["tuneproof"]
    return [*head, "train", config_file(name), "-o", f"{RUNS}/{check_name(name)}"]


def start_run(workspace: Path, name: str, config: RunConfig) -> Launch:
    """Write the config and start ``tuneproof train`` as its own process group (never waits).

    Refuses a name whose run exists or is still running; the process's output goes to
    ``.tuneproof/logs/NAME.log`` and its pid to the launch record.
    """
    check_name(name)
    run_dir = run_path(workspace, name)
    old = read_launch(workspace, name)
    if old is not None and pid_alive(old.pid):
        raise UserError(f"run '{name}' is still running; cancel it first or pick another name")
    if run_dir.exists():
        raise UserError(f"{run_dir}: run directory already exists; pick another name")
    config = config.model_copy(update={"name": config.name or name})
    cfg_rel = config_file(name)
    io.write_text(workspace / cfg_rel, config.to_yaml())
    log_rel = f"{STATE}/logs/{name}.log"
    (workspace / log_rel).parent.mkdir(parents=True, exist_ok=True)
    command = train_command(name, python=sys.executable)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with (workspace / log_rel).open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=workspace,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: cancel signals all of it
            env=env,
        )
    launch = Launch(
        pid=proc.pid,
        command=["tuneproof", *command[3:]],
        config=cfg_rel,
        log=log_rel,
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    _write_launch(workspace, name, launch)
    return launch


def cancel_run(workspace: Path, name: str) -> bool:
    """SIGTERM the run's process group; False when it is not running from here."""
    launch = read_launch(workspace, name)
    if launch is None or not pid_alive(launch.pid):
        return False
    _write_launch(workspace, name, launch.model_copy(update={"cancelled": True}))
    try:
        os.killpg(launch.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    return True


# --- PR evidence notes ----------------------------------------------------------------------------


def read_notes(workspace: Path, name: str) -> rundir.Notes:
    try:
        return rundir.read_optional(run_path(workspace, name), rundir.Notes) or rundir.Notes()
    except UserError:
        return rundir.Notes()


def write_notes(workspace: Path, name: str, **fields: Any) -> rundir.Notes:
    run_dir = run_path(workspace, name)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run")
    notes = rundir.Notes.model_validate(
        {**fields, "updated": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    )
    rundir.write(run_dir, notes)
    return notes
