"""The ``--pr`` description: the report cut down to what a reviewer reads in a PR body.

Headline with its interval and delta, the config keys that changed, the slices that moved (or the
weakest ones without a baseline), data-check counts, the drafted limitations and the reproduce
commands folded away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tuneproof.report.baseline import BaselineComparison
from tuneproof.report.bundle import RunEvidence
from tuneproof.report.limitations import Limitation
from tuneproof.report.render import render
from tuneproof.report.sections import repro_script, reproduce, summary, wrong_count

MAX_ROWS = 10
MAX_CHANGES = 10
MAX_LIMITATIONS = 6
WEAKEST = 5


@dataclass(frozen=True)
class PrRow:
    key: str
    n: int | None
    value: float | None
    delta: float | None
    verdict: str


def evidence_rows(
    ev: RunEvidence, comparison: BaselineComparison | None, limit: int = MAX_ROWS
) -> tuple[PrRow, ...]:
    """Overall, then the slices that moved significantly (regressions first); without a
    baseline, the weakest slices."""
    m = ev.metrics
    if comparison is not None:
        moved = [comparison.overall] if comparison.overall else []
        moved += [
            v
            for v in (*comparison.regressions, *comparison.improvements)
            if v.key != "overall"  # listed first already
        ]
        return tuple(PrRow(v.key, v.n, v.run, v.delta, v.verdict) for v in moved if v is not None)[
            :limit
        ]
    head = m.headline
    rows = [PrRow("overall", m.overall.n, head.value if head else None, None, "")]
    scored = [(key, s.n, s.get(m.main_metric)) for key, s in m.slices.items()]
    weakest = sorted(((k, n, v) for k, n, v in scored if v is not None), key=lambda t: t[2].value)
    rows += [PrRow(k, n, v.value, None, "") for k, n, v in weakest[:WEAKEST]]
    return tuple(rows)


def render_pr(
    ev: RunEvidence,
    comparison: BaselineComparison | None,
    limitations: Sequence[Limitation],
) -> str:
    """GitHub-flavoured Markdown for a PR body (printed by ``tuneproof report --pr``)."""
    text = render(
        "pr.md.jinja",
        ev=ev,
        cmp=comparison,
        s=summary(ev, comparison),
        rows=evidence_rows(ev, comparison),
        lims=list(limitations),
        wrong=wrong_count(ev),
        script=repro_script(ev, reproduce(ev)),
        max_changes=MAX_CHANGES,
        max_limitations=MAX_LIMITATIONS,
    )
    return text.strip() + "\n"
