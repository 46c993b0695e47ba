"""The `lora`, `plan` and `args` commands: exit codes, JSON shape, files, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.config import load_config

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MEMORY_KEYS = {
    "weights_bytes",
    "gradients_bytes",
    "optimizer_bytes",
    "activations_bytes",
    "total_bytes",
}


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=True)


def user_error(result) -> str:
    """The one-line message of a UserError (the CLI prints it and exits 2)."""
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, result.output
    return lines[0].removeprefix("error: ")


def test_lora_json_has_the_documented_schema():
    result = invoke("lora", "-m", "llama-2-7b", "-r", "8", "--targets", "q_proj,v_proj", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["total_params"] == 6_738_415_616
    assert out["trainable_params"] == 4_194_304
    assert out["trainable_percent"] == pytest.approx(100 * 4_194_304 / out["all_params"])
    assert set(out["memory"]) == {"full", "lora", "qlora"}
    for m in out["memory"].values():
        assert set(m) >= MEMORY_KEYS
        parts = m["weights_bytes"] + m["gradients_bytes"] + m["optimizer_bytes"]
        assert m["total_bytes"] == parts + m["activations_bytes"]
    assert out["memory"]["qlora"]["weights_bytes"] < out["memory"]["lora"]["weights_bytes"]
    assert "ranks" not in out


def test_lora_without_rank_shows_the_rank_table(config_file, tiny_bert):
    path = config_file(tiny_bert)
    result = invoke("lora", "-m", str(path), "--targets", "query,value", "--seq", "16")
    assert result.exit_code == 0, result.output
    # 2 layers x 2 modules x r x (32 + 32)
    for r in (4, 8, 16, 32, 64):
        assert f"{2 * 2 * r * 64:,}" in result.output
    assert "LoraConfig(" in result.output and "target_modules:" in result.output
    as_json = json.loads(invoke("lora", "-m", str(path), "--seq", "16", "--json").output)
    assert [row["r"] for row in as_json["ranks"]] == [4, 8, 16, 32, 64]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-m", "nobody/nothing"], "llama-2-7b"),
        (["-m", "minilm-l6", "-r", "0"], "--rank"),
        (["-m", "minilm-l6", "-r", "8", "--targets", "q_proj"], "query"),
        (["-m", "minilm-l6", "-r", "8", "--bits", "3"], "--bits"),
    ],
)
def test_lora_bad_input_is_one_line(args, expected):
    assert expected in user_error(invoke("lora", *args))


def test_lora_malformed_config_json(config_file):
    path = config_file('{"model_type": "llama", ', "broken.json")
    assert str(path) in user_error(invoke("lora", "-m", str(path)))


@pytest.mark.slow
def test_console_script_exits_2_with_one_line():
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", "from tuneproof.cli import main; main()", "lora", "-m", "nope/x"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: model 'nope/x'")


def test_plan_writes_the_adr_and_a_valid_config(tmp_path):
    out, cfg = tmp_path / "runs" / "mini", tmp_path / "mini.yaml"
    result = invoke(
        "plan",
        "-m",
        "minilm-l6",
        "--train-rows",
        "100000",
        "--gpu-memory",
        "24GiB",
        "-o",
        str(out),
        "--emit-config",
        str(cfg),
        "--seq",
        "128",
    )
    assert result.exit_code == 0, result.output
    assert "full-fits" in result.output
    adr = (out / "plan.md").read_text(encoding="utf-8")
    assert "## Decision" in adr and "**Full fine-tuning**" in adr
    loaded = load_config(cfg)
    assert loaded.strategy.kind == "full" and loaded.model.name == "minilm-l6"
    assert loaded.data.max_length == 128
    again = invoke("plan", "-m", "minilm-l6", "--train-rows", "10", "--emit-config", str(cfg))
    assert "already exists" in user_error(again)


def test_plan_json_and_bad_sizes():
    result = invoke(
        "plan",
        "-m",
        "llama-2-7b",
        "--train-rows",
        "20000",
        "--gpu-memory",
        "24GiB",
        "--time-budget",
        "3h",
        "--json",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["recommendation"] == "lora" and out["rule"] == "full-does-not-fit"
    assert {o["kind"] for o in out["options"]} == {"full", "freeze", "lora", "qlora"}
    assert "--gpu-memory" in user_error(
        invoke("plan", "-m", "minilm-l6", "--train-rows", "5", "--gpu-memory", "lots")
    )
    assert "--time-budget" in user_error(
        invoke("plan", "-m", "minilm-l6", "--train-rows", "5", "--time-budget", "soon")
    )


def seed_style(tmp_path: Path) -> Path:
    raw = {
        "data": {"builtin": "polarity-en"},
        "strategy": {"kind": "full"},
        "training": {"evaluation_strategy": "epoch", "learning_rate": 2e-4},
    }
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_args_lint_exit_codes(tmp_path):
    path = seed_style(tmp_path)
    bad = invoke("args", "lint", str(path))
    assert bad.exit_code == 1
    for text in ("evaluation_strategy", "eval_strategy", "learning_rate", "seed"):
        assert text in bad.output
    assert invoke("args", "lint", str(path), "--fail-on", "never").exit_code == 0
    good = invoke("args", "lint", str(EXAMPLES / "polarity-lora.yaml"), "--fail-on", "info")
    assert good.exit_code == 0 and "no findings" in good.output
    as_json = json.loads(invoke("args", "lint", str(path), "--json", "--fail-on", "never").output)
    assert as_json["summary"]["error"] == 1
    assert {f["rule"] for f in as_json["findings"]} == {"removed-name", "lr-range", "no-seed"}
    assert "--fail-on" in user_error(invoke("args", "lint", str(path), "--fail-on", "sometimes"))


def test_args_explain_and_snippet():
    explained = invoke("args", "explain", "learning_rate")
    assert explained.exit_code == 0 and "full fine-tuning:" in explained.output
    listing = invoke("args", "explain")
    assert listing.exit_code == 0 and "warmup_steps" in listing.output
    assert "did you mean" in user_error(invoke("args", "explain", "lerning_rate"))
    snippet = invoke("args", "snippet", str(EXAMPLES / "polarity-full.yaml"))
    assert snippet.exit_code == 0 and "TrainingArguments(" in snippet.output
    assert "LoraConfig" not in snippet.output


def test_lora_on_deberta_prints_counts_and_why_activations_are_missing(config_file):
    """DeBERTa-v2 reads tensor values in its forward pass: no trace, but no traceback either."""
    from transformers import DebertaV2Config

    cfg = DebertaV2Config(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    cfg.architectures = ["DebertaV2ForSequenceClassification"]
    path = config_file(cfg.to_dict(), "deberta.json")
    result = invoke("lora", "-m", str(path), "--seq", "16", "--targets", "all-linear")
    assert result.exit_code == 0, result.output
    assert "activations not estimated" in result.output
    assert "meta tensors" in result.output and "n/a" in result.output
    out = json.loads(invoke("lora", "-m", str(path), "--seq", "16", "--json").output)
    assert out["trainable_params"] > 0 and "meta tensors" in out["activation_error"]
    assert out["memory"]["lora"]["activations_bytes"] is None
    assert out["memory"]["lora"]["state_bytes"] > 0
    message = user_error(invoke("plan", "-m", str(path), "--train-rows", "1000", "--seq", "16"))
    assert "activation-memory estimate" in message and "tuneproof lora" in message
