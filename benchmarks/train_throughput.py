"""Training throughput: `tuneproof train` against a plain Hugging Face `Trainer` script.

Both train the packaged MiniLM on the same polarity-en rows with the same TrainingArguments
(max_steps, batch size, seed, no evaluation), in the same process, in pairs (A B, then B A, ...)
so a drift in machine speed hits both. Prints samples/s per repeat, the medians, the paired
ratios and the overhead of tuneproof (target: no more than 3 % slower).

    python benchmarks/train_throughput.py --steps 30 --repeats 6
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tuneproof.config import parse_config


def tuneproof_run(steps: int, batch: int, out: Path) -> float:
    from tuneproof.train import run

    cfg = parse_config(
        {
            "data": {"builtin": "polarity-en", "id_column": "id", "max_length": 64},
            "model": {"name": "minilm-l6"},
            "training": {
                "max_steps": steps,
                "batch_size": batch,
                "eval_strategy": "no",
                "save_strategy": "no",
                "early_stopping_patience": None,
                "logging_steps": 10,
            },
            "tracking": {"enabled": False},
            "checks": {"enabled": False},
        }
    )
    result = run(cfg, out, overwrite=True)
    return result.timing["train_samples_per_second"]


def plain_run(steps: int, batch: int, out: Path) -> float:
    """What a user would write by hand: tokenize, Trainer, train."""
    import pandas as pd
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

    path = resolve_model("minilm-l6")
    df = pd.read_csv(builtin_dataset("polarity-en")["train"])
    tok = AutoTokenizer.from_pretrained(path)
    names = sorted(df.label.unique())
    enc = tok(df.text.tolist(), truncation=True, max_length=64)
    ds = Dataset.from_dict({**enc, "labels": [names.index(x) for x in df.label]})
    transformers.set_seed(42)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(names))
    args = TrainingArguments(
        str(out),
        max_steps=steps,
        per_device_train_batch_size=batch,
        learning_rate=5e-5,
        warmup_steps=0.1,
        weight_decay=0.01,
        eval_strategy="no",
        save_strategy="no",
        logging_steps=10,
        seed=42,
        data_seed=42,
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=False,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=ds,
        processing_class=tok,
        data_collator=DataCollatorWithPadding(tok),
    )
    out_metrics = trainer.train().metrics
    return float(out_metrics["train_samples_per_second"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    tp: list[float] = []
    plain: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        plain_run(4, args.batch, Path(tmp) / "warm")  # warm caches and the allocator
        for i in range(args.repeats):
            t0 = time.perf_counter()
            # alternate which goes first, so warm-up or drift within a pair favours neither
            if i % 2 == 0:
                tp.append(tuneproof_run(args.steps, args.batch, Path(tmp) / "tp"))
                plain.append(plain_run(args.steps, args.batch, Path(tmp) / "plain"))
            else:
                plain.append(plain_run(args.steps, args.batch, Path(tmp) / "plain"))
                tp.append(tuneproof_run(args.steps, args.batch, Path(tmp) / "tp"))
            print(
                f"repeat {i + 1}: tuneproof {tp[-1]:.2f} samples/s, plain Trainer "
                f"{plain[-1]:.2f} samples/s ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    a, b = statistics.median(tp), statistics.median(plain)
    print(f"median  tuneproof {a:.2f} samples/s | plain Trainer {b:.2f} samples/s")
    print(f"ratio of medians tuneproof / plain = {a / b:.3f}")
    # Each pair ran back to back, so its ratio cancels the machine's drift between pairs; the
    # median of the paired ratios is the figure to read on a shared machine.
    ratios = [x / y for x, y in zip(tp, plain, strict=True)]
    r = statistics.median(ratios)
    print(f"paired ratios {', '.join(f'{x:.3f}' for x in ratios)}")
    print(f"median paired ratio = {r:.3f} ({(1 - r) * 100:+.1f} % slower; target ≤ 3 %)")


if __name__ == "__main__":
    main()
