"""The real server (uvicorn, as `tuneproof ui` starts it): raw request paths that a client library
would normalise away still cannot leave the workspace."""

from __future__ import annotations

import http.client

import pytest

from .conftest import serve


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    ws = tmp_path_factory.mktemp("served")
    (ws / "runs" / "r").mkdir(parents=True)
    (ws / "runs" / "r" / "note.txt").write_text("inside", encoding="utf-8")
    (ws / "runs" / "out").symlink_to("/etc")
    with serve(ws) as url:
        yield url


def _get(url: str, path: str) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("GET", path, skip_accept_encoding=True)  # sent exactly as written
    conn.endheaders()
    resp = conn.getresponse()
    return resp.status, resp.read()


@pytest.mark.parametrize(
    "path",
    [
        "/files/../../etc/passwd",
        "/files/runs/../../../../etc/passwd",
        "/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/files/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/files/%252e%252e/etc/passwd",
        "/files/%2fetc%2fpasswd",
        "/files//etc/passwd",
        "/files/runs/out/passwd",
        "/files/runs/r/..%5c..%5c..%5cetc%5cpasswd",
    ],
)
def test_raw_traversal_is_404(live: str, path: str) -> None:
    status, body = _get(live, path)
    assert status == 404, (path, status)
    assert b"root:" not in body


def test_a_file_inside_is_served(live: str) -> None:
    assert _get(live, "/files/runs/r/note.txt") == (200, b"inside")


def test_a_post_from_another_origin_starts_nothing(live: str) -> None:
    host, port = live.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    body = '{"name": "x", "config": "{}"}'
    conn.request(
        "POST",
        "/api/runs",
        body=body,
        headers={"Content-Type": "application/json", "Origin": "http://evil.example"},
    )
    assert conn.getresponse().status == 403
