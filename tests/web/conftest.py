"""A workspace with two trained tiny runs (once per session) for the web tests.

The test split holds a row whose text is markup (``<script>``…), so every page that shows dataset
text is checked to show it as text.
"""

from __future__ import annotations

import csv
import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

POSITIVE = ["good", "great", "fine", "superb", "lovely", "wonderful", "brilliant", "charming"]
NEGATIVE = ["bad", "awful", "poor", "dull", "boring", "terrible", "weak", "messy"]
NEUTRAL = ["the", "film", "movie", "plot", "was", "a", "story", "actor", "scene", "really", "quite"]
PAYLOAD = "<script>document.title='pwned'</script> & <b>bold</b> good"


def toy_rows(n: int, seed: int, prefix: str) -> list[dict[str, str]]:
    """The toy sentiment task of tests/conftest.py (its words are the tiny BERT's vocabulary)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = rng.choice(["pos", "neg"])
        main, other = (POSITIVE, NEGATIVE) if label == "pos" else (NEGATIVE, POSITIVE)
        words = rng.sample(NEUTRAL, 4) + rng.sample(main, 2) + rng.sample(other, rng.randint(0, 1))
        rng.shuffle(words)
        rows.append({"id": f"{prefix}{i}", "text": " ".join(words), "label": label})
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def tiny_config(model_dir: Path, data: dict[str, Path], name: str, **training: Any) -> dict:
    train = {
        "max_steps": 12,
        "batch_size": 8,
        "learning_rate": 5e-3,
        "warmup": 0,
        "eval_strategy": "steps",
        "eval_steps": 4,
        "save_strategy": "no",
        "logging_steps": 2,
        "early_stopping_patience": None,
    }
    train.update(training)
    return {
        "name": name,
        "data": {k: str(v) for k, v in data.items()} | {"id_column": "id", "max_length": 32},
        "model": {"name": str(model_dir)},
        "training": train,
        "tracking": {"enabled": False},
        "checks": {"enabled": False},
    }


@pytest.fixture(scope="session")
def web_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("web-data")
    test = toy_rows(24, seed=3, prefix="te")
    # the same markup text twice with opposite labels: every run gets exactly one of them wrong,
    # so it is on every run page's list of failures
    test[0] = {"id": "xss-neg", "text": PAYLOAD, "label": "neg"}
    test[1] = {"id": "xss-pos", "text": PAYLOAD, "label": "pos"}
    return {
        "train": write_csv(folder / "train.csv", toy_rows(64, seed=1, prefix="tr")),
        "validation": write_csv(folder / "validation.csv", toy_rows(16, seed=2, prefix="va")),
        "test": write_csv(folder / "test.csv", test),
    }


@pytest.fixture(scope="session")
def trained_workspace(
    tiny_bert_dir: Path, web_data: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """runs/base and runs/fast (a larger learning rate), trained in-process once."""
    from tuneproof.config import parse_config
    from tuneproof.train import run

    ws = tmp_path_factory.mktemp("workspace")
    run(parse_config(tiny_config(tiny_bert_dir, web_data, "base")), ws / "runs" / "base")
    run(
        parse_config(tiny_config(tiny_bert_dir, web_data, "fast", learning_rate=2e-2)),
        ws / "runs" / "fast",
    )
    return ws


@pytest.fixture
def workspace(trained_workspace: Path, tmp_path: Path) -> Path:
    """A private copy of the trained workspace (tests write notes, reports, launches)."""
    dest = tmp_path / "ws"
    shutil.copytree(trained_workspace, dest)
    return dest


def flip_payload(src: Path, dest: Path, against: Path) -> Path:
    """A copy of run ``src`` whose predictions on the markup rows are the opposite of run
    ``against``'s, so comparing the two lists those rows as flipped (compare reads only files)."""
    from tuneproof import rundir

    shutil.copytree(src, dest)
    theirs = {r.id: r.pred for r in rundir.read_predictions(against)}
    rows = []
    for r in rundir.read_predictions(src):
        if r.id.startswith("xss"):
            r.pred = "pos" if theirs[r.id] == "neg" else "neg"
        rows.append(r)
    rundir.write_predictions(dest, rows)
    return dest


@pytest.fixture
def tiny_yaml(tiny_bert_dir: Path, web_data: dict[str, Path]) -> str:
    """A config that trains in a few seconds (for the launch tests)."""
    return yaml.safe_dump(
        tiny_config(tiny_bert_dir, web_data, "live", max_steps=10), sort_keys=False
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(ws: Path) -> Iterator[str]:
    """``tuneproof ui`` as a real uvicorn server on 127.0.0.1 (its own process group)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuneproof", "ui", "--workspace", str(ws), "--port", str(port)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/api/runs", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError(
                        f"tuneproof ui did not start: {proc.stderr.read().decode() if proc.stderr else ''}"
                    ) from None
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


# --- the browser tests (Playwright on Debian's Chromium): one launcher, one guard -------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium is not at /usr/bin/chromium (`make chromium` installs it, as root)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, once per test module (no `playwright install`)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Guarded:
    """A fresh browser context whose every request must stay on 127.0.0.1 and whose pages must
    log no console error (a Content-Security-Policy violation included): ``close`` fails the
    test otherwise. The one guard every browser test uses, so none can forget a part of it."""

    def __init__(self, browser: Any, *, timeout_ms: int = 30_000, **context_args: Any) -> None:
        from urllib.parse import urlparse

        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(**context_args)

        def route(r: Any) -> None:
            if urlparse(r.request.url).hostname == "127.0.0.1":
                r.continue_()
            else:
                self.foreign.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.set_default_timeout(timeout_ms)

    def close(self, *, allow: str | None = None) -> None:
        """Close the context, then fail on any request off 127.0.0.1 or console error (except
        errors containing ``allow``, for a test that sends bad input on purpose)."""
        self.context.close()
        errors = [e for e in self.errors if not (allow and allow in e)]
        assert self.foreign == [], f"requests off 127.0.0.1: {self.foreign}"
        assert errors == [], f"console errors: {errors}"
