"""Extractive question answering (SQuAD): predict the answer's start and end in the context.

A context longer than ``max_length`` is cut into overlapping windows (``doc_stride`` tokens
shared), each window a training feature; the offset mapping ties tokens back to characters so
the best start/end pair over all of a question's windows becomes a span of the original text.
Scores are SQuAD's exact match and token F1 after its answer normalisation, by the official
script of the data's version: ``evaluate-v1.1.py`` when every question has an answer,
``evaluate-v2.0.py`` when some have none (each prediction row records which, ``squad_version``).
"""

from __future__ import annotations

import collections
import json
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneproof.data.load import require_columns
from tuneproof.errors import UserError
from tuneproof.tasks.base import (
    CardTemplate,
    EvalTemplate,
    Prepared,
    StarterConfig,
    TokenCount,
    TrainerTask,
    column_texts,
    from_base,
    source_name,
)
from tuneproof.tasks.classification import row_ids

if TYPE_CHECKING:
    import pandas as pd
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from tuneproof.config import RunConfig
    from tuneproof.data.load import LoadedData

N_BEST = 20  # start and end candidates per window, as in the SQuAD reference scripts


# --- SQuAD metrics (the official evaluate-v1.1/v2.0 definitions) -------------------------------
SQUAD_VERSIONS: tuple[str, ...] = ("v1.1", "v2.0")


def squad_version(has_unanswerable: bool) -> str:
    """SQuAD 2.0 added unanswerable questions; data without any is scored as v1.1 is."""
    return "v2.0" if has_unanswerable else "v1.1"


def normalize_answer(s: str) -> str:
    """Lower case, drop punctuation and the articles a/an/the, collapse whitespace."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def exact_match(pred: str, gold: str) -> float:
    return float(normalize_answer(pred) == normalize_answer(gold))


def token_f1(pred: str, gold: str, version: str = "v2.0") -> float:
    """Bag-of-words F1 of the normalised strings.

    v2.0 (``compute_f1``): when either side is empty, 1 if both are, else 0 ("no answer" is
    right only against no answer). v1.1 (``f1_score``): no shared token is 0, so an answer that
    normalises to nothing ("the", "!") scores 0 even against itself.
    """
    p, g = normalize_answer(pred).split(), normalize_answer(gold).split()
    if version == "v2.0" and (not p or not g):
        return float(p == g)
    common = collections.Counter(p) & collections.Counter(g)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def squad_scores(pred: str, golds: Sequence[str], version: str = "v2.0") -> tuple[float, float]:
    """(exact match, F1) against the best-matching gold answer, as the version's script does.

    v2.0 drops gold answers that normalise to nothing and scores a question without any against
    "" (``get_raw_scores``); v1.1 takes the maximum over every gold answer as given
    (``metric_max_over_ground_truths``). No gold at all is a v2.0 "no answer" question.
    """
    if version not in SQUAD_VERSIONS:
        raise ValueError(f"SQuAD version {version!r} is not one of {', '.join(SQUAD_VERSIONS)}")
    if version == "v2.0" or not golds:
        golds = [g for g in golds if normalize_answer(g)] or [""]
        version = "v2.0"
    return (
        max(exact_match(pred, g) for g in golds),
        max(token_f1(pred, g, version) for g in golds),
    )


# --- data ------------------------------------------------------------------------------------
def flatten_squad(df: pd.DataFrame) -> pd.DataFrame | None:
    """The official nested SQuAD JSON (``{"data": [{"paragraphs": [{"context", "qas"}]}]}``)
    as one row per question; None when ``df`` is not in that shape."""
    import pandas as pd

    if "data" not in df.columns:
        return None
    rows: list[dict[str, Any]] = []
    for article in df["data"]:
        if not isinstance(article, dict) or "paragraphs" not in article:
            return None
        for para in article["paragraphs"]:
            for qa in para.get("qas", []):
                answers = qa.get("answers", [])
                rows.append(
                    {
                        "id": str(qa.get("id", len(rows))),
                        "title": article.get("title", ""),
                        "context": para["context"],
                        "question": qa["question"],
                        "answers": {
                            "text": [a["text"] for a in answers],
                            "answer_start": [a["answer_start"] for a in answers],
                        },
                    }
                )
    return pd.DataFrame(rows)


def parse_answers(value: Any, context: str, where: str) -> list[tuple[str, int]]:
    """SQuAD answers as (text, start) pairs, each checked against the context.

    Accepts ``{"text": [...], "answer_start": [...]}`` (HF/SQuAD JSONL), a list of
    ``{"text", "answer_start"}`` (official SQuAD JSON), or either as a JSON string (CSV).
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = None
    pairs: list[tuple[Any, Any]]
    if isinstance(value, dict) and "text" in value and "answer_start" in value:
        texts, starts = list(value["text"]), list(value["answer_start"])
        if len(texts) != len(starts):
            raise UserError(
                f"{where}: {len(texts)} answer texts but {len(starts)} answer_start values; "
                "give one start per answer"
            )
        pairs = list(zip(texts, starts, strict=True))
    elif isinstance(value, (list, tuple, np.ndarray)) and all(isinstance(a, dict) for a in value):
        try:
            pairs = [(a["text"], a["answer_start"]) for a in value]
        except KeyError as err:
            raise UserError(
                f"{where}: an answer has no {err}; give text and answer_start"
            ) from None
    else:
        raise UserError(
            f"{where}: answers must be {{'text': [...], 'answer_start': [...]}} (SQuAD format)"
        )
    out = []
    for text, start in pairs:
        if not isinstance(text, str) or isinstance(start, bool):
            raise UserError(f"{where}: answer {text!r} needs a text and an integer answer_start")
        try:
            start = int(start)
        except (TypeError, ValueError):
            raise UserError(f"{where}: answer_start {start!r} is not an integer") from None
        found = context[start : start + len(text)] if start >= 0 else ""
        if found != text:
            raise UserError(
                f"{where}: answer {text!r} is not at answer_start {start} of the context "
                f"(found {found!r}); fix answer_start (0-based character offset into the context)"
            )
        out.append((text, start))
    return out


@dataclass
class Features:
    """Windows of the tokenised (question, context) pairs and how they map back."""

    columns: dict[str, list[Any]]
    example: list[int]  # window -> example (row) index
    offsets: list[list[tuple[int, int] | None]]  # window token -> context chars (None: not context)


def make_features(
    tokenizer: PreTrainedTokenizerBase,
    questions: list[str],
    contexts: list[str],
    answers: list[list[tuple[str, int]]],
    *,
    max_length: int,
    stride: int,
) -> Features:
    """Tokenise with overflow windows and label each window's start/end token (0 = [CLS] when
    the answer is not inside the window or there is none)."""
    enc = tokenizer(
        [q.lstrip() for q in questions],
        contexts,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    sample_map = enc.pop("overflow_to_sample_mapping")
    all_offsets = enc.pop("offset_mapping")
    starts, ends, offsets = [], [], []
    for f, ex in enumerate(sample_map):
        seq = enc.sequence_ids(f)
        offs = [tuple(o) if seq[k] == 1 else None for k, o in enumerate(all_offsets[f])]
        offsets.append(offs)
        start_tok = end_tok = 0
        if answers[ex]:
            text, start_char = answers[ex][0]
            end_char = start_char + len(text)
            ctx = [k for k, s in enumerate(seq) if s == 1]
            first, last = ctx[0], ctx[-1]
            fo, lo = offs[first], offs[last]
            assert fo is not None and lo is not None
            if fo[0] <= start_char and lo[1] >= end_char:
                start_tok = next(k for k in ctx if (o := offs[k]) is not None and o[1] > start_char)
                end_tok = next(
                    k for k in reversed(ctx) if (o := offs[k]) is not None and o[0] < end_char
                )
        starts.append(start_tok)
        ends.append(end_tok)
    columns = {k: list(v) for k, v in enc.items()}
    columns["start_positions"] = starts
    columns["end_positions"] = ends
    return Features(columns, list(sample_map), offsets)


@dataclass(frozen=True)
class Span:
    text: str
    start: int  # character offset in the context; -1 for "no answer"
    score: float  # probability of this span among the candidates considered


def best_spans(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    feature_example: list[int],
    feature_offsets: list[list[tuple[int, int] | None]],
    contexts: list[str],
    *,
    max_answer_length: int = 30,
    n_best: int = N_BEST,
    allow_null: bool = False,
) -> list[Span]:
    """The best answer span per example over all its windows (pure; the SQuAD recipe).

    A candidate is a (start, end) pair inside the context with end >= start and at most
    ``max_answer_length`` tokens, scored start_logit + end_logit. With ``allow_null`` the
    [CLS] score (lowest over the windows) wins when it beats every span: "no answer".
    """
    by_example: dict[int, list[int]] = collections.defaultdict(list)
    for f, ex in enumerate(feature_example):
        by_example[ex].append(f)
    spans = []
    for ex, context in enumerate(contexts):
        cands: list[tuple[float, int, int]] = []  # (score, start char, end char)
        null = np.inf
        for f in by_example.get(ex, []):
            offs = feature_offsets[f]
            s_log, e_log = start_logits[f][: len(offs)], end_logits[f][: len(offs)]
            null = min(null, float(s_log[0] + e_log[0]))
            for s in np.argsort(s_log)[::-1][:n_best]:
                for e in np.argsort(e_log)[::-1][:n_best]:
                    so, eo = offs[s], offs[e]
                    if so is None or eo is None or e < s or e - s + 1 > max_answer_length:
                        continue
                    cands.append((float(s_log[s] + e_log[e]), so[0], eo[1]))
        if allow_null and np.isfinite(null):
            cands.append((null, -1, -1))
        if not cands:
            spans.append(Span("", -1, 0.0))
            continue
        scores = np.array([c[0] for c in cands])
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        k = int(scores.argmax())
        _, a, b = cands[k]
        spans.append(Span(context[a:b] if a >= 0 else "", a, float(probs[k])))
    return spans


def window_counts(
    tokenizer: PreTrainedTokenizerBase,
    questions: list[str],
    contexts: list[str],
    features: Features,
) -> list[TokenCount]:
    """Each (question, context)'s tokens untruncated, its longest window, and whether the
    context needed more than one window (the question is never cut: only_second)."""
    full = tokenizer([q.lstrip() for q in questions], contexts, truncation=False, verbose=False)
    windows = collections.Counter(features.example)
    longest: dict[int, int] = {}
    for ids, ex in zip(features.columns["input_ids"], features.example, strict=True):
        longest[ex] = max(longest.get(ex, 0), len(ids))
    out = []
    for i, ids in enumerate(full["input_ids"]):
        seq = full.sequence_ids(i)
        out.append(
            TokenCount(
                total=len(ids),
                kept=longest.get(i, 0),
                first=sum(s == 0 for s in seq),
                second=sum(s == 1 for s in seq),
                second_cut=windows[i] > 1,
            )
        )
    return out


class ExtractiveQA(TrainerTask):
    name = "extractive-qa"
    main_metric = "f1"
    greater_is_better = True
    peft_task_type = "QUESTION_ANS"  # PEFT LoraConfig.task_type
    auto_class = "AutoModelForQuestionAnswering"
    head_labels: int | None = None
    label_set = False
    card = CardTemplate(
        "question-answering",
        'pipe(question="Where was she born?", context="Ada Lovelace was born in London.")',
    )
    starter = StarterConfig(
        name="qa",
        data="""\
  builtin: synthetic-qa    # rows {{id, question, context, answers: {{text, answer_start}}}}
  max_length: 64           # tokens per window (question + part of the context)
  doc_stride: 16           # tokens shared by consecutive windows of a long context
  max_answer_length: 10
  id_column: id
""",
    )
    eval_templates: tuple[EvalTemplate, ...] = (
        EvalTemplate(
            "extractive-qa",
            "a context longer than max_length is read in windows: watch truncated=yes",
        ),
    )

    def prepare(
        self,
        data: LoadedData,
        config: RunConfig,
        tokenizer: PreTrainedTokenizerBase,
        *,
        label_names: list[str] | None = None,
    ) -> Prepared:
        from datasets import Dataset

        dc = config.data
        if not getattr(tokenizer, "is_fast", False):
            raise UserError(
                f"model.name '{config.model.name}': extractive QA needs a fast tokenizer "
                "(tokenizer.json) for offset mappings; use a model that ships one"
            )
        if tokenizer.padding_side != "right":
            tokenizer.padding_side = "right"  # windows put the question first, context second
        stride = dc.doc_stride if dc.doc_stride is not None else max(dc.max_length // 4, 1)
        if stride >= dc.max_length // 2:
            raise UserError(
                f"data.doc_stride: {stride} tokens of overlap leaves too little new context per "
                f"window of max_length {dc.max_length}; use at most {dc.max_length // 2 - 1}"
            )
        frames: dict[str, pd.DataFrame] = {}
        ids: dict[str, list[str]] = {}
        questions: dict[str, list[str]] = {}
        contexts: dict[str, list[str]] = {}
        answers: dict[str, list[list[tuple[str, int]]]] = {}
        cols = [dc.question_column, dc.context_column, dc.answers_column]
        for split, raw in data.splits.items():
            where = source_name(data, split)
            flat = flatten_squad(raw) if dc.question_column not in raw.columns else None
            df = flat if flat is not None else raw
            require_columns(
                df, cols, where, "data.question_column / data.context_column / data.answers_column"
            )
            frames[split] = df
            id_col = dc.id_column or ("id" if flat is not None else None)
            ids[split] = row_ids(df, id_col, where)
            questions[split] = column_texts(df, dc.question_column, where)
            contexts[split] = column_texts(df, dc.context_column, where)
            answers[split] = [
                parse_answers(v, c, f"{where}: row {i} (id {ids[split][i]})")
                for i, (v, c) in enumerate(zip(df[dc.answers_column], contexts[split], strict=True))
            ]
        # SQuAD 2.0-style data (questions without an answer) lets the model say "no answer",
        # and is scored by the v2.0 script; data without any by the v1.1 script.
        allow_null = any(not a for rows in answers.values() for a in rows)
        datasets: dict[str, Dataset] = {}
        features: dict[str, Features] = {}
        counts: dict[str, list[TokenCount]] = {}
        for split in data.splits:
            try:
                feats = make_features(
                    tokenizer,
                    questions[split],
                    contexts[split],
                    answers[split],
                    max_length=dc.max_length,
                    stride=stride,
                )
            except Exception as err:  # tokenizers: a question that leaves no room for context
                if "stride" not in str(err) and "truncat" not in str(err):
                    raise
                raise UserError(
                    f"{source_name(data, split)}: a question is too long for max_length "
                    f"{dc.max_length} with doc_stride {stride}; raise data.max_length or lower "
                    "data.doc_stride"
                ) from None
            features[split] = feats
            datasets[split] = Dataset.from_dict(feats.columns)
            counts[split] = window_counts(tokenizer, questions[split], contexts[split], feats)
        return Prepared(
            datasets=datasets,
            frames=frames,
            ids=ids,
            extra={
                "questions": questions,
                "contexts": contexts,
                "answers": answers,
                "features": features,
                "allow_null": allow_null,
                "squad_version": squad_version(allow_null),
                "max_answer_length": dc.max_answer_length,
            },
            check_texts={
                s: [f"{q} {c}" for q, c in zip(questions[s], contexts[s], strict=True)]
                for s in questions
            },
            tokens=counts,
        )

    def build_model(
        self, model_path: str, prepared: Prepared, config: RunConfig
    ) -> PreTrainedModel:
        return from_base(
            self.auto_class,
            model_path,
            config,
        )

    def prediction_rows(
        self, prepared: Prepared, split: str, predictions: Any
    ) -> list[dict[str, Any]]:
        start_logits, end_logits = (np.asarray(p, dtype=np.float64) for p in predictions[:2])
        feats: Features = prepared.extra["features"][split]
        contexts = prepared.extra["contexts"][split]
        spans = best_spans(
            start_logits,
            end_logits,
            feats.example,
            feats.offsets,
            contexts,
            max_answer_length=prepared.extra["max_answer_length"],
            allow_null=prepared.extra["allow_null"],
        )
        version = prepared.extra.get("squad_version", squad_version(prepared.extra["allow_null"]))
        rows = []
        for i, span in enumerate(spans):
            golds = [t for t, _ in prepared.extra["answers"][split][i]]
            em, f1 = squad_scores(span.text, golds, version)
            rows.append(
                {
                    "id": prepared.ids[split][i],
                    "text": prepared.extra["questions"][split][i],
                    "context": contexts[i],
                    "gold": golds,
                    "pred": span.text,
                    "pred_start": span.start,
                    "score": round(span.score, 6),
                    "exact_match": em,
                    "f1": round(f1, 6),
                    "squad_version": version,
                }
            )
        return rows

    def metrics_from_rows(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        if not rows:
            return {"exact_match": float("nan"), "f1": float("nan")}
        # Each row carries the version its data was scored by; rows written before it was
        # recorded: v2.0 when any row is unanswerable, else v1.1 (how the data is classified).
        fallback = squad_version(any(not r["gold"] for r in rows))
        scores = [
            squad_scores(r["pred"], r["gold"], r.get("squad_version", fallback)) for r in rows
        ]
        return {
            "exact_match": float(np.mean([s[0] for s in scores])),
            "f1": float(np.mean([s[1] for s in scores])),
        }
