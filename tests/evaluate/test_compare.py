"""`compare`: a planted regression on one slice is flagged, unchanged slices are not; refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from tuneproof import io, rundir
from tuneproof.cli import app
from tuneproof.errors import UserError
from tuneproof.evaluate.compare import compare_runs, config_diff, mcnemar_p

runner = CliRunner()
LANGS = ("en", "fr", "de")


def base_rows(n_per_lang: int = 300, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for lang in LANGS:
        for i in range(n_per_lang):
            gold = "pos" if rng.random() < 0.5 else "neg"
            wrong = rng.random() < 0.2
            pred = ("neg" if gold == "pos" else "pos") if wrong else gold
            rows.append(
                {
                    "id": f"{lang}-{i}",
                    "source": f"{lang}.csv",
                    "text": f"text {lang} {i}",
                    "gold": gold,
                    "pred": pred,
                    "slices": {"language": lang, "length": "0-16" if i % 2 else "16-32"},
                }
            )
    return rows


def plant_regression(rows: list[dict], lang: str, share: float, seed: int = 1) -> list[dict]:
    """Turn ``share`` of the right predictions on one language wrong."""
    rng = np.random.default_rng(seed)
    out = []
    for r in rows:
        r = dict(r)
        if r["slices"]["language"] == lang and r["pred"] == r["gold"] and rng.random() < share:
            r["pred"] = "neg" if r["gold"] == "pos" else "pos"
        out.append(r)
    return out


def write_run(path: Path, rows: list[dict], lr: float = 5e-5) -> Path:
    path.mkdir(parents=True)
    cfg = {"task": "sequence-classification", "data": {"train": "t.csv"}}
    cfg["training"] = {"learning_rate": lr}
    (path / "config.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    io.write_jsonl(path / "predictions.jsonl", rows)
    write_metrics(path)
    return path


def write_metrics(path: Path, eval_files: list[dict] | None = None) -> None:
    """A metrics.json as the writers make it (through the one schema)."""
    record = rundir.Metrics(
        task="sequence-classification",
        main_metric="accuracy",
        split="eval",
        overall=rundir.MetricBlock(),
        eval=rundir.EvalInfo(data=[rundir.DataRef(**d) for d in eval_files])
        if eval_files
        else None,
    )
    rundir.write(path, record)


def test_planted_regression_on_one_slice_is_flagged(tmp_path):
    base = base_rows()
    b = write_run(tmp_path / "b", base)
    a = write_run(tmp_path / "a", plant_regression(base, "fr", 0.3), lr=1e-3)
    result = compare_runs(a, b, seed=0)
    verdicts = {s.key: s.verdict for s in result.slices}
    assert verdicts["language=fr"] == "regressed"
    assert verdicts["language=en"] == verdicts["language=de"] == "no evidence"
    fr = next(s for s in result.slices if s.key == "language=fr")
    assert fr.main.delta < 0 and fr.main.delta_ci[1] < 0
    assert fr.mcnemar_p is not None and fr.mcnemar_p < 1e-6
    en = next(s for s in result.slices if s.key == "language=en")
    assert en.main.delta == 0 and en.main.delta_ci == (0.0, 0.0) and en.mcnemar_p == 1.0
    assert [(c.key, c.a, c.b) for c in result.config_diff] == [
        ("training.learning_rate", 1e-3, 5e-5)
    ]

    gate = runner.invoke(app, ["compare", str(b), str(a), "--fail-on-regression", "--json"])
    assert gate.exit_code == 1
    payload = json.loads(gate.output)
    assert payload["regressed"] == [k for k in payload["slices"] if k in payload["regressed"]]
    assert "language=fr" in payload["regressed"] and "language=en" not in payload["regressed"]
    assert payload["baseline"] == str(b)


def churn(rows: list[dict], lang: str, k: int) -> list[dict]:
    """On one language, make ``k`` right predictions wrong and ``k`` wrong ones right."""
    out = [dict(r) for r in rows]
    right = [r for r in out if r["slices"]["language"] == lang and r["pred"] == r["gold"]][:k]
    wrong = [r for r in out if r["slices"]["language"] == lang and r["pred"] != r["gold"]][:k]
    assert len(right) == len(wrong) == k
    for r in right:
        r["pred"] = "neg" if r["gold"] == "pos" else "pos"
    for r in wrong:
        r["pred"] = r["gold"]
    return out


def test_unchanged_accuracy_with_different_predictions_is_no_evidence(tmp_path):
    """Predictions that change without changing the score (balanced churn) are not flagged,
    while the planted regression next to them is, and the CLI without the gate exits 0."""
    base = base_rows()
    b = write_run(tmp_path / "b", base)
    a = write_run(tmp_path / "a", churn(plant_regression(base, "fr", 0.3), "en", 20))
    result = compare_runs(a, b, seed=0)
    by_key = {s.key: s for s in result.slices}
    en = by_key["language=en"]
    assert en.verdict == "no evidence"
    assert en.main.delta == 0 and en.main.delta_ci[0] < 0 < en.main.delta_ci[1]
    assert en.mcnemar_p == 1.0  # 20 discordant pairs each way
    assert by_key["language=de"].verdict == "no evidence"
    assert by_key["language=fr"].verdict == "regressed"
    assert by_key["overall"].verdict == "regressed"

    shown = runner.invoke(app, ["compare", str(b), str(a)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output  # no gate: regressions are reported, not fatal
    summary = next(line for line in shown.stdout.splitlines() if " regressed (" in line)
    assert "language=fr" in summary and "language=en" not in summary


def test_an_improvement_is_not_a_regression(tmp_path):
    base = plant_regression(base_rows(), "de", 0.3)
    b = write_run(tmp_path / "b", base)
    a = write_run(tmp_path / "a", base_rows())  # A fixes what B got wrong on de
    result = compare_runs(a, b)
    assert {s.key for s in result.improvements} >= {"language=de"}
    assert result.regressions == []
    ok = runner.invoke(app, ["compare", str(b), str(a), "--fail-on-regression"])
    assert ok.exit_code == 0, ok.output


def test_different_rows_are_refused_with_the_reason(tmp_path):
    base = base_rows(50)
    b = write_run(tmp_path / "b", base)
    a = write_run(tmp_path / "a", base[:-3])
    with pytest.raises(UserError, match=r"different data: 3 rows only in .*b \(e\.g\. 'de-47'"):
        compare_runs(a, b)
    changed = [dict(r) for r in base]
    changed[5]["text"] = "another text"
    c = write_run(tmp_path / "c", changed)
    with pytest.raises(UserError, match=r"row 'en-5' of en\.csv has a different text"):
        compare_runs(c, b)


def test_different_eval_files_are_named(tmp_path):
    rows = base_rows(20)
    a = write_run(tmp_path / "a", rows)
    b = write_run(tmp_path / "b", rows)
    write_metrics(a, [{"name": "fr.csv", "sha256": "1"}])
    write_metrics(b, [{"name": "fr-v2.csv", "sha256": "2"}])
    result = runner.invoke(app, ["compare", str(a), str(b)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "only" in lines[0] and "fr-v2.csv" in lines[0]


def test_mcnemar_matches_the_exact_binomial():
    from scipy.stats import binom

    a = np.array([1] * 10 + [0] * 2 + [1] * 50)
    b = np.array([0] * 10 + [1] * 2 + [1] * 50)
    expected = min(1.0, 2 * binom.cdf(2, 12, 0.5))
    assert mcnemar_p(a, b) == pytest.approx(expected)
    assert mcnemar_p(a, a) == 1.0


def test_config_diff_flattens_nested_keys():
    diff = config_diff({"a": {"b": 1, "c": 2}, "x": 1}, {"a": {"b": 1, "c": 3}, "y": 2})
    assert [(d.key, d.a, d.b) for d in diff] == [("a.c", 2, 3), ("x", 1, None), ("y", None, 2)]


def test_n_runs_against_one_baseline_in_one_table(tmp_path):
    base = base_rows()
    b = write_run(tmp_path / "base", base)
    worse = write_run(tmp_path / "worse", plant_regression(base, "fr", 0.3), lr=1e-3)
    same = write_run(tmp_path / "same", base)
    fixed = write_run(tmp_path / "fixed", base)
    args = ["compare", str(b), str(worse), str(same), str(fixed)]
    shown = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    header = next(
        line for line in shown.stdout.splitlines() if "baseline" in line and "slice" in line
    )
    assert all(name in header for name in ("worse", "same", "fixed"))
    fr = next(
        line for line in shown.stdout.splitlines() if line.strip("│ ").startswith("language=fr")
    )
    assert fr.count("regressed") == 1 and fr.count("no evidence") == 2
    assert f"{same}: 0 regressed" in shown.stdout and f"{worse}: 0 regressed" not in shown.stdout

    gate = runner.invoke(app, [*args, "--json", "--fail-on-regression"])
    assert gate.exit_code == 1
    payload = json.loads(gate.output)
    assert payload["baseline"] == str(b)
    assert [c["run_a"] for c in payload["comparisons"]] == [str(worse), str(same), str(fixed)]
    assert "language=fr" in payload["comparisons"][0]["regressed"]
    assert payload["comparisons"][1]["regressed"] == []

    # --baseline picks the baseline wherever it is in the list
    moved = runner.invoke(app, ["compare", str(worse), str(b), "--baseline", str(b), "--json"])
    assert json.loads(moved.output)["baseline"] == str(b)
    alone = runner.invoke(app, ["compare", str(b)])
    assert alone.exit_code == 2 and "at least one run" in alone.stderr
