"""Degenerate-model warnings (#20 item 5): a run whose predictions are one class is flagged in the
train summary, the report headline and the model card; a class with F1 0, a score not above the
majority class and a large train/validation loss gap are flagged too."""

from __future__ import annotations

import json
from pathlib import Path

from sklearn.metrics import f1_score

from tuneproof import rundir
from tuneproof.cli.run import summary_warnings
from tuneproof.evaluate.degenerate import class_f1, degenerate_warnings
from tuneproof.report import build_report

from .conftest import rows


def _predict_one_class(run: Path) -> str:
    """Rewrite the run's prediction rows and headline as a model that always says one label."""
    all_rows = rows(run)
    label = sorted({r["gold"] for r in all_rows})[0]
    for r in all_rows:
        r["pred"] = label
    (run / "predictions.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in all_rows), encoding="utf-8"
    )
    m = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    inside = [r for r in all_rows if r.get("in_distribution") is not False]
    m["overall"]["accuracy"] = sum(r["gold"] == label for r in inside) / len(inside)
    (run / "metrics.json").write_text(json.dumps(m), encoding="utf-8")
    return label


def test_single_class_run_is_flagged_in_summary_report_and_card(run_dir: Path) -> None:
    before = summary_warnings(run_dir)
    assert not any("predicts one class" in w for w in before)
    label = _predict_one_class(run_dir)
    summary = summary_warnings(run_dir)
    assert any(f"predicts one class ('{label}')" in w for w in summary)
    assert any("F1 0" in w for w in summary)  # the other class is never predicted right
    assert any("not above always predicting the majority class" in w for w in summary)
    result = build_report(run_dir, formats=("md", "html"))
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    summary_section = md.split("## 1. Summary", 1)[1].split("## 2.", 1)[0]
    assert "**Degenerate model**" in summary_section
    assert f"predicts one class ('{label}')" in summary_section
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "Degenerate model" in html and "predicts one class" in html
    assert "Warning: degenerate model" in result.model_card.text
    assert f"predicts one class ('{label}')" in result.model_card.text


def test_class_f1_matches_sklearn() -> None:
    gold = ["a", "b", "c", "a", "b", "c", "a"]
    pred = ["a", "a", "b", "a", "b", "b", "c"]
    ours = class_f1(gold, pred)
    ref = f1_score(gold, pred, labels=["a", "b", "c"], average=None)
    assert [ours[c] for c in ["a", "b", "c"]] == list(ref)


def _metrics(history: list[dict], accuracy: float = 0.9) -> rundir.Metrics:
    return rundir.Metrics.model_validate(
        {
            "task": "sequence-classification",
            "main_metric": "accuracy",
            "split": "test",
            "overall": {"n": 4, "accuracy": accuracy},
            "history": history,
        }
    )


def test_overfitting_gap_is_flagged_and_a_healthy_run_is_not() -> None:
    good = [{"id": str(i), "gold": g, "pred": g} for i, g in enumerate("abab")]
    healthy = _metrics([{"loss": 0.40, "step": 10}, {"eval_loss": 0.45, "step": 10}])
    assert degenerate_warnings(healthy, good) == []
    overfit = _metrics([{"loss": 0.05, "step": 10}, {"eval_loss": 0.90, "step": 10}])
    kinds = [w.kind for w in degenerate_warnings(overfit, good)]
    assert kinds == ["overfit"]


def test_below_majority_uses_the_baselines_file_when_present() -> None:
    golds = ["a", "a", "a", "b"]
    preds = ["a", "b", "a", "b"]  # accuracy 0.75 = the evaluated rows' majority share
    got = [
        {"id": str(i), "gold": g, "pred": p}
        for i, (g, p) in enumerate(zip(golds, preds, strict=True))
    ]
    m = _metrics([], accuracy=0.75)
    assert [w.kind for w in degenerate_warnings(m, got)] == ["below_majority"]
    bl = rundir.Baselines.model_validate(
        {
            "task": "sequence-classification",
            "main_metric": "accuracy",
            "split": "test",
            "n": 4,
            "baselines": [{"name": "majority", "metrics": {"n": 4}, "main": 0.5}],
        }
    )
    assert degenerate_warnings(m, got, bl) == []
