"""The strategy tree (each branch, with real plans on shipped configs), the Python-snippet
reader (ast, never run) and the text-based lint/snippet/step counts of the learning pages."""

from __future__ import annotations

import dataclasses
import math

import pytest
import yaml

from tuneproof.errors import UserError
from tuneproof.plan import args as A
from tuneproof.plan.strategy import PlanInputs, gib, make_plan
from tuneproof.plan.tree import FEW_ROWS, KINDS, starter_config, starter_yaml, walk


@pytest.fixture(scope="module")
def bert_plan():
    return make_plan(
        PlanInputs(model="bert-base-uncased", train_rows=20_000, gpu_memory_bytes=gib(24))
    )


def _rejected_all_but(w, chosen: str) -> None:
    assert {r.kind for r in w.rejected} == set(KINDS) - {chosen}
    assert all(r.why for r in w.rejected)


def test_scarce_data_says_do_not_fine_tune(bert_plan) -> None:
    few = dataclasses.replace(
        bert_plan, inputs=dataclasses.replace(bert_plan.inputs, train_rows=50)
    )
    w = walk(few)
    assert w.recommendation == "prompting" and not w.fine_tunes
    first = w.steps[0]
    assert first.outcome == "prompting" and first.numbers["few_rows"] == FEW_ROWS
    assert first.numbers["test_rows"] == 5
    assert first.numbers["ci_half_width"] == pytest.approx(1.96 * math.sqrt(0.25 / 5), abs=1e-4)
    _rejected_all_but(w, "prompting")
    assert starter_config(w) is None
    with pytest.raises(UserError, match="not fine-tuning"):
        starter_yaml(w)


def test_a_task_that_changes_often_says_do_not_fine_tune(bert_plan) -> None:
    w = walk(bert_plan, changes_often=True)
    assert w.recommendation == "prompting"
    assert [s.outcome for s in w.steps] == ["continue", "prompting"]
    fastest = min(o.hours for o in bert_plan.options if o.fits)
    assert w.steps[1].numbers["retrain_hours"] == round(fastest, 3)


@pytest.mark.parametrize(
    ("shift", "kind"), [("high", "progressive"), ("low", "freeze"), ("medium", "full")]
)
def test_task_shift_refines_full_fine_tuning(bert_plan, shift: str, kind: str) -> None:
    assert bert_plan.rule == "full-fits"
    w = walk(bert_plan, shift=shift)
    assert w.recommendation == kind and w.steps[-1].outcome == kind
    _rejected_all_but(w, kind)
    raw = starter_config(w)
    assert raw is not None and raw["strategy"]["kind"] == kind
    from tuneproof.tasks import parse_config

    parse_config(raw)  # a config `tuneproof train` accepts
    o = w.option()
    assert o is not None
    assert o.kind == ("full" if kind == "progressive" else kind)


def test_memory_branch_picks_lora_for_a_7b_model_on_24_gib() -> None:
    plan = make_plan(PlanInputs(model="llama-2-7b", train_rows=20_000, gpu_memory_bytes=gib(24)))
    w = walk(plan, shift="high")  # the shift question is only asked when full fine-tuning fits
    assert w.recommendation == "lora" and plan.rule == "full-does-not-fit"
    memory = next(s for s in w.steps if s.question.startswith("What fits"))
    assert memory.numbers["fits"]["full"] is False and memory.numbers["fits"]["lora"] is True
    full = next(r for r in w.rejected if r.kind == "full")
    assert "more than the" in full.why
    assert yaml.safe_load(starter_yaml(w))["strategy"]["kind"] == "lora"


def test_bad_shift_is_a_user_error(bert_plan) -> None:
    with pytest.raises(UserError, match="--shift"):
        walk(bert_plan, shift="huge")


# --- Python snippets --------------------------------------------------------------------------

SNIPPET = """
import os
from transformers import Trainer, TrainingArguments
trainer = Trainer(
    model=model,
    args=TrainingArguments(
        "out",
        evaluation_strategy="epoch",
        learning_rate=2e-4,
        logging_dir=os.path.join("x", "logs"),
        report_to=__import__("os").system("touch /tmp/pwned-tuneproof"),
        **extra,
    ),
)
"""


def test_python_snippet_is_parsed_never_run(tmp_path) -> None:
    raw, skipped = A.parse_text(SNIPPET)
    assert raw == {"output_dir": "out", "evaluation_strategy": "epoch", "learning_rate": 2e-4}
    assert skipped == ("logging_dir", "report_to", "**extra")
    import os

    assert not os.path.exists("/tmp/pwned-tuneproof")
    with pytest.raises(UserError, match="line 1: invalid Python"):
        A.parse_text("TrainingArguments(lr=")
    with pytest.raises(UserError, match="no TrainingArguments"):
        A.parse_text("x = dict(a=1)", fmt="python")


@pytest.mark.parametrize("text", ["", "  \n ", "x" * (A.MAX_TEXT + 1), "- a\n- b\n"])
def test_bad_text_is_one_line(text: str) -> None:
    with pytest.raises(UserError) as err:
        A.parse_text(text)
    assert "\n" not in str(err.value) and len(str(err.value)) < 200


def test_lint_text_names_the_replacement_and_the_skipped_values() -> None:
    report = A.lint_text(SNIPPET, context=A.LintContext(cuda_available=False, bf16_available=False))
    by_key = {f.key: f for f in report.findings}
    assert by_key["evaluation_strategy"].rule == "removed-name"
    assert by_key["evaluation_strategy"].fix == "eval_strategy: epoch"
    assert by_key["learning_rate"].rule == "lr-range"  # 2e-4 is high for full fine-tuning
    assert {f.key for f in report.findings if f.rule == "not-literal"} == {
        "logging_dir",
        "report_to",
        "**extra",
    }


def test_snippet_python_runs_on_the_installed_transformers(tmp_path) -> None:
    from transformers import TrainingArguments

    text = "TrainingArguments(output_dir='out', evaluation_strategy='epoch', save_strategy='epoch', load_best_model_at_end=True, warmup_ratio=0.1, bf16=False)"
    s = A.snippet_text(text)
    assert (
        "eval_strategy='epoch'" in s.python and "evaluation_strategy=" not in s.python.split("#")[0]
    )
    call = s.python.split("args = ", 1)[1].replace(
        "output_dir='out'", f"output_dir={str(tmp_path)!r}"
    )
    scope: dict = {"TrainingArguments": TrainingArguments}
    exec(compile("args = " + call, "snippet", "exec"), scope)  # the test runs what we generated
    assert scope["args"].eval_strategy.value == "epoch" and scope["args"].load_best_model_at_end
    from tuneproof.config import TrainingConfig

    training = yaml.safe_load(s.yaml)["training"]
    assert training["eval_strategy"] == "epoch" and training["warmup"] == 0.1
    TrainingConfig.model_validate(training)
    assert "load_best_model_at_end" in s.yaml  # named as not carried over


def test_every_installed_field_is_listed_with_an_impact() -> None:
    fields = A.training_fields()
    listed = A.all_fields()
    assert {h.name for h in listed} == set(fields)
    assert {h.impact for h in listed} == {"high", "medium", "low"}
    d = A.explain("gradient_accumulation_steps").to_dict()
    batch = next(g for g in d["interacts_with"] if g["group"] == "effective batch")
    assert batch["fields"] == ["per_device_train_batch_size"]


@pytest.mark.parametrize(
    ("rows", "batch", "acc", "epochs"), [(10_000, 16, 2, 1.0), (1001, 8, 1, 3.0), (7, 32, 4, 2.5)]
)
def test_step_counts_match_a_dataloader(rows: int, batch: int, acc: int, epochs: float) -> None:
    from torch.utils.data import DataLoader

    batches = len(DataLoader(range(rows), batch_size=batch))  # the last short batch counts
    per_epoch = math.ceil(batches / acc)
    c = A.step_counts(rows, batch, acc, 1, epochs, 0.1)
    assert c.steps_per_epoch == per_epoch
    assert c.total_steps == max(1, math.ceil(epochs * per_epoch))
    assert c.warmup_steps == math.ceil(0.1 * c.total_steps)
    with pytest.raises(UserError, match="rows"):
        A.step_counts(0, 8)


def test_nothing_fits_is_said_with_the_numbers() -> None:
    plan = make_plan(PlanInputs(model="mistral-7b", train_rows=20_000, gpu_memory_bytes=gib(4)))
    w = walk(plan)
    assert w.recommendation == "none" and plan.rule == "nothing-fits"
    assert next(s for s in w.steps if s.question.startswith("What fits")).outcome == "none"
    whys = {r.kind: r.why for r in w.rejected}
    assert all(
        whys[k].startswith("needs ") for k in ("full", "freeze", "progressive", "lora", "qlora")
    )
    assert "hosted model" in whys["prompting"]
    assert starter_config(w) is None
