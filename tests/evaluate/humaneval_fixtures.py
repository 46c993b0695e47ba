"""Hand-written run directories of a generation task (predictions only) for the human-evaluation
tests: the A/B sheet needs no model, only the rows a run wrote."""

from __future__ import annotations

import csv
from pathlib import Path

from tuneproof import rundir

PAYLOAD = "<script>document.title='pwned'</script> & <b>bold</b>"


def generation_run(path: Path, n: int = 40, *, prefix: str = "run", same_every: int = 10) -> Path:
    """``n`` summarization-like rows (ids ``row-secret-i``): every ``same_every``-th output equals
    the reference, so those rows have nothing to compare."""
    rows = []
    for i in range(n):
        gold = f"reference summary number {i}"
        pred = gold if i % same_every == 0 else f"{prefix} summary {i} with words"
        rows.append(
            {
                "id": f"row-secret-{i}",
                "source": "test",
                "text": PAYLOAD if i == 1 else f"Summarise report {i}: the council met.",
                "gold": gold,
                "pred": pred,
                "slices": {"language": "en" if i % 2 else "fr"},
            }
        )
    path.mkdir(parents=True, exist_ok=True)
    rundir.write_predictions(path, rows)
    return path


def fill(path: Path, choices: dict[str, str], rater: str | None = None) -> Path:
    """Write a rating file: ``{item_id: choice}`` for one rater."""
    name = rater or path.stem
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["item_id", "rater", "choice"])
        for item, choice in choices.items():
            w.writerow([item, name, choice])
    return path
