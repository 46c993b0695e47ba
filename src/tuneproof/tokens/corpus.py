"""Texts to compare tokenizers on: the shipped parallel corpus, or the user's own file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tuneproof.errors import UserError

PARALLEL_FILE = "parallel.tsv"


@dataclass(frozen=True)
class CorpusText:
    """One text; ``id`` links translations of the same sentence (parity needs it)."""

    id: str
    lang: str
    text: str


def parallel_corpus() -> list[CorpusText]:
    """The 50 sentences × 13 languages shipped with tuneproof (written for it, Apache-2.0)."""
    raw = resources.files("tuneproof.tokens").joinpath(PARALLEL_FILE).read_text(encoding="utf-8")
    lines = [ln for ln in raw.splitlines() if ln and not ln.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter="\t", quoting=csv.QUOTE_NONE)
    return [CorpusText(r["id"], r["lang"], r["text"]) for r in reader]


def _check_binary(path: Path, raw: bytes) -> None:
    if b"\x00" in raw[:65536]:
        raise UserError(f"{path}: looks like a binary file (NUL bytes); give UTF-8 text")


def load_texts(
    path: str | Path,
    *,
    text_column: str = "text",
    lang_column: str | None = "lang",
    id_column: str | None = "id",
    lang_required: bool = False,
) -> list[CorpusText]:
    """Read texts from a .txt (one per line) or a table (.csv/.tsv/.jsonl/.json/.parquet).

    A missing language column leaves ``lang`` empty (callers group by script instead) unless
    ``lang_required``; the sentence id defaults to the row number.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found" if not path.exists() else f"{path}: not a file")
    raw = path.read_bytes()
    _check_binary(path, raw)
    if path.suffix.lower() == ".txt":
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            raise UserError(
                f"{path}: line {line} is not valid UTF-8; re-save it as UTF-8"
            ) from None
        rows = [ln.strip() for ln in text.splitlines()]
        texts = [CorpusText(str(i), "", t) for i, t in enumerate(rows, 1) if t]
        if not texts:
            raise UserError(f"{path}: file is empty; put one text per line")
        return texts
    from tuneproof.data.load import read_table, require_columns

    df = read_table(path)
    require_columns(df, [text_column], str(path), "--text-column")
    if lang_required and lang_column:
        require_columns(df, [lang_column], str(path), "--lang-column")
    has_lang = lang_column is not None and lang_column in df.columns
    has_id = id_column is not None and id_column in df.columns
    out = []
    for i, row in enumerate(df.to_dict("records"), 1):
        value = row[text_column]
        if not isinstance(value, str):
            if value is None or value != value:  # None or NaN: a missing cell
                continue
            raise UserError(f"{path}: row {i}, column '{text_column}' is not text; fix the file")
        if not value.strip():
            continue
        lang = str(row[lang_column]) if has_lang and lang_column else ""
        ident = str(row[id_column]) if has_id and id_column else str(i)
        out.append(CorpusText(ident, lang, value))
    if not out:
        raise UserError(f"{path}: column '{text_column}' has no non-empty texts")
    return out
