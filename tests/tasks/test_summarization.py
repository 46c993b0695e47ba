"""Summarization/SFT: response-only labels, ROUGE by hand, a tiny LoRA run, bad rows."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.config import parse_config
from tuneproof.data import synthetic
from tuneproof.data.load import LoadedData
from tuneproof.errors import UserError
from tuneproof.io import read_jsonl
from tuneproof.tasks import get_task
from tuneproof.tasks.summarization import IGNORE, rouge_scores
from tuneproof.train import run

from .conftest import task_config, write_splits


def test_rouge_matches_hand_computed_values():
    s = rouge_scores("the cat sat on the mat", "the cat sat")
    # unigrams: 3 of 3 predicted are in the reference (6): P 1, R 1/2 -> F 2/3
    assert s["rouge1"] == pytest.approx(2 / 3)
    # bigrams: the-cat, cat-sat of 5 reference bigrams: P 1, R 2/5 -> F 4/7
    assert s["rouge2"] == pytest.approx(4 / 7)
    # longest common subsequence: 3 tokens -> same as ROUGE-1 here
    assert s["rougeL"] == pytest.approx(2 / 3)
    assert rouge_scores("a b", "c d") == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}


def _prepare(tokenizer_dir, rows, **data):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    cfg = parse_config(
        {"task": "summarization", "data": {"train": "t.jsonl", "max_length": 64, **data}}
    )
    loaded = LoadedData({"train": pd.DataFrame(rows)})
    return tok, get_task("summarization").prepare(loaded, cfg, tok)


def test_loss_is_on_the_reply_tokens_only(tiny_llama_dir):
    row = {"input": "Farm report for Monday .", "output": "On Monday the dog ate grapes ."}
    tok, prepared = _prepare(tiny_llama_dir, [row], prompt_template="Summarise : {input}")
    ex = prepared.datasets["train"][0]
    labelled = [i for i, lab in zip(ex["input_ids"], ex["labels"], strict=True) if lab != IGNORE]
    prompt = [i for i, lab in zip(ex["input_ids"], ex["labels"], strict=True) if lab == IGNORE]
    assert tok.decode(labelled, skip_special_tokens=True).split() == row["output"].split()
    assert tok.convert_ids_to_tokens(labelled)[-1] == "<|im_end|>"  # learns to stop
    assert "Summarise" in tok.decode(prompt) and "grapes" not in tok.decode(prompt)
    # the labels sit exactly after the prompt: all -100 first, then none
    first = ex["labels"].index(next(lab for lab in ex["labels"] if lab != IGNORE))
    assert all(lab == IGNORE for lab in ex["labels"][:first])
    assert all(lab != IGNORE for lab in ex["labels"][first:])


def test_chat_rows_and_rows_without_output(tiny_llama_dir):
    chat = {
        "messages": [
            {"role": "user", "content": "Farm report for Monday ."},
            {"role": "assistant", "content": "On Monday the dog ate grapes ."},
        ]
    }
    _, prepared = _prepare(tiny_llama_dir, [chat])
    assert prepared.extra["golds"]["train"] == ["On Monday the dog ate grapes ."]
    with pytest.raises(UserError, match=r"train: row 1: no 'output' \(the response to learn\)"):
        _prepare(tiny_llama_dir, [{"input": "a", "output": "b"}, {"input": "c", "output": ""}])
    asks = {"messages": chat["messages"][:1]}
    with pytest.raises(
        UserError, match=r"row 0: no output: the last message must be the assistant"
    ):
        _prepare(tiny_llama_dir, [asks])


def test_tiny_lora_run_learns_and_generates(tiny_llama_dir, tmp_path):
    files = write_splits(tmp_path / "data", synthetic.summarization_rows, sizes=(48, 8, 8))
    cfg = task_config(
        tiny_llama_dir, files, "summarization", data={"max_length": 64, "max_new_tokens": 12}
    )
    out = tmp_path / "run"
    result = run(parse_config(cfg), out)
    assert result.strategy.kind == "lora"  # LoRA is the default for summarization
    assert (out / "model" / "adapter_config.json").exists()
    losses = [h["loss"] for h in result.metrics.history if "loss" in h]
    assert losses[-1] < losses[0]
    rows = read_jsonl(out / "predictions.jsonl")
    assert len(rows) == result.metrics.overall.n == 8
    assert all(isinstance(r["pred"], str) for r in rows)
    recomputed = get_task("summarization").metrics_from_rows(rows)
    for k in ("rouge1", "rouge2", "rougeL"):
        assert result.metrics.overall.get(k).value == pytest.approx(recomputed[k])
    assert result.metrics.main_metric == "rougeL"


def test_sft_row_without_output_exits_2_naming_the_row(tiny_llama_dir, tmp_path):
    rows = synthetic.summarization_rows(5, 0)
    del rows[2]["output"]
    train = synthetic.write_jsonl(tmp_path / "train.jsonl", rows)
    cfg = task_config(tiny_llama_dir, {"train": train}, "summarization")
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    result = CliRunner().invoke(
        app, ["train", str(tmp_path / "cfg.yaml"), "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert "row 2: no 'output'" in result.output and "Traceback" not in result.output
