"""The rating page in a real browser (Playwright, Debian's Chromium, `tuneproof ui` on
127.0.0.1): a rater rates the whole sheet by clicking, the choices land in their rating file,
*compute* shows the results. Fails on any request off 127.0.0.1, any console error (a CSP
violation included) and any script the app did not ship."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuneproof import rundir
from tuneproof.evaluate.humaneval_files import export_sheet

from ..evaluate.humaneval_fixtures import generation_run
from .conftest import Guarded, needs_chromium, serve

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = needs_chromium


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    run = generation_run(tmp_path / "runs" / "sft", n=10)
    export_sheet(run, n=4, raters=1, seed=5)
    with serve(tmp_path) as url:
        yield tmp_path, url


def test_a_rater_rates_the_sheet_in_the_browser(browser, ws: tuple[Path, str]) -> None:  # type: ignore[no-untyped-def]
    root, url = ws
    run = root / "runs" / "sft"
    key = rundir.read(run, rundir.HumanEvalKey)
    guarded = Guarded(browser)
    pg = guarded.page
    pg.goto(f"{url}/runs/sft")
    pg.click("#humaneval-link")
    pg.fill("#rater", "dana")
    pg.click("#start")
    clicks = ["#choose-a", "#choose-b", "#choose-tie", "#choose-a"]
    for k, button in enumerate(clicks):
        expect(pg.locator("#item-id")).to_have_text(key.items[k].item_id)
        expect(pg.locator("#prompt")).not_to_be_empty()
        pg.click(button)
    expect(pg.locator("#all-done")).to_be_visible()
    pg.click("#compute")
    expect(pg.locator("#humaneval-overall")).to_be_visible()
    srcs = pg.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))")
    assert srcs == ["/static/htmx.min.js", "/static/app.js"]
    assert "row-secret" not in pg.content()
    guarded.close()
    saved = list(csv.DictReader((run / "humaneval" / "ratings" / "dana.csv").open()))
    assert [r["choice"] for r in saved] == ["a", "b", "tie", "a"]
    h = rundir.read(run, rundir.HumanEval)
    assert h.overall.n_ratings == 4 and h.overall.tie == pytest.approx(0.25)
