"""Issue #13 items 1-4 on the real run directories: the headline is the in-distribution test
split and other distributions are named OOD results beside it (metrics.json, report, model card,
MLflow keys, the summary lines); the card's languages are the training languages; limitations
name the measured gaps; a run that did not follow its plan is flagged in "Why"."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from sklearn.metrics import accuracy_score

from tuneproof.cli.run import headline_lines
from tuneproof.report import build_report
from tuneproof.report.bundle import load_evidence
from tuneproof.report.limitations import draft_limitations, measured_gaps, training_languages
from tuneproof.rundir import Metrics, read
from tuneproof.track import metric_values

from .conftest import metrics, rows


def _front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("---\n")[1])


def _accuracy(subset: list[dict]) -> float:
    return float(accuracy_score([r["gold"] for r in subset], [r["pred"] for r in subset]))


def test_headline_is_the_test_split_and_other_languages_are_ood(run_dir: Path) -> None:
    all_rows = rows(run_dir)
    english = [r for r in all_rows if r["source"] == "test.csv"]
    french = [r for r in all_rows if r["source"] == "extra.csv"]
    assert len(english) == 48 and len(french) == 40 and len(all_rows) == 88
    assert all(r["in_distribution"] for r in english) and not any(
        r["in_distribution"] for r in french
    )
    m = metrics(run_dir)
    # metrics.json: the headline is the English test split alone, French is an OOD result
    assert m["split"] == "test" and m["overall"]["n"] == 48
    assert abs(m["overall"]["accuracy"] - _accuracy(english)) < 1e-12
    assert not any(k == "language=fr" for k in m["slices"])
    assert abs(m["ood"]["extra.csv"]["overall"]["accuracy"] - _accuracy(french)) < 1e-12

    build_report(run_dir)
    report = (run_dir / "report.md").read_text(encoding="utf-8")
    summary = report.split("## 1. Summary", 1)[1].split("## 2.", 1)[0]
    assert (
        f"On the test split (48 rows: test.csv (48)) accuracy is **{_accuracy(english):.4f}**"
        in (summary)
    )
    assert "Out-of-distribution evaluations" in summary
    assert f"`extra.csv` accuracy {_accuracy(french):.4f}" in summary and "n=40" in summary
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "48 rows" in html and "<code>extra.csv</code> accuracy" in html

    card = (run_dir / "model" / "README.md").read_text(encoding="utf-8")
    meta = _front_matter(card)
    results = meta["model-index"][0]["results"]
    assert results[0]["dataset"]["split"] == "test"
    assert results[0]["metrics"][0] == {"type": "accuracy", "value": round(_accuracy(english), 4)}
    ood = [r for r in results if r["dataset"]["name"] == "extra.csv (out-of-distribution)"]
    assert [r["metrics"][0]["value"] for r in ood] == [round(_accuracy(french), 4)]
    assert meta["language"] == ["en"]  # item 2: trained on English only
    assert "### Out-of-distribution evaluations" in card and "| `extra.csv` | 40 |" in card

    # MLflow keys: the headline is test/<metric>; the French file is ood/<name>/<metric>
    keys = metric_values(read(run_dir, Metrics))
    assert abs(keys["test/accuracy"] - _accuracy(english)) < 1e-12 and keys["test/n"] == 48
    assert abs(keys["ood/extra.csv/accuracy"] - _accuracy(french)) < 1e-12
    # the summary sentence of `train` and `demo`
    lines = headline_lines(read(run_dir, Metrics))
    assert lines[0].startswith(f"headline: accuracy {_accuracy(english):.4f}")
    assert "on the test split (in-distribution, n=48)" in lines[0]
    assert lines[1].startswith(f"out-of-distribution extra.csv: accuracy {_accuracy(french):.4f}")


def test_card_languages_are_the_training_languages(run_dir: Path) -> None:
    # evaluated on en (test) and fr (the OOD file): only en was in the training data
    assert training_languages(load_evidence(run_dir)) == ("en",)
    # from the train split's language column when the config names one
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    cfg["data"]["lang_column"] = "lang"
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    train = Path(json.loads((run_dir / "manifest.json").read_text())["data"]["train"]["path"])
    assert {line.rsplit(",", 1)[1] for line in train.read_text().splitlines()[1:]} == {"en"}
    assert training_languages(load_evidence(run_dir)) == ("en",)
    # without either: lingua over a sample of the train texts (English words)
    cfg["data"]["lang_column"] = None
    (run_dir / "config.yaml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
    m = metrics(run_dir)
    m["slices"] = {k: v for k, v in m["slices"].items() if not k.startswith("language=")}
    (run_dir / "metrics.json").write_text(json.dumps(m), encoding="utf-8")
    assert training_languages(load_evidence(run_dir)) == ("en",)


def test_limitations_name_the_largest_measured_gaps(run_dir: Path) -> None:
    m = metrics(run_dir)
    head = m["overall"]
    lo, hi = head["accuracy_ci"]
    # an OOD file at chance (its interval includes the majority-class rate) and an
    # in-distribution slice whose interval lies below the headline's
    ood = m["ood"]["extra.csv"]["overall"]
    ood.update(accuracy=0.5, accuracy_ci=[0.4, lo + 0.01], majority=0.55, small_n=False)
    key = next(iter(m["slices"]))
    m["slices"][key].update(accuracy=lo - 0.3, accuracy_ci=[lo - 0.4, lo - 0.2], small_n=False)
    (run_dir / "metrics.json").write_text(json.dumps(m), encoding="utf-8")
    ev = load_evidence(run_dir)
    gaps = {g.key: g for g in measured_gaps(ev)}
    assert gaps["ood:extra.csv"].chance == 0.55 and not gaps["ood:extra.csv"].below
    assert gaps[key].below
    text = {lim.kind: lim.text for lim in draft_limitations(ev)}["measured-gaps"]
    assert f"headline accuracy {head['accuracy']:.3f} [{lo:.3f}, {hi:.3f}]" in text
    assert (
        f"ood:extra.csv 0.500 [0.400, {lo + 0.01:.3f}] (near chance: the interval includes 0.550)"
        in text
    )
    assert f"{key} {lo - 0.3:.3f} [{lo - 0.4:.3f}, {lo - 0.2:.3f}] (interval below" in text
    assert text.index(key) < text.index("ood:extra.csv")  # the largest shortfall first


def test_no_gap_is_drafted_without_one(run_dir: Path) -> None:
    """The rule fires only on its evidence: recomputed here from metrics.json."""
    m = metrics(run_dir)
    lo = m["overall"]["accuracy_ci"][0]
    blocks = list(m["slices"].values()) + [r["overall"] for r in m["ood"].values()]
    blocks += [b for r in m["ood"].values() for b in r["slices"].values()]
    expected = any(
        b["accuracy_ci"][1] < lo
        or (b.get("majority") is not None and b["accuracy_ci"][0] <= b["majority"])
        for b in blocks
        if b.get("accuracy_ci") and not b["small_n"]
    )
    kinds = {lim.kind for lim in draft_limitations(load_evidence(run_dir))}
    assert ("measured-gaps" in kinds) == expected


def test_why_flags_a_run_that_did_not_follow_its_plan(run_dir: Path) -> None:
    plan = json.loads((run_dir / "plan.json").read_text(encoding="utf-8"))
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    # the fixture planned batch 8 (the plan's default) and trained with 16
    assert plan["batch_size"] == 8 and cfg["training"]["batch_size"] == 16
    assert plan["max_length"] == cfg["data"]["max_length"] == 24
    build_report(run_dir)
    why = (run_dir / "report.md").read_text(encoding="utf-8").split("## 3. Why", 1)[1]
    flag = next(line for line in why.splitlines() if "did not follow its plan" in line)
    assert f"strategy `{cfg['strategy']['kind']}`" in flag or plan["strategy"] == "full"
    assert "batch size `16` (plan.json recommends `8`)" in flag and "max length" not in flag
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "did not follow its plan" in html
    # a run that did what the plan said is not flagged
    plan.update(batch_size=16, strategy=cfg["strategy"]["kind"], gradient_accumulation_steps=1)
    (run_dir / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    build_report(run_dir)
    assert "did not follow its plan" not in (run_dir / "report.md").read_text(encoding="utf-8")


def test_metrics_files_written_before_ood_still_read(tmp_path: Path) -> None:
    """No version bump: a version-1 metrics.json without ``ood``/``majority`` reads as it is."""
    old = {
        "version": 1,
        "task": "sequence-classification",
        "main_metric": "accuracy",
        "split": "test",
        "overall": {"n": 10, "accuracy": 0.8, "accuracy_ci": [0.6, 0.9], "small_n": True},
    }
    (tmp_path / "metrics.json").write_text(json.dumps(old), encoding="utf-8")
    m = read(tmp_path, Metrics)
    assert m.ood == {} and m.overall.majority is None and m.headline is not None
    assert metric_values(m) == {"test/n": 10.0, "test/accuracy": 0.8}
