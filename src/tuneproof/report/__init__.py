"""The evidence report: what changed, why, how it was measured, what still fails.

``build_report(run_dir, baseline=None)`` reads a run directory (never recomputing a metric) and
writes ``report.md``, a self-contained ``report.html`` and ``model/README.md``.
"""

from tuneproof.report.api import FORMATS, ReportResult, build_report
from tuneproof.report.bundle import RunEvidence, load_evidence

__all__ = ["FORMATS", "ReportResult", "RunEvidence", "build_report", "load_evidence"]
