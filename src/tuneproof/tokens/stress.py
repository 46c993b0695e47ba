"""A built-in stress suite: texts that break tokenizers, and checks that say how they break.

Three checks per text. **Round trip**: tokenizers that claim to be lossless (byte-level BPE,
tiktoken, SentencePiece with byte fallback) must give the text back exactly from
``decode(encode(text))``; normalising tokenizers (WordPiece, Unigram with NFKC) are compared on a
view that forgives what is harmless (Unicode compatibility forms, whitespace, and case for
lowercasing tokenizers) but not lost characters: the uncased BERT vocabulary strips combining
marks, so Devanagari vowel signs, Japanese dakuten and Arabic harakat silently disappear, and
that fails. **UNK**: any unknown token fails. **Fertility**: natural-language texts fail above a
tokens-per-word (or per-character, for unsegmented scripts) threshold.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tuneproof.tokens.analysis import text_stats
from tuneproof.tokens.base import Tokenizer

MAX_FERTILITY = 3.0  # tokens per word
MAX_CHAR_FERTILITY = 1.5  # tokens per character, unsegmented scripts


@dataclass(frozen=True)
class StressCase:
    name: str
    probes: str  # what the text exercises
    text: str
    natural: bool = True  # natural language: the fertility threshold applies


_DIACRITICS = "Crème brûlée, naïve café, São Paulo, Ångström, Dvořák."

STRESS_CASES: tuple[StressCase, ...] = (
    StressCase("chinese", "Han without spaces", "我们明天早上九点在火车站见面，别迟到。"),
    StressCase(
        "japanese",
        "kanji and kana without spaces; dakuten (が, で)",
        "東京では明日、雨が降るでしょう。傘を持っていってください。",
    ),
    StressCase("korean", "Hangul syllables", "오늘은 날씨가 정말 좋네요. 산책하러 갈까요?"),
    StressCase(
        "thai",
        "Thai without spaces; combining vowels and tones",
        "ฉันชอบกินข้าวผัดกับไข่ดาวทุกเช้า",
    ),
    StressCase(
        "arabic",
        "RTL, harakat (combining vowel marks)",
        "ذهبتُ إلى المكتبةِ لأقرأَ كتاباً جديداً.",
    ),
    StressCase("hebrew", "RTL, niqqud on the first word", "שָׁלוֹם! הספרייה נפתחת בשעה תשע בבוקר."),
    StressCase(
        "bidi", "RTL with embedded Latin and digits", "גרסה 2.0 של Python יצאה ב-2024, ראה PEP 8."
    ),
    StressCase(
        "devanagari",
        "vowel signs, virama conjuncts, chandrabindu",
        "मैं कल सुबह दिल्ली जाऊँगा और क्षत्रिय परिवार से मिलूँगा।",
    ),
    StressCase(
        "cyrillic",
        "Cyrillic pangram (ё, й)",
        "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    ),
    StressCase(
        "greek",
        "tonos accents, final sigma",
        "Σήμερα ο καιρός είναι υπέροχος, πάμε για καφέ στην πλατεία;",
    ),
    StressCase(
        "emoji",
        "ZWJ sequences, skin tones, flags, variation selectors",
        "Family 👨‍👩‍👧‍👦, thumbs up 👍🏽, flag 🇩🇪, rainbow 🏳️‍🌈, heart ❤️",
        natural=False,
    ),
    StressCase("nfc", "precomposed diacritics (NFC)", unicodedata.normalize("NFC", _DIACRITICS)),
    StressCase("nfd", "decomposed diacritics (NFD)", unicodedata.normalize("NFD", _DIACRITICS)),
    StressCase(
        "zero-width",
        "zero-width space, ZWNJ (Persian), ZWJ (Devanagari), soft hyphen",
        "co\u200boperate, می\u200cخواهم, क्\u200dष, soft\u00adware",
        natural=False,
    ),
    StressCase(
        "code-switching",
        "German, English, Chinese and Russian in one message",
        "Ich hab das Meeting auf Montag verschoben, okay? 明天见! Увидимся.",
    ),
    StressCase(
        "url",
        "URL with query and fragment, e-mail address",
        "See https://example.com/docs/tokens?lang=de&page=2#parity or mail team@example.org",
        natural=False,
    ),
    StressCase(
        "code",
        "indentation, operators, superscript in a comment",
        "def area(r: float) -> float:\n    return 3.14159 * r ** 2  # π r²\n",
        natural=False,
    ),
    StressCase(
        "numbers",
        "dates, times, currencies, decimal separators, exponents, phone numbers",
        "On 2024-03-15 at 14:30 we paid €1,234.56 (1.234,56 € in Germany), 3.5e-10 per unit, "
        "+49 30 1234567.",
        natural=False,
    ),
    StressCase(
        "long-words",
        "long compounds",
        "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft and "
        "pneumonoultramicroscopicsilicovolcanoconiosis",
        natural=False,
    ),
    StressCase(
        "very-long-word",
        "a 128-character word (WordPiece gives up after 100)",
        "sha512: cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0"
        "ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        natural=False,
    ),
)


def describe_char(ch: str) -> str:
    """A character as a reader can identify it, invisible and combining ones included."""
    cat = unicodedata.category(ch)
    shown = f"◌{ch}" if cat[0] == "M" else ("" if cat[0] in "CZ" else ch)
    name = unicodedata.name(ch, "")
    label = f"U+{ord(ch):04X}" + (f" {name}" if name and (cat[0] in "MCZ") else "")
    return f"{shown} ({label})" if shown else label


def _describe(counts: Counter[str], limit: int = 6) -> str:
    items = [f"{describe_char(c)}{' ×' + str(n) if n > 1 else ''}" for c, n in counts.most_common()]
    more = f", … {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def normalised_view(text: str, *, lowercase: bool) -> str:
    """What a normalising tokenizer may legitimately change removed: NFKC, whitespace, case."""
    view = unicodedata.normalize("NFKC", text)
    if lowercase:
        view = view.lower()
    return "".join(ch for ch in view if not ch.isspace())


def round_trip_problem(
    text: str, decoded: str, *, exact: bool, lowercase: bool = False
) -> str | None:
    """None when the round trip is acceptable, else what was lost or added."""
    if exact:
        if decoded == text:
            return None
        expected, got = text, decoded
    else:
        expected = normalised_view(text, lowercase=lowercase)
        got = normalised_view(decoded, lowercase=lowercase)
        if expected == got:
            return None
    lost, added = Counter(expected) - Counter(got), Counter(got) - Counter(expected)
    parts = []
    if lost:
        parts.append(f"lost {sum(lost.values())}: {_describe(lost)}")
    if added:
        parts.append(f"added {sum(added.values())}: {_describe(added)}")
    what = "; ".join(parts) or "same characters in a different order or spacing"
    return f"decode(encode(text)) ≠ text: {what}"


def lowercases(tokenizer: Tokenizer) -> bool:
    """Does the tokenizer fold case? Probed, since normalisers are not introspectable in general."""
    return tokenizer.decode(tokenizer.encode("ABC XYZ").ids).strip() == "abc xyz"


@dataclass(frozen=True)
class CaseResult:
    name: str
    probes: str
    text: str
    decoded: str
    n_tokens: int
    fertility: float
    unsegmented: bool
    n_unk: int
    n_byte: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "case": self.name,
            "probes": self.probes,
            "ok": self.ok,
            "problems": self.problems,
            "tokens": self.n_tokens,
            "fertility": round(self.fertility, 3),
            "per": "character" if self.unsegmented else "word",
            "unk": self.n_unk,
            "byte_tokens": self.n_byte,
            "text": self.text,
            "decoded": self.decoded,
        }


@dataclass(frozen=True)
class StressReport:
    tokenizer: str
    kind: str
    round_trip: str  # how the round trip was judged
    max_fertility: float
    max_char_fertility: float
    results: list[CaseResult]

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.ok]

    def to_dict(self) -> dict[str, object]:
        return {
            "tokenizer": self.tokenizer,
            "kind": self.kind,
            "round_trip": self.round_trip,
            "max_fertility": self.max_fertility,
            "max_char_fertility": self.max_char_fertility,
            "passed": len(self.results) - len(self.failed),
            "failed": len(self.failed),
            "cases": [r.to_dict() for r in self.results],
        }


def stress(
    tokenizer: Tokenizer,
    cases: Sequence[StressCase] = STRESS_CASES,
    *,
    max_fertility: float = MAX_FERTILITY,
    max_char_fertility: float = MAX_CHAR_FERTILITY,
) -> StressReport:
    """Run the stress cases through one tokenizer and report every problem found."""
    exact = tokenizer.lossless
    lower = False if exact else lowercases(tokenizer)
    results = []
    encoded_all = tokenizer.encode_batch([c.text for c in cases])
    for case, enc in zip(cases, encoded_all, strict=True):
        stats = text_stats(case.text, enc, tokenizer)
        decoded = tokenizer.decode(enc.ids)
        problems = []
        trip = round_trip_problem(case.text, decoded, exact=exact, lowercase=lower)
        if trip:
            problems.append(trip)
        if stats.n_unk:
            spans = [s for i, s in zip(enc.ids, enc.spans, strict=True) if i == tokenizer.unk_id]
            where = ", ".join(dict.fromkeys(repr(case.text[a:b]) for a, b in spans if b > a))
            problems.append(f"{stats.n_unk} UNK token(s)" + (f" for {where}" if where else ""))
        limit = max_char_fertility if stats.unsegmented else max_fertility
        if case.natural and stats.fertility > limit:
            unit = "character" if stats.unsegmented else "word"
            problems.append(f"fertility {stats.fertility:.2f} tokens/{unit} > {limit:g}")
        results.append(
            CaseResult(
                case.name,
                case.probes,
                case.text,
                decoded,
                stats.n_tokens,
                stats.fertility,
                stats.unsegmented,
                stats.n_unk,
                stats.n_byte,
                problems,
            )
        )
    ignored = "NFKC, whitespace" + (", case" if lower else "")
    how = "exact" if exact else f"normalised ({ignored} ignored)"
    return StressReport(
        tokenizer.name, tokenizer.kind, how, max_fertility, max_char_fertility, results
    )
