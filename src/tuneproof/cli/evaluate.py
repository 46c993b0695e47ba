"""`eval`, `compare`, `evalplan`, `stress`: slice-based evaluation of a trained run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tuneproof.cli._common import console, err_console

if TYPE_CHECKING:
    from tuneproof.evaluate.compare import Comparison
    from tuneproof.evaluate.run import EvalResult


def _ci(value: float | None, ci: tuple[float, float] | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{value:.3f}"


def eval_cmd(
    run_dir: Annotated[Path, typer.Argument(help="run directory (from `tuneproof train`)")],
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data", "-d", help="labelled file (repeatable) [default: the run's test split]"
        ),
    ] = None,
    lang_column: Annotated[
        str | None,
        typer.Option(help="column with a language code per row [default: detect with lingua]"),
    ] = None,
    plan: Annotated[
        Path | None, typer.Option(help="evaluation plan from `tuneproof evalplan`")
    ] = None,
    text_column: Annotated[
        str | None, typer.Option(help="text column, when it differs from the run's config")
    ] = None,
    label_column: Annotated[
        str | None, typer.Option(help="label column, when it differs from the run's config")
    ] = None,
    slice_column: Annotated[
        list[str] | None,
        typer.Option(help="categorical column to slice by (repeatable) [default: detected]"),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(min=1, help="[default: training.eval_batch_size]")
    ] = None,
    in_distribution: Annotated[
        list[str] | None,
        typer.Option(
            "--in-distribution",
            help="a --data file (name or path) that counts towards the headline (repeatable) "
            "[default: only the run's own test/validation split; other files are reported as "
            "out-of-distribution]",
        ),
    ] = None,
    resamples: Annotated[int, typer.Option(min=100, help="bootstrap resamples")] = 1000,
    seed: Annotated[int | None, typer.Option(help="[default: the run's training seed]")] = None,
    suite: Annotated[
        Path | None,
        typer.Option(
            help="replay a regression suite (from `stress --save-suite`) instead: each case's "
            "original and edited text, judged by its rule; writes suite.json"
        ),
    ] = None,
) -> None:
    """Evaluate a run by slice: language, script, code-switching, length, negation, columns.

    The headline is the run's own test split (in-distribution); every other file (another
    language, another source) is a named out-of-distribution result beside it, never pooled.
    Writes predictions.jsonl (slice tags per row), metrics.json (per-slice metrics with 95 %
    bootstrap intervals, failure categories) and slices.md in the run directory.
    Example: `tuneproof eval runs/demo --data fr.csv --data de.csv --lang-column lang`;
    `tuneproof eval runs/new --suite suite.jsonl` replays a suite (then `compare` lists the
    cases fixed and newly broken).
    """
    if suite is not None:
        if data:
            from tuneproof.errors import UserError

            raise UserError("--suite replays a suite on its own; run `eval --data` separately")
        from tuneproof.evaluate.suite import run_suite

        res = run_suite(run_dir, suite, batch_size=batch_size, console=err_console)
        by_test: dict[str, list[int]] = {}
        for c in res.cases:
            by_test.setdefault(c.test, [0, 0])[0 if c.passed else 1] += 1
        table = Table("test", "passed", "failed", title=f"suite {suite}: {res.n_cases} cases",
                      title_justify="left")  # fmt: skip
        for test, (ok, bad) in by_test.items():
            table.add_row(test, f"{ok:,}", f"{bad:,}")
        console.print(table)
        console.print(f"{res.passed} passed, {res.failed} failed; wrote {run_dir / 'suite.json'}")
        return
    from tuneproof.evaluate.run import evaluate_run

    result = evaluate_run(
        run_dir,
        data,
        lang_column=lang_column,
        text_column=text_column,
        label_column=label_column,
        slice_columns=slice_column,
        plan=plan,
        in_distribution=in_distribution or (),
        batch_size=batch_size,
        n_resamples=resamples,
        seed=seed,
        console=err_console,
    )
    print_eval(result)


def print_eval(result: EvalResult) -> None:
    s = result.summary
    main = result.main_metric
    others = [m for m in s.overall.metrics if m != main]
    table = Table(
        title=f"{result.run_dir}: headline on {result.metrics.split} (in-distribution), "
        f"{s.overall.n:,} rows, {s.confidence:.0%} bootstrap intervals",
        title_justify="left",
    )
    table.add_column("slice", no_wrap=True)
    table.add_column("n", justify="right")
    for m in [main, *others]:
        table.add_column(m)
    table.add_column("")

    def add(key: str, sm: object) -> None:
        from tuneproof.evaluate.metrics import SliceMetrics

        assert isinstance(sm, SliceMetrics)
        cells = [_ci(sm.metrics.get(m), sm.ci.get(m)) for m in [main, *others]]
        table.add_row(key, f"{sm.n:,}", *cells, "[yellow]small n[/]" if sm.small_n else "")

    add("[bold]overall[/]", s.overall)
    for key, sm in s.slices.items():
        add(key, sm)
    console.print(table)
    for name, res in result.metrics.ood.items():
        mv = res.overall.get(main)
        if mv is not None:
            console.print(
                f"out-of-distribution {name}: n={res.overall.n or 0:,} {main} "
                f"{_ci(mv.value, mv.ci)} (not in the headline)"
            )
    worst = result.worst_slices(3)
    if worst:
        console.print("worst: " + ", ".join(f"{k} {v:.3f}" for k, v in worst))
    if result.plan is not None:
        short = [p for p in result.plan if not p.met]
        console.print(
            f"plan: {len(result.plan) - len(short)} of {len(result.plan)} slices have enough rows"
            + (
                f"; short: {', '.join(f'{p.key} ({p.n}/{p.min_examples})' for p in short)}"
                if short
                else ""
            )
        )
    print_data_checks(result)
    for f in result.files:
        console.print(f"wrote {f}")


def print_data_checks(result: EvalResult) -> None:
    """One line on the evaluated data itself: copies, rows of the train split, empty texts."""
    dc = result.data_checks
    by_check: dict[str, int] = {}
    for f in dc.findings:
        by_check[f.check] = by_check.get(f.check, 0) + 1
    copies = {name: dc.duplicate_rows(name) for name in dc.dataset}
    parts = [f"{name}: {n} rows copy another row's text" for name, n in copies.items() if n]
    leaked = sum(len(f.rows) for f in dc.findings if f.check == "leakage" and f.severity == "error")
    if leaked:
        parts.append(f"[bold red]{leaked} rows also in the train split[/]")
    empty = sum(len(f.rows) for f in dc.findings if f.check == "empty_text")
    if empty:
        parts.append(f"{empty} empty texts")
    s = dc.summary
    head = f"data checks: {s.errors} errors, {s.warnings} warnings"
    console.print(head + (f" ({'; '.join(parts)})" if parts else ""))
    if any(copies.values()):
        console.print("  copies of one text are resampled together (cluster bootstrap)")
    if dc.note:
        console.print(f"  [yellow]{dc.note}[/]")


def compare(
    runs: Annotated[
        list[Path],
        typer.Argument(help="run directories: the baseline first (or --baseline), then the runs"),
    ],
    baseline: Annotated[
        Path | None, typer.Option(help="the baseline run [default: the first run given]")
    ] = None,
    fail_on_regression: Annotated[
        bool, typer.Option(help="exit 1 when any slice of any run regresses (a CI gate)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the comparison as JSON")] = False,
    confidence: Annotated[
        float, typer.Option(min=0.5, max=0.999, help="level of the paired intervals")
    ] = 0.95,
    resamples: Annotated[int, typer.Option(min=100, help="bootstrap resamples")] = 1000,
    seed: Annotated[int, typer.Option(help="bootstrap seed")] = 0,
    find_slices: Annotated[
        bool,
        typer.Option(
            "--find-slices",
            help="also run the slice finder on the difference: where each run is worse than "
            "the baseline (conjunctions, Benjamini–Hochberg; see `tuneproof slices diff`)",
        ),
    ] = False,
) -> None:
    """Compare runs against a baseline per slice: paired bootstrap delta and a verdict each.

    The first run is the baseline unless --baseline names it; every other run is compared with
    it on the same rows and shown in one table. All runs must be evaluated on the same data
    (same ids and texts); the config diff against the baseline is shown.
    Examples: `tuneproof compare runs/full runs/lora --fail-on-regression`,
    `tuneproof compare runs/full runs/lora runs/qlora runs/freeze`,
    `tuneproof compare runs/lora runs/qlora --baseline runs/full`,
    `tuneproof compare runs/full runs/lora --find-slices`
    """
    from tuneproof.errors import UserError
    from tuneproof.evaluate.compare import compare_runs

    base, others = (
        (baseline, [r for r in runs if r != baseline]) if baseline else (runs[0], runs[1:])
    )
    if not others:
        raise UserError(
            "compare: give the baseline and at least one run to compare with it "
            "(tuneproof compare BASELINE RUN [RUN ...])"
        )
    results = [
        compare_runs(r, base, seed=seed, n_resamples=resamples, confidence=confidence)
        for r in others
    ]
    if as_json:
        payload = (
            results[0].to_dict()
            if len(results) == 1
            else {"baseline": str(base), "comparisons": [c.to_dict() for c in results]}
        )
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    elif len(results) == 1:
        print_comparison(results[0])
    else:
        print_comparisons(results)
    if find_slices and not as_json:
        from tuneproof.cli.slices import print_found
        from tuneproof.evaluate.slicefinder import find_run_regressions

        for r in others:
            print_found(find_run_regressions(base, r, seed=seed, n_resamples=resamples))
    for c in results if not as_json else []:
        for line in c.seeds.lines() if c.seeds is not None else []:  # train --seeds runs
            console.print(f"{c.run_a}: {line}", highlight=False)
    if fail_on_regression and any(c.regressions for c in results):
        raise typer.Exit(1)


def print_comparison(c: Comparison) -> None:
    from tuneproof.evaluate.compare import format_p

    m = c.main_metric
    table = Table(
        title=f"{c.run_a} (A) vs {c.run_b} (B, baseline): {m}, {c.n_rows:,} paired rows",
        title_justify="left",
    )
    for col in (
        "slice",
        "n",
        "B",
        "A",
        "Δ A−B",
        f"{c.confidence:.0%} CI of Δ",
        "McNemar p",
        "verdict",
    ):
        table.add_column(
            col,
            justify="right" if col in ("n", "B", "A", "Δ A−B") else "left",
            no_wrap=col == "slice",
        )
    colour = {"improved": "green", "regressed": "bold red", "no evidence": "dim"}
    for s in c.slices:
        d = s.main
        ci = f"[{d.delta_ci[0]:+.3f}, {d.delta_ci[1]:+.3f}]" if d.delta_ci else "–"
        p = format_p(s.mcnemar_p)
        note = " (small n)" if s.small_n else ""
        table.add_row(
            s.key, f"{s.n:,}", f"{d.b:.3f}", f"{d.a:.3f}", f"{d.delta:+.3f}", ci, p,
            f"[{colour[s.verdict]}]{s.verdict}[/]{note}",
        )  # fmt: skip
    console.print(table)
    if c.config_diff:
        diff = Table("config key", "A", "B", title="config diff", title_justify="left")
        for ch in c.config_diff:
            diff.add_row(ch.key, repr(ch.a), repr(ch.b))
        console.print(diff)
    else:
        console.print("config: identical")
    reg, imp = c.regressions, c.improvements
    console.print(
        f"{len(reg)} regressed"
        + (f" ({', '.join(s.key for s in reg)})" if reg else "")
        + f", {len(imp)} improved, {len(c.slices) - len(reg) - len(imp)} no evidence"
    )
    print_suite(c)


def print_suite(c: Comparison) -> None:
    """The regression suite both runs replayed: cases A fixed and cases A newly broke."""
    d = c.suite
    if d is None:
        return
    if d.note:
        console.print(f"suite: [yellow]{d.note}[/]")
        return
    console.print(
        f"suite {d.suite} ({d.n_common} cases): [green]{len(d.fixed)} fixed[/], "
        f"[bold red]{len(d.broken)} newly broken[/], {d.still_failing} still failing"
    )
    for label, ids in (("fixed", d.fixed), ("newly broken", d.broken)):
        if ids:
            more = f" (+{len(ids) - 10} more)" if len(ids) > 10 else ""
            console.print(f"  {label}: {', '.join(ids[:10])}{more}")


def print_comparisons(results: list[Comparison]) -> None:
    """N runs against one baseline in one table: per slice, the baseline's value, then each
    run's value, delta with its interval and verdict."""
    first = results[0]
    m = first.main_metric
    table = Table(
        title=f"{len(results)} runs vs {first.run_b} (baseline): {m}, {first.n_rows:,} paired "
        f"rows, {first.confidence:.0%} CI of Δ",
        title_justify="left",
    )
    table.add_column("slice", no_wrap=True)
    table.add_column("n", justify="right")
    table.add_column("baseline", justify="right")
    for c in results:
        table.add_column(c.run_a)
    colour = {"improved": "green", "regressed": "bold red", "no evidence": "dim"}
    by_run = [{s.key: s for s in c.slices} for c in results]
    keys = list(dict.fromkeys(k for slices in by_run for k in slices))
    for key in keys:
        ref = next(slices[key] for slices in by_run if key in slices)
        cells = []
        for slices in by_run:
            s = slices.get(key)
            if s is None:
                cells.append("–")
                continue
            d = s.main
            ci = f" [{d.delta_ci[0]:+.3f}, {d.delta_ci[1]:+.3f}]" if d.delta_ci else ""
            small = " (small n)" if s.small_n else ""
            cells.append(f"{d.a:.3f} {d.delta:+.3f}{ci} [{colour[s.verdict]}]{s.verdict}[/]{small}")
        table.add_row(key, f"{ref.n:,}", f"{ref.main.b:.3f}", *cells)
    console.print(table)
    changed = sorted({ch.key for c in results for ch in c.config_diff})
    if changed:
        diff = Table("config key", "baseline", *(c.run_a for c in results), title="config diff",
                     title_justify="left")  # fmt: skip
        for key in changed:
            values = [{ch.key: ch for ch in c.config_diff}.get(key) for c in results]
            base = next(v.b for v in values if v is not None)
            diff.add_row(key, repr(base), *("=" if v is None else repr(v.a) for v in values))
        console.print(diff)
    for c in results:
        reg, imp = c.regressions, c.improvements
        console.print(
            f"{c.run_a}: {len(reg)} regressed"
            + (f" ({', '.join(s.key for s in reg)})" if reg else "")
            + f", {len(imp)} improved, {len(c.slices) - len(reg) - len(imp)} no evidence"
        )
        print_suite(c)


def evalplan(
    languages: Annotated[str, typer.Option(help="comma-separated ISO 639-1 codes: en,fr,de,ar")],
    task: Annotated[
        str,
        typer.Option(
            help="sentiment, classification, token-classification, extractive-qa, "
            "summarization or similarity"
        ),
    ] = "sentiment",
    data: Annotated[
        list[Path] | None,
        typer.Option("--data", "-d", help="labelled file(s) whose coverage to measure"),
    ] = None,
    width: Annotated[
        float, typer.Option(help="target half-width of each slice's interval (0.1 = ±10 points)")
    ] = 0.1,
    expected_accuracy: Annotated[
        float, typer.Option(help="expected accuracy; 0.5 is the worst case (most examples)")
    ] = 0.5,
    text_column: Annotated[str, typer.Option(help="text column of --data")] = "text",
    lang_column: Annotated[
        str | None, typer.Option(help="language column of --data [default: detect]")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the plan as YAML")
    ] = None,
    confidence: Annotated[
        float, typer.Option(help="confidence level of each slice's interval")
    ] = 0.95,
    scripts: Annotated[
        str | None,
        typer.Option(help="extra script slices, comma-separated (e.g. Latin for romanised hi)"),
    ] = None,
    code_switching: Annotated[
        bool, typer.Option(help="plan a code-switching slice and cases (2+ languages)")
    ] = True,
    failure_modes: Annotated[
        str | None,
        typer.Option(help="failure-mode categories to keep, comma-separated [default: all]"),
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="also write the plan as Markdown here")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
) -> None:
    """Write a multilingual evaluation plan: slices, examples needed, cases, stress tests.

    Example: `tuneproof evalplan --languages en,fr,de,ar,hi,zh --task sentiment -o plan.yaml`
    """
    from tuneproof import io
    from tuneproof.evaluate.plan import build_plan, plan_markdown

    def items(text: str | None) -> list[str]:
        return [x.strip() for x in (text or "").split(",") if x.strip()]

    plan = build_plan(
        languages.split(","),
        task,
        half_width=width,
        confidence=confidence,
        expected_accuracy=expected_accuracy,
        data=list(data or []),
        text_column=text_column,
        lang_column=lang_column,
        scripts=items(scripts),
        code_switching=code_switching,
        failure_modes=items(failure_modes) if failure_modes is not None else None,
    )
    if output is not None:
        io.write_yaml(output, plan.to_dict())
    if markdown is not None:
        io.write_text(markdown, plan_markdown(plan))
    if as_json:
        print(json.dumps(plan.to_dict(), ensure_ascii=False, indent=2))
        return
    table = Table(
        "slice", "needed", "in data", "why",
        title=f"evaluation plan: {task}, ±{width} at {plan.confidence:.0%} → "
        f"{plan.min_examples} examples per slice",
        title_justify="left",
    )  # fmt: skip
    for s in plan.slices:
        have = (
            "–" if s.current is None else f"{s.current:,}" + ("" if s.covered else " [red]short[/]")
        )
        table.add_row(s.key, f"{s.min_examples:,}", have, s.why)
    console.print(table)
    if plan.code_switching:
        console.print(f"{len(plan.code_switching)} code-switching cases, e.g.: "
                      f"{plan.code_switching[0].text!r}")  # fmt: skip
    console.print(f"{len(plan.stress_tests)} stress tests, {len(plan.failure_modes)} failure modes")
    if output is not None:
        console.print(f"wrote {output}; use it with: tuneproof eval RUN --plan {output}")
    if markdown is not None:
        console.print(f"wrote {markdown}")


def stress(
    run_dir: Annotated[Path, typer.Argument(help="run directory (from `tuneproof train`)")],
    data: Annotated[
        Path | None,
        typer.Option("--data", "-d", help="labelled file [default: the run's test split]"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="rows sampled (seeded)")] = 200,
    lang_column: Annotated[
        str | None, typer.Option(help="language column [default: detect]")
    ] = None,
    text_column: Annotated[str | None, typer.Option(help="text column override")] = None,
    label_column: Annotated[str | None, typer.Option(help="label column override")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    save_suite: Annotated[
        Path | None,
        typer.Option(help="write every failing case here (JSON lines): a regression suite"),
    ] = None,
) -> None:
    """Behaviour tests from the data: invariance (case, accents, NFD, emoji, names, and the
    multilingual edits: transliteration, homoglyphs, code-switching, keyboard typos per layout,
    number and date formats), negation.

    Reports the failure rate of each test with its 95 % Wilson interval, per language, with
    examples, and writes stress.json in the run.
    Examples: `tuneproof stress runs/demo --limit 300`,
    `tuneproof stress runs/demo --data fr.csv --lang-column lang --save-suite suite.jsonl`
    (then `tuneproof eval runs/other --suite suite.jsonl`)
    """
    from tuneproof.evaluate.stress import run_stress

    report = run_stress(
        run_dir,
        data,
        limit=limit,
        lang_column=lang_column,
        text_column=text_column,
        label_column=label_column,
        batch_size=batch_size,
        save_suite=save_suite,
        console=err_console,
    )
    table = Table(
        "test", "kind", "rows", "failures", "rate [95% CI]", "by language", "mean |Δp|",
        "example",
        title=f"stress: {report.n_rows} rows of {report.data.path}",
        title_justify="left",
    )  # fmt: skip
    for t in report.tests:
        rate = "–" if t.failure_rate is None else f"{t.failure_rate:.1%}"
        if t.failure_ci:
            rate += f" [{t.failure_ci[0]:.1%}, {t.failure_ci[1]:.1%}]"
        langs = ", ".join(f"{k} {r.failure_rate:.0%}" for k, r in t.by_language.items())
        shift = "–" if t.mean_abs_shift is None else f"{t.mean_abs_shift:.3f}"
        ex = t.examples[0] if t.examples else None
        shown = f"{ex.pred_before}→{ex.pred_after}: {ex.edited[:50]!r}" if ex else ""
        table.add_row(
            t.name, t.kind, f"{t.applicable:,}", f"{t.failures:,}", rate, langs, shift, shown
        )
    console.print(table)
    console.print(f"wrote {Path(run_dir) / 'stress.json'}")
    if save_suite is not None:
        n = sum(t.failures for t in report.tests)
        console.print(
            f"wrote {save_suite}: {n} failing cases; replay with "
            f"`tuneproof eval RUN --suite {save_suite}`"
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("eval")(eval_cmd)
    app.command()(compare)
    app.command()(evalplan)
    app.command()(stress)
