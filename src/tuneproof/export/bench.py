"""`tuneproof bench`: size, load time, latency, throughput and accuracy of every engine of a run.

Every engine answers the same test rows in the same process: the PyTorch model, PyTorch dynamic
int8, and each ONNX export in ``export.json``. Latency is per request at batch 1 (p50/p95 over
all test rows after a warm-up), throughput at the large batch; accuracy comes with its 95 % Wilson
interval, so "int8 is 2–4× faster at 95–99 % of the accuracy" becomes this run's own figures.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tuneproof import rundir
from tuneproof.errors import UserError
from tuneproof.export.engines import (
    OnnxPredictor,
    Predictor,
    TorchPredictor,
    labels_of,
    onnx_session,
    threads_in_use,
)
from tuneproof.export.exporters import RunModel, batches, load_for_export, model_bytes, torch_int8
from tuneproof.stats import wilson


def _accuracy(pred: Predictor, rm: RunModel, size: int) -> tuple[int, int]:
    right = total = 0
    start = 0
    for b in batches(rm, size=size):
        got = labels_of(pred.logits(b), b, pred.label_names)
        gold = rm.gold[start : start + len(got)]
        start += len(got)
        for g, p in zip(gold, got, strict=True):
            if isinstance(g, list):
                right += sum(a == c for a, c in zip(g, p, strict=False))
                total += len(g)
            else:
                right += g == p
                total += 1
    return right, total


def measure(
    name: str,
    load: Callable[[], Predictor],
    rm: RunModel,
    *,
    size_bytes: int | None,
    batch: int,
    repeats: int,
    max_latency_rows: int = 200,
) -> rundir.BenchRow:
    t0 = time.perf_counter()
    pred = load()
    load_s = time.perf_counter() - t0
    singles = batches(rm, rm.inputs[:max_latency_rows], size=1)
    pred.logits(singles[0])  # warm-up, excluded
    lat = []
    for _ in range(repeats):
        for b in singles:
            t = time.perf_counter()
            pred.logits(b)
            lat.append(time.perf_counter() - t)
    big = batches(rm, size=batch)
    pred.logits(big[0])
    rates = []
    for _ in range(repeats):
        t = time.perf_counter()
        for b in big:
            pred.logits(b)
        rates.append(len(rm.inputs) / (time.perf_counter() - t))
    right, n = _accuracy(pred, rm, batch)
    return rundir.BenchRow(
        name=name,
        bytes=size_bytes,
        load_seconds=load_s,
        latency_p50_ms=1000 * float(np.percentile(lat, 50)),
        latency_p95_ms=1000 * float(np.percentile(lat, 95)),
        throughput_per_s=float(np.median(rates)),
        batch=batch,
        accuracy=right / max(n, 1),
        accuracy_ci=wilson(right, n),
        n=n,
    )


def bench_run(
    run_dir: str | Path,
    *,
    exports: bool = True,
    batch: int = 32,
    threads: int | None = None,
    repeats: int = 3,
    also: list[Path] | None = None,
) -> rundir.Deploy:
    """Measure every engine of the run and write ``deploy.json``. ``also``: other runs (a
    distilled student, a pruned model) measured on this run's test rows, for the same table."""
    import torch

    run_dir = Path(run_dir)
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _bench(
            run_dir, exports=exports, batch=batch, threads=threads, repeats=repeats, also=also
        )
    finally:
        torch.set_num_threads(before)  # a library call must not change the caller's threads


def _bench(
    run_dir: Path,
    *,
    exports: bool,
    batch: int,
    threads: int | None,
    repeats: int,
    also: list[Path] | None,
) -> rundir.Deploy:
    rm = load_for_export(run_dir)
    if not rm.inputs:
        raise UserError(f"{run_dir}: the test split is empty; nothing to measure")
    weights = run_dir / "model"
    rows = [
        measure(
            "pytorch",
            lambda: TorchPredictor("pytorch", rm.model, rm.label_names),
            rm,
            size_bytes=model_bytes(weights) or None,
            batch=batch,
            repeats=repeats,
        ),
        measure(
            "pytorch-int8",
            lambda: TorchPredictor("pytorch-int8", torch_int8(rm.model), rm.label_names),
            rm,
            size_bytes=None,
            batch=batch,
            repeats=repeats,
        ),
    ]
    record = rundir.read_optional(run_dir, rundir.Export) if exports else None
    for art in record.artifacts if record else []:
        if not art.format.startswith("onnx"):
            continue
        folder = run_dir / art.path if not Path(art.path).is_absolute() else Path(art.path)
        path = folder / "model.onnx"
        if not path.is_file():
            raise UserError(f"{path}: listed in export.json but missing; re-run `tuneproof export`")

        def load(p: Path = path, n: str = art.format) -> Any:
            return OnnxPredictor(n, onnx_session(p, threads), rm.label_names)

        rows.append(
            measure(art.format, load, rm, size_bytes=art.bytes, batch=batch, repeats=repeats)
        )
    for other in also or []:
        om = load_for_export(Path(other))
        if sorted(om.label_names) != sorted(rm.label_names):
            raise UserError(
                f"--also {other}: its labels {om.label_names} differ from {rm.label_names}"
            )
        same_rows = RunModel(
            om.run_dir, om.config, om.model, om.tokenizer, om.label_names, rm.inputs, rm.gold
        )

        def load_other(m: RunModel = same_rows) -> Predictor:
            return TorchPredictor("pytorch", m.model, m.label_names)

        rows.append(
            measure(
                f"{om.config.name or Path(other).name} (pytorch)",
                load_other,
                same_rows,
                size_bytes=model_bytes(Path(other) / "model") or None,
                batch=batch,
                repeats=repeats,
            )
        )
    deploy = rundir.Deploy(
        machine=f"{platform.machine()} {platform.processor() or platform.platform()}",
        cpu_count=__import__("os").cpu_count(),
        threads=threads or threads_in_use(),
        repeats=repeats,
        rows=rows,
    )
    rundir.write(run_dir, deploy)
    return deploy
