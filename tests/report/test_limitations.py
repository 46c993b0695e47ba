"""Limitations drafted from the evidence: each rule fires on its evidence and only then (the
evidence read here from the real run's own files)."""

from __future__ import annotations

import json
from pathlib import Path

from tuneproof.report.baseline import compare_to_baseline
from tuneproof.report.bundle import load_evidence
from tuneproof.report.limitations import HIGH_STRESS_FAILURE, MIN_STEPS, draft_limitations

from .conftest import edit_json, metrics


def _kinds(run: Path, baseline: Path | None = None) -> dict[str, str]:
    ev = load_evidence(run)
    cmp = compare_to_baseline(ev, load_evidence(baseline)) if baseline else None
    return {lim.kind: lim.text for lim in draft_limitations(ev, cmp)}


def _read(run: Path, name: str) -> dict:
    return json.loads((run / name).read_text(encoding="utf-8"))


def test_drafted_from_the_real_run(run_dir: Path, baseline_dir: Path) -> None:
    kinds = _kinds(run_dir, baseline_dir)
    m, man = metrics(run_dir), _read(run_dir, "manifest.json")
    checks, stress = _read(run_dir, "checks.json"), _read(run_dir, "stress.json")

    small = [k for k, s in m["slices"].items() if s.get("small_n")]
    small_ood = [k for k, r in m["ood"].items() if r["overall"].get("small_n")]
    assert ("small-slices" in kinds) == bool(small or small_ood)
    for name in small_ood:
        assert f"ood:{name} (n={m['ood'][name]['overall']['n']}" in kinds["small-slices"]
    for key in small:
        assert f"{key} (n={m['slices'][key]['n']}" in kinds["small-slices"]

    cut = m["eval"]["failures"]["categories"]["truncated"]
    assert kinds["truncation"].startswith(f"{cut['rows']:,} evaluated row(s) are longer")
    assert f"({cut['errors']:,} of them wrong)" in kinds["truncation"]

    errors = [f for f in checks["findings"] if f["severity"] == "error"]
    assert errors, "the planted train row in test is a leakage error"
    assert f"leakage ×{sum(f['check'] == 'leakage' for f in errors)}" in kinds["check-errors"]

    assert f"({man['seed']})" in kinds["single-seed"]
    assert ("cpu-only" in kinds) == (man["hardware"]["cuda"] is False)
    steps = m["training"]["global_step"]
    assert ("few-steps" in kinds) == (steps < MIN_STEPS)

    bad = [t for t in stress["tests"] if (t.get("failure_rate") or 0) > HIGH_STRESS_FAILURE]
    assert ("stress-failures" in kinds) == bool(bad)
    for t in bad:
        assert f"{t['name']} {t['failure_rate']:.0%}" in kinds["stress-failures"]
    regressed = [
        v.key
        for v in compare_to_baseline(load_evidence(run_dir), load_evidence(baseline_dir)).verdicts
        if v.verdict == "regressed"
    ]
    assert ("regressions" in kinds) == bool(regressed)
    assert ("uncommitted-code" in kinds) == bool(man["git"].get("dirty"))


def test_rules_follow_the_evidence(run_dir: Path) -> None:
    edit_json(
        run_dir / "manifest.json",
        hardware__cuda=True,
        hardware__gpus=["NVIDIA H100"],
        git__dirty=True,
        status="failed",
    )
    edit_json(run_dir / "metrics.json", training__global_step=MIN_STEPS + 1)
    edit_json(run_dir / "checks.json", summary__errors=0, findings=[])
    kinds = _kinds(run_dir)
    assert "cpu-only" not in kinds and "check-errors" not in kinds and "few-steps" not in kinds
    assert "uncommitted-code" in kinds and "'failed'" in kinds["incomplete-run"]
    edit_json(run_dir / "metrics.json", training__global_step=3)
    assert _kinds(run_dir)["few-steps"].startswith("Only 3 optimizer steps")


def test_without_an_eval_plan_one_language_is_called_out(run_dir: Path) -> None:
    # en in the headline and fr in the out-of-distribution file: two languages were measured
    assert "one-language" not in _kinds(run_dir)
    edit_json(run_dir / "metrics.json", ood={})
    kinds = _kinds(run_dir)
    assert "languages-without-data" not in kinds
    assert "one language only (en)" in kinds["one-language"]
