"""preference (DPO on trl): rendering, implicit rewards checked against an independent loop over
the logits, a tiny LoRA run whose reward accuracy rises, bad rows."""

from __future__ import annotations

import pandas as pd
import pytest

from tuneproof.config import parse_config
from tuneproof.data import synthetic
from tuneproof.data.load import LoadedData
from tuneproof.errors import UserError
from tuneproof.io import read_jsonl
from tuneproof.tasks import get_task
from tuneproof.train import run

from .conftest import task_config


def _pairs(n: int, seed: int, prefix: str) -> list[dict[str, str]]:
    """Prompt: a farm report; chosen: its summary; rejected: another report's summary."""
    rows = synthetic.summarization_rows(n + 1, seed, prefix=prefix)
    out = []
    for i in range(n):
        other = next(
            r["output"] for r in rows[i + 1 :] + rows[:i] if r["output"] != rows[i]["output"]
        )
        out.append(
            {
                "id": rows[i]["id"],
                "prompt": rows[i]["input"],
                "chosen": rows[i]["output"],
                "rejected": other,
            }
        )
    return out


def _files(tmp_path, sizes=(48, 16)):  # type: ignore[no-untyped-def]
    (tmp_path / "data").mkdir(exist_ok=True)
    files = {}
    for (split, seed), n in zip((("train", 1), ("test", 1)), sizes, strict=True):
        files[split] = tmp_path / "data" / f"{split}.csv"
        rows = _pairs(n, seed, prefix="tr")  # test = the first training pairs: the toy domain
        pd.DataFrame(rows).to_csv(files[split], index=False)
    return files


def test_pairs_render_with_the_chat_template_and_end_of_turn(tiny_llama_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    cfg = parse_config(
        {
            "task": "preference",
            "model": {"name": str(tiny_llama_dir)},
            "data": {"train": "t.csv", "max_length": 64},
        }
    )
    rows = _pairs(3, 0, "p")
    prepared = get_task("preference").prepare(LoadedData({"train": pd.DataFrame(rows)}), cfg, tok)
    ds = prepared.datasets["train"]
    assert ds[0]["prompt"].endswith("<|im_start|>assistant\n")
    assert rows[0]["prompt"] in ds[0]["prompt"]
    assert ds[0]["chosen"] == rows[0]["chosen"] + "<|im_end|>"
    assert ds[0]["rejected"] == rows[0]["rejected"] + "<|im_end|>"
    assert cfg.strategy.kind == "lora"  # LoRA by default


def test_bad_rows_name_the_row_and_column(tiny_llama_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    cfg = parse_config(
        {"task": "preference", "model": {"name": str(tiny_llama_dir)}, "data": {"train": "t.csv"}}
    )
    task = get_task("preference")
    rows = _pairs(2, 0, "p")
    with pytest.raises(UserError, match=r"no 'rejected' column"):
        task.prepare(LoadedData({"train": pd.DataFrame(rows).drop(columns="rejected")}), cfg, tok)
    rows[1]["rejected"] = rows[1]["chosen"]
    with pytest.raises(UserError, match=r"row 1: chosen and rejected are the same text"):
        task.prepare(LoadedData({"train": pd.DataFrame(rows)}), cfg, tok)


def _logp(model, tok, prompt: str, answer: str) -> float:  # type: ignore[no-untyped-def]
    """Independent: log p(answer | prompt) summed token by token over the model's logits."""
    import torch

    p = tok(prompt, add_special_tokens=False)["input_ids"]
    a = tok(answer, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([p + a])).logits[0].double()
    return sum(float(torch.log_softmax(logits[len(p) + i - 1], -1)[t]) for i, t in enumerate(a))


def test_tiny_dpo_run_rewards_match_an_independent_loop_and_accuracy_rises(
    tiny_llama_dir, tmp_path
):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    files = _files(tmp_path)
    cfg = task_config(
        tiny_llama_dir,
        files,
        "preference",
        data={"max_length": 64, "max_new_tokens": 4},
        strategy={
            "kind": "lora",
            "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": "all-linear"},
        },
        training={"max_steps": 30, "learning_rate": 1e-2, "beta": 0.5, "loss_type": ["sigmoid"]},
    )
    out = tmp_path / "run"
    result = run(parse_config(cfg), out)
    m = result.metrics
    assert m.main_metric == "reward_accuracy"
    acc = m.overall.get("reward_accuracy")
    assert acc.value > 0.75  # 0 before training: every implicit reward is 0
    assert acc.ci is not None and acc.ci[0] <= acc.value <= acc.ci[1]
    assert m.overall.get("reward_margin").value > 0
    assert m.overall.get("likelihood_accuracy").value > m.overall.get("base_accuracy").value
    assert 0 <= m.overall.get("win_rate").value <= 1
    assert any("rewards/accuracies" in h for h in m.history)  # trl's own logs kept

    from tuneproof.report.api import build_report

    build_report(out, formats="md", model_card=False)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Share of held-out pairs whose chosen answer is the more likely one" in report

    rows = read_jsonl(out / "predictions.jsonl")
    tok = AutoTokenizer.from_pretrained(tiny_llama_dir)
    base = AutoModelForCausalLM.from_pretrained(tiny_llama_dir).eval()
    tuned = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_llama_dir), out / "model"
    ).eval()
    prepared = get_task("preference").prepare(
        LoadedData({"test": pd.read_csv(files["test"])}), parse_config(cfg), tok
    )
    rendered = prepared.extra["rendered"]["test"]
    for i, r in enumerate(rows[:4]):
        prompt, chosen = rendered["prompt"][i], rendered["chosen"][i]
        assert r["logp_chosen"] == pytest.approx(_logp(tuned, tok, prompt, chosen), abs=1e-3)
        assert r["ref_logp_chosen"] == pytest.approx(_logp(base, tok, prompt, chosen), abs=1e-3)
        want = 0.5 * (r["logp_rejected"] - r["ref_logp_rejected"])
        assert r["reward_rejected"] == pytest.approx(want, abs=1e-5)
        assert (r["pred"] == r["gold"]) == (r["reward_chosen"] > r["reward_rejected"])
