"""`build_report` end to end on real run directories: sections, numbers read from the files,
baseline diffs and verdicts, escaping, and graceful degradation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tuneproof import rundir
from tuneproof.errors import UserError
from tuneproof.report import build_report, load_evidence
from tuneproof.report.render import interval, num

from .conftest import PAYLOAD, edit_json, metrics, rows

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


def _row(md: str, first_cell: str) -> str:
    return next(line for line in md.splitlines() if line.startswith(f"| {first_cell} |"))


def test_writes_both_formats_and_the_model_card_with_all_sections(run_dir: Path) -> None:
    result = build_report(run_dir)
    assert {p.name for p in result.written} == {"report.md", "report.html", "README.md"}
    assert result.markdown_path == run_dir / "report.md"
    md, html = _md(run_dir), _html(run_dir)
    assert re.findall(r"^## (.+)$", md, flags=re.M) == SECTIONS
    assert re.findall(r"<h2>(.+?)</h2>", html) == SECTIONS
    assert not list(run_dir.glob(".*.tmp")), "atomic writes leave no temp files"


def test_every_number_is_read_from_metrics_json(run_dir: Path) -> None:
    build_report(run_dir)
    head = metrics(run_dir)["overall"]
    assert f"**{num(head['accuracy'])}** (95 % CI {interval(head['accuracy_ci'])})" in _md(run_dir)
    raw = metrics(run_dir)
    raw["overall"]["accuracy"], raw["overall"]["accuracy_ci"] = 0.123456, [0.1, 0.15]
    raw["slices"]["language=en"]["accuracy"] = 0.0421
    edit_json(run_dir / "metrics.json", overall=raw["overall"], slices=raw["slices"])
    build_report(run_dir)  # predictions.jsonl unchanged: nothing may be recomputed
    md, html = _md(run_dir), _html(run_dir)
    assert "**0.1235** (95 % CI 0.1000 – 0.1500)" in md
    fr = raw["slices"]["language=en"]
    label = "language=en" + (" (small n)" if fr["small_n"] else "")
    assert f"| {label} | {fr['n']} | 0.0421 |" in md
    assert '<strong class="metric">0.1235</strong>' in html and ">0.0421<" in html


def test_failure_counts_match_the_predictions(run_dir: Path) -> None:
    build_report(run_dir)
    preds = rows(run_dir)
    wrong = sum(r["gold"] != r["pred"] for r in preds)
    assert f"{wrong:,} of {len(preds):,} evaluated predictions are wrong (metrics.json)" in _md(
        run_dir
    )
    labels = sorted({r["gold"] for r in preds} | {r["pred"] for r in preds})
    for gold in labels:  # the confusion matrix row of each gold label, counted here
        counts = [sum(r["gold"] == gold and r["pred"] == p for r in preds) for p in labels]
        assert f"| {gold} |" + "".join(f" {c} |" for c in counts) in _md(run_dir)


def test_without_baseline_it_says_none_was_given(run_dir: Path) -> None:
    result = build_report(run_dir)
    assert "No baseline was given" in _md(run_dir) and "No baseline was given" in _html(run_dir)
    assert "no baseline given" in result.pr_description
    assert result.comparison is None


def test_with_baseline_shows_config_diff_and_verdicts(run_dir: Path, baseline_dir: Path) -> None:
    result = build_report(run_dir, baseline=baseline_dir)
    cmp = result.comparison
    assert cmp is not None
    md, html = _md(run_dir), _html(run_dir)
    changed = md.split("### Config")[1].split("### Data")[0]
    assert "| `training.learning_rate` | `0.002` | `0.005` |" in changed  # the two configs
    assert "batch_size" not in changed  # equal keys are not listed
    for v in cmp.verdicts:
        if v.key == "overall":
            continue
        row = _row(md, v.key + (" (small n)" if rundir_small(run_dir, v.key) else ""))
        assert row.rstrip().endswith(
            {"regressed": "**▼ regressed** |", "improved": "▲ improved |"}.get(
                v.verdict, f"{v.verdict} |"
            )
        ), row
        css = v.verdict if v.verdict in ("regressed", "improved") else ""
        assert f'<tr class="{css}"><td>{v.key}' in html
    n_reg = len(cmp.regressions)
    assert (f"**{n_reg} slice(s) regressed**" in md) == (n_reg > 0)
    assert ("No slice regressed significantly." in md) == (n_reg == 0)


def rundir_small(run: Path, key: str) -> bool:
    m = metrics(run)
    if key.startswith("ood:"):  # an out-of-distribution file's row
        return bool(m["ood"][key.removeprefix("ood:")]["overall"].get("small_n"))
    return bool(m["slices"][key].get("small_n"))


def test_baseline_on_different_data_is_refused_before_writing(
    run_dir: Path, baseline_dir: Path
) -> None:
    data = metrics(baseline_dir)["eval"]["data"]
    data[0]["sha256"] = "c" * 64
    edit_json(baseline_dir / "metrics.json", eval__data=data)
    with pytest.raises(UserError, match="different data"):
        build_report(run_dir, baseline=baseline_dir)
    assert not (run_dir / "report.md").exists() and not (run_dir / "model" / "README.md").exists()


def test_text_from_the_data_cannot_inject_markup(run_dir: Path) -> None:
    (run_dir / "plan.md").write_text(
        (run_dir / "plan.md").read_text(encoding="utf-8") + f"\nEdited by hand: {PAYLOAD}\n",
        encoding="utf-8",
    )
    build_report(run_dir)
    md, html = _md(run_dir), _html(run_dir)
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt; &amp; " in html
    # Markdown: every shown row with the payload has its HTML escaped, on one table row
    assert "<script" not in md and "<b>" not in md  # plan.md's raw HTML is made inert too
    shown = [line for line in md.splitlines() if "pwned" in line and line.startswith("| te")]
    assert shown, "a wrong English row (they all carry the payload) is among the worst examples"
    for line in shown:
        assert "&lt;script>" in line and "&amp; &lt;b>bold&lt;/b>" in line
    assert PAYLOAD not in md


def test_plan_md_is_the_why_section(run_dir: Path) -> None:
    build_report(run_dir)
    md, html = _md(run_dir), _html(run_dir)
    title = next(
        line for line in (run_dir / "plan.md").read_text().splitlines() if line.startswith("# ")
    )
    why = md.split("## 3. Why")[1].split("## 4.")[0]
    assert "#" + title in why  # headings nested under the section
    assert "UNFILLED" not in why and "<h3>" in html.split('id="why"')[1].split("</section>")[0]
    (run_dir / "plan.md").unlink()
    build_report(run_dir)
    assert "**UNFILLED — the author must write this section.**" in _md(run_dir)
    assert 'class="unfilled"' in _html(run_dir)


def test_a_run_with_only_metrics_json_degrades_gracefully(tmp_path: Path, run_dir: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    m = rundir.read(run_dir, rundir.Metrics)
    rundir.write(bare, m.model_copy(update={"slices": {}, "history": [], "eval": None}))
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
    edit_json(
        run_dir / "metrics.json",
        task="extractive-qa",
        main_metric="f1",
        overall={"n": 76, "exact_match": 0.61, "exact_match_ci": [0.5, 0.7], "f1": 0.734},
        slices={"language=en": {"n": 40, "f1": 0.8, "f1_ci": [0.7, 0.9], "exact_match": 0.7}},
    )
    result = build_report(run_dir)
    md = _md(run_dir)
    split = metrics(run_dir)["split"]
    assert (
        "f1 is **0.7340**" in md and f"| {split} | exact_match | 0.6100 | 0.5000 – 0.7000 |" in md
    )
    assert "| slice | n | f1 | 95 % CI | exact_match |" in md
    assert "pipeline_tag: question-answering" in result.model_card.front_matter


def test_formats_are_validated_and_selectable(run_dir: Path) -> None:
    build_report(run_dir, formats="md")
    assert (run_dir / "report.md").exists() and not (run_dir / "report.html").exists()
    with pytest.raises(UserError, match=r"unknown format 'htm' \(did you mean 'html'\?\)"):
        build_report(run_dir, formats="md,htm")


def test_reproduce_pins_versions_data_and_command_from_the_manifest(run_dir: Path) -> None:
    build_report(run_dir)
    man = json.loads((run_dir / "manifest.json").read_text())
    repro = _md(run_dir).split("## 7. Reproduce")[1].split("## 8.")[0]
    pins = [
        f"{k}=={re.sub(r'[+].*$', '', v)}"
        for k, v in man["versions"].items()
        if v is not None and k != "python"
    ]
    assert "pip install " + " ".join(pins) in repro
    lines = repro.splitlines()
    cd = lines.index(f"cd {man['cwd']}")
    checks = [
        lines.index(f"echo '{d['sha256']}  {d['path']}' | sha256sum -c -")
        for d in man["data"].values()
    ]
    assert cd < min(checks)  # relative paths are checked from where the run started
    assert f"| python | {man['versions']['python']} |" in repro
    gpu = "none (CPU only)" if not man["hardware"]["cuda"] else ", ".join(man["hardware"]["gpus"])
    assert f"| GPU | {gpu} |" in repro


def test_regression_rows_are_not_listed_as_failures(run_dir: Path) -> None:
    """Similarity predictions are numbers: none is "wrong", so none is shown as a failure."""
    path = run_dir / "predictions.jsonl"
    preds = rows(run_dir)
    for r in preds:
        r["gold"], r["pred"] = 3.5, 3.25
    path.write_text("".join(json.dumps(r) + "\n" for r in preds))
    raw = metrics(run_dir)
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
    assert keys[0] == "overall"
    assert len(keys) == len(set(keys))


def test_lint_findings_are_shown_when_the_run_has_them(run_dir: Path) -> None:
    """lint.json as the TrainingArguments linter fills it for this run's resolved config."""
    from tuneproof.plan.args import lint_mapping

    assert (run_dir / "lint.json").is_file()  # train writes it (from the resolved arguments)
    (run_dir / "lint.json").unlink()
    build_report(run_dir)
    assert "`lint.json` is absent" in _md(run_dir)
    config = rundir.read_config(run_dir).to_dict()
    found = lint_mapping(config, str(run_dir / "config.yaml")).findings
    assert found, "the toy run's arguments (no warmup, a high learning rate) draw findings"
    rundir.write(
        run_dir,
        rundir.Lint(
            findings=[
                rundir.LintFinding(
                    severity=f.severity, argument=f.key, message=f.message, fix=f.fix
                )
                for f in found
            ]
        ),
    )
    build_report(run_dir)
    md, html = _md(run_dir), _html(run_dir)
    section = md.split("### Training arguments")[1].split("### Memory and throughput")[0]
    assert section.count("\n| ") - 1 == len(found)  # one row per finding, below the header
    assert '<table class="lint">' in html and html.count('<tr class="') >= len(found)
