"""`tuneproof humaneval export|import`: blinded A/B sheets for people, and what they said."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tuneproof.cli._common import console, err_console

humaneval_app = typer.Typer(
    help=(
        "Human A/B evaluation of a generation run: a blinded sheet, ratings, win rate and "
        "agreement.\n\n"
        "Example: `tuneproof humaneval export runs/sft --baseline runs/base --n 100 --raters 3`, "
        "then `tuneproof humaneval import runs/sft runs/sft/humaneval/ratings/*.csv`."
    ),
    no_args_is_help=True,
)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"


def _ci(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def _num(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


@humaneval_app.command("export")
def export(
    run: Annotated[Path, typer.Argument(help="run directory with predictions.jsonl")],
    baseline: Annotated[
        Path | None,
        typer.Option(
            help="the other side: this run's outputs on the same rows [default: the reference]"
        ),
    ] = None,
    n: Annotated[int, typer.Option("--n", help="items to sample")] = 100,
    raters: Annotated[int, typer.Option(help="empty rating files to write (rater-1.csv, ...)")] = 3,
    seed: Annotated[
        int | None, typer.Option(help="fix the sample, order and sides [default: random]")
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            help="set the existing sheet, key and ratings aside (RUN/humaneval.replaced-TIME/) "
            "and export a new sheet"
        ),
    ] = False,
) -> None:
    """Write a blinded, shuffled A/B sheet (RUN/humaneval/sheet.csv: item_id, prompt, output_a,
    output_b), one rating file per rater (RUN/humaneval/ratings/rater-N.csv: item_id, rater,
    choice a|b|tie) and the key that un-blinds them (RUN/humaneval_key.json, never for raters).

    Without --baseline the run's output is compared with the reference output (gold).
    Raters can also rate in `tuneproof ui` (the run's "Human evaluation" page).

    Examples:

    - `tuneproof humaneval export runs/sft --n 50 --raters 2`
    - `tuneproof humaneval export runs/sft --baseline runs/sft-base --seed 7`
    """
    from tuneproof.evaluate.humaneval_files import export_sheet

    result = export_sheet(
        run, baseline=baseline, n=n, raters=raters, seed=seed, overwrite=overwrite
    )
    key = result.key
    err_console.print(
        f"{len(key.items)} items ({key.eligible} eligible rows, {key.identical} left out with "
        f"identical outputs), the run against {key.baseline}",
        highlight=False,
    )
    for path in (result.sheet, *result.rating_files):
        err_console.print(f"wrote [bold]{path}[/]", highlight=False)
    err_console.print(f"wrote [bold]{result.key_path}[/] (the key: keep it from raters)")


@humaneval_app.command("import")
def import_(
    run: Annotated[Path, typer.Argument(help="run directory with humaneval_key.json")],
    ratings: Annotated[list[Path], typer.Argument(help="rating files (item_id, rater, choice)")],
    seed: Annotated[int, typer.Option(help="bootstrap seed")] = 0,
) -> None:
    """Un-blind the ratings and write RUN/humaneval.json: win/tie/loss of the run with 95 %
    intervals (items resampled as clusters), per slice, Cohen's κ (two raters) or
    Krippendorff's α, and raters who disagree with everyone. Every file is checked first;
    a bad line (unknown item_id, bad choice, a duplicate rating) exits 2 and writes nothing.

    Example: `tuneproof humaneval import runs/sft runs/sft/humaneval/ratings/*.csv`
    """
    from tuneproof.evaluate.humaneval_files import import_ratings

    h = import_ratings(run, ratings, seed=seed)
    o = h.overall
    table = Table("", "win", "tie", "loss", "items", "ratings")
    table.add_row(
        f"{h.run} vs {h.baseline}",
        f"{_pct(o.win)} {_ci(o.win_ci)}",
        f"{_pct(o.tie)} {_ci(o.tie_ci)}",
        f"{_pct(o.loss)} {_ci(o.loss_ci)}",
        str(o.n_items),
        str(o.n_ratings),
    )
    console.print(table)
    a = h.agreement
    console.print(
        f"agreement: {a.n_raters} rater(s), {a.n_items_shared} item(s) rated twice or more; "
        f"Cohen's κ {_num(a.cohen_kappa)}, Krippendorff's α {_num(a.krippendorff_alpha)}"
        + (f" ({a.note})" if a.note else ""),
        highlight=False,
    )
    for r in h.raters:
        if r.flagged:
            console.print(f"[bold red]rater {r.name}[/]: {r.reason}", highlight=False)
    err_console.print(f"wrote [bold]{run / 'humaneval.json'}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(humaneval_app, name="humaneval")
