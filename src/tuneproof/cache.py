"""Where fetched corpora and converted models live (never inside the repository)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$TUNEPROOF_CACHE`` or ``~/.cache/tuneproof``, plus ``parts``; created on demand."""
    root = Path(os.environ.get("TUNEPROOF_CACHE", Path.home() / ".cache" / "tuneproof"))
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
