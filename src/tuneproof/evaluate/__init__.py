"""Slice-based evaluation: per-slice metrics with bootstrap intervals, failures, comparisons.

Library entry points (the CLI commands ``eval``, ``compare``, ``evalplan`` and ``stress`` are thin
faces over them):

- :func:`evaluate_run` → :class:`EvalResult` (writes predictions.jsonl, metrics.json, slices.md)
- :func:`summarize` (prediction rows → ``{"overall", "slices"}`` with intervals; for the trainer)
- :func:`compare_runs` → :class:`Comparison` (paired per-slice deltas, verdicts, config diff)
- :func:`build_plan` / :func:`load_plan` → :class:`EvalPlan`
- :func:`run_stress` → :class:`StressReport` (CheckList-style behaviour tests)
- ``humaneval_files.export_sheet`` / ``import_ratings`` (human A/B evaluation; the calculators
  are in ``humaneval``)

Nothing here imports torch or transformers at module level.
"""

from tuneproof.evaluate.compare import Comparison, compare_runs
from tuneproof.evaluate.failures import FailureReport, analyse_failures
from tuneproof.evaluate.metrics import SliceMetrics, Summary, summarize, summarize_rows
from tuneproof.evaluate.plan import EvalPlan, build_plan, load_plan, min_examples
from tuneproof.evaluate.run import EvalResult, evaluate_run
from tuneproof.evaluate.slices import tag_rows
from tuneproof.evaluate.stress import StressReport, run_stress

__all__ = [
    "Comparison",
    "EvalPlan",
    "EvalResult",
    "FailureReport",
    "SliceMetrics",
    "StressReport",
    "Summary",
    "analyse_failures",
    "build_plan",
    "compare_runs",
    "evaluate_run",
    "load_plan",
    "min_examples",
    "run_stress",
    "summarize",
    "summarize_rows",
    "tag_rows",
]
