"""Slice membership is a property of the row: `eval --plan` tags rows as `eval` does, and
`compare` takes membership from the runs' stored tags, one run per dimension."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from tuneproof.evaluate.compare import compare_rows
from tuneproof.evaluate.plan import build_plan
from tuneproof.evaluate.run import evaluate_run
from tuneproof.tasks import get_task

GERMAN = [
    ("Das Buch war wirklich gut und die Geschichte hat mir sehr gefallen.", "pos"),
    ("Leider ist dieser Roman langweilig und viel zu lang geschrieben.", "neg"),
    ("Ein wunderbares Buch, spannend bis zur letzten Seite.", "pos"),
    ("Die Handlung ist schwach und die Figuren bleiben blass.", "neg"),
]


def test_plan_does_not_change_the_tags(run_copy, eval_data, tmp_path: Path) -> None:
    with eval_data["test"].open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[:12]
    rows += [{**rows[0], "id": f"de{i}", "text": t, "label": y, "lang": "de"}
             for i, (t, y) in enumerate(GERMAN)]  # fmt: skip
    path = tmp_path / "mixed.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    plain = evaluate_run(run_copy, [path], write=False, n_resamples=100)
    planned = evaluate_run(
        run_copy, [path], plan=build_plan(["en", "fr"]), write=False, n_resamples=100
    )
    tags = [r["slices"] for r in plain.rows]
    assert [r["slices"] for r in planned.rows] == tags
    assert sum(t.get("language") == "de" for t in tags) == len(GERMAN)
    assert planned.plan is not None and plain.plan is None


def test_compare_takes_each_dimension_from_one_runs_stored_tags() -> None:
    task = get_task("sequence-classification")
    rng = np.random.default_rng(0)
    a, b = [], []
    for i in range(80):
        gold = "pos" if i % 2 else "neg"
        lang = "de" if i < 20 else "en"
        a.append({"id": str(i), "text": f"t{i}", "gold": gold, "pred": gold if rng.random() < 0.8
                  else "pos", "slices": {"language": lang, "length": "0-16"}})  # fmt: skip
        # B was tagged differently on a few rows and has a dimension A lacks
        b_lang = "nl" if i < 5 else lang
        b.append(
            {
                "id": str(i),
                "text": f"t{i}",
                "gold": gold,
                "pred": gold,
                "slices": {"language": b_lang, "negation": "yes" if i % 4 == 0 else "no"},
            }
        )
    # one row of A lacks its language tag: membership must still come from A alone
    del a[7]["slices"]["language"]
    deltas = {s.key: s for s in compare_rows(a, b, task.metrics_from_rows, "accuracy",
                                             n_resamples=200)}  # fmt: skip
    assert deltas["language=de"].n == 19 and deltas["language=en"].n == 60
    assert "language=nl" not in deltas
    assert deltas["negation=yes"].n == 20  # B's dimension, from B's tags
    assert deltas["length=0-16"].n == 80
