"""`slices find`, `slices diff` and `baseline`: where a run is weak, and was fine-tuning worth it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tuneproof.cli._common import console

if TYPE_CHECKING:
    from tuneproof import rundir

slices_app = typer.Typer(
    help="Find the weakest slices of a run (with intervals and false-discovery control).",
    no_args_is_help=True,
)


def _ci(ci: tuple[float, float] | None) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "–"


def _num(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "–"
    return f"{v:+.3f}" if signed else f"{v:.3f}"


def print_found(rec: rundir.SlicesFound, top: int = 15) -> None:
    """The significant slices (or a sentence saying there are none), then how they were found."""
    from tuneproof.evaluate.compare import format_p

    what = (
        f"where {rec.run} is worse than {rec.against} (Δ {rec.metric}, B − A)"
        if rec.mode == "diff"
        else f"weakest slices of {rec.run} ({rec.metric})"
    )
    found = rec.found
    console.print(
        f"{what}: {rec.n_tested:,} slices tested ({len(rec.dimensions)} dimensions, depth "
        f"{rec.depth}, ≥ {rec.min_support} rows), {len(found)} significant after "
        f"Benjamini–Hochberg at {rec.fdr}; overall {_num(rec.overall)} {_ci(rec.overall_ci)}",
        highlight=False,
    )
    console.print(f"test: {rec.test}", style="dim", highlight=False)
    if rec.note:
        console.print(f"[yellow]note:[/] {rec.note}", highlight=False)
    if not found:
        console.print("no slice is significantly weaker than the rest", highlight=False)
        return
    table = Table(title_justify="left")
    for col in ("slice", "n", "Δ" if rec.mode == "diff" else rec.metric, "95 % CI", "rest", "gap"):
        table.add_column(col, justify="left" if col in ("slice", "95 % CI") else "right")
    table.add_column("p", justify="right")
    table.add_column("q (BH)", justify="right")
    for s in found[:top]:
        table.add_row(
            s.key,
            f"{s.support:,}",
            _num(s.metric, rec.mode == "diff"),
            _ci(s.metric_ci),
            _num(s.rest, rec.mode == "diff"),
            _num(s.gap, True),
            format_p(s.p),
            format_p(s.q),
        )
    console.print(table)


def find(
    run_dir: Annotated[Path, typer.Argument(help="an evaluated run directory")],
    min_support: Annotated[int, typer.Option(min=5, help="rows a slice (and its rest) needs")] = 30,
    depth: Annotated[int, typer.Option(min=1, max=3, help="conditions per slice, at most")] = 2,
    fdr: Annotated[
        float, typer.Option(min=0.001, max=0.5, help="Benjamini–Hochberg false-discovery rate")
    ] = 0.05,
    resamples: Annotated[int, typer.Option(min=100, help="bootstrap resamples")] = 1000,
    seed: Annotated[int | None, typer.Option(help="[default: the run's training seed]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print slices_found.json")] = False,
) -> None:
    """Test every slice of the run's prediction rows, conjunctions too; keep what survives FDR.

    Candidates: every tag of predictions.jsonl (language, script, length, negation, user
    columns, ...) plus digits, emoji, entities, fertility and UNK bins; each with support, the
    metric and its bootstrap CI, the gap to the rest, a one-sided Fisher exact p-value and its
    Benjamini–Hochberg q. Writes slices_found.json (the report and the app show it).
    Examples: `tuneproof slices find runs/demo`,
    `tuneproof slices find runs/demo --min-support 50 --depth 3 --fdr 0.1`
    """
    from tuneproof import rundir
    from tuneproof.evaluate.slicefinder import find_run_slices

    rec = find_run_slices(
        run_dir, min_support=min_support, depth=depth, fdr=fdr, seed=seed, n_resamples=resamples
    )
    if as_json:
        print(json.dumps(rundir.dump(rec), ensure_ascii=False, indent=2))
        return
    print_found(rec)
    console.print(f"wrote {run_dir / rundir.SLICES_FOUND}", style="dim", highlight=False)


def diff(
    run_a: Annotated[Path, typer.Argument(help="the reference run (A)")],
    run_b: Annotated[Path, typer.Argument(help="the run that may be worse (B)")],
    min_support: Annotated[int, typer.Option(min=5, help="rows a slice (and its rest) needs")] = 30,
    depth: Annotated[int, typer.Option(min=1, max=3, help="conditions per slice, at most")] = 2,
    fdr: Annotated[float, typer.Option(min=0.001, max=0.5, help="false-discovery rate")] = 0.05,
    resamples: Annotated[int, typer.Option(min=100, help="bootstrap resamples")] = 1000,
    seed: Annotated[int, typer.Option(help="bootstrap seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """The slice finder on two runs' predictions of the same rows: where B is worse than A.

    The metric is B − A on each slice with a paired bootstrap CI; the test the exact one-sided
    McNemar test; Benjamini–Hochberg over all tested slices (also `compare --find-slices`).
    Example: `tuneproof slices diff runs/full runs/lora`
    """
    from tuneproof import rundir
    from tuneproof.evaluate.slicefinder import find_run_regressions

    rec = find_run_regressions(
        run_a,
        run_b,
        min_support=min_support,
        depth=depth,
        fdr=fdr,
        seed=seed,
        n_resamples=resamples,
    )
    if as_json:
        print(json.dumps(rundir.dump(rec), ensure_ascii=False, indent=2))
        return
    print_found(rec)


def baseline(
    run_dir: Annotated[Path, typer.Argument(help="an evaluated classification run directory")],
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--baseline",
            "-b",
            help="majority, tfidf-lr, embed-lr or zero-shot (repeatable) "
            "[default: the config's baselines, else all four]",
        ),
    ] = None,
    encoder: Annotated[
        str | None,
        typer.Option(
            help="frozen encoder of embed-lr/zero-shot [default: the run's base model when "
            "built-in, else minilm-l6]"
        ),
    ] = None,
    describe: Annotated[
        list[str] | None,
        typer.Option(help="zero-shot label description LABEL=TEXT (repeatable)"),
    ] = None,
    resamples: Annotated[int, typer.Option(min=100, help="bootstrap resamples")] = 1000,
    seed: Annotated[int | None, typer.Option(help="[default: the run's training seed]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print baselines.json")] = False,
) -> None:
    """Was fine-tuning worth it? Cheap baselines on the run's own test rows, paired with it.

    Fits majority class, TF-IDF + logistic regression, frozen-encoder embeddings + logistic
    regression and a zero-shot nearest-label-description baseline on the train split; scores
    each on the same rows as the headline with a CI, the paired bootstrap CI of fine-tuned −
    baseline and McNemar's p. Writes baselines.json; the report opens with the best one.
    Examples: `tuneproof baseline runs/demo`,
    `tuneproof baseline runs/demo -b majority -b tfidf-lr --json`,
    `tuneproof baseline runs/demo -b zero-shot --describe pos="a positive review"`
    """
    from tuneproof import rundir
    from tuneproof.errors import UserError
    from tuneproof.evaluate.baselines import fine_tune_verdict, run_baselines

    descriptions = {}
    for item in describe or []:
        label, sep, text = item.partition("=")
        if not sep or not label or not text:
            raise UserError(
                f"--describe {item!r}: expected LABEL=TEXT, e.g. pos='a positive review'"
            )
        descriptions[label] = text
    rec = run_baselines(
        run_dir,
        only,
        encoder=encoder,
        descriptions=descriptions or None,
        seed=seed,
        n_resamples=resamples,
    )
    if as_json:
        print(json.dumps(rundir.dump(rec), ensure_ascii=False, indent=2))
        return
    print_baselines(rec)
    console.print(f"wrote {run_dir / rundir.BASELINES}", style="dim", highlight=False)
    verdict = fine_tune_verdict(rec)
    if verdict is not None:
        console.print(verdict.sentence, highlight=False)


def print_baselines(rec: rundir.Baselines) -> None:
    from tuneproof.evaluate.compare import format_p

    m = rec.main_metric
    table = Table(
        title=f"baselines vs the fine-tuned model: {m} on the same {rec.n:,} {rec.split} rows",
        title_justify="left",
    )
    for col in ("model", m, "95 % CI", "fine-tuned − it", "paired 95 % CI", "McNemar p", "verdict"):
        table.add_column(col, justify="left" if col in ("model", "verdict") else "right")
    table.add_row("fine-tuned", _num(rec.finetuned), _ci(rec.finetuned_ci), "", "", "", "")
    for b in rec.baselines:
        table.add_row(
            b.name,
            _num(b.main),
            _ci(b.main_ci),
            _num(b.delta, True),
            _ci(b.delta_ci),
            format_p(b.mcnemar_p),
            b.verdict,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    slices_app.command()(find)
    slices_app.command()(diff)
    app.add_typer(slices_app, name="slices")
    app.command()(baseline)
