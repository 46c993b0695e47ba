"""`tuneproof predict` for every task, from -t and from stdin (-f -), agreeing with `eval`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuneproof.cli import app
from tuneproof.config import parse_config
from tuneproof.data import synthetic
from tuneproof.evaluate import evaluate_run
from tuneproof.io import read_jsonl
from tuneproof.train import run

from .conftest import task_config, write_splits

runner = CliRunner()

TASKS = {
    "token-classification": (synthetic.ner_rows, {}),
    "extractive-qa": (synthetic.qa_rows, {"filler": 3}),
    "similarity": (synthetic.similarity_rows, {}),
    "summarization": (synthetic.summarization_rows, {}),
}


def as_input(task: str, row: dict) -> str:
    """A test row as a user types it (JSON for QA, plain or tab-separated for the others)."""
    if task == "token-classification":
        return " ".join(row["tokens"])
    if task == "extractive-qa":
        return json.dumps({"question": row["question"], "context": row["context"]})
    if task == "similarity":
        return f"{row['sentence1']}\t{row['sentence2']}"
    return row["input"]


@pytest.mark.parametrize("task", list(TASKS))
def test_predict_reads_text_and_stdin_and_agrees_with_eval(
    task: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    make, kw = TASKS[task]
    model_dir = request.getfixturevalue(
        "tiny_llama_dir" if task == "summarization" else "tiny_encoder_dir"
    )
    files = write_splits(tmp_path / "data", make, sizes=(16, 4, 4), **kw)
    over: dict = {"training": {"max_steps": 2}}
    if task == "summarization":
        over["data"] = {"max_length": 64, "max_new_tokens": 6}
    if task == "similarity":
        over["data"] = {"text_column": "sentence1", "text_pair_column": "sentence2",
                        "label_column": "score"}  # fmt: skip
    out = tmp_path / "run"
    run(parse_config(task_config(model_dir, files, task, **over)), out)
    evaluate_run(out, [files["test"]], languages=["en"], n_resamples=100)
    evaluated = read_jsonl(out / "predictions.jsonl")
    rows = read_jsonl(files["test"])
    lines = [as_input(task, r) for r in rows]

    one = runner.invoke(app, ["predict", str(out), "-t", lines[0], "--json"])
    assert one.exit_code == 0, one.output
    piped = runner.invoke(app, ["predict", str(out), "-f", "-", "--json"], input="\n".join(lines))
    assert piped.exit_code == 0, piped.output
    got = [json.loads(x) for x in piped.stdout.splitlines()]
    assert len(got) == len(rows) and json.loads(one.stdout.splitlines()[0]) == got[0]
    preds = [r["pred"] for r in evaluated]
    if task == "token-classification":
        assert [g["tags"] for g in got] == preds
        assert all(len(g["tags"]) == len(r["tokens"]) for g, r in zip(got, rows, strict=True))
    elif task == "extractive-qa":
        assert [g["answer"] for g in got] == preds
        assert all(g["answer"] in r["context"] for g, r in zip(got, rows, strict=True))
    elif task == "similarity":
        assert [g["score"] for g in got] == pytest.approx(preds)
    else:
        assert [g["output"] for g in got] == preds

    table = runner.invoke(app, ["predict", str(out), "-t", lines[0]], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output


def test_predict_help_documents_every_tasks_input() -> None:
    result = runner.invoke(app, ["predict", "--help"], env={"COLUMNS": "200"})
    for word in ("token-classification", "extractive-qa", "similarity", "summarization", "-f -"):
        assert word in result.stdout
