"""The strategy, TrainingArguments and concepts pages and the home page's learning path in
Debian's Chromium, against `tuneproof ui` on 127.0.0.1: every test fails on a request off
127.0.0.1, a console error (CSP violations included) or a script the app did not ship. The
screenshots strategy.png, args.png, concepts.png and learning-path.png in docs/img/ come from here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import DOCS_IMG, Guarded, needs_chromium, serve

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

IMG = DOCS_IMG
SCRIPTS = ["/static/htmx.min.js", "/static/app.js", "/static/learn.js"]
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("learn-ws")) as url:  # these pages need no runs
        yield url


@pytest.fixture
def page(browser, app_url: str):  # type: ignore[no-untyped-def]
    """A fresh context (empty localStorage) whose every request must stay on 127.0.0.1."""
    guarded = Guarded(browser, timeout_ms=60_000, viewport={"width": 1200, "height": 900})
    yield guarded.page
    guarded.close()


def _only_our_scripts(pg) -> None:  # type: ignore[no-untyped-def]
    srcs = pg.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))")
    assert srcs == SCRIPTS


def _shot(pg, name: str, height: int | None = None) -> None:  # type: ignore[no-untyped-def]
    """A full-page screenshot, cut at ``height`` pixels for a long page."""
    IMG.mkdir(parents=True, exist_ok=True)
    clip = {"x": 0, "y": 0, "width": 1200, "height": height} if height else None
    pg.screenshot(path=str(IMG / name), full_page=True, clip=clip)


def test_explorer_shows_the_replacement_of_a_removed_name(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_url + "/args")
    snippet = (
        "from transformers import TrainingArguments\n\n"
        "args = TrainingArguments(\n"
        '    output_dir="out",\n'
        '    evaluation_strategy="epoch",\n'
        "    learning_rate=3e-4,\n"
        ")\n"
    )
    page.fill("#snippet", snippet)
    page.click("#lint")  # htmx swaps in the findings and the converted snippet
    row = page.locator("#findings tr[data-rule='removed-name']")
    expect(row).to_have_count(1)
    assert "evaluation_strategy" in row.inner_text()
    assert row.locator("td.fix").inner_text() == "eval_strategy: epoch"
    python = page.inner_text("#snippet-python")
    assert "eval_strategy='epoch',  # was evaluation_strategy" in python
    assert "eval_strategy: epoch" in page.inner_text("#snippet-yaml")
    page.fill("#arg-q", "warmup")  # the argument list filters as you type
    expect(page.locator("#arg-seed")).to_have_count(0)  # filtered out
    expect(page.locator("#arg-warmup_steps")).to_have_count(1)
    assert page.inner_text("#args-count") == str(page.locator("#args-table tr[id^='arg-']").count())
    _only_our_scripts(page)
    _shot(page, "args.png")


def test_quiz_and_concepts_progress_persist(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_url + "/concepts")
    assert page.inner_text("#quiz-count") == "0" and page.inner_text("#concepts-count") == "0"
    quiz = page.locator("form.quiz").first
    right = quiz.get_attribute("data-answer")
    quiz.locator(f"input[value='{right}']").check()
    expect(quiz.locator("[data-verdict]")).to_have_text("Right.")
    page.locator("input[data-item='attention-masks-and-padding']").check()
    expect(page.locator("#quiz-count")).to_have_text("1")
    expect(page.locator("#concepts-count")).to_have_text("1")
    page.reload()
    expect(page.locator("#quiz-count")).to_have_text("1")
    expect(page.locator("#quiz-right")).to_have_text("1")
    expect(page.locator("#concepts-count")).to_have_text("1")
    assert page.locator("input[data-item='attention-masks-and-padding']").is_checked()
    assert page.locator("form.quiz").first.locator(f"input[value='{right}']").is_checked()
    page.fill("#steps-rows", "10000")  # the steps calculator, through htmx
    page.fill("#steps-accumulation", "2")
    expect(page.locator("#steps-per-epoch")).to_have_text("313")
    _only_our_scripts(page)
    _shot(page, "concepts.png", height=1500)

    page.goto(app_url + "/")  # the home page's learning path, with the same store
    assert page.locator("#learning-path ol li").count() == 6
    expect(page.locator("#learning-path [data-learn-count='concepts']")).to_have_text("1")
    page.locator("input[data-item='strategy']").check()
    expect(page.locator("#path-count")).to_have_text("1")
    page.reload()
    expect(page.locator("#path-count")).to_have_text("1")
    _shot(page, "learning-path.png")


def test_strategy_tree_to_lora_and_to_do_not_fine_tune(page, app_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(app_url + "/strategy")
    page.select_option("#model", "llama-2-7b")
    page.fill("#train_rows", "20000")
    page.fill("#gpu_memory_gib", "24")
    page.click("#walk")
    expect(page.locator("#recommendation")).to_have_attribute("data-kind", "lora")
    assert page.locator("#tree li").count() >= 4
    assert page.locator("#rejected li[data-kind='full']").inner_text().startswith("full: needs")
    assert "kind: lora" in page.inner_text("#starter-config")
    _only_our_scripts(page)
    _shot(page, "strategy.png")

    page.select_option("#model", "minilm-l6")
    page.fill("#train_rows", "60")
    page.click("#walk")
    expect(page.locator("#recommendation")).to_have_attribute("data-kind", "prompting")
    assert "Don't fine-tune" in page.inner_text("#recommendation")
    expect(page.locator("#no-config")).to_have_count(1)
    page.fill("#train_rows", "20000")
    page.check("#changes_often")
    page.click("#walk")
    expect(page.locator("#recommendation")).to_have_attribute("data-kind", "prompting")
    assert "relabelling and retraining" in page.inner_text("#reason")
