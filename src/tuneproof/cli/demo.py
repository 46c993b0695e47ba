"""`tuneproof demo`: the whole flow on real data that works offline, in one command.

Each step is an ordinary library call, so the demo doubles as an example of the API.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from tuneproof.config import (
    DataConfig,
    LoraSettings,
    ModelConfig,
    RunConfig,
    StrategyConfig,
    TrainingConfig,
)

# "was fine-tuning worth it?": the report opens with the fine-tuned model against the best of these
DEMO_BASELINES = ("majority", "tfidf-lr", "embed-lr", "zero-shot")


def demo_config(strategy: str = "full") -> RunConfig:
    """The configs of examples/polarity-{full,lora}.yaml (a test keeps them equal)."""
    data = DataConfig(
        builtin="polarity-en",
        text_column="text",
        label_column="label",
        id_column="id",
        max_length=64,
    )
    if strategy == "full":
        return RunConfig(
            name="polarity-full",
            data=data,
            model=ModelConfig(name="minilm-l6"),
            strategy=StrategyConfig(kind="full"),
            training=TrainingConfig(epochs=3, batch_size=32, learning_rate=5e-5, seed=42),
            baselines=list(DEMO_BASELINES),
        )
    if strategy == "lora":
        return RunConfig(
            name="polarity-lora",
            data=data,
            model=ModelConfig(name="minilm-l6"),
            strategy=StrategyConfig(
                kind="lora",
                lora=LoraSettings(r=8, alpha=16, dropout=0.1, target_modules=["query", "value"]),
            ),
            training=TrainingConfig(epochs=5, batch_size=32, learning_rate=1e-3, seed=42),
            baselines=list(DEMO_BASELINES),
        )
    from tuneproof.errors import UserError

    raise UserError(f"demo --strategy must be full or lora (got {strategy!r})")


EVAL_SETS = ("polarity-en", "polarity-fr", "polarity-nl", "polarity-de")


def run_demo(output: Path, *, strategy: str = "full", console: Console | None = None) -> Path:
    """fetch → check + train → eval by language (en/fr/nl/de) → stress → report, into ``output``.

    The English-only model is evaluated on French, Dutch and German reviews too, so its weakness
    outside English is visible per language with intervals in ``slices.md`` and the report.
    """
    from tuneproof.cli.run import headline_lines, print_summary
    from tuneproof.data.corpora import SOURCE_NOTE, builtin_dataset
    from tuneproof.evaluate import evaluate_run, run_stress
    from tuneproof.report import build_report
    from tuneproof.train import run

    console = console or Console(stderr=True)
    console.rule("[bold]1/5 data")
    files = builtin_dataset("polarity-en")
    console.print(f"polarity-en: {', '.join(f'{k} → {v}' for k, v in files.items())}")
    console.print(f"source: {SOURCE_NOTE}")
    console.rule("[bold]2/5 check + train")
    config = demo_config(strategy)
    result = run(
        config,
        output,
        overwrite=True,
        command=["tuneproof", *sys.argv[1:]],
        console=console,
    )
    print_summary(result)

    console.rule("[bold]3/5 eval by language: English test split + French, Dutch, German reviews")
    eval_files = [builtin_dataset(name)["test"] for name in EVAL_SETS]
    evaluation = evaluate_run(output, eval_files, lang_column="lang", console=console)
    # the English test split is the headline; fr/nl/de are out-of-distribution, reported apart
    for line in headline_lines(evaluation.metrics):
        console.print(f"  {line}", highlight=False)

    console.rule("[bold]4/5 stress tests (CheckList-style) on the English test split")
    stress = run_stress(output, files["test"], console=console)
    for t in stress.tests:
        if t.failure_rate is not None:
            console.print(
                f"  {t.name:<15} {t.kind:<12} failure rate {t.failure_rate:6.1%} "
                f"({t.failures}/{t.applicable})"
            )

    console.rule("[bold]5/5 evidence report")
    report = build_report(output)
    for path in report.written:
        console.print(f"wrote {path}")
    console.print(
        f"run directory: [bold]{output}[/]   MLflow store: [bold]{result.tracking_uri}[/]"
    )
    # the app lists the runs under WORKSPACE/runs/
    where = output.resolve().parent
    ws = (
        " --workspace " + str(where.parent)
        if where.name == "runs" and where.parent != Path.cwd()
        else ""
    )
    console.print(
        f"look at the run in the browser: [bold]tuneproof ui{ws}[/] (http://127.0.0.1:7860/runs/{output.name})"
    )
    return output
