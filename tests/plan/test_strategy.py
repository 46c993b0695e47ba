"""Strategy selector: the decision tree (pure, synthetic costs) and real plans, ADR, config."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from tuneproof.config import parse_config
from tuneproof.errors import UserError
from tuneproof.plan.adr import render_adr
from tuneproof.plan.memory import GIB, MemoryBreakdown, format_bytes
from tuneproof.plan.strategy import (
    RULES,
    PlanInputs,
    decide,
    fit_option,
    gib,
    make_plan,
    parse_duration,
    run_config_dict,
    run_config_yaml,
)


def breakdown(kind: str, state_gib: float, act_gib: float, ckpt_gib: float) -> MemoryBreakdown:
    state = int(state_gib * GIB)
    return MemoryBreakdown(
        strategy=kind,
        weights_bytes=state,
        gradients_bytes=0,
        optimizer_bytes=0,
        activations_bytes=int(act_gib * GIB),
        activations_checkpointed_bytes=int(ckpt_gib * GIB),
        note="",
    )


def inputs(**kw) -> PlanInputs:
    base = {"model": "m", "train_rows": 20_000, "gpu_memory_bytes": gib(24)}
    return PlanInputs(**(base | kw))


def options(i: PlanInputs, full: float, lora: float, qlora: float, freeze: float | None = None):
    """Options with these state sizes (GiB) and 2 GiB of activations (0.2 with checkpointing)."""
    total = 1_000_000_000
    return tuple(
        fit_option(kind, breakdown(kind, state, 2.0, 0.2), trainable, total, i, kind)
        for kind, state, trainable in (
            ("full", full, total),
            ("freeze", freeze if freeze is not None else full, total // 2),
            ("lora", lora, 1_000_000),
            ("qlora", qlora, 1_000_000),
        )
    )


def test_fit_option_halves_the_batch_then_checkpoints():
    i = inputs(gpu_memory_bytes=gib(10), batch=8)  # 9 GiB usable
    roomy = fit_option("lora", breakdown("lora", 4, 4, 1), 1, 1, i, "")
    assert (roomy.batch_size, roomy.checkpointing, roomy.fits) == (8, False, True)
    smaller = fit_option("lora", breakdown("lora", 6, 4, 1), 1, 1, i, "")
    # batch 8: 6 + 4 > 9; batch 4 (x2 accumulation): 6 + 2 fits without checkpointing
    assert (smaller.batch_size, smaller.gradient_accumulation_steps) == (4, 2)
    assert not smaller.checkpointing
    ckpt = fit_option("lora", breakdown("lora", 8.6, 4, 2.4), 1, 1, i, "")
    # no batch fits without checkpointing (8.6 + 0.5 at batch 1); with it, batch 8: 8.6 + 2.4 > 9,
    # batch 4: 8.6 + 1.2 > 9, batch 2: 8.6 + 0.6 > 9, batch 1: 8.6 + 0.3 fits
    assert (ckpt.batch_size, ckpt.checkpointing, ckpt.gradient_accumulation_steps) == (1, True, 8)
    never = fit_option("lora", breakdown("lora", 20, 4, 1), 1, 1, i, "")
    assert not never.fits and never.batch_size == 1


def test_full_fine_tuning_is_sharded_across_gpus():
    one = fit_option("full", breakdown("full", 40, 2, 0.2), 1, 1, inputs(), "")
    four = fit_option("full", breakdown("full", 40, 2, 0.2), 1, 1, inputs(gpus=4), "")
    assert not one.fits and four.fits
    assert four.peak_bytes == int(40 * GIB) // 4 + int(2 * GIB)


@pytest.mark.parametrize(
    ("kw", "sizes", "kind", "rule"),
    [
        ({}, (100, 12, 4), "lora", "full-does-not-fit"),
        ({}, (100, 30, 4), "qlora", "lora-does-not-fit"),
        ({}, (100, 30, 30), None, "nothing-fits"),
        ({"deploy": "many-adapters"}, (4, 2, 1), "lora", "many-adapters"),
        ({"train_rows": 800}, (4, 2, 1), "lora", "small-data"),
        ({"train_rows": 100_000}, (4, 2, 1), "full", "full-fits"),
        ({"train_rows": 20_000}, (4, 2, 1), "full", "full-fits"),
    ],
)
def test_decision_rules(kw, sizes, kind, rule):
    i = inputs(**kw)
    d = decide(i, options(i, *sizes), 1_000_000_000)
    assert (d.choice.kind if d.choice else None) == kind
    assert d.rule == rule and rule in RULES
    assert d.reason


def test_time_budget_switches_to_the_fastest_option_that_fits():
    i = inputs(train_rows=100_000)
    opts = options(i, 4, 2, 1)
    full = next(o for o in opts if o.kind == "full")
    lora = next(o for o in opts if o.kind == "lora")
    assert lora.hours < full.hours
    within = dataclasses.replace(i, time_budget_s=(full.hours + lora.hours) / 2 * 3600)
    d = decide(within, options(within, 4, 2, 1), 1_000_000_000)
    assert d.rule == "time-budget" and d.choice is not None
    assert d.choice.hours * 3600 <= within.time_budget_s
    impossible = dataclasses.replace(i, time_budget_s=1.0)
    d = decide(impossible, options(impossible, 4, 2, 1), 1_000_000_000)
    assert d.rule == "full-fits" and any("over the time budget" in n for n in d.notes)


def test_edge_deployment_of_a_large_model_says_distil():
    i = inputs(deploy="edge")
    d = decide(i, options(i, 100, 12, 4), 7_000_000_000)
    assert any("distil" in n for n in d.notes)


@pytest.mark.parametrize(
    ("text", "seconds"), [("2h", 7200), ("90m", 5400), ("1h30m", 5400), ("1.5", 5400), ("45s", 45)]
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "2x", "h"])
def test_parse_duration_rejects_garbage(text):
    with pytest.raises(UserError, match="--time-budget"):
        parse_duration(text)


def test_bad_plan_inputs_are_user_errors():
    with pytest.raises(UserError, match="--deploy"):
        inputs(deploy="cloud")
    with pytest.raises(UserError, match="--train-rows"):
        inputs(train_rows=0)


# --- real plans on meta-built models (the acceptance decisions) ----------------------------


def test_7b_on_a_24_gib_gpu_gets_lora():
    plan = make_plan(PlanInputs(model="llama-2-7b", train_rows=20_000, gpu_memory_bytes=gib(24)))
    assert plan.recommended is not None and plan.recommended.kind == "lora"
    assert plan.rule == "full-does-not-fit"
    full = plan.option("full")
    assert not full.fits
    assert f"full fine-tuning needs {format_bytes(full.peak_bytes)}" in plan.reason
    assert plan.recommended.peak_bytes <= plan.inputs.usable_bytes


def test_minilm_with_100k_rows_on_24_gib_gets_full_fine_tuning():
    plan = make_plan(PlanInputs(model="minilm-l6", train_rows=100_000, gpu_memory_bytes=gib(24)))
    assert plan.recommended is not None and plan.recommended.kind == "full"
    assert plan.rule == "full-fits"
    assert "100,000 rows" in plan.reason and "plenty" in plan.reason


def test_qlora_when_16_bit_lora_does_not_fit():
    plan = make_plan(PlanInputs(model="llama-2-7b", train_rows=20_000, gpu_memory_bytes=gib(12)))
    assert plan.recommended is not None and plan.recommended.kind == "qlora"
    assert plan.rule == "lora-does-not-fit"
    assert not plan.option("lora").fits and plan.option("qlora").fits
    assert "16-bit LoRA" in plan.reason


def test_adr_has_every_section_with_the_numbers():
    plan = make_plan(PlanInputs(model="llama-2-7b", train_rows=20_000, gpu_memory_bytes=gib(24)))
    adr = render_adr(plan)
    for section in (
        "## Context",
        "## Options considered",
        "## Decision",
        "## Consequences",
        "## How we will know it was wrong",
    ):
        assert section in adr
    for o in plan.options:
        assert format_bytes(o.peak_bytes) in adr
    assert f"`{plan.rule}`" in adr and "20,000 training rows" in adr


def test_emitted_config_is_a_valid_runconfig_for_the_choice(tmp_path):
    plan = make_plan(PlanInputs(model="llama-2-7b", train_rows=20_000, gpu_memory_bytes=gib(24)))
    raw = run_config_dict(plan, data_train="data/train.jsonl")
    cfg = parse_config(raw)
    assert cfg.strategy.kind == "lora"
    assert cfg.model.name == "meta-llama/Llama-2-7b-hf"  # weights, not the shipped config name
    assert cfg.training.gradient_checkpointing == plan.recommended.checkpointing
    assert cfg.training.batch_size * cfg.training.gradient_accumulation_steps == plan.inputs.batch
    text = run_config_yaml(plan)
    assert text.startswith("# Written by `tuneproof plan`")
    assert parse_config(yaml.safe_load(text)).strategy.lora.r == plan.inputs.rank


def test_nothing_fits_has_no_config_to_emit():
    plan = make_plan(PlanInputs(model="llama-2-7b", train_rows=20_000, gpu_memory_bytes=gib(1)))
    assert plan.recommended is None and plan.rule == "nothing-fits"
    with pytest.raises(UserError, match="nothing fits"):
        run_config_dict(plan)
    assert "No strategy fits" in render_adr(plan)


@pytest.mark.parametrize(
    ("model", "rows", "memory"), [("minilm-l6", 100_000, 24), ("llama-2-7b", 20_000, 12)]
)
def test_emitted_configs_pass_the_linter(model, rows, memory):
    from tuneproof.plan.args import LintContext, lint_mapping

    plan = make_plan(PlanInputs(model=model, train_rows=rows, gpu_memory_bytes=gib(memory)))
    gpu = LintContext(cuda_available=True, bf16_available=True)  # the plan emits bf16
    report = lint_mapping(run_config_dict(plan), context=gpu)
    assert report.findings == ()
