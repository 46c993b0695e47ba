"""`tuneproof train/init/predict` from the command line: exit codes, one-line errors, no writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tuneproof.cli import app

runner = CliRunner()


def _train(cfg: dict, tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    return runner.invoke(app, ["train", str(path), "-o", str(out), *args]), out


def _assert_clean_error(result, out: Path, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    for n in needles:
        assert n in str(result.exception.__context__ or result.output) or n in result.output


def _run_error(cfg: dict, tmp_path: Path) -> str:
    from tuneproof.config import parse_config
    from tuneproof.errors import UserError
    from tuneproof.train import run

    out = tmp_path / "out"
    try:
        run(parse_config(cfg), out)
    except UserError as err:
        assert not out.exists(), "nothing may be written on bad input"
        return str(err)
    raise AssertionError("expected a UserError")


def test_label_not_in_label_set(tiny_bert_dir, toy_data, make_config, tmp_path) -> None:
    text = toy_data["test"].read_text().replace(",neg\n", ",neutral\n", 1)
    toy_data["test"].write_text(text)
    msg = _run_error(make_config(tiny_bert_dir, toy_data), tmp_path)
    assert "label 'neutral' is not in the label set" in msg and "test.csv: row" in msg


def test_missing_text_column(tiny_bert_dir, toy_data, make_config, tmp_path) -> None:
    cfg = make_config(tiny_bert_dir, toy_data)
    cfg["data"]["text_column"] = "sentence"
    assert "no column 'sentence'" in _run_error(cfg, tmp_path)


def test_missing_data_file(tiny_bert_dir, toy_data, make_config, tmp_path) -> None:
    cfg = make_config(tiny_bert_dir, toy_data)
    cfg["data"]["train"] = str(tmp_path / "missing.csv")
    assert "missing.csv: file not found" in _run_error(cfg, tmp_path)


def test_cli_bad_input_exits_2_without_traceback(tiny_bert_dir, toy_data, make_config, tmp_path):
    import subprocess
    import sys

    cfg = make_config(tiny_bert_dir, toy_data)
    cfg["training"]["learning_rate"] = -0.1
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = subprocess.run(
        [sys.executable, "-m", "tuneproof", "train", str(path), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "training.learning_rate" in lines[0]
    assert not (tmp_path / "o").exists()


def test_existing_run_dir_is_not_overwritten(tiny_bert_dir, toy_data, make_config, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    cfg = make_config(tiny_bert_dir, toy_data)
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = runner.invoke(app, ["train", str(path), "-o", str(out)])
    assert result.exit_code == 2
    assert (out / "metrics.json").read_text() == "{}"


def test_unknown_key_via_cli(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump({"data": {"train": "x.csv"}, "trainig": {}}))
    result = runner.invoke(app, ["train", str(path)])
    assert result.exit_code == 2


def test_init_writes_a_config_and_refuses_to_clobber(tmp_path: Path) -> None:
    out = tmp_path / "t.yaml"
    assert runner.invoke(app, ["init", "-o", str(out)]).exit_code == 0
    assert "builtin: polarity-en" in out.read_text()
    assert runner.invoke(app, ["init", "-o", str(out)]).exit_code == 2


@pytest.mark.parametrize("strategy", ["full", "lora"])
def test_predict_uses_the_trained_model(
    tiny_bert_dir, toy_data, make_config, tmp_path, strategy: str
) -> None:
    import json

    from tuneproof.config import parse_config
    from tuneproof.train import run

    raw = make_config(tiny_bert_dir, toy_data, max_steps=24)
    raw["strategy"] = {"kind": strategy}  # lora: the adapter is reloaded on its base model
    run(parse_config(raw), tmp_path / "r")
    result = runner.invoke(
        app, ["predict", str(tmp_path / "r"), "--json", "-t", "good great film", "-t", "bad awful"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(ln) for ln in result.output.splitlines()]
    assert [r["text"] for r in rows] == ["good great film", "bad awful"]  # input order kept
    assert all(set(r["probabilities"]) == {"neg", "pos"} for r in rows)
    assert all(r["label"] == max(r["probabilities"], key=r["probabilities"].get) for r in rows)


# --- model names that cannot be loaded: one line, fast (issue 13, items 14 and 15) -----------


def test_unknown_hub_name_without_network_is_one_line(toy_data, make_config, tmp_path) -> None:
    """HF_HUB_OFFLINE unset and no hub reachable: one line and exit 2, not a minute of retries.

    (Where the hub is reachable the same name is 'no such model': still one line and exit 2.)
    """
    import os
    import subprocess
    import sys

    cfg = make_config(Path("unused"), toy_data)
    cfg["model"]["name"] = "someone/does-not-exist"
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {
        k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    }
    env["HF_HOME"] = str(tmp_path / "hf-home")  # an empty cache: nothing to fall back to
    proc = subprocess.run(
        [sys.executable, "-m", "tuneproof", "train", str(path), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: model.name 'someone/does-not-exist':")
    assert not (tmp_path / "o").exists()


def test_unknown_hub_name_with_hub_offline_is_one_line(toy_data, make_config, tmp_path) -> None:
    cfg = make_config(Path("unused"), toy_data)
    cfg["model"]["name"] = "someone/does-not-exist"
    result, out = _train(cfg, tmp_path)
    assert result.exit_code == 2, result.output
    assert "HF_HUB_OFFLINE is set" in result.output and "minilm-l6" in result.output
    assert not out.exists()


@pytest.mark.parametrize("name", ["./no-such-folder", "ABSOLUTE", "~/no-such-model-folder/x/y"])
def test_missing_local_model_folder_says_so(toy_data, make_config, tmp_path, name) -> None:
    name = str(tmp_path / "missing" / "model") if name == "ABSOLUTE" else name
    cfg = make_config(Path("unused"), toy_data)
    cfg["model"]["name"] = name  # as written in the YAML (Path() would drop the "./")
    msg = _run_error(cfg, tmp_path)
    assert msg.startswith(f"model.name '{name}': folder ") and "does not exist" in msg
    assert "Repo id" not in msg
