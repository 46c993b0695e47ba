"""`manifest.json`: enough about a run to re-run it and to trust that it is the same run."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from tuneproof.rundir import Manifest

PACKAGES = (
    "tuneproof",
    "torch",
    "transformers",
    "datasets",
    "peft",
    "accelerate",
    "tokenizers",
    "numpy",
    "scikit-learn",
    "mlflow",
)


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state(cwd: str | Path = ".") -> dict[str, Any]:
    """Commit and dirty flag of the repository the run was started from (None outside git)."""

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def hardware() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def start_manifest(
    *, seed: int, data: dict[str, Any], command: list[str] | None, model: str
) -> Manifest:
    return Manifest.model_validate(
        {
            "status": "running",
            "versions": package_versions(),
            "git": git_state(),
            "data": data,
            "model": model,
            "seed": seed,
            "hardware": hardware(),
            "command": command if command is not None else sys.argv,
            "cwd": os.getcwd(),
            "started": now(),
        }
    )
