"""Run the registered checks over a dataset: the library entry points behind `tuneproof check`."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tuneproof.checks.base import (
    SEVERITY_RANK,
    CheckContext,
    CheckOptions,
    CheckReport,
    Finding,
    Sample,
    SplitInfo,
)
from tuneproof.checks.registry import CHECKS
from tuneproof.data.load import SourceInfo, label_values, require_columns, row_ids
from tuneproof.errors import UserError, did_you_mean

if TYPE_CHECKING:
    from tuneproof.config import RunConfig
    from tuneproof.data.load import LoadedData
    from tuneproof.tasks.base import TokenCount

SAMPLE_FINDINGS = 50  # findings whose row texts are kept for checks.md
SAMPLE_ROWS = 5  # rows (and related rows) per such finding


def selected_checks(options: CheckOptions) -> list[str]:
    """Names of the checks to run, in registry order; unknown names are a UserError."""
    for name in (*(options.only or ()), *options.skip):
        if name not in CHECKS:
            hint = did_you_mean(name, CHECKS)
            raise UserError(f"check '{name}': no such check{hint}; checks are: {', '.join(CHECKS)}")
    names = list(options.only) if options.only is not None else list(CHECKS)
    return [n for n in CHECKS if n in names and n not in options.skip]


def validate_columns(
    splits: Mapping[str, pd.DataFrame],
    *,
    text_column: str,
    label_column: str | None,
    id_column: str | None,
    sources: Mapping[str, SourceInfo] | None = None,
    keys: Mapping[str, str] | None = None,
) -> None:
    """One-line UserError naming the file (or split), the missing column and the key to set;
    duplicate ids and empty labels are refused through the same functions the task adapters use
    (``data.load.row_ids``/``label_values``), so ``check``, ``train`` and ``eval`` agree.

    ``keys`` says how the user sets each column (``{"text": "--text"}`` on the command line,
    ``data.text_column`` in a config); the label column is needed in train only, so unlabelled
    test files can still be checked.
    """
    keys = keys or {"text": "text_column", "label": "label_column", "id": "id_column"}
    if not splits:
        raise UserError("data: no splits to check; give at least a train file")
    for split, df in splits.items():
        where = sources[split].path if sources and split in sources else f"split '{split}'"
        require_columns(df, [text_column], where, keys["text"])
        row_ids(df, id_column, where, keys["id"])  # duplicate ids: refused as by train
        if label_column is not None and (
            split == "train" or "train" not in splits or label_column in df
        ):
            # the same reader as the task adapters': an empty label is refused, never a class
            label_values(df, label_column, where, keys["label"])


def check_data(
    splits: Mapping[str, pd.DataFrame],
    *,
    text_column: str,
    label_column: str | None,
    id_column: str | None = None,
    sources: Mapping[str, SourceInfo] | None = None,
    tokenizer: Any = None,
    max_length: int | None = None,
    options: CheckOptions | None = None,
    token_counts: Mapping[str, Sequence[TokenCount]] | None = None,
) -> CheckReport:
    """Run the checks on ``splits`` (name → DataFrame, e.g. ``LoadedData.splits``).

    ``label_column=None`` skips the label checks. ``tokenizer`` (a transformers tokenizer,
    tiktoken encoding, or anything with ``.encode``) and ``max_length`` give the truncation share;
    ``token_counts`` (``Prepared.tokens`` of the task adapter, one per row) replace that
    tokenisation with the adapter's own counts, so the check counts what training truncates.
    ``sources`` supplies file hashes for the ``dataset`` section; without it the hash is over
    the text and label values. Pure: reads the frames, writes and prints nothing.
    """
    options = options or CheckOptions()
    validate_columns(
        splits, text_column=text_column, label_column=label_column, id_column=id_column,
        sources=sources,
    )  # fmt: skip
    names = selected_checks(options)
    ctx = CheckContext(
        splits=splits,
        text_column=text_column,
        label_column=label_column,
        id_column=id_column,
        tokenizer=tokenizer,
        max_length=max_length,
        options=options,
        token_counts=token_counts,
    )
    findings: list[Finding] = []
    seconds: dict[str, float] = {}
    ran: list[str] = []
    for name in names:
        check = CHECKS[name]
        if check.needs_labels and label_column is None:
            continue
        t0 = time.perf_counter()
        findings += check.run(ctx)
        seconds[name] = time.perf_counter() - t0
        ran.append(name)
    order = {n: i for i, n in enumerate(CHECKS)}
    findings.sort(key=lambda f: (SEVERITY_RANK[f.severity], order[f.check], -f.score))
    dataset = {
        split: SplitInfo(
            rows=len(df),
            sha256=sources[split].sha256
            if sources and split in sources
            else _content_sha256(ctx, split),
        )
        for split, df in splits.items()
    }
    return CheckReport(
        dataset=dataset,
        findings=tuple(findings),
        checks_run=tuple(ran),
        samples=_samples(ctx, findings[:SAMPLE_FINDINGS]),
        seconds=seconds,
    )


def _content_sha256(ctx: CheckContext, split: str) -> str:
    """sha256 over "text \\x1f label \\n" per row: identifies in-memory data with no file."""
    h = hashlib.sha256()
    texts = ctx.texts(split)
    labels = ctx.labels(split) or [None] * len(texts)
    for lo in range(0, len(texts), 50_000):
        part = zip(texts[lo : lo + 50_000], labels[lo : lo + 50_000], strict=True)
        h.update("".join(f"{t}\x1f{'' if y is None else y}\n" for t, y in part).encode())
    return h.hexdigest()


def _samples(ctx: CheckContext, findings: list[Finding]) -> dict[tuple[str, str], Sample]:
    wanted: set[tuple[str, str]] = set()
    for f in findings:
        wanted |= {(f.split, r) for r in f.rows[:SAMPLE_ROWS]}
        wanted |= {(r.split, r.row) for r in f.related[:SAMPLE_ROWS]}
    out: dict[tuple[str, str], Sample] = {}
    for split in {s for s, _ in wanted}:
        if split not in ctx.splits:
            continue
        ids = ctx.row_ids(split)
        labels = ctx.labels(split)
        texts = ctx.texts(split)
        for pos, row in enumerate(ids):
            if (split, row) in wanted and (split, row) not in out:
                out[(split, row)] = Sample(texts[pos], labels[pos] if labels else None)
    return out


def check_run_data(
    config: RunConfig,
    loaded: LoadedData,
    *,
    tokenizer: Any,
    output_dir: str | Path,
    token_counts: Mapping[str, Sequence[TokenCount]] | None = None,
) -> dict[str, Any]:
    """The checks of a run written into its directory (checks.json + checks.md); returns the
    checks.json document."""
    from tuneproof.checks.report import write_report

    report = run_data_checks(config, loaded, tokenizer=tokenizer, token_counts=token_counts)
    write_report(report, output_dir)
    return report.to_dict()


def run_data_checks(
    config: RunConfig,
    loaded: LoadedData,
    *,
    tokenizer: Any,
    token_counts: Mapping[str, Sequence[TokenCount]] | None = None,
) -> CheckReport:
    """The checks `tuneproof train` runs first, in memory: the gate (``checks.fail_on``) decides
    on this report before anything is deleted or written.

    Label checks run for sequence classification only (other tasks' labels are tags, spans or
    scores, not classes). ``token_counts`` are the task adapter's (``Prepared.tokens``): the
    truncation finding then counts exactly the rows training truncates.
    """
    data = config.data
    label = data.label_column if config.task == "sequence-classification" else None
    validate_columns(
        loaded.splits, text_column=data.text_column, label_column=label,
        id_column=data.id_column, sources=loaded.sources,
        keys={"text": "data.text_column", "label": "data.label_column", "id": "data.id_column"},
    )  # fmt: skip
    report = check_data(
        loaded.splits,
        text_column=data.text_column,
        label_column=label,
        id_column=data.id_column,
        sources=loaded.sources,
        tokenizer=tokenizer,
        max_length=data.max_length,
        options=CheckOptions(seed=config.training.seed, skip=tuple(config.checks.skip)),
        token_counts=token_counts,
    )
    return report
