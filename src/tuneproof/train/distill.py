"""Knowledge distillation: a (smaller) student learns from a teacher run's soft labels.

The loss is Hinton et al.'s: ``(1 - alpha) * CE(student, gold) + alpha * T² * KL(teacher_T ||
student_T)`` with both distributions softened by the temperature ``T``. The teacher's logits on
the training rows are computed once (no grad, batched) and cached by the teacher's weights and
the texts, so a resumed or repeated student run does not pay for the teacher again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
from transformers import Trainer

from tuneproof.cache import cache_dir
from tuneproof.config import RunConfig, StrategyConfig
from tuneproof.errors import UserError

COLUMN = "teacher_logits"


def _texts(prepared: Any, config: RunConfig) -> tuple[list[str], list[str] | None]:
    frame = prepared.frames["train"]
    dc = config.data
    texts = [str(t) for t in frame[dc.text_column]]
    pairs = [str(t) for t in frame[dc.text_pair_column]] if dc.text_pair_column else None
    return texts, pairs


def teacher_logits(
    teacher_dir: Path, texts: list[str], pairs: list[str] | None, labels: list[str]
) -> np.ndarray:
    """The teacher's logits per text, columns in the student's label order (cached)."""
    import torch

    from tuneproof.evaluate.predict import load_run

    weights = sorted((teacher_dir / "model").glob("*.safetensors"))
    if not weights:
        raise UserError(f"strategy.teacher {teacher_dir}: no trained model/ (safetensors) found")
    h = hashlib.sha256()
    for w in weights:
        h.update(w.read_bytes())
    h.update("\0".join(texts + (pairs or [])).encode())
    cached = cache_dir("distill") / f"{h.hexdigest()[:24]}.npy"
    teacher = load_run(teacher_dir)
    names = list(teacher.label_names or [])
    if sorted(names) != sorted(labels):
        raise UserError(
            f"strategy.teacher {teacher_dir}: its labels {names} differ from the student's {labels}"
        )
    order = [names.index(lab) for lab in labels]
    if cached.exists():
        return np.load(cached)[:, order]
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), 64):
            args = [texts[i : i + 64]] + ([pairs[i : i + 64]] if pairs else [])
            enc = teacher.tokenizer(
                *args,
                truncation=True,
                max_length=teacher.config.data.max_length,
                padding=True,
                return_tensors="pt",
            )
            out.append(teacher.model(**enc).logits.float().numpy())
    logits = np.concatenate(out)
    np.save(cached, logits)
    return logits[:, order]


def with_teacher_logits(prepared: Any, config: RunConfig) -> Any:
    """The training dataset with a ``teacher_logits`` column (sequence classification only)."""
    if config.task != "sequence-classification":
        raise UserError(
            f"strategy.kind distill: supported for sequence-classification, not {config.task}"
        )
    assert config.strategy.teacher is not None
    teacher = Path(config.strategy.teacher)
    if not teacher.is_dir():
        raise UserError(f"strategy.teacher {teacher}: no such run directory")
    texts, pairs = _texts(prepared, config)
    logits = teacher_logits(teacher, texts, pairs, list(prepared.label_names or []))
    return prepared.datasets["train"].add_column(COLUMN, [row.tolist() for row in logits])


class DistillTrainer(Trainer):  # type: ignore[misc]
    """``Trainer`` with the distillation loss; evaluation rows (no teacher logits) use CE."""

    temperature: float = 2.0
    alpha: float = 0.5

    @classmethod
    def configured(cls, strategy: StrategyConfig) -> type[DistillTrainer]:
        return type(
            "DistillTrainer", (cls,), {"temperature": strategy.temperature, "alpha": strategy.alpha}
        )

    def _set_signature_columns_if_needed(self) -> None:
        super()._set_signature_columns_if_needed()
        columns = self._signature_columns
        if columns is not None and COLUMN not in columns:
            columns.append(COLUMN)  # keep the soft labels through the collator

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        import torch.nn.functional as F

        soft = inputs.pop(COLUMN, None)
        outputs = model(**inputs)
        loss = outputs.loss
        if soft is not None:
            t = self.temperature
            kl = F.kl_div(
                F.log_softmax(outputs.logits / t, dim=-1),
                F.softmax(soft.to(outputs.logits.dtype) / t, dim=-1),
                reduction="batchmean",
            )
            loss = (1 - self.alpha) * loss + self.alpha * t * t * kl
        return (loss, outputs) if return_outputs else loss
