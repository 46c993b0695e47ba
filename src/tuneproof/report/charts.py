"""Chart geometry for the HTML report: pure functions from numbers to coordinates.

The template draws the SVG elements from these records, so every label (slice names come from the
data) passes through the template's autoescaping; nothing here builds markup.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tuneproof.report.bundle import Curve
from tuneproof.rundir import MetricBlock, MetricValue

MAX_MARKERS = 60  # above this many points a curve is drawn as a line only


@dataclass(frozen=True)
class Tick:
    pos: float  # pixel coordinate along the axis
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    index: int  # colour index for the stylesheet (s0, s1, ...)
    points: str  # SVG polyline points "x,y x,y"
    markers: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class LineChart:
    title: str
    x_label: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    height: float
    x0: float
    x1: float
    value_label: str
    ci: tuple[float, float] | None
    css: str  # "bar", plus "regressed" / "improved" / "small"


@dataclass(frozen=True)
class BarChart:
    title: str
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    bars: tuple[Bar, ...]
    x_ticks: tuple[Tick, ...]
    reference: tuple[float, str] | None  # x of the overall value and its label
    chance: tuple[float, str] | None = None  # x of the chance level (majority class) and label
    legend: tuple[tuple[str, str], ...] = ()  # (css class, label): only what the chart shows


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 5 x 10^k steps) covering [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-6:
        ticks.append(round(t, 10))
        t += step
    return ticks


def _fmt(v: float) -> str:
    if v == int(v) and abs(v) >= 1:
        return f"{int(v):,}"
    return f"{v:.3g}"


def line_chart(
    title: str, curves: Sequence[Curve], *, width: int = 460, height: int = 250
) -> LineChart | None:
    curves = [c for c in curves if c.points]
    if not curves:
        return None
    left, top, right, bottom = 52, 28, width - 12, height - 36
    xs = [p.step for c in curves for p in c.points]
    ys = [p.value for c in curves for p in c.points]
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    y0, y1 = min(ys), max(ys)
    pad = (y1 - y0) * 0.08 or abs(y1) * 0.05 or 0.5
    y0, y1 = y0 - pad, y1 + pad

    def px(x: float) -> float:
        return round(left + (x - x0) / (x1 - x0) * (right - left), 1)

    def py(y: float) -> float:
        return round(bottom - (y - y0) / (y1 - y0) * (bottom - top), 1)

    series = []
    for i, c in enumerate(curves):
        pts = tuple((px(p.step), py(p.value)) for p in c.points)
        markers = pts if len(pts) <= MAX_MARKERS else ()
        series.append(Series(c.name, i % 6, " ".join(f"{x},{y}" for x, y in pts), markers))
    return LineChart(
        title=title,
        x_label="step",
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        x_ticks=tuple(Tick(px(t), _fmt(t)) for t in nice_ticks(x0, x1) if x0 <= t <= x1),
        y_ticks=tuple(Tick(py(t), _fmt(t)) for t in nice_ticks(y0, y1) if y0 <= t <= y1),
        series=tuple(series),
    )


def slice_chart(
    slices: Mapping[str, MetricBlock],
    metric: str,
    *,
    verdicts: Mapping[str, str] | None = None,
    overall: MetricValue | None = None,
    chance: float | None = None,
    width: int = 640,
    bar_height: int = 16,
    gap: int = 6,
    max_label: int = 28,
) -> BarChart | None:
    """Horizontal bars of ``metric`` per slice with 95 % CI whiskers; regressions marked.

    ``chance`` (the majority-class rate, for accuracy) is drawn as a line so a slice at chance
    shows as one; the legend lists the baseline colours only when a baseline was compared."""
    rows: list[tuple[str, MetricBlock, MetricValue]] = []
    for key, s in slices.items():
        m = s.get(metric)
        if m is not None:
            rows.append((key, s, m))
    if not rows:
        return None
    left, top, right = 190, 24, width - 110
    height = top + len(rows) * (bar_height + gap) + 30
    bottom = height - 26
    values = [m.value for _, _, m in rows] + [v for _, _, m in rows if m.ci for v in m.ci]
    if overall is not None:
        values.append(overall.value)
    if chance is not None:
        values.append(chance)
    lo, hi = min(0.0, *values), max(values)
    if lo >= 0 and hi <= 1:
        lo, hi = 0.0, 1.0
    if hi == lo:
        hi = lo + 1

    def px(x: float) -> float:
        return round(left + (x - lo) / (hi - lo) * (right - left), 1)

    bars = []
    for i, (key, s, m) in enumerate(rows):
        verdict = (verdicts or {}).get(key, "")
        css = "bar"
        if verdict in ("regressed", "improved"):
            css += f" {verdict}"
        if s.small_n:
            css += " small"
        label = key if len(key) <= max_label else key[: max_label - 1] + "…"
        y = top + i * (bar_height + gap)
        bars.append(
            Bar(
                label=label,
                y=y,
                height=bar_height,
                x0=px(max(lo, 0.0)),
                x1=px(m.value),
                value_label=f"{m.value:.3f}" + (f" n={s.n}" if s.n is not None else ""),
                ci=(px(m.ci[0]), px(m.ci[1])) if m.ci else None,
                css=css,
            )
        )
    reference = (px(overall.value), f"overall {overall.value:.3f}") if overall else None
    legend = [("bar", "slice")]
    if verdicts is not None:
        legend += [("regressed", "regressed vs baseline"), ("improved", "improved")]
    if any("small" in b.css for b in bars):
        legend.append(("small", "small n"))
    return BarChart(
        title=f"{metric} per slice (95 % CI)",
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=tuple(bars),
        x_ticks=tuple(Tick(px(t), _fmt(t)) for t in nice_ticks(lo, hi) if lo <= t <= hi),
        reference=reference,
        chance=(px(chance), f"chance {chance:.3f}") if chance is not None else None,
        legend=tuple(legend),
    )
