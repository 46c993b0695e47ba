"""Slice tags per evaluation row: the groups on which an aggregate score hides failures.

Every row gets one value per dimension, as strings, so a slice is simply ``name=value``:

- ``language``: from a column when the data has one, else detected offline with lingua over a
  restricted language set (fast and more accurate than all 75 languages); ``unknown`` when no
  language reaches :data:`LANGUAGE_CONFIDENCE` (very short or mixed texts).
- ``script``: the dominant Unicode script of the letters (``tuneproof.text.scripts``).
- ``code_switching``: ``yes`` when the text mixes languages, by any of four signals
  (:func:`code_switching`): two writing systems (each with at least :data:`MIN_SCRIPT_CHARS`
  letters and :data:`MIN_SCRIPT_SHARE` of them; Japanese kanji + kana, or Korean Hangul + hanja,
  count as one system, see ``tuneproof.text.scripts.CJK_SCRIPTS``); two sentences confidently
  in different languages; two spans of lingua's per-span detection
  (``detect_multiple_languages_of``), each of :data:`MIN_SPAN_WORDS`+ words and re-detected on
  its own with confidence :data:`SPAN_CONFIDENCE`, in different languages ("le film était
  vraiment long, but the actors were brilliant"); or English mixed with a romanised language
  that lingua has no model for (Hinglish, Arabizi), from cue words (:data:`ROMANISED_CUES`).
  Thresholds were tuned on half of ``benchmarks/data/code_switching.jsonl`` and measured on
  the other half (``benchmarks/code_switch_quality.py``, docs/evaluation.md).
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
from tuneproof.text.scripts import (
    COMMON,
    INHERITED,
    dominant_script,
    scripts_in,
    writing_systems_in,
)

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
MIN_SPAN_WORDS = 3  # a shorter lingua span ("Plaza Mayor", "déjà vu") is no evidence of a switch
SPAN_CONFIDENCE = 0.5  # lingua's confidence for a span's language, detected on the span alone
MIN_CLAUSE_LETTERS = 12  # a clause between commas needs this many letters to be detected
CLAUSE_CONFIDENCE = 0.7
MIN_ROMANISED_CUES = 2  # cue words of the romanised language ...
MIN_ENGLISH_CUES = 2  # ... and English function words, both needed for a romanised switch
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


#: Frequent words of languages often written in Latin letters that lingua has no model for
#: (it knows Hindi and Arabic in their own scripts only). Words that are also English ("main",
#: "to", "me", "hi", "do", "us") are left out.
def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


ROMANISED_CUES: dict[str, frozenset[str]] = {
    "hi": _wordset(
        """hai hain nahi nahin kya kyun kyon mein mujhe mujhko tum tumhe aap yaar bhai toh bhi
        kuch bahut bohot accha acha achha achhi acchi ekdum bilkul kitna itna kaise kal aaj tha
        thi thhe gaya gayi gaye ke ki ka ko se aur lekin sab mera meri mere tera teri hum
        humne jab ghar baad sach lagta lagti kar karo karna diya raha rahi rahe wala wali nahi
        matlab bas abhi phir dekho dekha jaldi samajh pata chalo chal theek thik bakwaas pehle
        zaroor sahi galat kyunki agar warna yeh woh wahan yahan"""
    ),
    "ar": _wordset(
        """yalla wallah walla habibi habibti inshallah insha mashallah khalas shu ana enta enti
        kteer kter ktir mish mesh msh ya3ni yani ahla tayeb tayyeb 7abibi 3ala 3al"""
    ),
}
#: Arabizi writes Arabic sounds with digits (2 ء, 3 ع, 5 خ, 7 ح) inside words; ordinals excluded.
_ARABIZI = re.compile(r"\b(?!\d+(?:st|nd|rd|th)\b)[a-z]*[2357][a-z]+\b", re.IGNORECASE)
_ENGLISH_CUES = _wordset(
    """the was were and but you it this that of for with are have has will would should could
    my we they so very too just really what when which because there their been not don't
    can't i'm it's"""
)
_WORD = re.compile(r"\w+", re.UNICODE)
_LATIN_WORD = re.compile(r"[a-z0-9']+", re.IGNORECASE)
_CLAUSE = re.compile(r"[^,;:.!?\n。！？、，]+")
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


def writing_systems(text: str) -> list[str]:
    """Like :func:`real_scripts`, with kanji + kana (Japanese) or Hangul + hanja one system."""
    counts = writing_systems_in(text)
    total = sum(counts.values())
    return [
        s
        for s, n in counts.most_common()
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


def span_switches(
    texts: Sequence[str],
    languages: Sequence[str],
    *,
    min_words: int = MIN_SPAN_WORDS,
    confidence: float = SPAN_CONFIDENCE,
    clause_confidence: float = CLAUSE_CONFIDENCE,
) -> list[bool]:
    """True per text when two of its spans are confidently in different languages.

    The spans are lingua's per-span detection (each of ``min_words``+ words, detected in its
    language again, alone, with ``confidence``) and the clauses between commas (each with
    :data:`MIN_CLAUSE_LETTERS`+ letters, confidence ``clause_confidence``): lingua's
    segmentation often merges a short clause into its neighbour ("Wir treffen uns morgen um
    acht, don't be late this time" is one German span).

    The second detection is what makes spans usable: on its own, per-span detection splits
    plain sentences at names and loanwords ("near the Plaza Mayor") and confuses related
    languages on a few words (Spanish and Portuguese).
    """
    out = [False] * len(texts)
    idx = [i for i, t in enumerate(texts) if sum(c.isalpha() for c in t) >= MIN_SEGMENT_LETTERS]
    if not idx:
        return out
    det = _detector(tuple(languages))
    results = det.detect_multiple_languages_in_parallel_of([texts[i] for i in idx])
    spans: list[str] = []
    owner: list[tuple[int, Any, float]] = []  # text, language expected (None: any), threshold
    for i, found in zip(idx, results, strict=True):
        long = [r for r in found if r.word_count >= min_words]
        if len({r.language for r in long}) >= 2:
            for r in long:
                spans.append(texts[i][r.start_index : r.end_index])
                owner.append((i, r.language, confidence))
        parts = [
            c for c in _CLAUSE.findall(texts[i]) if sum(map(str.isalpha, c)) >= MIN_CLAUSE_LETTERS
        ]
        if len(parts) >= 2:
            spans += parts[:MAX_SEGMENTS]
            owner += [(i, None, clause_confidence)] * len(parts[:MAX_SEGMENTS])
    if not spans:
        return out
    seen: dict[int, set[Any]] = {}
    values = det.compute_language_confidence_values_in_parallel(spans)
    for (i, language, threshold), conf in zip(owner, values, strict=True):
        if (
            conf
            and conf[0].language == (language or conf[0].language)
            and conf[0].value >= threshold
        ):
            seen.setdefault(i, set()).add(conf[0].language)
    for i, langs in seen.items():
        out[i] = len(langs) >= 2
    return out


def romanised_switch(text: str) -> bool:
    """True when ``text`` mixes English with romanised Hindi or Arabic (Arabizi): at least
    :data:`MIN_ROMANISED_CUES` cue words of one and :data:`MIN_ENGLISH_CUES` English function
    words. A text in romanised Hindi alone has no English function words and stays ``no``."""
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if sum(w in _ENGLISH_CUES for w in words) < MIN_ENGLISH_CUES:
        return False
    for lang, cues in ROMANISED_CUES.items():
        hits = sum(w in cues for w in words)
        if lang == "ar":
            hits += len(_ARABIZI.findall(text))
        if hits >= MIN_ROMANISED_CUES:
            return True
    return False


def code_switching(
    texts: Sequence[str],
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    *,
    min_span_words: int = MIN_SPAN_WORDS,
    span_confidence: float = SPAN_CONFIDENCE,
    clause_confidence: float = CLAUSE_CONFIDENCE,
) -> list[bool]:
    """True per text that mixes languages: two writing systems, two sentences or two spans in
    different languages, or English with romanised Hindi/Arabic (see the module docstring)."""
    out = [len(writing_systems(t)) >= 2 or romanised_switch(t) for t in texts]
    todo = [i for i, hit in enumerate(out) if not hit]
    rest = [texts[i] for i in todo]
    by_sentence = language_switches(rest, languages)
    by_span = span_switches(
        rest,
        languages,
        min_words=min_span_words,
        confidence=span_confidence,
        clause_confidence=clause_confidence,
    )
    for i, a, b in zip(todo, by_sentence, by_span, strict=True):
        out[i] = a or b
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
    switches = code_switching(texts, opts.languages) if opts.detect_code_switching else None
    tags: list[dict[str, str]] = []
    for i, text in enumerate(texts):
        t = {
            "language": langs[i],
            "script": dominant_script(text),
            "code_switching": "yes"
            if (switches[i] if switches is not None else len(writing_systems(text)) >= 2)
            else "no",
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
