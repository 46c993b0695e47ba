"""`tuneproof predict` for every task: inputs (plain text or one JSON object per line) → outputs.

The task adapters predict from labelled tables (``prepare`` validates the gold column), so an
unlabelled input becomes a one-row table with a placeholder gold value the adapter accepts (a tag
of the model's label set, a span of the context, a score of 0, a one-character reply); the
placeholder never reaches the output, which holds the inputs and the prediction only. The input
format per task (:data:`INPUT_HELP`):

- token-classification: words separated by spaces, or ``{"tokens": [...]}`` → tags per word
- extractive-qa: ``{"question": ..., "context": ...}`` → the answer span
- similarity: two sentences separated by a tab, or ``{"sentence1": ..., "sentence2": ...}``
  (the run's text columns) → the score
- summarization: the input text, or ``{"input": ...}`` → the generated text
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from tuneproof.data.load import SourceInfo
from tuneproof.errors import UserError
from tuneproof.evaluate.predict import EvalData, LoadedRun, eval_trainer, predict_frame

if TYPE_CHECKING:
    from tuneproof.config import RunConfig

INPUT_HELP = {
    "sequence-classification": 'a text per line, or {"text": "..."}',
    "token-classification": 'words separated by spaces, or {"tokens": ["Ada", "visited", "Paris"]}',
    "extractive-qa": '{"question": "Where is the red box?", "context": "The red box is in the attic."}',
    "similarity": 'two sentences separated by a tab, or {"sentence1": "...", "sentence2": "..."}',
    "summarization": 'the text to summarise, or {"input": "..."}',
}


def parse_input(line: str, config: RunConfig, where: str) -> dict[str, Any]:
    """One input (a ``-t`` value or a line of ``-f``) as the run's columns."""
    dc, task = config.data, config.task
    text = line.strip()
    obj: Any = None
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise UserError(
                f"{where}: not valid JSON ({err.msg}); give {INPUT_HELP[task]}"
            ) from None
    if task == "token-classification":
        tokens = (
            obj.get(dc.tokens_column, obj.get("tokens")) if isinstance(obj, dict) else text.split()
        )
        if (
            not isinstance(tokens, list)
            or not tokens
            or not all(isinstance(t, str) for t in tokens)
        ):
            raise UserError(f"{where}: no words; give {INPUT_HELP[task]}")
        return {dc.tokens_column: tokens}
    if task == "extractive-qa":
        if not isinstance(obj, dict):
            raise UserError(f"{where}: a question needs its context; give {INPUT_HELP[task]}")
        q = obj.get(dc.question_column, obj.get("question"))
        c = obj.get(dc.context_column, obj.get("context"))
        if not (isinstance(q, str) and q.strip() and isinstance(c, str) and c.strip()):
            raise UserError(f"{where}: needs a question and a context; give {INPUT_HELP[task]}")
        return {dc.question_column: q, dc.context_column: c}
    if task == "similarity":
        pair_col = dc.text_pair_column or "sentence2"
        if isinstance(obj, dict):
            a = obj.get(dc.text_column, obj.get("sentence1"))
            b = obj.get(pair_col, obj.get("sentence2"))
        else:
            a, _, b = line.rstrip("\n").partition("\t")
        if not (isinstance(a, str) and a.strip() and isinstance(b, str) and b.strip()):
            raise UserError(f"{where}: needs two sentences; give {INPUT_HELP[task]}")
        return {dc.text_column: a, pair_col: b}
    key = dc.input_column if task == "summarization" else dc.text_column
    value = (
        obj.get(key, obj.get("input" if task == "summarization" else "text"))
        if isinstance(obj, dict)
        else text
    )
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{where}: empty input; give {INPUT_HELP[task]}")
    return {key: value}


def _placeholder(loaded: LoadedRun, row: dict[str, Any]) -> dict[str, Any]:
    """A gold value the task adapter accepts (never shown)."""
    dc, task = loaded.config.data, loaded.config.task
    if task == "token-classification":
        names = loaded.label_names or ["O"]
        tag = "O" if "O" in names else names[0]
        return {dc.tags_column: [tag] * len(row[dc.tokens_column])}
    if task == "extractive-qa":
        context = row[dc.context_column]
        word = context.split()[0]
        return {dc.answers_column: {"text": [word], "answer_start": [context.index(word)]}}
    if task == "similarity":
        return {dc.label_column: 0.0}
    if task == "summarization":
        return {dc.output_column: "-"}
    return {dc.label_column: (loaded.label_names or ["?"])[0]}


def _output(task: str, row: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(inputs)
    pred = row.get("pred")
    if task == "token-classification":
        out["tags"] = pred
    elif task == "extractive-qa":
        out["answer"] = pred
    elif task == "similarity":
        out["score"] = pred
    elif task == "summarization":
        out["output"] = pred
    else:
        out["label"] = pred
    if task != "similarity" and isinstance(row.get("score"), (int, float)):
        out["confidence"] = row["score"]
    return out


def predict_inputs(
    loaded: LoadedRun, lines: list[str], *, batch_size: int | None = None, where: str = "input"
) -> list[dict[str, Any]]:
    """One output per input line, in order: the inputs and the model's prediction."""
    config = loaded.config
    inputs = [parse_input(x, config, f"{where} {i + 1}") for i, x in enumerate(lines)]
    frame = pd.DataFrame([{**r, **_placeholder(loaded, r)} for r in inputs])
    frame = frame.assign(**{"__id": [str(i) for i in range(len(inputs))]})
    data = EvalData(where, frame, SourceInfo(where, "", len(frame)))
    with eval_trainer(loaded, batch_size) as trainer:
        pred = predict_frame(loaded, data, trainer, id_column="__id")
    by_pos = dict(zip(pred.positions, pred.rows, strict=True))
    return [_output(config.task, by_pos.get(i, {}), inputs[i]) for i in range(len(inputs))]
