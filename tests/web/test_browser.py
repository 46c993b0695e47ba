"""The app in a real browser: Playwright drives Debian's Chromium against `tuneproof ui` on
127.0.0.1. Every test fails if a page asks for anything not on 127.0.0.1, logs a console error
(a Content-Security-Policy violation included) or ends up with a script the app did not ship.
The screenshots in docs/img/ (shown in docs/ui.md) are taken here."""

from __future__ import annotations

import io
import re
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tuneproof import rundir

from .conftest import DOCS_IMG, PAYLOAD, Guarded, flip_payload, needs_chromium, serve

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

IMG = DOCS_IMG
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def app_url(trained_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ws = tmp_path_factory.mktemp("browser") / "ws"
    shutil.copytree(trained_workspace, ws)
    flip_payload(ws / "runs" / "fast", ws / "runs" / "flip", against=ws / "runs" / "base")
    with serve(ws) as url:
        yield url


@pytest.fixture
def page(browser, app_url: str):  # type: ignore[no-untyped-def]
    """A fresh browser context whose every request is checked to stay on 127.0.0.1."""
    guarded = Guarded(browser, viewport={"width": 1200, "height": 900}, accept_downloads=True)
    yield guarded.page
    guarded.close()


def _only_our_scripts(pg) -> None:  # type: ignore[no-untyped-def]
    srcs = pg.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))")
    assert srcs == ["/static/htmx.min.js", "/static/app.js"]
    assert "pwned" not in pg.title()


def _poll(fn, timeout: float):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while (value := fn()) is None:
        assert time.monotonic() < end, "timed out"
        time.sleep(0.2)
    return value


def _step(pg) -> int | None:  # type: ignore[no-untyped-def]
    """The step the live box shows, once training has made one."""
    box = pg.locator('#live [data-field="step"]')
    m = re.match(r"(\d+) / \d+$", box.inner_text()) if box.count() else None
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def _shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    IMG.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(IMG / name), full_page=True)


def test_home_runs_run(page, app_url: str, trained_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_url + "/")
    assert page.locator("h1").inner_text() == "tuneproof"
    _shot(page, "home.png")
    page.click("header nav >> text=Runs")
    page.wait_for_url("**/runs")
    assert page.locator("#runs-table tbody tr").count() == 3
    page.fill("#q", "fast")  # htmx filters the table as you type
    expect(page.locator("#runs-table tbody tr")).to_have_count(1)
    page.fill("#q", "")
    expect(page.locator("#runs-table tbody tr")).to_have_count(3)
    _shot(page, "runs.png")
    page.click("#runs-table a[href='/runs/base']")
    page.wait_for_url("**/runs/base")
    head = rundir.read(trained_workspace / "runs" / "base", rundir.Metrics).headline
    assert head is not None
    assert page.inner_text("#headline-value") == f"{head.value:.4f}"
    assert page.locator("#curves svg").count() == 2
    assert page.locator("#failures td.text", has_text=PAYLOAD).count() == 1  # shown as text
    _only_our_scripts(page)
    _shot(page, "run.png")


def test_compare_shows_changed_keys_only(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_url + "/compare")
    page.select_option("#a", "fast")
    page.select_option("#b", "base")
    page.click("form.pick button")
    page.wait_for_url("**/compare?a=fast&b=base")
    keys = page.eval_on_selector_all(
        "table.config-diff tr td:first-child", "els => els.map(e => e.textContent)"
    )
    assert sorted(keys) == ["name", "training.learning_rate"]
    assert page.locator("table.deltas tr", has_text="overall").count() == 1
    _shot(page, "compare.png")
    page.goto(app_url + "/compare?a=flip&b=base")
    assert page.locator("#flips td.text", has_text=PAYLOAD).count() == 2
    _only_our_scripts(page)


def test_evidence_builder(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_url + "/evidence")
    page.select_option("#run", "flip")
    page.select_option("#baseline", "base")
    page.click("form.pick button")
    page.wait_for_selector("#pr")
    page.fill("#motivation", "A larger learning rate <b>converges</b> in fewer steps.")
    page.fill("#known_failures", "Still confuses the markup row.")
    page.click("#save-notes")  # htmx post: the page stays
    page.wait_for_selector("#saved")
    page.reload()
    assert page.input_value("#motivation").startswith("A larger learning rate <b>")
    assert "## Motivation\n\nA larger learning rate <b>converges</b>" in page.inner_text("#pr")
    _only_our_scripts(page)
    _shot(page, "evidence.png")
    with page.expect_download() as dl:
        page.click("#download")
    names = zipfile.ZipFile(io.BytesIO(Path(dl.value.path()).read_bytes())).namelist()
    assert {"report.md", "report.html", "MODEL_CARD.md", "PR.md"} <= set(names)


def test_new_run_live_progress_refresh_and_complete(page, app_url: str, tiny_yaml: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_url + "/runs/new")
    assert "task: sequence-classification" in page.input_value("#config")
    page.fill("#config", tiny_yaml.replace("learning_rate", "learnin_rate"))
    page.wait_for_selector("#config-error")  # validated live, the key named
    assert "training.learnin_rate" in page.inner_text("#config-error")
    page.fill("#name", "live")
    page.fill("#config", tiny_yaml)
    page.wait_for_selector("#cli-command")
    assert page.inner_text("#cli-command") == "tuneproof train configs/live.yaml -o runs/live"
    _shot(page, "new.png")
    page.click("#start")
    page.wait_for_url("**/runs/live")

    # live progress over server-sent events, then a refresh mid-run keeps it
    step = _poll(lambda: _step(page), timeout=180)
    max_steps = yaml.safe_load(tiny_yaml)["training"]["max_steps"]
    assert 0 < step <= max_steps
    _shot(page, "run-live.png")
    page.reload()
    mid_run = page.inner_text("#run-status") in ("starting", "running")
    print(f"refreshed mid-run: {mid_run}")  # a fast machine may finish between the two
    if mid_run:
        shown = page.inner_text('#live [data-field="step"]')  # server-rendered from progress.json
        m = re.match(r"(\d+) / (\d+)$", shown)
        assert m is not None and int(m.group(1)) >= step and int(m.group(2)) == max_steps

    # the "done" event reloads the page (the app's CSP forbids eval, so no wait_for_function)
    _poll(lambda: page.inner_text("#run-status") == "complete" or None, timeout=300)
    assert page.locator("#headline-value").count() == 1
    page.goto(app_url + "/runs")
    row = page.locator("#runs-table tr", has=page.locator("a[href='/runs/live']"))
    assert row.locator(".badge").inner_text() == "complete"
