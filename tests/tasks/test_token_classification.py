"""Token classification: subword label alignment, BIO/POS metrics, a tiny run, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.config import parse_config
from tuneproof.data import synthetic
from tuneproof.data.load import LoadedData
from tuneproof.io import read_json, read_jsonl
from tuneproof.rundir import dump
from tuneproof.tasks import get_task
from tuneproof.tasks.token_classification import (
    IGNORE,
    align_labels,
    first_subword_positions,
    is_bio,
    tagging_metrics,
)
from tuneproof.train import run

from .conftest import task_config, write_splits


def test_align_labels_labels_first_subword_only():
    # [CLS] w0 w0 w1 w2 w2 w2 [SEP]
    word_ids = [None, 0, 0, 1, 2, 2, 2, None]
    assert align_labels(word_ids, [5, 7, 9]) == [IGNORE, 5, IGNORE, 7, 9, IGNORE, IGNORE, IGNORE]
    assert first_subword_positions(word_ids, 4) == [1, 3, 4, -1]  # word 3 truncated away


def test_prepare_aligns_real_subwords(tiny_encoder_dir):
    import pandas as pd
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    # "ada" is one WordPiece; "xyz" is x ##y ##z in the tiny vocabulary
    df = pd.DataFrame([{"tokens": ["Ada", "xyz", "visited"], "tags": ["B-X", "I-X", "O"]}])
    cfg = parse_config({"task": "token-classification", "data": {"train": "t.jsonl"}})
    prepared = get_task("token-classification").prepare(LoadedData({"train": df}), cfg, tok)
    row = prepared.datasets["train"][0]
    pieces = tok.convert_ids_to_tokens(row["input_ids"])
    assert pieces == ["[CLS]", "ada", "x", "##y", "##z", "visited", "[SEP]"]
    names = prepared.label_names
    assert names == ["B-X", "I-X", "O"]
    assert row["labels"] == [IGNORE, 0, 1, IGNORE, IGNORE, 2, IGNORE]
    assert prepared.main_metric == "f1"


def test_tagging_metrics_match_hand_computed_values():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "B-LOC"]]
    m = tagging_metrics(gold, pred)
    # entities gold: PER, LOC, ORG; predicted: PER, ORG, LOC(wrong place) -> 2 of 3 right
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(4 / 6)
    # POS: accuracy only; a truncated word (None) is an error
    pos = tagging_metrics([["DT", "NN", "."]], [["DT", "VB", None]])
    assert pos == {"accuracy": pytest.approx(1 / 3)}


def test_is_bio_tells_entities_from_pos_tags():
    assert is_bio({"O", "B-PER", "I-PER"})
    assert is_bio({"O", "S-LOC", "E-LOC"})
    assert not is_bio({"DT", "NN", "IN"})
    assert not is_bio({"O"})
    assert not is_bio({"N(soort,ev,neut)", "Punc(punt)"})


def test_tiny_run_learns_and_metrics_agree_with_rows(tiny_encoder_dir, tmp_path):
    files = write_splits(tmp_path / "data", synthetic.ner_rows)
    out = tmp_path / "run"
    run(parse_config(task_config(tiny_encoder_dir, files, "token-classification")), out)
    metrics = read_json(out / "metrics.json")
    losses = [h["loss"] for h in metrics["history"] if "loss" in h]
    assert losses[-1] < losses[0]
    assert metrics["main_metric"] == "f1"
    rows = read_jsonl(out / "predictions.jsonl")
    assert len(rows) == metrics["overall"]["n"] == 16
    assert all(len(r["pred"]) == len(r["gold"]) == len(r["tokens"]) for r in rows)
    task = get_task("token-classification")
    recomputed = task.metrics_from_rows(rows)
    for k in ("accuracy", "precision", "recall", "f1"):
        assert metrics["overall"][k] == pytest.approx(recomputed[k])
    words = [(g, p) for r in rows for g, p in zip(r["gold"], r["pred"], strict=True)]
    assert metrics["overall"]["accuracy"] == pytest.approx(np.mean([g == p for g, p in words]))
    cfg = read_json(out / "model" / "config.json")
    assert set(cfg["id2label"].values()) == {"B-LOC", "B-ORG", "B-PER", "I-PER", "O"}


def test_pos_tags_select_accuracy_as_main_metric(tiny_encoder_dir, tmp_path):
    rows = [
        {
            "id": str(i),
            "tokens": ["the", "fox", "visited", "gotham"],
            "tags": ["DT", "NN", "VBD", "NNP"],
        }
        for i in range(16)
    ]
    files = {s: synthetic.write_jsonl(tmp_path / f"{s}.jsonl", rows) for s in ("train", "test")}
    cfg = task_config(tiny_encoder_dir, files, "token-classification", training={"max_steps": 4})
    metrics = dump(run(parse_config(cfg), tmp_path / "run").metrics)
    assert metrics["main_metric"] == "accuracy"
    assert set(metrics["overall"]) == {"n", "accuracy", "accuracy_ci", "small_n"}  # no seqeval F1


def test_tag_count_mismatch_is_a_one_line_error_naming_the_row(tiny_encoder_dir, tmp_path):
    rows = synthetic.ner_rows(4, 0)
    rows[2]["tags"] = rows[2]["tags"][:-1]
    train = synthetic.write_jsonl(tmp_path / "train.jsonl", rows)
    cfg = task_config(tiny_encoder_dir, {"train": train}, "token-classification")
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    result = CliRunner().invoke(
        app, ["train", str(tmp_path / "cfg.yaml"), "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    msg = result.output.strip()
    assert "row 2" in msg and "tokens but" in msg and "one tag per token" in msg
    assert "Traceback" not in msg
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("scheme", ["bio", "pos"])
def test_resampler_matches_metrics_from_rows_on_every_resample(scheme):
    rng = np.random.default_rng(0)
    tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"] if scheme == "bio" else ["DT", "NN", "VB"]
    rows = []
    for i in range(40):
        gold = list(rng.choice(tags, size=int(rng.integers(1, 9))))
        pred = [t if rng.random() < 0.7 else str(rng.choice(tags)) for t in gold]
        if i % 7 == 0:
            pred[-1] = None  # truncated away
        rows.append({"id": str(i), "gold": gold, "pred": pred, "scheme": scheme})
    task = get_task("token-classification")
    idx = rng.integers(0, len(rows), size=(25, len(rows)))
    fast = task.resampler(rows)(idx)
    for b in range(idx.shape[0]):
        slow = task.metrics_from_rows([rows[i] for i in idx[b]])
        assert set(fast) == set(slow)
        for name, value in slow.items():
            assert fast[name][b] == pytest.approx(value, abs=1e-12), name
