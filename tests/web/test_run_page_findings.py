"""The run page shows the slice finder's results, the baselines and the degenerate-model
warnings, written by the real library functions into a trained run (#20 items 1, 4, 5)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tuneproof import rundir
from tuneproof.evaluate.baselines import run_baselines
from tuneproof.evaluate.slicefinder import find_run_slices
from tuneproof.web import create_app


def test_run_page_shows_slices_found_baselines_and_warnings(workspace: Path) -> None:
    run = workspace / "runs" / "base"
    found = find_run_slices(run, min_support=5, n_resamples=200)
    bl = run_baselines(run, ["majority", "tfidf-lr"], n_resamples=200)
    client = TestClient(create_app(workspace, token="t"), base_url="http://127.0.0.1")
    page = client.get("/runs/base").text
    assert 'id="slices-found"' in page and f"{found.n_tested} slices tested" in page
    assert 'id="baselines"' in page and "tfidf-lr" in page
    assert bl.best is not None and f"<code>{bl.best}</code>" in page  # fine-tuned vs the best
    # a model that predicts one class is flagged on the page
    path = run / rundir.PREDICTIONS
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for r in rows:
        r["pred"] = rows[0]["gold"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    page = client.get("/runs/base").text
    assert 'id="degenerate"' in page and "predicts one class" in page
