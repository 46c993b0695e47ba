"""Training throughput: `tuneproof train` against a plain Hugging Face `Trainer` script.

Both train the packaged MiniLM on the same polarity-en rows with the same TrainingArguments
(max_steps, batch size, seed, no evaluation), in the same process, in pairs (A B, then B A, ...)
so a drift in machine speed hits both. Prints samples/s per repeat, the medians, the paired
ratios and the overhead of tuneproof (target: no more than 3 % slower).

``--defaults`` runs the other pair (#17 item 6): tuneproof's *default* input pipeline (dynamic
padding; ``training.sampling`` as its default) against the plain pattern of the Hugging Face tutorial (every row
padded to ``max_length``, random batches), one epoch each on the whole polarity-en train split,
then samples/s and test accuracy (95 % Wilson interval, the same for both) side by side. Goal:
at least 1.3x the samples/s at an accuracy equal within its interval.

    python benchmarks/train_throughput.py --steps 30 --repeats 6
    python benchmarks/train_throughput.py --defaults --epochs 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tuneproof.config import parse_config
from tuneproof.stats import wilson


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


@dataclass
class PairResult:
    samples_per_second: float
    correct: int
    n: int
    seconds: float

    def line(self, name: str) -> str:
        lo, hi = wilson(self.correct, self.n)
        return (
            f"{name:<34} {self.samples_per_second:8.2f} samples/s   test accuracy "
            f"{self.correct / self.n:.4f} (95 % CI {lo:.4f} – {hi:.4f}, n={self.n})   "
            f"{self.seconds:.0f} s"
        )


def tuneproof_defaults(epochs: float, batch: int, max_length: int, out: Path) -> PairResult:
    """`tuneproof train` as a user gets it: only the data, model and epochs are set."""
    from tuneproof import rundir
    from tuneproof.train import run

    cfg = parse_config(
        {
            "data": {"builtin": "polarity-en", "id_column": "id", "max_length": max_length},
            "model": {"name": "minilm-l6"},
            "training": {
                "epochs": epochs,
                "batch_size": batch,
                "eval_strategy": "no",
                "save_strategy": "no",
                "early_stopping_patience": None,
            },
            "tracking": {"enabled": False},
            "checks": {"enabled": False},
        }
    )
    print(f"tuneproof defaults: dynamic padding, sampling {cfg.training.sampling}", flush=True)
    t0 = time.perf_counter()
    result = run(cfg, out, overwrite=True)
    rows = rundir.read_predictions(out)
    correct = sum(1 for r in rows if r.pred == r.gold)
    return PairResult(
        result.timing["train_samples_per_second"], correct, len(rows), time.perf_counter() - t0
    )


def tutorial_run(epochs: float, batch: int, max_length: int, out: Path) -> PairResult:
    """The Hugging Face tutorial's pattern: ``padding="max_length"`` in ``Dataset.map``, the
    default collator, random batches; the same model, rows, optimiser settings and seed."""
    import numpy as np
    import pandas as pd
    import transformers
    from datasets import Dataset
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        Trainer,
        TrainingArguments,
        default_data_collator,
    )

    from tuneproof.data.corpora import builtin_dataset
    from tuneproof.models import resolve_model

    path = resolve_model("minilm-l6")
    files = builtin_dataset("polarity-en")
    train_df, test_df = pd.read_csv(files["train"]), pd.read_csv(files["test"])
    tok = AutoTokenizer.from_pretrained(path)
    names = sorted(train_df.label.unique())

    def encode(df: pd.DataFrame) -> Dataset:
        ds = Dataset.from_dict(
            {"text": df.text.tolist(), "labels": [names.index(x) for x in df.label]}
        )
        return ds.map(
            lambda b: tok(b["text"], padding="max_length", truncation=True, max_length=max_length),
            batched=True,
            remove_columns=["text"],
        )

    train_ds, test_ds = encode(train_df), encode(test_df)
    transformers.set_seed(42)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(names))
    args = TrainingArguments(
        str(out),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch,
        per_device_eval_batch_size=64,
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
        train_dataset=train_ds,
        processing_class=tok,
        data_collator=default_data_collator,
    )
    t0 = time.perf_counter()
    sps = float(trainer.train().metrics["train_samples_per_second"])
    pred = trainer.predict(test_ds)
    correct = int((np.argmax(pred.predictions, axis=-1) == pred.label_ids).sum())
    return PairResult(sps, correct, len(test_ds), time.perf_counter() - t0)


def defaults_pair(epochs: float, batch: int, max_length: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        plain_run(4, batch, Path(tmp) / "warm")  # warm caches and the allocator
        tp = tuneproof_defaults(epochs, batch, max_length, Path(tmp) / "tp")
        print(tp.line("tuneproof defaults"), flush=True)
        tut = tutorial_run(epochs, batch, max_length, Path(tmp) / "tutorial")
        print(tut.line(f"tutorial (pad to {max_length}, random)"), flush=True)
    ratio = tp.samples_per_second / tut.samples_per_second
    (a_lo, a_hi), (b_lo, b_hi) = wilson(tp.correct, tp.n), wilson(tut.correct, tut.n)
    overlap = a_lo <= b_hi and b_lo <= a_hi
    print(f"speed-up tuneproof defaults / tutorial = {ratio:.2f}x (goal ≥ 1.3x)")
    print(
        f"accuracy difference {tp.correct / tp.n - tut.correct / tut.n:+.4f}; the intervals "
        + ("overlap (equal within the CI)" if overlap else "do NOT overlap")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--defaults", action="store_true", help="tuneproof defaults vs the tutorial pattern"
    )
    ap.add_argument("--epochs", type=float, default=1.0, help="--defaults: epochs of each run")
    ap.add_argument("--max-length", type=int, default=128, help="--defaults: data.max_length")
    args = ap.parse_args()
    if args.defaults:
        defaults_pair(args.epochs, args.batch, args.max_length)
        return
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
