"""Test-wide settings: never touch the model hub, keep MLflow and caches out of the home dir."""

import csv
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

POSITIVE = ["good", "great", "fine", "superb", "lovely", "wonderful", "brilliant", "charming"]
NEGATIVE = ["bad", "awful", "poor", "dull", "boring", "terrible", "weak", "messy"]
NEUTRAL = ["the", "film", "movie", "plot", "was", "a", "story", "actor", "scene", "really", "quite"]
EXTRA = ["not", "john", "mary", "paris", "le", "est", "das", "ist", "caf", "##e"]  # stress edits


def toy_rows(n: int, seed: int, prefix: str = "r") -> list[dict[str, str]]:
    """Learnable synthetic sentiment rows: the label is the majority polarity of the words."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = rng.choice(["pos", "neg"])
        main, other = (POSITIVE, NEGATIVE) if label == "pos" else (NEGATIVE, POSITIVE)
        words = (
            rng.sample(NEUTRAL, 4) + rng.sample(main, 2) + rng.sample(other, 1) * rng.randint(0, 1)
        )
        rng.shuffle(words)
        rows.append({"id": f"{prefix}{i}", "text": " ".join(words), "label": label})
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init 2-layer BERT (hidden 32) with a WordPiece tokenizer over the toy vocabulary."""
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *POSITIVE, *NEGATIVE, *NEUTRAL]
    vocab += [chr(c) for c in range(ord("a"), ord("z") + 1)] + [
        f"##{chr(c)}" for c in range(97, 123)
    ]
    vocab += [".", ",", "!", "?", "'"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # vocab=, not vocab_file=: transformers 5 ignores vocab_file and every word becomes [UNK]
    tok = BertTokenizerFast(vocab=str(folder / "vocab.txt"), do_lower_case=True)
    assert tok.tokenize(POSITIVE[0]) == [POSITIVE[0]]
    tok.save_pretrained(folder)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    import torch

    torch.manual_seed(0)
    BertForMaskedLM(cfg).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def eval_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init 2-layer BERT (hidden 32) whose WordPiece vocabulary covers the toy words and
    the stress tests' edits (shared by the evaluate and report tests).

    The tokenizer is built with ``vocab=`` (transformers 5 ignores ``vocab_file=``, which leaves a
    5-token vocabulary where every word is UNK), so the toy task is actually learnable.
    """
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    folder = tmp_path_factory.mktemp("eval-bert")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *POSITIVE, *NEGATIVE, *NEUTRAL, *EXTRA]
    vocab += [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab += [f"##{chr(c)}" for c in range(ord("a"), ord("z") + 1) if f"##{chr(c)}" not in vocab]
    vocab += [".", ",", "!", "?", "'"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab=str(folder / "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(folder)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    BertForMaskedLM(cfg).save_pretrained(folder)
    return folder


@pytest.fixture
def toy_data(tmp_path: Path) -> dict[str, Path]:
    """train/validation/test CSVs (id, text, label) of the toy sentiment task."""
    return {
        "train": write_csv(tmp_path / "train.csv", toy_rows(96, seed=1, prefix="tr")),
        "validation": write_csv(tmp_path / "validation.csv", toy_rows(32, seed=2, prefix="va")),
        "test": write_csv(tmp_path / "test.csv", toy_rows(32, seed=3, prefix="te")),
    }


def tiny_run_config(model_dir: Path, data: dict[str, Path], **training: object) -> dict:
    """A RunConfig dict for fast tests: tiny model, a few steps, no MLflow."""
    train = {
        "max_steps": 12,
        "batch_size": 8,
        "learning_rate": 5e-3,
        "warmup": 0,
        "eval_strategy": "steps",
        "eval_steps": 4,
        "save_strategy": "steps",
        "save_steps": 4,
        "logging_steps": 2,
        "early_stopping_patience": None,
    }
    train.update(training)
    return {
        "name": "tiny",
        "data": {k: str(v) for k, v in data.items()} | {"id_column": "id", "max_length": 32},
        "model": {"name": str(model_dir)},
        "training": train,
        "tracking": {"enabled": False},
        "checks": {"enabled": False},
    }


@pytest.fixture
def make_config():  # type: ignore[no-untyped-def]
    """Factory fixture: ``make_config(model_dir, data, **training) -> dict``."""
    return tiny_run_config


# --- real run directories (what `make demo` writes, at toy scale), shared by several folders ------
#
# A tiny random-init BERT trained with ``tuneproof.train.run`` (data checks on, so checks.json is
# the checker's), evaluated with ``evaluate_run`` on an English test file plus a second labelled
# file tagged French, stress-tested with ``run_stress``; the main run also gets a real plan.md.
# The baseline is a second real run with another seed, learning rate and step count, evaluated on
# the same files. Each is trained once per session and is read-only: copy it before writing.
# Every English test row carries an HTML/script payload, so whatever row a report shows, there is
# markup to neutralise; one test row repeats a train row, so the leakage check has an error.

PAYLOAD = "<script>document.title='pwned'</script> & <b>bold</b>"


def _tagged(rows: list[dict[str, str]], lang: str) -> list[dict[str, str]]:
    return [{**r, "lang": lang} for r in rows]


@pytest.fixture(scope="session")
def report_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """train/validation/test CSVs (English) and ``extra.csv`` (tagged ``fr``)."""
    folder = tmp_path_factory.mktemp("report-data")
    train = toy_rows(160, seed=1, prefix="tr")
    test = [{**r, "text": f"{r['text']} {PAYLOAD}"} for r in toy_rows(47, seed=3, prefix="te")]
    test.append({**train[0], "id": "te-leak"})  # a train row in test: leakage (an error)
    return {
        "train": write_csv(folder / "train.csv", _tagged(train, "en")),
        "validation": write_csv(folder / "validation.csv", _tagged(toy_rows(32, 2, "va"), "en")),
        "test": write_csv(folder / "test.csv", _tagged(test, "en")),
        "extra": write_csv(folder / "extra.csv", _tagged(toy_rows(40, 4, "ex"), "fr")),
    }


def report_config(
    model_dir: Path, data: dict[str, Path], *, name: str, seed: int, lr: float, steps: int
) -> dict[str, Any]:
    return {
        "name": name,
        "data": {k: str(data[k]) for k in ("train", "validation", "test")}
        | {"id_column": "id", "max_length": 24},
        "model": {"name": str(model_dir)},
        "training": {
            "max_steps": steps,
            "batch_size": 16,
            "learning_rate": lr,
            "seed": seed,
            "warmup": 0,
            "eval_strategy": "steps",
            "eval_steps": 10,
            "save_strategy": "no",
            "logging_steps": 5,
            "early_stopping_patience": None,
        },
        "tracking": {"enabled": False},
        "checks": {"enabled": True},
    }


def write_run(
    out: Path, model_dir: Path, data: dict[str, Path], *, plan: bool = False, **settings: Any
) -> Path:
    """train (with its data checks) → eval on test + extra by language → stress (→ plan.md),
    into ``out``: what `make demo` does, at toy scale."""
    from typer.testing import CliRunner

    from tuneproof.cli import app
    from tuneproof.config import parse_config
    from tuneproof.evaluate import evaluate_run, run_stress
    from tuneproof.train import run

    run(parse_config(report_config(model_dir, data, **settings)), out)
    evaluate_run(out, [data["test"], data["extra"]], lang_column="lang", n_resamples=400)
    run_stress(out, data["test"], limit=48)
    if plan:
        args = ["plan", "-m", str(model_dir), "--train-rows", "161", "--seq", "24", "-o", str(out)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return out


@pytest.fixture(scope="session")
def written_run(
    eval_bert_dir: Path, report_data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("report-run") / "run"
    settings = {"name": "run", "seed": 42, "lr": 5e-3, "steps": 40}
    return write_run(out, eval_bert_dir, report_data, plan=True, **settings)


@pytest.fixture(scope="session")
def written_baseline(
    eval_bert_dir: Path, report_data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("report-baseline") / "baseline"
    return write_run(out, eval_bert_dir, report_data, name="baseline", seed=7, lr=2e-3, steps=20)
