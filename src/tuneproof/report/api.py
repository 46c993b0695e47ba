"""``build_report``: a run directory (and optionally its baseline) -> report.md, report.html,
model/README.md and a PR description. The library entry point behind `tuneproof report`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tuneproof import io, rundir
from tuneproof.errors import UserError, did_you_mean
from tuneproof.evaluate.tokenjoin import token_join
from tuneproof.report.baseline import BaselineComparison, compare_to_baseline
from tuneproof.report.bundle import RunEvidence, curves, load_evidence, validation_values
from tuneproof.report.charts import line_chart, slice_chart
from tuneproof.report.limitations import HIGH_STRESS_FAILURE, Limitation, draft_limitations
from tuneproof.report.memory import memory_figures
from tuneproof.report.modelcard import ModelCardText, render_model_card, write_model_card
from tuneproof.report.pr import render_pr
from tuneproof.report.render import render
from tuneproof.report.sections import (
    config_rows,
    curve_table,
    demote_headings,
    escape_raw_html,
    human_evaluation,
    plan_deviations,
    repro_script,
    reproduce,
    summary,
    verdict_map,
    worst_examples,
    wrong_count,
)

FORMATS = ("md", "html")
MAX_FINDINGS = 15


@dataclass(frozen=True)
class ReportResult:
    """What was written and the evidence it was drawn from."""

    run_dir: Path
    evidence: RunEvidence
    comparison: BaselineComparison | None
    limitations: tuple[Limitation, ...]
    model_card: ModelCardText
    pr_description: str
    written: tuple[Path, ...]  # report.md / report.html / model/README.md, as written
    tracking_note: str | None = None  # the run's MLflow run updated with them (or why not)

    @property
    def markdown_path(self) -> Path | None:
        return next((p for p in self.written if p.name == "report.md"), None)

    @property
    def html_path(self) -> Path | None:
        return next((p for p in self.written if p.name == "report.html"), None)


def parse_formats(formats: str | Sequence[str]) -> tuple[str, ...]:
    """``"md,html"`` or ``("md",)`` -> validated tuple; a typo is a UserError."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out = []
    for f in (x.strip().lower() for x in items):
        if not f:
            continue
        if f not in FORMATS:
            raise UserError(
                f"--format: unknown format '{f}'{did_you_mean(f, FORMATS)}; use md, html or md,html"
            )
        if f not in out:
            out.append(f)
    return tuple(out)


def _slice_metric_names(ev: RunEvidence) -> list[str]:
    """Metrics other than the main one that slices report (columns of the slice table)."""
    names: list[str] = []
    for s in ev.metrics.slices.values():
        for v in s.values():
            if v.name != ev.metrics.main_metric and v.name not in names:
                names.append(v.name)
    return names[:4]


def report_context(
    ev: RunEvidence,
    comparison: BaselineComparison | None,
    limitations: Sequence[Limitation],
    card: ModelCardText,
) -> dict[str, object]:
    """Everything the report templates read (shared by Markdown and HTML)."""
    m = ev.metrics
    repro = reproduce(ev)
    verdicts = verdict_map(comparison)
    logged = {c.name: c for c in curves(m.history)}
    loss = [logged[n] for n in ("loss", "eval_loss") if n in logged]
    evals = [c for c in logged.values() if c.name.startswith("eval_") and c.name != "eval_loss"]
    main_first = sorted(evals, key=lambda c: c.name != f"eval_{m.main_metric}")

    def missing(name: str) -> str:
        return rundir.PRODUCERS[name].replace("RUN", str(ev.run_dir))

    return {
        "ev": ev,
        "cmp": comparison,
        "s": summary(ev, comparison),
        "deviations": plan_deviations(ev),
        "lims": list(limitations),
        "config_rows": config_rows(ev),
        "slice_metrics": _slice_metric_names(ev),
        "worst": worst_examples(ev),
        "wrong": wrong_count(ev),
        "repro": repro,
        "script": repro_script(ev, repro),
        "curves": curve_table(ev),
        "plan_md": demote_headings(ev.plan_md, 2) if ev.plan_md else None,
        "memory": memory_figures(ev.run_dir),
        "deploy": rundir.read_optional(ev.run_dir, rundir.Deploy),
        "exports": rundir.read_optional(ev.run_dir, rundir.Export),
        "human": human_evaluation(ev.run_dir),
        "plan_md_inert": escape_raw_html(demote_headings(ev.plan_md, 2)) if ev.plan_md else None,
        "card": card,
        "missing": missing,
        "max_findings": MAX_FINDINGS,
        "confusion": ev.failures.confusion.get("overall") if ev.failures else None,
        "training": ev.training,
        "validation": validation_values(m),
        # the in-distribution slices, then each out-of-distribution file as ``ood:<name>`` (the
        # key `compare` gives it), so no evaluation is dropped from the table
        "slices": list(m.slices.items()) + [(f"ood:{k}", r.overall) for k, r in m.ood.items()],
        "high_stress": HIGH_STRESS_FAILURE,
        "tokens": token_join(ev.predictions) if ev.predictions else None,
        "loss_chart": line_chart("loss", loss),
        "metric_chart": line_chart("validation metrics", main_first[:4]),
        "slice_chart": slice_chart(
            m.slices,
            m.main_metric,
            verdicts=verdicts if comparison is not None else None,
            overall=m.headline,
            chance=m.overall.majority if m.main_metric == "accuracy" else None,
        ),
    }


def build_report(
    run_dir: str | Path,
    baseline: str | Path | None = None,
    formats: str | Sequence[str] = FORMATS,
    *,
    license: str | None = None,
    language: Sequence[str] | None = None,
    model_card: bool = True,
) -> ReportResult:
    """Write the evidence report of ``run_dir`` (report.md / report.html, each atomically) and
    ``model/README.md``; with ``baseline``, add the config/data/code diff and per-slice verdicts.

    Only reads the run's files (and the baseline's); raises UserError for a run without
    metrics.json or a baseline evaluated on different data.
    """
    fmts = parse_formats(formats)
    run_dir = Path(run_dir)
    ev = load_evidence(run_dir)
    comparison = compare_to_baseline(ev, load_evidence(baseline)) if baseline else None
    limitations = draft_limitations(ev, comparison)
    card = render_model_card(ev, limitations, license=license, language=language)
    written: list[Path] = []
    if model_card:
        card = write_model_card(ev, card)
        if card.path is not None:
            written.append(card.path)
    context = report_context(ev, comparison, limitations, card)
    if "md" in fmts:
        written.append(io.write_text(run_dir / "report.md", render("report.md.jinja", **context)))
    if "html" in fmts:
        written.append(
            io.write_text(run_dir / "report.html", render("report.html.jinja", **context))
        )
    from tuneproof import track

    note = track.update(run_dir, written, metrics={})
    return ReportResult(
        run_dir=run_dir,
        evidence=ev,
        comparison=comparison,
        limitations=limitations,
        model_card=card,
        pr_description=render_pr(ev, comparison, limitations),
        written=tuple(written),
        tracking_note=note,
    )
