"""Rendering a :class:`CheckReport`: checks.json, checks.md and the terminal table.

Kept apart from the checks so a check only decides *what* is wrong; how it is shown (and
escaped: dataset texts are untrusted) lives here.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from tuneproof import io, rundir
from tuneproof.checks.base import SEVERITIES, CheckReport, Finding
from tuneproof.checks.registry import CHECKS

if TYPE_CHECKING:
    from rich.table import Table

WORST = 20  # findings shown with their texts in checks.md
TEXT_CHARS = 300
COLUMNS = 4  # texts side by side per finding


def verdict(report: CheckReport) -> str:
    """One line a reviewer can act on."""
    s = report.summary
    by_sev: dict[str, Counter[str]] = defaultdict(Counter)
    for f in report.findings:
        by_sev[f.severity][f.check] += 1
    if s.errors:
        checks = ", ".join(by_sev["error"])
        return f"Fix before training: {s.errors} error(s) ({checks}) and {s.warnings} warning(s)."
    if s.warnings:
        checks = ", ".join(by_sev["warning"])
        return f"No errors; review {s.warnings} warning(s) ({checks}) before trusting the scores."
    return f"Clean: no errors or warnings ({s.info} info)."


def _cell(text: str) -> str:
    short = text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"
    return (
        html.escape(" ".join(short.split()), quote=False).replace("|", "&#124;")
        or "<em>(empty)</em>"
    )


def _finding_md(report: CheckReport, f: Finding) -> list[str]:
    where = f"`{f.split}`" if f.split else "all splits"
    lines = [
        f"### {f.check} · {f.severity} · {where}",
        "",
        _cell(f.detail) + f" (score {f.score:.2f})",
        "",
    ]
    cells = [(f.split, r) for r in f.rows[:COLUMNS]]
    cells += [(r.split, r.row) for r in f.related[: max(1, COLUMNS - len(cells))]]
    cells = [c for c in cells if c in report.samples]
    if cells:
        head = []
        for split, row in cells:
            label = report.samples[(split, row)].label
            head.append(_cell(f"{split} row {row}" + (f" ({label})" if label is not None else "")))
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(cells)]
        lines += ["| " + " | ".join(_cell(report.samples[c].text) for c in cells) + " |", ""]
    more = len(f.rows) + len(f.related) - len(cells)
    if more > 0 and (f.rows or f.related):
        ids = ", ".join(_cell(r) for r in f.rows[:20])
        lines += [f"Rows: {ids}{' …' if len(f.rows) > 20 else ''}", ""]
    return lines


def render_markdown(report: CheckReport) -> str:
    """checks.md: verdict, dataset, counts per check, then the worst findings with their texts."""
    s = report.summary
    lines = [
        "# Data checks",
        "",
        f"**Verdict:** {verdict(report)}",
        "",
        f"{s.errors} errors · {s.warnings} warnings · {s.info} info "
        f"({len(report.findings)} findings; all of them are in checks.json)",
        "",
        "| split | rows | sha256 |",
        "|---|---:|---|",
    ]
    lines += [f"| {k} | {v.rows:,} | `{v.sha256[:16]}` |" for k, v in report.dataset.items()]
    lines += [
        "",
        "| check | errors | warnings | info | what it looks for |",
        "|---|---:|---:|---:|---|",
    ]
    for name in report.checks_run:
        cnt = Counter(f.severity for f in report.findings if f.check == name)
        lines.append(
            f"| {name} | {cnt['error']} | {cnt['warning']} | {cnt['info']} | "
            f"{_cell(CHECKS[name].description)} |"
        )
    lines += [
        "",
        f"## Worst findings ({min(WORST, len(report.findings))} of {len(report.findings)})",
        "",
    ]
    if not report.findings:
        lines += ["Nothing to show.", ""]
    for f in report.findings[:WORST]:
        lines += _finding_md(report, f)
    return "\n".join(lines).rstrip() + "\n"


def write_report(report: CheckReport, output_dir: str | Path) -> tuple[Path, Path]:
    """Write checks.json and checks.md (each atomically) into ``output_dir``."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    return (
        rundir.write(out, rundir.Checks.model_validate(report.to_dict())),
        io.write_text(out / "checks.md", render_markdown(report)),
    )


STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def summary_table(report: CheckReport) -> Table:
    """Per check: findings by severity, rows flagged, and the worst finding's detail."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="data checks", title_justify="left")
    for col in ("check", "errors", "warnings", "info", "rows", "worst finding"):
        table.add_column(
            col, justify="right" if col in ("errors", "warnings", "info", "rows") else "left"
        )
    for name in report.checks_run:
        mine = [f for f in report.findings if f.check == name]
        cnt = Counter(f.severity for f in mine)
        rows = sum(len(f.rows) for f in mine)
        worst = mine[0] if mine else None
        detail = (
            Text("ok", style="green")
            if worst is None
            else Text(
                f"{worst.split + ': ' if worst.split else ''}{worst.detail}",
                style=STYLE[worst.severity],
            )
        )
        table.add_row(
            name,
            *(Text(str(cnt[s]), style=STYLE[s] if cnt[s] else "") for s in SEVERITIES),
            f"{rows:,}",
            detail,
        )
    table.caption = verdict(report)
    return table
