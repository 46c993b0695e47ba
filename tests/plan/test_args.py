"""TrainingArguments explorer: explain from the installed metadata, lint both styles, snippet."""

from __future__ import annotations

import ast
import dataclasses
import textwrap
from pathlib import Path

import pytest
import yaml
from transformers import TrainingArguments

from tuneproof.errors import UserError
from tuneproof.plan import args as targs
from tuneproof.plan.args import LintContext, lint_file, lint_mapping

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NO_GPU = LintContext(cuda_available=False)

SEED_STYLE = {
    "name": "seed",
    "data": {"builtin": "polarity-en"},
    "model": {"name": "minilm-l6"},
    "strategy": {"kind": "full"},
    "training": {"evaluation_strategy": "epoch", "save_strategy": "epoch", "learning_rate": 2e-4},
}

GOOD_ARGS = {
    "output_dir": "out",
    "eval_strategy": "epoch",
    "save_strategy": "epoch",
    "load_best_model_at_end": True,
    "metric_for_best_model": "accuracy",
    "learning_rate": 3e-5,
    "per_device_train_batch_size": 16,
    "gradient_accumulation_steps": 2,
    "num_train_epochs": 3,
    "warmup_steps": 0.1,
    "weight_decay": 0.01,
    "seed": 13,
}


def write(tmp_path: Path, data: dict, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def by_rule(report) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in report.findings:
        out.setdefault(f.rule, []).append(f)
    return out


# --- explain ---------------------------------------------------------------------------------


def test_explain_uses_the_installed_field_metadata():
    field = {f.name: f for f in dataclasses.fields(TrainingArguments)}["warmup_steps"]
    h = targs.explain("warmup_steps")
    assert h.help == " ".join(field.metadata["help"].split())
    assert h.default == repr(field.default)
    assert h.guidance is not None and h.guidance.tuneproof_key == "training.warmup"


def test_explain_a_removed_name_shows_its_replacement():
    h = targs.explain("evaluation_strategy")
    assert h.name == "eval_strategy"
    assert h.note is not None and "renamed" in h.note


def test_explain_unknown_name_suggests_the_closest():
    with pytest.raises(UserError, match="did you mean 'learning_rate'"):
        targs.explain("learning_rat")


def test_main_fields_all_exist_in_this_transformers():
    names = {h.name for h in targs.main_fields()}
    assert {"learning_rate", "eval_strategy", "warmup_steps", "seed"} <= names
    assert names <= {f.name for f in dataclasses.fields(TrainingArguments)}


def test_removed_names_are_really_gone_and_replacements_exist():
    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    for old, (new, _) in targs.REMOVED_ARGS.items():
        assert old not in fields, old
        assert new is None or new in fields or new == "processing_class", new


# --- lint ------------------------------------------------------------------------------------


def test_seed_style_config_reports_each_problem_with_its_fix():
    report = lint_mapping(SEED_STYLE, "seed.yaml", context=NO_GPU)
    rules = by_rule(report)
    assert set(rules) == {"removed-name", "lr-range", "no-seed"}
    renamed = rules["removed-name"][0]
    assert renamed.key == "training.evaluation_strategy" and renamed.severity == "error"
    assert renamed.fix == "training.eval_strategy: epoch"
    lr = rules["lr-range"][0]
    assert "high for full fine-tuning" in lr.message and lr.key == "training.learning_rate"
    assert "2e-5" in lr.fix
    assert rules["no-seed"][0].fix.startswith("set training.seed")
    assert report.fails("error") and report.worst() == "error"


@pytest.mark.parametrize("example", ["polarity-full.yaml", "polarity-lora.yaml"])
def test_good_runconfigs_report_nothing(example):
    assert lint_file(EXAMPLES / example, context=NO_GPU).findings == ()


def test_good_training_args_report_nothing(tmp_path):
    report = lint_file(write(tmp_path, GOOD_ARGS), context=NO_GPU)
    assert report.style == "training-args"
    assert report.findings == ()
    TrainingArguments(**GOOD_ARGS)  # and transformers agrees it is valid


def test_tutorial_config_gets_every_removed_name_at_once(tmp_path):
    raw = GOOD_ARGS | {
        "evaluation_strategy": "epoch",
        "warmup_ratio": 0.1,
        "overwrite_output_dir": True,
        "logging_dir": "logs",
        "no_cuda": True,
        "group_by_length": True,
        "tokenizer": "bert-base-uncased",
    }
    del raw["eval_strategy"], raw["warmup_steps"]
    report = lint_file(write(tmp_path, raw), context=NO_GPU)
    removed = {f.key: f for f in report.findings if f.rule == "removed-name"}
    assert set(removed) == {
        "evaluation_strategy",
        "warmup_ratio",
        "overwrite_output_dir",
        "logging_dir",
        "no_cuda",
        "group_by_length",
        "tokenizer",
    }
    assert removed["warmup_ratio"].fix == "warmup_steps: 0.1"
    assert removed["no_cuda"].fix == "use_cpu: true"
    assert removed["group_by_length"].fix == 'train_sampling_strategy="group_by_length"'
    assert "processing_class" in removed["tokenizer"].message
    assert all(f.severity == "error" for f in removed.values())
    # The renamed values still feed the other checks: eval/save match, warmup present.
    assert not {"load-best-mismatch", "no-warmup"} & {f.rule for f in report.findings}


def test_unknown_and_deprecated_training_args():
    report = lint_mapping(
        GOOD_ARGS | {"learning_rte": 1e-5, "gradient_checkpointing": True}, context=NO_GPU
    )
    rules = by_rule(report)
    assert "did you mean 'learning_rate'" in rules["unknown-key"][0].message
    assert rules["deprecated-name"][0].fix == "activation_checkpointing: true"


@pytest.mark.parametrize(
    ("changes", "rule", "severity"),
    [
        ({"save_strategy": "steps", "save_steps": 100}, "load-best-mismatch", "error"),
        (
            {
                "eval_strategy": "steps",
                "eval_steps": 50,
                "save_strategy": "steps",
                "save_steps": 75,
            },
            "load-best-mismatch",
            "error",
        ),
        (
            {
                "eval_strategy": "steps",
                "eval_steps": 200,
                "save_strategy": "steps",
                "save_steps": 100,
                "load_best_model_at_end": False,
            },
            "eval-less-often-than-save",
            "warning",
        ),
        ({"eval_strategy": "no", "load_best_model_at_end": False}, "no-eval", "warning"),
        (
            {"per_device_train_batch_size": 2, "gradient_accumulation_steps": 1},
            "effective-batch",
            "warning",
        ),
        ({"warmup_steps": 0}, "no-warmup", "warning"),
        ({"warmup_steps": 0.5}, "warmup-long", "warning"),
        ({"max_steps": 50, "warmup_steps": 80}, "warmup-long", "error"),
        ({"max_steps": 40}, "few-steps", "warning"),
        ({"learning_rate": 1e-7}, "lr-range", "warning"),
        ({"fp16": True, "use_cpu": True}, "fp16-cpu", "error"),
        ({"fp16": True}, "fp16-cpu", "warning"),
        ({"fp16": True, "bf16": True}, "precision", "error"),
        ({"max_grad_norm": 0}, "no-clipping", "info"),
        ({"num_train_epochs": 30}, "many-epochs", "info"),
    ],
)
def test_each_rule_fires_on_its_problem(changes, rule, severity):
    report = lint_mapping(GOOD_ARGS | changes, context=NO_GPU)
    hits = [f for f in report.findings if f.rule == rule]
    assert hits, report.findings
    assert hits[0].severity == severity and hits[0].fix


def test_fp16_is_fine_on_a_gpu_machine():
    report = lint_mapping(GOOD_ARGS | {"fp16": True}, context=LintContext(cuda_available=True))
    assert report.findings == ()


def test_strategy_changes_the_learning_rate_range():
    lora_rate = GOOD_ARGS | {"learning_rate": 2e-4}
    assert lint_mapping(lora_rate, strategy="lora", context=NO_GPU).findings == ()
    full = lint_mapping(lora_rate, context=NO_GPU).findings
    assert [f.rule for f in full] == ["lr-range"] and "assumed" in full[0].message
    low = lint_mapping(GOOD_ARGS | {"learning_rate": 1e-5}, strategy="lora", context=NO_GPU)
    assert "B matrix starts at zero" in low.findings[0].message


def test_train_rows_enable_step_checks():
    few = lint_mapping(GOOD_ARGS, context=LintContext(train_rows=300, cuda_available=False))
    assert {f.rule for f in few.findings} >= {"few-steps", "effective-batch"}


def test_runconfig_with_mismatched_steps_and_other_errors_all_at_once():
    raw = dict(SEED_STYLE)
    raw["training"] = {
        "eval_strategy": "steps",
        "eval_steps": 30,
        "save_strategy": "steps",
        "save_steps": 45,
        "seed": 1,
        "learning_rate": 3e-5,
        "num_train_epochs": 2,
    }
    raw["modle"] = {"name": "x"}
    report = lint_mapping(raw, context=NO_GPU)
    keys = {f.key for f in report.findings}
    assert {"training.num_train_epochs", "modle", "training.save_steps"} <= keys
    unknown = next(f for f in report.findings if f.key == "modle")
    assert "did you mean 'model'" in unknown.message


def test_fail_on_levels():
    report = lint_mapping(GOOD_ARGS | {"max_grad_norm": 0}, context=NO_GPU)  # one info finding
    assert report.fails("info") and not report.fails("warning") and not report.fails("never")


def test_wrapped_training_args_are_found():
    report = lint_mapping(
        {"training_args": GOOD_ARGS | {"evaluation_strategy": "epoch"}}, context=NO_GPU
    )
    assert report.style == "training-args"
    assert any(f.key == "evaluation_strategy" for f in report.findings)


def test_unreadable_files_are_user_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [1, 2\n", encoding="utf-8")
    with pytest.raises(UserError, match="invalid YAML"):
        lint_file(bad)
    with pytest.raises(UserError, match="file not found"):
        lint_file(tmp_path / "missing.yaml")


# --- snippet ---------------------------------------------------------------------------------


def call_kwargs(code: str, name: str) -> dict:
    """Keyword arguments of the first ``name(...)`` call in ``code`` (literal values)."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
            return {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    raise AssertionError(f"no {name}(...) call")


def test_runconfig_snippet_is_exactly_training_kwargs():
    from tuneproof.arguments import training_kwargs
    from tuneproof.config import load_config

    path = EXAMPLES / "polarity-lora.yaml"
    code = targs.snippet(path)
    cfg = load_config(path)
    expected = training_kwargs(
        cfg, Path("runs/polarity-lora/checkpoints"), main_metric="accuracy", greater_is_better=True
    )
    assert call_kwargs(code, "TrainingArguments") == expected
    lora = call_kwargs(code, "LoraConfig")
    assert (lora["r"], lora["lora_alpha"], lora["target_modules"]) == (8, 16, ["query", "value"])


def test_tutorial_snippet_migrates_to_valid_transformers_5_kwargs(tmp_path):
    raw = {
        "output_dir": "out",
        "evaluation_strategy": "steps",
        "eval_steps": 10,
        "warmup_ratio": 0.06,
        "no_cuda": True,
        "group_by_length": True,
        "overwrite_output_dir": True,
        "gradient_checkpointing": True,
        "seed": 3,
    }
    code = targs.snippet(write(tmp_path, raw))
    kwargs = call_kwargs(code, "TrainingArguments")
    assert kwargs["eval_strategy"] == "steps" and kwargs["warmup_steps"] == 0.06
    assert kwargs["use_cpu"] is True
    assert kwargs["train_sampling_strategy"] == "group_by_length"
    assert kwargs["activation_checkpointing"] is True
    assert "overwrite_output_dir" not in kwargs and "# dropped overwrite_output_dir" in code
    TrainingArguments(**kwargs)  # transformers 5 accepts every migrated keyword


def test_snippet_of_an_invalid_runconfig_is_a_user_error(tmp_path):
    path = write(tmp_path, SEED_STYLE)
    with pytest.raises(UserError, match="evaluation_strategy"):
        targs.snippet(path)


def test_lint_reads_json_too(tmp_path):
    path = tmp_path / "args.json"
    path.write_text(textwrap.dedent('{"output_dir": "o", "evaluation_strategy": "epoch"}'))
    assert any(f.key == "evaluation_strategy" for f in lint_file(path, context=NO_GPU).findings)


# --- numbers YAML reads as strings (issue 13, item 11) ----------------------------------------

STRING_LR = """\
output_dir: out
eval_strategy: epoch
save_strategy: epoch
learning_rate: 2e-5
warmup_steps: 0.1
seed: 13
"""


def test_yaml_reads_2e_5_as_a_string_and_transformers_keeps_it(tmp_path):
    """The reference behaviour the lint rule exists for."""
    import torch

    assert yaml.safe_load("learning_rate: 2e-5")["learning_rate"] == "2e-5"
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate="2e-5")
    assert args.learning_rate == "2e-5"
    with pytest.raises((TypeError, ValueError)):
        torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=args.learning_rate)


def test_field_number_types_come_from_training_arguments():
    assert targs.number_type("learning_rate") is float
    assert targs.number_type("eval_steps") is float  # float | None
    assert targs.number_type("max_steps") is int
    assert targs.number_type("lr_scheduler_type") is None  # also takes strings
    assert targs.number_type("report_to") is None


def test_lint_flags_a_string_where_a_number_is_expected(tmp_path):
    path = tmp_path / "args.yaml"
    path.write_text(STRING_LR + "max_steps: 1e3\nnum_train_epochs: three\n", encoding="utf-8")
    hits = {f.key: f for f in lint_file(path, context=NO_GPU).findings}
    lr = hits["learning_rate"]
    assert lr.rule == "string-not-number" and lr.severity == "error"
    assert "'2e-5'" in lr.message and yaml.safe_load(lr.fix) == {"learning_rate": 2e-5}
    assert yaml.safe_load(hits["max_steps"].fix) == {"max_steps": 1000}
    assert hits["num_train_epochs"].rule == "string-not-number"
    assert "as a number" in hits["num_train_epochs"].fix


def test_snippet_never_emits_a_string_number(tmp_path):
    path = tmp_path / "args.yaml"
    path.write_text(STRING_LR, encoding="utf-8")
    code = targs.snippet(path)
    call = next(n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call))
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    assert kwargs["learning_rate"] == 2e-5 and isinstance(kwargs["learning_rate"], float)
    assert "was the string '2e-5'" in code
    path.write_text(STRING_LR + "num_train_epochs: three\n", encoding="utf-8")
    with pytest.raises(UserError, match="num_train_epochs: 'three' is not a number"):
        targs.snippet(path)


def test_runconfig_reads_2e_5_as_a_float_and_train_gets_a_float(tmp_path):
    from tuneproof.arguments import training_kwargs
    from tuneproof.config import load_config

    path = tmp_path / "run.yaml"
    path.write_text(
        "data: {train: x.csv}\ntraining:\n  learning_rate: 2e-5\n  seed: 1\n", encoding="utf-8"
    )
    cfg = load_config(path)
    assert cfg.training.learning_rate == 2e-5 and isinstance(cfg.training.learning_rate, float)
    kwargs = training_kwargs(cfg, tmp_path / "out", main_metric="accuracy", greater_is_better=True)
    assert isinstance(kwargs["learning_rate"], float)
    rules = {f.rule for f in lint_file(path, context=NO_GPU).findings}
    assert "string-not-number" not in rules and "invalid-config" not in rules


# --- bf16 against what the machine supports (issue 13, item 12) -------------------------------


def test_bf16_without_bf16_hardware_is_flagged_both_styles():
    no_bf16 = LintContext(cuda_available=True, bf16_available=False)
    hits = [
        f
        for f in lint_mapping(GOOD_ARGS | {"bf16": True}, context=no_bf16).findings
        if f.rule == "bf16-unsupported"
    ]
    assert len(hits) == 1 and hits[0].key == "bf16" and "use_cpu" in hits[0].fix
    runconfig = dict(SEED_STYLE)
    runconfig["training"] = {"precision": "bf16", "seed": 1, "learning_rate": 3e-5}
    keys = [
        f.key
        for f in lint_mapping(runconfig, context=no_bf16).findings
        if f.rule == "bf16-unsupported"
    ]
    assert keys == ["training.precision"]


def test_bf16_is_fine_where_supported_or_on_cpu_by_choice():
    bf16_gpu = LintContext(cuda_available=True, bf16_available=True)
    assert lint_mapping(GOOD_ARGS | {"bf16": True}, context=bf16_gpu).findings == ()
    no_bf16 = LintContext(cuda_available=False, bf16_available=False)
    on_cpu = lint_mapping(GOOD_ARGS | {"bf16": True, "use_cpu": True}, context=no_bf16)
    assert "bf16-unsupported" not in {f.rule for f in on_cpu.findings}


def test_default_bf16_capability_agrees_with_training_arguments(tmp_path):
    """On whatever machine runs this: flagged exactly when TrainingArguments refuses bf16."""
    flagged = any(
        f.rule == "bf16-unsupported"
        for f in lint_mapping(GOOD_ARGS | {"bf16": True}, context=LintContext()).findings
    )
    try:
        TrainingArguments(output_dir=str(tmp_path), bf16=True)
        refused = False
    except ValueError:
        refused = True
    assert flagged == refused
