"""Limitations drafted from the evidence: each rule fires on its evidence and only then."""

from __future__ import annotations

import json
from pathlib import Path

from tuneproof.report.baseline import compare_to_baseline
from tuneproof.report.bundle import load_evidence
from tuneproof.report.limitations import draft_limitations


def _kinds(run: Path, baseline: Path | None = None) -> dict[str, str]:
    ev = load_evidence(run)
    cmp = compare_to_baseline(ev, load_evidence(baseline)) if baseline else None
    return {lim.kind: lim.text for lim in draft_limitations(ev, cmp)}


def _edit(path: Path, **changes: object) -> None:
    raw = json.loads(path.read_text())
    for dotted, value in changes.items():
        node = raw
        *parents, last = dotted.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    path.write_text(json.dumps(raw))


def test_drafted_from_the_synthetic_run(run_dir: Path, baseline_dir: Path) -> None:
    kinds = _kinds(run_dir, baseline_dir)
    assert "language=de (n=6, plan: 20)" in kinds["small-slices"]
    assert kinds["languages-without-data"].endswith(": ar.")
    assert kinds["truncation"].startswith("3 evaluated row(s) are longer than max_length")
    assert "leakage ×1" in kinds["check-errors"]
    assert "(42)" in kinds["single-seed"]
    assert "2 cores" in kinds["cpu-only"]
    assert "negation 35%" in kinds["stress-failures"] and "casing" not in kinds["stress-failures"]
    assert kinds["regressions"] == "Regressed against the baseline on language=fr."
    assert "few-steps" not in kinds and "uncommitted-code" not in kinds


def test_rules_follow_the_evidence(run_dir: Path) -> None:
    _edit(
        run_dir / "manifest.json",
        hardware__cuda=True,
        hardware__gpus=["NVIDIA H100"],
        seeds=[1, 2, 3],
        git__dirty=True,
    )
    _edit(run_dir / "metrics.json", training__global_step=20)
    _edit(run_dir / "checks.json", summary__errors=0, findings=[])
    kinds = _kinds(run_dir)
    assert "cpu-only" not in kinds and "single-seed" not in kinds and "check-errors" not in kinds
    assert kinds["few-steps"].startswith("Only 20 optimizer steps")
    assert "uncommitted-code" in kinds


def test_without_an_eval_plan_one_language_is_called_out(run_dir: Path) -> None:
    path = run_dir / "metrics.json"
    raw = json.loads(path.read_text())
    del raw["eval"]["plan"]
    raw["slices"] = {
        k: v for k, v in raw["slices"].items() if k not in ("language=fr", "language=de")
    }
    path.write_text(json.dumps(raw))
    kinds = _kinds(run_dir)
    assert "languages-without-data" not in kinds
    assert "one language only (en)" in kinds["one-language"]
    assert "small-slices" not in kinds  # de is gone and no plan minimum applies
