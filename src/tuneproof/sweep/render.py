"""``sweep.md`` / ``sweep.html`` and their SVG figures, from ``sweep.json`` and the trials' own
``metrics.json`` (so the numbers are the measured ones): optimisation history, parameter
importances, a parallel-coordinates view, and the best trial against the starting config with
the validation CIs of both."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from tuneproof import io, rundir
from tuneproof.errors import UserError

W, H, PAD = 640, 300, 48
COLOURS = {"COMPLETE": "#1f77b4", "PRUNED": "#ff7f0e", "FAIL": "#d62728"}


def _esc(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _scale(v: float, lo: float, hi: float, a: float, b: float, log: bool = False) -> float:
    if log and lo > 0 and hi > 0 and v > 0:
        v, lo, hi = math.log10(v), math.log10(lo), math.log10(hi)
    return a if hi == lo else a + (v - lo) / (hi - lo) * (b - a)


def history_svg(record: rundir.Sweep) -> str:
    """Each trial's validation value by trial number, and the best so far as a step line."""
    pts = [t for t in record.trials if t.value is not None]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img">',
           f"<title>optimisation history: validation {_esc(record.metric)} per trial</title>",
           f'<rect width="{W}" height="{H}" fill="white"/>']  # fmt: skip
    if pts:
        values = [float(t.value) for t in pts if t.value is not None]
        lo, hi = min(values), max(values)
        lo, hi = (lo - 0.05, hi + 0.05) if lo == hi else (lo, hi)
        n = max(t.number for t in record.trials) or 1

        def x(i: float) -> float:
            return _scale(i, 0, n, PAD, W - PAD / 2)

        def y(v: float) -> float:
            return _scale(v, lo, hi, H - PAD, PAD / 2)

        out.append(
            f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD / 2}" y2="{H - PAD}" stroke="#444"/>'
        )
        out.append(f'<line x1="{PAD}" y1="{PAD / 2}" x2="{PAD}" y2="{H - PAD}" stroke="#444"/>')
        for v in (lo, hi):
            out.append(
                f'<text x="{PAD - 4}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{v:.3g}</text>'
            )
        out.append(
            f'<text x="{W / 2}" y="{H - 12}" font-size="12" text-anchor="middle">trial</text>'
        )
        best: float | None = None
        line = []
        maximize = record.direction == "maximize"
        for t in sorted(pts, key=lambda t: t.number):
            if t.state == "COMPLETE" and t.value is not None:
                v = float(t.value)
                best = v if best is None else (max(best, v) if maximize else min(best, v))
            if best is not None:
                line.append(f"{x(t.number):.1f},{y(best):.1f}")
        if line:
            out.append(
                f'<polyline points="{" ".join(line)}" fill="none" stroke="#2ca02c" stroke-width="2"/>'
            )
        for t in pts:
            assert t.value is not None
            c = COLOURS.get(t.state, "#888")
            out.append(
                f'<circle cx="{x(t.number):.1f}" cy="{y(float(t.value)):.1f}" r="4" fill="{c}">'
                f"<title>trial {t.number} {t.state}: {float(t.value):.4g}</title></circle>"
            )
    out.append("</svg>")
    return "\n".join(out)


def parallel_svg(record: rundir.Sweep) -> str:
    """One vertical axis per parameter plus the value; one line per finished trial, darker the
    better its value."""
    paths = list(record.space)
    axes = [*paths, record.metric]
    rows = [t for t in record.trials if t.value is not None and t.params]
    width = max(W, 140 * len(axes))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{H}" role="img">',
           "<title>parallel coordinates: parameters and validation value of each trial</title>",
           f'<rect width="{width}" height="{H}" fill="white"/>']  # fmt: skip
    xs = [
        _scale(i, 0, max(1, len(axes) - 1), PAD * 1.5, width - PAD * 1.5) for i in range(len(axes))
    ]
    ranges: dict[str, tuple[float, float, bool, list[str] | None]] = {}
    for path in paths:
        spec = record.space[path]
        kind, val = next(iter(spec.items()))
        if kind == "choice":
            labels = [v if isinstance(v, str) else json.dumps(v) for v in val]
            ranges[path] = (0, max(1, len(labels) - 1), False, labels)
        else:
            ranges[path] = (float(val[0]), float(val[1]), kind == "log", None)
    values = [float(t.value) for t in rows if t.value is not None]
    vlo, vhi = (min(values), max(values)) if values else (0.0, 1.0)
    ranges[record.metric] = (vlo, vhi if vhi > vlo else vlo + 1e-9, False, None)

    def y(axis: str, v: Any) -> float:
        lo, hi, log, labels = ranges[axis]
        if labels is not None:
            shown = v if isinstance(v, str) else json.dumps(v)
            v = labels.index(shown) if shown in labels else 0
        return _scale(float(v), lo, hi, H - PAD, PAD / 2, log)

    for i, axis in enumerate(axes):
        out.append(
            f'<line x1="{xs[i]:.1f}" y1="{PAD / 2}" x2="{xs[i]:.1f}" y2="{H - PAD}" stroke="#444"/>'
        )
        out.append(
            f'<text x="{xs[i]:.1f}" y="{H - 28}" font-size="11" text-anchor="middle">{_esc(axis)}</text>'
        )
        lo, hi, _, names = ranges[axis]
        ticks: list[tuple[float, str]] = (
            [(float(j), lab) for j, lab in enumerate(names)]
            if names
            else [(lo, f"{lo:.3g}"), (hi, f"{hi:.3g}")]
        )
        for tick, label in ticks:
            yy = _scale(tick, lo, hi, H - PAD, PAD / 2, ranges[axis][2])
            out.append(
                f'<text x="{xs[i] + 4:.1f}" y="{yy + 4:.1f}" font-size="10">{_esc(label)}</text>'
            )
    maximize = record.direction == "maximize"
    for t in rows:
        assert t.value is not None
        share = _scale(float(t.value), vlo, vhi if vhi > vlo else vlo + 1e-9, 0.15, 1.0)
        share = share if maximize else 1.15 - share
        pts = []
        for i, axis in enumerate(axes):
            got = t.value if axis == record.metric else t.params.get(axis)
            if got is None:
                break
            pts.append(f"{xs[i]:.1f},{y(axis, got):.1f}")
        dash = ' stroke-dasharray="4 3"' if t.state == "PRUNED" else ""
        out.append(
            f'<polyline points="{" ".join(pts)}" fill="none" stroke="#1f77b4" '
            f'stroke-opacity="{share:.2f}" stroke-width="2"{dash}>'
            f"<title>trial {t.number} {t.state}: {float(t.value):.4g}</title></polyline>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _validation_block(
    sweep_dir: Path, trial: rundir.SweepTrial | None
) -> rundir.MetricBlock | None:
    if trial is None or trial.run is None:
        return None
    try:
        m = rundir.read_optional(sweep_dir / trial.run, rundir.Metrics)
    except UserError:
        return None
    return m.overall if m is not None and m.split == "validation" else None


def comparison(sweep_dir: Path, record: rundir.Sweep) -> list[tuple[str, str, str, str]]:
    """(row, trial, validation value, 95 % CI) for the starting config and the best trial."""
    by_number = {t.number: t for t in record.trials}
    rows = []
    wanted = [("starting config", record.baseline_trial)]
    if record.best is not None:
        wanted.append(("best trial", record.best.trial))
    for label, number in wanted:
        trial = by_number.get(number) if number is not None else None
        block = _validation_block(sweep_dir, trial)
        mv = block.get(record.metric) if block is not None else None
        if mv is None:
            state = trial.state if trial is not None else "not in the space"
            rows.append((label, _fmt(number), f"({state})", ""))
            continue
        ci = f"[{mv.ci[0]:.4g}, {mv.ci[1]:.4g}]" if mv.ci else ""
        rows.append((label, str(number), f"{mv.value:.4g}", ci))
    return rows


def markdown(sweep_dir: Path, record: rundir.Sweep) -> str:
    counts: dict[str, int] = {}
    for t in record.trials:
        counts[t.state] = counts.get(t.state, 0) + 1
    lines = [f"# Sweep `{record.study}`", ""]
    lines.append(
        f"{len(record.trials)} of {record.n_trials} trials ("
        + ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
        + f"); validation **{record.metric}** ({record.direction}); {record.sampler}; "
        f"storage `{record.storage}`."
    )
    lines.append("")
    if record.best is not None:
        b = record.best
        lines.append(f"## Best: trial {b.trial}, validation {record.metric} {b.value:.4g}")
        lines.append("")
        for k, v in b.params.items():
            lines.append(f"- `{k}`: {_fmt(v)}")
        lines.append("")
        if b.reproduced is not None:
            verdict = "identical" if b.reproduced else "**different**"
            lines.append(
                f"`best.yaml` retrained into `best/`: validation {record.metric} "
                f"{_fmt(b.reproduced_value)} ({verdict} to the trial's {b.value:.4g})."
            )
        main = b.test.get(record.metric)
        if isinstance(main, (int, float)):
            ci = b.test.get(f"{record.metric}_ci")
            ci_text = f" [{ci[0]:.4g}, {ci[1]:.4g}]" if isinstance(ci, list) else ""
            lines.append(
                f"Test {record.metric} (the sweep's only test evaluation, n={b.test.get('n')}): "
                f"{float(main):.4g}{ci_text}."
            )
        lines.append("")
    lines += ["## Best against the starting config (validation, 95 % bootstrap CI)", "",
              "| | trial | value | CI |", "|---|---|---|---|"]  # fmt: skip
    for row in comparison(sweep_dir, record):
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "## Parameter importances (optuna.importance, its default evaluator: PED-ANOVA in Optuna 5)",
        "",
    ]
    if record.importances:
        lines += ["| parameter | importance |", "|---|---|"]
        lines += [f"| `{k}` | {v:.3f} |" for k, v in record.importances.items()]
    else:
        lines.append(record.importance_note or "none")
    lines += ["", "## Optimisation history", "", "![history](sweep_history.svg)", "",
              "## Parallel coordinates", "", "![parallel coordinates](sweep_parallel.svg)", "",
              "## Trials", "", "| # | state | value | duration (s) | params | run | note |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for t in record.trials:
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in t.params.items())
        note = (t.note or "").replace("|", "/")
        lines.append(
            f"| {t.number} | {t.state} | {_fmt(t.value)} | {_fmt(t.duration_s)} | {params} | "
            f"{t.run or ''} | {note} |"
        )
    return "\n".join(lines) + "\n"


def page(sweep_dir: Path, record: rundir.Sweep, history: str, parallel: str) -> str:
    """The same content as sweep.md, as one self-contained HTML page (every value escaped)."""
    md = markdown(sweep_dir, record)
    body = []
    for block in md.split("\n\n"):
        text = block.strip()
        if not text:
            continue
        if text.startswith("!["):
            body.append(history if "history" in text else parallel)
        elif text.startswith("#"):
            level = len(text) - len(text.lstrip("#"))
            body.append(f"<h{level}>{_esc(text.lstrip('#').strip())}</h{level}>")
        elif text.startswith("|"):
            rows = [r for r in text.splitlines() if not r.startswith("|---")]
            cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
            head = "".join(f"<th>{_esc(c)}</th>" for c in cells[0])
            trs = "".join(
                "<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in cells[1:]
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>")
        elif text.startswith("- "):
            items = "".join(f"<li>{_esc(r[2:])}</li>" for r in text.splitlines())
            body.append(f"<ul>{items}</ul>")
        else:
            body.append(f"<p>{_esc(text)}</p>")
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;"
             "text-align:left;font-size:.9rem}")  # fmt: skip
    title = _esc(f"Sweep {record.study}")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_reports(sweep_dir: Path, record: rundir.Sweep) -> list[Path]:
    history, parallel = history_svg(record), parallel_svg(record)
    files = {
        "sweep_history.svg": history,
        "sweep_parallel.svg": parallel,
        "sweep.md": markdown(sweep_dir, record),
        "sweep.html": page(sweep_dir, record, history, parallel),
    }
    out = []
    for name, text in files.items():
        io.write_text(sweep_dir / name, text)
        out.append(sweep_dir / name)
    return out
