"""`check`: data-quality findings (duplicates, leakage, labels, lengths, ...) before training."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tuneproof.cli._common import console, err_console
from tuneproof.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from tuneproof.checks.base import Severity
    from tuneproof.data.load import SourceInfo
    from tuneproof.tasks import TokenCount


class FailOn(str, Enum):
    error = "error"
    warning = "warning"


def check(
    config: Annotated[
        Path | None,
        typer.Argument(help="run config (YAML) to take the data from; or give --train and columns"),
    ] = None,
    train: Annotated[
        Path | None, typer.Option(help="train file (csv, tsv, jsonl, json, parquet)")
    ] = None,
    validation: Annotated[Path | None, typer.Option(help="validation file")] = None,
    test: Annotated[Path | None, typer.Option(help="test file")] = None,
    text: Annotated[str, typer.Option("--text", help="text column")] = "text",
    label: Annotated[str, typer.Option("--label", help="label column")] = "label",
    id_column: Annotated[
        str | None, typer.Option("--id", help="row id column [default: row index in the file]")
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="folder for checks.json and checks.md")
    ] = Path("checks"),
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            help="exit 1 when a finding reaches this severity (a CI gate) "
            "[default: the config's checks.fail_on, else never]",
        ),
    ] = None,
    skip: Annotated[
        list[str] | None, typer.Option("--skip", help="a check not to run (repeatable)")
    ] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            help="model whose tokenizer measures truncation (built-in, hub name or folder) "
            "[default: the config's model; with --train, none: lengths in words]"
        ),
    ] = None,
    max_length: Annotated[
        int | None,
        typer.Option(min=1, help="tokens kept per text [default: config's data.max_length]"),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="override a config value, e.g. checks.skip=[leakage] (repeatable)"
        ),
    ] = None,
    review: Annotated[
        Path | None,
        typer.Option(
            help="write the suspected label issues as a review queue (CSV: split, row, text, "
            "label, suggested, score, evidence, decision); apply it with "
            "`tuneproof data apply-review`"
        ),
    ] = None,
) -> None:
    """Find duplicates, train→test leakage, label problems, length, language, script and encoding
    issues; write checks.json + checks.md and print a summary.

    Give a run config, or files and columns. Checks: leakage, exact_duplicate, near_duplicate,
    label_conflict, label_issue, class_imbalance, empty_text, length_outlier, language_mix,
    script_mix, encoding_noise (docs/checks.md).
    Example: `tuneproof check --train train.csv --test test.csv --text sentence --fail-on error`;
    `tuneproof check run.yaml --review review.csv` (set decision to accept/reject, then
    `tuneproof data apply-review review.csv -o data-reviewed`)
    """
    from tuneproof import io
    from tuneproof.checks import CheckOptions, check_data, summary_table, write_report
    from tuneproof.checks.api import selected_checks, validate_columns

    io.ensure_writable(output)  # before any data is loaded
    if review is not None:
        if review.suffix.lower() != ".csv":
            raise UserError(f"--review {review}: the review queue is a CSV file; name it *.csv")
        io.ensure_writable(review.parent, what="--review")
    selected_checks(CheckOptions(skip=tuple(skip or ())))  # bad --skip names fail first
    files = {"train": train, "validation": validation, "test": test}
    if config is not None and any(files.values()):
        raise UserError(
            f"{config}: give either a config or --train/--validation/--test files, not both"
        )
    if overrides and config is None:
        raise UserError("--set needs a config; give CONFIG (tuneproof check run.yaml --set ...)")
    if config is not None:
        inputs = _from_config(config, tokenizer, max_length, overrides or ())
    elif train is not None:
        inputs = _from_files(files, text, label, id_column, tokenizer, max_length)
    else:
        raise UserError(
            "nothing to check; give a config (tuneproof check run.yaml) or "
            "--train FILE [--validation FILE] [--test FILE] --text COL --label COL"
        )
    validate_columns(
        inputs.splits, text_column=inputs.text, label_column=inputs.label,
        id_column=inputs.id, sources=inputs.sources, keys=inputs.keys,
    )  # fmt: skip
    report = check_data(
        inputs.splits,
        text_column=inputs.text,
        label_column=inputs.label,
        id_column=inputs.id,
        sources=inputs.sources,
        tokenizer=inputs.tokenizer,
        max_length=inputs.max_length,
        options=CheckOptions(skip=(*inputs.skip, *(skip or ())), seed=inputs.seed),
        token_counts=inputs.token_counts,
    )
    json_path, md_path = write_report(report, output)
    console.print(summary_table(report))
    console.print(f"wrote [bold]{json_path}[/] and [bold]{md_path}[/]")
    if review is not None:
        _write_review(review, report, inputs)
    level: Severity | None = inputs.fail_on
    if fail_on is not None:
        level = "error" if fail_on == FailOn.error else "warning"
    if level is not None and report.reaches(level):
        err_console.print(f"[bold red]checks failed[/]: findings at '{level}' or worse (--fail-on)")
        raise typer.Exit(1)


def _write_review(path: Path, report: Any, inputs: _Inputs) -> None:
    from tuneproof.checks.review import review_manifest, review_rows
    from tuneproof.data.review import write_review

    if inputs.label is None:
        raise UserError(f"--review {path}: the label checks did not run (no label column)")
    if "label_issue" not in report.checks_run:
        raise UserError(f"--review {path}: the label_issue check was skipped; do not skip it")
    rows = review_rows(
        report, inputs.splits, text_column=inputs.text, label_column=inputs.label,
        id_column=inputs.id,
    )  # fmt: skip
    manifest = review_manifest(
        inputs.sources, text_column=inputs.text, label_column=inputs.label, id_column=inputs.id
    )
    csv_path, json_path = write_review(path, rows, manifest)
    console.print(
        f"wrote [bold]{csv_path}[/] ({len(rows)} suspected labels; set decision to accept or "
        f"reject) and {json_path}; then `tuneproof data apply-review {csv_path} -o DIR`"
    )


@dataclass
class _Inputs:
    """What to check and how, from a config or from command-line files."""

    splits: dict[str, pd.DataFrame]
    sources: dict[str, SourceInfo]
    text: str
    label: str | None
    id: str | None
    keys: dict[str, str]  # how the user names each column, for error messages
    max_length: int | None = None
    tokenizer: Any = None
    fail_on: Severity | None = None
    seed: int = 0
    token_counts: dict[str, list[TokenCount]] | None = None  # the task adapter's
    skip: tuple[str, ...] = ()  # the config's checks.skip, as `train` honours it


def _from_config(
    config: Path,
    tokenizer: str | None,
    max_length: int | None,
    overrides: tuple[str, ...] | list[str],
) -> _Inputs:
    from tuneproof.data.load import load_splits
    from tuneproof.tasks import load_config

    cfg = load_config(config, overrides)
    loaded = load_splits(cfg.data)
    tok = _load_tokenizer(tokenizer or cfg.model.name, cfg.model.trust_remote_code)
    counts = None
    if cfg.task == "sequence-classification" and tok is not None:
        # the same validation `tuneproof train` runs (labels in every split, ids, label set)
        from tuneproof.tasks import get_task

        prepared = get_task(cfg.task).prepare(loaded, cfg, tok)
        counts = prepared.tokens if max_length is None else None
    elif cfg.task != "sequence-classification":
        # Check the same one-text-per-row view `tuneproof train` checks (tokens joined,
        # question + context, prompt, ...), which the task builds with the tokenizer.
        if tok is None:
            raise UserError(
                f"{config}: task '{cfg.task}' needs the model's tokenizer to build the texts to "
                "check; make model.name loadable offline or pass --tokenizer"
            )
        from tuneproof.tasks import get_task
        from tuneproof.tasks.base import checks_view

        prepared = get_task(cfg.task).prepare(loaded, cfg, tok)
        cfg, loaded = checks_view(cfg, loaded, prepared)
        # the adapter's own counts, unless --max-length asks about another limit
        counts = prepared.tokens if max_length is None else None
    data = cfg.data
    return _Inputs(
        splits=loaded.splits,
        sources=loaded.sources,
        text=data.text_column,
        label=data.label_column if cfg.task == "sequence-classification" else None,
        id=data.id_column,
        keys={"text": "data.text_column", "label": "data.label_column", "id": "data.id_column"},
        max_length=max_length or data.max_length,
        tokenizer=tok,
        fail_on=None if cfg.checks.fail_on == "never" else cfg.checks.fail_on,
        seed=cfg.training.seed,
        token_counts=counts,
        skip=tuple(cfg.checks.skip),
    )


def _from_files(
    files: dict[str, Path | None],
    text: str,
    label: str,
    id_column: str | None,
    tokenizer: str | None,
    max_length: int | None,
) -> _Inputs:
    from tuneproof.data.load import SourceInfo, read_table, sha256_file

    inputs = _Inputs(
        splits={},
        sources={},
        text=text,
        label=label,
        id=id_column,
        keys={"text": "--text", "label": "--label", "id": "--id"},
        max_length=max_length,
        tokenizer=_load_tokenizer(tokenizer, False) if tokenizer else None,
    )
    for split, path in files.items():
        if path is not None:
            df = read_table(path)
            inputs.splits[split] = df
            inputs.sources[split] = SourceInfo(str(path), sha256_file(path), len(df))
    return inputs


def _load_tokenizer(name: str | None, trust_remote_code: bool) -> Any:
    """The model's tokenizer, or None (lengths in words) when it cannot be loaded offline."""
    if name is None:
        return None
    from tuneproof.models import resolve_model

    try:
        path = resolve_model(name)
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (UserError, OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        err_console.print(
            f"[yellow]note:[/] no tokenizer for '{name}' ({first}); lengths are counted in words"
        )
        return None


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command()(check)
