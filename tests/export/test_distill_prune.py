"""Distillation and layer pruning train end to end on CPU and take their place in `bench`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tuneproof import rundir
from tuneproof.config import parse_config
from tuneproof.errors import UserError


def _student_config(tiny_run: Path, strategy: dict) -> dict:
    cfg = rundir.read_config(tiny_run).to_dict()
    cfg["name"] = strategy["kind"]
    cfg["strategy"] = strategy
    cfg["training"]["max_steps"] = 12
    return cfg


def test_prune_drops_layers_and_reloads_smaller(tiny_run: Path, tmp_path: Path) -> None:
    from transformers import AutoConfig

    from tuneproof.train import run

    result = run(
        parse_config(_student_config(tiny_run, {"kind": "prune", "drop_layers": [0]})),
        tmp_path / "p",
    )
    assert AutoConfig.from_pretrained(tmp_path / "p" / "model").num_hidden_layers == 1
    base = rundir.read(tiny_run, rundir.Metrics).training
    assert base is not None and result.metrics.training is not None
    assert result.metrics.training.total_params < base.total_params  # one block fewer
    with pytest.raises(UserError, match="out of range"):
        run(
            parse_config(_student_config(tiny_run, {"kind": "prune", "drop_layers": [7]})),
            tmp_path / "x",
        )


def test_distill_loss_is_ce_plus_t2_kl() -> None:
    import torch
    import torch.nn.functional as F

    from tuneproof.train.distill import DistillTrainer

    class Out:
        def __init__(self, logits: torch.Tensor, loss: torch.Tensor) -> None:
            self.logits, self.loss = logits, loss

    student = torch.tensor([[2.0, -1.0], [0.5, 0.3]])
    teacher = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])
    labels = torch.tensor([0, 1])
    ce = F.cross_entropy(student, labels)

    def model(**inputs: torch.Tensor) -> Out:
        return Out(student, ce)

    trainer = object.__new__(DistillTrainer)  # compute_loss needs no Trainer state
    trainer.temperature, trainer.alpha = 3.0, 0.25
    got = trainer.compute_loss(model, {"labels": labels, "teacher_logits": teacher})
    # reference written out: KL(p_teacher || p_student) at T, batch mean, times T²
    p_t = torch.softmax(teacher / 3, -1)
    log_p_s = torch.log_softmax(student / 3, -1)
    kl = (p_t * (torch.log(p_t) - log_p_s)).sum(-1).mean()
    assert float(got) == pytest.approx(float(0.75 * ce + 0.25 * 9 * kl), rel=1e-6)


def test_distilled_student_trains_and_appears_in_bench(tiny_run: Path, tmp_path: Path) -> None:
    from tuneproof.export.bench import bench_run
    from tuneproof.train import run

    cfg = _student_config(tiny_run, {"kind": "distill", "teacher": str(tiny_run), "alpha": 0.7})
    result = run(parse_config(cfg), tmp_path / "student")
    losses = [h["loss"] for h in result.metrics.history if "loss" in h]
    assert losses and all(math.isfinite(x) for x in losses)
    assert "distilled from" in (result.metrics.training.detail or "")  # type: ignore[union-attr]
    deploy = bench_run(tiny_run, exports=False, repeats=1, threads=1, also=[tmp_path / "student"])
    names = [r.name for r in deploy.rows]
    assert names[-1] == "distill (pytorch)" and deploy.rows[-1].n == deploy.rows[0].n
    preds = rundir.read_predictions(tmp_path / "student")
    assert deploy.rows[-1].accuracy == pytest.approx(np.mean([p.gold == p.pred for p in preds]))
