"""Task adapters: the few things that differ between tasks, as small objects with one protocol.

The trainer (``tuneproof.train.run``) never branches on the task; it asks the adapter to prepare
data, build the model, collate, compute metrics and write prediction rows. Adding a task means
adding one module here and one line to :data:`TASKS`.
"""

from __future__ import annotations

from tuneproof.errors import UserError
from tuneproof.tasks.base import Prepared, TaskAdapter
from tuneproof.tasks.classification import SequenceClassification
from tuneproof.tasks.qa import ExtractiveQA
from tuneproof.tasks.similarity import SentenceSimilarity
from tuneproof.tasks.summarization import Summarization
from tuneproof.tasks.token_classification import TokenClassification

TASKS: dict[str, TaskAdapter] = {
    "sequence-classification": SequenceClassification(),
    "token-classification": TokenClassification(),
    "extractive-qa": ExtractiveQA(),
    "summarization": Summarization(),
    "similarity": SentenceSimilarity(),
}

# PEFT task types, read off the adapters (one place: each adapter declares its own).
PEFT_TASK_TYPES: dict[str, str] = {name: t.peft_task_type for name, t in TASKS.items()}


def get_task(name: str) -> TaskAdapter:
    try:
        return TASKS[name]
    except KeyError:
        known = ", ".join(TASKS)
        raise UserError(f"task '{name}' is not available yet; available: {known}") from None


__all__ = ["PEFT_TASK_TYPES", "TASKS", "Prepared", "TaskAdapter", "get_task"]
