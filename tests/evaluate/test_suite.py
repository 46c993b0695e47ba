"""Regression suites: stress keeps its failing cases, eval replays them, compare pairs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneproof import rundir
from tuneproof.errors import UserError
from tuneproof.evaluate.compare import suite_diff
from tuneproof.evaluate.stress import run_stress
from tuneproof.evaluate.suite import run_suite
from tuneproof.stats import wilson


def test_stress_saves_its_failures_and_the_same_model_fails_them_again(
    run_copy: Path, eval_data: dict[str, Path], tmp_path: Path
):
    suite = tmp_path / "out" / "suite.jsonl"
    report = run_stress(run_copy, eval_data["test"], limit=48, save_suite=suite, seed=0)
    failures = sum(t.failures for t in report.tests)
    assert failures > 0  # the tiny model breaks on casing/typos: something to keep
    cases = rundir.read_suite(suite)
    assert len(cases) == failures
    assert {c.test for c in cases} == {t.name for t in report.tests if t.failures}
    for t in report.tests:
        if t.applicable:
            assert t.failure_ci == pytest.approx(wilson(t.failures, t.applicable))
            assert sum(r.applicable for r in t.by_language.values()) == t.applicable
    stress = rundir.read(run_copy, rundir.Stress)  # the schema reads what stress wrote
    assert {t.name for t in stress.tests} >= {"code_switch", "keyboard_typos", "homoglyphs"}
    replay = run_suite(run_copy, suite)  # same model, same texts: every case fails again
    assert (replay.n_cases, replay.passed, replay.failed) == (failures, 0, failures)
    assert rundir.read(run_copy, rundir.SuiteResults).suite_sha256 == replay.suite_sha256


def _results(passed: dict[str, bool], sha: str = "s") -> rundir.SuiteResults:
    cases = [
        rundir.SuiteOutcome(id=i, test="casing", kind="invariance", passed=ok,
                            pred_original="pos", pred_edited="pos" if ok else "neg",
                            p_original=0.9, p_edited=0.8)
        for i, ok in passed.items()
    ]  # fmt: skip
    n_ok = sum(passed.values())
    return rundir.SuiteResults(suite="suite.jsonl", suite_sha256=sha, n_cases=len(cases),
                               passed=n_ok, failed=len(cases) - n_ok, cases=cases)  # fmt: skip


def test_compare_lists_cases_fixed_and_newly_broken(tmp_path: Path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    rundir.write(b, _results({"1~casing": False, "2~casing": True, "3~casing": False}))
    rundir.write(a, _results({"1~casing": True, "2~casing": False, "3~casing": False}))
    d = suite_diff(a, b)
    assert d is not None
    assert (d.fixed, d.broken, d.still_failing, d.n_common) == (["1~casing"], ["2~casing"], 1, 3)
    rundir.write(a, _results({"1~casing": True}, sha="other"))
    other = suite_diff(a, b)
    assert other is not None and other.note and not other.fixed
    assert suite_diff(a, tmp_path) is None  # a run that replayed no suite


def test_a_bad_suite_line_names_the_file_and_line(tmp_path: Path):
    path = tmp_path / "suite.jsonl"
    good = {"id": "1~casing", "row": "1", "test": "casing", "kind": "invariance",
            "original": "a", "edited": "A"}  # fmt: skip
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "kind": "sideways"}) + "\n")
    with pytest.raises(UserError, match=r"suite.jsonl: line 2: kind"):
        rundir.read_suite(path)
    path.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    with pytest.raises(UserError, match="appears twice"):
        rundir.read_suite(path)
