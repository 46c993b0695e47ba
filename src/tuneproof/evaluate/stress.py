"""`tuneproof stress`: behaviour tests generated from the data, CheckList style.

Each test edits a sample of rows (Ribeiro et al. 2020, "Beyond Accuracy: Behavioral Testing of NLP
Models with CheckList") and compares the model's prediction before and after:

- **invariance** (the edit keeps the meaning, the label must not change): casing, whitespace,
  final punctuation, diacritics stripped, Unicode NFD ↔ NFC, a neutral emoji added, a person or
  place name swapped for another. Failure: the predicted label changes.
- **directional** (the edit should move the prediction): a negation inserted after the first
  copula ("was" → "was not", "est" → "n'est pas", ...). Failure: the probability of the
  originally predicted label does not drop.

A test applies only to rows it can edit (no diacritics: nothing to strip), and reports its
failure rate over those rows with examples. All edits run in one batched prediction pass.
Sequence-classification runs only: the tests compare labels and probabilities.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tuneproof import rundir
from tuneproof.data.load import SourceInfo, require_columns
from tuneproof.errors import UserError
from tuneproof.evaluate.predict import (
    EvalData,
    batch_progress,
    default_eval_data,
    eval_trainer,
    load_run,
    predict_frame,
    read_eval_files,
)
from tuneproof.evaluate.slices import DEFAULT_LANGUAGES, detect_languages, has_negation

if TYPE_CHECKING:
    from rich.console import Console

STRESS_VERSION = 1
DEFAULT_LIMIT = 200
N_EXAMPLES = 5
NEUTRAL_EMOJI = ("🎬", "📚", "📅", "🏠", "🚗", "📦")
PERSON_NAMES = (
    "John", "Mary", "Michael", "Sarah", "David", "Emma", "Thomas", "Anna", "Peter", "Laura",
    "Pierre", "Marie", "Hans", "Julia", "Carlos", "Sofia", "Robert", "Jennifer", "James", "Paul",
)  # fmt: skip
PLACE_NAMES = (
    "London", "Paris", "Berlin", "Madrid", "Rome", "Amsterdam", "Vienna", "Tokyo", "Chicago",
    "Boston", "Toronto", "Sydney", "New York", "Los Angeles",
)  # fmt: skip
_NAME_RE = {
    names: re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE)
    for names in (PERSON_NAMES, PLACE_NAMES)
}

Perturb = Callable[[str, str], str | None]  # (text, language) -> edited text, None: n/a


@dataclass(frozen=True)
class StressTest:
    name: str
    kind: str  # "invariance" or "directional"
    description: str
    perturb: Perturb


def _casing(text: str, lang: str) -> str | None:
    out = text.upper() if text != text.upper() else text.lower()
    return out if out != text else None


def _whitespace(text: str, lang: str) -> str | None:
    return " " + "  ".join(text.split(" ")) + " "


def _punctuation(text: str, lang: str) -> str | None:
    stripped = text.rstrip()
    if not stripped:
        return None
    if unicodedata.category(stripped[-1]).startswith("P"):
        out = stripped
        while out and unicodedata.category(out[-1]).startswith("P"):
            out = out[:-1]
        return out.rstrip() or None
    return stripped + "."


def _diacritics(text: str, lang: str) -> str | None:
    nfd = unicodedata.normalize("NFD", text)
    out = unicodedata.normalize("NFC", "".join(c for c in nfd if unicodedata.category(c) != "Mn"))
    return out if out != unicodedata.normalize("NFC", text) else None


def _nfd(text: str, lang: str) -> str | None:
    nfd = unicodedata.normalize("NFD", text)
    if nfd != text:
        return nfd
    nfc = unicodedata.normalize("NFC", text)
    return nfc if nfc != text else None


def _emoji(text: str, lang: str) -> str | None:
    return f"{text.rstrip()} {NEUTRAL_EMOJI[len(text) % len(NEUTRAL_EMOJI)]}"


def _match_case(new: str, old: str) -> str:
    if old.islower():
        return new.lower()
    if old.isupper():
        return new.upper()
    return new


def _entities(text: str, lang: str) -> str | None:
    for names, pattern in _NAME_RE.items():
        m = pattern.search(text)
        if m is None:
            continue
        found = m.group(1)
        i = next(i for i, n in enumerate(names) if n.lower() == found.lower())
        new = _match_case(names[(i + 1) % len(names)], found)
        return text[: m.start(1)] + new + text[m.end(1) :]
    return None


# (pattern, replacement) per language: negate the first copula.
_NEGATE: dict[str, list[tuple[re.Pattern[str], str]]] = {
    "en": [(re.compile(r"\b(is|was|are|were)\b", re.IGNORECASE), r"\1 not")],
    "fr": [
        (re.compile(r"\b([cC])['’]est\b"), r"\1e n'est pas"),
        (re.compile(r"\b(est|était)\b"), r"n'\1 pas"),
        (re.compile(r"\b(sont|sera)\b"), r"ne \1 pas"),
    ],
    "de": [(re.compile(r"\b(ist|war|sind|waren)\b"), r"\1 nicht")],
    "nl": [(re.compile(r"\b(is|was|zijn|waren)\b"), r"\1 niet")],
    "es": [(re.compile(r"\b(es|era|son|fue|está)\b"), r"no \1")],
    "it": [(re.compile(r"\b(è|era|sono)(?=\s)"), r"non \1")],
    "pt": [(re.compile(r"\b(é|era|são|foi)(?=\s)"), r"não \1")],
}


def _negation(text: str, lang: str) -> str | None:
    rules = _NEGATE.get(lang)
    if rules is None or has_negation(text, lang):
        return None
    best: tuple[int, re.Match[str], str] | None = None
    for pattern, repl in rules:
        m = pattern.search(text)
        if m is not None and (best is None or m.start() < best[0]):
            best = (m.start(), m, repl)
    if best is None:
        return None
    _, m, repl = best
    return text[: m.start()] + m.expand(repl) + text[m.end() :]


TESTS: tuple[StressTest, ...] = (
    StressTest("casing", "invariance", "text upper-cased (lower-cased if all caps)", _casing),
    StressTest("whitespace", "invariance", "spaces doubled, leading and trailing space", _whitespace),
    StressTest("punctuation", "invariance", "final punctuation removed (or a period added)", _punctuation),
    StressTest("diacritics", "invariance", "diacritics stripped (é → e)", _diacritics),
    StressTest("nfd_nfc", "invariance", "Unicode NFD instead of NFC (or back)", _nfd),
    StressTest("emoji", "invariance", "a neutral emoji appended", _emoji),
    StressTest("named_entities", "invariance", "a person or place name swapped for another", _entities),
    StressTest("negation", "directional", "negation inserted after the first copula; the original label's probability must drop", _negation),
)  # fmt: skip


@dataclass(frozen=True)
class StressExample:
    id: str
    original: str
    edited: str
    pred_before: str
    pred_after: str
    p_before: float  # probability of the original prediction, before and after
    p_after: float


@dataclass(frozen=True)
class StressResult:
    name: str
    kind: str
    description: str
    applicable: int
    failures: int
    failure_rate: float | None
    flipped: int  # predicted label changed (for directional tests: the expected outcome)
    mean_abs_shift: float | None  # mean |Δp| of the original prediction's label
    examples: list[StressExample] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "examples": [asdict(e) for e in self.examples]}


@dataclass
class StressReport:
    run_dir: Path
    data: SourceInfo
    n_rows: int
    seed: int
    tests: list[StressResult]
    tracking_note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STRESS_VERSION,
            "run": str(self.run_dir),
            "data": self.data.to_dict(),
            "n_rows": self.n_rows,
            "seed": self.seed,
            "tests": [t.to_dict() for t in self.tests],
        }


def sample_positions(n: int, limit: int, seed: int) -> np.ndarray:
    if limit >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _p(row: dict[str, Any], label: str) -> float:
    return float((row.get("probabilities") or {}).get(label, 0.0))


def evaluate_edits(
    originals: list[dict[str, Any]],
    edited: dict[str, list[tuple[int, str, dict[str, Any]]]],
    texts: list[str],
) -> list[StressResult]:
    """Score each test from the original rows and the rows of the edited texts."""
    results = []
    for test in TESTS:
        items = edited.get(test.name, [])
        fails, flips, shifts = 0, 0, []
        examples: list[StressExample] = []
        for i, new_text, row in items:
            before = originals[i]
            label = str(before["pred"])
            p0, p1 = _p(before, label), _p(row, label)
            flipped = str(row["pred"]) != label
            failed = flipped if test.kind == "invariance" else p1 >= p0
            flips += flipped
            shifts.append(abs(p1 - p0))
            if failed:
                fails += 1
                if len(examples) < N_EXAMPLES:
                    examples.append(
                        StressExample(
                            str(before["id"]),
                            texts[i],
                            new_text,
                            label,
                            str(row["pred"]),
                            round(p0, 4),
                            round(p1, 4),
                        )
                    )
        n = len(items)
        results.append(
            StressResult(
                test.name,
                test.kind,
                test.description,
                n,
                fails,
                fails / n if n else None,
                flips,
                float(np.mean(shifts)) if shifts else None,
                examples,
            )
        )
    return results


def run_stress(
    run_dir: str | Path,
    data_file: str | Path | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    lang_column: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    batch_size: int | None = None,
    seed: int | None = None,
    write: bool = True,
    console: Console | None = None,
) -> StressReport:
    """Run every test on a seeded sample of ``limit`` rows; write ``stress.json`` in the run."""
    if limit < 1:
        raise UserError(f"--limit {limit}: must be at least 1")
    run_dir = Path(run_dir)
    loaded = load_run(run_dir, text_column=text_column, label_column=label_column)
    config = loaded.config
    if config.task != "sequence-classification":
        raise UserError(
            f"{run_dir}: stress tests compare labels and probabilities and support "
            f"sequence-classification runs; this run is {config.task}"
        )
    data = read_eval_files([data_file])[0] if data_file else default_eval_data(config)[1][0]
    text_col = config.data.text_column
    lang_column = lang_column or config.data.lang_column
    require_columns(data.frame, [text_col], data.source.path, "--text-column")
    if lang_column:
        require_columns(data.frame, [lang_column], data.source.path, "--lang-column")
    seed = config.training.seed if seed is None else seed
    pos = sample_positions(len(data.frame), limit, seed)
    sample = data.frame.iloc[pos].reset_index(drop=True)
    texts = [str(t) for t in sample[text_col].tolist()]
    if lang_column:
        langs = [str(v).strip().lower() for v in sample[lang_column].tolist()]
    else:
        langs = detect_languages(texts, DEFAULT_LANGUAGES)

    id_col = config.data.id_column
    base_ids = (
        [str(v) for v in sample[id_col].tolist()]
        if id_col and id_col in sample.columns
        else [str(int(p)) for p in pos]
    )
    frames = [sample.assign(**{"__stress_id": base_ids})]
    plan: list[tuple[str, int, str]] = []  # (test, sample row, edited text), in frame order
    for test in TESTS:
        for i, (text, lang) in enumerate(zip(texts, langs, strict=True)):
            new = test.perturb(text, lang)
            if new is not None and new != text:
                plan.append((test.name, i, new))
    if plan:
        edits = sample.iloc[[i for _, i, _ in plan]].reset_index(drop=True)
        edits[text_col] = [t for _, _, t in plan]
        edits["__stress_id"] = [f"{base_ids[i]}~{name}" for name, i, _ in plan]
        frames.append(edits)
    table = pd.concat(frames, ignore_index=True)
    progress = batch_progress(console)
    batch = EvalData(data.name, table, data.source)
    with eval_trainer(loaded, batch_size, progress) as trainer:
        rows = predict_frame(loaded, batch, trainer, progress, id_column="__stress_id").rows
    originals = rows[: len(sample)]
    edited: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
    for (name, i, new), row in zip(plan, rows[len(sample) :], strict=True):
        edited.setdefault(name, []).append((i, new, row))
    report = StressReport(
        run_dir, data.source, len(sample), seed, evaluate_edits(originals, edited, texts)
    )
    if write:
        from tuneproof import track

        rundir.write(run_dir, rundir.Stress.model_validate(report.to_dict()))
        rates = {f"stress/{t.name}/failure_rate": t.failure_rate for t in report.tests}
        report.tracking_note = track.update(
            run_dir,
            [run_dir / rundir.STRESS],
            metrics={k: v for k, v in rates.items() if v is not None},
        )
    return report
