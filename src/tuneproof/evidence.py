"""The PR evidence bundle: the report of a run against its baseline plus what a person wrote.

``build_report`` (``tuneproof.report``) drafts everything that can be read from the run
directories; the motivation and the known failures only a person can write, so they are kept in
the run directory (``notes.json``, ``rundir.Notes``) and added to the PR text and the zip.
"""

from __future__ import annotations

import io as _io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tuneproof import rundir
from tuneproof.report import ReportResult, build_report


@dataclass(frozen=True)
class Bundle:
    run_dir: Path
    baseline_dir: Path | None
    report: ReportResult
    notes: rundir.Notes
    pr_markdown: str  # the drafted PR description with the person's text first


def pr_markdown(drafted: str, notes: rundir.Notes) -> str:
    """The PR body: the person's motivation first, the drafted evidence, then known failures."""
    parts = []
    if notes.motivation.strip():
        parts.append("## Motivation\n\n" + notes.motivation.strip())
    parts.append(drafted.strip())
    if notes.known_failures.strip():
        parts.append("## Known failures\n\n" + notes.known_failures.strip())
    return "\n\n".join(parts) + "\n"


def build_bundle(run_dir: Path, baseline_dir: Path | None = None) -> Bundle:
    """(Re)write the run's report.md, report.html and model card, and draft the PR text."""
    report = build_report(run_dir, baseline=baseline_dir)
    notes = rundir.read_optional(run_dir, rundir.Notes) or rundir.Notes()
    return Bundle(run_dir, baseline_dir, report, notes, pr_markdown(report.pr_description, notes))


def bundle_zip(bundle: Bundle) -> bytes:
    """report.md, report.html, MODEL_CARD.md, PR.md and notes.json as one zip (in memory)."""
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in bundle.report.written:
            arcname = "MODEL_CARD.md" if path.name == "README.md" else path.name
            zf.write(path, arcname)
        zf.writestr("PR.md", bundle.pr_markdown)
        notes = bundle.run_dir / rundir.NOTES
        if notes.is_file():
            zf.write(notes, rundir.NOTES)
    return buf.getvalue()
