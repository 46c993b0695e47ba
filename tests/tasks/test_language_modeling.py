"""language-modeling: packing, perplexity against an independent loop over the logits, the
bootstrap over documents, causal (tiny Llama) and masked (tiny BERT) runs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tuneproof import rundir
from tuneproof.config import parse_config
from tuneproof.data import synthetic
from tuneproof.data.load import LoadedData
from tuneproof.errors import UserError
from tuneproof.evaluate.metrics import analyse, summarize
from tuneproof.io import read_jsonl
from tuneproof.tasks import get_task
from tuneproof.tasks.language_modeling import MASKED, mask_positions, objective_of, pack
from tuneproof.train import run

from .conftest import task_config


def _texts(n: int, seed: int, prefix: str = "lm") -> list[dict[str, str]]:
    """Raw documents: the synthetic farm reports (the tiny Llama's vocabulary), one per row."""
    return [
        {"id": r["id"], "text": r["input"], "lang": "en" if i % 2 else "xx"}
        for i, r in enumerate(synthetic.summarization_rows(n, seed, prefix=prefix))
    ]


def _sentences(n: int, seed: int, prefix: str = "s") -> list[dict[str, str]]:
    """Raw documents in the tiny BERT's vocabulary (the similarity sentences)."""
    rows = synthetic.similarity_rows(n, seed, prefix=prefix)
    return [{"id": r["id"], "text": f"{r['sentence1']} {r['sentence2']}"} for r in rows]


def test_pack_cuts_the_concatenation_into_full_blocks():
    docs = [[1, 2, 3, 9], [4, 5, 9], [6, 7, 8, 9]]
    blocks = pack(docs, 4)
    assert blocks == [[1, 2, 3, 9], [4, 5, 9, 6], [7, 8, 9]]
    assert [t for b in blocks for t in b] == [t for d in docs for t in d]


def test_mask_positions_are_seeded_by_row_and_skip_specials():
    ids = [101, *range(5, 45), 102]
    a = mask_positions(ids, {101, 102}, 0.15, "test/r1")
    assert a == mask_positions(ids, {101, 102}, 0.15, "test/r1")
    assert a != mask_positions(ids, {101, 102}, 0.15, "test/r2")
    assert 0 not in a and len(ids) - 1 not in a and a
    assert mask_positions([101, 7, 102], {101, 102}, 0.01, "x") == [1]  # at least one


def test_packed_training_blocks_and_unpacked_eval_documents(tiny_llama_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    rows = _texts(12, 0)
    cfg = parse_config(
        {
            "task": "language-modeling",
            "model": {"name": str(tiny_llama_dir)},
            "data": {"train": "t.csv", "max_length": 32},
        }
    )
    frames = {"train": pd.DataFrame(rows), "test": pd.DataFrame(rows[:4])}
    prepared = get_task("language-modeling").prepare(LoadedData(frames), cfg, tok)
    blocks = prepared.datasets["train"]["input_ids"]
    assert all(len(b) == 32 for b in blocks[:-1]) and 0 < len(blocks[-1]) <= 32
    docs = [tok(r["text"])["input_ids"] + [tok.eos_token_id] for r in rows]
    assert [t for b in blocks for t in b] == [t for d in docs for t in d]
    # evaluation keeps one document per row, truncated at max_length
    assert len(prepared.datasets["test"]) == 4
    assert prepared.datasets["test"][0]["input_ids"] == docs[0][:32]
    assert [c.total for c in prepared.tokens["test"]] == [len(d) for d in docs[:4]]


def test_a_row_without_text_names_the_row(tiny_llama_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    cfg = parse_config(
        {
            "task": "language-modeling",
            "model": {"name": str(tiny_llama_dir)},
            "data": {"train": "t.csv"},
        }
    )
    frame = pd.DataFrame([{"text": "the dog ate grapes ."}, {"text": None}])
    with pytest.raises(UserError, match=r"row 1: 'text' is empty"):
        get_task("language-modeling").prepare(LoadedData({"train": frame}), cfg, tok)


def _reference_perplexity(model_dir: Path, texts: list[str], max_length: int) -> float:
    """Independent of the adapter: one document at a time, cross-entropy of each next token."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    total, n = 0.0, 0
    for text in texts:
        ids = (tok(text)["input_ids"] + [tok.eos_token_id])[:max_length]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0]
        for t in range(len(ids) - 1):
            total -= float(torch.log_softmax(logits[t].double(), -1)[ids[t + 1]])
            n += 1
    return math.exp(total / n)


def test_causal_run_perplexity_is_exp_of_the_mean_token_nll_and_falls(tiny_llama_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    files = {}
    (tmp_path / "data").mkdir()
    for split, (n, seed) in {"train": (64, 1), "test": (12, 3)}.items():
        files[split] = tmp_path / "data" / f"{split}.csv"
        pd.DataFrame(_texts(n, seed, prefix=split)).to_csv(files[split], index=False)
    cfg = task_config(
        tiny_llama_dir,
        files,
        "language-modeling",
        data={"max_length": 32, "lang_column": "lang"},
        strategy={
            "kind": "lora",
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear"},
        },
        training={"max_steps": 40, "learning_rate": 1e-2},
    )
    out = tmp_path / "run"
    result = run(parse_config(cfg), out)
    metrics = result.metrics
    assert metrics.main_metric == "perplexity"
    rows = read_jsonl(out / "predictions.jsonl")
    texts = [r["text"] for r in rows]
    # merge the adapter into the base to get a plain model folder for the reference loop
    merged = tmp_path / "merged"
    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir)
    PeftModel.from_pretrained(base, out / "model").merge_and_unload().save_pretrained(merged)
    (tmp_path / "merged").joinpath("tokenizer.json").write_bytes(
        (tiny_llama_dir / "tokenizer.json").read_bytes()
    )
    for f in ("tokenizer_config.json",):
        (merged / f).write_bytes((tiny_llama_dir / f).read_bytes())
    after = _reference_perplexity(merged, texts, 32)
    before = _reference_perplexity(tiny_llama_dir, texts, 32)
    ppl = metrics.overall.get("perplexity")
    assert ppl is not None and ppl.value == pytest.approx(after, rel=1e-4)
    assert metrics.overall.get("base_perplexity").value == pytest.approx(before, rel=1e-4)
    assert ppl.value < before  # trained on the same kind of text: perplexity down
    lo, hi = ppl.ci
    assert lo <= ppl.value <= hi
    ratio = metrics.overall.get("perplexity_ratio")
    assert ratio.value == pytest.approx(after / before, rel=1e-4) and ratio.ci[1] < 1
    # `tuneproof eval` rescores the documents the same way and adds language and length slices
    from tuneproof.evaluate import evaluate_run
    from tuneproof.report.api import build_report

    evaluate_run(out, [files["test"]], languages=["en"], n_resamples=200)
    evaluated = rundir.read(out, rundir.Metrics)
    assert evaluated.overall.get("perplexity").value == pytest.approx(after, rel=1e-4)
    assert {"language=en", "language=xx"} <= set(evaluated.slices)
    assert any(k.startswith("length=") for k in evaluated.slices)
    # the report shows the before and after

    build_report(out, formats="md,html", model_card=False)
    assert "Perplexity before training" in (out / "report.html").read_text(encoding="utf-8")
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Perplexity before training (the base model" in report
    line = next(x for x in report.splitlines() if x.startswith("Perplexity before training"))
    assert f"{before:.3g}"[:3] in line or f"{before:.1f}"[:3] in line


def test_bootstrap_resamples_documents_with_their_tokens():
    task = get_task("language-modeling")
    rng = np.random.default_rng(0)
    rows = [
        {
            "id": f"r{i}",
            "text": f"doc {i}",
            "nll": float(rng.uniform(1, 80)),
            "base_nll": float(rng.uniform(40, 120)),
            "tokens": int(rng.integers(2, 40)),
            "slices": {"length": "short" if i % 3 else "long"},
        }
        for i in range(60)
    ]
    rm = analyse(rows, task.metrics_from_rows)
    assert rm.kinds["perplexity"] == "vectorised"  # token-weighted: not a mean of rows
    total_nll = sum(r["nll"] for r in rows)
    total_tok = sum(r["tokens"] for r in rows)
    s = summarize(rows, task, seed=1, n_resamples=300)
    assert s["overall"]["perplexity"] == pytest.approx(math.exp(total_nll / total_tok))
    mean_of_docs = np.mean([math.exp(r["nll"] / r["tokens"]) for r in rows])
    assert s["overall"]["perplexity"] != pytest.approx(mean_of_docs)
    lo, hi = s["overall"]["perplexity_ci"]
    assert lo < s["overall"]["perplexity"] < hi
    assert set(s["slices"]) == {"length=long", "length=short"}


def test_masked_lm_run_scores_the_seeded_masks(tiny_encoder_dir, tmp_path):
    import torch
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    assert objective_of(str(tiny_encoder_dir)) == MASKED
    (tmp_path / "data").mkdir()
    files = {}
    for split, (n, seed) in {"train": (64, 1), "test": (12, 3)}.items():
        files[split] = tmp_path / "data" / f"{split}.csv"
        pd.DataFrame(_sentences(n, seed, prefix=split)).to_csv(files[split], index=False)
    cfg = task_config(
        tiny_encoder_dir,
        files,
        "language-modeling",
        data={"max_length": 32, "mlm_probability": 0.3},
        training={"max_steps": 40, "learning_rate": 5e-3},
    )
    out = tmp_path / "run"
    result = run(parse_config(cfg), out)
    rows = read_jsonl(out / "predictions.jsonl")
    # independent: mask the same positions, score each masked token's cross-entropy
    tok = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    special = set(tok.all_special_ids)

    def reference(folder: Path) -> float:
        model = AutoModelForMaskedLM.from_pretrained(folder).eval()
        total, n = 0.0, 0
        for r in rows:
            ids = tok(r["text"])["input_ids"][:32]
            pos = mask_positions(ids, special, 0.3, f"test/{r['id']}")
            masked = [tok.mask_token_id if i in pos else t for i, t in enumerate(ids)]
            with torch.no_grad():
                logits = model(torch.tensor([masked])).logits[0]
            for i in pos:
                total -= float(torch.log_softmax(logits[i].double(), -1)[ids[i]])
                n += 1
        return math.exp(total / n)

    m = rundir.read(out, rundir.Metrics)
    assert m.overall.get("perplexity").value == pytest.approx(reference(out / "model"), rel=1e-4)
    assert m.overall.get("base_perplexity").value == pytest.approx(
        reference(tiny_encoder_dir), rel=1e-4
    )
    assert result.metrics.overall.get("perplexity").value < m.overall.get("base_perplexity").value


def test_starter_config_parses():
    from tuneproof.tasks.templates import starter_config

    text = starter_config("language-modeling")
    import yaml

    cfg = parse_config(yaml.safe_load(text))
    assert cfg.task == "language-modeling" and cfg.data.builtin == "reviews-fr"
