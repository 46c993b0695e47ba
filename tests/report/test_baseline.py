"""Run vs baseline: config/data/code diffs, per-slice verdicts, refusal of other eval data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneproof.errors import UserError
from tuneproof.report.baseline import compare_to_baseline, config_diff
from tuneproof.report.bundle import load_evidence

from .conftest import set_eval_sha


def _compare(run: Path, base: Path):  # type: ignore[no-untyped-def]
    return compare_to_baseline(load_evidence(run), load_evidence(base))


def test_config_diff_lists_only_changed_added_and_removed_keys() -> None:
    base = {"training": {"lr": 1, "epochs": 3}, "model": {"name": "a"}, "old": 1}
    run = {"training": {"lr": 2, "epochs": 3}, "model": {"name": "a"}, "new": [1, 2]}
    changes = {c.key: (c.baseline, c.run) for c in config_diff(base, run)}
    assert changes == {
        "training.lr": ("1", "2"),
        "old": ("1", "(absent)"),
        "new": ("(absent)", "[1, 2]"),
    }


def test_verdicts_find_the_planted_changes(run_dir: Path, baseline_dir: Path) -> None:
    cmp = _compare(run_dir, baseline_dir)
    verdicts = {v.key: v.verdict for v in cmp.verdicts}
    assert verdicts["language=en"] == "improved"
    assert verdicts["language=fr"] == "regressed"
    assert verdicts["language=de"] == "no evidence"
    fr = cmp.verdict("language=fr")
    assert fr is not None and fr.delta == pytest.approx(0.4 - 0.9)  # read from both metrics.json
    assert fr.paired_delta == pytest.approx(-0.5) and fr.paired_ci is not None
    assert fr.paired_ci[1] < 0 and fr.mcnemar_p is not None and fr.mcnemar_p < 0.01
    assert [v.key for v in cmp.regressions] == ["language=fr"]
    assert [c.key for c in cmp.config_changes] == ["name", "training.learning_rate"]
    assert all(d.same for d in cmp.data_changes)
    assert not cmp.code.same and cmp.same_data.startswith("verified")


def test_numbers_follow_metrics_json_not_predictions(run_dir: Path, baseline_dir: Path) -> None:
    path = run_dir / "metrics.json"
    raw = json.loads(path.read_text())
    raw["slices"]["language=fr"]["accuracy"] = 0.25
    path.write_text(json.dumps(raw))
    fr = _compare(run_dir, baseline_dir).verdict("language=fr")
    assert fr is not None and fr.run == 0.25 and fr.delta == pytest.approx(0.25 - 0.9)


def test_without_predictions_the_slices_are_not_tested(run_dir: Path, baseline_dir: Path) -> None:
    (baseline_dir / "predictions.jsonl").unlink()
    cmp = _compare(run_dir, baseline_dir)
    assert {v.verdict for v in cmp.verdicts} == {"not tested"}
    assert cmp.method.startswith("not tested") and "predictions.jsonl" in cmp.method
    assert cmp.verdict("language=fr").delta == pytest.approx(-0.5)  # type: ignore[union-attr]


def test_baseline_evaluated_on_another_file_is_refused(run_dir: Path, baseline_dir: Path) -> None:
    set_eval_sha(baseline_dir, "c" * 64)
    with pytest.raises(UserError, match=r"baseline was evaluated on different data \(eval data"):
        _compare(run_dir, baseline_dir)


def test_without_eval_section_the_manifest_split_is_compared(
    run_dir: Path, baseline_dir: Path
) -> None:
    for run in (run_dir, baseline_dir):
        path = run / "metrics.json"
        raw = json.loads(path.read_text())
        del raw["eval"]
        path.write_text(json.dumps(raw))
    path = baseline_dir / "manifest.json"
    man = json.loads(path.read_text())
    man["data"]["test"]["sha256"] = "d" * 64
    path.write_text(json.dumps(man))
    with pytest.raises(UserError, match=r"eval data sha256 bbbbbbbbbbbb vs baseline dddddddddddd"):
        _compare(run_dir, baseline_dir)


def test_baseline_with_other_rows_is_refused(run_dir: Path, baseline_dir: Path) -> None:
    path = baseline_dir / "predictions.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")  # one example fewer
    with pytest.raises(UserError, match="1 prediction ids are in only one of the runs") as err:
        _compare(run_dir, baseline_dir)
    assert "\n" not in str(err.value)


def test_the_run_is_not_its_own_baseline(run_dir: Path) -> None:
    ev = load_evidence(run_dir)
    with pytest.raises(UserError, match="the baseline is the run itself"):
        compare_to_baseline(ev, ev)
