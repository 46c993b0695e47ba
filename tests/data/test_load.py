"""Reading data files: every failure is one line naming the file, the row and the fix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tuneproof.data.load import read_table, require_columns
from tuneproof.errors import UserError


def _msg(path: Path) -> str:
    with pytest.raises(UserError) as exc:
        read_table(path)
    return str(exc.value)


def test_reads_csv_jsonl_and_parquet_alike(tmp_path: Path) -> None:
    df = pd.DataFrame({"text": ["a", "b"], "label": ["x", "y"]})
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    df.to_parquet(tmp_path / "d.parquet")
    for name in ("d.csv", "d.jsonl", "d.parquet"):
        assert read_table(tmp_path / name).to_dict("list") == df.to_dict("list")


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in _msg(tmp_path / "nope.csv")


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "l1.csv").write_bytes("text,label\nok,1\ncaf\xe9,0\n".encode("latin-1"))
    msg = _msg(tmp_path / "l1.csv")
    assert "line 3" in msg and "UTF-8" in msg


def test_empty_and_header_only(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("")
    (tmp_path / "h.csv").write_text("text,label\n")
    assert "empty" in _msg(tmp_path / "e.csv")
    assert "no data rows" in _msg(tmp_path / "h.csv")


def test_bad_jsonl_line(tmp_path: Path) -> None:
    (tmp_path / "b.jsonl").write_text('{"text": "a"}\n{oops\n')
    assert "line 2" in _msg(tmp_path / "b.jsonl")


def test_missing_column_lists_columns_and_suggests() -> None:
    df = pd.DataFrame({"sentence": ["a"], "label": ["x"]})
    with pytest.raises(UserError) as exc:
        require_columns(df, ["sentense"], "train.csv", "data.text_column")
    assert "did you mean 'sentence'" in str(exc.value) and "data.text_column" in str(exc.value)
