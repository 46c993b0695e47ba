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


def _prepare(tokenizer_dir, rows, *, chat_template=True, **data):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    if not chat_template:
        tok.chat_template = None
    cfg = parse_config(
        {"task": "summarization", "data": {"train": "t.jsonl", "max_length": 64, **data}}
    )
    loaded = LoadedData({"train": pd.DataFrame(rows)})
    return tok, get_task("summarization").prepare(loaded, cfg, tok)


def _sft_trainer(model_dir, tok, prepared, tmp_path, **data):
    """trl's SFTTrainer as the run builds it (the adapter's hook, the run's TrainingArguments)."""
    from transformers import AutoModelForCausalLM

    from tuneproof.arguments import training_kwargs

    cfg = parse_config(
        {"task": "summarization", "data": {"train": "t.jsonl", "max_length": 64, **data}}
    )
    kwargs = training_kwargs(cfg, tmp_path, main_metric="loss", greater_is_better=False)
    kwargs |= {"report_to": "none", "eval_strategy": "no", "load_best_model_at_end": False}
    return get_task("summarization").build_trainer(
        model=AutoModelForCausalLM.from_pretrained(model_dir),
        kwargs=kwargs,
        prepared=prepared,
        tokenizer=tok,
        callbacks=[],
        config=cfg,
    )


def test_loss_is_on_the_reply_tokens_only(tiny_llama_dir, tmp_path):
    """The batch trl's SFTTrainer trains on: -100 on every prompt token, the reply labelled."""
    import torch

    rows = [
        {"input": "Farm report for Monday .", "output": "On Monday the dog ate grapes ."},
        {"input": "Farm report .", "output": "The dog ate ."},
    ]
    data = {"prompt_template": "Summarise : {input}"}
    tok, prepared = _prepare(tiny_llama_dir, rows, **data)
    trainer = _sft_trainer(tiny_llama_dir, tok, prepared, tmp_path, **data)
    assert trainer.args.completion_only_loss and not trainer.args.packing  # no flash attention
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    for row, ids, labels, mask, prompt in zip(
        rows,
        batch["input_ids"].tolist(),
        batch["labels"].tolist(),
        batch["attention_mask"].tolist(),
        prepared.extra["prompts"]["train"],
        strict=True,
    ):
        n = sum(mask)
        # an independent reference: the rendered prompt's own tokens are the unlabelled prefix
        p = tok(prompt, add_special_tokens=False)["input_ids"]
        assert ids[: len(p)] == p
        assert labels[: len(p)] == [IGNORE] * len(p)
        assert labels[len(p) : n] == ids[len(p) : n]  # every reply token is learned
        assert labels[n:] == [IGNORE] * (len(labels) - n)  # padding is not
        reply = ids[len(p) : n]
        assert tok.decode(reply, skip_special_tokens=True).split() == row["output"].split()
        assert tok.convert_ids_to_tokens(reply)[-1] == "<|im_end|>"  # learns to stop
        assert "Summarise" in tok.decode(p) and "grapes" not in tok.decode(p)
    # the loss trl computes is the mean NLL over the labelled (reply) tokens only
    model = trainer.model.eval()
    with torch.no_grad():
        out = model(**{k: batch[k] for k in ("input_ids", "attention_mask", "labels")})
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    shift = batch["labels"][:, 1:]
    nll = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]), shift.reshape(-1), ignore_index=IGNORE
    )
    assert out.loss.item() == pytest.approx(nll.item(), rel=1e-5)


def test_model_without_chat_template_trains_on_the_fallback_layout(tiny_llama_dir, tmp_path):
    """A base LM (no chat template): trl's plain prompt-completion path, one end-of-text token
    appended by trl, the prompt still unlabelled."""
    row = {"input": "Farm report for Monday .", "output": "On Monday the dog ate grapes ."}
    tok, prepared = _prepare(tiny_llama_dir, [row], chat_template=False)
    assert prepared.datasets["train"][0]["completion"] == row["output"]
    trainer = _sft_trainer(tiny_llama_dir, tok, prepared, tmp_path)
    ex = trainer.train_dataset[0]
    p = tok(prepared.extra["prompts"]["train"][0], add_special_tokens=False)["input_ids"]
    assert ex["input_ids"][: len(p)] == p and ex["labels"][: len(p)] == [IGNORE] * len(p)
    reply = ex["labels"][len(p) :]
    assert reply == ex["input_ids"][len(p) :] and reply.count(tok.eos_token_id) == 1
    assert reply[-1] == tok.eos_token_id
    assert prepared.tokens["train"][0].kept == len(ex["input_ids"])


def test_token_counts_match_what_trl_trains_on(tiny_llama_dir, tmp_path):
    """The counts the checks and plan read (prompt, reply, kept, cut) are trl's sequences."""
    rows = synthetic.summarization_rows(6, 0)
    _, whole = _prepare(tiny_llama_dir, rows, max_length=256)
    assert not any(c.second_cut for c in whole.tokens["train"])
    cut = max(c.first for c in whole.tokens["train"]) + 2  # every reply cut to fit
    tok, prepared = _prepare(tiny_llama_dir, rows, max_length=cut)
    trainer = _sft_trainer(tiny_llama_dir, tok, prepared, tmp_path, max_length=cut)
    trained = trainer.train_dataset
    assert len(trained) == len(rows)
    for count, ex in zip(prepared.tokens["train"], trained, strict=True):
        assert count.kept == len(ex["input_ids"]) <= cut
        assert count.first == sum(lab == IGNORE for lab in ex["labels"])
    assert any(c.second_cut for c in prepared.tokens["train"])


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


KILL_AFTER_SAVE = """
import os, signal, sys, yaml
from transformers import TrainerCallback
from tuneproof.config import parse_config
from tuneproof.train import run

class KillAfterSave(TrainerCallback):
    def on_save(self, args, state, control, **kw):
        if state.global_step == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)

run(parse_config(yaml.safe_load(open(sys.argv[1]))), sys.argv[2], tracking_uri=sys.argv[4],
    callbacks=[KillAfterSave()])
"""


@pytest.mark.slow  # ~25 s: a subprocess killed mid-run, a resume and a straight run
def test_sft_run_killed_then_resumed_matches_uninterrupted_and_tracks(tiny_llama_dir, tmp_path):
    """On SFTTrainer: a SIGKILL after a checkpoint, then --resume, gives the same metrics.json as a
    straight run, and the resumed run keeps logging to its own MLflow run."""
    import json
    import os
    import signal
    import subprocess
    import sys

    from mlflow.tracking import MlflowClient

    from tuneproof.io import read_json

    files = write_splits(tmp_path / "data", synthetic.summarization_rows, sizes=(16, 4, 4))
    raw = task_config(
        tiny_llama_dir,
        files,
        "summarization",
        data={"max_length": 64, "max_new_tokens": 6},
        training={"max_steps": 6, "batch_size": 4, "save_strategy": "steps", "save_steps": 3},
        tracking={"enabled": True, "experiment": "sft-resume"},
    )
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "kill.py").write_text(KILL_AFTER_SAVE)
    killed = tmp_path / "killed"
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "kill.py"), str(tmp_path / "cfg.yaml"), str(killed), "3",
         uri],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
    )  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert (killed / "checkpoints" / "checkpoint-3").exists()
    cfg = parse_config(raw)
    resumed = run(cfg, killed, resume=True, tracking_uri=uri)
    run(parse_config({**raw, "tracking": {"enabled": False}}), tmp_path / "straight")
    manifest = read_json(killed / "manifest.json")
    assert manifest["resumed_from"] == "checkpoint-3"
    a = json.loads((killed / "metrics.json").read_text())
    b = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    assert a == b
    assert resumed.metrics.training.global_step == 6
    assert any("mean_token_accuracy" in h for h in a["history"])  # logged by trl's SFTTrainer
    mlflow_run = MlflowClient(tracking_uri=uri).get_run(manifest["tracking"]["run_id"])
    assert mlflow_run.info.status == "FINISHED"
    losses = MlflowClient(tracking_uri=uri).get_metric_history(
        mlflow_run.info.run_id, "history/loss"
    )
    assert {m.step for m in losses} >= {3, 6}  # before the kill and after the resume
    assert any(k.endswith("rougeL") for k in mlflow_run.data.metrics)
