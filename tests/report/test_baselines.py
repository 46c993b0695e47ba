"""Baselines (#20 item 4) on the real tiny run: each scored on the run's own test rows, paired with
the fine-tuned model (delta, paired CI, McNemar against scipy), written to baselines.json, and the
report opens with "fine-tuned vs the best baseline"."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import binomtest
from typer.testing import CliRunner

from tuneproof import rundir
from tuneproof.cli import app
from tuneproof.evaluate.baselines import fine_tune_verdict, read_verdict, run_baselines
from tuneproof.report import build_report

from .conftest import rows


def _test_rows(run: Path) -> list[dict]:
    return [r for r in rows(run) if r.get("in_distribution") is not False]


def test_baselines_are_paired_with_the_finetuned_model(run_dir: Path, eval_bert_dir: Path) -> None:
    rec = run_baselines(run_dir, encoder=str(eval_bert_dir), n_resamples=300)
    assert [b.name for b in rec.baselines] == ["majority", "tfidf-lr", "embed-lr", "zero-shot"]
    test = _test_rows(run_dir)
    assert rec.n == len(test) == 48
    config = rundir.read_config(run_dir)
    train = pd.read_csv(config.data.train)
    assert rec.train_rows == len(train)
    # majority: the train split's most frequent label, scored on the test rows
    top = Counter(train["label"].astype(str)).most_common(1)[0][0]
    majority = rec.get("majority")
    assert majority is not None
    assert majority.main == pytest.approx(sum(r["gold"] == top for r in test) / len(test))
    ft_acc = sum(r["gold"] == r["pred"] for r in test) / len(test)
    assert rec.finetuned == pytest.approx(ft_acc)
    # McNemar on the discordant rows, from scipy, for the majority baseline
    ft_right = [r["gold"] == r["pred"] for r in test]
    bl_right = [r["gold"] == top for r in test]
    a = sum(f and not b for f, b in zip(ft_right, bl_right, strict=True))
    b = sum(bl and not f for f, bl in zip(ft_right, bl_right, strict=True))
    want = 1.0 if a + b == 0 else binomtest(a, a + b, 0.5).pvalue
    assert majority.mcnemar_p == pytest.approx(want)
    for res in rec.baselines:
        assert res.main is not None and res.main_ci is not None
        assert res.main_ci[0] <= res.main <= res.main_ci[1]
        assert res.delta == pytest.approx(ft_acc - res.main)
        assert res.delta_ci is not None and res.delta_ci[0] <= res.delta <= res.delta_ci[1]
        expected = (
            "fine-tuned better"
            if res.delta_ci[0] > 0
            else "baseline better"
            if res.delta_ci[1] < 0
            else "no evidence"
        )
        assert res.verdict == expected
    assert rec.best == max(rec.baselines, key=lambda r: r.main or 0).name
    # the file and the verdict the strategy selector cites
    assert rundir.read(run_dir, rundir.Baselines).best == rec.best
    verdict = read_verdict(run_dir)
    assert verdict is not None and verdict == fine_tune_verdict(rec)
    assert verdict.best == rec.best and "fine-tuned vs the best baseline" in verdict.sentence
    # the report opens with it
    build_report(run_dir, formats=("md",))
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    summary = md.split("## 1. Summary", 1)[1].split("## 2.", 1)[0]
    assert summary.lstrip().startswith("**Fine-tuned vs the best baseline:**")
    assert f"`{rec.best}`" in summary and "| `tfidf-lr`" in summary


def test_baseline_cli_errors_are_one_line(run_dir: Path) -> None:
    result = CliRunner().invoke(app, ["baseline", str(run_dir), "-b", "svm"])
    assert result.exit_code == 2
    assert "baseline 'svm': unknown" in result.output
    assert "Traceback" not in result.output
    assert not (run_dir / rundir.BASELINES).exists()


def test_slices_find_cli_writes_slices_found(run_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["slices", "find", str(run_dir), "--min-support", "10", "--resamples", "200"]
    )
    assert result.exit_code == 0, result.output
    rec = rundir.read(run_dir, rundir.SlicesFound)
    assert rec.n_rows == 48 and rec.min_support == 10
    assert {"language", "length", "digits", "fertility", "unk"} <= set(rec.dimensions)
    # the toy test rows are all English, unflagged and of one length: no slice has 10 rows on
    # both sides, so nothing is tested and nothing is found (the finder itself is tested on
    # synthetic rows in tests/evaluate/test_slicefinder.py)
    assert rec.n_tested == 0 and rec.found == []
    assert "no slice is significantly weaker" in result.output
    build_report(run_dir, formats=("md",))
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    section = md.split("### Slices found", 1)[1].split("###", 1)[0]
    assert "0 slices tested" in section and "No slice is significantly weaker" in section


def test_train_with_baselines_in_the_config_writes_them(
    eval_bert_dir: Path, report_data: dict[str, Path], tmp_path: Path
) -> None:
    """``baselines:`` in the config: train scores them on its own test rows once it has
    published the run (the path ``tuneproof demo`` takes)."""
    from tuneproof.config import parse_config
    from tuneproof.train import run

    from ..conftest import report_config

    raw = report_config(eval_bert_dir, report_data, name="b", seed=1, lr=5e-3, steps=10)
    raw["checks"] = {"enabled": False}
    raw["baselines"] = ["majority", "tfidf-lr"]
    out = tmp_path / "run"
    run(parse_config(raw), out)
    rec = rundir.read(out, rundir.Baselines)
    assert [b.name for b in rec.baselines] == ["majority", "tfidf-lr"]
    test = _test_rows(out)
    assert rec.n == len(test)
    ft = sum(r["gold"] == r["pred"] for r in test) / len(test)
    assert rec.finetuned == pytest.approx(ft)


def test_baselines_on_a_task_without_them_are_refused_before_training() -> None:
    from tuneproof.config import parse_config
    from tuneproof.errors import UserError

    raw = {
        "task": "token-classification",
        "data": {"train": "t.csv"},
        "baselines": ["majority"],
    }
    with pytest.raises(UserError, match="baselines are for task sequence-classification"):
        parse_config(raw)
