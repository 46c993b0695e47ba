"""The `tuneproof` command: a thin face over the library (parse, call, print).

Each command group lives in its own module with a ``register(app)`` function, so capabilities
stay independent. Heavy imports (torch, transformers) happen inside commands, keeping ``--help``
instant.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer

from tuneproof.cli import (
    check,
    compete,
    data,
    evaluate,
    export,
    humaneval,
    plan,
    report,
    run,
    slices,
    sweep,
    tokens,
    ui,
)
from tuneproof.cli._common import err_console
from tuneproof.errors import Terminated, UserError

app = typer.Typer(
    name="tuneproof",
    help=(
        "Make a fine-tuning run a reviewable artifact.\n\n"
        "data → check → plan → train → eval (slices) → report → compare.\n\n"
        "Start with `tuneproof init` to write a config, then `tuneproof train tuneproof.yaml`."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)

for module in (
    run,
    check,
    data,
    plan,
    evaluate,
    slices,
    tokens,
    report,
    export,
    compete,
    humaneval,
    ui,
    sweep,
):
    module.register(app)


def _user_errors_exit_2(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print a UserError as one line and exit 2, however the command is invoked."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as err:
            err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
            raise typer.Exit(err.exit_code) from None

    return wrapper


def _wrap_all(typer_app: typer.Typer) -> None:
    for cmd in typer_app.registered_commands:
        if cmd.callback is not None:
            cmd.callback = _user_errors_exit_2(cmd.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _wrap_all(group.typer_instance)


_wrap_all(app)


def main() -> None:
    """Console-script entry point: user errors become one line and exit code 2."""
    try:
        app()
    except UserError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Terminated:
        err_console.print("terminated (SIGTERM)")
        sys.exit(Terminated.exit_code)
