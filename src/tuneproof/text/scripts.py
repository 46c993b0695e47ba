"""Which writing system a character or text uses, from a compact table of Unicode ranges.

Tokenizer quality depends on the script far more than on the language (an English WordPiece
vocabulary covers German but not Thai), and scripts can be told apart from code points alone, with
no language detector. ``tokens`` groups texts by script when there is no language column, ``eval``
and ``check`` reuse :func:`dominant_script` for slice tags. The table covers the scripts of the
world's widely written languages; other letters fall back to the first word of their Unicode name
(``"CHEROKEE LETTER A"`` → ``"Cherokee"``), marks to ``"Inherited"``, everything else (digits,
punctuation, symbols, emoji) to ``"Common"``, as in Unicode's Scripts.txt.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections import Counter

COMMON = "Common"
INHERITED = "Inherited"

#: Scripts written without spaces between words: fertility is measured per character there.
UNSEGMENTED_SCRIPTS = frozenset({"Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar"})

#: Scripts that one language writes together: Japanese mixes Han with Hiragana and Katakana,
#: Korean sometimes Han with Hangul, Chinese Han with Bopomofo. Two of them in a text are one
#: writing system, not a switch of language.
CJK_SCRIPTS = frozenset({"Han", "Hiragana", "Katakana", "Hangul", "Bopomofo"})
CJK = "CJK"

# (first, last, script), sorted, non-overlapping. Blocks, not exact Scripts.txt ranges: the few
# Common code points inside a block (e.g. the Arabic comma) count for the block's script, which
# is what a reader of the text would say too.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latin"),
    (0x0061, 0x007A, "Latin"),
    (0x00AA, 0x00AA, "Latin"),
    (0x00BA, 0x00BA, "Latin"),
    (0x00C0, 0x00D6, "Latin"),
    (0x00D8, 0x00F6, "Latin"),
    (0x00F8, 0x02AF, "Latin"),
    (0x0300, 0x036F, INHERITED),
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0531, 0x058F, "Armenian"),
    (0x0591, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0700, 0x074F, "Syriac"),
    (0x0750, 0x077F, "Arabic"),
    (0x0780, 0x07BF, "Thaana"),
    (0x08A0, 0x08FF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"),
    (0x0F00, 0x0FFF, "Tibetan"),
    (0x1000, 0x109F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"),
    (0x1780, 0x17FF, "Khmer"),
    (0x19E0, 0x19FF, "Khmer"),
    (0x1AB0, 0x1AFF, INHERITED),
    (0x1C80, 0x1C8F, "Cyrillic"),
    (0x1DC0, 0x1DFF, INHERITED),
    (0x1E00, 0x1EFF, "Latin"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x200C, 0x200D, INHERITED),
    (0x20D0, 0x20FF, INHERITED),
    (0x2C60, 0x2C7F, "Latin"),
    (0x2DE0, 0x2DFF, "Cyrillic"),
    (0x2E80, 0x2FDF, "Han"),
    (0x3005, 0x3005, "Han"),
    (0x3007, 0x3007, "Han"),
    (0x3021, 0x3029, "Han"),
    (0x3038, 0x303B, "Han"),
    (0x3041, 0x3096, "Hiragana"),
    (0x3099, 0x309A, INHERITED),
    (0x309D, 0x309F, "Hiragana"),
    (0x30A1, 0x30FA, "Katakana"),
    (0x30FC, 0x30FF, "Katakana"),
    (0x3105, 0x312F, "Bopomofo"),
    (0x3131, 0x318E, "Hangul"),
    (0x31F0, 0x31FF, "Katakana"),
    (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"),
    (0xA640, 0xA69F, "Cyrillic"),
    (0xA720, 0xA7FF, "Latin"),
    (0xA8E0, 0xA8FF, "Devanagari"),
    (0xA960, 0xA97F, "Hangul"),
    (0xAB30, 0xAB6F, "Latin"),
    (0xAC00, 0xD7FF, "Hangul"),
    (0xF900, 0xFAFF, "Han"),
    (0xFB00, 0xFB06, "Latin"),
    (0xFB13, 0xFB17, "Armenian"),
    (0xFB1D, 0xFB4F, "Hebrew"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE00, 0xFE0F, INHERITED),
    (0xFE20, 0xFE2F, INHERITED),
    (0xFE70, 0xFEFC, "Arabic"),
    (0xFF21, 0xFF3A, "Latin"),
    (0xFF41, 0xFF5A, "Latin"),
    (0xFF66, 0xFF9D, "Katakana"),
    (0xFFA0, 0xFFDC, "Hangul"),
    (0x1F1E6, 0x1F1FF, COMMON),  # regional indicators (flags) are symbols, not Latin
    (0x20000, 0x2FA1F, "Han"),
    (0x30000, 0x3134F, "Han"),
)
_STARTS = [first for first, _, _ in _RANGES]


def script_of(char: str) -> str:
    """The script of one character: ``"Latin"``, ``"Han"``, ..., ``"Common"`` or ``"Inherited"``."""
    cp = ord(char)
    i = bisect.bisect_right(_STARTS, cp) - 1
    if i >= 0 and cp <= _RANGES[i][1]:
        return _RANGES[i][2]
    category = unicodedata.category(char)
    if category[0] == "M":
        return INHERITED
    if category[0] == "L":
        name = unicodedata.name(char, "")
        return name.split(" ", 1)[0].title() if name else COMMON
    return COMMON


def scripts_in(text: str) -> Counter[str]:
    """Characters per script, whitespace excluded (``Common`` and ``Inherited`` included)."""
    return Counter(script_of(ch) for ch in text if not ch.isspace())


def dominant_script(text: str) -> str:
    """The most frequent real script of ``text``; ``"Common"`` when it has none (digits, emoji).

    Ties go to the script that appears first, so the answer is deterministic.
    """
    counts = scripts_in(text)
    real = [(n, -i, s) for i, (s, n) in enumerate(counts.items()) if s not in (COMMON, INHERITED)]
    return max(real)[2] if real else COMMON


def writing_system(script: str) -> str:
    """``"CJK"`` for the scripts of :data:`CJK_SCRIPTS`, else the script itself."""
    return CJK if script in CJK_SCRIPTS else script


def writing_systems_in(text: str) -> Counter[str]:
    """Letters per writing system (:func:`writing_system`), ``Common``/``Inherited`` excluded."""
    out: Counter[str] = Counter()
    for script, n in scripts_in(text).items():
        if script not in (COMMON, INHERITED):
            out[writing_system(script)] += n
    return out


def is_unsegmented(text: str) -> bool:
    """True when most letters of ``text`` belong to scripts written without spaces between words."""
    counts = scripts_in(text)
    real = sum(n for s, n in counts.items() if s not in (COMMON, INHERITED))
    unseg = sum(n for s, n in counts.items() if s in UNSEGMENTED_SCRIPTS)
    return real > 0 and unseg * 2 > real
