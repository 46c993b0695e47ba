"""Read word-tagged text: ``word/TAG`` lines (Penn Treebank style) and CoNLL column files.

Both become rows ``{"id", "tokens", "tags"}`` (a DataFrame with list cells), the shape the
token-classification task reads from JSONL too. Errors name the file, the line and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tuneproof.errors import UserError

TAGGED_SUFFIXES = (".conll", ".conllu", ".txt")
# pattern's corpora escape a slash inside a word so that "word/TAG" splits on the last slash.
ESCAPES = {"&slash;": "/"}


def _unescape(word: str) -> str:
    for k, v in ESCAPES.items():
        word = word.replace(k, v)
    return word


def parse_word_tag(line: str, where: str = "line") -> tuple[list[str], list[str]]:
    """``"The/DT cat/NN ./."`` → (["The", "cat", "."], ["DT", "NN", "."]).

    Splits each whitespace-separated item on its *last* slash, so ``1/2/CD`` is word ``1/2``.
    """
    tokens: list[str] = []
    tags: list[str] = []
    for item in line.split():
        word, slash, tag = item.rpartition("/")
        if not slash or not word or not tag:
            raise UserError(
                f"{where}: item {item!r} is not word/TAG; write each token as word/TAG "
                "(a slash inside a word as &slash;)"
            )
        tokens.append(_unescape(word))
        tags.append(tag)
    return tokens, tags


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UserError(
            f"{path}: byte {err.start} is not valid UTF-8; re-save the file as UTF-8"
        ) from None


def read_word_tag(path: str | Path, *, id_prefix: str = "") -> list[dict[str, Any]]:
    """One sentence per non-empty line of ``word/TAG`` items."""
    path = Path(path)
    rows: list[dict[str, Any]] = []
    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        tokens, tags = parse_word_tag(line, f"{path}: line {lineno}")
        rows.append({"id": f"{id_prefix}{len(rows)}", "tokens": tokens, "tags": tags})
    if not rows:
        raise UserError(f"{path}: no tagged sentences; write one sentence of word/TAG per line")
    return rows


def read_conll(
    path: str | Path, *, token_column: int = 0, tag_column: int = -1
) -> list[dict[str, Any]]:
    """CoNLL columns: one token per line, sentences separated by blank lines.

    The token is column ``token_column`` and the tag column ``tag_column`` (default: first and
    last, which fits CoNLL-2003 ``word POS chunk NER`` and two-column ``word tag`` files).
    ``-DOCSTART-`` lines and ``#`` comments are skipped.
    """
    path = Path(path)
    rows: list[dict[str, Any]] = []
    tokens: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if tokens:
            rows.append({"id": str(len(rows)), "tokens": list(tokens), "tags": list(tags)})
            tokens.clear()
            tags.clear()

    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if stripped.startswith("#") or stripped.startswith("-DOCSTART-"):
            continue
        cols = stripped.split("\t") if "\t" in stripped else stripped.split()
        if len(cols) < 2:
            raise UserError(
                f"{path}: line {lineno} has one column ({stripped[:40]!r}); CoNLL needs a token "
                "and a tag per line, separated by a tab or spaces"
            )
        try:
            tokens.append(cols[token_column])
            tags.append(cols[tag_column])
        except IndexError:
            raise UserError(
                f"{path}: line {lineno} has {len(cols)} columns, fewer than the token/tag "
                f"columns {token_column}/{tag_column}"
            ) from None
    flush()
    if not rows:
        raise UserError(f"{path}: no sentences; CoNLL needs one token and tag per line")
    return rows


def looks_like_word_tag(text: str) -> bool:
    """True when the first non-empty lines are ``word/TAG`` items rather than columns."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:20]
    if not lines or any("\t" in ln for ln in lines):
        return False
    items = [it for ln in lines for it in ln.split()]
    return all("/" in it.strip("/") for it in items)


def read_tagged(path: str | Path) -> pd.DataFrame:
    """A ``.conll``/``.conllu``/``.txt`` file as rows ``id, tokens, tags`` (format sniffed)."""
    path = Path(path)
    if path.suffix.lower() not in TAGGED_SUFFIXES:
        raise UserError(f"{path}: not a tagged-text file; use {', '.join(TAGGED_SUFFIXES)}")
    text = _read_text(path)
    rows = read_word_tag(path) if looks_like_word_tag(text) else read_conll(path)
    return pd.DataFrame(rows)
