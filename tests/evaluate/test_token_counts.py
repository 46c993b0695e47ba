"""Token accounting is the task adapter's: what `prepare` records is what eval's ``truncated`` and
``length`` slices and the data check's truncation finding report, for single texts and pairs.

The reference is the tokenizer itself, called directly (untruncated lengths; for pairs the
``token_type_ids`` of the truncated encoding, which say how much of each text was kept).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tuneproof.checks import check_data
from tuneproof.config import parse_config
from tuneproof.data.load import LoadedData
from tuneproof.evaluate.slices import tag_rows
from tuneproof.tasks import TASKS


def _truncation_finding(report) -> tuple[int, set[str]]:
    """(rows counted, rows listed) of the length check's truncation finding."""
    found = [f for f in report.findings if f.check == "length_outlier" and "truncated" in f.detail]
    if not found:
        return 0, set()
    (f,) = found
    m = re.search(r"\(([\d,]+)\) are longer than max_length", f.detail)
    assert m is not None, f.detail
    return int(m.group(1).replace(",", "")), set(f.rows)


def test_eval_tags_and_the_check_counts_the_rows_the_adapter_truncates(
    run_copy: Path, eval_data: dict[str, Path]
) -> None:
    from transformers import AutoTokenizer

    from tuneproof.evaluate import evaluate_run
    from tuneproof.evaluate.predict import load_run

    result = evaluate_run(run_copy, [eval_data["test"]], n_resamples=200)
    tagged = {r["id"] for r in result.rows if r["slices"]["truncated"] == "yes"}

    loaded = load_run(run_copy)
    frame = pd.read_csv(eval_data["test"])
    data = LoadedData(splits={"test": frame}, sources={})
    prepared = loaded.task.prepare(
        data, loaded.config, loaded.tokenizer, label_names=loaded.label_names
    )
    report = check_data(
        {"test": frame},
        text_column="text",
        label_column="label",
        id_column="id",
        max_length=loaded.config.data.max_length,
        token_counts=prepared.tokens,
    )
    counted, listed = _truncation_finding(report)

    # reference: the tokenizer's own untruncated length against max_length (8)
    tok = AutoTokenizer.from_pretrained(run_copy / "model")
    expected = {
        rid
        for rid, text in zip(frame["id"], frame["text"], strict=True)
        if len(tok(text)["input_ids"]) > 8
    }
    assert expected and len(expected) < len(frame)
    assert tagged == expected == listed and counted == len(expected)
    by_id = {r["id"]: r for r in result.rows}
    for rid, c in zip(prepared.ids["test"], prepared.tokens["test"], strict=True):
        assert (
            by_id[rid]["token_stats"]["n"] == c.total == len(tok(by_id[rid]["text"])["input_ids"])
        )


@pytest.fixture
def pair_tokenizer(eval_bert_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(eval_bert_dir)


def test_a_pair_task_sees_truncation_of_the_second_text(pair_tokenizer) -> None:
    long = "the film was really quite a story and the actor in the scene was good"
    frame = pd.DataFrame(
        {
            "id": ["short", "second-long", "first-long"],
            "sentence1": ["good film", "good film", long],
            "sentence2": ["bad film", long, "bad film"],
            "score": [1.0, 2.0, 3.0],
        }
    )
    cfg = parse_config(
        {
            "task": "similarity",
            "data": {
                "train": "x.csv",
                "text_column": "sentence1",
                "text_pair_column": "sentence2",
                "label_column": "score",
                "id_column": "id",
                "max_length": 12,
            },
        }
    )
    prepared = TASKS["similarity"].prepare(
        LoadedData(splits={"train": frame}, sources={}), cfg, pair_tokenizer
    )
    counts = dict(zip(prepared.ids["train"], prepared.tokens["train"], strict=True))

    # reference: how many tokens of each text the tokenizer keeps (token_type_ids 0 / 1)
    for rid, a, b in zip(frame["id"], frame["sentence1"], frame["sentence2"], strict=True):
        full = pair_tokenizer(a, b)["token_type_ids"]
        kept = pair_tokenizer(a, b, truncation=True, max_length=12)["token_type_ids"]
        c = counts[rid]
        assert c.total == len(full) and c.kept == len(kept)
        assert c.first_cut == (kept.count(0) < full.count(0))
        assert c.second_cut == (kept.count(1) < full.count(1))
    assert not counts["short"].truncated
    assert counts["second-long"].second_cut and not counts["second-long"].first_cut
    assert counts["first-long"].first_cut and not counts["first-long"].second_cut

    # the check counts both truncated rows, though its text column holds only sentence1
    report = check_data(
        {"train": frame},
        text_column="sentence1",
        label_column=None,
        id_column="id",
        max_length=12,
        token_counts=prepared.tokens,
    )
    assert _truncation_finding(report) == (2, {"second-long", "first-long"})
    # eval's slices read the same counts
    tags = tag_rows(
        frame["sentence1"].tolist(),
        n_tokens=[c.total for c in prepared.tokens["train"]],
        truncated=[c.truncated for c in prepared.tokens["train"]],
        languages=["en"] * 3,
    )
    assert [t["truncated"] for t in tags] == ["no", "yes", "yes"]


def test_extractive_qa_counts_a_context_read_in_several_windows(pair_tokenizer) -> None:
    context = " ".join(["the film was really quite a story"] * 6) + " and mary was good"
    frame = pd.DataFrame(
        {
            "id": ["fits", "windows"],
            "question": ["who was good", "who was good"],
            "context": ["mary was good", context],
            "answers": [
                {"text": ["mary"], "answer_start": [0]},
                {"text": ["mary"], "answer_start": [context.index("mary")]},
            ],
        }
    )
    cfg = parse_config(
        {
            "task": "extractive-qa",
            "data": {"train": "x.csv", "id_column": "id", "max_length": 24, "doc_stride": 4},
        }
    )
    prepared = TASKS["extractive-qa"].prepare(
        LoadedData(splits={"train": frame}, sources={}), cfg, pair_tokenizer
    )
    fits, windows = prepared.tokens["train"]
    assert not fits.truncated and fits.total == len(
        pair_tokenizer("who was good", "mary was good")["input_ids"]
    )
    assert windows.second_cut and not windows.first_cut
    assert windows.total == len(pair_tokenizer("who was good", context)["input_ids"]) > 24
    assert windows.kept <= 24
