"""`tuneproof serve`: a prediction service with dynamic micro-batching.

Concurrent requests wait a few milliseconds in a queue and go through the model together (up to
``max_batch`` texts per forward pass), which is where a transformer's CPU/GPU throughput comes
from. Inputs are bounded (texts per request, characters per text) with 422s; ``/metrics`` speaks
the Prometheus text format through ``prometheus_client``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from tuneproof.export.engines import Predictor, tokenize

MAX_TEXT_CHARS = 10_000


class PredictRequest(BaseModel):
    texts: list[str] = Field(min_length=1, max_length=256)


class Prediction(BaseModel):
    label: str
    score: float
    probabilities: dict[str, float]


class PredictResponse(BaseModel):
    predictions: list[Prediction]


class Health(BaseModel):
    status: str
    model: str
    labels: list[str]


@dataclass
class Pending:
    texts: list[str]
    future: asyncio.Future[list[Prediction]]


@dataclass
class Batcher:
    """Collects requests for up to ``wait_s`` or ``max_batch`` texts, then runs one forward pass
    in a worker thread. ``passes`` counts forward passes (the batching is observable)."""

    predictor: Predictor
    tokenizer: Any
    max_length: int
    max_batch: int = 32
    wait_s: float = 0.005
    passes: int = 0
    on_pass: Any = None  # called with the batch size of each forward pass (metrics)
    queue: asyncio.Queue[Pending] = field(default_factory=asyncio.Queue)

    def _run(self, texts: list[str]) -> list[Prediction]:
        batch = tokenize(self.tokenizer, texts, "sequence-classification", self.max_length)
        logits = self.predictor.logits(batch)
        z = logits - logits.max(-1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
        names = self.predictor.label_names
        out = []
        for row in probs:
            k = int(row.argmax())
            out.append(
                Prediction(
                    label=names[k],
                    score=float(row[k]),
                    probabilities={n: float(p) for n, p in zip(names, row, strict=True)},
                )
            )
        return out

    async def loop(self) -> None:
        while True:
            first = await self.queue.get()
            group, n = [first], len(first.texts)
            deadline = asyncio.get_running_loop().time() + self.wait_s
            while n < self.max_batch:
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0:
                    break
                try:
                    nxt = await asyncio.wait_for(self.queue.get(), timeout)
                except asyncio.TimeoutError:
                    break
                group.append(nxt)
                n += len(nxt.texts)
            texts = [t for p in group for t in p.texts]
            self.passes += 1
            if self.on_pass is not None:
                self.on_pass(len(texts))
            try:
                preds = await asyncio.to_thread(self._run, texts)
            except Exception as err:  # one failed pass fails its requests, not the server
                for p in group:
                    p.future.set_exception(err)
                continue
            start = 0
            for p in group:
                p.future.set_result(preds[start : start + len(p.texts)])
                start += len(p.texts)

    async def predict(self, texts: list[str]) -> list[Prediction]:
        fut: asyncio.Future[list[Prediction]] = asyncio.get_running_loop().create_future()
        await self.queue.put(Pending(texts, fut))
        return await fut


def create_app(
    predictor: Predictor, tokenizer: Any, max_length: int, *, name: str, max_batch: int = 32
) -> FastAPI:
    from contextlib import asynccontextmanager

    from fastapi import HTTPException
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

    registry = CollectorRegistry()
    requests = Counter("tuneproof_requests", "prediction requests", registry=registry)
    texts_c = Counter("tuneproof_texts", "texts predicted", registry=registry)
    passes_c = Counter("tuneproof_forward_passes", "model forward passes", registry=registry)
    latency = Histogram("tuneproof_request_seconds", "request latency", registry=registry)
    batch_sizes = Histogram(
        "tuneproof_batch_texts",
        "texts per forward pass",
        registry=registry,
        buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    )

    def on_pass(n: int) -> None:
        passes_c.inc()
        batch_sizes.observe(n)

    batcher = Batcher(predictor, tokenizer, max_length, max_batch=max_batch, on_pass=on_pass)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        task = asyncio.create_task(batcher.loop())
        yield
        task.cancel()

    app = FastAPI(title=f"tuneproof serve: {name}", version="1", lifespan=lifespan)
    app.state.batcher = batcher

    @app.get("/health", response_model=Health)
    def health() -> Health:
        return Health(status="ok", model=name, labels=list(predictor.label_names))

    @app.post("/predict", response_model=PredictResponse)
    async def predict(body: PredictRequest) -> PredictResponse:
        too_long = [i for i, t in enumerate(body.texts) if len(t) > MAX_TEXT_CHARS]
        if too_long:
            raise HTTPException(
                422, f"texts[{too_long[0]}]: longer than {MAX_TEXT_CHARS:,} characters"
            )
        requests.inc()
        texts_c.inc(len(body.texts))
        with latency.time():
            preds = await batcher.predict(body.texts)
        return PredictResponse(predictions=preds)

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(
            generate_latest(registry).decode(), media_type="text/plain; version=0.0.4"
        )

    return app


def app_for(source: str | Path, *, max_batch: int = 32) -> FastAPI:
    """A run directory (PyTorch model) or an ONNX export folder (``model.onnx`` + tokenizer)."""
    from transformers import AutoTokenizer

    from tuneproof import rundir
    from tuneproof.errors import UserError
    from tuneproof.export.engines import (
        OnnxPredictor,
        TorchPredictor,
        check_supported,
        onnx_session,
    )

    path = Path(source)
    if (path / "model.onnx").is_file():
        import json

        tok = AutoTokenizer.from_pretrained(path)
        cfg = (
            json.loads((path / "config.json").read_text())
            if (path / "config.json").exists()
            else {}
        )
        labels = [
            str(v) for _, v in sorted((int(k), v) for k, v in (cfg.get("id2label") or {}).items())
        ]
        if not labels:
            raise UserError(
                f"{path}: no config.json with id2label beside model.onnx; re-run `tuneproof export`"
            )
        pred: Predictor = OnnxPredictor("onnx", onnx_session(path / "model.onnx"), labels)
        return create_app(
            pred,
            tok,
            tok.model_max_length if tok.model_max_length < 10**6 else 512,
            name=path.name,
            max_batch=max_batch,
        )
    if not (path / rundir.CONFIG).is_file():
        raise UserError(f"{path}: neither a run directory nor an ONNX export folder")
    config = rundir.read_config(path)
    check_supported(config.task)
    if config.task != "sequence-classification":
        raise UserError(f"task '{config.task}': serve supports sequence-classification runs")
    from tuneproof.evaluate.predict import load_run

    loaded = load_run(path)
    model = (
        loaded.model.merge_and_unload()
        if hasattr(loaded.model, "merge_and_unload")
        else loaded.model
    )
    pred = TorchPredictor("pytorch", model.eval(), list(loaded.label_names or []))
    return create_app(
        pred,
        loaded.tokenizer,
        config.data.max_length,
        name=config.name or path.name,
        max_batch=max_batch,
    )
