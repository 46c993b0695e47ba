"""`tuneproof export`: a run's model as a merged safetensors folder, ONNX, and int8 ONNX.

Real engines only: PEFT's ``merge_and_unload`` for LoRA runs, PyTorch's dynamo ONNX exporter
(dynamic batch and sequence axes), ONNX Runtime's ``quantize_dynamic`` for int8 weights. Every
ONNX export is checked against PyTorch on the run's own test rows (max |logit difference| and
label agreement) and refused below :data:`MIN_AGREEMENT`; ``export.json`` records formats, files,
sizes, parity and versions through the run-directory schema.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tuneproof import rundir
from tuneproof.errors import UserError
from tuneproof.export.engines import (
    ONNX_INPUTS,
    Batch,
    OnnxPredictor,
    Predictor,
    TorchPredictor,
    check_supported,
    labels_of,
    onnx_session,
    tokenize,
)

FORMATS = ("onnx", "safetensors-merged")
MIN_AGREEMENT = 0.99  # share of test rows (words, for token classification) labelled alike
BATCH = 32


@dataclass
class RunModel:
    """A run's model ready for export: merged (no PEFT wrapper), eval mode, with its inputs."""

    run_dir: Path
    config: Any
    model: Any
    tokenizer: Any
    label_names: list[str]
    inputs: list[Any]  # test texts, or word lists for token classification
    gold: list[Any]


def load_for_export(run_dir: Path) -> RunModel:
    from tuneproof.evaluate.predict import default_eval_data, load_run

    config = rundir.read_config(run_dir)
    check_supported(config.task)  # before any weights are loaded
    loaded = load_run(run_dir)
    model = loaded.model
    if hasattr(model, "merge_and_unload"):  # a LoRA run: fold the adapter into the base
        model = model.merge_and_unload()
    model.eval()
    labels = list(loaded.label_names or [])
    _, data = default_eval_data(config)
    frame = data[0].frame
    dc = config.data
    inputs: list[Any]
    gold: list[Any]
    if config.task == "token-classification":
        inputs = [list(map(str, t)) for t in frame[dc.tokens_column]]
        gold = [list(map(str, t)) for t in frame[dc.tags_column]]
    else:
        inputs = [str(t) for t in frame[dc.text_column]]
        gold = [str(g) for g in frame[dc.label_column]]
    return RunModel(run_dir, config, model, loaded.tokenizer, labels, inputs, gold)


def batches(rm: RunModel, inputs: Sequence[Any] | None = None, size: int = BATCH) -> list[Batch]:
    items = list(rm.inputs if inputs is None else inputs)
    return [
        tokenize(rm.tokenizer, items[i : i + size], rm.config.task, rm.config.data.max_length)
        for i in range(0, len(items), size)
    ]


def parity(reference: Predictor, candidate: Predictor, data: list[Batch]) -> rundir.Parity:
    """Max |logit difference| and label agreement of ``candidate`` against ``reference``."""
    worst = 0.0
    same = total = 0
    for b in data:
        ref, got = reference.logits(b), candidate.logits(b)
        mask = b.features["attention_mask"].astype(bool)
        diff = np.abs(ref - got)
        worst = max(worst, float(diff[mask].max() if ref.ndim == 3 else diff.max()))
        a, c = labels_of(ref, b, reference.label_names), labels_of(got, b, reference.label_names)
        for x, y in zip(a, c, strict=True):
            if isinstance(x, list):
                same += sum(i == j for i, j in zip(x, y, strict=True))
                total += len(x)
            else:
                same += x == y
                total += 1
    return rundir.Parity(max_abs_logit_diff=worst, label_agreement=same / max(total, 1), n=total)


def _export_onnx(rm: RunModel, path: Path) -> None:
    import torch

    sample = tokenize(rm.tokenizer, rm.inputs[:2], rm.config.task, rm.config.data.max_length)
    names = [k for k in ONNX_INPUTS if k in sample.features]
    kwargs = {k: torch.from_numpy(sample.features[k]) for k in names}
    batch, seq = (
        torch.export.Dim("batch", min=1, max=4096),
        torch.export.Dim("seq", min=2, max=8192),
    )
    program = torch.onnx.export(
        rm.model,
        (),
        kwargs=kwargs,
        dynamo=True,
        dynamic_shapes={k: {0: batch, 1: seq} for k in names},
        input_names=names,
        output_names=["logits"],
        verbose=False,
    )
    if program is None:
        raise UserError(f"{rm.run_dir}: the ONNX exporter returned no program")
    path.parent.mkdir(parents=True, exist_ok=True)
    program.save(str(path))


def _quantize_int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    dst.parent.mkdir(parents=True, exist_ok=True)
    # Gather too: the word embeddings are most of a small encoder's bytes. Per-channel scales:
    # on the demo run (MiniLM, 400 test rows) per-tensor int8 agreed with PyTorch on 96.25 % of
    # labels, per-channel on 99.25 %, for the same size (25.7 % of fp32).
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gather"],
        per_channel=True,
    )


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in ("torch", "transformers", "onnx", "onnxruntime", "onnxscript", "peft"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def export_run(
    run_dir: str | Path,
    *,
    fmt: str = "onnx",
    quantize: str | None = None,
    output: str | Path | None = None,
    min_agreement: float = MIN_AGREEMENT,
) -> rundir.Export:
    """Export a run's model; record every artifact in ``RUN/export.json`` (kept across calls)."""
    run_dir = Path(run_dir)
    if fmt not in FORMATS:
        raise UserError(f"--format '{fmt}': use one of {', '.join(FORMATS)}")
    if quantize not in (None, "int8"):
        raise UserError(f"--quantize '{quantize}': only int8 is supported")
    if quantize and fmt != "onnx":
        raise UserError("--quantize int8 goes with --format onnx")
    record = rundir.read_optional(run_dir, rundir.Export) or rundir.Export()
    rm = load_for_export(run_dir)
    out = Path(output) if output else run_dir / "exports"
    reference = TorchPredictor("pytorch", rm.model, rm.label_names)
    data = batches(rm)
    artifacts: list[rundir.ExportArtifact] = []

    merged = out / "merged"
    with_tmp = merged.with_name(merged.name + ".tmp")
    shutil.rmtree(with_tmp, ignore_errors=True)
    rm.model.save_pretrained(with_tmp, safe_serialization=True)
    rm.tokenizer.save_pretrained(with_tmp)
    shutil.rmtree(merged, ignore_errors=True)
    with_tmp.rename(merged)
    artifacts.append(_artifact("safetensors-merged", merged, run_dir, None))

    if fmt == "onnx":
        onnx_path = out / "onnx" / "model.onnx"
        _export_onnx(rm, onnx_path)
        rm.tokenizer.save_pretrained(onnx_path.parent)
        rm.model.config.save_pretrained(onnx_path.parent)  # labels, for loaders and `serve`
        par = parity(
            reference, OnnxPredictor("onnx", onnx_session(onnx_path), rm.label_names), data
        )
        _require(par, "onnx", min_agreement)
        artifacts.append(_artifact("onnx", onnx_path.parent, run_dir, par))
        if quantize == "int8":
            q_path = out / "onnx-int8" / "model.onnx"
            _quantize_int8(onnx_path, q_path)
            rm.tokenizer.save_pretrained(q_path.parent)
            rm.model.config.save_pretrained(q_path.parent)
            par = parity(
                reference, OnnxPredictor("onnx-int8", onnx_session(q_path), rm.label_names), data
            )
            _require(par, "onnx-int8", min_agreement)
            artifacts.append(_artifact("onnx-int8", q_path.parent, run_dir, par))
            torch_q = TorchPredictor("pytorch-int8", torch_int8(rm.model), rm.label_names)
            artifacts.append(
                rundir.ExportArtifact(
                    format="pytorch-int8",
                    path=str(merged.relative_to(run_dir))
                    if merged.is_relative_to(run_dir)
                    else str(merged),
                    bytes=None,
                    parity=parity(reference, torch_q, data),
                    note="torch.ao.quantization.quantize_dynamic on nn.Linear at load time",
                )
            )
    by_format = {a.format: a for a in record.artifacts}
    by_format.update({a.format: a for a in artifacts})
    record = rundir.Export(
        artifacts=list(by_format.values()), versions=_versions(), task=rm.config.task
    )
    rundir.write(run_dir, record)
    return record


def torch_int8(model: Any) -> Any:
    """PyTorch dynamic int8 (weights int8, activations quantised on the fly) on a copy."""
    import copy

    import torch
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def model_bytes(folder: Path) -> int:
    """Bytes of the weights (``model.safetensors``, ``model.onnx`` + external data), not the
    tokenizer files beside them."""
    return sum(
        p.stat().st_size for p in folder.iterdir() if p.is_file() and p.name.startswith("model.")
    )


def _require(par: rundir.Parity, name: str, minimum: float) -> None:
    if par.label_agreement < minimum:
        raise UserError(
            f"{name} export: label agreement {par.label_agreement:.4f} with PyTorch on "
            f"{par.n} test labels is below {minimum}; not recorded"
        )


def _artifact(
    fmt: str, folder: Path, run_dir: Path, par: rundir.Parity | None
) -> rundir.ExportArtifact:
    shown = str(folder.relative_to(run_dir)) if folder.is_relative_to(run_dir) else str(folder)
    return rundir.ExportArtifact(
        format=fmt,
        path=shown,
        bytes=model_bytes(folder),
        parity=par,
        files=sorted(p.name for p in folder.iterdir() if p.is_file()),
    )
