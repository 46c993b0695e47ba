"""The report's "Human evaluation" section: drawn from humaneval.json, with the win/tie/loss
table, the agreement line and the flagged rater; without the file it says how to get one."""

from __future__ import annotations

from pathlib import Path

from tuneproof import rundir
from tuneproof.evaluate.humaneval_files import export_sheet, import_ratings
from tuneproof.report import build_report

from ..evaluate.humaneval_fixtures import fill


def _section(md: str) -> str:
    return md.split("### Human evaluation")[1].split("## 5. What still fails")[0]


def test_report_shows_human_evaluation_from_humaneval_json(run_dir: Path, tmp_path: Path) -> None:
    before = _section(
        build_report(run_dir, formats="md", model_card=False).markdown_path.read_text()
    )  # type: ignore[union-attr]
    assert "No `humaneval.json`" in before and "tuneproof humaneval export" in before

    res = export_sheet(run_dir, n=12, raters=3, seed=4)
    paths = []
    for rater in ("ann", "ben", "cat"):
        choices = {}
        for k, it in enumerate(res.key.items):
            win = it.run_side if k % 3 else ("b" if it.run_side == "a" else "a")
            choices[it.item_id] = win if rater != "cat" else ("a" if win == "b" else "b")
        paths.append(fill(tmp_path / f"{rater}.csv", choices))
    h = import_ratings(run_dir, paths, n_resamples=200)

    result = build_report(run_dir, model_card=False)
    md = _section(result.markdown_path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    assert "against the reference outputs" in md
    win = f"{h.overall.win * 100:.1f} %"  # type: ignore[operator]
    lo, hi = h.overall.win_ci  # type: ignore[misc]
    n = h.overall.n_items
    row = f"| overall (small n) | {n} | {3 * n} | {win} ({100 * lo:.1f}–{100 * hi:.1f} %) |"
    assert row in md, md
    for key in h.slices:
        assert f"| {key}" in md
    assert f"Krippendorff's α {h.agreement.krippendorff_alpha:.3f}" in md
    assert "**rater cat disagrees with everyone**" in md
    html = result.html_path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    part = html.split("<h3>Human evaluation</h3>")[1].split("</section>")[0]
    assert '<table class="humaneval">' in part and win in part and "rater cat" in part
    assert rundir.read(run_dir, rundir.HumanEval) == h
