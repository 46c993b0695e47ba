"""A metric that cannot be computed says why (issue 12): null plus a note, never NaN."""

from __future__ import annotations

import json

from tuneproof import rundir
from tuneproof.evaluate.metrics import summarize_rows
from tuneproof.tasks import get_task


def test_constant_predictions_give_a_note_not_nan() -> None:
    task = get_task("similarity")
    rows = [{"id": str(i), "gold": float(i % 3), "pred": 0.5, "slices": {}} for i in range(40)]
    summary = summarize_rows(rows, task.metrics_from_rows, "spearman", seed=0, n_resamples=50)
    block = summary.overall.to_dict()
    assert block["pearson"] is None and block["spearman"] is None
    assert "pearson, spearman: undefined on these 40 rows" in block["note"]
    assert block["mse"] is not None  # what can be computed still is
    text = json.dumps(block, allow_nan=False)  # valid JSON: no NaN
    parsed = rundir.MetricBlock.model_validate(json.loads(text))
    assert parsed.get("spearman") is None and parsed.note == block["note"]
