"""The LoRA, tokenization and evaluation-plan pages in Debian's Chromium (Playwright) against a
real `tuneproof ui` on 127.0.0.1: a request off 127.0.0.1, a console error or a foreign script
fails the test (as in test_browser.py). Takes docs/img/lora.png, tokens.png and evalplan.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuneproof.evaluate.plan import load_plan

from .conftest import DOCS_IMG, Guarded, needs_chromium, serve

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

IMG = DOCS_IMG
SLOW = 180_000  # ms: the first LoRA curve builds nine models on a busy 2-core machine
HINDI = "मैं कल सुबह दिल्ली जाऊँगा और क्षत्रिय परिवार से मिलूँगा।"
CHINESE = "我们明天早上九点在火车站见面，别迟到。"
SHOT = "Die Straßenbahnhaltestelle ist geschlossen 🚋 — Съешь ещё этих мягких булок, café naïve"

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def app_url(trained_workspace: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ws = tmp_path_factory.mktemp("browser-learn-b") / "ws"
    shutil.copytree(trained_workspace, ws)
    with serve(ws) as url:
        yield url


class Watched(Guarded):
    """The guarded page; a test that sends bad input on purpose allows the browser's own
    console line about that 422."""

    def __init__(self, browser) -> None:  # type: ignore[no-untyped-def]
        super().__init__(
            browser, timeout_ms=SLOW, viewport={"width": 1200, "height": 900}, accept_downloads=True
        )
        self.allow_422 = False


@pytest.fixture
def watched(browser) -> Iterator[Watched]:  # type: ignore[no-untyped-def]
    w = Watched(browser)
    yield w
    w.close(allow="status of 422" if w.allow_422 else None)


def _scripts(pg) -> list[str]:  # type: ignore[no-untyped-def]
    return pg.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))")


def _shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    IMG.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(IMG / name), full_page=True)


def peft_count(r: int) -> int:
    """PEFT's trainable count for MiniLM with PEFT's default BERT targets, on the real model."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import BertModel

    from tuneproof.plan.lora import resolve_source

    torch.manual_seed(0)
    model = BertModel(resolve_source("minilm-l6").config)
    lora = LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.05)
    return int(get_peft_model(model, lora).get_nb_trainable_parameters()[0])


def test_lora_rank_slider_shows_peft_count(watched: Watched, app_url: str) -> None:
    pg = watched.page
    pg.goto(app_url + "/lora", timeout=SLOW)
    assert _scripts(pg) == ["/static/htmx.min.js", "/static/app.js", "/static/learn_live.js"]
    expect(pg.locator("#lora-trainable")).to_have_text(f"{peft_count(16):,}", timeout=SLOW)
    slider = pg.locator("#rank")
    slider.focus()
    slider.press("End")  # the keyboard moves a range input as a user does: to its maximum, 128
    expect(pg.locator("#rank-value")).to_have_text("128", timeout=SLOW)
    expect(pg.locator("#lora-rank")).to_have_text("128", timeout=SLOW)
    expect(pg.locator("#lora-trainable")).to_have_text(f"{peft_count(128):,}", timeout=SLOW)
    for _ in range(3):
        slider.press("ArrowLeft")
    expect(pg.locator("#lora-rank")).to_have_text("125", timeout=SLOW)
    expect(pg.locator("#lora-trainable")).to_have_text(f"{peft_count(125):,}", timeout=SLOW)
    assert "r=125," in pg.inner_text("#lora-snippet")
    assert pg.locator("#lora-charts svg").count() == 2
    slider.press("Home")
    for _ in range(7):
        slider.press("ArrowRight")
    expect(pg.locator("#lora-rank")).to_have_text("8", timeout=SLOW)
    expect(pg.locator("#lora-trainable")).to_have_text(f"{peft_count(8):,}", timeout=SLOW)
    _shot(pg, "lora.png")

    watched.allow_422 = True  # a refused value shows the reason in place of the numbers
    pg.fill("#seq", "100000")  # passes the browser's own checks, not the model's
    expect(pg.locator("#learn-error")).to_contain_text(
        "longer than the model's 512 positions", timeout=SLOW
    )
    pg.fill("#seq", "256")
    expect(pg.locator("#lora-trainable")).to_have_text(f"{peft_count(8):,}", timeout=SLOW)


def test_tokens_hindi_and_chinese_spans_and_unk(watched: Watched, app_url: str) -> None:
    from tuneproof.tokens.view import builtin, token_view

    pg = watched.page
    pg.goto(app_url + "/tokens", timeout=SLOW)
    views = pg.locator(".tokview")
    expect(views).to_have_count(4, timeout=SLOW)
    names = views.evaluate_all("els => els.map(e => e.dataset.tokenizer)")
    for text in (HINDI, CHINESE):
        pg.fill("#text", text)
        for name in names:
            want = token_view(builtin(name), text)
            box = pg.locator(f'.tokview[data-tokenizer="{name}"]')
            expect(box.locator(".count")).to_have_text(str(want.count), timeout=SLOW)
            expect(box.locator(".unk-count")).to_have_text(str(want.n_unk), timeout=SLOW)
            shown = box.locator(".tokline span.t")
            expect(shown).to_have_count(sum(1 for s in want.segments if s.tokens), timeout=SLOW)
            expect(box.locator(".tokline .t.unk")).to_have_count(
                sum(s.unk for s in want.segments), timeout=SLOW
            )
            expect(box.locator(".tokline .t.byte")).to_have_count(
                sum(s.byte for s in want.segments), timeout=SLOW
            )
            assert box.locator(".tokline").inner_text().replace("∅", "") == text
        if text == CHINESE:  # BERT's English vocabulary: Han characters come out as UNK
            assert pg.locator('.tokview[data-tokenizer="minilm-l6"] .t.unk').count() > 0
    # the screenshot: scripts the machine's fonts draw (this Chromium has no CJK font)
    pg.fill("#text", SHOT)
    want = token_view(builtin("minilm-l6"), SHOT)
    box = pg.locator('.tokview[data-tokenizer="minilm-l6"]')
    expect(box.locator(".count")).to_have_text(str(want.count), timeout=SLOW)
    _shot(pg, "tokens.png")
    assert pg.locator("#parallel tr").count() == 14  # header + 13 languages
    assert pg.title() != "pwned"


def test_evalplan_choose_and_export(watched: Watched, app_url: str, tmp_path: Path) -> None:
    pg = watched.page
    pg.goto(app_url + "/evalplan", timeout=SLOW)
    expect(pg.locator("#min-examples")).to_have_text("97", timeout=SLOW)
    pg.check('#languages input[value="fr"]')
    expect(pg.locator("#slices")).to_contain_text("language=fr", timeout=SLOW)
    pg.select_option("#data", "runs/base:test")
    expect(pg.locator("#slices")).to_contain_text("short", timeout=SLOW)
    pg.check('#scripts input[value="Latin"]')
    pg.uncheck('#modes input[value="confident_wrong"]')
    expect(pg.locator("#failure-modes")).not_to_contain_text("confident_wrong", timeout=SLOW)
    _shot(pg, "evalplan.png")
    with pg.expect_download() as dl:
        pg.click("#export-yaml")
    target = tmp_path / "plan.yaml"
    shutil.copy(dl.value.path(), target)
    plan = load_plan(target)  # what `tuneproof eval RUN --plan plan.yaml` reads
    assert plan.languages == ["en", "fr", "hi", "zh"]  # the order of the checkboxes
    assert "language=fr" in [s.key for s in plan.slices]
    with pg.expect_download() as dl:
        pg.click("#export-md")
    assert Path(dl.value.path()).read_text(encoding="utf-8").startswith("# Evaluation plan")
