"""What participants receive: ``rules.md``, ``starter.py`` and ``starter.ipynb``.

The starter is a complete baseline with tuneproof (train MiniLM on ``train.csv`` with a
validation split, predict ``test.csv``, write ``submission.csv``), so the first submission is a
working one. The notebook holds the same code, cell by cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tuneproof import io

if TYPE_CHECKING:
    from tuneproof.compete.service import Info

RULES = """\
# {name}

Predict the sentiment of movie-review sentences: `1` positive, `0` negative.

## Data
- `train.csv` (`id,text,label`): {dataset}, labelled; use it as you like (split off your own
  validation set).
- `test.csv` (`id,text`): {test_rows} sentences whose labels are hidden. Ids are opaque.

## Metric and leaderboards
- **Accuracy** on the hidden labels, shown with its 95 % Wilson interval.
- The **public** board scores {public_pct:.0f} % of the test rows (fixed, seeded); the **private**
  board scores the other {private_pct:.0f} % and decides the final ranking. It opens at the close.
{ladder}
## Submissions
- A CSV with the header `id,label` and exactly one row per test id, labels in {{{labels}}},
  UTF-8. The whole file is checked before scoring: a malformed file is refused with the line
  numbers of its errors, and **costs no quota**.
- At most **{daily_limit} per team per UTC day**; the quota resets at 00:00 UTC. Uploading the same
  file again (same bytes) returns the earlier result and costs nothing.
- Send it with `tuneproof compete submit submission.csv --server URL --token TEAM_TOKEN`, or
  submit a run directory (`tuneproof compete submit runs/NAME ...`) to predict and submit in one
  step. Add `--manifest` to attach the run's `manifest.json` for the reproducibility badge.

## Finals and ties
- Select up to **{finals}** submissions as finals (`PUT /api/competition/selection`); without a
  choice, your {finals} best public scores are your finals.
- The private ranking uses the best private score among a team's finals.
- **Ties** rank the earlier submission first.
- A final whose predictions `tuneproof compete verify` reproduces from the run's recorded command
  is marked **reproduced** on the private board.

## Dates (UTC)
- Opened: {created}
- Closes: {closes}

## Allowed
Any model and any public pre-trained weights; no hand labelling of `test.csv`; one team per
person; no sharing of predictions between teams.
"""

LADDER = """- **Ladder mode** is on: a new public score is shown only when it beats your best shown score
  by more than the noise (one standard error of the paired difference; Blum & Hardt, 2015), so
  probing the public board does not pay.
"""

STARTER = '''\
"""Baseline for the competition: fine-tune MiniLM with tuneproof, write submission.csv.

Run it in the competition folder: `python starter.py`. It trains on train.csv (10 % held out
for validation), predicts test.csv and writes submission.csv, ready for
`tuneproof compete submit submission.csv --server URL --token TEAM_TOKEN`.
Environment knobs for a quick try: STARTER_MAX_STEPS (default: 3 epochs), STARTER_MODEL.
"""

import csv
import os
from pathlib import Path

from tuneproof.config import parse_config
from tuneproof.train import run
from tuneproof.train.predict import load_run_model, predict_texts

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
MAX_STEPS = int(os.environ.get("STARTER_MAX_STEPS", "-1"))
MODEL = os.environ.get("STARTER_MODEL", "minilm-l6")

# 1. Train: the config is the same YAML `tuneproof train` reads, as a dict.
config = parse_config(
    {
        "name": "starter",
        "data": {
            "train": str(HERE / "train.csv"),
            "split": {"validation": 0.1, "test": 0.0},
            "id_column": "id",
            "max_length": 64,
        },
        "model": {"name": MODEL},
        "training": {
            "epochs": 3,
            "max_steps": MAX_STEPS,
            "batch_size": 32,
            "learning_rate": 5.0e-5,
            "seed": 42,
        },
        "tracking": {"enabled": False},
    }
)
result = run(config, HERE / "runs" / "starter", overwrite=True)
print("validation:", result.metrics.overall.get(result.metrics.main_metric))

# 2. Predict the hidden test set.
with open(HERE / "test.csv", encoding="utf-8", newline="") as fh:
    test = list(csv.DictReader(fh))
model = load_run_model(result.output_dir)
predictions = predict_texts(model, [row["text"] for row in test])

# 3. Write the submission: header id,label and one row per test id.
with open(HERE / "submission.csv", "w", encoding="utf-8", newline="") as fh:
    writer = csv.writer(fh)
    writer.writerow(["id", "label"])
    for row, pred in zip(test, predictions):
        writer.writerow([row["id"], pred["label"]])
print("wrote", HERE / "submission.csv")
'''


def render_rules(info: Info) -> str:
    return RULES.format(
        name=info.name,
        dataset=info.dataset,
        test_rows=info.test_rows,
        public_pct=100 * info.public_fraction,
        private_pct=100 * (1 - info.public_fraction),
        ladder=LADDER if info.ladder else "",
        labels=", ".join(info.labels),
        daily_limit=info.daily_limit,
        finals=info.finals,
        created=info.created.isoformat(timespec="minutes"),
        closes=info.closes_at.isoformat(timespec="minutes")
        if info.closes_at
        else "when the admin closes it",
    )


def starter_notebook() -> str:
    """The starter as a notebook: a Markdown cell per step, the code split at its numbered steps."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    doc, _, body = STARTER.partition('"""\n\n')
    cells = [new_markdown_cell("# Competition baseline\n\n" + doc.strip('"\n'))]
    chunks = body.split("\n# ")
    cells.append(new_code_cell(chunks[0].strip()))
    for chunk in chunks[1:]:
        title, _, code = chunk.partition("\n")
        cells.append(new_markdown_cell("## " + title.strip()))
        cells.append(new_code_cell(code.strip()))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return str(nbformat.writes(nb))


def write_starters(root: Path) -> None:
    io.write_text(root / "starter.py", STARTER)
    io.write_text(root / "starter.ipynb", starter_notebook())
