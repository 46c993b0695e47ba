"""`build_report` end to end on synthetic run directories: sections, numbers read from the files,
baseline diffs and verdicts, escaping, and graceful degradation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tuneproof.errors import UserError
from tuneproof.report import build_report, load_evidence

from .conftest import PAYLOAD, set_eval_sha

SECTIONS = [
    "1. Summary",
    "2. What changed",
    "3. Why",
    "4. How it was measured",
    "5. What still fails",
    "6. Limitations",
    "7. Reproduce",
    "8. Model card",
]


def _md(run: Path) -> str:
    return (run / "report.md").read_text(encoding="utf-8")


def _html(run: Path) -> str:
    return (run / "report.html").read_text(encoding="utf-8")


def test_writes_both_formats_and_the_model_card_with_all_sections(run_dir: Path) -> None:
    result = build_report(run_dir)
    assert {p.name for p in result.written} == {"report.md", "report.html", "README.md"}
    assert result.markdown_path == run_dir / "report.md"
    md, html = _md(run_dir), _html(run_dir)
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert headings == SECTIONS
    assert re.findall(r"<h2>(.+?)</h2>", html) == SECTIONS
    assert not list(run_dir.glob(".*.tmp")), "atomic writes leave no temp files"


def test_every_number_is_read_from_metrics_json(run_dir: Path) -> None:
    build_report(run_dir)
    assert "**0.6842** (95 % CI 0.5642 – 0.7642)" in _md(run_dir)
    path = run_dir / "metrics.json"
    raw = json.loads(path.read_text())
    raw["overall"]["accuracy"] = 0.123456
    raw["overall"]["accuracy_ci"] = [0.1, 0.15]
    raw["slices"]["language=fr"]["accuracy"] = 0.0421
    path.write_text(json.dumps(raw))  # predictions.jsonl unchanged: nothing may be recomputed
    build_report(run_dir)
    md, html = _md(run_dir), _html(run_dir)
    assert "**0.1235** (95 % CI 0.1000 – 0.1500)" in md
    assert "0.6842" not in md.split("## 2.")[0]
    assert "| language=fr | 30 | 0.0421 |" in md
    assert '<strong class="metric">0.1235</strong>' in html and ">0.0421<" in html


def test_without_baseline_it_says_none_was_given(run_dir: Path) -> None:
    result = build_report(run_dir)
    assert "No baseline was given" in _md(run_dir) and "No baseline was given" in _html(run_dir)
    assert "no baseline given" in result.pr_description
    assert result.comparison is None


def test_with_baseline_shows_config_diff_and_verdicts(run_dir: Path, baseline_dir: Path) -> None:
    result = build_report(run_dir, baseline=baseline_dir)
    md, html = _md(run_dir), _html(run_dir)
    changed = md.split("### Config")[1].split("### Data")[0]
    assert "| `training.learning_rate` | `5e-05` | `0.001` |" in changed
    assert "batch_size" not in changed  # equal keys are not listed
    assert "| language=fr | 30 | 0.4000 |" in md and "**▼ regressed**" in md
    fr_row = next(line for line in md.splitlines() if line.startswith("| language=fr"))
    assert "+0.0000" not in fr_row and "-0.5000" in fr_row and "regressed" in fr_row
    en_row = next(line for line in md.splitlines() if line.startswith("| language=en"))
    assert "improved" in en_row
    assert re.search(r'<tr class="regressed"><td>language=fr', html)
    assert "git diff 111111111111..222222222222" in md
    assert "**1 slice(s) regressed**: language=fr" in md
    assert "language=fr" in result.pr_description and "regressed" in result.pr_description


def test_baseline_on_different_data_is_refused_before_writing(
    run_dir: Path, baseline_dir: Path
) -> None:
    set_eval_sha(baseline_dir, "c" * 64)
    with pytest.raises(UserError, match="different data"):
        build_report(run_dir, baseline=baseline_dir)
    assert not (run_dir / "report.md").exists() and not (run_dir / "model" / "README.md").exists()


def test_text_from_the_data_cannot_inject_markup(run_dir: Path) -> None:
    build_report(run_dir)
    md, html = _md(run_dir), _html(run_dir)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html  # the checks.json detail
    # Markdown: HTML escaped and the table-breaking pipe backslashed, on one row
    assert "<script" not in md and "<img" not in md  # plan.md's raw HTML is made inert too
    row = next(line for line in md.splitlines() if "pwned" in line and line.startswith("| en-39"))
    assert "&lt;script>" in row and "\\| pipe" in row and "&lt;b>bold&lt;/b>" in row
    assert PAYLOAD not in md


def test_plan_md_is_the_why_section_and_its_html_is_escaped(run_dir: Path) -> None:
    build_report(run_dir)
    md, html = _md(run_dir), _html(run_dir)
    why = md.split("## 3. Why")[1].split("## 4.")[0]
    assert "### Fine-tuning strategy for `minilm-l6`" in why  # headings nested under the section
    assert "UNFILLED" not in why
    assert "CPU only. &lt;script>document.title" in why
    assert "<h3>Fine-tuning strategy for <code>minilm-l6</code>" in html
    (run_dir / "plan.md").unlink()
    build_report(run_dir)
    assert "**UNFILLED — the author must write this section.**" in _md(run_dir)
    assert 'class="unfilled"' in _html(run_dir)


def test_a_run_with_only_metrics_json_degrades_gracefully(tmp_path: Path, run_dir: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    raw = json.loads((run_dir / "metrics.json").read_text())
    raw["slices"], raw["history"] = {}, []
    del raw["eval"]
    (bare / "metrics.json").write_text(json.dumps(raw))
    result = build_report(bare)
    md, html = _md(bare), _html(bare)
    assert re.findall(r"^## (.+)$", md, flags=re.M) == SECTIONS
    for name, producer in [
        ("checks.json", "tuneproof check"),
        ("predictions.jsonl", f"tuneproof eval {bare}"),
        ("stress.json", f"tuneproof stress {bare} --data FILE"),
        ("manifest.json", "tuneproof train"),
    ]:
        assert f"`{name}` is absent: `{producer}" in md, name
        assert f"<code>{name}</code> is absent" in html
    assert "metrics.json has no slices" in md and "no training history" in md
    assert "Not written: the run has no `model/` folder" in md
    assert result.model_card.path is None
    assert {lim.kind for lim in result.limitations} >= {"no-slices", "no-checks", "no-stress-tests"}


def test_other_tasks_render_their_own_metrics(run_dir: Path) -> None:
    """Metric names are not hard-coded: a QA run's exact_match/f1 are the report's metrics."""
    path = run_dir / "metrics.json"
    raw = json.loads(path.read_text())
    raw["task"], raw["main_metric"] = "extractive-qa", "f1"
    raw["overall"] = {"n": 76, "exact_match": 0.61, "exact_match_ci": [0.5, 0.7], "f1": 0.734}
    raw["slices"] = {"language=en": {"n": 40, "f1": 0.8, "f1_ci": [0.7, 0.9], "exact_match": 0.7}}
    path.write_text(json.dumps(raw))
    result = build_report(run_dir)
    md = _md(run_dir)
    assert "f1 is **0.7340**" in md and "| test | exact_match | 0.6100 | 0.5000 – 0.7000 |" in md
    assert "| slice | n | f1 | 95 % CI | exact_match |" in md
    assert "pipeline_tag: question-answering" in result.model_card.front_matter


def test_formats_are_validated_and_selectable(run_dir: Path) -> None:
    build_report(run_dir, formats="md")
    assert (run_dir / "report.md").exists() and not (run_dir / "report.html").exists()
    with pytest.raises(UserError, match=r"unknown format 'htm' \(did you mean 'html'\?\)"):
        build_report(run_dir, formats="md,htm")


def test_reproduce_pins_versions_data_and_command_from_the_manifest(run_dir: Path) -> None:
    build_report(run_dir)
    repro = _md(run_dir).split("## 7. Reproduce")[1].split("## 8.")[0]
    assert "pip install tuneproof==0.1.0 torch==2.13.0 transformers==5.23.0 peft==0.21.2" in repro
    assert "# torch 2.13.0+cpu is a local build" in repro
    lines = repro.splitlines()
    cd = lines.index("cd /work/project")
    check = lines.index(f"echo '{'b' * 64}  data/test.csv' | sha256sum -c -")
    train = lines.index("tuneproof train examples/polarity-full.yaml -o runs/x")
    assert cd < check < train  # relative paths are checked from where the run started
    assert "| GPU | none (CPU only) |" in repro and "| python | 3.11.7 |" in repro


def test_regression_rows_are_not_listed_as_failures(run_dir: Path) -> None:
    """Similarity predictions are numbers: none is "wrong", so none is shown as a failure."""
    path = run_dir / "predictions.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    for r in rows:
        r["gold"], r["pred"] = 3.5, 3.25
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    raw = json.loads((run_dir / "metrics.json").read_text())
    del raw["eval"]["failures"]
    (run_dir / "metrics.json").write_text(json.dumps(raw))
    build_report(run_dir)
    fails = _md(run_dir).split("### Worst examples per slice")[1].split("### Stress")[0]
    assert "No wrong predictions." in fails and "| id |" not in fails


def test_pr_description_lists_each_slice_once(run_dir: Path, baseline_dir: Path) -> None:
    """A regressed overall is the first row, not also one of the regressions below it."""
    from dataclasses import replace

    from tuneproof.report.pr import evidence_rows

    cmp = build_report(run_dir, baseline=baseline_dir, formats="md").comparison
    assert cmp is not None and cmp.overall is not None
    regressed = replace(cmp.overall, verdict="regressed")
    cmp = replace(cmp, verdicts=tuple(regressed if v.key == "overall" else v for v in cmp.verdicts))
    keys = [r.key for r in evidence_rows(load_evidence(run_dir), cmp)]
    assert keys[0] == "overall" and "language=fr" in keys
    assert len(keys) == len(set(keys))
