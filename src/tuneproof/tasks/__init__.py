"""Task adapters: the few things that differ between tasks, as small objects with one protocol.

The trainer (``tuneproof.train.run``) never branches on the task; it asks the adapter to prepare
data, build the model, collate, compute metrics and write prediction rows. Every fact about a
task lives on its adapter (auto class, PEFT task type, pipeline tag and model-card example,
starter config, evaluation-plan templates, token accounting in ``prepare``) and every consumer
reads it from :data:`TASKS`, so adding a task means adding one module here and one line to
:data:`TASKS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuneproof.config import RunConfig
from tuneproof.config import load_config as _load_config
from tuneproof.config import parse_config as _parse_config
from tuneproof.errors import UserError, did_you_mean
from tuneproof.tasks.base import Prepared, TaskAdapter, TokenCount
from tuneproof.tasks.classification import SequenceClassification
from tuneproof.tasks.language_modeling import LanguageModeling
from tuneproof.tasks.preference import Preference
from tuneproof.tasks.qa import ExtractiveQA
from tuneproof.tasks.similarity import SentenceSimilarity
from tuneproof.tasks.summarization import Summarization
from tuneproof.tasks.token_classification import TokenClassification

TASKS: dict[str, TaskAdapter] = {
    t.name: t
    for t in (
        SequenceClassification(),
        TokenClassification(),
        ExtractiveQA(),
        Summarization(),
        SentenceSimilarity(),
        LanguageModeling(),
        Preference(),
    )
}


def unknown_task(name: str) -> str:
    """What is wrong with a task name that no adapter has, and the fix."""
    return f"'{name}' is not a task{did_you_mean(name, TASKS)}; tasks: {', '.join(TASKS)}"


def get_task(name: str) -> TaskAdapter:
    try:
        return TASKS[name]
    except KeyError:
        raise UserError(f"task {unknown_task(name)}") from None


def check_task(config: RunConfig, source: str) -> RunConfig:
    if config.task not in TASKS:
        raise UserError(f"{source}: task: {unknown_task(config.task)}")
    return config


def parse_config(raw: Any, source: str = "config") -> RunConfig:
    """``tuneproof.config.parse_config`` with the task checked against the registry."""
    return check_task(_parse_config(raw, source), source)


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> RunConfig:
    """``tuneproof.config.load_config`` (with ``--set`` overrides) and the task checked against
    the registry."""
    return check_task(_load_config(path, overrides), str(path))


__all__ = [
    "TASKS",
    "Prepared",
    "TaskAdapter",
    "TokenCount",
    "get_task",
    "load_config",
    "parse_config",
]
