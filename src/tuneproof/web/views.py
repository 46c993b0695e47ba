"""What each page shows, gathered from the library (``workspace``, ``rundir``, ``evaluate``,
``evidence``) into plain records the templates read. No metric is computed here: every number
comes from a run-directory file or from ``compare_runs``."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneproof import rundir, workspace
from tuneproof.errors import UserError
from tuneproof.evaluate.tokenjoin import TokenJoin, token_join

MAX_FAILURES = 25
MAX_FLIPS = 50
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
SORT_KEYS = ("started", "name", "status", "task", "model", "strategy", "value")


# --- SVG line charts (drawn from metrics.json history) ------------------------------------------


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    points: str  # SVG polyline "x,y x,y ..."
    last: float


@dataclass(frozen=True)
class Chart:
    title: str
    xlabel: str
    series: tuple[Series, ...]
    ymin: float
    ymax: float
    xmax: float
    width: int = 520
    height: int = 200
    pad: int = 40


def line_chart(
    title: str, history: Sequence[dict[str, Any]], keys: Sequence[str], x: str = "step"
) -> Chart | None:
    """One chart of the ``keys`` of ``history`` against ``x``; None when none has two points."""
    raw: dict[str, list[tuple[float, float]]] = {}
    for key in keys:
        pts = [
            (float(h[x]), float(h[key]))
            for h in history
            if isinstance(h.get(key), (int, float)) and isinstance(h.get(x), (int, float))
        ]
        if len(pts) >= 2:
            raw[key] = pts
    if not raw:
        return None
    xs = [p[0] for pts in raw.values() for p in pts]
    ys = [p[1] for pts in raw.values() for p in pts]
    xmin, xmax, ymin, ymax = min(xs), max(xs), min(ys), max(ys)
    if ymax == ymin:
        ymin, ymax = ymin - 0.5, ymax + 0.5
    w, h, pad = 520, 200, 40
    sx = (w - 2 * pad) / ((xmax - xmin) or 1.0)
    sy = (h - 2 * pad) / (ymax - ymin)
    series = tuple(
        Series(
            name,
            PALETTE[i % len(PALETTE)],
            " ".join(
                f"{pad + (px - xmin) * sx:.1f},{h - pad - (py - ymin) * sy:.1f}" for px, py in pts
            ),
            pts[-1][1],
        )
        for i, (name, pts) in enumerate(raw.items())
    )
    return Chart(title, x, series, ymin, ymax, xmax)


def run_charts(metrics: rundir.Metrics | None) -> list[Chart]:
    if metrics is None or not metrics.history:
        return []
    hist = metrics.history
    evals = sorted(
        {k for h in hist for k in h if k.startswith("eval_") and k != "eval_loss"},
        key=lambda k: (k != f"eval_{metrics.main_metric}", k),
    )
    charts = [
        line_chart("loss", hist, ["loss", "eval_loss"]),
        line_chart("validation metrics", hist, evals[:3]),
    ]
    return [c for c in charts if c is not None]


# --- the run page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailureRow:
    source: str
    id: str
    text: str
    gold: str
    pred: str


@dataclass
class RunPage:
    run: workspace.RunSummary
    metrics: rundir.Metrics | None = None
    manifest: rundir.Manifest | None = None
    progress: rundir.Progress | None = None
    checks: rundir.Checks | None = None
    charts: list[Chart] = field(default_factory=list)
    failures: list[FailureRow] = field(default_factory=list)
    n_wrong: int = 0
    reproduce: str = ""
    files: list[str] = field(default_factory=list)
    report_url: str | None = None
    log: str = ""
    errors: list[str] = field(default_factory=list)
    slices_found: rundir.SlicesFound | None = None  # `tuneproof slices find`
    baselines: rundir.Baselines | None = None  # `tuneproof baseline`
    warnings: list[str] = field(default_factory=list)  # degenerate-model warnings
    tokens: TokenJoin | None = None  # accuracy by the tokenizer's fertility / UNK / truncation


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(map(str, value))
    return "" if value is None else str(value)


def reproduce_command(ws: Path, name: str, manifest: rundir.Manifest | None) -> str:
    if manifest is not None and manifest.command:
        return shlex.join(manifest.command)
    return shlex.join(workspace.train_command(name))


def run_page(ws: Path, name: str) -> RunPage:
    """Everything the run page shows; a broken file is listed in ``errors``, not raised."""
    page = RunPage(workspace.get_run(ws, name))
    run_dir = page.run.path
    for attr, model in (
        ("metrics", rundir.Metrics),
        ("manifest", rundir.Manifest),
        ("checks", rundir.Checks),
        ("slices_found", rundir.SlicesFound),
        ("baselines", rundir.Baselines),
    ):
        try:
            setattr(page, attr, rundir.read_optional(run_dir, model))
        except UserError as err:
            page.errors.append(str(err))
    if page.run.status in ("starting", "running"):
        page.progress = workspace.read_progress(ws, name)
    page.charts = run_charts(page.metrics)
    if (run_dir / rundir.PREDICTIONS).is_file():
        try:
            predictions = rundir.read_predictions(run_dir)
        except UserError as err:
            page.errors.append(str(err))
            predictions = []
        wrong = [r for r in predictions if not r.correct]
        if page.metrics is not None and predictions:
            from tuneproof.evaluate.degenerate import degenerate_warnings

            page.warnings = [
                str(w) for w in degenerate_warnings(page.metrics, predictions, page.baselines)
            ]
        page.tokens = token_join(predictions)
        page.n_wrong = len(wrong)
        page.failures = [
            FailureRow(r.source, r.id, r.display_text, _show(r.gold), _show(r.pred))
            for r in wrong[:MAX_FAILURES]
        ]
    page.reproduce = reproduce_command(ws, name, page.manifest)
    if run_dir.is_dir():
        page.files = sorted(
            p.name
            for p in run_dir.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.name not in workspace.NOT_SERVED
        )
        if (run_dir / "report.html").is_file():
            page.report_url = f"/files/{workspace.RUNS}/{name}/report.html"
    launch = workspace.read_launch(ws, name)
    if launch is not None and page.run.status != "complete":
        page.log = workspace.log_tail(ws, launch)
    return page


def sort_runs(
    runs: list[workspace.RunSummary], key: str, q: str = "", desc: bool = False
) -> list[workspace.RunSummary]:
    """The runs table: rows containing ``q`` (any column, case-insensitive), sorted by ``key``."""
    if key not in SORT_KEYS:
        key = "started"
    needle = q.strip().lower()
    if needle:
        runs = [
            r
            for r in runs
            if needle
            in " ".join(
                str(v) for v in (r.name, r.status, r.task, r.model, r.strategy, r.metric) if v
            ).lower()
        ]
    present = [r for r in runs if getattr(r, key) is not None]
    absent = [r for r in runs if getattr(r, key) is None]
    return sorted(present, key=lambda r: getattr(r, key), reverse=desc) + absent
