"""Extractive QA: SQuAD metrics, span post-processing, stride windows, a tiny run, bad input."""

from __future__ import annotations

import json
import re
import string
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.config import parse_config
from tuneproof.data import synthetic
from tuneproof.errors import UserError
from tuneproof.io import read_json, read_jsonl
from tuneproof.rundir import dump
from tuneproof.tasks import get_task
from tuneproof.tasks.qa import (
    best_spans,
    exact_match,
    flatten_squad,
    make_features,
    normalize_answer,
    parse_answers,
    squad_scores,
    token_f1,
)
from tuneproof.train import run

from .conftest import task_config, write_splits


def test_squad_normalisation_exact_match_and_f1():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert exact_match("the Eiffel tower.", "Eiffel Tower") == 1.0
    # pred tokens [in, big, attic] vs gold [attic]: P = 1/3, R = 1, F1 = 0.5
    assert token_f1("in the big attic", "attic") == pytest.approx(0.5)
    assert token_f1("garden", "attic") == 0.0
    # best over several gold answers; no gold means "no answer"
    assert squad_scores("big attic", ["the attic", "big attic"]) == (1.0, 1.0)
    assert squad_scores("", []) == (1.0, 1.0)
    assert squad_scores("attic", []) == (0.0, 0.0)


# --- the official scripts' scoring functions, as the reference (issue 13, item 13) ------------
# evaluate-v1.1.py: normalize_answer, f1_score, exact_match_score, metric_max_over_ground_truths


def _v11_normalize(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def _v11_f1_score(prediction, ground_truth):
    prediction_tokens = _v11_normalize(prediction).split()
    ground_truth_tokens = _v11_normalize(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def _v11_exact_match_score(prediction, ground_truth):
    return _v11_normalize(prediction) == _v11_normalize(ground_truth)


def _v11_scores(prediction, ground_truths):
    return (
        float(max(_v11_exact_match_score(prediction, gt) for gt in ground_truths)),
        float(max(_v11_f1_score(prediction, gt) for gt in ground_truths)),
    )


# evaluate-v2.0.py: get_tokens, compute_exact, compute_f1 and get_raw_scores' gold filtering


def _v20_get_tokens(s):
    if not s:
        return []
    return _v11_normalize(s).split()  # v2.0's normalize_answer is v1.1's, with re.UNICODE


def _v20_compute_exact(a_gold, a_pred):
    return int(_v11_normalize(a_gold) == _v11_normalize(a_pred))


def _v20_compute_f1(a_gold, a_pred):
    gold_toks = _v20_get_tokens(a_gold)
    pred_toks = _v20_get_tokens(a_pred)
    common = Counter(gold_toks) & Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def _v20_scores(a_pred, answers):
    gold_answers = [a for a in answers if _v11_normalize(a)]
    if not gold_answers:
        gold_answers = [""]
    return (
        float(max(_v20_compute_exact(a, a_pred) for a in gold_answers)),
        float(max(_v20_compute_f1(a, a_pred) for a in gold_answers)),
    )


OFFICIAL_CASES = [
    ("big attic", ["the attic", "big attic"]),
    ("in the big attic", ["attic"]),
    ("garden", ["attic"]),
    ("", ["attic"]),
    ("the", ["the"]),  # normalises to nothing on both sides: v1.1 F1 0, v2.0 F1 1
    ("!", ["A"]),
    ("the", ["the", "cat"]),  # v2.0 drops the empty-normalising gold: EM 0 there, 1 in v1.1
    ("the cat", ["the", "cat"]),
    ("An apple, a day", ["apple day", "an apple"]),
]


@pytest.mark.parametrize(("pred", "golds"), OFFICIAL_CASES)
def test_scores_equal_the_official_script_of_each_version(pred, golds):
    assert squad_scores(pred, golds, "v1.1") == pytest.approx(_v11_scores(pred, golds))
    assert squad_scores(pred, golds, "v2.0") == pytest.approx(_v20_scores(pred, golds))


@pytest.mark.parametrize("pred", ["", "attic", "the"])
def test_unanswerable_questions_are_scored_by_v2(pred):
    assert squad_scores(pred, [], "v2.0") == pytest.approx(_v20_scores(pred, []))
    assert squad_scores(pred, [], "v1.1") == squad_scores(pred, [], "v2.0")  # only v2.0 has them


def test_v1_style_rows_are_scored_by_the_v1_script():
    """No unanswerable question in the data: an empty-normalising answer follows v1.1."""
    task = get_task("extractive-qa")
    rows = [{"pred": p, "gold": g} for p, g in OFFICIAL_CASES]
    metrics = task.metrics_from_rows(rows)
    ref = [_v11_scores(p, g) for p, g in OFFICIAL_CASES]
    assert metrics["exact_match"] == pytest.approx(np.mean([r[0] for r in ref]))
    assert metrics["f1"] == pytest.approx(np.mean([r[1] for r in ref]))
    # a row records its version; an explicit v2.0 row is scored by v2.0
    assert task.metrics_from_rows([{"pred": "the", "gold": ["the"], "squad_version": "v2.0"}])[
        "f1"
    ] == pytest.approx(1.0)
    assert task.metrics_from_rows([{"pred": "the", "gold": ["the"]}])["f1"] == 0.0


def test_best_spans_picks_the_best_valid_span_over_windows():
    context = "abc def ghi jkl"
    # two windows of one example: tokens -> character offsets (None: question/special tokens)
    offs0 = [None, None, (0, 3), (4, 7), (8, 11)]
    offs1 = [None, None, (8, 11), (12, 15)]
    s0 = np.array([9.0, 0.0, 1.0, 2.0, 0.5])  # [CLS] is best, but it is not an answer
    e0 = np.array([9.0, 0.0, 0.0, 1.5, 0.2])
    s1 = np.array([0.0, 8.0, 3.0, 0.0])  # question token 1 scores high: not in the context
    e1 = np.array([0.0, 0.0, 1.0, 2.5])
    # window 1: "ghi jkl" = 3.0 + 2.5 = 5.5 beats window 0's best "def" = 2.0 + 1.5 = 3.5
    spans = best_spans([s0, s1], [e0, e1], [0, 0], [offs0, offs1], [context], max_answer_length=5)
    assert spans[0].text == "ghi jkl" and spans[0].start == 8
    # a length limit of one token leaves "ghi" or "jkl" alone: 3.0 + 1.0 vs 0.0 + 2.5
    spans = best_spans([s0, s1], [e0, e1], [0, 0], [offs0, offs1], [context], max_answer_length=1)
    assert spans[0].text == "ghi"
    # with "no answer" allowed, the lowest [CLS] score (0.0 in window 1) loses to 5.5
    null = best_spans([s0, s1], [e0, e1], [0, 0], [offs0, offs1], [context], allow_null=True)
    assert null[0].text == "ghi jkl"
    assert 0 < null[0].score <= 1


def test_long_context_windows_keep_the_answer_recoverable(tiny_encoder_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    rows = synthetic.qa_rows(6, 5, filler=8)
    answers = [parse_answers(r["answers"], r["context"], "t") for r in rows]
    feats = make_features(
        tok,
        [r["question"] for r in rows],
        [r["context"] for r in rows],
        answers,
        max_length=40,
        stride=10,
    )
    assert len(feats.example) > len(rows)  # long contexts became several windows
    found = set()
    for f, ex in enumerate(feats.example):
        assert sum(feats.columns["attention_mask"][f]) <= 40
        s, e = feats.columns["start_positions"][f], feats.columns["end_positions"][f]
        if s == 0:
            continue  # this window does not hold the answer
        a, b = feats.offsets[f][s], feats.offsets[f][e]
        assert rows[ex]["context"][a[0] : b[1]] == answers[ex][0][0]
        found.add(ex)
    assert found == set(range(len(rows)))


def test_answers_in_every_squad_shape_and_wrong_offsets():
    ctx = "The red box is in the attic."
    assert parse_answers({"text": ["attic"], "answer_start": [22]}, ctx, "r") == [("attic", 22)]
    assert parse_answers([{"text": "attic", "answer_start": 22}], ctx, "r") == [("attic", 22)]
    assert parse_answers(json.dumps({"text": ["red"], "answer_start": [4]}), ctx, "r") == [
        ("red", 4)
    ]
    with pytest.raises(UserError, match=r"f: row 3: answer 'attic' is not at answer_start 21"):
        parse_answers({"text": ["attic"], "answer_start": [21]}, ctx, "f: row 3")


def test_official_nested_squad_json_is_flattened():
    nested = {
        "version": "1.1",
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "context": "Paris is in France.",
                        "qas": [
                            {"id": "q1", "question": "Where is Paris?",
                             "answers": [{"text": "France", "answer_start": 12}]},
                        ],
                    }
                ],
            }
        ],
    }  # fmt: skip
    flat = flatten_squad(pd.DataFrame(nested))
    assert flat is not None
    assert flat.to_dict("records") == [
        {
            "id": "q1",
            "title": "T",
            "context": "Paris is in France.",
            "question": "Where is Paris?",
            "answers": {"text": ["France"], "answer_start": [12]},
        }
    ]


def test_tiny_run_learns_and_metrics_agree_with_rows(tiny_encoder_dir, tmp_path):
    files = write_splits(tmp_path / "data", synthetic.qa_rows, sizes=(48, 8, 8), filler=3)
    cfg = task_config(
        tiny_encoder_dir,
        files,
        "extractive-qa",
        data={"max_length": 48, "doc_stride": 12},
        # evaluate on validation during training *and* on test at the end: each split's
        # windows must map back to that split's questions
        training={"eval_strategy": "steps", "eval_steps": 15, "save_strategy": "no"},
    )
    out = tmp_path / "run"
    metrics = dump(run(parse_config(cfg), out).metrics)
    losses = [h["loss"] for h in metrics["history"] if "loss" in h]
    assert losses[-1] < losses[0]
    assert {"exact_match", "f1"} <= set(metrics["validation"])
    rows = read_jsonl(out / "predictions.jsonl")
    assert len(rows) == metrics["overall"]["n"] == 8
    recomputed = get_task("extractive-qa").metrics_from_rows(rows)
    assert metrics["overall"]["f1"] == pytest.approx(recomputed["f1"])
    assert metrics["overall"]["exact_match"] == pytest.approx(
        np.mean([r["exact_match"] for r in rows])
    )
    assert len({r["squad_version"] for r in rows}) == 1  # one scorer for the whole data
    for r in rows:  # every predicted span is a piece of its own context
        assert r["pred"] == r["context"][r["pred_start"] : r["pred_start"] + len(r["pred"])]
    assert read_json(out / "metrics.json")["main_metric"] == "f1"


def test_answer_start_off_the_context_is_a_one_line_error(tiny_encoder_dir, tmp_path):
    rows = synthetic.qa_rows(5, 0)
    rows[3]["answers"]["answer_start"][0] += 2
    train = synthetic.write_jsonl(tmp_path / "train.jsonl", rows)
    (tmp_path / "cfg.yaml").write_text(
        yaml.safe_dump(task_config(tiny_encoder_dir, {"train": train}, "extractive-qa"))
    )
    result = CliRunner().invoke(
        app, ["train", str(tmp_path / "cfg.yaml"), "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    line = result.output.strip()
    assert "train.jsonl: row 3 (id qa3): answer" in line.replace("\n", "")
    assert "answer_start" in line and "Traceback" not in line
