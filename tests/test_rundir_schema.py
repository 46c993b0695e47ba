"""The run-directory schema (tuneproof.rundir): versions, corrupt files, writer/reader agreement."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tuneproof import rundir
from tuneproof.errors import UserError

METRICS = {
    "version": 1,
    "task": "sequence-classification",
    "main_metric": "accuracy",
    "split": "test",
    "overall": {"n": 10, "accuracy": 0.8, "accuracy_ci": [0.6, 0.95], "small_n": True},
    "slices": {"language=en": {"n": 10, "accuracy": 0.8, "accuracy_ci": [0.6, 0.95]}},
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_metrics_round_trip_and_typed_access(tmp_path: Path) -> None:
    (tmp_path / "metrics.json").write_text(json.dumps(METRICS), encoding="utf-8")
    m = rundir.read(tmp_path, rundir.Metrics)
    assert m.headline == rundir.MetricValue("accuracy", 0.8, (0.6, 0.95))
    assert m.slices["language=en"].get("accuracy").value == 0.8  # type: ignore[union-attr]
    rundir.write(tmp_path / "copy", m)
    again = rundir.read(tmp_path / "copy", rundir.Metrics)
    assert (
        again == m and json.loads((tmp_path / "copy" / "metrics.json").read_text())["version"] == 1
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps({**METRICS, "version": 99}), "version 99 is newer"),
        (json.dumps({**METRICS, "version": "x"}), "unknown version"),
        (json.dumps(METRICS)[:40], "invalid JSON"),
        (json.dumps({**METRICS, "overal": {}}), "does not match the metrics.json schema"),
        (json.dumps([1, 2]), "expected a JSON object"),
    ],
)
def test_a_bad_metrics_file_is_one_error_naming_it_and_stays_unchanged(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(content, encoding="utf-8")
    before = _sha(path)
    with pytest.raises(UserError) as err:
        rundir.read(tmp_path, rundir.Metrics)
    text = str(err.value)
    assert str(path) in text and message in text and "\n" not in text
    assert _sha(path) == before


def test_a_prediction_row_without_an_id_names_its_line(tmp_path: Path) -> None:
    rows = [{"id": "a", "gold": 1, "pred": 1}, {"gold": 0, "pred": 1}]
    (tmp_path / "predictions.jsonl").write_text(
        "\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    with pytest.raises(UserError, match=r"predictions.jsonl: line 2: id"):
        rundir.read_predictions(tmp_path)


def test_writers_refuse_rows_off_the_schema(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        rundir.write_predictions(tmp_path, [{"id": "a", "slices": {"x": ["not", "a", "str"]}}])
    assert not (tmp_path / "predictions.jsonl").exists()


def test_newer_config_yaml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("version: 7\ndata: {builtin: polarity-en}\n")
    with pytest.raises(UserError, match="version 7 is newer"):
        rundir.read_config(tmp_path)


def test_every_producer_names_a_schema_file() -> None:
    files = {m.FILE for m in (rundir.Metrics, rundir.Manifest, rundir.Checks, rundir.Stress)}
    assert files <= set(rundir.PRODUCERS)


def test_optional_fields_have_defaults_so_written_files_read_back() -> None:
    """``write`` leaves None fields out, so a field that may be None must have a default."""
    import inspect
    import typing

    from pydantic import BaseModel

    models = [
        m
        for _, m in inspect.getmembers(rundir, inspect.isclass)
        if issubclass(m, BaseModel) and m.__module__ == rundir.__name__
    ]
    missing = [
        f"{m.__name__}.{name}"
        for m in models
        for name, field in m.model_fields.items()
        if field.is_required() and type(None) in typing.get_args(field.annotation)
    ]
    assert not missing, missing
