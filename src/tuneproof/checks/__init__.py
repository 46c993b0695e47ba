"""Data-quality checks before any GPU time is spent: duplicates, leakage, label problems, lengths,
languages, scripts and encoding noise (``tuneproof check``, and the first step of ``train``).

One module per check (name, description, default severity, ``run(ctx) -> findings``) collected
in :data:`CHECKS`; :func:`check_data` runs them, :mod:`.report` writes checks.json/checks.md.

    >>> report = check_data({"train": df_train, "test": df_test},
    ...                     text_column="text", label_column="label")
    >>> report.summary, report.findings[0].to_dict()
    >>> write_report(report, "runs/x")
"""

from tuneproof.checks.api import check_data, check_run_data, run_data_checks, selected_checks
from tuneproof.checks.base import (
    Check,
    CheckContext,
    CheckOptions,
    CheckReport,
    Finding,
    Related,
    Sample,
    Severity,
    SplitInfo,
    Summary,
)
from tuneproof.checks.registry import CHECKS
from tuneproof.checks.report import render_markdown, summary_table, verdict, write_report

__all__ = [
    "CHECKS",
    "Check",
    "CheckContext",
    "CheckOptions",
    "CheckReport",
    "Finding",
    "Related",
    "Sample",
    "Severity",
    "SplitInfo",
    "Summary",
    "check_data",
    "check_run_data",
    "render_markdown",
    "run_data_checks",
    "selected_checks",
    "summary_table",
    "verdict",
    "write_report",
]
