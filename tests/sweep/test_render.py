"""sweep.md / sweep.html / the SVGs from a sweep.json: well-formed, every value escaped, and the
figures show what the record says (one dot per valued trial, one line per trial with params)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tuneproof import rundir
from tuneproof.sweep.render import write_reports

EVIL = "<script>alert(1)</script>"


def _record() -> rundir.Sweep:
    trials = [
        rundir.SweepTrial(number=0, state="COMPLETE", value=0.7, params={"a": 1e-4, "b": EVIL}),
        rundir.SweepTrial(number=1, state="PRUNED", value=0.5, params={"a": 1e-3, "b": "x"}),
        rundir.SweepTrial(number=2, state="FAIL", params={"a": 3e-4, "b": "x"}, note=EVIL),
        rundir.SweepTrial(number=3, state="COMPLETE", value=0.8, params={"a": 2e-4, "b": "x"}),
    ]
    return rundir.Sweep(
        study=EVIL,
        storage="journal.log",
        metric="accuracy",
        direction="maximize",
        sampler="TPESampler",
        seed=1,
        n_trials=4,
        space={"a": {"log": [1e-5, 1e-2]}, "b": {"choice": [EVIL, "x"]}},
        baseline_trial=0,
        trials=trials,
        best=rundir.SweepBest(trial=3, value=0.8, params={"a": 2e-4, "b": "x"}),
        importances={"a": 0.9, "b": 0.1},
    )


def test_reports_are_escaped_and_well_formed(tmp_path: Path) -> None:
    record = _record()
    rundir.write(tmp_path, record)
    assert rundir.read(tmp_path, rundir.Sweep) == record  # the schema round-trips
    write_reports(tmp_path, record)
    html = (tmp_path / "sweep.html").read_text(encoding="utf-8")
    assert EVIL not in html and "&lt;script&gt;" in html
    for name in ("sweep_history.svg", "sweep_parallel.svg"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert EVIL not in text
        ET.fromstring(text)  # well-formed XML
    history = ET.fromstring((tmp_path / "sweep_history.svg").read_text(encoding="utf-8"))
    assert len([e for e in history.iter() if e.tag.endswith("circle")]) == 3  # FAIL: no value
    parallel = ET.fromstring((tmp_path / "sweep_parallel.svg").read_text(encoding="utf-8"))
    lines = [e for e in parallel.iter() if e.tag.endswith("polyline")]
    assert len(lines) == 3
    assert all(len(e.get("points", "").split()) == 3 for e in lines)  # a, b, accuracy
    md = (tmp_path / "sweep.md").read_text(encoding="utf-8")
    assert "## Best: trial 3, validation accuracy 0.8" in md
    assert "| `a` | 0.900 |" in md
