"""`ui` and `runs`: the local web app over a workspace, and the same runs table in the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tuneproof.cli._common import console, err_console


def ui(
    workspace: Annotated[
        Path, typer.Option(help="folder whose runs/ holds the run directories")
    ] = Path("."),
    host: Annotated[str, typer.Option(help="interface to bind (only 127.0.0.1 is private)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="port")] = 7860,
    open_browser: Annotated[bool, typer.Option("--open", help="open it in the browser")] = False,
) -> None:
    """Open the local web app: runs, live training, comparison, the PR evidence builder.

    Example: `tuneproof ui --workspace . --open`, then http://127.0.0.1:7860/
    """
    from tuneproof.errors import UserError
    from tuneproof.web.server import is_local, serve

    if not workspace.is_dir():
        raise UserError(f"--workspace {workspace}: not a folder")
    if not is_local(host):
        err_console.print(
            f"[bold yellow]warning:[/] binding {host}: anyone who can reach this port can see the "
            "runs and files of the workspace; state changes still need the session token"
        )
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    console.print(
        f"tuneproof ui: [bold]http://{shown}:{port}/[/] (workspace {workspace.resolve()})"
    )
    serve(workspace, host=host, port=port, open_browser=open_browser)


def runs(
    workspace: Annotated[
        Path, typer.Option(help="folder whose runs/ holds the run directories")
    ] = Path("."),
) -> None:
    """List the runs of a workspace with status and headline metric (the `ui` runs page).

    Example: `tuneproof runs --workspace .`
    """
    from tuneproof.workspace import list_runs

    table = Table("run", "status", "task", "model", "strategy", "headline", "started")
    for r in list_runs(workspace):
        head = "–"
        if r.value is not None:
            ci = f" [{r.ci[0]:.3f}, {r.ci[1]:.3f}]" if r.ci else ""
            head = f"{r.metric} {r.value:.4f}{ci}"
        table.add_row(
            r.name,
            r.status,
            r.task or "–",
            r.model or "–",
            r.strategy or "–",
            head,
            r.started or "–",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(ui)
    app.command(name="runs")(runs)
