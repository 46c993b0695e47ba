"""The report: checks.json schema, checks.md (escaped, texts side by side, verdict), severity
order, and clean data staying quiet."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tuneproof.checks import (
    CheckOptions,
    check_data,
    render_markdown,
    verdict,
    write_report,
)
from tuneproof.data.load import SourceInfo, sha256_file
from tuneproof.errors import UserError

FAST = CheckOptions(skip=("language_mix",))  # lingua's model loading is tested separately


def check(splits: Any, options: CheckOptions = FAST, **kw: Any) -> Any:
    return check_data(
        splits, text_column="text", label_column="label", id_column="id", options=options, **kw
    )


def test_clean_data_reports_nothing_above_info(gen: SimpleNamespace) -> None:
    report = check(gen.clean_dataset())
    above = [f for f in report.findings if f.severity != "info"]
    assert above == []
    assert not report.reaches("warning")
    assert verdict(report).startswith("Clean")
    assert set(report.checks_run) == {
        "leakage", "exact_duplicate", "near_duplicate", "label_conflict", "label_issue",
        "class_imbalance", "empty_text", "length_outlier", "script_mix", "encoding_noise",
    }  # fmt: skip


@pytest.mark.slow  # loads lingua's models
def test_clean_data_nothing_above_info_with_every_check(gen: SimpleNamespace) -> None:
    report = check(gen.clean_dataset(), options=CheckOptions())
    assert "language_mix" in report.checks_run
    assert [f for f in report.findings if f.severity != "info"] == []


def test_checks_json_follows_schema_version_1(gen: SimpleNamespace, tmp_path: Path) -> None:
    planted = gen.planted_dataset()
    report = check(planted.splits)
    json_path, md_path = write_report(report, tmp_path / "out")
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert list(doc) == ["version", "dataset", "summary", "findings"]
    assert doc["version"] == 1
    assert set(doc["dataset"]) == {"train", "validation", "test"}
    for split, info in doc["dataset"].items():
        assert info["rows"] == len(planted.splits[split])
        assert re.fullmatch(r"[0-9a-f]{64}", info["sha256"])
    counts = {"errors": "error", "warnings": "warning", "info": "info"}
    for key, sev in counts.items():
        assert doc["summary"][key] == sum(f["severity"] == sev for f in doc["findings"])
    assert doc["summary"]["errors"] == len(planted.leaks)
    for f in doc["findings"]:
        keys = ["check", "severity", "split", "rows", "related", "score", "detail"]
        if f["check"] == "label_issue" and f["rows"]:  # given and suggested label, for a review
            keys += ["label", "suggested"]
        assert list(f) == keys
        assert all(isinstance(r, str) for r in f["rows"])
        assert all(set(r) == {"split", "row"} for r in f["related"])
        assert 0.0 <= f["score"] <= 1.0
    ranks = [("error", "warning", "info").index(f["severity"]) for f in doc["findings"]]
    assert ranks == sorted(ranks)  # worst first
    assert md_path.name == "checks.md" and md_path.exists()


def test_dataset_hash_is_the_file_hash_when_sources_are_given(
    gen: SimpleNamespace, tmp_path: Path
) -> None:
    splits = gen.clean_dataset()
    path = tmp_path / "train.csv"
    splits["train"].to_csv(path, index=False)
    sources = {"train": SourceInfo(str(path), sha256_file(path), len(splits["train"]))}
    report = check({"train": splits["train"]}, CheckOptions(only=("empty_text",)), sources=sources)
    assert report.dataset["train"].sha256 == sha256_file(path)
    # without a file: a hash of the content, which changes with it
    before = check(splits, CheckOptions(only=("empty_text",))).dataset["train"].sha256
    splits["train"].loc[0, "text"] = "changed"
    after = check(splits, CheckOptions(only=("empty_text",))).dataset["train"].sha256
    assert before != after


def test_markdown_escapes_texts_and_shows_them_side_by_side(gen: SimpleNamespace) -> None:
    planted = gen.planted_dataset()
    train, test = planted.splits["train"], planted.splits["test"]
    evil = "<script>alert(1)</script> a | b " + train.text[5]
    train.loc[5, "text"] = evil
    test.loc[len(test)] = {"id": "te-evil", "text": evil.upper(), "label": train.label[5]}
    md = render_markdown(check(planted.splits))
    assert "<script>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt; a &#124; b" in md
    assert md.splitlines()[2].startswith("**Verdict:** Fix before training:")
    # the leaked test row and its train row in one table row, side by side
    header = next(line for line in md.splitlines() if "test row te-evil" in line)
    assert f"train row {train.id[5]}" in header


def test_unknown_check_names_are_user_errors(gen: SimpleNamespace) -> None:
    with pytest.raises(UserError, match=r"check 'near_dup': no such check .*near_duplicate"):
        check(gen.clean_dataset(), CheckOptions(skip=("near_dup",)))


def test_missing_column_is_a_one_line_user_error(gen: SimpleNamespace) -> None:
    with pytest.raises(UserError) as err:
        check_data(gen.clean_dataset(), text_column="txt", label_column="label")
    msg = str(err.value)
    assert "\n" not in msg
    assert "split 'train': no column 'txt' (did you mean 'text'?)" in msg
