"""`tuneproof export` and `bench` on a tiny trained run: parity, int8, the table, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tuneproof import rundir
from tuneproof.cli import app

runner = CliRunner()


def test_onnx_exports_agree_with_pytorch_on_the_test_rows(exported: Path) -> None:
    import onnxruntime as ort
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    record = rundir.read(exported, rundir.Export)
    onnx = record.artifact("onnx")
    int8 = record.artifact("onnx-int8")
    assert onnx and int8 and onnx.parity and int8.parity
    assert onnx.parity.label_agreement >= 0.99 and int8.parity.label_agreement >= 0.99
    assert onnx.parity.max_abs_logit_diff < 1e-4
    assert int8.bytes is not None and onnx.bytes is not None and int8.bytes < onnx.bytes
    # independent check: ONNX Runtime on the exported file vs the saved PyTorch model
    tok = AutoTokenizer.from_pretrained(exported / "model")
    model = AutoModelForSequenceClassification.from_pretrained(exported / "model").eval()
    texts = ["a really boring plot", "good film", "the actor was superb and lovely to watch"]
    enc = tok(texts, padding=True, return_tensors="np")
    session = ort.InferenceSession(str(exported / onnx.path / "model.onnx"))
    names = {i.name for i in session.get_inputs()}
    got = session.run(["logits"], {k: v.astype(np.int64) for k, v in enc.items() if k in names})[0]
    with torch.inference_mode():
        ref = model(**{k: torch.from_numpy(v) for k, v in enc.items()}).logits.numpy()
    assert np.abs(got - ref).max() < 1e-4  # dynamic batch (3) and sequence axes


def test_int8_weights_are_int8(exported: Path) -> None:
    import onnx

    record = rundir.read(exported, rundir.Export)
    art = record.artifact("onnx-int8")
    assert art is not None
    graph = onnx.load(str(exported / art.path / "model.onnx")).graph
    int8 = [i for i in graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert len(int8) >= 4  # attention/FFN matrices and the word embeddings


def test_bench_writes_the_table(exported: Path) -> None:
    import torch

    threads = torch.get_num_threads()
    out = runner.invoke(app, ["bench", str(exported), "--repeats", "1", "--threads", "1"])
    assert out.exit_code == 0, out.output
    assert torch.get_num_threads() == threads  # the caller's thread count is left as it was
    deploy = rundir.read(exported, rundir.Deploy)
    names = [r.name for r in deploy.rows]
    assert names[:2] == ["pytorch", "pytorch-int8"] and "onnx" in names and "onnx-int8" in names
    preds = rundir.read_predictions(exported)
    acc = np.mean([r.gold == r.pred for r in preds])
    torch_row = deploy.rows[0]
    assert torch_row.accuracy == pytest.approx(acc)  # same rows, same model as train's evaluation
    for r in deploy.rows:
        lo, hi = r.accuracy_ci
        assert lo <= r.accuracy <= hi and r.n == len(preds)
        assert 0 < r.latency_p50_ms <= r.latency_p95_ms and r.throughput_per_s > 0
    assert deploy.threads == 1
    from tuneproof.report import build_report

    build_report(exported, formats=("md",), model_card=False)
    report = (exported / "report.md").read_text(encoding="utf-8")
    section = report.split("### Deployment", 1)[1].split("\n## ", 1)[0]
    for r in deploy.rows:
        assert f"| {r.name} |" in section and f"{r.accuracy:.4f}" in section
    assert "label agreement with PyTorch" in section


def test_unsupported_task_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "task: extractive-qa\ndata: {train: t.jsonl}\nmodel: {name: x}\n", encoding="utf-8"
    )
    out = runner.invoke(app, ["export", str(tmp_path)])
    assert out.exit_code == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "not supported yet" in lines[0]


def test_export_json_is_a_schema_file(exported: Path) -> None:
    raw = json.loads((exported / "export.json").read_text())
    assert raw["version"] == 1 and raw["task"] == "sequence-classification"
    assert {a["format"] for a in raw["artifacts"]} >= {"safetensors-merged", "onnx", "onnx-int8"}
