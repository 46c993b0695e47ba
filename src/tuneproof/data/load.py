"""Read tabular data (CSV, TSV, JSONL, JSON, Parquet, HF datasets) with errors a user can act on.

Every problem is reported as one line naming the file, the row or column, and the fix; nothing
here writes anything.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from tuneproof.errors import UserError, did_you_mean

if TYPE_CHECKING:
    from tuneproof.config import DataConfig

SPLITS = ("train", "validation", "test")
SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet", ".conll", ".conllu", ".txt")
TAGGED = (".conll", ".conllu", ".txt")  # token-classification text: rows of id, tokens, tags


@dataclass(frozen=True)
class SourceInfo:
    """Where a split came from, for the manifest: enough to verify the same bytes were used."""

    path: str
    sha256: str
    rows: int

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "rows": self.rows}


@dataclass
class LoadedData:
    splits: dict[str, pd.DataFrame]
    sources: dict[str, SourceInfo] = field(default_factory=dict)


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        bad = raw[err.start : err.start + 1].hex()
        raise UserError(
            f"{path}: line {line} is not valid UTF-8 (byte 0x{bad}); re-save the file as UTF-8"
        ) from None


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one file into a DataFrame; the format comes from the suffix."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if path.is_dir():
        raise UserError(f"{path}: is a folder; give a data file ({', '.join(SUFFIXES)})")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UserError(f"{path}: unsupported format '{suffix}'; use one of {', '.join(SUFFIXES)}")
    if suffix in TAGGED:
        from tuneproof.data.tagged import read_tagged

        return read_tagged(path)
    try:
        if suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            text = _decode(path, path.read_bytes())
            if not text.strip():
                raise UserError(f"{path}: file is empty; it needs a header row and data rows")
            if suffix in (".csv", ".tsv"):
                sep = "\t" if suffix == ".tsv" else ","
                df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
            elif suffix == ".jsonl":
                df = _read_jsonl(path, text)
            else:
                df = pd.DataFrame(json.loads(text))
    except UserError:
        raise
    except json.JSONDecodeError as err:
        raise UserError(f"{path}: invalid JSON at line {err.lineno}: {err.msg}") from None
    except (pd.errors.ParserError, ValueError, OSError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{path}: cannot parse as {suffix[1:]}: {first}") from None
    if len(df) == 0:
        raise UserError(f"{path}: no data rows (only a header?); add examples")
    return df


def _read_jsonl(path: Path, text: str) -> pd.DataFrame:
    rows = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise UserError(f"{path}: line {lineno} is not valid JSON: {err.msg}") from None
        if not isinstance(obj, dict):
            raise UserError(f"{path}: line {lineno} must be a JSON object with named fields")
        rows.append(obj)
    return pd.DataFrame(rows)


def require_columns(df: pd.DataFrame, columns: Iterable[str], where: str, key: str = "") -> None:
    """Fail with the missing column, the columns there are, and the config key to change."""
    for col in columns:
        if col not in df.columns:
            cols = ", ".join(map(str, df.columns))
            hint = did_you_mean(col, map(str, df.columns))
            fix = f"; set {key}" if key else ""
            raise UserError(f"{where}: no column '{col}'{hint}; columns are: {cols}{fix}")


def _is_blank(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and v != v:  # NaN: an empty cell in parquet/JSON
        return True
    return isinstance(v, str) and not v.strip()


def label_values(df: pd.DataFrame, column: str, where: str, key: str = "") -> list[str]:
    """The label column as strings. An empty cell is a UserError naming the row: an empty label
    is never a class (``check``, ``train`` and ``eval`` all read labels through here)."""
    require_columns(df, [column], where, key)
    values = df[column].tolist()
    for i, v in enumerate(values):
        if _is_blank(v):
            raise UserError(
                f"{where}: row {row_name(df, i)}: label '{column}' is empty; an empty label is "
                "not a class: fill it or drop the row"
            )
    return [str(v) for v in values]


def row_name(df: pd.DataFrame, position: int) -> str:
    """How a row is named to the user and in every output: its index label (the row in the file;
    after ``data.split``, the row of the original train file)."""
    return str(df.index[position])


def row_ids(
    df: pd.DataFrame, id_column: str | None, where: str, key: str = "data.id_column"
) -> list[str]:
    """Ids from the id column when given, else the row's index (its row in the file), as strings;
    duplicate ids are a UserError. Checks and predictions name rows by these, so they agree
    also when ``data.split`` cut the splits from one file."""
    if id_column is None:
        return [str(v) for v in df.index.tolist()]
    require_columns(df, [id_column], where, key)
    ids = [str(v) for v in df[id_column].tolist()]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
        raise UserError(
            f"{where}: id '{dup}' appears more than once in '{id_column}'; ids must be unique"
        )
    return ids


def load_splits(data: DataConfig) -> LoadedData:
    """Load train/validation/test as configured (files, a built-in dataset or a HF dataset).

    When only train is given and ``data.split`` is set, validation/test are cut from it (seeded,
    stratified on the label column).
    """
    files: dict[str, Path] = {}
    if data.builtin:
        from tuneproof.data.corpora import builtin_dataset

        files.update(builtin_dataset(data.builtin))
    for split in SPLITS:
        value = getattr(data, split)
        if value:
            files[split] = Path(value)
    if files:
        loaded = LoadedData(splits={}, sources={})
        for split, path in files.items():
            df = read_table(path)
            loaded.splits[split] = df
            loaded.sources[split] = SourceInfo(str(path), sha256_file(path), len(df))
    elif data.hf_dataset:
        loaded = _load_hf(data)
    else:  # pragma: no cover - RunConfig validation prevents this
        raise UserError("config: no data source; set data.train or data.hf_dataset")
    if "train" not in loaded.splits:
        raise UserError("config: data has no train split; set data.train")
    if data.split is not None and not ({"validation", "test"} & set(loaded.splits) - {"train"}):
        loaded = _cut_splits(loaded, data)
    return loaded


def _cut_splits(loaded: LoadedData, data: DataConfig) -> LoadedData:
    from sklearn.model_selection import train_test_split

    assert data.split is not None
    df = loaded.splits["train"]
    strat = df[data.label_column] if data.split.stratify and data.label_column in df else None
    parts: dict[str, pd.DataFrame] = {}
    rest = df
    if data.split.test > 0:
        rest, parts["test"] = train_test_split(
            df, test_size=data.split.test, random_state=data.split.seed, stratify=strat
        )
    strat_rest = rest[data.label_column] if strat is not None else None
    share = data.split.validation / (1 - data.split.test)
    parts["train"], parts["validation"] = train_test_split(
        rest, test_size=share, random_state=data.split.seed, stratify=strat_rest
    )
    src = loaded.sources["train"]
    return LoadedData(
        splits={k: v for k, v in parts.items()},
        sources={k: SourceInfo(f"{src.path}#{k}", src.sha256, len(v)) for k, v in parts.items()},
    )


def _load_hf(data: DataConfig) -> LoadedData:
    import datasets

    assert data.hf_dataset is not None
    try:
        ds = datasets.load_dataset(data.hf_dataset, data.hf_config)
    except Exception as err:  # network, unknown name, ...: all user-fixable
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"hf_dataset '{data.hf_dataset}': cannot load: {first}") from None
    loaded = LoadedData(splits={}, sources={})
    for ours, theirs in data.hf_splits.items():
        if theirs in ds:
            df = ds[theirs].to_pandas()
            assert isinstance(df, pd.DataFrame)
            loaded.splits[ours] = df
            fp = getattr(ds[theirs], "_fingerprint", "")
            loaded.sources[ours] = SourceInfo(f"hf:{data.hf_dataset}/{theirs}", fp, len(df))
    return loaded
