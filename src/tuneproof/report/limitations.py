"""Draft the Limitations section from the evidence, so the author edits a list instead of
remembering one: small slices, languages the plan promised but the data lacks, unfixed data
errors, a single seed, CPU-only training, few steps, missing evaluations, regressions.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tuneproof.report.baseline import BaselineComparison
from tuneproof.report.bundle import RunEvidence, split_slice_key
from tuneproof.rundir import MetricBlock

MIN_STEPS = 100  # fewer optimizer steps than this: the curve has barely started
MIN_EVAL_ROWS = 200  # below this a 95 % interval on accuracy is wider than about ±7 points
WIDE_CI = 0.10  # headline interval wider than this (absolute) is called out
HIGH_STRESS_FAILURE = 0.10  # stress tests failing more often than this are listed
_LANG_CODE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class Limitation:
    """One drafted limitation: a stable ``kind`` (for tests and tooling), the sentence, and the
    file it was drawn from."""

    kind: str
    text: str
    source: str
    command: str | None = None  # the command that would close the gap, shown as code


def _list(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def draft_limitations(
    ev: RunEvidence, comparison: BaselineComparison | None = None
) -> tuple[Limitation, ...]:
    out: list[Limitation] = []
    m = ev.metrics
    plan = ev.plan_checks
    unmet = {c.key: c for c in plan if not c.met and c.n > 0}
    small = [(key, s) for key, s in m.slices.items() if s.small_n or key in unmet]
    small += [(f"ood:{name}", r.overall) for name, r in m.ood.items() if r.overall.small_n]
    if small:

        def why(key: str) -> str:
            c = unmet.get(key)
            return f", plan: {c.min_examples}" if c else ""

        out.append(
            Limitation(
                "small-slices",
                f"{len(small)} slice(s) have too few examples for their intervals to mean much: "
                f"{_list([f'{key} (n={s.n}{why(key)})' for key, s in small])}.",
                "metrics.json",
            )
        )

    empty = [c.key for c in plan if c.n == 0]
    empty_langs = [k.partition("=")[2] for k in empty if k.startswith("language=")]
    if empty_langs:
        out.append(
            Limitation(
                "languages-without-data",
                "The evaluation plan lists languages with no evaluation data, so nothing is "
                f"known about them: {_list(empty_langs)}.",
                "metrics.json",
            )
        )
    other_empty = [k for k in empty if not k.startswith("language=")]
    if other_empty:
        out.append(
            Limitation(
                "planned-slices-without-data",
                f"Planned slices with no evaluation data: {_list(other_empty)}.",
                "metrics.json",
            )
        )
    # languages measured anywhere: the headline's slices and the out-of-distribution files'
    blocks = [*m.slices.items(), *((k, b) for r in m.ood.values() for k, b in r.slices.items())]
    evaluated = {
        split_slice_key(key)[1]
        for key, s in blocks
        if split_slice_key(key)[0] == "language" and (s.n or 0) > 0
    }
    if len(evaluated) == 1 and not plan:
        out.append(
            Limitation(
                "one-language",
                f"Evaluated on one language only ({next(iter(evaluated))}); behaviour on any "
                "other language is unmeasured.",
                "metrics.json",
            )
        )

    gaps = measured_gaps(ev)
    if gaps:
        head = m.headline
        shown = _interval_text(head.value, head.ci) if head else "–"
        out.append(
            Limitation(
                "measured-gaps",
                f"Largest measured gaps against the headline {m.main_metric} {shown}: "
                + _list([g.text for g in gaps])
                + ".",
                "metrics.json",
            )
        )

    truncated = ev.failures.categories.get("truncated") if ev.failures else None
    if truncated is not None and truncated.rows:
        out.append(
            Limitation(
                "truncation",
                f"{truncated.rows:,} evaluated row(s) are longer than max_length and were cut "
                f"({truncated.errors:,} of them wrong): the model never saw their end.",
                "metrics.json",
            )
        )

    if not m.slices:
        out.append(
            Limitation(
                "no-slices",
                "metrics.json has no per-slice metrics, so failures hidden by the aggregate are "
                "not visible.",
                "metrics.json",
                f"tuneproof eval {ev.run_dir}",
            )
        )

    if ev.checks is None:
        out.append(
            Limitation(
                "no-checks",
                "No data-quality checks were recorded: duplicates, leakage and label noise are "
                "unknown.",
                "checks.json",
                f"tuneproof check CONFIG --output {ev.run_dir}",
            )
        )
    elif ev.checks.summary.errors:
        by_check = Counter(f.check for f in ev.checks.findings if f.severity == "error")
        listed = _list([f"{k} ×{v}" for k, v in by_check.most_common()])
        out.append(
            Limitation(
                "check-errors",
                f"Data checks found {ev.checks.summary.errors} error-level finding(s) ({listed}) that "
                "training went ahead with; the metrics may be inflated (leakage) or noisy.",
                "checks.json",
            )
        )

    # a run directory is one training run, so one seed: its run-to-run variance is unknown
    seed = ev.manifest.seed if ev.manifest else ev.config_value("training.seed")
    out.append(
        Limitation(
            "single-seed",
            f"One training seed only ({seed if seed is not None else 'unknown'}): run-to-run "
            "variance is not measured, and differences smaller than it may not be real.",
            "manifest.json",
        )
    )

    if ev.manifest and ev.manifest.hardware.cpu_only:
        cores = ev.manifest.hardware.cpu_count
        out.append(
            Limitation(
                "cpu-only",
                f"Trained on CPU only ({cores or '?'} cores): throughput figures do not transfer "
                "to GPUs, and mixed precision was not exercised.",
                "manifest.json",
            )
        )

    steps = ev.training.global_step
    if steps is not None and steps < MIN_STEPS:
        out.append(
            Limitation(
                "few-steps",
                f"Only {steps} optimizer steps ({ev.training.epochs or 0:.2g} epochs): the model "
                "may be far from converged.",
                "metrics.json",
            )
        )

    head = m.headline
    n = m.overall.n
    if n is not None and n < MIN_EVAL_ROWS:
        out.append(
            Limitation(
                "small-eval-set",
                f"The {m.split} split has {n} rows; intervals are wide and small differences "
                "are noise.",
                "metrics.json",
            )
        )
    elif head and head.ci and head.ci[1] - head.ci[0] > WIDE_CI:
        out.append(
            Limitation(
                "wide-interval",
                f"The {m.main_metric} interval is {head.ci[1] - head.ci[0]:.2f} wide.",
                "metrics.json",
            )
        )
    if head is not None and head.ci is None:
        out.append(
            Limitation(
                "no-interval",
                f"The headline {m.main_metric} has no confidence interval.",
                "metrics.json",
                f"tuneproof eval {ev.run_dir}",
            )
        )

    if ev.stress is None:
        out.append(
            Limitation(
                "no-stress-tests",
                "No behaviour (stress) tests were run: robustness to casing, punctuation, "
                "negation and the like is unmeasured.",
                "stress.json",
                f"tuneproof stress {ev.run_dir} --data FILE",
            )
        )
    else:
        bad = [
            t
            for t in ev.stress.tests
            if t.failure_rate is not None and t.failure_rate > HIGH_STRESS_FAILURE
        ]
        if bad:
            out.append(
                Limitation(
                    "stress-failures",
                    "Behaviour tests fail often: "
                    + _list([f"{t.name} {t.failure_rate:.0%}" for t in bad if t.failure_rate])
                    + ".",
                    "stress.json",
                )
            )

    if ev.manifest and ev.manifest.git.dirty:
        out.append(
            Limitation(
                "uncommitted-code",
                "The code had uncommitted changes when the run started; its git commit alone "
                "does not reproduce it.",
                "manifest.json",
            )
        )
    if ev.manifest and ev.manifest.status != "complete":
        out.append(
            Limitation(
                "incomplete-run",
                f"manifest.json says the run is '{ev.manifest.status}', not complete.",
                "manifest.json",
            )
        )
    if comparison is not None and comparison.regressions:
        out.append(
            Limitation(
                "regressions",
                "Regressed against the baseline on "
                + _list([v.key for v in comparison.regressions])
                + ".",
                "predictions.jsonl",
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Gap:
    """A slice or out-of-distribution file that measurably falls short of the headline."""

    key: str  # "language=fr", or "ood:polarity-fr/test.csv"
    value: float
    ci: tuple[float, float] | None
    below: bool  # its interval lies entirely below the headline's
    chance: float | None  # the chance level its interval includes (near chance), else None

    @property
    def text(self) -> str:
        why = []
        if self.below:
            why.append("interval below the headline's")
        if self.chance is not None:
            why.append(f"near chance: the interval includes {self.chance:.3f}")
        return f"{self.key} {_interval_text(self.value, self.ci)} ({'; '.join(why)})"


def _interval_text(value: float, ci: tuple[float, float] | None) -> str:
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{value:.3f}"


def _chance(main: str, block: MetricBlock) -> float | None:
    """The score of a no-skill model on this block: the majority-class rate for accuracy (1/k
    when the class counts are unknown)."""
    if main != "accuracy":
        return None
    if block.majority is not None:
        return block.majority
    return 1.0 / block.n_classes if block.n_classes else None


def measured_gaps(ev: RunEvidence, limit: int = 6) -> tuple[Gap, ...]:
    """Slices (in-distribution and of each out-of-distribution file) and OOD files whose interval
    lies below the headline's, or includes chance; the largest shortfall first. Small-n blocks
    are left out (their intervals mean little; the ``small-slices`` limitation lists them)."""
    m = ev.metrics
    head = m.headline
    if head is None:
        return ()
    blocks: list[tuple[str, MetricBlock]] = list(m.slices.items())
    for name, r in m.ood.items():
        blocks.append((f"ood:{name}", r.overall))
        blocks += [(f"ood:{name} {k}", b) for k, b in r.slices.items()]
    gaps = []
    for key, block in blocks:
        v = block.get(m.main_metric)
        if v is None or v.ci is None or block.small_n:  # small slices: listed on their own
            continue
        below = head.ci is not None and v.ci[1] < head.ci[0]
        chance = _chance(m.main_metric, block)
        near = chance is not None and v.ci[0] <= chance + 1e-12
        if below or near:
            gaps.append(Gap(key, v.value, v.ci, below, chance if near else None))
    gaps.sort(key=lambda g: g.value)
    return tuple(gaps[:limit])


def evaluated_languages(ev: RunEvidence) -> tuple[str, ...]:
    """ISO codes of the in-distribution language slices that have rows, the largest first."""
    langs = [
        (split_slice_key(key)[1], s.n or 0)
        for key, s in ev.metrics.slices.items()
        if split_slice_key(key)[0] == "language" and (s.n or 0) > 0
    ]
    langs.sort(key=lambda ln: -ln[1])
    return tuple(lang for lang, _ in langs if _LANG_CODE.match(lang))


TRAIN_SAMPLE = 200  # train texts lingua reads when nothing else says the training languages
MIN_LANGUAGE_SHARE = 0.05  # a detected language below this share of the sample is noise


def _train_file(ev: RunEvidence) -> Path | None:
    """The run's train file, when it is local and still the bytes the run trained on."""
    ref = ev.manifest.data.get("train") if ev.manifest else None
    if ref is None or not ref.path or "#" in ref.path or ref.path.startswith("hf:"):
        return None
    path = Path(ref.path)
    if not path.is_absolute() and ev.manifest and ev.manifest.cwd:
        path = Path(ev.manifest.cwd) / path
    if not path.is_file():
        return None
    from tuneproof.data.load import sha256_file

    return path if ref.sha256 is None or sha256_file(path) == ref.sha256 else None


def training_languages(ev: RunEvidence) -> tuple[str, ...]:
    """ISO codes of the languages the model was trained on, the most frequent first: the train
    split's language column when the config names one, else the language slices of the
    in-distribution evaluation, else lingua over a sample of train texts. Languages only
    evaluated (out-of-distribution files) are never training languages."""
    column = ev.config_value("data.lang_column")
    train = _train_file(ev)
    if column and train is not None:
        from tuneproof.data.load import read_table

        df = read_table(train)
        if column in df.columns:
            counts = Counter(str(v) for v in df[column].tolist() if v == v and v is not None)
            return tuple(c for c, _ in counts.most_common() if _LANG_CODE.match(c))
    evaluated = evaluated_languages(ev)
    if evaluated:
        return evaluated
    text_column = ev.config_value("data.text_column") or "text"
    if train is None:
        return ()
    from tuneproof.data.load import read_table
    from tuneproof.evaluate.slices import DEFAULT_LANGUAGES, detect_languages

    df = read_table(train)
    if text_column not in df.columns:
        return ()
    texts = [str(t) for t in df[text_column].tolist() if isinstance(t, str)]
    sample = texts[:: max(1, len(texts) // TRAIN_SAMPLE)][:TRAIN_SAMPLE]
    counts = Counter(detect_languages(sample, DEFAULT_LANGUAGES)) if sample else Counter()
    return tuple(
        c
        for c, k in counts.most_common()
        if _LANG_CODE.match(c) and k >= MIN_LANGUAGE_SHARE * len(sample)
    )
