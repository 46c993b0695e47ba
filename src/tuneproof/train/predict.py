"""Load a run's model and predict: batched, no grad, length-sorted (less padding, same results)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneproof.errors import UserError


@dataclass
class LoadedRun:
    run_dir: Path
    model: Any
    tokenizer: Any
    label_names: list[str]
    max_length: int


def load_run_model(run_dir: str | Path) -> LoadedRun:
    """The model in ``RUN/model`` (full weights or a PEFT adapter, through the task adapter's
    ``load_trained``, as ``tuneproof eval`` loads it) with its tokenizer."""
    from transformers import AutoTokenizer

    from tuneproof.tasks import get_task, load_config

    run_dir = Path(run_dir)
    model_dir = run_dir / "model"
    if not model_dir.is_dir():
        raise UserError(f"{run_dir}: no model/ folder; run `tuneproof train` first")
    if not (run_dir / "config.yaml").exists():
        raise UserError(f"{run_dir}: no config.yaml; is this a tuneproof run directory?")
    config = load_config(run_dir / "config.yaml")
    if config.task != "sequence-classification":
        raise UserError(
            f"{run_dir}: predict labels texts and needs a sequence-classification run; this run "
            f"is {config.task}: use `tuneproof eval {run_dir} --data FILE`"
        )
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = get_task(config.task).load_trained(model_dir, config)
    model.eval()
    id2label: dict[Any, str] = dict(model.config.id2label or {})
    names = [id2label[i] for i in range(len(id2label))]
    return LoadedRun(run_dir, model, tokenizer, names, config.data.max_length)


def predict_texts(
    loaded: LoadedRun, texts: list[str], batch_size: int = 64
) -> list[dict[str, Any]]:
    """Label, probabilities and token count per text, in input order; ``truncated`` says the
    text was cut at the run's ``max_length``, counted as the task adapter counts in training."""
    import torch

    from tuneproof.tasks.base import encoding_counts

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list[dict[str, Any]] = [{} for _ in texts]
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = loaded.tokenizer(
                [texts[i] for i in idx],
                truncation=True,
                max_length=loaded.max_length,
                padding=True,
                return_tensors="pt",
            )
            counts = encoding_counts(loaded.tokenizer, [texts[i] for i in idx], None, enc)
            probs = torch.softmax(loaded.model(**enc).logits.float(), dim=-1).numpy()
            for row, i, count in zip(probs, idx, counts, strict=True):
                k = int(row.argmax())
                out[i] = {
                    "text": texts[i],
                    "label": loaded.label_names[k],
                    "score": float(row[k]),
                    "probabilities": {
                        n: float(p) for n, p in zip(loaded.label_names, row, strict=True)
                    },
                    "tokens": count.total,
                    "truncated": count.truncated,
                }
    return out
