"""Where a pip-installed package that ships model or tokenizer files lives on disk."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tuneproof.errors import UserError


def package_dir(module: str, package: str, *, what: str = "built-in model") -> Path:
    """The folder of an installed package, or a one-line error naming the pip command."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"{what} needs the package '{package}': pip install --no-deps {package}")
    return Path(next(iter(spec.submodule_search_locations)))
