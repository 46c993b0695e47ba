"""The types every check shares: what it gets (:class:`CheckContext`), what it returns
(:class:`Finding`), how it is described (:class:`Check`), the whole result (:class:`CheckReport`).

A check is a plain function ``(CheckContext) -> list[Finding]`` plus a name, a description and a
default severity, in a module of its own (cleanlab's ``issue_manager`` layout). The context holds
the split DataFrames and caches what several checks need (normalised texts, the duplicate
index), so e.g. ``leakage`` and ``near_duplicate`` share one MinHash pass.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

if TYPE_CHECKING:
    from tuneproof.checks._dedup import DuplicateIndex
    from tuneproof.tasks.base import TokenCount

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Related:
    """A row in another place (usually another split) that a finding points to."""

    split: str
    row: str

    def to_dict(self) -> dict[str, str]:
        return {"split": self.split, "row": self.row}


@dataclass(frozen=True)
class Finding:
    """One problem: a group of rows (or a whole split) and the evidence for it.

    ``score`` is in [0, 1], higher meaning stronger evidence or a bigger share (the meaning per
    check is in docs/checks.md); findings are ranked by severity, then score.
    """

    check: str
    severity: Severity
    split: str
    rows: tuple[str, ...] = ()
    related: tuple[Related, ...] = ()
    score: float = 0.0
    detail: str = ""
    # label_issue: the row's given label and the label the model suggests (the review queue)
    label: str | None = None
    suggested: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "severity": self.severity,
            "split": self.split,
            "rows": list(self.rows),
            "related": [r.to_dict() for r in self.related],
            "score": round(float(self.score), 4),
            "detail": self.detail,
        }
        if self.suggested is not None:
            out |= {"label": self.label, "suggested": self.suggested}
        return out


@dataclass(frozen=True)
class CheckOptions:
    """Knobs of the checks; the defaults are what `tuneproof check` and `train` use."""

    only: tuple[str, ...] | None = None  # run just these checks (names); None: all
    skip: tuple[str, ...] = ()  # checks not to run
    seed: int = 0
    # near_duplicate / leakage
    near_threshold: float = 0.5  # word uni+bigram Jaccard; one word of 20 changed ≈ 0.86
    num_perm: int = 120  # MinHash permutations
    bands: int = 40  # LSH bands (rows per band = num_perm // bands)
    stop_df: float = 0.03  # words in more texts than this share are ignored by MinHash
    max_bucket: int = 50  # LSH buckets above this size are linked as a chain, not all pairs
    # label_issue
    label_folds: int = 5
    label_min_rows: int = 30
    label_max_classes: int = 100
    label_issue_warning: float = 0.65  # score (1 - p(given label)) from which an issue warns
    # Frozen encoder whose mean-pooled embeddings feed a second out-of-fold model (averaged with
    # TF-IDF); None: TF-IDF only. Used from label_encoder_min_rows up to label_encoder_max_rows
    # labelled rows (the embedding pass costs ~20-35 s per 1k rows on 2 CPU cores).
    label_disagree_accuracy: float = 0.9  # from this out-of-fold accuracy, disagreements flag
    label_encoder: str | None = "minilm-l6"
    label_encoder_min_rows: int = 500
    label_encoder_max_rows: int = 10_000
    # class_imbalance
    imbalance_warning: float = 0.1  # minority / majority count below this: warning
    imbalance_info: float = 0.5
    label_shift: float = 0.2  # total variation distance between train and another split
    # length_outlier
    truncation_warning: float = 0.01  # share of rows truncated at max_length: warning above
    outlier_z: float = 5.0  # robust z-score of log length
    length_sample: int = 200_000  # rows tokenised per split (a random sample beyond)
    # language_mix / script_mix
    language_sample: int = 2_000  # rows per split given to the language identifier
    # ISO 639-1 codes lingua tells apart; each costs ~0.3 s of model loading per run
    languages: tuple[str, ...] = (
        "en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "tr", "ar", "hi", "zh", "ja", "ko",
        "vi",
    )  # fmt: skip
    minority_share: float = 0.2  # a language/script below this share of a split: stray rows
    # reporting
    max_rows_listed: int = 100  # rows listed by split-level findings (groups list all rows)


@dataclass
class CheckContext:
    """What a check sees: the splits and columns, and caches shared between checks."""

    splits: Mapping[str, pd.DataFrame]
    text_column: str
    label_column: str | None = None
    id_column: str | None = None
    tokenizer: Any = None
    max_length: int | None = None
    options: CheckOptions = field(default_factory=CheckOptions)
    # Each row's tokens as the task adapter counted them in ``prepare`` (split -> one per row):
    # given, the length check reads these instead of tokenising the texts itself.
    token_counts: Mapping[str, Sequence[TokenCount]] | None = None
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def _memo(self, kind: str, split: str, make: Callable[[], Any]) -> Any:
        key = (kind, split)
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def texts(self, split: str) -> list[str]:
        """The text of every row as a string ("" for missing; token lists joined by spaces)."""

        def make() -> list[str]:
            values = self.splits[split][self.text_column].tolist()
            return [v if type(v) is str else as_text(v) for v in values]

        return self._memo("texts", split, make)

    def normalised(self, split: str) -> list[str]:
        """Texts after NFKC, case folding and whitespace collapsing (what duplicates compare)."""
        return self._memo("norm", split, lambda: [normalise(t) for t in self.texts(split)])

    def labels(self, split: str) -> list[str | None] | None:
        """Labels as strings (None where missing), or None when there is no label column."""
        col = self.label_column
        if col is None or col not in self.splits[split]:
            return None

        def make() -> list[str | None]:
            values = self.splits[split][col].tolist()
            return [v if type(v) is str and v.strip() else as_label(v) for v in values]

        return self._memo("labels", split, make)

    def row_ids(self, split: str) -> list[str]:
        """How findings name rows: the id column, else the row's index in its file."""

        def make() -> list[str]:
            df = self.splits[split]
            if self.id_column is not None and self.id_column in df:
                return [str(v) for v in df[self.id_column].tolist()]
            return [str(v) for v in df.index.tolist()]

        return self._memo("ids", split, make)

    def duplicates(self) -> DuplicateIndex:
        """Exact and near-duplicate structure over all splits (computed once, shared)."""
        from tuneproof.checks._dedup import build_index

        return self._memo("dedup", "", lambda: build_index(self))

    def ids_of(self, split: str, positions: Any) -> tuple[str, ...]:
        ids = self.row_ids(split)
        return tuple(ids[int(i)] for i in positions)


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(items, list):
            return " ".join(as_text(v) for v in items)
    return str(value)


def as_label(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (list, tuple)) or (
        hasattr(value, "tolist") and not isinstance(value, str)
    ):
        items = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(items, list):
            return " ".join(map(str, items))
        value = items
    text = str(value)
    return text if text.strip() else None


def normalise(text: str) -> str:
    """Unicode NFKC, case fold, collapse whitespace: "Ｆｉｎｅ  FILM" and "fine film" are equal."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class Check:
    """A registered check: ``run(ctx)`` returns its findings (an empty list when all is well)."""

    name: str
    description: str
    severity: Severity  # the severity of its typical finding (some findings may differ)
    run: Callable[[CheckContext], list[Finding]]
    needs_labels: bool = False


@dataclass(frozen=True)
class SplitInfo:
    rows: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.sha256}


@dataclass(frozen=True)
class Summary:
    errors: int = 0
    warnings: int = 0
    info: int = 0

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Sample:
    """A row's text and label as shown next to a finding in checks.md (not part of checks.json)."""

    text: str
    label: str | None = None


@dataclass(frozen=True)
class CheckReport:
    """All findings of one `check` run, ranked worst first, plus the row texts checks.md shows."""

    dataset: Mapping[str, SplitInfo]
    findings: tuple[Finding, ...]
    checks_run: tuple[str, ...] = ()
    samples: Mapping[tuple[str, str], Sample] = field(default_factory=dict)
    seconds: Mapping[str, float] = field(default_factory=dict)  # per check, not in checks.json

    @property
    def summary(self) -> Summary:
        count = {s: 0 for s in SEVERITIES}
        for f in self.findings:
            count[f.severity] += 1
        return Summary(errors=count["error"], warnings=count["warning"], info=count["info"])

    def reaches(self, level: Severity) -> bool:
        """True when some finding is at ``level`` or worse (the ``--fail-on`` test)."""
        return any(SEVERITY_RANK[f.severity] <= SEVERITY_RANK[level] for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The checks.json document (schema version 1, docs/checks.md)."""
        return {
            "version": SCHEMA_VERSION,
            "dataset": {k: v.to_dict() for k, v in self.dataset.items()},
            "summary": self.summary.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
        }
