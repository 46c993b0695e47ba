"""Human A/B evaluation: the blinded sheet and its key, agreement against sklearn and the
krippendorff package (the GPL reference, used here only), win rates, flagged raters, bad files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from tuneproof import rundir
from tuneproof.cli import app
from tuneproof.errors import UserError
from tuneproof.evaluate.humaneval import (
    OUTCOMES,
    Rating,
    agreement,
    cohen_kappa,
    krippendorff_alpha,
    rates,
)
from tuneproof.evaluate.humaneval_files import export_sheet, import_ratings, read_sheet

from .humaneval_fixtures import fill, generation_run

runner = CliRunner()


def _ratings(table: dict[str, list[str | None]]) -> list[Rating]:
    """``{rater: [outcome or None per item]}`` -> ratings (choice a = win, as if A is the run)."""
    choice = {"win": "a", "loss": "b", "tie": "tie"}
    return [
        Rating(f"i{j}", rater, choice[o], o)  # type: ignore[arg-type]
        for rater, outs in table.items()
        for j, o in enumerate(outs)
        if o is not None
    ]


def test_cohen_kappa_equals_sklearn_and_the_textbook_value():
    # 50 items: both "yes" 20, first yes/second no 5, no/yes 10, both no 15 -> κ = 0.4
    first = ["win"] * 25 + ["loss"] * 25
    second = ["win"] * 20 + ["loss"] * 5 + ["win"] * 10 + ["loss"] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)
    assert cohen_kappa(first, second) == pytest.approx(cohen_kappa_score(first, second))
    a = agreement(_ratings({"r1": first, "r2": second}))  # type: ignore[dict-item]
    assert a.cohen_kappa == pytest.approx(0.4) and a.n_items_shared == 50
    # three labels, ties included
    x = ["win", "tie", "loss", "win", "win", "tie", "loss", "loss", "win", "tie"]
    y = ["win", "tie", "win", "win", "tie", "tie", "loss", "win", "win", "loss"]
    assert cohen_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y))
    assert cohen_kappa(["win"] * 4, ["win"] * 4) is None  # undefined, not NaN


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 observers x 12 units
# example with missing values: nominal alpha = 0.743
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_krippendorff_alpha_equals_the_krippendorff_package():
    triples = [
        (f"c{c}", f"u{u}", str(v))
        for c, row in enumerate(K2011)
        for u, v in enumerate(row)
        if v is not None
    ]
    reference = krippendorff.alpha(
        reliability_data=np.array([[np.nan if v is None else v for v in r] for r in K2011]),
        level_of_measurement="nominal",
    )
    assert reference == pytest.approx(0.743, abs=1e-3)
    assert krippendorff_alpha(triples) == pytest.approx(reference)

    # on outcomes, three raters, some items rated by two only
    table = {
        "r1": ["win", "win", "tie", "loss", "win", None, "loss", "win", "tie", "win"],
        "r2": ["win", "tie", "tie", "loss", "win", "win", "loss", None, "tie", "loss"],
        "r3": [None, "win", "tie", "win", "win", "win", "loss", "win", "loss", "win"],
    }
    codes = {o: k for k, o in enumerate(OUTCOMES)}
    data = np.array([[np.nan if o is None else codes[o] for o in outs] for outs in table.values()])
    want = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    got = agreement(_ratings(table))  # type: ignore[arg-type]
    assert got.krippendorff_alpha == pytest.approx(want)
    assert got.cohen_kappa is None and len(got.pairwise) == 3  # κ for exactly two raters only
    assert got.pairwise[0].kappa == pytest.approx(
        cohen_kappa_score(
            [table["r1"][i] for i in (0, 1, 2, 3, 4, 6, 8, 9)],
            [table["r2"][i] for i in (0, 1, 2, 3, 4, 6, 8, 9)],
        )
    )


def test_rates_resample_items_as_clusters():
    # 20 items, 3 ratings each, all three raters agree per item: the interval must be that of
    # 20 observations, not 60 (row bootstrap would shrink it by about sqrt(3))
    outs = [("win" if i < 12 else "loss") for i in range(20) for _ in range(3)]
    items = [f"i{i}" for i in range(20) for _ in range(3)]
    r = rates(outs, items, seed=0, n_resamples=2000)  # type: ignore[arg-type]
    assert r.win == pytest.approx(0.6) and r.n_items == 20 and r.n_ratings == 60
    rows = rates(outs, [f"x{k}" for k in range(60)], seed=0, n_resamples=2000)  # type: ignore[arg-type]
    width = r.win_ci[1] - r.win_ci[0]  # type: ignore[index]
    row_width = rows.win_ci[1] - rows.win_ci[0]  # type: ignore[index]
    assert width > 1.4 * row_width
    assert r.win_ci[0] < 0.6 < r.win_ci[1]  # type: ignore[index]


def test_the_sheet_is_blinded_and_the_key_un_blinds_it(tmp_path: Path):
    run = generation_run(tmp_path / "runs" / "sft")
    res = export_sheet(run, n=20, raters=2, seed=3)
    text = res.sheet.read_text(encoding="utf-8")
    header, *lines = list(csv.reader(text.splitlines()))
    assert header == ["item_id", "prompt", "output_a", "output_b"] and len(lines) == 20
    key_text = res.key_path.read_text(encoding="utf-8")
    # nothing of the key is in the sheet: no row id, no side, no run or file names
    for item in res.key.items:
        assert item.row_id not in text
    assert "run_side" not in text and "humaneval_key" not in text and key_text not in text
    assert "row-secret" not in text and "sft" not in text
    # both sides are used, and the key says which output is the run's
    preds = {r.id: r for r in rundir.read_predictions(run)}
    sheet = {it.item_id: it for it in read_sheet(run)}
    assert {it.run_side for it in res.key.items} == {"a", "b"}
    for item in res.key.items:
        row, shown = preds[item.row_id], sheet[item.item_id]
        mine, other = (
            (shown.output_a, shown.output_b)
            if item.run_side == "a"
            else (shown.output_b, shown.output_a)
        )
        assert (mine, other, shown.prompt) == (row.pred, row.gold, row.text)
        assert item.slices == row.slices
    # shuffled: not the prediction order; identical outputs left out and counted
    order = [int(it.row_id.rsplit("-", 1)[1]) for it in res.key.items]
    assert order != sorted(order) and all(i % 10 for i in order)
    assert res.key.identical == 4 and res.key.eligible == 36
    # one empty rating file per rater, named in the key
    assert [p.name for p in res.rating_files] == ["rater-1.csv", "rater-2.csv"]
    with pytest.raises(UserError, match="already exported"):
        export_sheet(run, n=5)
    # --overwrite sets the old sheet, key and ratings aside: none can be imported by mistake
    again = export_sheet(run, n=5, overwrite=True)
    (old,) = run.glob("humaneval.replaced-*")
    assert (old / "humaneval_key.json").read_text(encoding="utf-8") == key_text
    assert (old / "humaneval" / "sheet.csv").read_text(encoding="utf-8") == text
    assert sorted(p.name for p in (run / "humaneval" / "ratings").iterdir()) == [
        "rater-1.csv",
        "rater-2.csv",
        "rater-3.csv",
    ]
    assert {i.item_id for i in again.key.items}.isdisjoint(i.item_id for i in res.key.items)


def test_against_a_baseline_run_and_refusals(tmp_path: Path):
    run = generation_run(tmp_path / "sft")
    base = generation_run(tmp_path / "base", prefix="base", same_every=1000)
    res = export_sheet(run, baseline=base, n=100, seed=1)
    assert res.key.baseline == "base" and res.key.baseline_kind == "run"
    assert len(res.key.items) == 39 and res.key.identical == 1  # row 0: both equal the gold
    sheet = {it.item_id: it for it in read_sheet(run)}
    assert all(
        "base summary"
        in (sheet[it.item_id].output_b if it.run_side == "a" else sheet[it.item_id].output_a)
        for it in res.key.items
    )
    labels = tmp_path / "cls"
    labels.mkdir()
    rundir.write_predictions(labels, [{"id": "a", "gold": 1, "pred": 0}])
    with pytest.raises(UserError, match="not texts"):
        export_sheet(labels)


def _simulate(run: Path, res, tmp_path: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    """rater-1 and rater-2 prefer the run on 3 of 4 items (and agree); rater-3 the opposite."""
    ratings = tmp_path / "ratings"
    ratings.mkdir()
    paths = []
    for rater in ("rater-1", "rater-2", "rater-3"):
        choices = {}
        for k, item in enumerate(res.key.items):
            other = "b" if item.run_side == "a" else "a"
            good = item.run_side if k % 4 else other
            if rater == "rater-2" and k % 7 == 0:
                good = "tie"
            choices[item.item_id] = (
                ({"a": "b", "b": "a"}.get(good, "tie")) if rater == "rater-3" else good
            )
        paths.append(fill(ratings / f"{rater}.csv", choices))
    return paths


def test_import_scores_win_rate_agreement_and_flags_the_outlier(tmp_path: Path):
    run = generation_run(tmp_path / "runs" / "sft", n=80)
    res = export_sheet(run, n=40, raters=3, seed=2)
    paths = _simulate(run, res, tmp_path)
    out = runner.invoke(app, ["humaneval", "import", str(run), *map(str, paths)])
    assert out.exit_code == 0, out.output
    h = rundir.read(run, rundir.HumanEval)
    # recompute the outcomes from the files and the key
    side = {it.item_id: it.run_side for it in res.key.items}
    outcomes = []
    for p in paths:
        for row in csv.DictReader(p.open(encoding="utf-8")):
            c = row["choice"]
            outcomes.append("tie" if c == "tie" else "win" if c == side[row["item_id"]] else "loss")
    assert h.overall.n_ratings == 120 and h.overall.n_items == 40
    assert h.overall.win == pytest.approx(outcomes.count("win") / 120)
    assert h.overall.win_ci[0] <= h.overall.win <= h.overall.win_ci[1]  # type: ignore[index]
    assert set(h.slices) == {"language=en", "language=fr"}
    assert sum(s.n_ratings for s in h.slices.values()) == 120
    # α against the reference package on the same un-blinded outcomes
    codes = {o: k for k, o in enumerate(OUTCOMES)}
    matrix = np.array([outcomes[i * 40 : (i + 1) * 40] for i in range(3)])
    want = krippendorff.alpha(
        reliability_data=np.vectorize(codes.get)(matrix).astype(float),
        level_of_measurement="nominal",
    )
    assert h.agreement.krippendorff_alpha == pytest.approx(want)
    assert [r.name for r in h.raters if r.flagged] == ["rater-3"]
    assert "rater rater-3" in out.output
    assert h.unrated == 0 and len(h.files) == 3


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("unknown", "item_id 'nope-001' is not in the sheet"),
        ("choice", "choice 'maybe': use a, b or tie"),
        ("duplicate", "rated item"),
        ("header", "header lacks choice"),
    ],
)
def test_a_bad_rating_file_exits_2_naming_file_and_line_and_writes_nothing(
    tmp_path: Path, edit: str, message: str
):
    run = generation_run(tmp_path / "sft")
    res = export_sheet(run, n=5, raters=1, seed=0)
    items = [it.item_id for it in res.key.items]
    good = fill(tmp_path / "alice.csv", dict.fromkeys(items, "a"))
    bad = tmp_path / "bad.csv"
    if edit == "unknown":
        fill(bad, {items[0]: "b", "nope-001": "a"}, rater="bob")
    elif edit == "choice":
        fill(bad, {items[0]: "b", items[1]: "maybe"}, rater="bob")
    elif edit == "duplicate":
        fill(bad, {items[2]: "b"}, rater="alice")
    else:
        bad.write_text("item_id,rater,pick\nx,bob,a\n", encoding="utf-8")
    out = runner.invoke(app, ["humaneval", "import", str(run), str(good), str(bad)])
    assert out.exit_code == 2, out.output
    assert message in out.output and str(bad) in out.output.replace("\n", "")
    if edit != "header":
        assert "line 3" in out.output or "line 2" in out.output
    assert "Traceback" not in out.output
    assert not (run / "humaneval.json").exists()


def test_import_of_unfilled_templates_is_refused(tmp_path: Path):
    run = generation_run(tmp_path / "sft")
    res = export_sheet(run, n=5, raters=2, seed=0)
    with pytest.raises(UserError, match="no item has a choice yet"):
        import_ratings(run, list(res.rating_files))
    # a partly filled template: blank choices are "not rated yet"
    lines = res.rating_files[0].read_text(encoding="utf-8").splitlines()
    lines[1] += "tie"
    res.rating_files[0].write_text("\n".join(lines) + "\n", encoding="utf-8")
    h = import_ratings(run, list(res.rating_files), n_resamples=50)
    assert h.overall.n_ratings == 1 and h.overall.tie == 1.0 and h.unrated == 4
    assert h.agreement.note and "one rater" in h.agreement.note
    assert json.loads((run / "humaneval.json").read_text())["version"] == 1
