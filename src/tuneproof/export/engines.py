"""One interface over the engines a run's model can be served by: PyTorch, ONNX Runtime.

A :class:`Predictor` turns a batch of inputs into logits; everything above it (parity checks,
``bench``, ``serve``) is the same for every engine, so the figures compare like with like. Inputs
are what the task reads: texts for sequence classification, word lists for token
classification (``is_split_into_words``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tuneproof.errors import UserError

SUPPORTED = ("sequence-classification", "token-classification")
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def check_supported(task: str) -> None:
    if task not in SUPPORTED:
        raise UserError(
            f"task '{task}': export is not supported yet (supported: {', '.join(SUPPORTED)}); "
            "serve the run with PyTorch through `tuneproof predict`"
        )


@dataclass(frozen=True)
class Batch:
    """Tokenised inputs and, for token classification, which token gives each word's label."""

    features: dict[str, np.ndarray]
    word_index: list[list[int]] | None = None  # per row: token positions of each word


def tokenize(tokenizer: Any, inputs: Sequence[Any], task: str, max_length: int) -> Batch:
    words = task == "token-classification"
    enc = tokenizer(
        list(inputs),
        is_split_into_words=words,
        truncation=True,
        max_length=max_length,
        padding=True,
        return_tensors="np",
    )
    features = {k: np.asarray(v, dtype=np.int64) for k, v in enc.items() if k in ONNX_INPUTS}
    index = None
    if words:
        index = []
        for i in range(len(inputs)):
            firsts: dict[int, int] = {}
            for pos, w in enumerate(enc.word_ids(i)):
                if w is not None and w not in firsts:
                    firsts[w] = pos
            index.append([firsts[w] for w in sorted(firsts)])
    return Batch(features, index)


class Predictor(Protocol):
    name: str
    label_names: list[str]

    def logits(self, batch: Batch) -> np.ndarray: ...


@dataclass
class TorchPredictor:
    name: str
    model: Any
    label_names: list[str]

    def logits(self, batch: Batch) -> np.ndarray:
        import torch

        with torch.inference_mode():
            feats = {k: torch.from_numpy(v) for k, v in batch.features.items()}
            return np.asarray(self.model(**feats).logits.float().numpy())


@dataclass
class OnnxPredictor:
    name: str
    session: Any
    label_names: list[str]

    def logits(self, batch: Batch) -> np.ndarray:
        wanted = {i.name for i in self.session.get_inputs()}
        feeds = {k: v for k, v in batch.features.items() if k in wanted}
        return np.asarray(self.session.run(["logits"], feeds)[0], dtype=np.float32)


def onnx_session(path: Path, threads: int | None = None) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def labels_of(logits: np.ndarray, batch: Batch, label_names: list[str]) -> list[Any]:
    """Predicted labels per row (per word for token classification)."""
    arg = logits.argmax(-1)
    if batch.word_index is None:
        return [label_names[int(k)] for k in arg]
    return [[label_names[int(arg[i, p])] for p in idx] for i, idx in enumerate(batch.word_index)]


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def threads_in_use() -> int:
    import torch

    return int(os.environ.get("OMP_NUM_THREADS") or torch.get_num_threads())
