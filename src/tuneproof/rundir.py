"""One schema per run-directory file, shared by the code that writes it and the code that reads it.

Every file of the run-directory contract (docs/architecture.md) is a pydantic model here with a
``version``. Writers build the model and call :func:`write`; readers call :func:`read` (or the
``read_*`` shorthands), which refuse a file of an unknown or newer version, or one that is not
valid JSON/YAML or does not match the schema, with one line naming the file; nothing is ever
rewritten by a failed read. Because both sides use the same classes, a field cannot be renamed on
one side only, and the report, ``compare``, ``eval`` and the web app all see the same facts.

A ``MetricBlock`` (the overall metrics, one slice, one evaluation) keeps its metrics as extra
fields (``accuracy``, ``accuracy_ci``, ``f1``, ...) because the metric names belong to the task;
the bookkeeping fields (``n``, ``small_n``) are declared.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tuneproof import io
from tuneproof.config import RunConfig, format_validation_error
from tuneproof.errors import UserError

# --- files and the command that writes each (shown when a file is absent) ----------------------

CONFIG = "config.yaml"
MANIFEST = "manifest.json"
METRICS = "metrics.json"
PREDICTIONS = "predictions.jsonl"
CHECKS = "checks.json"
EVAL_CHECKS = "eval_checks.json"
STRESS = "stress.json"
LINT = "lint.json"
EXPORT = "export.json"
DEPLOY = "deploy.json"
PLAN = "plan.md"
PLAN_JSON = "plan.json"
MODEL = "model"
PROGRESS = "progress.json"
NOTES = "notes.json"
HUMANEVAL = "humaneval.json"
HUMANEVAL_KEY = "humaneval_key.json"
SLICES_FOUND = "slices_found.json"
BASELINES = "baselines.json"
SWEEP = "sweep.json"
SUITE_RESULTS = "suite.json"

PRODUCERS: dict[str, str] = {
    CONFIG: "tuneproof train CONFIG -o RUN",
    MANIFEST: "tuneproof train CONFIG -o RUN",
    METRICS: "tuneproof train CONFIG -o RUN",
    PREDICTIONS: "tuneproof eval RUN",
    CHECKS: "tuneproof check CONFIG --output RUN",
    EVAL_CHECKS: "tuneproof eval RUN",
    STRESS: "tuneproof stress RUN --data FILE",
    LINT: "tuneproof train CONFIG -o RUN",
    EXPORT: "tuneproof export RUN",
    DEPLOY: "tuneproof bench RUN",
    PLAN: "tuneproof plan ... -o RUN (before training)",
    PLAN_JSON: "tuneproof plan ... -o RUN (before training)",
    MODEL: "tuneproof train CONFIG -o RUN",
    PROGRESS: "tuneproof train CONFIG -o RUN",
    NOTES: "the PR evidence builder of `tuneproof ui`",
    HUMANEVAL: "tuneproof humaneval import RUN RUN/humaneval/ratings/*.csv",
    HUMANEVAL_KEY: "tuneproof humaneval export RUN",
    SLICES_FOUND: "tuneproof slices find RUN",
    BASELINES: "tuneproof baseline RUN",
    SWEEP: "tuneproof sweep CONFIG -o SWEEP",
    SUITE_RESULTS: "tuneproof eval RUN --suite SUITE.jsonl",
}


class _Record(BaseModel):
    """A nested part of a file: unknown keys are errors, so writer and reader cannot drift."""

    model_config = ConfigDict(extra="forbid")


class RunFile(_Record):
    """A top-level run-directory file: its name and the newest version this code reads."""

    FILE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    version: int = 1


# --- metrics.json ------------------------------------------------------------------------------

Number = float | int


@dataclass(frozen=True)
class MetricValue:
    """One metric of a block; ``ci`` is its 95 % bootstrap interval when one was computed."""

    name: str
    value: float
    ci: tuple[float, float] | None = None


class MetricBlock(BaseModel):
    """Metrics of a set of rows (``n`` of them); ``<metric>_ci`` holds a metric's interval.

    ``note`` says why a metric is missing (e.g. a single class, so no macro-F1 interval).
    """

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Number | list[Number] | None] = Field(init=False)

    n: int | None = None
    small_n: bool = False
    note: str | None = None
    #: share of the most frequent gold label (single-label tasks): the accuracy of always
    #: predicting it, the "chance" a slice is compared against
    majority: float | None = None
    n_classes: int | None = None

    def values(self) -> tuple[MetricValue, ...]:
        """The numeric metrics, in the order they were written, each with its interval."""
        extra = self.__pydantic_extra__ or {}
        out = []
        for key, raw in extra.items():
            if key.endswith("_ci") or not _is_number(raw):
                continue
            out.append(MetricValue(key, float(raw), _interval(extra.get(f"{key}_ci"))))  # type: ignore[arg-type]
        return tuple(out)

    def get(self, name: str) -> MetricValue | None:
        return next((m for m in self.values() if m.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)


def _interval(v: Any) -> tuple[float, float] | None:
    if isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v):
        return (float(v[0]), float(v[1]))
    return None


class ProgressiveInfo(BaseModel):
    """The unfreezing schedule a ``progressive`` run followed (``train/progressive.py``)."""

    model_config = ConfigDict(extra="allow")


class TrainingInfo(_Record):
    global_step: int | None = None
    epochs: float | None = None
    train_loss: float | None = None
    best_checkpoint: str | None = None
    best_metric: float | None = None
    kind: str | None = None  # the strategy
    trainable_params: int | None = None
    total_params: int | None = None
    trainable_percent: float | None = None
    detail: str | None = None
    progressive: ProgressiveInfo | None = None


class DataRef(_Record):
    """A data file as fingerprinted: enough to check the same bytes were used."""

    path: str | None = None
    sha256: str | None = None
    rows: int | None = None
    name: str | None = None  # eval files: the name rows are tagged with (``source``)


class FailureCategory(_Record):
    name: str
    description: str = ""
    rows: int | None = None
    errors: int = 0
    error_rate: float | None = None
    error_rate_without: float | None = None
    share_of_errors: float | None = None
    examples: list[dict[str, Any]] = Field(default_factory=list)


class Confusion(_Record):
    labels: list[str]
    matrix: list[list[int]]  # rows: gold, columns: pred


class Failures(_Record):
    n_rows: int | None = None
    n_errors: int | None = None
    categories: dict[str, FailureCategory] = Field(default_factory=dict)
    confusion: dict[str, Confusion] = Field(default_factory=dict)
    note: str = ""


class LanguageSource(BaseModel):
    """Where the ``language`` slice came from (a column, or ``lingua`` over these languages)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    source: str | None = Field(None, alias="from")
    languages: list[str] = Field(default_factory=list)
    column: str | None = None


class PlanCheckRecord(_Record):
    """A slice of the evaluation plan against the evaluated data (``eval --plan``)."""

    key: str
    min_examples: int
    n: int
    met: bool


class EvalInfo(BaseModel):
    """How ``tuneproof eval`` measured: the files, the resampling, the failure analysis."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    data: list[DataRef] = Field(default_factory=list)
    seed: int | None = None
    n_resamples: int | None = None
    confidence: float | None = None
    resampling: dict[str, str] = Field(default_factory=dict)
    language: LanguageSource | None = None
    failures: Failures | None = None
    plan: list[PlanCheckRecord] | None = None


class OodResult(_Record):
    """An evaluation on a file from another distribution (another language, another source):
    reported by name beside the headline, never pooled into it."""

    data: DataRef
    overall: MetricBlock
    slices: dict[str, MetricBlock] = Field(default_factory=dict)


class SeedRun(_Record):
    """One seed of a multi-seed run: where its complete run directory is (relative to the
    top-level run; ``.`` for the first seed, which *is* the top-level run) and its results."""

    seed: int
    path: str
    overall: MetricBlock
    validation: dict[str, Number | None] = Field(default_factory=dict)


class SeedStat(_Record):
    """One metric across seeds: the mean, the sample standard deviation (n − 1) and a
    Student-t interval of the mean (None with a single seed)."""

    n: int
    mean: float
    std: float | None = None
    interval: list[float] | None = None
    values: list[float] = Field(default_factory=list)


class SeedSpread(_Record):
    """``train --seeds``: the same config trained once per seed (docs/training.md)."""

    confidence: float = 0.95
    method: str = "mean of the seeds' test metrics; sample std; Student-t interval of the mean"
    runs: list[SeedRun] = Field(default_factory=list)
    #: per metric of ``overall`` (test split) and ``validation.<metric>``
    stats: dict[str, SeedStat] = Field(default_factory=dict)


class Metrics(RunFile):
    """``metrics.json``: the evaluation of a run (train writes it, eval rewrites its evaluation).

    ``overall`` (the headline) and ``slices`` cover the in-distribution rows only: the run's own
    test (or validation) split, or files the user declared in-distribution. Every other
    evaluated file is one entry of ``ood``. Version 1 files without ``ood`` read as they are.
    Timings are kept out (``manifest.json``) so the file is byte-reproducible.
    """

    FILE: ClassVar[str] = METRICS

    task: str
    main_metric: str
    split: str
    overall: MetricBlock
    validation: dict[str, Number | None] = Field(default_factory=dict)
    training: TrainingInfo | None = None
    history: list[dict[str, Number | str | None]] = Field(default_factory=list)
    slices: dict[str, MetricBlock] = Field(default_factory=dict)
    ood: dict[str, OodResult] = Field(default_factory=dict)
    eval: EvalInfo | None = None
    #: ``train --seeds``: every seed's results and their spread; None for a one-seed run
    seeds: SeedSpread | None = None

    @property
    def headline(self) -> MetricValue | None:
        return self.overall.get(self.main_metric)

    @property
    def seed_stat(self) -> SeedStat | None:
        """The main metric across seeds (None unless the run has at least two seeds)."""
        if self.seeds is None or len(self.seeds.runs) < 2:
            return None
        return self.seeds.stats.get(self.main_metric)


# --- manifest.json -----------------------------------------------------------------------------


class GitState(_Record):
    commit: str | None = None
    dirty: bool | None = None


class Hardware(_Record):
    platform: str | None = None
    machine: str | None = None
    cpu_count: int | None = None
    torch_threads: int | None = None
    cuda: bool | None = None
    gpus: list[str] = Field(default_factory=list)

    @property
    def cpu_only(self) -> bool:
        return self.cuda is False and not self.gpus


class Tracking(_Record):
    uri: str | None = None
    run_id: str | None = None


class Resources(_Record):
    """What the run measured of itself, beside what the planner estimated."""

    peak_memory_bytes: int | None = None
    peak_memory_kind: Literal["cuda", "rss"] | None = None
    tokens_per_second: float | None = None
    train_tokens: int | None = None
    # the planner's estimate for this config (tuneproof.plan.estimate), or why there is none
    estimated_peak_bytes: int | None = None
    estimate_note: str | None = None


Status = Literal["running", "complete", "failed"]


class Manifest(RunFile):
    """``manifest.json``: enough about a run to re-run it and to trust it is the same run."""

    FILE: ClassVar[str] = MANIFEST

    status: Status = "running"
    reason: str | None = None  # why a failed run failed
    versions: dict[str, str | None] = Field(default_factory=dict)
    git: GitState = Field(default_factory=GitState)
    data: dict[str, DataRef] = Field(default_factory=dict)
    model: str | None = None
    seed: int | None = None
    hardware: Hardware = Field(default_factory=Hardware)
    command: list[str] = Field(default_factory=list)
    cwd: str | None = None
    started: str | None = None
    ended: str | None = None
    resumed_from: str | None = None
    timing: dict[str, float] = Field(default_factory=dict)
    resources: Resources | None = None
    tracking: Tracking | None = None
    #: processes that trained the run together (torchrun / accelerate launch); None: one
    world_size: int | None = None
    #: ``train --seeds``: every seed trained for this run directory (the first is this run)
    seeds: list[int] = Field(default_factory=list)


# --- predictions.jsonl -------------------------------------------------------------------------


class TokenInfo(_Record):
    n: int | None = None
    unk: int | None = None
    fertility: float | None = None
    per_char: bool | None = None


class PredictionRow(BaseModel):
    """One evaluated example. ``gold``/``pred`` keep the task's JSON type (a label, a tag list,
    an answer span, a generated text, a score); task-specific inputs (``question``, ``context``,
    ``tokens`` (token classification's words), ``text_pair``, ...) are kept as extra fields."""

    model_config = ConfigDict(extra="allow")

    id: str
    source: str = ""
    text: Any = None
    gold: Any = None
    pred: Any = None
    score: float | None = None
    probabilities: dict[str, float] | None = None
    slices: dict[str, str] = Field(default_factory=dict)
    #: False for a row of an out-of-distribution file (``metrics.json`` ``ood``); None (train's
    #: rows, older files) counts as in-distribution
    in_distribution: bool | None = None
    # how the model's tokenizer saw the input (eval); ``tokens`` is a task input (word lists)
    token_stats: TokenInfo | None = None

    @property
    def correct(self) -> bool:
        return bool(self.gold == self.pred)

    @property
    def key(self) -> tuple[str, str]:
        """Ids are unique per eval file, so rows are matched on (source, id)."""
        return (self.source, self.id)

    @property
    def display_text(self) -> str:
        """The input as one string (token lists joined, QA question + context)."""
        if isinstance(self.text, str):
            return self.text
        if isinstance(self.text, list):
            return " ".join(map(str, self.text))
        extra = self.__pydantic_extra__ or {}
        for key in ("question", "context", "input"):
            if isinstance(extra.get(key), str):
                return str(extra[key])
        return "" if self.text is None else json.dumps(self.text, ensure_ascii=False)


# --- checks.json -------------------------------------------------------------------------------


class RelatedRow(_Record):
    split: str
    row: str


class Finding(_Record):
    check: str
    severity: Literal["error", "warning", "info"]
    split: str
    rows: list[str] = Field(default_factory=list)
    related: list[RelatedRow] = Field(default_factory=list)
    score: float | None = None
    detail: str = ""
    #: label_issue: the given label and the one the out-of-fold model suggests
    label: str | None = None
    suggested: str | None = None


class ChecksSummary(_Record):
    errors: int = 0
    warnings: int = 0
    info: int = 0


class Checks(RunFile):
    """``checks.json``: data-quality findings (docs/checks.md)."""

    FILE: ClassVar[str] = CHECKS

    dataset: dict[str, DataRef] = Field(default_factory=dict)
    summary: ChecksSummary = Field(default_factory=ChecksSummary)
    findings: list[Finding] = Field(default_factory=list)


class EvalChecks(RunFile):
    """``eval_checks.json``: the data checks on the files ``tuneproof eval`` evaluated.

    Evaluation data is data too: exact duplicates inside an evaluated file, rows copying the run's
    train split (``leakage``, against ``train``) and empty texts. ``dataset`` holds the evaluated
    files by the name their rows are tagged with (``source``); ``note`` says why the train split
    could not be compared (then there are no leakage findings).
    """

    FILE: ClassVar[str] = EVAL_CHECKS

    train: DataRef | None = None
    dataset: dict[str, DataRef] = Field(default_factory=dict)
    checks_run: list[str] = Field(default_factory=list)
    summary: ChecksSummary = Field(default_factory=ChecksSummary)
    findings: list[Finding] = Field(default_factory=list)
    note: str | None = None

    def duplicate_rows(self, split: str) -> int:
        """Rows of ``split`` that repeat an earlier row's text (group size − 1, summed)."""
        return sum(
            len(f.rows) - 1
            for f in self.findings
            if f.check == "exact_duplicate" and f.split == split
        )


# --- stress.json -------------------------------------------------------------------------------


class StressExample(BaseModel):
    model_config = ConfigDict(extra="allow")
    original: str = ""
    edited: str = ""
    pred_before: Any = None
    pred_after: Any = None


class StressLanguage(_Record):
    applicable: int
    failures: int
    failure_rate: float
    failure_ci: tuple[float, float]


class StressTest(_Record):
    name: str
    kind: str = ""
    description: str = ""
    applicable: int | None = None
    failures: int | None = None
    failure_rate: float | None = None
    flipped: int | None = None
    mean_abs_shift: float | None = None
    examples: list[StressExample] = Field(default_factory=list)
    failure_ci: tuple[float, float] | None = None  # 95 % Wilson interval
    by_language: dict[str, StressLanguage] = Field(default_factory=dict)


class Stress(RunFile):
    """``stress.json``: behaviour-test failure rates (``tuneproof stress``)."""

    FILE: ClassVar[str] = STRESS

    run: str | None = None
    data: DataRef | None = None
    n_rows: int | None = None
    seed: int | None = None
    tests: list[StressTest] = Field(default_factory=list)


# --- regression suites (`stress --save-suite`, `eval --suite`) --------------------------------


class SuiteCase(_Record):
    """One line of a regression suite: a stress case that failed, to be replayed on any run.

    ``kind`` is the rule (invariance: the prediction of ``edited`` must equal that of
    ``original``; directional: the probability of the original's predicted label must drop);
    ``pred_*``/``p_*`` are what the run that saved it predicted, for reference only.
    """

    VERSION: ClassVar[int] = 1

    version: int = 1
    id: str  # "<row>~<test>": unique in a suite, how results are matched across runs
    row: str
    test: str
    kind: Literal["invariance", "directional"]
    lang: str | None = None
    source: str | None = None
    original: str
    edited: str
    gold: str | None = None
    pred_before: str | None = None
    p_before: float | None = None
    pred_after: str | None = None
    p_after: float | None = None
    run: str | None = None


class SuiteOutcome(_Record):
    id: str
    test: str
    kind: str
    lang: str | None = None
    passed: bool
    pred_original: str
    pred_edited: str
    p_original: float  # probability of pred_original, on the original and the edited text
    p_edited: float


class SuiteResults(RunFile):
    """``suite.json``: a regression suite replayed on the run (``tuneproof eval RUN --suite``)."""

    FILE: ClassVar[str] = SUITE_RESULTS

    suite: str
    suite_sha256: str
    n_cases: int
    passed: int
    failed: int
    cases: list[SuiteOutcome] = Field(default_factory=list)


def read_suite(path: str | Path) -> list[SuiteCase]:
    """A suite file: one :class:`SuiteCase` per line; a bad line is a UserError naming it."""
    path = Path(path)
    if not path.exists():
        raise UserError(
            f"{path}: not found; write one with `tuneproof stress RUN --save-suite {path}`"
        )
    cases: list[SuiteCase] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as err:
                raise UserError(f"{path}: line {lineno} is not valid JSON ({err.msg})") from None
            if not isinstance(raw, dict):
                raise UserError(f"{path}: line {lineno}: expected a JSON object (a suite case)")
            version = raw.get("version", 1)
            if not isinstance(version, int) or version > SuiteCase.VERSION:
                raise UserError(
                    f"{path}: line {lineno}: suite version {version!r} is newer than this "
                    f"tuneproof reads (up to {SuiteCase.VERSION}); upgrade tuneproof"
                )
            try:
                case = SuiteCase.model_validate(raw)
            except ValidationError as err:
                e = err.errors()[0]
                where = ".".join(str(p) for p in e["loc"]) or "(row)"
                raise UserError(
                    f"{path}: line {lineno}: {where}: {e['msg']}; re-save the suite with "
                    "`tuneproof stress RUN --save-suite FILE`"
                ) from None
            if case.id in seen:
                raise UserError(f"{path}: line {lineno}: case id '{case.id}' appears twice")
            seen.add(case.id)
            cases.append(case)
    if not cases:
        raise UserError(f"{path}: no cases; the suite is empty")
    return cases


def write_suite(path: str | Path, cases: Iterable[SuiteCase]) -> Path:
    return io.write_jsonl(Path(path), [c.model_dump(mode="json", exclude_none=True) for c in cases])


# --- label review (`check --review`, `data apply-review`) -------------------------------------

REVIEW_COLUMNS = ("split", "row", "text", "label", "suggested", "score", "evidence", "decision")
REVIEW_DECISIONS = ("accept", "reject", "")


class ReviewRow(_Record):
    """One suspected label issue in a review file (CSV, columns :data:`REVIEW_COLUMNS`).

    A reviewer sets ``decision`` to ``accept`` (the row's label becomes ``suggested``), ``reject``
    (the label stays) or leaves it empty (undecided, unchanged). ``text`` and ``label`` are the
    row as the check saw it: applying a review refuses a row whose data changed since.
    """

    split: str
    row: str
    text: str
    label: str
    suggested: str
    score: float
    evidence: str = ""
    decision: Literal["accept", "reject", ""] = ""


class ReviewSource(_Record):
    """Where each split of a review came from (``<review>.json`` beside the CSV)."""

    path: str
    sha256: str
    rows: int


class ReviewManifest(RunFile):
    """``<review>.json``: the files and columns the review's rows refer to, so applying it
    finds the data and knows it has not changed."""

    FILE: ClassVar[str] = "review.json"

    text_column: str
    label_column: str
    id_column: str | None = None
    sources: dict[str, ReviewSource] = Field(default_factory=dict)


class ReviewChange(_Record):
    split: str
    row: str
    text: str
    label_before: str
    label_after: str
    score: float | None = None


class ReviewApplied(RunFile):
    """``changelog.json`` of a dataset written by ``tuneproof data apply-review``."""

    FILE: ClassVar[str] = "changelog.json"

    review: str
    review_sha256: str
    accepted: int
    rejected: int
    undecided: int
    files: dict[str, ReviewSource] = Field(default_factory=dict)  # the written files
    changes: list[ReviewChange] = Field(default_factory=list)


# --- lint.json ---------------------------------------------------------------------------------


class LintFinding(_Record):
    severity: str
    argument: str | None = None
    message: str
    fix: str | None = None


class Lint(RunFile):
    """``lint.json``: the TrainingArguments linter on the arguments the run trained with."""

    FILE: ClassVar[str] = LINT

    findings: list[LintFinding] = Field(default_factory=list)


# --- export.json, deploy.json ----------------------------------------------------------------


class Parity(_Record):
    """An export against the PyTorch model on the run's test rows."""

    max_abs_logit_diff: float
    label_agreement: float
    n: int  # labels compared (rows; words for token classification)


class ExportArtifact(_Record):
    format: str  # safetensors-merged | onnx | onnx-int8 | pytorch-int8
    path: str  # relative to the run directory when inside it
    bytes: int | None = None  # the weights only
    files: list[str] = Field(default_factory=list)
    parity: Parity | None = None
    note: str | None = None


class Export(RunFile):
    """``export.json``: every export of the run, with its parity check and the versions used."""

    FILE: ClassVar[str] = EXPORT

    task: str | None = None
    artifacts: list[ExportArtifact] = Field(default_factory=list)
    versions: dict[str, str | None] = Field(default_factory=dict)

    def artifact(self, fmt: str) -> ExportArtifact | None:
        return next((a for a in self.artifacts if a.format == fmt), None)


class BenchRow(_Record):
    """One engine of ``tuneproof bench``: size, speed and accuracy on the same test rows."""

    name: str
    bytes: int | None = None
    load_seconds: float
    latency_p50_ms: float
    latency_p95_ms: float
    throughput_per_s: float
    batch: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    n: int


class Deploy(RunFile):
    """``deploy.json``: the accuracy-vs-speed table of ``tuneproof bench``."""

    FILE: ClassVar[str] = DEPLOY

    machine: str
    cpu_count: int | None = None
    threads: int
    repeats: int
    rows: list[BenchRow] = Field(default_factory=list)


# --- progress.json -----------------------------------------------------------------------------


class Progress(RunFile):
    """``progress.json``: where a training run is, rewritten (atomically) as it trains.

    The web app streams it to the run page, so a browser refresh or an app restart loses nothing;
    ``phase`` is ``train`` while the Trainer runs and ``evaluate`` after it (predicting on the test
    split and writing metrics), until ``manifest.json`` says the run is complete.
    """

    FILE: ClassVar[str] = PROGRESS

    phase: Literal["train", "evaluate"] = "train"
    step: int = 0
    max_steps: int = 0
    epoch: float | None = None
    loss: float | None = None
    eval: dict[str, float] = Field(default_factory=dict)  # latest eval_* logs, prefix dropped
    elapsed_s: float | None = None
    eta_s: float | None = None
    updated: str | None = None  # ISO time of this write


# --- notes.json --------------------------------------------------------------------------------


class Notes(RunFile):
    """``notes.json``: the free-text parts of a PR evidence bundle, written by a person."""

    FILE: ClassVar[str] = NOTES

    motivation: str = ""
    known_failures: str = ""
    baseline: str | None = None  # the run the bundle compares against (a run name)
    updated: str | None = None


# --- plan.json ---------------------------------------------------------------------------------


class PlanRecommendation(RunFile):
    """``plan.json``: what ``tuneproof plan`` recommended (beside the prose of ``plan.md``), so
    the report can compare it with what the run's config.yaml did."""

    FILE: ClassVar[str] = PLAN_JSON

    model: str | None = None
    strategy: str | None = None
    max_length: int | None = None
    batch_size: int | None = None
    gradient_accumulation_steps: int | None = None


# --- humaneval_key.json, humaneval.json ----------------------------------------------------


class HumanEvalItem(_Record):
    """One item of a blinded A/B sheet: the prediction row it shows and which side is the run."""

    item_id: str
    source: str = ""
    row_id: str
    run_side: Literal["a", "b"]
    slices: dict[str, str] = Field(default_factory=dict)


class HumanEvalKey(RunFile):
    """``humaneval_key.json``: the key that un-blinds the sheet ``tuneproof humaneval export``
    wrote (``humaneval/sheet.csv``). Kept in the run directory, never given to raters.

    ``baseline`` names the other side: a run's name, or ``reference`` (the gold outputs).
    ``identical`` counts sampled rows left out because both outputs were the same text.
    """

    FILE: ClassVar[str] = HUMANEVAL_KEY

    run: str
    baseline: str
    baseline_kind: Literal["run", "reference"]
    baseline_dir: str | None = None
    seed: int
    sheet: str  # relative to the run directory
    raters: list[str] = Field(default_factory=list)
    eligible: int = 0
    identical: int = 0
    created: str | None = None
    items: list[HumanEvalItem] = Field(default_factory=list)


class HumanRates(_Record):
    """Win/tie/loss of the run against the other side over ``n_ratings`` ratings of ``n_items``
    items, each with its 95 % cluster-bootstrap interval (an item's ratings resample together)."""

    n_items: int
    n_ratings: int
    win: float | None = None
    tie: float | None = None
    loss: float | None = None
    win_ci: tuple[float, float] | None = None
    tie_ci: tuple[float, float] | None = None
    loss_ci: tuple[float, float] | None = None
    small_n: bool = False


class RaterPair(_Record):
    a: str
    b: str
    n: int  # items both rated
    kappa: float | None = None


class RaterRecord(_Record):
    """One rater: how much they rated, their win/tie/loss, and whether they disagree with
    everyone (Cohen's κ below the flag threshold with every other rater)."""

    name: str
    n: int
    win: float | None = None
    tie: float | None = None
    loss: float | None = None
    mean_kappa: float | None = None
    flagged: bool = False
    reason: str | None = None


class Agreement(_Record):
    """Inter-rater agreement on the un-blinded choices (win/tie/loss, nominal)."""

    n_raters: int
    n_items_shared: int = 0  # items rated by two or more raters
    cohen_kappa: float | None = None  # exactly two raters
    krippendorff_alpha: float | None = None  # two or more raters, missing ratings allowed
    pairwise: list[RaterPair] = Field(default_factory=list)
    note: str | None = None


class RatingFile(_Record):
    path: str
    sha256: str
    rows: int


class HumanEval(RunFile):
    """``humaneval.json``: the human A/B evaluation of a run (``tuneproof humaneval import``)."""

    FILE: ClassVar[str] = HUMANEVAL

    run: str
    baseline: str
    baseline_kind: Literal["run", "reference"]
    overall: HumanRates
    slices: dict[str, HumanRates] = Field(default_factory=dict)
    agreement: Agreement
    raters: list[RaterRecord] = Field(default_factory=list)
    files: list[RatingFile] = Field(default_factory=list)
    unrated: int = 0  # items of the sheet nobody rated
    identical: int = 0  # sampled rows left out of the sheet: both outputs were the same text
    seed: int = 0
    n_resamples: int = 0
    confidence: float = 0.95


# --- slices_found.json -------------------------------------------------------------------------


class FoundSlice(_Record):
    """One tested slice of the slice finder (``tuneproof.evaluate.slicefinder``).

    ``metric`` is the main metric on the slice (in ``diff`` mode: B − A on the slice), ``rest``
    the same on every other row, ``gap`` = metric − rest. ``p`` is the one-sided test that the
    slice is worse (the file's ``test`` says which), ``q`` its Benjamini–Hochberg adjusted value
    over all tested slices; ``significant`` when ``q`` ≤ the file's ``fdr``. ``redundant_of``
    names a significant parent slice this conjunction is no worse than (beyond the parent's
    interval); ``aliases`` are other candidates holding exactly the same rows.
    """

    key: str
    conditions: list[str]
    support: int
    metric: float | None = None
    metric_ci: tuple[float, float] | None = None
    rest: float | None = None
    gap: float | None = None
    p: float | None = None
    q: float | None = None
    significant: bool = False
    redundant_of: str | None = None
    aliases: list[str] = Field(default_factory=list)


class SlicesFound(RunFile):
    """``slices_found.json``: the weakest slices of a run (or where run B is worse than run A),
    each with support, metric, bootstrap interval, gap to the rest and FDR-controlled p-value.
    Ranked: significant non-redundant slices first (by ``q``, then ``gap``)."""

    FILE: ClassVar[str] = SLICES_FOUND

    mode: Literal["run", "diff"] = "run"
    run: str | None = None
    against: str | None = None  # diff: run A, the reference B is compared with
    metric: str
    test: str
    min_support: int
    depth: int
    fdr: float
    seed: int | None = None
    n_resamples: int | None = None
    n_rows: int
    overall: float | None = None
    overall_ci: tuple[float, float] | None = None
    dimensions: list[str] = Field(default_factory=list)
    n_candidates: int = 0  # slices with enough support (before removing identical row sets)
    n_tested: int = 0
    n_significant: int = 0
    note: str | None = None
    slices: list[FoundSlice] = Field(default_factory=list)

    @property
    def found(self) -> list[FoundSlice]:
        """Significant slices that are not redundant with a significant parent, ranked."""
        return [s for s in self.slices if s.significant and s.redundant_of is None]


# --- baselines.json ----------------------------------------------------------------------------


class BaselineResult(_Record):
    """One cheap baseline scored on the run's own test rows, paired with the fine-tuned model.

    ``delta`` = fine-tuned − baseline on the main metric, with a paired bootstrap interval (the
    same resampled rows under both); ``mcnemar_p`` the exact McNemar test on the same rows.
    """

    name: str
    description: str = ""
    metrics: MetricBlock
    main: float | None = None
    main_ci: tuple[float, float] | None = None
    delta: float | None = None
    delta_ci: tuple[float, float] | None = None
    mcnemar_p: float | None = None
    verdict: Literal["fine-tuned better", "baseline better", "no evidence"] = "no evidence"
    note: str | None = None


class Baselines(RunFile):
    """``baselines.json``: "was fine-tuning worth it?" — majority, TF-IDF + LR, frozen encoder +
    LR and zero-shot baselines on the same rows as the run's headline."""

    FILE: ClassVar[str] = BASELINES

    task: str
    main_metric: str
    split: str
    n: int
    train_rows: int | None = None
    seed: int | None = None
    n_resamples: int | None = None
    finetuned: float | None = None
    finetuned_ci: tuple[float, float] | None = None
    best: str | None = None  # the baseline with the highest main metric
    encoder: str | None = None  # the frozen encoder of embed-lr / zero-shot
    baselines: list[BaselineResult] = Field(default_factory=list)
    note: str | None = None

    def get(self, name: str) -> BaselineResult | None:
        return next((b for b in self.baselines if b.name == name), None)

    @property
    def best_result(self) -> BaselineResult | None:
        return self.get(self.best) if self.best else None


# --- sweep.json (a sweep directory, not a run directory: its trials are run directories) -------

TrialState = Literal["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"]


class SweepTrial(_Record):
    """One Optuna trial: its parameters (by config path), validation value and run directory."""

    number: int
    state: TrialState
    params: dict[str, Any] = Field(default_factory=dict)
    value: float | None = None  # the validation metric (the last reported one when pruned)
    duration_s: float | None = None
    run: str | None = None  # run directory, relative to the sweep directory
    worker: str | None = None  # host:pid that ran it
    note: str | None = None  # why it failed or was pruned


class SweepBest(_Record):
    """The best trial and its retraining with the test split (the only test evaluation)."""

    trial: int
    value: float
    params: dict[str, Any] = Field(default_factory=dict)
    config: str = "best.yaml"
    run: str | None = None  # the retrained run directory (relative), evaluated on test
    reproduced_value: float | None = None  # its validation value: equal to ``value`` when
    reproduced: bool | None = None  # the training is deterministic on this machine
    test: dict[str, Number | list[Number] | None] = Field(default_factory=dict)


class Sweep(RunFile):
    """``sweep.json``: every trial of a study (params, value, state, duration, run path), the best
    one, parameter importances (``optuna.importance``) and where the study is stored."""

    FILE: ClassVar[str] = SWEEP

    study: str
    storage: str  # journal file path or RDB URL (password removed)
    metric: str  # validation metric optimised
    direction: Literal["maximize", "minimize"]
    sampler: str
    seed: int
    n_trials: int
    space: dict[str, dict[str, Any]]
    baseline_trial: int | None = None  # the starting config's trial, when it lies in the space
    trials: list[SweepTrial] = Field(default_factory=list)
    best: SweepBest | None = None
    importances: dict[str, float] = Field(default_factory=dict)
    importance_note: str | None = None
    tracking: Tracking | None = None  # the MLflow parent run


# --- reading and writing -----------------------------------------------------------------------

F = TypeVar("F", bound=RunFile)


def _load_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: not found; {_producer_hint(path)}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text; {_producer_hint(path)}") from None


def _producer_hint(path: Path) -> str:
    cmd = PRODUCERS.get(path.name)
    return f"re-run `{cmd.replace('RUN', str(path.parent))}`" if cmd else "re-run the step"


def _check_version(raw: Any, model: type[RunFile], path: Path) -> None:
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a JSON object; {_producer_hint(path)}")
    version = raw.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UserError(f"{path}: unknown version {version!r}; {_producer_hint(path)}")
    if version > model.VERSION:
        raise UserError(
            f"{path}: version {version} is newer than this tuneproof reads "
            f"(up to {model.VERSION}); upgrade tuneproof"
        )


def _validate(model: type[F], raw: Any, path: Path) -> F:
    _check_version(raw, model, path)
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        e = err.errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        raise UserError(
            f"{path}: {where}: {e['msg']}; the file does not match the {path.name} schema "
            f"(version {raw.get('version', 1)}); {_producer_hint(path)}"
        ) from None


def parse(model: type[F], text: str, path: Path) -> F:
    """Parse a file's text (JSON) into its model; every failure names ``path``."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(
            f"{path}: invalid JSON at line {err.lineno} ({err.msg}); {_producer_hint(path)}"
        ) from None
    return _validate(model, raw, path)


def read(run_dir: str | Path, model: type[F]) -> F:
    """Read ``run_dir/<model.FILE>``; a missing, corrupt, unknown-version or off-schema file is
    a ``UserError`` naming it (and is left as it was)."""
    path = Path(run_dir) / model.FILE
    return parse(model, _load_text(path), path)


def read_optional(run_dir: str | Path, model: type[F]) -> F | None:
    """Like :func:`read`, but ``None`` when the file does not exist."""
    path = Path(run_dir) / model.FILE
    return read(run_dir, model) if path.exists() else None


def dump(obj: RunFile) -> dict[str, Any]:
    """The JSON form of a file, with ``version`` first; absent (None) fields are left out."""
    data = obj.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {"version": obj.version, **{k: v for k, v in data.items() if k != "version"}}


def write(run_dir: str | Path, obj: RunFile) -> Path:
    """Write a file atomically (temp file + rename)."""
    return io.write_json(Path(run_dir) / obj.FILE, dump(obj))


# predictions.jsonl: one JSON object per line; the file has no header, so each row is checked.


def read_predictions(run_dir: str | Path) -> list[PredictionRow]:
    path = Path(run_dir) / PREDICTIONS
    return list(iter_predictions(path))


def iter_predictions(path: Path) -> Iterator[PredictionRow]:
    if not path.exists():
        raise UserError(f"{path}: not found; {_producer_hint(path)}")
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as err:
                raise UserError(
                    f"{path}: line {lineno} is not valid JSON ({err.msg}); {_producer_hint(path)}"
                ) from None
            try:
                yield PredictionRow.model_validate(raw)
            except ValidationError as err:
                e = err.errors()[0]
                where = ".".join(str(p) for p in e["loc"]) or "(row)"
                raise UserError(
                    f"{path}: line {lineno}: {where}: {e['msg']}; {_producer_hint(path)}"
                ) from None


def write_predictions(run_dir: str | Path, rows: Iterable[PredictionRow | dict[str, Any]]) -> Path:
    """Rows are validated against :class:`PredictionRow` before anything is written."""
    checked = [
        (r if isinstance(r, PredictionRow) else PredictionRow.model_validate(r)).model_dump(
            mode="json", exclude_none=True
        )
        for r in rows
    ]
    return io.write_jsonl(Path(run_dir) / PREDICTIONS, checked)


# config.yaml: the resolved RunConfig (its own schema, in config.py).


def read_config(run_dir: str | Path) -> RunConfig:
    path = Path(run_dir) / CONFIG
    text = _load_text(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "bad YAML"
        raise UserError(f"{path}: invalid YAML ({first}); {_producer_hint(path)}") from None
    if isinstance(raw, dict):
        version = raw.get("version", 1)
        if not isinstance(version, int) or version > RunConfig.VERSION:
            raise UserError(
                f"{path}: version {version!r} is newer than this tuneproof reads "
                f"(up to {RunConfig.VERSION}); upgrade tuneproof"
            )
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as err:
        raise UserError(format_validation_error(err, str(path))) from None


def write_config(run_dir: str | Path, config: RunConfig) -> Path:
    return io.write_text(Path(run_dir) / CONFIG, config.to_yaml())
