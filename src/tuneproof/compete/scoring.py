"""Pure rules of the competition: validate a submission, score it, decide what the board shows.

No I/O here: the store calls these inside its transaction, the tests call them directly. Every
rule that hosted platforms get wrong lives in one function with a name: a malformed file never
scores (:func:`parse_submission` rejects the whole file, line by line), ties go to the earlier
submission (:func:`rank`), finals default to the two best public scores (:func:`finals`), and the
Ladder (Blum & Hardt, 2015) only reveals a public score that beats the team's best by more than
the noise (:func:`ladder_release`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from tuneproof.stats import wilson

MAX_BYTES = 5 * 1024 * 1024  # a 1,000-row submission is ~10 kB; 5 MB leaves room for long ids
MAX_ERRORS = 20  # line-level errors reported per file


@dataclass(frozen=True)
class LineError:
    line: int  # 1-based line of the CSV file (1 is the header); 0 for the whole file
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Parsed:
    """A valid submission: one label per test id, in the order of ``ids``."""

    labels: dict[str, str]


class SubmissionError(ValueError):
    """The file is not a valid submission; ``errors`` says where (nothing was scored)."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


def parse_submission(
    data: bytes, ids: Sequence[str], label_set: Sequence[str], *, max_bytes: int = MAX_BYTES
) -> Parsed:
    """Validate the whole file before anything is scored: UTF-8, the header ``id,label``, every
    test id exactly once, no other id, every label in the label set, a size cap."""
    if len(data) > max_bytes:
        raise SubmissionError(
            [LineError(0, f"file is {len(data):,} bytes; the limit is {max_bytes:,}")]
        )
    if not data.strip():
        raise SubmissionError(
            [LineError(0, "file is empty; expected a header `id,label` and one row per test id")]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise SubmissionError([LineError(line, "not UTF-8 text; save the file as UTF-8")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != ["id", "label"]:
        got = ",".join(header or [])
        raise SubmissionError([LineError(1, f"header must be `id,label` (got `{got}`)")])
    wanted = set(ids)
    labels_ok = set(label_set)
    seen: dict[str, int] = {}
    errors: list[LineError] = []
    labels: dict[str, str] = {}
    for lineno, rec in enumerate(reader, start=2):
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) != 2:
            errors.append(LineError(lineno, f"expected 2 columns (id,label), got {len(rec)}"))
            continue
        rid, label = rec[0].strip(), rec[1].strip()
        if rid in seen:
            errors.append(LineError(lineno, f"id '{rid}' repeats line {seen[rid]}"))
        elif rid not in wanted:
            errors.append(LineError(lineno, f"id '{rid}' is not in test.csv"))
        elif label not in labels_ok:
            allowed = ", ".join(sorted(labels_ok))
            errors.append(LineError(lineno, f"label '{label}' is not one of {allowed}"))
        else:
            labels[rid] = label
        seen.setdefault(rid, lineno)
        if len(errors) >= MAX_ERRORS:
            break
    if not errors:
        missing = [i for i in ids if i not in seen]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            errors.append(LineError(0, f"{len(missing)} test ids have no row (e.g. {shown})"))
    if errors:
        raise SubmissionError(errors)
    return Parsed(labels)


@dataclass(frozen=True)
class Score:
    """Accuracy on a board's rows with its 95 % Wilson interval."""

    correct: int
    n: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def ci(self) -> tuple[float, float]:
        return wilson(self.correct, self.n)


def score(labels: Mapping[str, str], answers: Mapping[str, str]) -> Score:
    """Accuracy of ``labels`` on the ids of ``answers`` (one board)."""
    correct = sum(labels.get(i) == gold for i, gold in answers.items())
    return Score(correct, len(answers))


def ladder_release(
    new: Mapping[str, str], best: Mapping[str, str] | None, answers: Mapping[str, str]
) -> bool:
    """The parameter-free Ladder: release the new public score only when it beats the team's best
    released submission by more than one standard error of the paired per-row difference, so
    probing the public board one flip at a time gains nothing."""
    if best is None:
        return True
    diffs = [float(new.get(i) == gold) - float(best.get(i) == gold) for i, gold in answers.items()]
    n = len(diffs)
    if n < 2:
        return sum(diffs) > 0
    mean = sum(diffs) / n
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1)
    return mean - math.sqrt(var / n) > 1e-12  # a one-row gain sits exactly on the bound


@dataclass(frozen=True)
class Entry:
    """One submission as the ranking sees it."""

    submission_id: int
    team: str
    created: datetime
    public: float
    private: float | None = None
    selected: bool = False


def finals(entries: Sequence[Entry], k: int) -> list[Entry]:
    """A team's finals: the ones it selected (up to ``k``), else its ``k`` best public scores
    (ties: the earlier submission)."""
    chosen = [e for e in entries if e.selected][:k]
    if chosen:
        return chosen
    return sorted(entries, key=lambda e: (-e.public, e.created, e.submission_id))[:k]


@dataclass(frozen=True)
class Ranked:
    rank: int
    team: str
    entry: Entry
    value: float


def rank(entries: Sequence[Entry], board: str, k_finals: int) -> list[Ranked]:
    """One row per team. Public: its best public score. Private: the best private score among
    its finals. Ties rank the earlier submission first (never arbitrary)."""
    by_team: dict[str, list[Entry]] = {}
    for e in entries:
        by_team.setdefault(e.team, []).append(e)
    best: list[tuple[float, Entry]] = []
    for team_entries in by_team.values():
        pool = finals(team_entries, k_finals) if board == "private" else team_entries
        key = (lambda e: e.private or 0.0) if board == "private" else (lambda e: e.public)
        top = sorted(pool, key=lambda e: (-key(e), e.created, e.submission_id))[0]
        best.append((key(top), top))
    best.sort(key=lambda vt: (-vt[0], vt[1].created, vt[1].submission_id))
    return [Ranked(i + 1, e.team, e, v) for i, (v, e) in enumerate(best)]


def next_utc_midnight(now: datetime) -> datetime:
    """When a daily quota resets (quotas are per UTC day, for every team alike)."""
    now = now.astimezone(timezone.utc)
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def day_start(now: datetime) -> datetime:
    now = now.astimezone(timezone.utc)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)
