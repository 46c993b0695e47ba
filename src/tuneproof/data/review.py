"""The label-review loop: a CSV of suspected label issues a person decides, applied to the data.

``tuneproof check ... --review review.csv`` writes the queue (columns
:data:`tuneproof.rundir.REVIEW_COLUMNS`) and, beside it, ``review.json`` (a
:class:`~tuneproof.rundir.ReviewManifest`: which file each split came from, its sha256, the
columns). A reviewer sets ``decision`` to ``accept`` or ``reject`` (empty: undecided).
:func:`apply_review` then writes the corrected dataset into a new folder: every split file with
the accepted rows relabelled, nothing else changed, ``changelog.json`` (what changed, the
sha256 of each written file). It validates the whole review before writing anything: an
unknown decision, a row that no longer exists, or a row whose text or label changed since the
review was written is a one-line error naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from tuneproof import io, rundir
from tuneproof.data.load import read_table, row_ids, sha256_file
from tuneproof.errors import UserError

WRITABLE = (".csv", ".tsv", ".jsonl", ".json", ".parquet")


def manifest_path(review: str | Path) -> Path:
    """``review.csv`` → ``review.json`` beside it."""
    return Path(review).with_suffix(".json")


def review_csv(rows: Sequence[rundir.ReviewRow]) -> str:
    buf = _io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(rundir.REVIEW_COLUMNS)
    for r in rows:
        writer.writerow([r.split, r.row, r.text, r.label, r.suggested, f"{r.score:.4f}",
                         r.evidence, r.decision])  # fmt: skip
    return buf.getvalue()


def write_review(
    path: str | Path, rows: Sequence[rundir.ReviewRow], manifest: rundir.ReviewManifest
) -> tuple[Path, Path]:
    """The queue and its manifest, each written atomically."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise UserError(f"--review {path}: the review queue is a CSV file; name it *.csv")
    io.write_json(manifest_path(path), rundir.dump(manifest))
    io.write_text(path, review_csv(rows))
    return path, manifest_path(path)


def read_manifest(review: str | Path) -> rundir.ReviewManifest:
    path = manifest_path(review)
    if not path.exists():
        raise UserError(
            f"{path}: not found; it is written beside {Path(review).name} by "
            "`tuneproof check ... --review FILE.csv` (re-run that, then decide the new queue)"
        )
    return rundir.parse(rundir.ReviewManifest, path.read_text(encoding="utf-8"), path)


def read_review(path: str | Path) -> list[rundir.ReviewRow]:
    """The decided queue; every problem names the file, the CSV line and the column."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: not found; write it with `tuneproof check ... --review {path}`")
    df = read_table(path) if path.stat().st_size else pd.DataFrame()
    missing = [c for c in rundir.REVIEW_COLUMNS if c not in df.columns]
    if missing:
        raise UserError(
            f"{path}: no column '{missing[0]}'; a review has the columns "
            f"{', '.join(rundir.REVIEW_COLUMNS)} (re-write it with `tuneproof check --review`)"
        )
    rows = []
    for i, rec in enumerate(df[list(rundir.REVIEW_COLUMNS)].to_dict("records")):
        line = i + 2  # the header is line 1
        decision = str(rec["decision"]).strip().lower()
        if decision not in rundir.REVIEW_DECISIONS:
            raise UserError(
                f"{path}: line {line} (split {rec['split']}, row {rec['row']}): decision "
                f"'{rec['decision']}' is not accept, reject or empty; set it to one of those"
            )
        try:
            rows.append(rundir.ReviewRow.model_validate({**rec, "decision": decision}))
        except ValidationError as err:
            e = err.errors()[0]
            field = ".".join(str(p) for p in e["loc"])
            raise UserError(
                f"{path}: line {line}: column '{field}': {e['msg']}; restore the value "
                "`tuneproof check --review` wrote"
            ) from None
    return rows


@dataclass(frozen=True)
class AppliedReview:
    output: Path
    changelog: rundir.ReviewApplied


def _source_file(path: str, split: str, review: Path) -> Path:
    real = Path(path.split("#", 1)[0])
    if path.startswith("hf:") or not real.exists():
        raise UserError(
            f"{review}: split '{split}' came from {path}, which is not a file here; "
            "apply-review rewrites data files: check local files with --review"
        )
    if real.suffix.lower() not in WRITABLE:
        raise UserError(
            f"{review}: split '{split}' ({real}) is a {real.suffix} file; apply-review writes "
            f"{', '.join(WRITABLE)} tables"
        )
    return real


def _write_table(df: pd.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        df.to_parquet(path, index=False)
    elif suffix == ".jsonl":
        df.to_json(path, orient="records", lines=True, force_ascii=False)
    elif suffix == ".json":
        df.to_json(path, orient="records", force_ascii=False, indent=1)
    else:
        df.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")


def _check_output(output: Path, inputs: Sequence[Path]) -> None:
    """The output folder is replaced whole: never one holding the data or the review, and
    never an existing folder apply-review did not write."""
    out = output.resolve()
    for f in inputs:
        if f.resolve().is_relative_to(out):
            raise UserError(
                f"-o {output}: holds {f}, which the review reads; write the corrected dataset "
                "to a new folder"
            )
    if output.exists() and not (output / rundir.ReviewApplied.FILE).is_file():
        raise UserError(
            f"-o {output}: exists and is not a dataset `data apply-review` wrote (no "
            f"{rundir.ReviewApplied.FILE}); choose a new folder"
        )


def apply_review(review: str | Path, output: str | Path) -> AppliedReview:
    """Write the dataset with the accepted suggestions applied into ``output`` (a new folder,
    swapped in whole); validates every row first, so a bad review writes nothing."""
    review, output = Path(review), Path(output)
    manifest = read_manifest(review)
    rows = read_review(review)
    io.ensure_writable(output.parent, what="-o")
    # load each source file once (splits cut from one file share it)
    files: dict[Path, pd.DataFrame] = {}
    split_file: dict[str, Path] = {}
    for split, src in manifest.sources.items():
        real = _source_file(src.path, split, review)
        split_file[split] = real
        if real not in files:
            files[real] = read_table(real)
    where_of: dict[Path, dict[str, int]] = {
        f: {rid: i for i, rid in enumerate(row_ids(df, manifest.id_column, str(f)))}
        for f, df in files.items()
    }
    _check_output(output, [*files, review])
    text_col, label_col = manifest.text_column, manifest.label_column
    changes: list[rundir.ReviewChange] = []
    counts = {"accept": 0, "reject": 0, "": 0}
    for line, r in enumerate(rows, start=2):
        counts[r.decision] += 1
        at = f"{review}: line {line} (split {r.split}, row {r.row})"
        if r.split not in split_file:
            raise UserError(
                f"{at}: split '{r.split}' is not in {manifest_path(review).name} "
                f"({', '.join(split_file)}); restore the split the review wrote"
            )
        f = split_file[r.split]
        pos = where_of[f].get(r.row)
        if pos is None:
            raise UserError(
                f"{at}: row '{r.row}' does not exist in {f}; the data changed since the review "
                "was written: re-run `tuneproof check --review` on the current data"
            )
        df = files[f]
        if str(df[text_col].iloc[pos]) != r.text:
            raise UserError(
                f"{at}: column 'text' differs from {f}'s text of that row; the data or the "
                "review was edited: restore the text or re-run `tuneproof check --review`"
            )
        current = str(df[label_col].iloc[pos])
        if current != r.label:
            raise UserError(
                f"{at}: column 'label' is '{r.label}' but {f} has '{current}'; the label was "
                "changed since the review: restore it (decisions go in 'decision')"
            )
        if r.decision == "accept" and r.suggested != current:
            if not r.suggested.strip():
                raise UserError(f"{at}: decision accept but column 'suggested' is empty")
            changes.append(
                rundir.ReviewChange(
                    split=r.split,
                    row=r.row,
                    text=r.text,
                    label_before=current,
                    label_after=r.suggested,
                    score=r.score,
                )
            )
    names: dict[Path, str] = {}
    for f in files:
        name = f.name
        if name in names.values():
            split = next(s for s, sf in split_file.items() if sf == f)
            name = f"{split}-{f.name}"
        names[f] = name
    edited = {f: df.copy() for f, df in files.items()}
    for ch in changes:
        f = split_file[ch.split]
        col = edited[f].columns.get_loc(label_col)
        edited[f].iat[where_of[f][ch.row], col] = ch.label_after
    with io.atomic_dir(output) as tmp:
        written: dict[str, rundir.ReviewSource] = {}
        for f, df in edited.items():
            _write_table(df, tmp / names[f])
            written[names[f]] = rundir.ReviewSource(
                path=str(output / names[f]), sha256=sha256_file(tmp / names[f]), rows=len(df)
            )
        log = rundir.ReviewApplied(
            review=str(review),
            review_sha256=sha256_file(review),
            accepted=counts["accept"],
            rejected=counts["reject"],
            undecided=counts[""],
            files=written,
            changes=changes,
        )
        rundir.write(tmp, log)
    return AppliedReview(output, log)


def dataset_sha256(log: rundir.ReviewApplied) -> str:
    """One fingerprint of the written dataset: sha256 over its files' names and hashes."""
    h = hashlib.sha256()
    for name in sorted(log.files):
        h.update(f"{name}\x00{log.files[name].sha256}\n".encode())
    return h.hexdigest()
