"""Run vs baseline on two real runs: config/data/code diffs, per-slice verdicts checked against an
exact McNemar test computed here on the paired rows, refusal of other eval data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from scipy.stats import binomtest

from tuneproof.errors import UserError
from tuneproof.report.baseline import compare_to_baseline, config_diff
from tuneproof.report.bundle import load_evidence

from .conftest import edit_json, metrics, rows


def _compare(run: Path, base: Path):  # type: ignore[no-untyped-def]
    return compare_to_baseline(load_evidence(run), load_evidence(base))


def paired(run: Path, base: Path) -> dict[str, tuple[int, int, int]]:
    """Per slice key (and ``overall``): (n, run right & baseline wrong, baseline right & run wrong),
    from the two predictions.jsonl files matched on (source, id)."""
    a = {(r["source"], r["id"]): r for r in rows(run)}
    b = {(r["source"], r["id"]): r for r in rows(base)}
    assert a.keys() == b.keys()
    out: dict[str, list[int]] = {}
    for key, ra in a.items():
        rb = b[key]
        right_a, right_b = ra["gold"] == ra["pred"], rb["gold"] == rb["pred"]
        # the headline and its slices are the in-distribution rows; an OOD file is one group
        groups = (
            ["overall", *(f"{k}={v}" for k, v in ra["slices"].items())]
            if ra["in_distribution"]
            else [f"ood:{ra['source']}"]
        )
        for group in groups:
            n, only_a, only_b = out.setdefault(group, [0, 0, 0])
            out[group] = [
                n + 1,
                only_a + (right_a and not right_b),
                only_b + (right_b and not right_a),
            ]
    return {k: (n, x, y) for k, (n, x, y) in out.items()}


def test_config_diff_lists_only_changed_added_and_removed_keys() -> None:
    base = {"training": {"lr": 1, "epochs": 3}, "model": {"name": "a"}, "old": 1}
    run = {"training": {"lr": 2, "epochs": 3}, "model": {"name": "a"}, "new": [1, 2]}
    changes = {c.key: (c.baseline, c.run) for c in config_diff(base, run)}
    assert changes == {
        "training.lr": ("1", "2"),
        "old": ("1", "(absent)"),
        "new": ("(absent)", "[1, 2]"),
    }


def test_verdicts_agree_with_an_exact_mcnemar_test_on_the_paired_rows(
    run_dir: Path, baseline_dir: Path
) -> None:
    cmp = _compare(run_dir, baseline_dir)
    reference = paired(run_dir, baseline_dir)
    tested = [v for v in cmp.verdicts if v.verdict != "not tested"]
    assert {v.key for v in tested} == set(reference)
    for v in tested:
        n, only_run, only_base = reference[v.key]
        assert v.n == n, v.key
        # the paired accuracy difference is (run-only right - baseline-only right) / n
        assert v.paired_delta == pytest.approx((only_run - only_base) / n), v.key
        p = binomtest(only_run, only_run + only_base, 0.5).pvalue if only_run + only_base else 1.0
        assert v.mcnemar_p == pytest.approx(p), v.key
        if n < 10:  # a degenerate bootstrap (1-2 rows); the report marks such slices small n
            pass
        elif v.verdict == "improved":
            assert only_run > only_base and p < 0.25, v.key
        elif v.verdict == "regressed":
            assert only_base > only_run and p < 0.25, v.key
        else:
            assert v.verdict == "no evidence" and p > 0.005, v.key
        assert v.paired_ci is not None and v.paired_ci[0] <= v.paired_delta <= v.paired_ci[1]
    assert [v.key for v in cmp.regressions] == [v.key for v in tested if v.verdict == "regressed"]
    assert any(v.verdict != "no evidence" for v in tested), "the runs should differ somewhere"


def test_diffs_come_from_the_two_runs_files(run_dir: Path, baseline_dir: Path) -> None:
    cmp = _compare(run_dir, baseline_dir)
    flat = {}
    for run in (baseline_dir, run_dir):
        cfg = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
        flat[run] = {
            f"{s}.{k}": v for s, d in cfg.items() if isinstance(d, dict) for k, v in d.items()
        }
        flat[run]["name"] = cfg["name"]
    changed = {k for k in flat[run_dir] if flat[run_dir][k] != flat[baseline_dir].get(k)}
    assert {c.key for c in cmp.config_changes} == changed
    assert {"name", "training.learning_rate", "training.seed", "training.max_steps"} <= changed
    assert all(d.same for d in cmp.data_changes)  # the same files, fingerprinted by both runs
    assert cmp.same_data.startswith("verified")
    # the values beside the verdicts are each run's own metrics.json
    en_run, en_base = (
        metrics(r)["slices"]["language=en"]["accuracy"] for r in (run_dir, baseline_dir)
    )
    en = cmp.verdict("language=en")
    assert en is not None and (en.run, en.baseline) == (en_run, en_base)
    fr_run, fr_base = (
        metrics(r)["ood"]["extra.csv"]["overall"]["accuracy"] for r in (run_dir, baseline_dir)
    )
    fr = cmp.verdict("ood:extra.csv")  # the French file: an out-of-distribution group
    assert fr is not None and (fr.run, fr.baseline, fr.n) == (fr_run, fr_base, 40)


def test_numbers_follow_metrics_json_not_predictions(run_dir: Path, baseline_dir: Path) -> None:
    raw = metrics(run_dir)
    raw["slices"]["language=en"]["accuracy"] = 0.25
    edit_json(run_dir / "metrics.json", slices=raw["slices"])
    base = metrics(baseline_dir)["slices"]["language=en"]["accuracy"]
    fr = _compare(run_dir, baseline_dir).verdict("language=en")
    assert fr is not None and fr.run == 0.25 and fr.delta == pytest.approx(0.25 - base)


def test_without_predictions_the_slices_are_not_tested(run_dir: Path, baseline_dir: Path) -> None:
    (baseline_dir / "predictions.jsonl").unlink()
    cmp = _compare(run_dir, baseline_dir)
    assert {v.verdict for v in cmp.verdicts} == {"not tested"}
    assert cmp.method.startswith("not tested") and "predictions.jsonl" in cmp.method


def test_baseline_evaluated_on_another_file_is_refused(run_dir: Path, baseline_dir: Path) -> None:
    data = metrics(baseline_dir)["eval"]["data"]
    data[0]["sha256"] = "c" * 64
    edit_json(baseline_dir / "metrics.json", eval__data=data)
    with pytest.raises(UserError, match=r"baseline was evaluated on different data \(eval data"):
        _compare(run_dir, baseline_dir)


def test_without_eval_section_the_manifest_split_is_compared(
    run_dir: Path, baseline_dir: Path
) -> None:
    for run in (run_dir, baseline_dir):  # as `tuneproof train` alone writes it: the test split
        raw = metrics(run)
        del raw["eval"]
        raw["split"] = "test"
        (run / "metrics.json").write_text(json.dumps(raw), encoding="utf-8")
    edit_json(baseline_dir / "manifest.json", data__test__sha256="d" * 64)
    with pytest.raises(UserError, match=r"eval data sha256 \w{12} vs baseline dddddddddddd"):
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
