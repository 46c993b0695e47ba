"""`tuneproof stress`: behaviour tests generated from the data, CheckList style.

Each test edits a sample of rows (Ribeiro et al. 2020, "Beyond Accuracy: Behavioral Testing of NLP
Models with CheckList") and compares the model's prediction before and after:

- **invariance** (the edit keeps the meaning, the label must not change): casing, whitespace,
  final punctuation, Unicode NFD ↔ NFC, a neutral emoji added, a person or place name swapped
  for another, and the multilingual edits of :mod:`tuneproof.evaluate.perturb`: diacritics
  stripped the way the language does it, non-Latin scripts transliterated, homoglyph script
  swaps, code-switching (a phrase in another language), keyboard typos of the language's layout,
  number and date formats. Failure: the predicted label changes.
- **directional** (the edit should move the prediction): a negation inserted after the first
  copula ("was" → "was not", "est" → "n'est pas", ...). Failure: the probability of the
  originally predicted label does not drop.

A test applies only to rows it can edit (no diacritics: nothing to strip), and reports its
failure rate over those rows with a 95 % Wilson interval, per language, and examples. All edits run in one
batched prediction pass. Every failing case can be kept as a regression suite (``--save-suite``,
one :class:`tuneproof.rundir.SuiteCase` per line) that ``tuneproof eval RUN --suite`` replays.
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
from tuneproof.evaluate import perturb
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
from tuneproof.stats import wilson

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
    StressTest("diacritics", "invariance", "diacritics stripped as the language does (é → e; German ä → ae, ß → ss)", perturb.strip_diacritics),
    StressTest("nfd_nfc", "invariance", "Unicode NFD instead of NFC (or back)", _nfd),
    StressTest("emoji", "invariance", "a neutral emoji appended", _emoji),
    StressTest("named_entities", "invariance", "a person or place name swapped for another", _entities),
    StressTest("transliteration", "invariance", "letters of non-Latin scripts romanised (anyascii: Привет → Privet)", perturb.transliterate),
    StressTest("homoglyphs", "invariance", "a letter in one word of ten swapped for its Cyrillic/Greek (or Latin) look-alike", perturb.homoglyphs),
    StressTest("code_switch", "invariance", "a phrase replaced by its English (French in English text) counterpart from the lexicon", perturb.code_switch),
    StressTest("keyboard_typos", "invariance", "a letter in one word of twenty replaced by a neighbouring key (QWERTY, AZERTY fr, QWERTZ de)", perturb.keyboard_typos),
    StressTest("number_format", "invariance", "numbers in the language's other format (1000 → 1.000 de / 1 000 fr; two → 2)", perturb.number_formats),
    StressTest("date_format", "invariance", "a date in another format (12.03.2020 → 12. März 2020; written → ISO)", perturb.date_formats),
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
    lang: str | None = None
    gold: str | None = None


@dataclass(frozen=True)
class LanguageRate:
    applicable: int
    failures: int
    failure_rate: float
    failure_ci: tuple[float, float]


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
    failure_ci: tuple[float, float] | None = None  # 95 % Wilson interval of the failure rate
    by_language: dict[str, LanguageRate] = field(default_factory=dict)
    failed: list[StressExample] = field(default_factory=list, repr=False)  # all, for a suite

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "failed"}
        out["examples"] = [asdict(e) for e in self.examples]
        out["failure_ci"] = list(self.failure_ci) if self.failure_ci else None
        out["by_language"] = {
            lang: {**asdict(r), "failure_ci": list(r.failure_ci)}
            for lang, r in self.by_language.items()
        }
        return out


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

    def suite_cases(self) -> list[rundir.SuiteCase]:
        """Every failing case as a regression-suite row (``--save-suite``)."""
        kinds = {t.name: t.kind for t in TESTS}
        return [
            rundir.SuiteCase(
                id=f"{ex.id}~{t.name}",
                row=ex.id,
                test=t.name,
                kind=kinds.get(t.name, t.kind),
                lang=ex.lang,
                source=self.data.path,
                original=ex.original,
                edited=ex.edited,
                gold=ex.gold,
                pred_before=ex.pred_before,
                p_before=ex.p_before,
                pred_after=ex.pred_after,
                p_after=ex.p_after,
                run=str(self.run_dir),
            )
            for t in self.tests
            for ex in t.failed
        ]


def sample_positions(n: int, limit: int, seed: int) -> np.ndarray:
    if limit >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def _p(row: dict[str, Any], label: str) -> float:
    return float((row.get("probabilities") or {}).get(label, 0.0))


def case_failed(kind: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Invariance: the predicted label changed. Directional: the probability of the originally
    predicted label did not drop. The one rule for stress and for replaying a suite."""
    label = str(before["pred"])
    if kind == "invariance":
        return str(after["pred"]) != label
    return _p(after, label) >= _p(before, label)


def _rate(failures: int, n: int) -> LanguageRate:
    return LanguageRate(n, failures, failures / n, wilson(failures, n))


def evaluate_edits(
    originals: list[dict[str, Any]],
    edited: dict[str, list[tuple[int, str, dict[str, Any]]]],
    texts: list[str],
    langs: list[str] | None = None,
    golds: list[str] | None = None,
) -> list[StressResult]:
    """Score each test from the original rows and the rows of the edited texts."""
    results = []
    for test in TESTS:
        items = edited.get(test.name, [])
        fails, flips, shifts = 0, 0, []
        failed: list[StressExample] = []
        per_lang: dict[str, list[int]] = {}
        for i, new_text, row in items:
            before = originals[i]
            label = str(before["pred"])
            p0, p1 = _p(before, label), _p(row, label)
            flipped = str(row["pred"]) != label
            is_fail = case_failed(test.kind, before, row)
            flips += flipped
            shifts.append(abs(p1 - p0))
            lang = langs[i] if langs else None
            if lang:
                per_lang.setdefault(lang, [0, 0])
                per_lang[lang][0] += 1
                per_lang[lang][1] += is_fail
            if is_fail:
                fails += 1
                failed.append(
                    StressExample(
                        str(before["id"]),
                        texts[i],
                        new_text,
                        label,
                        str(row["pred"]),
                        round(p0, 4),
                        round(p1, 4),
                        lang,
                        golds[i] if golds else None,
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
                failed[:N_EXAMPLES],
                wilson(fails, n) if n else None,
                {lang: _rate(f, m) for lang, (m, f) in sorted(per_lang.items())},
                failed,
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
    save_suite: str | Path | None = None,
    console: Console | None = None,
) -> StressReport:
    """Run every test on a seeded sample of ``limit`` rows; write ``stress.json`` in the run and,
    with ``save_suite``, every failing case as a regression suite (JSON lines)."""
    if limit < 1:
        raise UserError(f"--limit {limit}: must be at least 1")
    if save_suite is not None:
        from tuneproof import io

        io.ensure_writable(Path(save_suite).parent, what="--save-suite")
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
    label_col = config.data.label_column
    golds = [str(v) for v in sample[label_col].tolist()] if label_col in sample else None
    report = StressReport(
        run_dir,
        data.source,
        len(sample),
        seed,
        evaluate_edits(originals, edited, texts, langs, golds),
    )
    if save_suite is not None:
        rundir.write_suite(save_suite, report.suite_cases())
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
