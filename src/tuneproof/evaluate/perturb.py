"""Multilingual text edits for `tuneproof stress`: pure functions ``(text, language) -> text``.

Each returns the edited text, or ``None`` when it does not apply to the text (nothing to strip,
no non-Latin letters, no number, a language without a keyboard or lexicon entry). Choices that
need randomness (which word gets a typo) come from a generator seeded by the text itself, so a
run is reproducible and a saved regression case replays the same edit.

- :func:`strip_diacritics`: what a writer without the accents types, per language: German
  ``ä → ae``, ``ß → ss`` (the ASCII convention), elsewhere the marks dropped (``é → e``) and
  ligatures spelled out (``œ → oe``).
- :func:`transliterate`: letters of non-Latin scripts romanised with ``anyascii`` (Latin kept).
- :func:`homoglyphs`: Latin letters swapped for Cyrillic/Greek look-alikes (``a → а``), and
  Cyrillic/Greek letters for Latin ones: the same picture, other code points.
- :func:`code_switch`: a phrase replaced by its counterpart in another language from the
  packaged lexicon (``lexicon.tsv``: en/fr/nl/de); English elsewhere, French in English text.
- :func:`keyboard_typos`: a letter replaced by a neighbouring key of the language's layout
  (QWERTY en/nl/es/it/pt, AZERTY fr, QWERTZ de).
- :func:`number_formats`: numbers written the other way the language allows (``1000 ↔ 1.000``
  in German, ``1 000`` in French, ``1,000`` in English; ``two ↔ 2``).
- :func:`date_formats`: a date written as another format (``12.03.2020 → 12. März 2020``,
  ``March 12, 2020 → 2020-03-12``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zlib
from dataclasses import dataclass
from importlib import resources

import numpy as np

from tuneproof.text.scripts import COMMON, INHERITED, script_of

# --- diacritics --------------------------------------------------------------------------------

#: Letters with no decomposition (or a language's own ASCII spelling), per language; "*": all.
_SPELLED: dict[str, dict[str, str]] = {
    "de": {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"},
    "*": {
        "œ": "oe", "Œ": "Oe", "æ": "ae", "Æ": "Ae", "ß": "ss", "ø": "o", "Ø": "O",
        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i",
    },
}  # fmt: skip


def strip_diacritics(text: str, lang: str) -> str | None:
    table = {**_SPELLED["*"], **_SPELLED.get(lang, {})}
    spelled = "".join(table.get(c, c) for c in unicodedata.normalize("NFC", text))
    nfd = unicodedata.normalize("NFD", spelled)
    out = unicodedata.normalize("NFC", "".join(c for c in nfd if unicodedata.category(c) != "Mn"))
    return out if out != unicodedata.normalize("NFC", text) else None


# --- transliteration ---------------------------------------------------------------------------

_KEEP_SCRIPTS = frozenset({"Latin", COMMON})


def transliterate(text: str, lang: str) -> str | None:
    """Romanise runs of non-Latin letters (and the marks on them); Latin text is left alone."""
    from anyascii import anyascii

    out: list[str] = []
    run: list[str] = []
    for ch in text:
        script = script_of(ch)
        if script not in _KEEP_SCRIPTS and (script != INHERITED or run):
            run.append(ch)
            continue
        if run:
            out.append(anyascii("".join(run)))
            run = []
        out.append(ch)
    if run:
        out.append(anyascii("".join(run)))
    result = "".join(out)
    return result if result != text else None


# --- homoglyphs --------------------------------------------------------------------------------

LATIN_TO_CYRILLIC = dict(zip("aceopxyABCEHKMOPTX", "асеорхуАВСЕНКМОРТХ", strict=True))
LATIN_TO_GREEK = dict(zip("ABEHIKMNOPTXYZov", "ΑΒΕΗΙΚΜΝΟΡΤΧΥΖον", strict=True))
_TO_LATIN = {v: k for k, v in (LATIN_TO_GREEK | LATIN_TO_CYRILLIC).items()}
HOMOGLYPH_SHARE = 0.1  # of the words that have a swappable letter; at least one


def _rng(text: str, salt: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(f"{salt}\x00{text}".encode()))


def _words(text: str) -> list[re.Match[str]]:
    return list(re.finditer(r"[^\W\d_]+", text))


def homoglyphs(text: str, lang: str) -> str | None:
    """One letter swapped in about one word in ten: Latin → Cyrillic (Greek where Cyrillic has
    no look-alike), Cyrillic/Greek → Latin."""
    table = {**LATIN_TO_GREEK, **LATIN_TO_CYRILLIC, **_TO_LATIN}
    words = [m for m in _words(text) if any(c in table for c in m.group())]
    if not words:
        return None
    rng = _rng(text, "homoglyph")
    k = max(1, round(HOMOGLYPH_SHARE * len(words)))
    chosen = sorted(rng.choice(len(words), size=k, replace=False).tolist())
    chars = list(text)
    for w in chosen:
        m = words[w]
        spots = [m.start() + i for i, c in enumerate(m.group()) if c in table]
        at = spots[int(rng.integers(len(spots)))]
        chars[at] = table[chars[at]]
    return "".join(chars)


# --- code-switching ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lexicon:
    """Phrases by language, aligned: ``phrases[lang][i]`` translates ``phrases[other][i]``."""

    languages: tuple[str, ...]
    phrases: dict[str, tuple[str, ...]]

    def target(self, lang: str) -> str:
        """The language to switch into: English, or French for English text."""
        return "fr" if lang == "en" else "en"


@functools.cache
def lexicon() -> Lexicon:
    text = resources.files("tuneproof.evaluate").joinpath("lexicon.tsv").read_text("utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    header = tuple(lines[0].split("\t"))
    rows = [ln.split("\t") for ln in lines[1:]]
    return Lexicon(header, {lang: tuple(r[j] for r in rows) for j, lang in enumerate(header)})


@functools.cache
def _lexicon_pattern(lang: str) -> re.Pattern[str]:
    phrases = sorted(set(lexicon().phrases[lang]), key=len, reverse=True)  # longest first
    alternatives = "|".join(re.escape(p) for p in phrases)
    return re.compile(rf"(?<!\w)({alternatives})(?!\w)", re.IGNORECASE)


def code_switch(text: str, lang: str) -> str | None:
    """The first lexicon phrase of the text's language replaced by the other language's."""
    lex = lexicon()
    if lang not in lex.languages:
        return None
    target = lex.target(lang)
    index = {p.lower(): i for i, p in enumerate(lex.phrases[lang])}
    for m in _lexicon_pattern(lang).finditer(text):
        found = m.group(1)
        new = lex.phrases[target][index[found.lower()]]
        if new.lower() == found.lower():
            continue  # the same word in both languages (roman, auteur)
        sentence_start = not text[: m.start()].strip() or text[: m.start()].rstrip()[-1] in ".!?"
        if found[0].isupper() and sentence_start:
            new = new[0].upper() + new[1:]
        elif target != "de":
            new = new[0].lower() + new[1:] if not new[:2].isupper() else new
        return text[: m.start()] + new + text[m.end() :]
    return None


# --- keyboard typos ----------------------------------------------------------------------------

LAYOUTS: dict[str, tuple[str, ...]] = {
    "qwerty": ("qwertyuiop", "asdfghjkl", "zxcvbnm"),
    "azerty": ("azertyuiop", "qsdfghjklm", "wxcvbn"),
    "qwertz": ("qwertzuiopü", "asdfghjklöä", "yxcvbnm"),
}
LAYOUT_OF = {"fr": "azerty", "de": "qwertz"}  # every other language: qwerty
TYPO_SHARE = 0.05  # of the words of 4+ letters; at least one


@functools.cache
def neighbours(layout: str) -> dict[str, str]:
    """Keys next to each letter: same row left/right, and the staggered rows above and below
    (the row above is offset half a key left, so keys ``c`` and ``c+1`` touch; below ``c-1, c``)."""
    rows = LAYOUTS[layout]
    out: dict[str, str] = {}
    for r, row in enumerate(rows):
        for c, key in enumerate(row):
            near = [row[i] for i in (c - 1, c + 1) if 0 <= i < len(row)]
            if r > 0:
                near += [rows[r - 1][i] for i in (c, c + 1) if i < len(rows[r - 1])]
            if r + 1 < len(rows):
                near += [rows[r + 1][i] for i in (c - 1, c) if 0 <= i < len(rows[r + 1])]
            out[key] = "".join(near)
    return out


def keyboard_typos(text: str, lang: str) -> str | None:
    """A letter inside one word in twenty (4+ letters) replaced by a neighbouring key."""
    keys = neighbours(LAYOUT_OF.get(lang, "qwerty"))
    words = [m for m in _words(text) if len(m.group()) >= 4]
    words = [m for m in words if any(c.lower() in keys for c in m.group()[1:])]
    if not words:
        return None
    rng = _rng(text, "typo")
    k = max(1, round(TYPO_SHARE * len(words)))
    chars = list(text)
    for w in sorted(rng.choice(len(words), size=k, replace=False).tolist()):
        m = words[w]
        spots = [m.start() + i for i, c in enumerate(m.group()) if i > 0 and c.lower() in keys]
        at = spots[int(rng.integers(len(spots)))]
        near = keys[chars[at].lower()]
        new = near[int(rng.integers(len(near)))]
        chars[at] = new.upper() if chars[at].isupper() else new
    return "".join(chars)


# --- numbers -----------------------------------------------------------------------------------

THOUSANDS = {"en": ",", "fr": "\u00a0", "de": ".", "nl": ".", "es": ".", "it": ".", "pt": "."}
NUMBER_WORDS: dict[str, tuple[str, ...]] = {  # 2..10
    "en": ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    "fr": ("deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"),
    "nl": ("twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien"),
    "de": ("zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn"),
}
_PLAIN = re.compile(r"(?<![\w.,\u00a0\u202f])\d{4,9}(?!\w|[.,]\d)")
YEARS = range(1000, 2101)  # 4-digit numbers read as years are never grouped ("1980er", "1637")


def _grouped(sep: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.,])\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+(?!\w|[.,]\d)")


def _group_unless_year(m: re.Match[str], sep: str) -> str:
    digits = m.group()
    return digits if len(digits) == 4 and int(digits) in YEARS else _group(digits, sep)


def _group(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


def number_formats(text: str, lang: str) -> str | None:
    """Integers of 4+ digits (not years) get the language's thousands separator (grouped ones
    lose it);
    without such a number, the number words two..ten become digits, or digits 2..10 words."""
    sep = THOUSANDS.get(lang, ",")
    out = _PLAIN.sub(lambda m: _group_unless_year(m, sep), text)
    out = _grouped(sep).sub(lambda m: m.group().replace(sep, ""), out) if out == text else out
    if out != text:
        return out
    words = NUMBER_WORDS.get(lang)
    if words is None:
        return None
    value = {w: str(i + 2) for i, w in enumerate(words)}
    pattern = re.compile(rf"(?<!\w)({'|'.join(words)})(?!\w)", re.IGNORECASE)
    out = pattern.sub(lambda m: value[m.group(1).lower()], text, count=1)
    if out == text:
        out = re.sub(
            r"(?<![\w.,:/-])([2-9]|10)(?![\w.,:/-]|\s?%)",
            lambda m: words[int(m.group(1)) - 2],
            text,
            count=1,
        )
    return out if out != text else None


# --- dates -------------------------------------------------------------------------------------

MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"),
}  # fmt: skip
_NUMERIC_DATE = re.compile(r"(?<![\d./-])(\d{1,2})([./])(\d{1,2})\2(\d{4})(?![\d./-])")
_ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")


def _written(day: int, month: int, year: int, lang: str) -> str:
    name = MONTHS[lang][month - 1]
    if lang == "en":
        return f"{name} {day}, {year}"
    return f"{day}. {name} {year}" if lang == "de" else f"{day} {name} {year}"


def _valid(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def date_formats(text: str, lang: str) -> str | None:
    """The first date rewritten: numeric (``12.03.2020``, ``12/03/2020``; month first in English)
    or ISO → written out in the language; written out → ISO ``2020-03-12``."""
    if lang not in MONTHS:
        return None
    names = MONTHS[lang]
    month_no = {n.lower(): i + 1 for i, n in enumerate(names)}
    alt = "|".join(re.escape(n) for n in names)
    written = (
        re.compile(rf"(?<!\w)({alt}) (\d{{1,2}}), (\d{{4}})(?!\d)", re.IGNORECASE)
        if lang == "en"
        else re.compile(rf"(?<!\d)(\d{{1,2}})\.? ({alt}) (\d{{4}})(?!\d)", re.IGNORECASE)
    )
    found: list[tuple[int, int, str]] = []
    m = _NUMERIC_DATE.search(text)
    if m:
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        day, month = (b, a) if lang == "en" and m.group(2) == "/" else (a, b)
        if _valid(day, month):
            found.append((m.start(), m.end(), _written(day, month, year, lang)))
    m = _ISO_DATE.search(text)
    if m and _valid(int(m.group(3)), int(m.group(2))):
        new = _written(int(m.group(3)), int(m.group(2)), int(m.group(1)), lang)
        found.append((m.start(), m.end(), new))
    m = written.search(text)
    if m:
        if lang == "en":
            month, day, year = month_no[m.group(1).lower()], int(m.group(2)), int(m.group(3))
        else:
            day, month, year = int(m.group(1)), month_no[m.group(2).lower()], int(m.group(3))
        if _valid(day, month):
            found.append((m.start(), m.end(), f"{year}-{month:02d}-{day:02d}"))
    if not found:
        return None
    start, end, new = min(found)
    return text[:start] + new + text[end:]
