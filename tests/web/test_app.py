"""The pages and the JSON API through FastAPI's TestClient: what each page shows comes from the run
directory, text from the data is escaped, and the guards refuse what they should."""

from __future__ import annotations

import io
import re
import shlex
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from markupsafe import escape

from tuneproof import rundir
from tuneproof.web import create_app

from .conftest import PAYLOAD, flip_payload

TOKEN = "test-token"
ORIGIN = {"Origin": "http://127.0.0.1"}


@pytest.fixture
def client(workspace: Path) -> TestClient:
    c = TestClient(create_app(workspace, token=TOKEN), base_url="http://127.0.0.1")
    c.get("/")  # sets the token cookie, as a browser's first page does
    return c


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out |= _flat(v, f"{prefix}{k}.")
        return out
    return {prefix[:-1]: d}


def test_pages_render(client: TestClient) -> None:
    for url in ("/", "/runs", "/runs/base", "/runs/new", "/compare", "/evidence"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert client.get("/runs/nope").status_code == 404


def test_runs_page_lists_runs_with_status_and_headline(client: TestClient, workspace: Path) -> None:
    page = client.get("/runs").text
    for name in ("base", "fast"):
        head = rundir.read(workspace / "runs" / name, rundir.Metrics).headline
        assert head is not None
        row = re.search(
            rf'<tr class="status-complete">\s*<td><a href="/runs/{name}">.*?</tr>', page, re.S
        )
        assert row is not None, name
        assert f"<b>{head.value:.4f}</b>" in row.group(0)
    for desc, order in (("false", ["base", "fast"]), ("true", ["fast", "base"])):
        sorted_page = client.get("/runs", params={"sort": "name", "desc": desc}).text
        assert re.findall(r'<td><a href="/runs/(\w+)">', sorted_page) == order
    filtered = client.get("/runs", params={"q": "fast"}).text
    assert 'href="/runs/fast"' in filtered and 'href="/runs/base"' not in filtered


def test_run_page_shows_headline_curves_failures_and_reproduce(
    client: TestClient, workspace: Path
) -> None:
    run = workspace / "runs" / "base"
    metrics = rundir.read(run, rundir.Metrics)
    page = client.get("/runs/base").text
    assert metrics.headline is not None
    assert f'id="headline-value">{metrics.headline.value:.4f}<' in page
    assert page.count("<svg") == 2  # loss, validation metrics
    wrong = [r for r in rundir.read_predictions(run) if not r.correct]
    assert f"Rows it gets wrong ({len(wrong)}" in page
    command = shlex.join(rundir.read(run, rundir.Manifest).command)  # pasteable in a shell
    assert str(escape(command)) in page
    assert 'href="/files/runs/base/metrics.json"' in page


def test_dataset_markup_is_text_on_run_compare_and_evidence(
    client: TestClient, workspace: Path
) -> None:
    runs = workspace / "runs"
    flip_payload(runs / "fast", runs / "flip", against=runs / "base")
    escaped = str(escape(PAYLOAD))
    pages = {
        "run": client.get("/runs/base").text,
        "compare": client.get("/compare", params={"a": "flip", "b": "base"}).text,
        "evidence": client.get("/evidence", params={"run": "flip", "baseline": "base"}).text,
    }
    for name, page in pages.items():
        assert "<script>document" not in page and "<b>bold" not in page, name
    assert escaped in pages["run"] and escaped in pages["compare"]
    # the evidence page shows the drafted PR text (escaped) and frames report.html sandboxed
    assert (
        '<iframe class="report" src="/files/runs/flip/report.html" title="evidence report" sandbox>'
        in pages["evidence"]
    )
    report = client.get("/files/runs/flip/report.html")
    assert "sandbox" in report.headers["content-security-policy"]
    assert "<script>document" not in report.text


def test_compare_shows_only_changed_keys_and_flips(client: TestClient, workspace: Path) -> None:
    a = yaml.safe_load((workspace / "runs/fast/config.yaml").read_text())
    b = yaml.safe_load((workspace / "runs/base/config.yaml").read_text())
    fa, fb = _flat(a), _flat(b)
    changed = {k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k)}
    assert changed == {"name", "training.learning_rate"}
    page = client.get("/compare", params={"a": "fast", "b": "base"}).text
    table = re.search(r'<table class="config-diff">(.*?)</table>', page, re.S)
    assert table is not None
    shown = set(re.findall(r"<tr><td>([^<]+)</td>", table.group(1)))
    assert shown == changed
    rows_a = {r.id: r for r in rundir.read_predictions(workspace / "runs/fast")}
    rows_b = {r.id: r for r in rundir.read_predictions(workspace / "runs/base")}
    flips = sum(rows_a[k].correct != rows_b[k].correct for k in rows_a)
    assert f"Rows that flipped ({flips})" in page
    assert "<td>overall</td>" in page


def test_compare_refuses_with_the_reason(client: TestClient) -> None:
    r = client.get("/compare", params={"a": "base", "b": "nope"})
    assert r.status_code == 400 and "no such run" in r.text


def test_api_runs_and_progress(client: TestClient, workspace: Path) -> None:
    runs = {r["name"]: r for r in client.get("/api/runs").json()}
    assert set(runs) == {"base", "fast"}
    metrics = rundir.read(workspace / "runs/base", rundir.Metrics)
    assert runs["base"]["status"] == "complete"
    assert metrics.headline is not None and runs["base"]["value"] == metrics.headline.value
    assert runs["base"]["best"] == metrics.training.best_metric  # type: ignore[union-attr]
    progress = client.get("/api/runs/base/progress").json()
    assert progress["step"] == progress["max_steps"] == 12
    assert progress["phase"] == "evaluate" and "accuracy" in progress["eval"]
    assert client.get("/api/runs/nope").status_code == 404


def test_events_of_a_finished_run_end_with_done(client: TestClient) -> None:
    with client.stream("GET", "/runs/base/events") as r:
        body = "".join(r.iter_text())
    assert body.startswith("event: done\n") and '"status": "complete"' in body


def test_validate_names_the_key(client: TestClient, tiny_yaml: str) -> None:
    h = {**ORIGIN, "X-Tuneproof-Token": TOKEN}
    ok = client.post("/api/validate", json={"config": tiny_yaml}, headers=h).json()
    assert ok["ok"] and ok["command"] == [
        "tuneproof",
        "train",
        "configs/live.yaml",
        "-o",
        "runs/live",
    ]
    bad = client.post(
        "/api/validate",
        json={"config": tiny_yaml.replace("learning_rate", "learnin_rate")},
        headers=h,
    ).json()
    assert not bad["ok"] and bad["key"] == "training.learnin_rate"
    assert "did you mean 'learning_rate'" in bad["error"]


def test_notes_and_evidence_zip(client: TestClient, workspace: Path) -> None:
    form = {
        "_token": TOKEN,
        "run": "fast",
        "baseline": "base",
        "motivation": "try a larger <lr>",
        "known_failures": "negation",
    }
    r = client.post("/evidence/notes", data=form, headers=ORIGIN, follow_redirects=False)
    assert r.status_code == 303
    notes = rundir.read(workspace / "runs/fast", rundir.Notes)
    assert notes.motivation == "try a larger <lr>" and notes.baseline == "base"
    page = client.get("/evidence", params={"run": "fast"}).text  # baseline from notes.json
    assert "## Motivation\n\ntry a larger &lt;lr&gt;" in page
    z = zipfile.ZipFile(
        io.BytesIO(client.get("/evidence/zip", params={"run": "fast", "baseline": "base"}).content)
    )
    assert set(z.namelist()) == {"report.md", "report.html", "MODEL_CARD.md", "PR.md", "notes.json"}
    pr = z.read("PR.md").decode()
    assert (
        pr.startswith("## Motivation\n\ntry a larger <lr>")
        and "## Known failures\n\nnegation" in pr
    )
    assert z.read("report.md") == (workspace / "runs/fast/report.md").read_bytes()


# --- guards ---------------------------------------------------------------------------------------


def _nothing_started(ws: Path) -> bool:
    return not (ws / ".tuneproof").exists() and not (ws / "runs/live").exists()


@pytest.mark.parametrize(
    ("headers", "cookie"),
    [
        ({**ORIGIN}, True),  # no token header
        ({**ORIGIN, "X-Tuneproof-Token": "wrong"}, True),
        ({"Origin": "http://evil.example", "X-Tuneproof-Token": TOKEN}, True),
        ({"X-Tuneproof-Token": TOKEN}, True),  # no Origin
        ({**ORIGIN, "X-Tuneproof-Token": TOKEN}, False),  # no cookie
    ],
)
def test_state_changes_without_token_or_same_origin_are_refused(
    workspace: Path, tiny_yaml: str, headers: dict[str, str], cookie: bool
) -> None:
    c = TestClient(create_app(workspace, token=TOKEN), base_url="http://127.0.0.1")
    if cookie:
        c.get("/")
    r = c.post("/api/runs", json={"name": "live", "config": tiny_yaml}, headers=headers)
    assert r.status_code == 403
    form = {"name": "live", "config": tiny_yaml}
    if "X-Tuneproof-Token" in headers:
        form["_token"] = headers["X-Tuneproof-Token"]
    h = {k: v for k, v in headers.items() if k == "Origin"}
    assert c.post("/runs/new", data=form, headers=h).status_code == 403
    assert _nothing_started(workspace)


def test_foreign_host_header_is_refused(client: TestClient) -> None:
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/files/../../etc/passwd",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/..%2f..%2fetc%2fpasswd",
        "/files/runs/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/files/%2fetc%2fpasswd",
        "/files//etc/passwd",
        "/files/runs/base/../../../../../../etc/passwd",
        "/files/.tuneproof/x",
        "/files/out-link/passwd",
        "/files/runs/base/%00",
    ],
)
def test_files_outside_the_workspace_are_404(
    client: TestClient, workspace: Path, path: str
) -> None:
    (workspace / "out-link").symlink_to("/etc")
    assert client.get(path).status_code == 404


def test_files_inside_are_served_sandboxed(client: TestClient, workspace: Path) -> None:
    (workspace / "in-link").symlink_to(workspace / "runs" / "base")
    r = client.get("/files/in-link/config.yaml")
    assert r.status_code == 200 and r.text == (workspace / "runs/base/config.yaml").read_text()
    assert r.headers["content-security-policy"].startswith("sandbox")
    assert r.headers["content-type"].startswith("text/plain")


def test_cli_runs_prints_the_same_table(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from tuneproof.cli import app
    from tuneproof.cli._common import console

    monkeypatch.setattr(console, "width", 250)  # one table row per line
    out = CliRunner().invoke(app, ["runs", "--workspace", str(workspace)])
    assert out.exit_code == 0, out.output
    head = rundir.read(workspace / "runs/fast", rundir.Metrics).headline
    assert head is not None
    line = next(x for x in out.output.splitlines() if " fast " in x)
    assert "complete" in line and f"{head.value:.4f}" in line
