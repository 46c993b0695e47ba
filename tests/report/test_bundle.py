"""Reading a run directory: every documented file parsed, absent files named with their producer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneproof.errors import UserError
from tuneproof.report.bundle import load_evidence, parse_stress


def test_reads_every_file_of_the_run(run_dir: Path) -> None:
    ev = load_evidence(run_dir)
    m = ev.metrics
    assert (m.task, m.main_metric, m.split, m.n) == (
        "sequence-classification",
        "accuracy",
        "test",
        76,
    )
    assert m.headline is not None and m.headline.value == pytest.approx(52 / 76)
    assert m.headline.ci == pytest.approx((52 / 76 - 0.12, 52 / 76 + 0.08))
    de = m.slice("language=de")
    assert (
        de is not None and de.n == 6 and de.small_n and de.name == "language" and de.value == "de"
    )
    assert m.failures is not None and (m.failures.n_rows, m.failures.n_errors) == (76, 24)
    assert {c.name: (c.rows, c.errors) for c in m.failures.categories} == {
        "confident_wrong": (10, 4),
        "truncated": (3, 1),
    }
    assert m.failures.confusion_of("overall").matrix == ((26, 12), (12, 26))  # type: ignore[union-attr]
    assert [(c.key, c.n, c.met) for c in m.plan_checks][-1] == ("language=ar", 0, False)
    assert m.eval_data[0].sha256 == "b" * 64 and m.eval_settings.n_resamples == 1000  # type: ignore[union-attr]
    assert m.training.global_step == 120 and m.training.strategy == "full"
    assert [c.name for c in m.curves] == ["loss", "eval_loss", "eval_accuracy"]
    assert len(m.curve("loss").points) == 12  # type: ignore[union-attr]

    assert ev.manifest is not None and ev.manifest.hardware.cpu_only
    assert ev.manifest.source("test").sha256 == "b" * 64  # type: ignore[union-attr]
    assert ev.checks is not None and (ev.checks.errors, ev.checks.warnings) == (1, 1)
    assert ev.checks.findings[0].related == ("train:2051",)
    assert ev.predictions is not None and len(ev.predictions) == 76
    assert ev.predictions[0].slice_keys == ("language=en", "script=Latin")
    assert ev.predictions[0].key == ("test.csv", "en-0")
    assert ev.stress is not None and ev.stress[1].failure_rate == 0.35
    assert ev.stress[1].applicable == 40 and ev.stress[1].examples[0].edited == "not a good film"
    assert ev.plan_md is not None and ev.has_model and ev.missing == ()
    assert ev.name == "run" and ev.config_value("training.learning_rate") == 1e-3


def test_curves_keep_the_first_value_per_step(run_dir: Path) -> None:
    """The Trainer re-evaluates the best model at the last step; that is not training progress."""
    path = run_dir / "metrics.json"
    raw = json.loads(path.read_text())
    raw["history"].append({"eval_loss": 9.9, "eval_accuracy": 0.01, "epoch": 3.0, "step": 120})
    path.write_text(json.dumps(raw))
    curve = load_evidence(run_dir).metrics.curve("eval_accuracy")
    assert curve is not None and curve.points[-1].value == pytest.approx(0.8)


def test_absent_files_are_recorded_with_the_command_that_writes_them(run_dir: Path) -> None:
    for name in ("checks.json", "stress.json", "plan.md", "predictions.jsonl", "manifest.json"):
        (run_dir / name).unlink()
    ev = load_evidence(run_dir)
    assert ev.checks is None and ev.stress is None and ev.predictions is None
    produced = {m.name: m.produced_by for m in ev.missing}
    assert "tuneproof check" in produced["checks.json"]
    assert produced["stress.json"] == f"tuneproof stress {run_dir} --data FILE"
    assert "tuneproof eval" in produced["predictions.jsonl"]


def test_missing_metrics_says_which_step_to_run(run_dir: Path) -> None:
    (run_dir / "metrics.json").unlink()
    with pytest.raises(UserError, match=r"metrics.json: not found; train the run first") as err:
        load_evidence(run_dir)
    assert "tuneproof eval" in str(err.value) and "\n" not in str(err.value)


def test_missing_run_dir_and_broken_json(tmp_path: Path, run_dir: Path) -> None:
    with pytest.raises(UserError, match="run directory not found"):
        load_evidence(tmp_path / "nope")
    (run_dir / "metrics.json").write_text('{"overall": ')
    with pytest.raises(UserError, match=r"metrics.json: invalid JSON at line 1"):
        load_evidence(run_dir)


def test_stress_needs_its_tests_list(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no 'tests' list"):
        parse_stress({"casing": 0.2}, tmp_path / "stress.json")


def test_real_eval_output_is_understood(run_dir: Path) -> None:
    """metrics.json sections produced by tuneproof.evaluate itself (not by hand) parse."""
    from tuneproof.evaluate import analyse_failures, summarize_rows
    from tuneproof.evaluate.metrics import slice_positions
    from tuneproof.tasks import get_task

    rows = [json.loads(x) for x in (run_dir / "predictions.jsonl").read_text().splitlines()]
    task = get_task("sequence-classification")
    summary = summarize_rows(
        rows, task.metrics_from_rows, task.main_metric, seed=0, n_resamples=200
    )
    failures = analyse_failures(rows, slice_positions(rows))
    path = run_dir / "metrics.json"
    raw = json.loads(path.read_text())
    raw.update(summary.to_dict())
    raw["eval"]["failures"] = failures.to_dict()
    path.write_text(json.dumps(raw))

    m = load_evidence(run_dir).metrics
    assert m.headline is not None and m.headline.value == pytest.approx(52 / 76)
    assert m.headline.ci is not None and m.headline.ci[0] < 52 / 76 < m.headline.ci[1]
    fr = m.slice("language=fr")
    assert fr is not None and fr.n == 30 and fr.metric("accuracy").value == pytest.approx(0.4)  # type: ignore[union-attr]
    assert m.failures is not None and m.failures.n_errors == 24
    assert {c.name for c in m.failures.categories} >= {"confident_wrong", "near_boundary"}
    assert m.failures.confusion_of("overall") is not None
