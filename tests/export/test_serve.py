"""`tuneproof serve`: a real server on 127.0.0.1 under 200 concurrent requests."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(exported: Path):
    port = _port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "tuneproof",
        "serve",
        str(exported / "exports" / "onnx"),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("serve did not start")
    yield url, proc
    proc.terminate()
    proc.wait(10)


def test_load_batches_requests_and_binds_only_loopback(server) -> None:
    import psutil

    url, proc = server
    texts = [["good film"], ["a boring plot", "superb"], ["the actor was awful"]]

    async def fire() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
            return await asyncio.gather(
                *(http.post("/predict", json={"texts": texts[i % 3]}) for i in range(200))
            )

    responses = asyncio.run(fire())
    assert all(r.status_code == 200 for r in responses)
    for i, r in enumerate(responses):
        preds = r.json()["predictions"]
        assert len(preds) == len(texts[i % 3]) and all(p["label"] in ("neg", "pos") for p in preds)
    metrics = httpx.get(url + "/metrics").text
    passes = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("tuneproof_forward_passes_total")
    )
    assert 1 <= passes < 200  # micro-batching: fewer forward passes than requests
    listening = [
        c.laddr.ip
        for c in psutil.Process(proc.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening and set(listening) == {"127.0.0.1"}


def test_oversized_input_is_422(server) -> None:
    url, _ = server
    assert httpx.post(url + "/predict", json={"texts": ["x" * 20_000]}).status_code == 422
    assert httpx.post(url + "/predict", json={"texts": ["a"] * 300}).status_code == 422
    assert httpx.post(url + "/predict", json={"texts": []}).status_code == 422
