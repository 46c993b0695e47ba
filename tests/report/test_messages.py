"""Issue #13 item 19: what the report, the charts and the CLI help say matches the output."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.evaluate.compare import format_p
from tuneproof.report import build_report
from tuneproof.report.baseline import compare_to_baseline
from tuneproof.report.bundle import load_evidence
from tuneproof.report.charts import slice_chart
from tuneproof.report.render import num
from tuneproof.report.sections import _example, config_rows
from tuneproof.rundir import MetricBlock, MetricValue, PredictionRow

runner = CliRunner()


def test_starter_configs_name_their_own_file(tmp_path: Path) -> None:
    for task in ("sequence-classification", "token-classification", "similarity"):
        out = tmp_path / f"{task}-run.yaml"
        result = runner.invoke(app, ["init", "--task", task, "-o", str(out)])
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert f"tuneproof train {out}" in text and "tuneproof.yaml" not in text


def test_help_lists_tasks_and_gives_examples() -> None:
    init = runner.invoke(app, ["init", "--help"], env={"COLUMNS": "200"}).output
    assert "see `tuneproof init --help`" not in init
    for task in ("token-classification", "extractive-qa", "summarization", "similarity"):
        assert task in init
    for group in ("args", "tokens"):
        shown = runner.invoke(app, [group, "--help"], env={"COLUMNS": "200"}).output
        assert "Examples:" in shown and f"tuneproof {group} " in shown


def test_steps_have_one_format() -> None:
    assert [num(x, 0) for x in (5.0, 95.0, 100.0, 250.0, 1500.0)] == [
        "5", "95", "100", "250", "1,500",
    ]  # fmt: skip


def test_p_values_are_formatted_one_way(run_dir: Path, baseline_dir: Path) -> None:
    assert format_p(9.22e-21) == "9.22e-21" and format_p(0.0312) == "0.0312"
    build_report(run_dir, baseline_dir)
    cmp = compare_to_baseline(load_evidence(run_dir), load_evidence(baseline_dir))
    m = load_evidence(run_dir).metrics
    shown = {*m.slices, *(f"ood:{k}" for k in m.ood)}  # the rows of the per-slice table
    ps = [v.mcnemar_p for v in cmp.verdicts if v.mcnemar_p is not None and v.key in shown]
    assert ps
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    for p in ps:
        assert f"| {format_p(p)} |" in md
        assert f'<td class="num">{format_p(p)}</td>' in html
    cli = runner.invoke(app, ["compare", str(run_dir), str(baseline_dir)], env={"COLUMNS": "250"})
    assert cli.exit_code == 0, cli.output
    assert format_p(ps[0]) in cli.stdout


def test_chart_legend_and_chance_line(run_dir: Path, baseline_dir: Path) -> None:
    block = MetricBlock.model_validate({"n": 50, "accuracy": 0.6, "accuracy_ci": [0.5, 0.7]})
    head = MetricValue("accuracy", 0.8, (0.7, 0.9))
    alone = slice_chart({"language=en": block}, "accuracy", overall=head, chance=0.55)
    assert alone is not None and alone.chance is not None and alone.chance[1] == "chance 0.550"
    assert [label for _, label in alone.legend] == ["slice"]
    vs = slice_chart({"language=en": block}, "accuracy", verdicts={}, overall=head)
    assert vs is not None and "regressed vs baseline" in [label for _, label in vs.legend]
    assert vs.chance is None

    build_report(run_dir)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    caption = re.search(r"<figcaption>(.*?)</figcaption>", html, re.S)
    assert caption and "baseline" not in caption.group(1) and "chance" in caption.group(1)
    assert 'class="chance"' in html
    build_report(run_dir, baseline_dir)
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    caption = re.search(r"<figcaption>(.*?)</figcaption>", html, re.S)
    assert caption and "regressed vs baseline" in caption.group(1)


def test_ner_rows_show_the_differing_words() -> None:
    row = PredictionRow.model_validate(
        {
            "id": "1",
            "tokens": ["John", "lives", "in", "Paris"],
            "gold": ["B-PER", "O", "O", "B-LOC"],
            "pred": ["B-PER", "O", "O", "O"],
        }
    )
    ex = _example(row)
    assert ex.gold == "Paris/B-LOC" and ex.pred == "Paris/O"
    assert "[" not in ex.gold + ex.pred


def test_config_table_shows_only_the_runs_keys(run_dir: Path) -> None:
    keys = dict(config_rows(load_evidence(run_dir)))
    assert "data.text_column" in keys and "training.learning_rate" in keys
    for other in ("data.tokens_column", "data.question_column", "data.max_new_tokens"):
        assert other not in keys  # token classification, QA, summarization keys
    assert not any(k.startswith("strategy.lora") for k in keys)  # a full fine-tuning run
    build_report(run_dir)
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "data.answers_column" not in md
    # every evaluation is in the metrics table, the OOD file too
    assert "| extra.csv (out-of-distribution, n=40) | accuracy |" in md
