"""`data`: act on data-check results (`data apply-review`: the label-review loop)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tuneproof.cli._common import console

app = typer.Typer(
    help="Act on data-check results: apply a decided label review.", no_args_is_help=True
)


@app.command("apply-review")
def apply_review_cmd(
    review: Annotated[Path, typer.Argument(help="review CSV from `tuneproof check --review`")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="folder for the corrected dataset (replaced)")
    ],
) -> None:
    """Write the dataset with the accepted label suggestions applied, a changelog and sha256s.

    Rows whose decision is `accept` get the suggested label; `reject` and empty leave it. The
    whole review is checked first (decisions, rows, unchanged texts and labels): a bad review
    writes nothing.
    Example: `tuneproof data apply-review review.csv -o data-reviewed`, then point the config's
    data.train/validation/test at data-reviewed/ for the next run.
    """
    from tuneproof.data.review import apply_review, dataset_sha256

    done = apply_review(review, output)
    log = done.changelog
    table = Table("split", "row", "label", "text", title=f"{len(log.changes)} labels changed",
                  title_justify="left")  # fmt: skip
    for ch in log.changes[:20]:
        table.add_row(ch.split, ch.row, f"{ch.label_before} → {ch.label_after}", ch.text[:60])
    console.print(table)
    console.print(
        f"{log.accepted} accepted, {log.rejected} rejected, {log.undecided} undecided; "
        f"dataset sha256 {dataset_sha256(log)}"
    )
    for f in log.files.values():
        console.print(f"wrote {f.path} ({f.rows:,} rows, sha256 {f.sha256[:12]}…)")
    console.print(f"wrote {done.output / 'changelog.json'}")


def register(root: typer.Typer) -> None:
    """Add the `data` group to the main app."""
    root.add_typer(app, name="data")
