"""The multilingual stress edits, one transformation at a time (no model)."""

from __future__ import annotations

import unicodedata

import pytest

from tuneproof.evaluate import perturb
from tuneproof.evaluate.stress import TESTS
from tuneproof.text.scripts import scripts_in


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Привет, мир", "ru", "Privet, mir"),
        ("Καλημέρα κόσμε", "el", "Kalimera kosme"),
        ("नमस्ते दुनिया", "hi", "nmste duniya"),
        ("Москва 2020 — café", "ru", "Moskva 2020 — café"),  # Latin and its accents kept
        ("a plain café", "fr", None),  # nothing to romanise
    ],
)
def test_transliteration_romanises_non_latin_scripts_only(text, lang, expected):
    out = perturb.transliterate(text, lang)
    assert out == expected
    if out is not None:
        assert set(scripts_in(out)) <= {"Latin", "Common"}


def test_diacritics_are_stripped_the_way_the_language_spells_without_them():
    assert perturb.strip_diacritics("Schöne Grüße aus Köln", "de") == "Schoene Gruesse aus Koeln"
    assert perturb.strip_diacritics("Œuvre très réussie", "fr") == "Oeuvre tres reussie"
    assert perturb.strip_diacritics("één keer geëindigd", "nl") == "een keer geeindigd"
    assert perturb.strip_diacritics("plain text", "en") is None


def test_homoglyphs_swap_script_but_keep_the_picture():
    text = "the book was a wonderful story and a pleasure to read"
    out = perturb.homoglyphs(text, "en")
    assert out is not None and len(out) == len(text) and out != text
    changed = [(a, b) for a, b in zip(text, out, strict=True) if a != b]
    assert 1 <= len(changed) <= 2  # one letter in about one word of ten
    for a, b in changed:
        assert perturb.LATIN_TO_CYRILLIC.get(a, perturb.LATIN_TO_GREEK.get(a)) == b
        assert unicodedata.name(b).split()[0] in ("CYRILLIC", "GREEK")
    assert perturb.homoglyphs(text, "en") == out  # seeded by the text: replayable
    back = perturb.homoglyphs("Это хорошая книга", "ru")  # Cyrillic → Latin look-alikes
    assert back is not None and "Latin" in scripts_in(back)
    assert perturb.homoglyphs("123 !", "en") is None


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Dit boek is echt mooi.", "nl", "This book is echt mooi."),
        ("Das Buch ist sehr gut.", "de", "The book ist sehr gut."),
        ("Ich finde es leider langweilig.", "de", "Ich finde es unfortunately langweilig."),
        ("Le livre est vraiment bon.", "fr", "The book est vraiment bon."),
        ("The story was really good", "en", "L'histoire was really good"),
        ("Un roman passionnant.", "fr", "Un novel passionnant."),
        ("nothing from the list", "fr", None),
        ("Das Buch", "tr", None),  # no lexicon for the language
    ],
)
def test_code_switch_replaces_a_phrase_by_its_lexicon_counterpart(text, lang, expected):
    assert perturb.code_switch(text, lang) == expected


def test_lexicon_is_aligned_across_its_four_languages():
    lex = perturb.lexicon()
    assert lex.languages == ("en", "fr", "nl", "de")
    sizes = {len(p) for p in lex.phrases.values()}
    assert len(sizes) == 1 and sizes.pop() >= 30


@pytest.mark.parametrize(
    ("lang", "layout"), [("en", "qwerty"), ("nl", "qwerty"), ("fr", "azerty"), ("de", "qwertz")]
)
def test_keyboard_typos_use_a_neighbouring_key_of_the_language_layout(lang, layout):
    text = "wonderful adventure with amazing characters and a surprising ending"
    out = perturb.keyboard_typos(text, lang)
    assert out is not None and len(out) == len(text)
    (a, b), *rest = [(a, b) for a, b in zip(text, out, strict=True) if a != b]
    assert not rest  # 8 words of 4+ letters: one typo (one word in twenty, at least one)
    assert b in perturb.neighbours(layout)[a]


def test_keyboard_layouts_differ_where_the_keyboards_do():
    # AZERTY has a and z swapped with QWERTY's q and w; QWERTZ swaps y and z
    assert "z" in perturb.neighbours("azerty")["a"] and "q" in perturb.neighbours("azerty")["a"]
    assert "w" in perturb.neighbours("qwerty")["q"]
    assert "y" in perturb.neighbours("qwerty")["t"] and "z" in perturb.neighbours("qwertz")["t"]
    assert "ö" in perturb.neighbours("qwertz")["l"]


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("rund 12000 km", "de", "rund 12.000 km"),
        ("il coûte 25000 euros", "fr", "il coûte 25\u00a0000 euros"),
        ("over 1500000 copies", "en", "over 1,500,000 copies"),
        ("1,000 people", "en", "1000 people"),
        ("4.500 Seiten", "de", "4500 Seiten"),
        ("I read it two times", "en", "I read it 2 times"),
        ("87 Tage, 3 mal", "de", "87 Tage, drei mal"),
        ("wel drie keer", "nl", "wel 3 keer"),
        ("Mitte der 1980er Jahre, 87 Tage", "de", None),  # 1980er is a word, 87 no word
        ("l'édition de 1637, vraiment", "fr", None),  # a year is never grouped
        ("no numbers here", "en", None),
    ],
)
def test_number_formats(text, lang, expected):
    assert perturb.number_formats(text, lang) == expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("am 12.03.2020 gekauft", "de", "am 12. März 2020 gekauft"),
        ("le 12/03/2020", "fr", "le 12 mars 2020"),
        ("on 3/12/2020", "en", "on March 12, 2020"),  # month first in English
        ("le 12 mars 2020", "fr", "le 2020-03-12"),
        ("on March 12, 2020", "en", "on 2020-03-12"),
        ("op 2020-03-12", "nl", "op 12 maart 2020"),
        ("am 31.13.2020", "de", None),  # no month 13
        ("no date", "en", None),
    ],
)
def test_date_formats(text, lang, expected):
    assert perturb.date_formats(text, lang) == expected


def test_every_multilingual_edit_is_a_stress_test():
    names = {t.name: t.kind for t in TESTS}
    for name in ("transliteration", "homoglyphs", "code_switch", "keyboard_typos",
                 "number_format", "date_format", "diacritics"):  # fmt: skip
        assert names[name] == "invariance"
