"""`tuneproof export`, `bench`, `serve`: the deployment step of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tuneproof.cli._common import console, err_console


def export(
    run: Annotated[Path, typer.Argument(help="run directory")],
    format: Annotated[str, typer.Option("--format", help="onnx | safetensors-merged")] = "onnx",
    quantize: Annotated[
        str | None, typer.Option(help="int8: also an int8 ONNX (and PyTorch int8)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="[default: RUN/exports]")
    ] = None,
) -> None:
    """Export the model (LoRA merged into its base), check parity with PyTorch, write export.json.

    Example: `tuneproof export runs/demo --format onnx --quantize int8`
    """
    from tuneproof.export.exporters import export_run

    record = export_run(run, fmt=format, quantize=quantize, output=output)
    table = Table("format", "path", "MB", "max |Δlogit|", "label agreement")
    for a in record.artifacts:
        p = a.parity
        table.add_row(
            a.format,
            a.path,
            f"{a.bytes / 1e6:.1f}" if a.bytes else "—",
            f"{p.max_abs_logit_diff:.2e}" if p else "—",
            f"{p.label_agreement:.4f} (n={p.n})" if p else "—",
        )
    console.print(table)
    console.print(f"wrote {run / 'export.json'}")


def bench(
    run: Annotated[Path, typer.Argument(help="run directory")],
    exports: Annotated[bool, typer.Option(help="also measure the exports in export.json")] = True,
    batch: Annotated[int, typer.Option(help="batch size for throughput")] = 32,
    threads: Annotated[int | None, typer.Option(help="CPU threads [default: torch's]")] = None,
    repeats: Annotated[int, typer.Option(help="timed passes over the test rows")] = 3,
    also: Annotated[
        list[Path] | None,
        typer.Option("--also", help="another run (distilled, pruned) measured on the same rows"),
    ] = None,
) -> None:
    """Size, load time, latency p50/p95 (batch 1), throughput and accuracy of every engine.

    Example: `tuneproof bench runs/demo --threads 2`
    """
    from tuneproof.export.bench import bench_run

    d = bench_run(run, exports=exports, batch=batch, threads=threads, repeats=repeats, also=also)
    table = Table(
        "engine", "MB", "load s", "p50 ms", "p95 ms", f"texts/s @{batch}", "accuracy (95 % CI)"
    )
    for r in d.rows:
        table.add_row(
            r.name,
            f"{r.bytes / 1e6:.1f}" if r.bytes else "—",
            f"{r.load_seconds:.2f}",
            f"{r.latency_p50_ms:.1f}",
            f"{r.latency_p95_ms:.1f}",
            f"{r.throughput_per_s:.0f}",
            f"{r.accuracy:.4f} ({r.accuracy_ci[0]:.3f}–{r.accuracy_ci[1]:.3f})",
        )
    console.print(table)
    console.print(
        f"{d.machine}, {d.threads} threads, {d.repeats} repeats; wrote {run / 'deploy.json'}"
    )


def serve(
    source: Annotated[Path, typer.Argument(help="run directory or ONNX export folder")],
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    max_batch: Annotated[int, typer.Option(help="texts per forward pass, at most")] = 32,
) -> None:
    """A prediction API: POST /predict {"texts": [...]}, GET /health, GET /metrics.

    Example: `tuneproof serve runs/demo/exports/onnx-int8 --port 8000`
    """
    import uvicorn

    from tuneproof.export.serve import app_for

    app = app_for(source, max_batch=max_batch)
    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(f"[yellow]warning:[/] serving on {host}: reachable from other machines")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command()(export)
    app.command()(bench)
    app.command()(serve)
