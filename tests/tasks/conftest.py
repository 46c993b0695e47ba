"""Fixtures for the task tests: synthetic data per task, a tiny Llama with a chat template."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneproof.data import synthetic


def write_splits(folder: Path, make, sizes=(48, 16, 16), **kw) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for (split, seed), n in zip((("train", 1), ("validation", 2), ("test", 3)), sizes, strict=True):
        out[split] = synthetic.write_jsonl(
            folder / f"{split}.jsonl", make(n, seed, prefix=split[:2], **kw)
        )
    return out


def task_config(model_dir: Path, files: dict[str, Path], task: str, **over: object) -> dict:
    """A RunConfig dict for a fast task test: tiny model, a few steps, no MLflow, no checks."""
    training = {
        "max_steps": 30,
        "batch_size": 8,
        "learning_rate": 5e-3,
        "warmup": 0,
        "eval_strategy": "no",
        "save_strategy": "no",
        "logging_steps": 3,
        "early_stopping_patience": None,
    }
    training.update(over.pop("training", {}))  # type: ignore[call-overload]
    data_cfg = {k: str(v) for k, v in files.items()} | {"id_column": "id", "max_length": 48}
    data_cfg.update(over.pop("data", {}))  # type: ignore[call-overload]
    raw = {
        "name": f"tiny-{task}",
        "task": task,
        "data": data_cfg,
        "model": {"name": str(model_dir)},
        "training": training,
        "tracking": {"enabled": False},
        "checks": {"enabled": False},
    }
    raw.update(over)
    return raw


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init 2-layer BERT (hidden 32) whose WordPiece vocabulary holds the synthetic
    datasets' words, single letters and ``##`` letters (any other word splits into letters).

    (transformers 5 ignores ``BertTokenizerFast(vocab_file=...)``, so the vocabulary is passed
    as a dict; a tokenizer that maps every word to [UNK] would make these tests meaningless.)
    """
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-encoder")
    words: set[str] = set()
    for row in synthetic.ner_rows(200, 0):
        words |= {t.lower() for t in row["tokens"]}
    for row in synthetic.qa_rows(200, 0, filler=3):
        words |= set(row["context"].lower().replace(".", " ").replace("?", " ").split())
        words |= set(row["question"].lower().replace("?", " ").split())
    for row in synthetic.similarity_rows(100, 0):
        words |= set(row["sentence1"].split()) | set(row["sentence2"].split())
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words - set(letters))]
    vocab += letters + [f"##{c}" for c in letters] + list(".,!?'")
    tok = BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    assert tok.tokenize("Ada xq") == ["ada", "x", "##q"]
    tok.save_pretrained(folder)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    BertForMaskedLM(cfg).save_pretrained(folder)
    return folder


CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init 2-layer Llama (hidden 32) with a word-level tokenizer over the synthetic
    summarization vocabulary and a ChatML template (the SmolLM2 layout)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-llama")
    specials = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>"]
    words = set()
    for row in synthetic.summarization_rows(200, 0):
        words |= set(row["input"].replace(".", " . ").split())
        words |= set(row["output"].replace(".", " . ").split())
    words |= {"user", "assistant", "system", "\n", "Summarise", ":"}
    vocab = {w: i for i, w in enumerate(specials + sorted(words))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split("\n", "isolated"), pre_tokenizers.WhitespaceSplit(),
         pre_tokenizers.Punctuation()]
    )  # fmt: skip
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<|im_end|>"
    )
    fast.add_special_tokens({"additional_special_tokens": ["<|im_start|>"]})
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    cfg = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=0,
        eos_token_id=vocab["<|im_end|>"],
        bos_token_id=None,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).save_pretrained(folder)
    return folder
