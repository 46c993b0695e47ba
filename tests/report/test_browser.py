"""report.html in a real browser (headless Chromium): sections and tables are there, and text from
the data shows as text (nothing from predictions.jsonl, checks.json or plan.md becomes markup)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tuneproof.report import build_report

from .test_report import SECTIONS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian package 'chromium' not installed (`make chromium` installs it, as root)",
)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


def test_report_html_renders_with_data_as_text(
    run_dir: Path, baseline_dir: Path, tmp_path: Path
) -> None:
    cmp = build_report(run_dir, baseline=baseline_dir).comparison
    assert cmp is not None
    url = (run_dir / "report.html").resolve().as_uri()
    dom = _chromium(tmp_path, "--dump-dom", url).stdout

    assert re.findall(r"<h2>(.+?)</h2>", dom) == SECTIONS
    for table in (
        "config-diff",
        "metrics",
        "slices",
        "findings",
        "examples",
        "stress",
        "environment",
    ):
        assert f'<table class="{table}">' in dom, table
    assert dom.count("<svg") == 3  # slice bars, loss, validation metric
    for v in cmp.verdicts:  # each slice row carries its verdict's class
        if v.key != "overall":
            css = v.verdict if v.verdict in ("regressed", "improved") else ""
            assert f'<tr class="{css}"><td>{v.key}' in dom, v.key

    # a payload row is a table cell holding the text, and no element came from the data
    assert re.search(
        r"<td class=\"text\">[a-z ]+ &lt;script&gt;document\.title='pwned'&lt;/script&gt; &amp; "
        r"&lt;b&gt;bold&lt;/b&gt;</td>",
        dom,
    )
    assert "<script" not in dom and "<b>bold" not in dom
    title = re.search(r"<title>(.*?)</title>", dom)
    assert title is not None and title.group(1) == "Evidence report: run"


def test_screenshot(run_dir: Path, baseline_dir: Path, tmp_path: Path) -> None:
    """A full-page screenshot renders (the layout itself is judged by eye during development)."""
    build_report(run_dir, baseline=baseline_dir)
    png = tmp_path / "report.png"
    _chromium(
        tmp_path,
        f"--screenshot={png}",
        "--window-size=1280,2400",
        (run_dir / "report.html").resolve().as_uri(),
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 2400)
