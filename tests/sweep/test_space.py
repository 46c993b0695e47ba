"""The search space: parsed from YAML, each path and value validated against RunConfig before
any trial runs, and the study's trial bookkeeping (exactly N trials, none twice)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from tuneproof.errors import UserError
from tuneproof.sweep import study as st
from tuneproof.sweep.run import SweepOptions, plan
from tuneproof.sweep.space import default_space, load_space, parse_space


def _write(tmp_path: Path, space: object) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(space), encoding="utf-8")
    return path


def test_space_kinds_parse_and_apply() -> None:
    space = parse_space(
        {
            "training.learning_rate": {"log": [1e-5, 1e-3]},
            "training.epochs": {"int": [1, 4]},
            "strategy.lora.target_modules": {"choice": [["query", "value"], "all-linear"]},
        },
        "s.yaml",
    )
    raw = {"data": {"train": "x.csv"}, "training": {"learning_rate": 5e-5}}
    out = space.apply(
        raw, {"training.learning_rate": 1.5e-4, "strategy.lora.target_modules": ["query"]}
    )
    assert out["training"]["learning_rate"] == 1.5e-4
    assert out["strategy"]["lora"]["target_modules"] == ["query"]
    assert raw["training"]["learning_rate"] == 5e-5  # a copy
    assert space.current(raw)["training.learning_rate"] == 5e-5
    assert space.in_space({"training.learning_rate": 1e-4, "training.epochs": 2,
                           "strategy.lora.target_modules": "all-linear"})  # fmt: skip
    assert not space.in_space({"training.learning_rate": 1e-2, "training.epochs": 2,
                               "strategy.lora.target_modules": "all-linear"})  # fmt: skip


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"training.learnin_rate": {"log": [1e-5, 1e-3]}}, "did you mean 'learning_rate'"),
        ({"training.learning_rate": {"log": [0, 1e-3]}}, "log needs low > 0"),
        ({"training.learning_rate": {"uniform": [0, 1]}}, "give exactly one of log, float"),
        ({"training.batch_size": {"choice": []}}, "non-empty list"),
        ({"training.batch_size": {"int": [32, 16]}}, "low must be below high"),
        # a value the config refuses is found before the first trial, naming path and value
        ({"training.learning_rate": {"log": [1e-5, 2.0]}}, "training.learning_rate=2.0"),
        ({"strategy.lora.dropout": {"choice": [0.1, 1.5]}}, "strategy.lora.dropout=1.5"),
    ],
)
def test_bad_space_is_one_line_before_anything_runs(
    tmp_path: Path, sweep_files: tuple[Path, Path], space: dict, message: str
) -> None:
    config, _ = sweep_files
    path = _write(tmp_path, space)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        plan(SweepOptions(config=config, output=tmp_path / "out", space=path))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


def test_default_space_per_strategy_validates(
    sweep_files: tuple[Path, Path], tmp_path: Path
) -> None:
    config, _ = sweep_files
    p = plan(SweepOptions(config=config, output=tmp_path / "out"))
    assert "training.learning_rate" in p.space
    lora = default_space("lora")
    assert "strategy.lora.r" in lora.to_dict()
    assert p.metric == "accuracy" and p.direction == "maximize"


def test_load_space_reports_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("training.learning_rate: {log: [1, \n", encoding="utf-8")
    with pytest.raises(UserError, match="invalid YAML"):
        load_space(path)


def test_claims_hand_each_queued_trial_to_exactly_one_worker(tmp_path: Path) -> None:
    """Four threads, each with its own JournalStorage on one file, claim 12 queued trials: every
    trial is claimed once, none is added (what two `sweep` processes rely on)."""
    import optuna

    spec = st.storage_spec(None, tmp_path, heartbeat_interval=60, grace_period=None)
    created: list[bool] = []

    def enqueue(study: optuna.Study) -> None:
        for _ in range(12):
            study.enqueue_trial({})

    claimed: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        storage = spec.open()
        study, made = st.create_or_join(
            storage, "s", direction="maximize", sampler=None, pruner=None, enqueue=enqueue
        )
        created.append(made)
        while (n := st.claim(study, storage)) is not None:
            with lock:
                claimed.append(n)
            study.tell(n, float(n))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == list(range(12))
    assert created.count(True) == 1
    study = optuna.load_study(study_name="s", storage=spec.open())
    assert len(study.trials) == 12
    assert {t.state.name for t in study.trials} == {"COMPLETE"}
