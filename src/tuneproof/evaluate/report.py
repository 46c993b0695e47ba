"""``slices.md``: the per-slice table a reviewer reads first (the numbers live in metrics.json)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tuneproof.evaluate.metrics import MIN_MINORITY, MIN_N, SliceMetrics

if TYPE_CHECKING:
    from tuneproof.evaluate.run import EvalResult


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def fmt_metric(s: SliceMetrics, name: str) -> str:
    value = s.metrics.get(name)
    if value is None:
        return "–"
    ci = s.ci.get(name)
    shown = f"{value:.3f}"
    return f"{shown} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci is not None else shown


def render_slices_md(result: EvalResult, run_name: str) -> str:
    summary = result.summary
    main = result.main_metric
    names = list(summary.overall.metrics)
    ordered = [main, *[n for n in names if n != main]]
    total = sum(d.source.rows for d in result.data)
    files = ", ".join(f"`{d.name}` ({d.source.rows:,})" for d in result.data)
    lines = [
        f"# Evaluation by slice: {run_name}",
        "",
        f"Data: {len(result.data)} file(s), {total:,} rows: {files}.",
        f"Main metric: **{main}**. Intervals: {summary.confidence:.0%} percentile bootstrap "
        f"({summary.n_resamples:,} resamples, seed {summary.seed}). ⚠ small n: fewer than "
        f"{MIN_N} rows or fewer than {MIN_MINORITY} rows right (or wrong); the interval means "
        "little there.",
        "",
        f"**Headline, in-distribution ({result.metrics.split})** (n = {summary.overall.n:,}): "
        + ", ".join(f"{n} {fmt_metric(summary.overall, n)}" for n in ordered),
        "",
    ]
    if result.metrics.ood:
        lines += [
            "## Out-of-distribution evaluations (not pooled into the headline)",
            "",
            f"| file | n | {main} | majority-class rate |",
            "|---|---:|---|---:|",
        ]
        for name, res in result.metrics.ood.items():
            mv = res.overall.get(main)
            shown = "–" if mv is None else f"{mv.value:.3f}"
            if mv is not None and mv.ci:
                shown += f" [{mv.ci[0]:.3f}, {mv.ci[1]:.3f}]"
            maj = "–" if res.overall.majority is None else f"{res.overall.majority:.3f}"
            lines.append(f"| {_cell(name)} | {res.overall.n or 0:,} | {shown} | {maj} |")
        lines.append("")
    worst = result.worst_slices()
    if worst:
        overall = summary.overall.metrics.get(main, 0.0)
        lines += [
            "## Worst slices",
            "",
            f"| slice | n | {main} | vs overall |",
            "|---|---:|---|---:|",
        ]
        for key, value in worst:
            s = summary.slices[key]
            lines.append(
                f"| {_cell(key)} | {s.n:,} | {fmt_metric(s, main)} | {value - overall:+.3f} |"
            )
        lines.append("")
    by_dim: dict[str, list[str]] = {}
    for key in summary.slices:
        by_dim.setdefault(key.split("=", 1)[0], []).append(key)
    header = "| slice | n | " + " | ".join(ordered) + " | |"
    rule = "|---|---:|" + "---|" * len(ordered) + "---|"
    for dim, keys in by_dim.items():
        lines += [f"## {dim}", "", header, rule]
        for key in keys:
            s = summary.slices[key]
            cells = " | ".join(fmt_metric(s, n) for n in ordered)
            flag = "⚠ small n" if s.small_n else ""
            lines.append(f"| {_cell(key)} | {s.n:,} | {cells} | {flag} |")
        lines.append("")
    fr = result.failures
    if fr.categories:
        lines += [
            "## Failure categories",
            "",
            f"{fr.n_errors:,} wrong of {fr.n_rows:,} rows. *rows*: rows with the property; "
            "*error rate*: among them, against the rows without it.",
            "",
            "| category | rows | errors | error rate | without | share of errors |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for c in fr.categories:
            lines.append(
                f"| {c.name} | {c.rows:,} | {c.errors:,} | {_pct(c.error_rate)} | "
                f"{_pct(c.error_rate_without)} | {_pct(c.share_of_errors)} |"
            )
        lines.append("")
        for c in fr.categories:
            if c.examples:
                lines.append(f"**{c.name}**: {c.description}. Examples:")
                lines.append("")
                for ex in c.examples[:3]:
                    where = f"{ex.get('source', '')}:{ex['id']}".lstrip(":")
                    score = f" p={ex['score']:.2f}" if "score" in ex else ""
                    lines.append(
                        f"- `{_cell(where)}` gold {ex['gold']!s}, pred {ex['pred']!s}{score}: "
                        f"{_cell(ex['text'])}"
                    )
                lines.append("")
    cm = fr.confusion.get("overall")
    if cm is not None:
        lines += ["## Confusion matrix (overall; per slice in metrics.json)", ""]
        lines.append("| gold \\ pred | " + " | ".join(map(_cell, cm.labels)) + " |")
        lines.append("|---|" + "---:|" * len(cm.labels))
        for lab, row in zip(cm.labels, cm.matrix, strict=True):
            lines.append(f"| {_cell(lab)} | " + " | ".join(f"{v:,}" for v in row) + " |")
        lines.append("")
    if result.plan is not None:
        lines += [
            "## Evaluation plan",
            "",
            "| planned slice | n | needed | met |",
            "|---|---:|---:|---|",
        ]
        for p in result.plan:
            lines.append(
                f"| {_cell(p.key)} | {p.n:,} | {p.min_examples:,} | {'yes' if p.met else 'NO'} |"
            )
        lines.append("")
    return "\n".join(lines)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"
