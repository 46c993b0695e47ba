"""Consoles shared by the command modules (stdout for results, stderr for progress and errors)."""

from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)
