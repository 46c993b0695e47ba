"""Human A/B evaluation: the files (the blinded sheet, its key, rating files, humaneval.json).

``export_sheet`` samples prediction rows of a run, pairs each output with the other side's
(``--baseline RUN``: that run's output on the same row; without it: the reference, the row's
``gold``), shuffles the items and, per item, which side is shown as A, and writes

- ``RUN/humaneval/sheet.csv``: ``item_id, prompt, output_a, output_b``, the only file raters see;
- ``RUN/humaneval/ratings/rater-N.csv``: one empty rating file per rater
  (``item_id, rater, choice``, choice ``a``, ``b`` or ``tie``; a blank choice is "not rated");
- ``RUN/humaneval_key.json``: the key (item → row and which side is the run). Item ids are
  opaque (``<sheet tag>-<number>``, numbered in sheet order) so the sheet reveals neither the row
  nor the side, and ratings of an older sheet are refused by the new key. ``--overwrite`` moves
  the old sheet, key, ratings and results into ``RUN/humaneval.replaced-<time>/`` first.

Without ``--baseline`` the comparison is against the reference outputs, not the base model: the
run directory stores no base-model generations, and "as good as the reference" is the question
a reviewer of a summarization or SFT run asks first. Rows whose two outputs are the same text are
left out (nothing to prefer) and counted in the key.

``import_ratings`` validates every rating file completely before anything is written (unknown
item id, bad choice, empty rater, a rater rating an item twice: one-line ``UserError`` naming the
file, line and field), then writes ``humaneval.json`` atomically.
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import numpy as np

from tuneproof import io, rundir
from tuneproof.errors import UserError
from tuneproof.evaluate.humaneval import (
    CHOICES,
    Choice,
    Rating,
    agreement,
    outcome_of,
    rater_records,
    rates,
    slice_rates,
)
from tuneproof.evaluate.metrics import CONFIDENCE, N_RESAMPLES

FOLDER = "humaneval"
SHEET = f"{FOLDER}/sheet.csv"
RATINGS = f"{FOLDER}/ratings"
SHEET_COLUMNS = ("item_id", "prompt", "output_a", "output_b")
RATING_COLUMNS = ("item_id", "rater", "choice")
DEFAULT_N = 100
DEFAULT_RATERS = 3
_RATER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


@dataclass(frozen=True)
class SheetItem:
    """One line of the sheet, as raters see it."""

    item_id: str
    prompt: str
    output_a: str
    output_b: str


@dataclass(frozen=True)
class ExportResult:
    key: rundir.HumanEvalKey
    sheet: Path
    rating_files: tuple[Path, ...]
    key_path: Path


def check_rater(name: str) -> str:
    """A rater name that is also a safe file name (the web page saves ``ratings/<name>.csv``)."""
    name = name.strip()
    if not _RATER_NAME.match(name):
        raise UserError(
            f"rater '{name}': use 1-40 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    return name


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _eligible(
    run_dir: Path, baseline: Path | None
) -> tuple[list[tuple[rundir.PredictionRow, str]], int]:
    """(row, other side's output) for every in-distribution row with two different texts, and
    how many rows were left out because both outputs were identical."""
    rows = [r for r in rundir.read_predictions(run_dir) if r.in_distribution is not False]
    if not rows:
        raise UserError(f"{run_dir / rundir.PREDICTIONS}: no prediction rows to evaluate")
    if not all(isinstance(r.pred, str) for r in rows):
        raise UserError(
            f"{run_dir / rundir.PREDICTIONS}: predictions are not texts; human A/B evaluation "
            "is for generation tasks (summarization, SFT)"
        )
    others: dict[tuple[str, str], str] = {}
    if baseline is not None:
        for r in rundir.read_predictions(baseline):
            if isinstance(r.pred, str):
                others[r.key] = r.pred
        if not any(r.key in others for r in rows):
            raise UserError(
                f"--baseline {baseline}: no prediction row shares a (source, id) with {run_dir}; "
                "evaluate both runs on the same data (`tuneproof eval RUN --data FILE`)"
            )
    out: list[tuple[rundir.PredictionRow, str]] = []
    identical = 0
    for r in rows:
        other = others.get(r.key) if baseline is not None else r.gold
        if not isinstance(other, str):
            continue
        if other.strip() == str(r.pred).strip():
            identical += 1
            continue
        out.append((r, other))
    if not out:
        raise UserError(
            f"{run_dir}: no row has two different outputs to compare"
            + (f" ({identical} identical)" if identical else "")
        )
    return out, identical


def export_sheet(
    run_dir: str | Path,
    *,
    baseline: str | Path | None = None,
    n: int = DEFAULT_N,
    raters: int = DEFAULT_RATERS,
    seed: int | None = None,
    overwrite: bool = False,
) -> ExportResult:
    """Write the blinded sheet, one empty rating file per rater and the key (module docstring).

    ``seed`` fixes the sample, the order and the sides; by default it is random (and recorded
    in the key), so the key cannot be re-derived from the sheet and a known seed.
    """
    run_dir = Path(run_dir)
    base = Path(baseline) if baseline is not None else None
    if n < 1:
        raise UserError(f"--n {n}: sample at least one item")
    if not 1 <= raters <= 50:
        raise UserError(f"--raters {raters}: use 1 to 50 raters")
    key_path = run_dir / rundir.HUMANEVAL_KEY
    if key_path.exists() and not overwrite:
        raise UserError(
            f"{key_path}: a sheet was already exported (its ratings need this key); pass "
            "--overwrite to replace it with a new sheet"
        )
    if base is not None and base.resolve() == run_dir.resolve():
        raise UserError(f"--baseline {base}: the baseline is the run itself")
    pool, identical = _eligible(run_dir, base)
    if key_path.exists():
        _set_aside(run_dir)
    seed = secrets.randbelow(2**31) if seed is None else seed
    rng = np.random.default_rng(seed)
    take = rng.choice(len(pool), size=min(n, len(pool)), replace=False)  # random order too
    sides = rng.integers(0, 2, size=len(take))
    tag = secrets.token_hex(3)
    items: list[rundir.HumanEvalItem] = []
    lines: list[list[str]] = []
    for k, (i, side) in enumerate(zip(take, sides, strict=True), start=1):
        row, other = pool[int(i)]
        run_side = "a" if side == 0 else "b"
        item_id = f"{tag}-{k:03d}"
        a, b = (str(row.pred), other) if run_side == "a" else (other, str(row.pred))
        lines.append([item_id, row.display_text, a, b])
        items.append(
            rundir.HumanEvalItem(
                item_id=item_id,
                source=row.source,
                row_id=row.id,
                run_side=run_side,
                slices=row.slices,
            )
        )
    names = [f"rater-{j}" for j in range(1, raters + 1)]
    key = rundir.HumanEvalKey(
        run=run_dir.name,
        baseline=base.name if base is not None else "reference",
        baseline_kind="run" if base is not None else "reference",
        baseline_dir=str(base) if base is not None else None,
        seed=seed,
        sheet=SHEET,
        raters=names,
        eligible=len(pool),
        identical=identical,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        items=items,
    )
    sheet = io.write_text(run_dir / SHEET, _csv_text(SHEET_COLUMNS, lines))
    files = tuple(
        io.write_text(
            run_dir / RATINGS / f"{name}.csv",
            _csv_text(RATING_COLUMNS, [[it.item_id, name, ""] for it in items]),
        )
        for name in names
    )
    return ExportResult(key, sheet, files, rundir.write(run_dir, key))


def _set_aside(run_dir: Path) -> Path:
    """``--overwrite``: move the old key, sheet, ratings and humaneval.json into one folder
    ``humaneval.replaced-<time>/``, so no rating of the old sheet is imported against the new
    key and the report shows no stale result (nothing is deleted)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    dest = run_dir / f"{FOLDER}.replaced-{stamp}"
    dest.mkdir()
    for name in (FOLDER, rundir.HUMANEVAL_KEY, rundir.HUMANEVAL):
        if (run_dir / name).exists():
            (run_dir / name).rename(dest / name)
    return dest


def read_key(run_dir: str | Path) -> rundir.HumanEvalKey:
    return rundir.read(run_dir, rundir.HumanEvalKey)


def read_sheet(run_dir: str | Path) -> list[SheetItem]:
    """The sheet as raters see it (the web rating page reads it)."""
    path = Path(run_dir) / SHEET
    if not path.is_file():
        raise UserError(f"{path}: not found; run `tuneproof humaneval export {run_dir}`")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != SHEET_COLUMNS:
            raise UserError(f"{path}: header must be {', '.join(SHEET_COLUMNS)}")
        return [SheetItem(*(row[c] or "" for c in SHEET_COLUMNS)) for row in reader]


def _parse_choice(value: str, where: str) -> Choice | None:
    v = value.strip().lower()
    if not v:
        return None
    if v not in CHOICES:
        raise UserError(f"{where}: choice '{value.strip()}': use a, b or tie")
    return cast(Choice, v)


def read_ratings(
    paths: Sequence[str | Path], key: rundir.HumanEvalKey, key_path: Path
) -> tuple[list[Rating], list[rundir.RatingFile]]:
    """Every rating of ``paths``, validated against ``key``; blank choices are skipped."""
    if not paths:
        raise UserError("no rating files given; pass RUN/humaneval/ratings/*.csv")
    sides = {it.item_id: it.run_side for it in key.items}
    seen: dict[tuple[str, str], str] = {}
    ratings: list[Rating] = []
    files: list[rundir.RatingFile] = []
    for raw in paths:
        path = Path(raw)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise UserError(f"{path}: not found") from None
        except IsADirectoryError:
            raise UserError(f"{path}: a folder, not a rating file; pass the .csv files") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UserError(f"{path}: not UTF-8 text; save the rating file as UTF-8 CSV") from None
        reader = csv.DictReader(_io.StringIO(text, newline=""))
        header = [h.strip().lower() for h in reader.fieldnames or ()]
        missing = [c for c in RATING_COLUMNS if c not in header]
        if missing:
            raise UserError(
                f"{path}: header lacks {', '.join(missing)}; a rating file has the columns "
                f"{', '.join(RATING_COLUMNS)}"
            )
        reader.fieldnames = header
        count = 0
        for row in reader:
            where = f"{path}: line {reader.line_num}"
            if None in row:
                raise UserError(f"{where}: more fields than the header's {len(header)}")
            item = (row.get("item_id") or "").strip()
            rater = (row.get("rater") or "").strip()
            choice = _parse_choice(row.get("choice") or "", where)
            if not item and not rater and choice is None:
                continue  # an empty line
            if item not in sides:
                raise UserError(
                    f"{where}: item_id '{item}' is not in the sheet of {key_path} (a rating of "
                    "another sheet?); rate the items of humaneval/sheet.csv"
                )
            if not rater:
                raise UserError(f"{where}: rater is empty; name who rated the item")
            if choice is None:
                continue  # not rated yet
            if (item, rater) in seen:
                raise UserError(
                    f"{where}: rater '{rater}' rated item {item} twice (also {seen[(item, rater)]}); "
                    "keep one rating per rater and item"
                )
            seen[(item, rater)] = where
            ratings.append(Rating(item, rater, choice, outcome_of(choice, sides[item])))
            count += 1
        files.append(
            rundir.RatingFile(path=str(path), sha256=hashlib.sha256(data).hexdigest(), rows=count)
        )
    if not ratings:
        raise UserError(
            f"{', '.join(str(p) for p in paths)}: no item has a choice yet; fill the choice "
            "column with a, b or tie"
        )
    return ratings, files


def summarize_ratings(
    key: rundir.HumanEvalKey,
    ratings: Sequence[Rating],
    files: Sequence[rundir.RatingFile] = (),
    *,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
    confidence: float = CONFIDENCE,
) -> rundir.HumanEval:
    """The humaneval.json record of ``ratings`` (the pure part of :func:`import_ratings`)."""
    agree = agreement(ratings)
    rated = {r.item_id for r in ratings}
    overall = rates(
        [r.outcome for r in ratings],
        [r.item_id for r in ratings],
        seed=seed,
        n_resamples=n_resamples,
        confidence=confidence,
    )
    slices = slice_rates(
        ratings,
        {it.item_id: it.slices for it in key.items},
        seed=seed,
        n_resamples=n_resamples,
        confidence=confidence,
    )
    return rundir.HumanEval(
        run=key.run,
        baseline=key.baseline,
        baseline_kind=key.baseline_kind,
        overall=overall,
        slices=slices,
        agreement=agree,
        raters=rater_records(ratings, agree.pairwise),
        files=list(files),
        unrated=sum(it.item_id not in rated for it in key.items),
        identical=key.identical,
        seed=seed,
        n_resamples=n_resamples,
        confidence=confidence,
    )


def import_ratings(
    run_dir: str | Path,
    paths: Sequence[str | Path],
    *,
    seed: int = 0,
    n_resamples: int = N_RESAMPLES,
) -> rundir.HumanEval:
    """Validate every rating file against the run's key, then write ``humaneval.json``."""
    run_dir = Path(run_dir)
    key = read_key(run_dir)
    ratings, files = read_ratings(paths, key, run_dir / rundir.HUMANEVAL_KEY)
    result = summarize_ratings(key, ratings, files, seed=seed, n_resamples=n_resamples)
    rundir.write(run_dir, result)
    return result


def rating_path(run_dir: str | Path, rater: str) -> Path:
    return Path(run_dir) / RATINGS / f"{check_rater(rater)}.csv"


def rater_choices(run_dir: str | Path, rater: str) -> dict[str, Choice]:
    """What ``rater`` chose so far (their file under ``humaneval/ratings``), by item id."""
    path = rating_path(run_dir, rater)
    if not path.is_file():
        return {}
    key = read_key(run_dir)
    ratings, _ = _read_one_lenient(path, key, run_dir)
    return {r.item_id: r.choice for r in ratings if r.rater == rater}


def _read_one_lenient(
    path: Path, key: rundir.HumanEvalKey, run_dir: str | Path
) -> tuple[list[Rating], list[rundir.RatingFile]]:
    try:
        return read_ratings([path], key, Path(run_dir) / rundir.HUMANEVAL_KEY)
    except UserError as err:
        if "no item has a choice yet" in str(err):
            return [], []
        raise


def save_rating(run_dir: str | Path, rater: str, item_id: str, choice: str) -> Path:
    """Set ``rater``'s choice on one item in ``humaneval/ratings/<rater>.csv`` (rewritten
    atomically, in sheet order), as the web rating page does on each click."""
    key = read_key(run_dir)
    rater = check_rater(rater)
    if item_id not in {it.item_id for it in key.items}:
        raise UserError(f"item_id '{item_id}' is not in the sheet of {run_dir}")
    parsed = _parse_choice(choice, f"item {item_id}")
    if parsed is None:
        raise UserError(f"item {item_id}: choice is empty: use a, b or tie")
    choices: dict[str, str] = dict(rater_choices(run_dir, rater))
    choices[item_id] = parsed
    rows = [[it.item_id, rater, choices.get(it.item_id, "")] for it in key.items]
    return io.write_text(rating_path(run_dir, rater), _csv_text(RATING_COLUMNS, rows))


def rating_files(run_dir: str | Path) -> list[Path]:
    """The rating files under ``humaneval/ratings`` (what the web page's "compute" imports)."""
    folder = Path(run_dir) / RATINGS
    return sorted(folder.glob("*.csv")) if folder.is_dir() else []
