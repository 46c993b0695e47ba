"""Atomic writes keep the user's umask: a run directory is meant to be shared (issue 13, item 8)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tuneproof import io


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_files_and_dirs_follow_the_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        f = io.write_json(tmp_path / "m.json", {"a": 1})
        with io.atomic_dir(tmp_path / "model") as d:
            (d / "w.bin").write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == 0o777 & ~mask
