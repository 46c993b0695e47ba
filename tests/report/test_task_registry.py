"""A task registered in one place (one adapter, one entry in ``TASKS``) is seen by every consumer:
config validation, the planner's head, `init`, `evalplan`, the linter and the model card.

Lives beside the report tests because the model card is the highest consumer (it needs a run
directory, written by this folder's ``run_dir`` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tuneproof.errors import UserError
from tuneproof.tasks import TASKS, parse_config
from tuneproof.tasks.base import CardTemplate, EvalTemplate, StarterConfig
from tuneproof.tasks.classification import SequenceClassification

NAME = "dummy-task"


class DummyTask(SequenceClassification):
    """Behaves like sequence classification; every declared fact differs from it."""

    name = NAME
    peft_task_type = "TOKEN_CLS"
    auto_class = "AutoModelForTokenClassification"
    head_labels: int | None = 3
    card = CardTemplate(
        "zero-shot-classification", 'pipe("dummy input")', pipeline="dummy-pipeline"
    )
    starter = StarterConfig(name="dummy", data="  builtin: polarity-en\n  max_length: 32\n")
    eval_templates: tuple[EvalTemplate, ...] = (
        EvalTemplate("dummy-plan", "dummy note: the dummy slice", negation=True),
    )


@pytest.fixture
def dummy(monkeypatch: pytest.MonkeyPatch) -> DummyTask:
    task = DummyTask()
    monkeypatch.setitem(TASKS, NAME, task)  # the one place a task is registered
    return task


def test_a_task_unknown_to_the_registry_is_refused_with_the_file_named() -> None:
    with pytest.raises(UserError, match=r"cfg\.yaml: task: 'dummy-task' is not a task"):
        parse_config({"task": NAME, "data": {"builtin": "polarity-en"}}, "cfg.yaml")


def test_a_registered_task_is_seen_by_every_consumer(dummy: DummyTask, run_dir: Path) -> None:
    from tuneproof.evaluate.plan import build_plan
    from tuneproof.plan import lora as calc
    from tuneproof.plan.args import lint_mapping
    from tuneproof.report.bundle import load_evidence
    from tuneproof.report.limitations import draft_limitations
    from tuneproof.report.modelcard import render_model_card
    from tuneproof.tasks.templates import starter_config

    # config: the name is accepted
    assert parse_config({"task": NAME, "data": {"builtin": "polarity-en"}}).task == NAME

    # plan: the head is the adapter's auto class, PEFT task type and fixed size
    recipe = calc.model_recipe(calc.resolve_source("minilm-l6"), NAME, num_labels=2)
    assert (recipe.class_name, recipe.task_type, recipe.num_labels) == (
        "AutoModelForTokenClassification",
        "TOKEN_CLS",
        3,
    )

    # init: the adapter's starter, in the shared layout, valid as it is
    text = starter_config(NAME, "x.yaml")
    cfg = parse_config(yaml.safe_load(text))
    assert cfg.task == NAME and cfg.name == "my-dummy" and cfg.data.max_length == 32
    assert "tuneproof train x.yaml" in text

    # evalplan: the adapter's template, its note and its negation slice
    plan = build_plan(["en", "fr"], task="dummy-plan")
    assert plan.notes == ["dummy note: the dummy slice"]
    assert "negation=yes" in {s.key for s in plan.slices}

    # args lint: the task is not an invalid key
    report = lint_mapping(
        {"task": NAME, "data": {"builtin": "polarity-en"}, "training": {"seed": 1}}, "cfg"
    )
    assert not [f for f in report.findings if f.key == "task"]

    # model card: pipeline tag and usage come from the adapter
    path = run_dir / "metrics.json"
    raw = json.loads(path.read_text())
    raw["task"] = NAME
    path.write_text(json.dumps(raw))
    ev = load_evidence(run_dir)
    card = render_model_card(ev, draft_limitations(ev))
    meta = yaml.safe_load(card.front_matter)
    assert meta["pipeline_tag"] == "zero-shot-classification"
    assert 'pipeline("dummy-pipeline", model="PATH/TO/model")' in card.text
    assert 'print(pipe("dummy input"))' in card.text
    raw["training"]["kind"] = "lora"
    path.write_text(json.dumps(raw))
    ev = load_evidence(run_dir)
    assert "AutoPeftModelForTokenClassification" in render_model_card(ev, []).text


def test_evalplan_templates_are_the_adapters() -> None:
    from tuneproof.evaluate.plan import templates

    assert list(templates()) == [t.name for task in TASKS.values() for t in task.eval_templates]
    assert {"sentiment", "classification", "extractive-qa"} <= set(templates())
