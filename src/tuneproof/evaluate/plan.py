"""`tuneproof evalplan`: decide what a multilingual evaluation must contain before collecting it.

A plan lists the slices to report, how many examples each needs for a target interval, the
code-switching cases and tokenizer stress tests to write, the failure modes to look for, and —
given data — which slices the data already covers. ``tuneproof eval --plan`` reads it back: the
languages restrict language detection and every planned slice is checked against its minimum.

**Minimum examples per slice.** ``eval`` reports percentile bootstrap intervals, which for a
proportion behave like the normal approximation to the binomial, so the plan uses the same:
``n = ⌈z² · p(1 − p) / h²⌉`` for half-width ``h`` at confidence level ``1 − α`` (``z`` its
two-sided normal quantile) and expected accuracy ``p``; ``p = 0.5`` (the default) is the worst
case. ±0.10 at 95 % needs 97 examples, ±0.05 needs 385. Never fewer than ``metrics.MIN_N``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tuneproof.errors import UserError, did_you_mean
from tuneproof.evaluate.metrics import MIN_N
from tuneproof.tasks import TASKS
from tuneproof.tasks.base import EvalTemplate

PLAN_VERSION = 1


def templates() -> dict[str, EvalTemplate]:
    """``--task`` templates, as the task adapters declare them (``TaskAdapter.eval_templates``)."""
    return {t.name: t for task in TASKS.values() for t in task.eval_templates}


#: The dominant script of running text in each language (slices.py tags the same way).
LANGUAGE_SCRIPTS: dict[str, str] = {
    "ar": "Arabic", "fa": "Arabic", "ur": "Arabic", "hi": "Devanagari", "mr": "Devanagari",
    "ne": "Devanagari", "bn": "Bengali", "pa": "Gurmukhi", "gu": "Gujarati", "ta": "Tamil",
    "te": "Telugu", "kn": "Kannada", "ml": "Malayalam", "zh": "Han", "ja": "Hiragana",
    "ko": "Hangul", "ru": "Cyrillic", "uk": "Cyrillic", "bg": "Cyrillic", "sr": "Cyrillic",
    "mk": "Cyrillic", "be": "Cyrillic", "kk": "Cyrillic", "mn": "Cyrillic", "el": "Greek",
    "he": "Hebrew", "th": "Thai", "ka": "Georgian", "hy": "Armenian", "am": "Ethiopic",
}  # fmt: skip

#: One frame and two evaluative clauses per language, for code-switched sentiment cases.
PHRASES: dict[str, tuple[str, str, str]] = {
    "en": ("I watched it yesterday and", "it was wonderful", "it was terrible"),
    "fr": ("Je l'ai vu hier et", "c'était merveilleux", "c'était horrible"),
    "de": ("Ich habe ihn gestern gesehen und", "er war wunderbar", "er war schrecklich"),
    "nl": ("Ik heb hem gisteren gezien en", "hij was geweldig", "hij was verschrikkelijk"),
    "es": ("Lo vi ayer y", "fue maravilloso", "fue horrible"),
    "it": ("L'ho visto ieri e", "era meraviglioso", "era terribile"),
    "pt": ("Eu vi ontem e", "foi maravilhoso", "foi horrível"),
    "ru": ("Я посмотрел его вчера, и", "он был замечательный", "он был ужасный"),
    "tr": ("Dün izledim ve", "harikaydı", "berbattı"),
    "ar": ("شاهدته أمس و", "كان رائعًا", "كان فظيعًا"),
    "hi": ("मैंने इसे कल देखा और", "यह बहुत अच्छा था", "यह बहुत बुरा था"),
    "zh": ("我昨天看了，", "真的很精彩", "真的很糟糕"),
    "ja": ("昨日見ましたが、", "本当に素晴らしかった", "本当にひどかった"),
}

#: Built-in tokenizer stress cases (`tuneproof tokens stress`) worth running per script.
SCRIPT_STRESS: dict[str, tuple[str, ...]] = {
    "Han": ("chinese",),
    "Hiragana": ("japanese",),
    "Hangul": ("korean",),
    "Thai": ("thai",),
    "Arabic": ("arabic", "bidi"),
    "Hebrew": ("hebrew", "bidi"),
    "Devanagari": ("devanagari",),
    "Cyrillic": ("cyrillic",),
    "Greek": ("greek",),
}
ALWAYS_STRESS = ("nfc", "nfd", "zero-width", "emoji", "code-switching", "numbers", "url")


@dataclass(frozen=True)
class FailureMode:
    name: str
    description: str
    looks_like: str


FAILURE_MODES: tuple[FailureMode, ...] = (
    FailureMode(
        "language_gap",
        "a language slice scores far below the training language",
        "language=fr accuracy 0.55 [0.52, 0.58] while language=en is 0.80 [0.76, 0.84]",
    ),
    FailureMode(
        "script_coverage",
        "the tokenizer's vocabulary does not cover a script: UNK tokens or 3+ tokens per word",
        "high_unk / high_fertility failure categories concentrated in script=Arabic",
    ),
    FailureMode(
        "code_switching",
        "text mixing languages is handled as the matrix language only",
        "code_switching=yes scores below both of its languages",
    ),
    FailureMode(
        "negation_blindness",
        "the model keys on evaluative words and ignores their negation",
        "negation=yes slice below negation=no; `tuneproof stress` negation test fails",
    ),
    FailureMode(
        "truncation",
        "the evidence sits beyond max_length and is cut off",
        "truncated=yes error rate above the rest; long reviews judged by their first lines",
    ),
    FailureMode(
        "confident_wrong",
        "wrong with probability ≥ 0.9: label noise, spurious cues, out-of-distribution input",
        "confident_wrong examples that are mislabelled, or on topics absent from training",
    ),
    FailureMode(
        "surface_sensitivity",
        "predictions change under edits that keep the meaning (case, accents, NFD, emoji)",
        "`tuneproof stress` invariance failure rates above a few percent",
    ),
)


@dataclass(frozen=True)
class PlannedSlice:
    key: str  # name=value, as in metrics.json
    why: str
    min_examples: int
    current: int | None = None  # rows in the given data; None when not measured

    @property
    def covered(self) -> bool | None:
        return None if self.current is None else self.current >= self.min_examples

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "covered": self.covered}


@dataclass(frozen=True)
class CodeSwitchCase:
    languages: list[str]
    text: str
    expected: str | None
    what: str


@dataclass(frozen=True)
class StressItem:
    name: str
    kind: str  # "tokenizer" (tuneproof tokens stress) or "behaviour" (tuneproof stress)
    what: str
    example: str = ""


@dataclass
class EvalPlan:
    task: str
    languages: list[str]
    confidence: float
    half_width: float
    expected_accuracy: float
    min_examples: int
    slices: list[PlannedSlice]
    code_switching: list[CodeSwitchCase] = field(default_factory=list)
    stress_tests: list[StressItem] = field(default_factory=list)
    failure_modes: list[FailureMode] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)  # files the coverage was measured on

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": PLAN_VERSION,
            "task": self.task,
            "languages": self.languages,
            "target": {
                "confidence": self.confidence,
                "half_width": self.half_width,
                "expected_accuracy": self.expected_accuracy,
                "min_examples_per_slice": self.min_examples,
            },
            "slices": [s.to_dict() for s in self.slices],
            "code_switching": [asdict(c) for c in self.code_switching],
            "stress_tests": [asdict(s) for s in self.stress_tests],
            "failure_modes": [asdict(f) for f in self.failure_modes],
            "notes": self.notes,
            "coverage_data": self.data,
        }


def z_value(confidence: float) -> float:
    """Two-sided standard-normal quantile (1.96 for 95 %)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def min_examples(half_width: float, *, confidence: float = 0.95, p: float = 0.5) -> int:
    """Examples for a ``±half_width`` interval on a proportion near ``p`` (module docstring)."""
    if not 0 < half_width < 1:
        raise UserError(f"--width {half_width}: must be between 0 and 1 (e.g. 0.1 for ±10 points)")
    if not 0 < p < 1:
        raise UserError(f"expected accuracy {p}: must be strictly between 0 and 1")
    z = z_value(confidence)
    return max(MIN_N, math.ceil(z * z * p * (1 - p) / half_width**2 - 1e-9))


def parse_languages(text: str | Sequence[str]) -> list[str]:
    """``"en,fr, de"`` → ``["en", "fr", "de"]``; codes are checked against lingua's list."""
    from lingua import IsoCode639_1

    items = text.split(",") if isinstance(text, str) else list(text)
    langs = []
    for item in items:
        code = item.strip().lower()
        if not code:
            continue
        try:
            IsoCode639_1.from_str(code)
        except ValueError:
            raise UserError(
                f"--languages: '{code}' is not an ISO 639-1 code; use two-letter codes such as "
                "en, fr, de, ar, hi, zh"
            ) from None
        if code not in langs:
            langs.append(code)
    if not langs:
        raise UserError("--languages: no language given; e.g. --languages en,fr,de")
    return langs


def script_of_language(code: str) -> str:
    return LANGUAGE_SCRIPTS.get(code, "Latin")


#: Scripts a plan can add slices for beyond its languages' own (e.g. Latin for romanised Hindi).
KNOWN_SCRIPTS: tuple[str, ...] = tuple(sorted({*LANGUAGE_SCRIPTS.values(), "Latin", "Katakana"}))


def check_scripts(scripts: Sequence[str]) -> list[str]:
    """Script names as :func:`tuneproof.text.scripts.dominant_script` spells them."""
    by_lower = {s.lower(): s for s in KNOWN_SCRIPTS}
    out = []
    for name in scripts:
        found = by_lower.get(name.strip().lower())
        if found is None:
            raise UserError(
                f"--scripts: '{name}' is not a script name{did_you_mean(name, KNOWN_SCRIPTS)}; "
                f"use one of {', '.join(KNOWN_SCRIPTS)}"
            )
        if found not in out:
            out.append(found)
    return out


def check_failure_modes(names: Sequence[str]) -> list[FailureMode]:
    """The failure-mode categories named, in the catalogue's order."""
    by_name = {f.name: f for f in FAILURE_MODES}
    for name in names:
        if name not in by_name:
            raise UserError(
                f"--failure-modes: '{name}' is unknown{did_you_mean(name, by_name)}; use one of "
                f"{', '.join(by_name)}"
            )
    return [f for f in FAILURE_MODES if f.name in set(names)]


def planned_slices(
    task: str,
    languages: Sequence[str],
    n_min: int,
    *,
    scripts: Sequence[str] = (),
    code_switching: bool = True,
) -> list[PlannedSlice]:
    out = [PlannedSlice(f"language={lang}", "one slice per language", n_min) for lang in languages]
    own = list(dict.fromkeys(script_of_language(lang) for lang in languages))
    for script in own:
        langs = ", ".join(lang for lang in languages if script_of_language(lang) == script)
        out.append(PlannedSlice(f"script={script}", f"script of {langs}", n_min))
    for script in scripts:
        if script not in own:
            why = "chosen: text in this script (e.g. romanised or transliterated input)"
            out.append(PlannedSlice(f"script={script}", why, n_min))
    if code_switching and len(languages) > 1:
        out.append(PlannedSlice("code_switching=yes", "texts mixing languages or scripts", n_min))
    template = templates().get(task)
    if template is not None and template.negation:
        out.append(PlannedSlice("negation=yes", "negated statements", n_min))
    out.append(PlannedSlice("truncated=yes", "inputs longer than max_length", n_min))
    return out


def code_switch_cases(task: str, languages: Sequence[str]) -> list[CodeSwitchCase]:
    """Two cases per pair with the first language: its frame + the other's evaluation, and back."""
    if len(languages) < 2:
        return []
    base = languages[0]
    template = templates().get(task)
    cases = []
    for other in languages[1:]:
        for matrix, embedded, positive in ((base, other, True), (other, base, False)):
            frame = PHRASES.get(matrix)
            clause = PHRASES.get(embedded)
            if frame is None or clause is None:
                text = f"(write: a {matrix} sentence whose evaluative clause is in {embedded})"
            else:
                text = f"{frame[0]} {clause[1] if positive else clause[2]}"
            labels = template.expected_labels if template is not None else None
            expected = (labels[0] if positive else labels[1]) if labels else None
            cases.append(
                CodeSwitchCase(
                    [matrix, embedded],
                    text,
                    expected,
                    f"{matrix} frame, the part that decides the label in {embedded}",
                )
            )
    return cases


def stress_items(languages: Sequence[str]) -> list[StressItem]:
    from tuneproof.evaluate.stress import TESTS
    from tuneproof.tokens.stress import STRESS_CASES

    by_name = {c.name: c for c in STRESS_CASES}
    wanted: list[str] = []
    for lang in languages:
        wanted += SCRIPT_STRESS.get(script_of_language(lang), ())
    if {"de", "nl"} & set(languages):
        wanted.append("long-words")
    wanted += ALWAYS_STRESS
    items = [
        StressItem(
            name,
            "tokenizer",
            f"{by_name[name].probes} (`tuneproof tokens stress -t RUN/model`)",
            by_name[name].text,
        )
        for name in dict.fromkeys(wanted)
        if name in by_name
    ]
    items += [
        StressItem(t.name, "behaviour", f"{t.kind}: {t.description} (`tuneproof stress RUN`)")
        for t in TESTS
    ]
    return items


def coverage(
    data: Sequence[str | Path],
    *,
    text_column: str = "text",
    lang_column: str | None = None,
    languages: Sequence[str],
) -> Counter[str]:
    """Rows per slice key in the given files (length and truncation need a model: left out)."""
    from tuneproof.data.load import read_table, require_columns
    from tuneproof.evaluate.slices import SliceOptions, tag_rows

    counts: Counter[str] = Counter()
    for path in data:
        df = read_table(path)
        cols = [text_column] + ([lang_column] if lang_column else [])
        require_columns(df, cols, str(path), "--text-column / --lang-column")
        texts = [str(t) for t in df[text_column].tolist()]
        langs = [str(v) for v in df[lang_column].tolist()] if lang_column else None
        opts = SliceOptions(languages=tuple(languages))
        for tags in tag_rows(texts, languages=langs, options=opts):
            counts.update(f"{k}={v}" for k, v in tags.items())
    return counts


def build_plan(
    languages: Sequence[str],
    task: str = "sentiment",
    *,
    half_width: float = 0.1,
    confidence: float = 0.95,
    expected_accuracy: float = 0.5,
    data: Sequence[str | Path] = (),
    text_column: str = "text",
    lang_column: str | None = None,
    scripts: Sequence[str] = (),
    code_switching: bool = True,
    failure_modes: Sequence[str] | None = None,
) -> EvalPlan:
    """A plan for these languages and task; with ``data``, coverage per slice is measured.

    ``scripts`` adds script slices beyond the languages' own; ``code_switching=False`` drops the
    code-switching slice and cases; ``failure_modes`` keeps only those categories (None: all).
    """
    known = templates()
    if task not in known:
        raise UserError(
            f"--task '{task}': unknown{did_you_mean(task, known)}; use one of {', '.join(known)}"
        )
    if not 0.5 <= confidence < 1:
        raise UserError(f"confidence {confidence}: must be in [0.5, 1), e.g. 0.95")
    langs = parse_languages(languages)
    n_min = min_examples(half_width, confidence=confidence, p=expected_accuracy)
    chosen_scripts = check_scripts(scripts)
    modes = list(FAILURE_MODES) if failure_modes is None else check_failure_modes(failure_modes)
    slices = planned_slices(
        task, langs, n_min, scripts=chosen_scripts, code_switching=code_switching
    )
    if data:
        counts = coverage(data, text_column=text_column, lang_column=lang_column, languages=langs)
        slices = [PlannedSlice(s.key, s.why, s.min_examples, counts.get(s.key, 0)) for s in slices]
    return EvalPlan(
        task=task,
        languages=langs,
        confidence=confidence,
        half_width=half_width,
        expected_accuracy=expected_accuracy,
        min_examples=n_min,
        slices=slices,
        code_switching=code_switch_cases(task, langs) if code_switching else [],
        stress_tests=stress_items(langs),
        failure_modes=modes,
        notes=[known[task].note],
        data=[str(p) for p in data],
    )


def plan_yaml(plan: EvalPlan) -> str:
    """The plan as the YAML ``tuneproof evalplan -o`` writes and ``tuneproof eval --plan`` reads."""
    import yaml

    return yaml.safe_dump(plan.to_dict(), sort_keys=False, allow_unicode=True)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def plan_markdown(plan: EvalPlan) -> str:
    """The plan as a Markdown document for a PR or a design review."""
    langs = ", ".join(plan.languages)
    lines = [
        f"# Evaluation plan: {plan.task} in {langs}",
        "",
        f"Target: ±{plan.half_width:g} at {plan.confidence:.0%} confidence, expected accuracy "
        f"{plan.expected_accuracy:g} → **{plan.min_examples} examples per slice** "
        "(normal approximation to the binomial).",
        "",
        "## Slices",
        "",
        "| slice | needed | in data | why |",
        "| --- | ---: | ---: | --- |",
    ]
    for sl in plan.slices:
        have = "–" if sl.current is None else f"{sl.current:,}" + ("" if sl.covered else " (short)")
        lines.append(f"| `{sl.key}` | {sl.min_examples:,} | {have} | {_cell(sl.why)} |")
    if plan.data:
        lines += ["", "Coverage measured on: " + ", ".join(f"`{d}`" for d in plan.data)]
    if plan.code_switching:
        lines += ["", "## Code-switching cases", "", "| languages | text | expected | what |"]
        lines.append("| --- | --- | --- | --- |")
        for c in plan.code_switching:
            lines.append(
                f"| {'→'.join(c.languages)} | {_cell(c.text)} | {c.expected or '–'} | "
                f"{_cell(c.what)} |"
            )
    lines += ["", "## Stress tests", ""]
    lines += [f"- **{t.name}** ({t.kind}): {t.what}" for t in plan.stress_tests]
    if plan.failure_modes:
        lines += ["", "## Failure modes to look for", ""]
        lines += [
            f"- **{f.name}**: {f.description}. Looks like: {f.looks_like}"
            for f in plan.failure_modes
        ]
    if plan.notes:
        lines += ["", "## Notes", "", *[f"- {n}" for n in plan.notes]]
    lines += ["", "Run it with `tuneproof eval RUN --plan plan.yaml`.", ""]
    return "\n".join(lines)


def load_plan(path: str | Path) -> EvalPlan:
    """Read a plan written by ``evalplan`` (only what ``eval`` needs is validated strictly)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: plan file not found; write one with `tuneproof evalplan -o`")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not a readable YAML plan ({type(err).__name__})") from None
    if not isinstance(raw, dict) or raw.get("version") != PLAN_VERSION:
        raise UserError(f"{path}: not an evaluation plan (version {PLAN_VERSION}); see evalplan")
    try:
        target = raw["target"]
        slices = [
            PlannedSlice(str(s["key"]), str(s.get("why", "")), int(s["min_examples"]))
            for s in raw["slices"]
        ]
        return EvalPlan(
            task=str(raw["task"]),
            languages=[str(x) for x in raw["languages"]],
            confidence=float(target["confidence"]),
            half_width=float(target["half_width"]),
            expected_accuracy=float(target["expected_accuracy"]),
            min_examples=int(target["min_examples_per_slice"]),
            slices=slices,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise UserError(
            f"{path}: plan is missing or has a bad value for {err}; "
            "regenerate it with `tuneproof evalplan`"
        ) from None


@dataclass(frozen=True)
class PlanCheck:
    key: str
    min_examples: int
    n: int
    met: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_plan(plan: EvalPlan, slice_sizes: dict[str, int]) -> list[PlanCheck]:
    """Each planned slice against the evaluated data: enough rows for the target interval?"""
    return [
        PlanCheck(s.key, s.min_examples, slice_sizes.get(s.key, 0),
                  slice_sizes.get(s.key, 0) >= s.min_examples)
        for s in plan.slices
    ]  # fmt: skip
