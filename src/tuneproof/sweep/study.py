"""The Optuna side of a sweep: storage, creating or joining the study, claiming trials, heartbeats.

Exactly ``n_trials`` trials run, however many workers join: the process that creates the study
enqueues that many WAITING trials (the first one fixed to the starting config when it lies in the
space), and a worker only ever *claims* a WAITING one (``set_trial_state_values`` WAITING →
RUNNING is atomic in both the journal and the RDB storages), so no trial runs twice and none is
added. A worker that dies (SIGKILL, a lost host) stops sending heartbeats; the others fail its
trial once ``grace_period`` has passed and the study goes on. RDB storages use Optuna's own
heartbeat (``heartbeat_interval``, ``grace_period``, ``heartbeat_stale_trial_callback`` (the
``failed_trial_callback`` of older releases) and
``fail_stale_trials``); Optuna 5's ``JournalStorage`` has no heartbeat (it is not a
``BaseHeartbeat``), so there each trial's heartbeat is a trial user attribute written every
``heartbeat_interval`` seconds and checked the same way.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneproof.errors import UserError

HEARTBEAT_ATTR = "tuneproof.heartbeat"
WORKER_ATTR = "tuneproof.worker"
READY_ATTR = "tuneproof.ready"


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class StorageSpec:
    """Where the study lives: a journal file (default, one host) or an Optuna RDB URL."""

    url: str | None  # RDB URL, or None for the journal file
    journal: Path | None
    heartbeat_interval: int = 60
    grace_period: int | None = None  # default 2 × heartbeat_interval

    @property
    def grace(self) -> int:
        return self.grace_period if self.grace_period is not None else 2 * self.heartbeat_interval

    def shown(self) -> str:
        if self.url is None:
            return str(self.journal)
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except Exception:  # not a URL sqlalchemy knows: shown as given minus credentials
            return self.url.split("@")[-1]

    def open(self, on_failed: Callable[[Any, Any], None] | None = None) -> Any:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)

        if self.url is None:
            assert self.journal is not None
            from optuna.storages.journal import JournalFileBackend

            self.journal.parent.mkdir(parents=True, exist_ok=True)
            return optuna.storages.JournalStorage(JournalFileBackend(str(self.journal)))
        import warnings

        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        last: Exception | None = None
        for attempt in range(6):
            try:
                return optuna.storages.RDBStorage(
                    self.url,
                    heartbeat_interval=self.heartbeat_interval,
                    grace_period=self.grace,
                    heartbeat_stale_trial_callback=on_failed,
                )
            except Exception as err:  # bad URL, server down, missing driver, or a race:
                last = err  # two workers creating the tables of an empty database at once
                time.sleep(0.5 + attempt)
        first = str(last).strip().splitlines()[0][:200] if str(last).strip() else ""
        raise UserError(f"--storage {self.shown()}: cannot open the Optuna storage ({first})")


def storage_spec(
    storage: str | None, sweep_dir: Path, heartbeat_interval: int, grace_period: int | None
) -> StorageSpec:
    """``None`` → ``SWEEP/journal.log``; a URL (``postgresql://``, ``sqlite:///``) → RDB; any
    other text → a journal file at that path."""
    if heartbeat_interval < 1:
        raise UserError("--heartbeat-interval: must be at least 1 second")
    if storage is None:
        return StorageSpec(None, sweep_dir / "journal.log", heartbeat_interval, grace_period)
    if "://" in storage:
        return StorageSpec(storage, None, heartbeat_interval, grace_period)
    return StorageSpec(None, Path(storage).resolve(), heartbeat_interval, grace_period)


def create_or_join(
    storage: Any,
    name: str,
    *,
    direction: str,
    sampler: Any,
    pruner: Any,
    enqueue: Callable[[Any], None],
    timeout: float = 120.0,
) -> tuple[Any, bool]:
    """The study, and whether this process created it (then ``enqueue`` queued its trials).

    Creation is the lock: the storage refuses a second study of the same name, so exactly one
    process enqueues; the others wait for the creator's ``ready`` mark."""
    import optuna

    try:
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            direction=direction,  # type: ignore[arg-type]
            sampler=sampler,
            pruner=pruner,
        )
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        got = study.direction.name.lower()
        if got != direction:
            raise UserError(
                f"--study {name}: the study optimises in direction {got}, not {direction}; "
                "pass the same --direction or another --study"
            ) from None
        deadline = time.monotonic() + timeout
        while READY_ATTR not in study.user_attrs:
            if time.monotonic() > deadline:
                raise UserError(
                    f"--study {name}: exists but was never made ready (its creator died while "
                    "queuing trials?); use another --study"
                ) from None
            time.sleep(0.5)
        return study, False
    enqueue(study)
    study.set_user_attr(READY_ATTR, True)
    return study, True


def claim(study: Any, storage: Any) -> int | None:
    """Take one WAITING trial (atomically) and return its number; None when none is left."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    study_id = storage.get_study_id_from_name(study.study_name)
    for frozen in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.WAITING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, frozen.number)
        try:
            if storage.set_trial_state_values(trial_id, state=TrialState.RUNNING):
                storage.set_trial_user_attr(trial_id, WORKER_ATTR, worker_name())
                storage.set_trial_user_attr(trial_id, HEARTBEAT_ATTR, time.time())
                return int(frozen.number)
        except UpdateFinishedTrialError:  # another worker took and finished it meanwhile
            continue
    return None


def trial_id(study: Any, storage: Any, number: int) -> int:
    study_id = storage.get_study_id_from_name(study.study_name)
    return int(storage.get_trial_id_from_study_id_trial_number(study_id, number))


def uses_optuna_heartbeat(storage: Any) -> bool:
    from optuna.storages import RDBStorage

    return isinstance(storage, RDBStorage) and storage.get_heartbeat_interval() is not None


@contextmanager
def heartbeat(storage: Any, tid: int, interval: int) -> Iterator[None]:
    """Beat every ``interval`` seconds while the trial runs (a daemon thread: it dies with the
    process, which is the point)."""
    stop = threading.Event()

    def beat() -> None:
        while True:
            try:
                if uses_optuna_heartbeat(storage):
                    storage.record_heartbeat(tid)
                else:
                    storage.set_trial_user_attr(tid, HEARTBEAT_ATTR, time.time())
            except Exception:  # a finished trial or a busy store: the next beat retries
                pass
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, name=f"heartbeat-{tid}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


def fail_stale(study: Any, storage: Any, grace: int, on_failed: Callable[[Any, Any], None]) -> None:
    """Fail RUNNING trials whose worker stopped beating (and call ``on_failed`` for each)."""
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    if uses_optuna_heartbeat(storage):
        optuna.storages.fail_stale_trials(study)  # calls heartbeat_stale_trial_callback
        return
    now = time.time()
    study_id = storage.get_study_id_from_name(study.study_name)
    for frozen in storage.get_all_trials(study_id, deepcopy=False, states=(TrialState.RUNNING,)):
        last = frozen.user_attrs.get(HEARTBEAT_ATTR)
        if not isinstance(last, (int, float)) or now - last <= grace:
            continue
        tid = storage.get_trial_id_from_study_id_trial_number(study_id, frozen.number)
        try:
            if storage.set_trial_state_values(tid, state=TrialState.FAIL):
                on_failed(study, storage.get_trial(tid))
        except UpdateFinishedTrialError:
            continue


def running(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    return list(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))


def waiting(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    return list(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
