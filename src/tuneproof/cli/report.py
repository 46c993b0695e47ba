"""`tuneproof report`: the evidence bundle that makes a training PR reviewable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tuneproof.cli._common import err_console


def report(
    run: Annotated[Path, typer.Argument(help="run directory (written by `tuneproof train`)")],
    baseline: Annotated[
        Path | None,
        typer.Option(help="baseline run evaluated on the same data: adds diffs and verdicts"),
    ] = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help="comma-separated: md, html")
    ] = "md,html",
    pr: Annotated[
        bool, typer.Option("--pr", help="also print a PR description (Markdown) to stdout")
    ] = False,
    license: Annotated[
        str | None,
        typer.Option(help="license id for the model card (e.g. apache-2.0) [default: other]"),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(help="model-card languages, comma-separated [default: evaluated slices]"),
    ] = None,
    model_card: Annotated[
        bool, typer.Option(help="write model/README.md (Hugging Face model card)")
    ] = True,
) -> None:
    """Write report.md and a self-contained report.html into the run directory.

    Summary, what changed (config/data/code vs --baseline), why (plan.md), how it was measured
    (metrics with CIs, slices, curves, data checks), what still fails, limitations, reproduce,
    model card. Every number is read from the run's files.
    Example: `tuneproof report runs/lora --baseline runs/full --pr > pr.md`
    """
    from tuneproof.report import build_report

    langs = [x.strip() for x in language.split(",") if x.strip()] if language else None
    result = build_report(
        run,
        baseline=baseline,
        formats=format,
        license=license,
        language=langs,
        model_card=model_card,
    )
    for path in result.written:
        err_console.print(f"wrote [bold]{path}[/]", highlight=False)
    cmp = result.comparison
    if cmp is not None:
        reg = ", ".join(v.key for v in cmp.regressions) or "none"
        err_console.print(
            f"baseline {cmp.baseline_name}: {len(cmp.config_changes)} config key(s) changed; "
            f"regressed slices: {reg}",
            highlight=False,
        )
    if pr:
        # plain stdout, no rich wrapping: the description is Markdown to paste or pipe
        typer.echo(result.pr_description, nl=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command()(report)
