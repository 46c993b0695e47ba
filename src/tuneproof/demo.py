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
        )
    from tuneproof.errors import UserError

    raise UserError(f"demo --strategy must be full or lora (got {strategy!r})")


def run_demo(output: Path, *, strategy: str = "full", console: Console | None = None) -> Path:
    from tuneproof.cli.run import print_summary
    from tuneproof.data.corpora import SOURCE_NOTE, builtin_dataset
    from tuneproof.train import run

    console = console or Console(stderr=True)
    console.rule("[bold]1/2 data")
    files = builtin_dataset("polarity-en")
    console.print(f"polarity-en: {', '.join(f'{k} → {v}' for k, v in files.items())}")
    console.print(f"source: {SOURCE_NOTE}")
    console.rule("[bold]2/2 check + train")
    config = demo_config(strategy)
    result = run(
        config,
        output,
        overwrite=True,
        command=["tuneproof", *sys.argv[1:]],
        console=console,
    )
    print_summary(result)
    console.print(
        f"run directory: [bold]{output}[/]   MLflow store: [bold]{result.tracking_uri}[/]"
    )
    return output
