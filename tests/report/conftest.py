"""Private copies of the real run directories of ``tests/conftest.py`` (``written_run``,
``written_baseline``: trained, evaluated and stress-tested by the real writers once per session),
and helpers that read their files for reference values."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ..conftest import PAYLOAD

__all__ = ["PAYLOAD", "edit_json", "metrics", "rows"]


@pytest.fixture
def run_dir(written_run: Path, tmp_path: Path) -> Path:
    """A private copy of the run (the report writes into the run directory)."""
    return Path(shutil.copytree(written_run, tmp_path / "run"))


@pytest.fixture
def baseline_dir(written_baseline: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(written_baseline, tmp_path / "baseline"))


def rows(run: Path) -> list[dict[str, Any]]:
    """predictions.jsonl as plain JSON (for computing reference values in the tests)."""
    text = (run / "predictions.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def metrics(run: Path) -> dict[str, Any]:
    return json.loads((run / "metrics.json").read_text(encoding="utf-8"))


def edit_json(path: Path, **changes: Any) -> None:
    """Set nested keys (``a__b=1`` sets ``raw["a"]["b"]``) of a JSON file."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        node = raw
        *parents, last = dotted.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    path.write_text(json.dumps(raw), encoding="utf-8")
