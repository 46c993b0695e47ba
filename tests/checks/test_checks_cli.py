"""`tuneproof check` on files and configs: exit codes (the CI gate), outputs and user errors; and
the hook `tuneproof train` calls."""

from __future__ import annotations

import json
from hashlib import sha256
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from typer.testing import CliRunner

from tuneproof.cli import app

runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["check", *args], catch_exceptions=True)


def user_error(result) -> str:  # type: ignore[no-untyped-def]
    """The one-line message of a UserError (the CLI prints it and exits 2)."""
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, result.output
    return lines[0].removeprefix("error: ")


@pytest.fixture
def files(gen: SimpleNamespace, tmp_path: Path) -> dict[str, Path]:
    """Planted train/validation/test CSVs (test leaks train rows)."""
    planted = gen.planted_dataset()
    out = {}
    for split, df in planted.splits.items():
        out[split] = tmp_path / f"{split}.csv"
        df.to_csv(out[split], index=False)
    return out


@pytest.fixture
def clean_files(gen: SimpleNamespace, tmp_path: Path) -> dict[str, Path]:
    out = {}
    for split, df in gen.clean_dataset().items():
        out[split] = tmp_path / f"clean-{split}.csv"
        df.to_csv(out[split], index=False)
    return out


def file_args(files: dict[str, Path], *extra: str) -> list[str]:
    args = [f"--{split}={path}" for split, path in files.items()]
    return [*args, "--id", "id", "--skip", "language_mix", *extra]


def test_writes_reports_and_exits_0_without_fail_on(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = invoke(*file_args(files, "-o", str(out)))
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "checks.json").read_text(encoding="utf-8"))
    assert doc["summary"]["errors"] == 4
    assert {f["check"] for f in doc["findings"]} >= {"leakage", "exact_duplicate", "near_duplicate"}
    assert "leakage" in result.output and "Fix before training" in result.output
    assert (out / "checks.md").read_text(encoding="utf-8").startswith("# Data checks")


def test_fail_on_error_is_a_ci_gate(
    files: dict[str, Path], clean_files: dict[str, Path], tmp_path: Path
) -> None:
    leaky = invoke(*file_args(files, "-o", str(tmp_path / "a"), "--fail-on", "error"))
    assert leaky.exit_code == 1, leaky.output
    clean = invoke(*file_args(clean_files, "-o", str(tmp_path / "b"), "--fail-on", "warning"))
    assert clean.exit_code == 0, clean.output


def test_fail_on_warning_catches_duplicates_without_leaks(
    files: dict[str, Path], tmp_path: Path
) -> None:
    train_only = {"train": files["train"]}
    on_error = invoke(*file_args(train_only, "-o", str(tmp_path / "a"), "--fail-on", "error"))
    assert on_error.exit_code == 0, on_error.output
    on_warning = invoke(*file_args(train_only, "-o", str(tmp_path / "b"), "--fail-on", "warning"))
    assert on_warning.exit_code == 1, on_warning.output


def test_bad_input_gives_one_line_errors(files: dict[str, Path], tmp_path: Path) -> None:
    missing = user_error(invoke("--train", str(files["train"]), "--text", "sentence"))
    assert missing.startswith(f"{files['train']}: no column 'sentence'")
    assert "set --text" in missing and "\n" not in missing
    assert "file not found" in user_error(invoke("--train", str(tmp_path / "nope.csv")))
    bad = tmp_path / "bad.xlsx"
    bad.write_text("x")
    assert "unsupported format" in user_error(invoke("--train", str(bad)))
    assert "no such check" in user_error(invoke("--train", str(files["train"]), "--skip", "lekage"))
    assert "nothing to check" in user_error(invoke())


def test_config_and_files_are_exclusive(files: dict[str, Path], tmp_path: Path) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text("data: {train: train.csv}\n")
    assert "not both" in user_error(invoke(str(cfg), "--train", str(files["train"])))


def tokenizer_folder(tmp_path: Path, texts: list[str]) -> Path:
    from transformers import BertTokenizerFast

    words = sorted({w for t in texts for w in t.lower().split()})
    folder = tmp_path / "tok"
    folder.mkdir()
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words]))
    BertTokenizerFast(vocab=str(folder / "vocab.txt")).save_pretrained(folder)
    return folder


@pytest.mark.slow  # imports transformers for the tokenizer (~5 s)
def test_config_mode_uses_the_model_tokenizer_and_checks_fail_on(
    files: dict[str, Path], tmp_path: Path
) -> None:
    import pandas as pd

    texts = list(pd.read_csv(files["train"]).text)
    cfg = {
        "data": {**{k: str(v) for k, v in files.items()}, "id_column": "id", "max_length": 8},
        "model": {"name": str(tokenizer_folder(tmp_path, texts))},
        "checks": {"fail_on": "error"},
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = invoke(str(path), "-o", str(tmp_path / "out"), "--skip", "language_mix")
    assert result.exit_code == 1, result.output  # leakage and checks.fail_on: error
    doc = json.loads((tmp_path / "out" / "checks.json").read_text(encoding="utf-8"))
    trunc = [f for f in doc["findings"] if "truncated" in f["detail"]]
    assert trunc and "max_length 8 tokens" in trunc[0]["detail"]


@pytest.mark.slow  # every check, so lingua's models load (seconds)
def test_check_run_data_writes_into_the_run_directory(
    files: dict[str, Path], tmp_path: Path
) -> None:
    from tuneproof.checks import check_run_data
    from tuneproof.config import parse_config
    from tuneproof.data.load import load_splits

    cfg = parse_config({"data": {**{k: str(v) for k, v in files.items()}, "id_column": "id"}})
    run_dir = tmp_path / "runs" / "x"
    doc = check_run_data(cfg, load_splits(cfg.data), tokenizer=None, output_dir=run_dir)
    assert json.loads((run_dir / "checks.json").read_text(encoding="utf-8")) == doc
    assert (run_dir / "checks.md").exists()
    assert doc["summary"]["errors"] == 4
    assert doc["dataset"]["train"]["sha256"] == sha256(files["train"].read_bytes()).hexdigest()


@pytest.mark.slow  # imports transformers and the task adapters
def test_config_mode_checks_token_classification_as_joined_tokens(tmp_path: Path) -> None:
    sentences = [
        "anna met tom in paris",
        "the film was shot during summer",
        "tom and anna visited paris",
        "the summer film was long",
        "paris in summer",
    ]
    rows = [
        {"id": f"r{i}", "tokens": s.split(), "tags": ["O"] * len(s.split())}
        for i, s in enumerate(sentences)
    ]
    rows.append({"id": "dup", "tokens": sentences[0].upper().split(), "tags": ["O"] * 5})
    words = sorted({w for s in sentences for w in s.split()})
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    cfg = {
        "task": "token-classification",
        "data": {"train": "train.jsonl", "id_column": "id"},
        "model": {"name": str(tokenizer_folder(tmp_path, words))},
    }
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    result = invoke(str(tmp_path / "run.yaml"), "-o", str(out), "--skip", "language_mix")
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "checks.json").read_text(encoding="utf-8"))
    assert [(f["check"], f["rows"]) for f in doc["findings"]] == [
        ("exact_duplicate", ["r0", "dup"])
    ]
