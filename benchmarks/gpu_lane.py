"""The GPU lane's measurements (run it through ``benchmarks/gpu_lane.sh``, which checks CUDA).

Each row is one fresh run in this process (peak memory reset before each): ``tuneproof train``
for full / LoRA of MiniLM (bf16) and QLoRA of SmolLM2, and the plain ``Trainer`` script of
``benchmarks/train_throughput.py`` for the same MiniLM settings. Memory: the peak that
``torch.cuda.max_memory_allocated`` saw (``manifest.json`` ``resources.peak_memory_bytes``,
kind ``cuda``) beside the planner's estimate for the config (``estimated_peak_bytes``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

BATCH, SEQ = 32, 64


def _config(model: str, strategy: dict, steps: int, lr: float) -> dict:
    return {
        "data": {"builtin": "polarity-en", "id_column": "id", "max_length": SEQ},
        "model": {"name": model},
        "strategy": strategy,
        "training": {
            "max_steps": steps,
            "batch_size": BATCH,
            "learning_rate": lr,
            "precision": "bf16",
            "eval_strategy": "no",
            "save_strategy": "no",
            "early_stopping_patience": None,
            "logging_steps": 10,
        },
        "tracking": {"enabled": False},
        "checks": {"enabled": False},
    }


def tuneproof_row(name: str, raw: dict, out: Path) -> dict:
    import torch

    from tuneproof import rundir
    from tuneproof.config import parse_config
    from tuneproof.train import run

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    result = run(parse_config(raw), out, overwrite=True)
    res = rundir.read(out, rundir.Manifest).resources or rundir.Resources()
    assert res.peak_memory_kind == "cuda", res
    return {
        "run": name,
        "samples/s": result.timing.get("train_samples_per_second"),
        "peak MiB": (res.peak_memory_bytes or 0) / 2**20,
        "planner MiB": (res.estimated_peak_bytes or 0) / 2**20 or None,
        "accuracy": result.metrics.overall.get("accuracy").value,  # type: ignore[union-attr]
        "s": time.perf_counter() - t0,
    }


def plain_row(name: str, steps: int, out: Path, lora: bool) -> dict:
    """The plain Trainer script (train_throughput.plain_run's pattern) in bf16 on the GPU."""
    import pandas as pd
    import torch
    import transformers
    from datasets import Dataset
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    from tuneproof.data.corpora import builtin_dataset
    from tuneproof.models import resolve_model

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    path = resolve_model("minilm-l6")
    df = pd.read_csv(builtin_dataset("polarity-en")["train"])
    tok = AutoTokenizer.from_pretrained(path)
    names = sorted(df.label.unique())
    enc = tok(df.text.tolist(), truncation=True, max_length=SEQ)
    ds = Dataset.from_dict({**enc, "labels": [names.index(x) for x in df.label]})
    transformers.set_seed(42)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(names))
    if lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(
            model,
            LoraConfig(r=8, lora_alpha=16, lora_dropout=0.1, target_modules=["query", "value"],
                       task_type="SEQ_CLS"),
        )  # fmt: skip
    args = TrainingArguments(
        str(out),
        max_steps=steps,
        per_device_train_batch_size=BATCH,
        learning_rate=1e-3 if lora else 5e-5,
        warmup_steps=0.1,
        weight_decay=0.01,
        bf16=True,
        eval_strategy="no",
        save_strategy="no",
        logging_steps=10,
        seed=42,
        data_seed=42,
        report_to="none",
        disable_tqdm=True,
    )
    trainer = Trainer(
        model=model, args=args, train_dataset=ds, processing_class=tok,
        data_collator=DataCollatorWithPadding(tok),
    )  # fmt: skip
    sps = float(trainer.train().metrics["train_samples_per_second"])
    return {
        "run": name,
        "samples/s": sps,
        "peak MiB": torch.cuda.max_memory_allocated() / 2**20,
        "planner MiB": None,
        "accuracy": None,
        "s": time.perf_counter() - t0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60)
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("gpu_lane: no CUDA GPU; run benchmarks/gpu_lane.sh on a GPU machine")
    lora = {"kind": "lora", "lora": {"r": 8, "alpha": 16, "target_modules": ["query", "value"]}}
    qlora = {"kind": "qlora", "lora": {"r": 8, "alpha": 16, "target_modules": "all-linear"}}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        plain_row("warm-up (plain, 5 steps)", 5, t / "warm", lora=False)
        for name, fn in (
            ("tuneproof full bf16 MiniLM", lambda: tuneproof_row(
                "tuneproof full bf16 MiniLM", _config("minilm-l6", {"kind": "full"},
                                                      args.steps, 5e-5), t / "full")),
            ("plain Trainer full bf16 MiniLM", lambda: plain_row(
                "plain Trainer full bf16 MiniLM", args.steps, t / "pfull", lora=False)),
            ("tuneproof LoRA bf16 MiniLM", lambda: tuneproof_row(
                "tuneproof LoRA bf16 MiniLM", _config("minilm-l6", lora, args.steps, 1e-3),
                t / "lora")),
            ("plain Trainer LoRA bf16 MiniLM", lambda: plain_row(
                "plain Trainer LoRA bf16 MiniLM", args.steps, t / "plora", lora=True)),
            ("tuneproof QLoRA SmolLM2-135M", lambda: tuneproof_row(
                "tuneproof QLoRA SmolLM2-135M", _config("smollm2", qlora, args.steps, 1e-3),
                t / "qlora")),
        ):  # fmt: skip
            try:
                rows.append(fn())
            except Exception as err:  # one failing row must not hide the others' figures
                rows.append({"run": name, "error": f"{type(err).__name__}: {err}"[:120]})
            print(rows[-1], flush=True)
    gpu = torch.cuda.get_device_name(0)
    print(f"\n| run ({gpu}, {args.steps} steps, batch {BATCH}, {SEQ} tokens) | samples/s | "
          "peak MiB (max_memory_allocated) | planner estimate MiB | estimate / peak | "
          "accuracy | wall s |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        if "error" in r:
            print(f"| {r['run']} | failed: {r['error']} | | | | | |")
            continue
        est, peak = r["planner MiB"], r["peak MiB"]
        ratio = f"{est / peak:.2f}" if est and peak else "–"
        acc = f"{r['accuracy']:.4f}" if r["accuracy"] is not None else "–"
        print(f"| {r['run']} | {r['samples/s']:.1f} | {peak:.0f} | "
              f"{f'{est:.0f}' if est else '–'} | {ratio} | {acc} | {r['s']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
