"""`eval`, `compare` and `report` for every task, each with that task's own metrics (issue #9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneproof.config import parse_config
from tuneproof.data import synthetic
from tuneproof.evaluate import compare_runs, evaluate_run
from tuneproof.io import read_json, read_jsonl
from tuneproof.report import build_report
from tuneproof.tasks import get_task
from tuneproof.train import run

from .conftest import task_config, write_splits

# task -> (row maker, maker kwargs, main metric, other metric names the eval must report)
TASKS = {
    "token-classification": (synthetic.ner_rows, {}, "f1", {"precision", "recall", "accuracy"}),
    "extractive-qa": (synthetic.qa_rows, {"filler": 3}, "f1", {"exact_match"}),
    "similarity": (synthetic.similarity_rows, {}, "spearman", {"pearson"}),
    "summarization": (synthetic.summarization_rows, {}, "rougeL", {"rouge1", "rouge2"}),
}


def _train(task: str, model_dir: Path, files: dict[str, Path], out: Path, seed: int) -> Path:
    over: dict = {"training": {"max_steps": 6, "seed": seed}}
    if task == "summarization":  # LoRA is its default strategy
        over["data"] = {"max_length": 64, "max_new_tokens": 8}
    if task == "similarity":
        over["data"] = {
            "text_column": "sentence1",
            "text_pair_column": "sentence2",
            "label_column": "score",
        }
    run(parse_config(task_config(model_dir, files, task, **over)), out)
    return out


@pytest.mark.parametrize("task", list(TASKS))
def test_eval_compare_report_use_the_tasks_metrics(
    task: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    make, kw, main, others = TASKS[task]
    fixture = "tiny_llama_dir" if task == "summarization" else "tiny_encoder_dir"
    model_dir = request.getfixturevalue(fixture)
    files = write_splits(tmp_path / "data", make, sizes=(24, 8, 12), **kw)
    run_a = _train(task, model_dir, files, tmp_path / "a", seed=1)
    run_b = _train(task, model_dir, files, tmp_path / "b", seed=2)

    # eval: the run's own metrics on a file, recomputable from predictions.jsonl alone
    for run_dir in (run_a, run_b):
        evaluate_run(run_dir, [files["test"]], languages=["en"])
    metrics = read_json(run_a / "metrics.json")
    overall = metrics["overall"]
    assert metrics["main_metric"] == main
    assert overall["n"] == 12
    assert {main, f"{main}_ci", *others} <= set(overall)
    lo, hi = overall[f"{main}_ci"]
    assert lo <= overall[main] <= hi
    rows = read_jsonl(run_a / "predictions.jsonl")
    assert all("slices" in r for r in rows)
    recomputed = get_task(task).metrics_from_rows(rows)
    assert recomputed[main] == pytest.approx(overall[main])

    # compare: per-slice verdicts on the task's main metric
    comparison = compare_runs(run_a, run_b)
    assert comparison.main_metric == main
    verdicts = {s.verdict for s in comparison.slices}
    assert verdicts <= {"improved", "regressed", "no evidence"}
    assert "training.seed" in {d.key for d in comparison.config_diff}

    # report: the headline and metrics table carry the task's metric, read from metrics.json
    result = build_report(run_a, baseline=run_b, formats="md")
    text = (run_a / "report.md").read_text(encoding="utf-8")
    assert main in text and f"{overall[main]:.4f}" in text
    assert result.comparison is not None
