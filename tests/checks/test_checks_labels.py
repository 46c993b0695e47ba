"""label_issue (cleanlab on out-of-fold probabilities) and class_imbalance."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from tuneproof.checks import CheckOptions, Finding, check_data


def findings(splits: dict[str, pd.DataFrame], *checks: str, **opts: object) -> list[Finding]:
    report = check_data(
        splits, text_column="text", label_column="label", id_column="id",
        options=CheckOptions(only=checks, **opts),  # type: ignore[arg-type]
    )  # fmt: skip
    return list(report.findings)


def test_every_flipped_label_is_found_with_the_true_label_suggested(gen: SimpleNamespace) -> None:
    df, truth = gen.flipped_dataset()
    issues = [f for f in findings({"train": df}, "label_issue") if f.rows]
    flagged = {f.rows[0]: f for f in issues}
    assert set(truth) <= set(flagged)
    for row, true_label in truth.items():
        assert f"suggested '{true_label}'" in flagged[row].detail
    assert len(flagged) <= len(truth) + 3  # few false alarms on learnable data
    scores = [f.score for f in issues]
    assert scores == sorted(scores, reverse=True)  # ranked, most likely wrong first
    warn_at = CheckOptions().label_issue_warning
    assert all((f.severity == "warning") == (f.score >= warn_at) for f in issues)


def test_clean_learnable_labels_raise_no_warning(gen: SimpleNamespace) -> None:
    df, _ = gen.flipped_dataset(flips=0)
    out = findings({"train": df}, "label_issue")
    assert all(f.severity == "info" for f in out)
    summary = next(f for f in out if not f.rows)
    assert "out-of-fold accuracy" in summary.detail


def test_label_issues_are_found_in_test_rows_too(gen: SimpleNamespace) -> None:
    df, truth = gen.flipped_dataset(n=360, flips=10)
    splits = {"train": df.iloc[:300], "test": df.iloc[300:].reset_index(drop=True)}
    flagged = {(f.split, f.rows[0]) for f in findings(splits, "label_issue") if f.rows}
    test_ids = set(splits["test"].id)
    expected = {("test" if r in test_ids else "train", r) for r in truth}
    assert expected <= flagged


def test_label_issue_says_why_it_did_not_run_on_tiny_data(gen: SimpleNamespace) -> None:
    import random

    df = pd.DataFrame(gen.base_rows(12, random.Random(0), "r"))
    (only,) = findings({"train": df}, "label_issue")
    assert only.severity == "info" and only.detail.startswith("not run")


def test_class_imbalance_warns_below_a_tenth(gen: SimpleNamespace) -> None:
    import random

    rows = gen.base_rows(200, random.Random(1), "r")
    pos = [r for r in rows if r["label"] == "pos"]
    neg = [r for r in rows if r["label"] == "neg"][:8]
    out = findings({"train": pd.DataFrame(pos + neg)}, "class_imbalance")
    assert [f.severity for f in out] == ["warning"]
    assert "'neg' 8" in out[0].detail and out[0].score > 0.9
    balanced = findings({"train": pd.DataFrame(rows)}, "class_imbalance")
    assert balanced == []


def test_an_empty_label_is_refused_not_a_class(gen: SimpleNamespace) -> None:
    """One validation path (issue 12): `check`, `train` and `eval` refuse a blank label alike."""
    import random

    from tuneproof.errors import UserError

    train = pd.DataFrame(gen.base_rows(20, random.Random(3), "tr"))
    train.loc[train.index[0], "label"] = ""
    with pytest.raises(UserError, match=r"row 0: label 'label' is empty"):
        findings({"train": train}, "class_imbalance")


def test_unseen_labels_and_shift(gen: SimpleNamespace) -> None:
    import random

    rng = random.Random(2)
    train = pd.DataFrame(gen.base_rows(100, rng, "tr"))
    test = pd.DataFrame(gen.base_rows(40, rng, "te"))
    test.loc[test.index[:30], "label"] = "pos"  # shift: 30+5 of 40 positive
    test.loc[test.index[30], "label"] = "neutral"  # unseen in train
    out = findings({"train": train, "test": test}, "class_imbalance")
    unseen = next(f for f in out if "not in train" in f.detail)
    assert unseen.rows == ("te30",) and unseen.split == "test"
    assert any("differ from train" in f.detail and f.split == "test" for f in out)
