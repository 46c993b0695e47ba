"""Reading a run directory through ``tuneproof.rundir``: what the writers wrote is what the report
sees, absent files are named with their producer, bad files stop it with one line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score

from tuneproof import rundir
from tuneproof.errors import UserError
from tuneproof.report.bundle import (
    curve,
    curves,
    load_evidence,
    slice_keys,
    split_slice_key,
    validation_values,
)

from .conftest import edit_json, metrics, rows


def test_the_evidence_is_the_files_parsed_by_their_schema(run_dir: Path) -> None:
    ev = load_evidence(run_dir)
    assert ev.metrics == rundir.read(run_dir, rundir.Metrics)
    assert ev.manifest == rundir.read(run_dir, rundir.Manifest)
    assert ev.checks == rundir.read(run_dir, rundir.Checks)
    assert ev.stress == rundir.read(run_dir, rundir.Stress)
    assert ev.config == rundir.read_config(run_dir)
    assert ev.predictions is not None and len(ev.predictions) == len(rows(run_dir))
    assert ev.plan_md == (run_dir / "plan.md").read_text(encoding="utf-8")
    assert ev.has_model and ev.name == ev.config.name == "run"  # type: ignore[union-attr]
    # the files the report reads; export/deploy/progress/notes, the human evaluation, the slice
    # finder and the baselines are read by their own sections, a replayed suite by compare; a
    # sweep and the blinding key are not a run's evidence
    other = {rundir.EXPORT, rundir.DEPLOY, rundir.PROGRESS, rundir.NOTES, rundir.HUMANEVAL}
    other |= {rundir.SLICES_FOUND, rundir.BASELINES, rundir.SWEEP, rundir.HUMANEVAL_KEY}
    other.add(rundir.SUITE_RESULTS)
    absent = {n for n in rundir.PRODUCERS if n not in other and not (run_dir / n).exists()}
    assert {m.name for m in ev.missing} == absent


def test_headline_and_slices_agree_with_the_predictions(run_dir: Path) -> None:
    """Independent reference: sklearn on predictions.jsonl gives the numbers eval wrote."""
    ev = load_evidence(run_dir)
    every = rows(run_dir)
    preds = [r for r in every if r["in_distribution"]]  # the headline's rows (the test split)
    head = ev.metrics.headline
    assert head is not None and head.ci is not None
    acc = accuracy_score([r["gold"] for r in preds], [r["pred"] for r in preds])
    assert head.value == pytest.approx(acc) and head.ci[0] <= acc <= head.ci[1]
    assert ev.metrics.overall.n == len(preds) == 48
    inside = [p for p in ev.predictions or () if p.in_distribution]
    tags = Counter(k for p in inside for k in slice_keys(p))
    for key, block in ev.metrics.slices.items():
        name, value = split_slice_key(key)
        members = [r for r in preds if r["slices"].get(name) == value]
        assert block.n == tags[key] == len(members), key
        got = block.get("accuracy")
        assert got is not None
        expected = accuracy_score([r["gold"] for r in members], [r["pred"] for r in members])
        assert got.value == pytest.approx(expected), key
    assert "language=en" in ev.metrics.slices and "language=fr" not in ev.metrics.slices
    french = [r for r in every if not r["in_distribution"]]
    ood = ev.ood["extra.csv"]
    assert ood.overall.n == len(french) == 40 and "language=fr" in ood.slices
    got = ood.overall.get("accuracy")
    assert got is not None and got.value == pytest.approx(
        accuracy_score([r["gold"] for r in french], [r["pred"] for r in french])
    )


def test_failures_and_checks_agree_with_their_rows(run_dir: Path) -> None:
    ev = load_evidence(run_dir)
    preds = rows(run_dir)
    f = ev.failures
    assert f is not None
    assert (f.n_rows, f.n_errors) == (len(preds), sum(r["gold"] != r["pred"] for r in preds))
    truncated = [r for r in preds if r["slices"].get("truncated") == "yes"]
    cat = f.categories["truncated"]
    assert cat.rows == len(truncated)
    assert cat.errors == sum(r["gold"] != r["pred"] for r in truncated)
    assert ev.checks is not None
    by_severity = Counter(x.severity for x in ev.checks.findings)
    s = ev.checks.summary
    assert (s.errors, s.warnings, s.info) == tuple(
        by_severity[k] for k in ("error", "warning", "info")
    )
    leak = [x for x in ev.checks.findings if x.check == "leakage"]
    assert leak and leak[0].severity == "error" and "te-leak" in leak[0].rows


def test_curves_come_from_the_trainer_log(run_dir: Path) -> None:
    history = metrics(run_dir)["history"]
    loss = curve(history, "loss")
    logged = [(e["step"], e["loss"]) for e in history if "loss" in e]
    assert loss is not None and [(p.step, p.value) for p in loss.points] == logged
    assert {c.name for c in curves(history)} >= {"loss", "eval_loss", "eval_accuracy"}


def test_curves_keep_the_first_value_per_step(run_dir: Path) -> None:
    """The Trainer re-evaluates the best model at the last step; that is not training progress."""
    history = metrics(run_dir)["history"]
    before = curve(history, "eval_accuracy")
    assert before is not None
    last = before.points[-1]
    edit_json(
        run_dir / "metrics.json",
        history=[*history, {"eval_loss": 9.9, "eval_accuracy": 0.01, "step": last.step}],
    )
    after = curve(load_evidence(run_dir).metrics.history, "eval_accuracy")
    assert after is not None and after.points == before.points


def test_validation_values_leave_out_bookkeeping(run_dir: Path) -> None:
    raw = metrics(run_dir)["validation"]
    values = {v.name: v.value for v in validation_values(load_evidence(run_dir).metrics)}
    assert "epoch" in raw and "epoch" not in values
    assert values == {k: v for k, v in raw.items() if k not in ("epoch", "step", "n")}


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


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("metrics.json", '{"overall": ', r"metrics.json: invalid JSON at line 1"),
        ("metrics.json", None, r"metrics.json: version 99 is newer than this tuneproof reads"),
        ("stress.json", '{"version": 1, "casing": 0.2}', r"stress.json: casing: Extra inputs"),
        ("checks.json", '{"version": "x"}', r"checks.json: unknown version 'x'"),
        ("manifest.json", "[1, 2]", r"manifest.json: expected a JSON object"),
        ("config.yaml", "training: [", r"config.yaml: invalid YAML"),
    ],
)
def test_a_bad_file_is_one_error_naming_it_and_stays_as_it_was(
    run_dir: Path, name: str, content: str | None, message: str
) -> None:
    path = run_dir / name
    if content is None:
        content = json.dumps({**json.loads(path.read_text(encoding="utf-8")), "version": 99})
    path.write_text(content, encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(UserError, match=message) as err:
        load_evidence(run_dir)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert path.read_bytes() == before


def test_missing_run_dir(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="run directory not found"):
        load_evidence(tmp_path / "nope")
