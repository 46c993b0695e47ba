"""Slice tags per evaluation row: the groups on which an aggregate score hides failures.

Every row gets one value per dimension, as strings, so a slice is simply ``name=value``:

- ``language``: from a column when the data has one, else detected offline with lingua over a
  restricted language set (fast and more accurate than all 75 languages); ``unknown`` when no
  language reaches :data:`LANGUAGE_CONFIDENCE` (very short or mixed texts).
- ``script``: the dominant Unicode script of the letters (``tuneproof.text.scripts``).
- ``code_switching``: ``yes`` when the text mixes two real scripts (each with at least
  :data:`MIN_SCRIPT_CHARS` letters and :data:`MIN_SCRIPT_SHARE` of them), or when two of its
  sentences are confidently in different languages. Switches *inside* a sentence in one script
  ("le film était really boring") are not detected: lingua's word-level segmentation flagged 8 %
  of plain English sentences on the polarity corpus, too noisy for a slice.
- ``length``: tokens of the whole input (both texts of a pair task) as the task adapter counted
  them, special tokens included, untruncated, in power-of-two buckets ``0-16``, ``16-32``, ...
  (lower bound included, upper excluded), ``512+``.
- ``truncated``: ``yes`` when the task adapter cut the input at ``data.max_length`` (either text
  of a pair; for extractive QA, a context read in more than one window).
- ``negation``: ``yes`` when the text holds a negation cue of its language (cue lists below; the
  union of all lists when the language is unknown).
- any categorical column of the data (few distinct short values: ``domain``, ``source``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tuneproof.errors import UserError
from tuneproof.text.scripts import COMMON, INHERITED, dominant_script, scripts_in

#: Languages lingua chooses from when no language column is given (ISO 639-1).
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "fr", "de", "nl", "es", "it", "pt", "pl", "tr", "ru", "ar", "hi", "zh", "ja", "ko",
)  # fmt: skip
LANGUAGE_CONFIDENCE = 0.5  # lingua's relative confidence for the whole-text language
SEGMENT_CONFIDENCE = 0.9  # per sentence, for code-switching: only confident switches count
MIN_SEGMENT_LETTERS = 20  # shorter sentences are not detected (too little evidence)
MAX_SEGMENTS = 8  # sentences per text checked for a language switch (bounds the cost)
MIN_SCRIPT_CHARS = 3
MIN_SCRIPT_SHARE = 0.1
LENGTH_EDGES: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
MAX_CATEGORIES = 20  # a column with more distinct values is not a slice dimension
MAX_CATEGORY_CHARS = 40
UNKNOWN = "unknown"

#: Negation cues per language (lower case, whole words). Contractions are matched separately.
NEGATION_CUES: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "not",
            "no",
            "never",
            "nothing",
            "nobody",
            "none",
            "neither",
            "nor",
            "nowhere",
            "without",
            "cannot",
            "hardly",
            "barely",
            "dont",
            "doesnt",
            "didnt",
            "isnt",
            "wasnt",
            "arent",
            "werent",
            "cant",
            "couldnt",
            "wont",
            "wouldnt",
            "shouldnt",
        ]
    ),
    "fr": frozenset(
        [
            "ne",
            "pas",
            "jamais",
            "rien",
            "aucun",
            "aucune",
            "non",
            "sans",
            "ni",
            "nullement",
            "guère",
        ]
    ),
    "de": frozenset(
        [
            "nicht",
            "kein",
            "keine",
            "keinen",
            "keinem",
            "keiner",
            "keines",
            "nie",
            "niemals",
            "nichts",
            "niemand",
            "ohne",
            "weder",
            "nirgends",
        ]
    ),
    "nl": frozenset(["niet", "geen", "nooit", "niets", "niemand", "zonder", "noch", "nergens"]),
    "es": frozenset(
        [
            "no",
            "nunca",
            "jamás",
            "nada",
            "nadie",
            "ningún",
            "ninguna",
            "ninguno",
            "sin",
            "tampoco",
            "ni",
        ]
    ),
    "it": frozenset(["non", "mai", "niente", "nulla", "nessuno", "nessuna", "senza", "né"]),
    "pt": frozenset(
        ["não", "nunca", "jamais", "nada", "ninguém", "nenhum", "nenhuma", "sem", "nem"]
    ),
}
_ALL_CUES = frozenset().union(*NEGATION_CUES.values())
_CONTRACTIONS: dict[str, re.Pattern[str]] = {
    "en": re.compile(r"n['’]t\b", re.IGNORECASE),  # don't, isn't (also tokenised "do n't")
    "fr": re.compile(r"\bn['’]\w", re.IGNORECASE),  # n'est, n'a
}
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"[^.!?;:\n。！？]+[.!?;:\n。！？]*")


@dataclass(frozen=True)
class SliceOptions:
    """What to tag; the defaults suit most runs."""

    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    detect_code_switching: bool = True
    length_edges: tuple[int, ...] = LENGTH_EDGES


def length_bucket(n_tokens: int, edges: Sequence[int] = LENGTH_EDGES) -> str:
    """``"16-32"`` for 16 ≤ n < 32; ``"512+"`` beyond the last edge."""
    low = 0
    for edge in edges:
        if n_tokens < edge:
            return f"{low}-{edge}"
        low = edge
    return f"{low}+"


def has_negation(text: str, language: str | None = None) -> bool:
    """True when ``text`` holds a negation cue of ``language`` (all languages when unknown)."""
    if language in NEGATION_CUES:
        cues = NEGATION_CUES[language]
        patterns = [_CONTRACTIONS[language]] if language in _CONTRACTIONS else []
    else:
        cues, patterns = _ALL_CUES, list(_CONTRACTIONS.values())
    if any(w.lower() in cues for w in _WORD.findall(text)):
        return True
    return any(p.search(text) for p in patterns)


def real_scripts(text: str) -> list[str]:
    """Scripts that carry a real part of the text (enough letters), most frequent first."""
    counts = scripts_in(text)
    real = {s: n for s, n in counts.items() if s not in (COMMON, INHERITED)}
    total = sum(real.values())
    return [
        s
        for s, n in sorted(real.items(), key=lambda kv: -kv[1])
        if n >= MIN_SCRIPT_CHARS and n >= MIN_SCRIPT_SHARE * total
    ]


@lru_cache(maxsize=4)
def _detector(languages: tuple[str, ...]) -> Any:
    """A lingua detector for these ISO 639-1 codes (cached: building one costs seconds)."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = []
    for code in languages:
        try:
            codes.append(IsoCode639_1.from_str(code))
        except ValueError:
            raise UserError(
                f"language '{code}': not an ISO 639-1 code lingua knows; use codes such as "
                "en, fr, de, ar, hi, zh"
            ) from None
    if len(codes) < 2:
        codes.append(IsoCode639_1.from_str("en" if languages != ("en",) else "fr"))
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def _confident(values: Any, threshold: float) -> str | None:
    if values and values[0].value >= threshold:
        return str(values[0].language.iso_code_639_1.name.lower())
    return None


def detect_languages(texts: Sequence[str], languages: Sequence[str]) -> list[str]:
    """ISO 639-1 code per text, or ``"unknown"`` when no language is confident enough."""
    out = [UNKNOWN] * len(texts)
    idx = [i for i, t in enumerate(texts) if any(c.isalpha() for c in t)]
    if not idx:
        return out
    det = _detector(tuple(languages))
    values = det.compute_language_confidence_values_in_parallel([texts[i] for i in idx])
    for i, conf in zip(idx, values, strict=True):
        out[i] = _confident(conf, LANGUAGE_CONFIDENCE) or UNKNOWN
    return out


def sentences(text: str, limit: int = MAX_SEGMENTS) -> list[str]:
    """The first ``limit`` sentences with enough letters to detect their language."""
    found = []
    for s in _SENTENCE.findall(text):
        if sum(c.isalpha() for c in s) >= MIN_SEGMENT_LETTERS:
            found.append(s.strip())
            if len(found) == limit:
                break
    return found


def language_switches(texts: Sequence[str], languages: Sequence[str]) -> list[bool]:
    """True per text when two of its sentences are confidently in different languages."""
    segs: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        found = sentences(text)
        if len(found) >= 2:
            segs += found
            owner += [i] * len(found)
    out = [False] * len(texts)
    if not segs:
        return out
    values = _detector(tuple(languages)).compute_language_confidence_values_in_parallel(segs)
    seen: dict[int, set[str]] = {}
    for i, conf in zip(owner, values, strict=True):
        lang = _confident(conf, SEGMENT_CONFIDENCE)
        if lang is not None:
            seen.setdefault(i, set()).add(lang)
    for i, langs in seen.items():
        out[i] = len(langs) >= 2
    return out


def is_categorical(values: Sequence[Any]) -> bool:
    """A column worth slicing by: 2..20 distinct short values, each on more than one row."""
    clean = [v for v in values if v is not None and v == v and str(v) != ""]
    if not clean or any(isinstance(v, (list, dict, float)) for v in clean):
        return False
    distinct = {str(v) for v in clean}
    if not 2 <= len(distinct) <= MAX_CATEGORIES or len(distinct) * 2 > len(clean):
        return False
    return all(len(v) <= MAX_CATEGORY_CHARS for v in distinct)


def category(value: Any) -> str:
    if value is None or value != value or str(value) == "":  # None, NaN, empty
        return "(empty)"
    return str(value)


def tag_rows(
    texts: Sequence[str],
    *,
    n_tokens: Sequence[int] | None = None,
    truncated: Sequence[bool] | None = None,
    languages: Sequence[str | None] | None = None,
    columns: Mapping[str, Sequence[Any]] | None = None,
    options: SliceOptions | None = None,
) -> list[dict[str, str]]:
    """Slice tags per text, in a fixed dimension order.

    ``languages`` are given languages per text (a column); ``None`` entries, or no list at all,
    are detected. ``n_tokens`` (with special tokens, untruncated) enables ``length`` and
    ``truncated`` (whether the task adapter cut the input) the ``truncated`` tag: both come from
    the adapter's ``TokenCount``, so they say what the model saw. ``columns`` are categorical
    columns, tagged as they are.
    """
    opts = options or SliceOptions()
    n = len(texts)
    given = list(languages) if languages is not None else [None] * n
    todo = [i for i, lang in enumerate(given) if lang is None or str(lang).strip() == ""]
    langs = [str(lang).strip().lower() if lang is not None else UNKNOWN for lang in given]
    if todo:
        detected = detect_languages([texts[i] for i in todo], opts.languages)
        for i, lang in zip(todo, detected, strict=True):
            langs[i] = lang
    switches = (
        language_switches(texts, opts.languages) if opts.detect_code_switching else [False] * n
    )
    tags: list[dict[str, str]] = []
    for i, text in enumerate(texts):
        t = {
            "language": langs[i],
            "script": dominant_script(text),
            "code_switching": "yes" if switches[i] or len(real_scripts(text)) >= 2 else "no",
        }
        if n_tokens is not None:
            t["length"] = length_bucket(n_tokens[i], opts.length_edges)
        if truncated is not None:
            t["truncated"] = "yes" if truncated[i] else "no"
        t["negation"] = "yes" if has_negation(text, langs[i]) else "no"
        for name, values in (columns or {}).items():
            t[name] = category(values[i])
        tags.append(t)
    return tags


def natural_key(value: str) -> tuple[Any, ...]:
    """Sort ``"16-32"`` after ``"0-16"`` and before ``"128-256"``; text alphabetically."""
    parts = re.split(r"(\d+)", value)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p)
