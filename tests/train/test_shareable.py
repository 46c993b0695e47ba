"""A finished run directory is shareable: no pickle in model/, only the best checkpoint kept
(issue 13, item 8)."""

from __future__ import annotations

import json
from pathlib import Path

from tuneproof.config import parse_config
from tuneproof.train import run


def test_model_has_no_pickle_and_only_the_best_checkpoint_stays(
    tiny_bert_dir: Path, toy_data: dict[str, Path], make_config, tmp_path: Path
) -> None:
    raw = make_config(
        tiny_bert_dir, toy_data, max_steps=12, eval_strategy="steps", eval_steps=4,
        save_strategy="steps", save_steps=4, save_total_limit=None,
    )  # fmt: skip
    out = tmp_path / "run"
    result = run(parse_config(raw), out)
    model_files = {p.name for p in (out / "model").iterdir()}
    assert not {n for n in model_files if n.endswith((".bin", ".pt", ".pkl", ".pickle"))}
    args = json.loads((out / "model" / "training_args.json").read_text())
    assert args["max_steps"] == 12
    kept = sorted(p.name for p in (out / "checkpoints").iterdir())
    best = Path(result.metrics.training.best_checkpoint or "").name  # type: ignore[union-attr]
    assert kept == [best] and best.startswith("checkpoint-")

    keep = tmp_path / "keep"
    run(parse_config(raw), keep, keep_checkpoints=True)
    assert len(list((keep / "checkpoints").iterdir())) == 3  # steps 4, 8, 12
