"""`tuneproof eval` on a tiny trained run: files, agreement with predictions.jsonl, bad input."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.data.load import sha256_file
from tuneproof.evaluate.metrics import summarize
from tuneproof.evaluate.run import evaluate_run
from tuneproof.io import read_json, read_jsonl

from .conftest import toy_rows, write_csv

runner = CliRunner()


def recompute(rows: list[dict]) -> dict[str, float]:
    labels = sorted({r["gold"] for r in rows} | {r["pred"] for r in rows})
    gold = [r["gold"] for r in rows]
    pred = [r["pred"] for r in rows]
    return {
        "accuracy": accuracy_score(gold, pred),
        "macro_f1": f1_score(gold, pred, average="macro", labels=labels, zero_division=0),
    }


def cli_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.rstrip("\n").splitlines()  # no blank line before it
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_eval_writes_slices_that_agree_with_the_predictions(run_copy, eval_data):
    """The run's own test split is the headline; the French file is a named out-of-distribution
    result beside it, never pooled into ``overall``/``slices`` (#13 item 1)."""
    train_metrics = read_json(run_copy / "metrics.json")
    result = runner.invoke(
        app,
        ["eval", str(run_copy), "--data", str(eval_data["test"]), "--data",
         str(eval_data["extra"]), "--lang-column", "lang", "--resamples", "500"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "language=en" in result.stdout
    assert "out-of-distribution extra.csv: n=40" in result.stdout

    metrics = read_json(run_copy / "metrics.json")
    rows = read_jsonl(run_copy / "predictions.jsonl")
    assert len(rows) == 48 + 40  # every row is kept, OOD ones marked
    in_rows = [r for r in rows if r["in_distribution"]]
    ood_rows = [r for r in rows if not r["in_distribution"]]
    assert {r["source"] for r in in_rows} == {"test.csv"}
    assert {r["source"] for r in ood_rows} == {"extra.csv"}
    assert metrics["overall"]["n"] == 48  # the headline: the English test split only
    # the training sections survive the evaluation
    assert metrics["history"] == train_metrics["history"]
    assert metrics["training"] == train_metrics["training"]
    assert metrics["split"] == "test" and metrics["main_metric"] == "accuracy"
    assert [d["sha256"] for d in metrics["eval"]["data"]] == [sha256_file(eval_data["test"])]
    assert rows[0]["id"] == "te0"  # file order, not length order

    # every number in metrics.json is recomputable from predictions.jsonl
    for name, value in recompute(in_rows).items():
        assert metrics["overall"][name] == pytest.approx(value)
    assert metrics["overall"]["majority"] == pytest.approx(
        max(sum(r["gold"] == g for r in in_rows) for g in ("pos", "neg")) / 48
    )
    ood = metrics["ood"]["extra.csv"]
    assert ood["data"]["sha256"] == sha256_file(eval_data["extra"]) and ood["overall"]["n"] == 40
    for name, value in recompute(ood_rows).items():
        assert ood["overall"][name] == pytest.approx(value)
    assert ood["slices"]["language=fr"]["n"] == 40

    for subset, slices in ((in_rows, metrics["slices"]), (ood_rows, ood["slices"])):
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in subset:
            for dim, val in r["slices"].items():
                groups[f"{dim}={val}"].append(r)
        assert set(groups) == set(slices)
        for key, members in groups.items():
            s = slices[key]
            assert s["n"] == len(members)
            for name, value in recompute(members).items():
                assert s[name] == pytest.approx(value), key
                lo, hi = s[f"{name}_ci"]
                assert lo <= s[name] + 1e-12 and s[name] <= hi + 1e-12
            assert s["small_n"] == (len(members) < 30 or min(
                sum(m["gold"] == m["pred"] for m in members),
                sum(m["gold"] != m["pred"] for m in members),
            ) < 5)  # fmt: skip
    assert "language=fr" not in metrics["slices"]  # never pooled into the headline
    assert metrics["slices"]["domain=books"]["n"] == 16  # categorical column, detected
    # length is in tokens of the model's tokenizer, special tokens included
    n_tokens = {r["token_stats"]["n"] for r in rows}
    assert min(n_tokens) >= 6 + 2
    trunc = [r for r in rows if r["slices"]["truncated"] == "yes"]
    assert all(r["token_stats"]["n"] > 8 for r in trunc) and trunc  # max_length 8 in the config
    assert all(r["token_stats"]["n"] <= 8 for r in rows if r not in trunc)

    failures = metrics["eval"]["failures"]  # the failure analysis covers every row
    assert failures["n_errors"] == sum(r["gold"] != r["pred"] for r in rows)
    cm = np.array(failures["confusion"]["language=fr"]["matrix"])
    assert cm.sum() == 40
    md = (run_copy / "slices.md").read_text(encoding="utf-8")
    assert "| language=en | 48 |" in md and "## Failure categories" in md
    assert "## Out-of-distribution evaluations" in md and "| extra.csv | 40 |" in md


def test_ood_only_eval_keeps_the_headline_and_declared_files_join_it(run_copy, eval_data):
    """An evaluation of an OOD file alone does not replace the in-distribution headline; a file
    declared in-distribution (``--in-distribution``) counts towards it."""
    first = evaluate_run(run_copy, [eval_data["test"]], lang_column="lang", n_resamples=200)
    assert first.metrics.split == "test" and first.metrics.overall.n == 48
    evaluate_run(run_copy, [eval_data["extra"]], lang_column="lang", n_resamples=200)
    after = read_json(run_copy / "metrics.json")
    assert after["overall"] == first.metrics.overall.as_dict()
    assert after["split"] == "test" and after["ood"]["extra.csv"]["overall"]["n"] == 40
    rows = read_jsonl(run_copy / "predictions.jsonl")
    assert len(rows) == 88 and sum(r["in_distribution"] for r in rows) == 48

    declared = runner.invoke(
        app,
        ["eval", str(run_copy), "--data", str(eval_data["test"]), "--data",
         str(eval_data["extra"]), "--lang-column", "lang", "--in-distribution", "extra.csv"],
    )  # fmt: skip
    assert declared.exit_code == 0, declared.output
    pooled = read_json(run_copy / "metrics.json")
    assert pooled["overall"]["n"] == 88 and pooled["ood"] == {} and pooled["split"] == "eval"
    wrong = runner.invoke(
        app, ["eval", str(run_copy), "--data", str(eval_data["test"]), "--in-distribution", "x"]
    )
    assert "--in-distribution x: no evaluated file has that name" in cli_error(wrong)


def test_metrics_json_is_reproduced_from_predictions_jsonl_alone(run_copy, eval_data):
    """Points, intervals, sizes and small-n flags: `summarize` on predictions.jsonl's
    in-distribution rows with the recorded seed and resamples gives metrics.json's overall and
    slices exactly (the majority-class rates are counted from the same rows)."""
    result = runner.invoke(
        app,
        ["eval", str(run_copy), "--data", str(eval_data["test"]), "--data",
         str(eval_data["extra"]), "--lang-column", "lang", "--resamples", "300", "--seed", "11"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = read_json(run_copy / "metrics.json")
    rows = [r for r in read_jsonl(run_copy / "predictions.jsonl") if r["in_distribution"]]
    assert metrics["eval"]["seed"] == 11 and metrics["eval"]["n_resamples"] == 300
    again = summarize(
        rows,
        metrics["task"],
        seed=metrics["eval"]["seed"],
        n_resamples=metrics["eval"]["n_resamples"],
        confidence=metrics["eval"]["confidence"],
        main_metric=metrics["main_metric"],
    )

    def without_baseline(block: dict) -> dict:
        return {k: v for k, v in block.items() if k not in ("majority", "n_classes")}

    assert again["overall"] == without_baseline(metrics["overall"])
    assert again["slices"] == {k: without_baseline(v) for k, v in metrics["slices"].items()}
    # the documented schema: name=value keys, n, <metric>, <metric>_ci = [lo, hi], small_n
    for key, s in metrics["slices"].items():
        name, _, value = key.partition("=")
        assert name and value and all(r["slices"].get(name) is not None for r in rows)
        assert set(s) == {
            "n", "accuracy", "accuracy_ci", "macro_f1", "macro_f1_ci", "small_n", "majority",
            "n_classes",
        }  # fmt: skip
        assert len(s["accuracy_ci"]) == 2
    assert "language=en" in metrics["slices"]
    assert "language=fr" in metrics["ood"]["extra.csv"]["slices"]


def test_default_data_is_the_runs_test_split_and_results_are_seeded(run_copy, tmp_path):
    a = evaluate_run(run_copy, write=False, n_resamples=300)
    b = evaluate_run(run_copy, write=False, n_resamples=300)
    assert a.metrics.split == "test" and a.summary.overall.n == 48
    assert a.metrics.slices == b.metrics.slices
    assert not (run_copy / "slices.md").exists()  # write=False writes nothing
    # language detected (no column given here): the toy texts are English words
    assert a.summary.slices["language=en"].n >= 40


def test_eval_with_a_plan_reports_coverage(run_copy, eval_data, tmp_path):
    plan = tmp_path / "plan.yaml"
    made = runner.invoke(
        app, ["evalplan", "--languages", "en,fr", "--width", "0.2", "-o", str(plan)]
    )
    assert made.exit_code == 0, made.output
    result = evaluate_run(
        run_copy, [eval_data["test"], eval_data["extra"]], lang_column="lang", plan=plan
    )
    checks = {c.key: c for c in result.plan or []}
    assert checks["language=fr"].n == 40 and checks["language=fr"].min_examples == 30
    assert checks["language=fr"].met and not checks["code_switching=yes"].met
    assert result.metrics.eval.plan[0].key == "language=en"
    assert "## Evaluation plan" in (run_copy / "slices.md").read_text(encoding="utf-8")


def test_missing_label_column_is_one_line_exit_2(run_copy, tmp_path):
    rows = [{k: v for k, v in r.items() if k != "label"} for r in toy_rows(5, 1, "x")]
    bad = write_csv(tmp_path / "nolabel.csv", rows)
    message = cli_error(runner.invoke(app, ["eval", str(run_copy), "--data", str(bad)]))
    assert "nolabel.csv" in message and "no column 'label'" in message
    fixed = runner.invoke(  # the override names another column that does not exist either
        app, ["eval", str(run_copy), "--data", str(bad), "--label-column", "gold"]
    )
    assert "no column 'gold'" in cli_error(fixed)


def test_unknown_label_names_the_file_row(run_copy, tmp_path):
    rows = toy_rows(6, 1, "x")
    rows[4]["label"] = "meh"
    bad = write_csv(tmp_path / "odd.csv", rows)
    message = cli_error(runner.invoke(app, ["eval", str(run_copy), "--data", str(bad)]))
    assert "odd.csv: row 4: label 'meh'" in message and "not trained on it" in message


def test_run_without_model_and_missing_lang_column(run_copy, eval_data):
    message = cli_error(
        runner.invoke(app, ["eval", str(run_copy), "--data", str(eval_data["test"]),
                            "--lang-column", "language"])
    )  # fmt: skip
    assert "no column 'language' (did you mean 'lang'?)" in message
    shutil.rmtree(run_copy / "model")
    message = cli_error(runner.invoke(app, ["eval", str(run_copy)]))
    assert "no trained model" in message
    assert "run directory not found" in cli_error(runner.invoke(app, ["eval", str(run_copy / "x")]))
    (run_copy / "config.yaml").unlink()
    assert "not a tuneproof run" in cli_error(runner.invoke(app, ["eval", str(run_copy)]))


def test_stress_cli_writes_stress_json(run_copy):
    result = runner.invoke(app, ["stress", str(run_copy), "--limit", "24"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    report = json.loads((run_copy / "stress.json").read_text(encoding="utf-8"))
    tests = {t["name"]: t for t in report["tests"]}
    assert report["n_rows"] == 24
    assert tests["casing"]["applicable"] == 24 and tests["emoji"]["applicable"] == 24
    assert tests["diacritics"]["applicable"] == 0  # the toy texts have no accents
    assert 0 < tests["negation"]["applicable"] < 24  # only rows with a copula and no negation
    for t in report["tests"]:
        for ex in t["examples"]:
            if t["kind"] == "invariance":
                assert ex["pred_before"] != ex["pred_after"]
            else:
                assert ex["p_after"] >= ex["p_before"]
    assert "casing" in result.stdout
