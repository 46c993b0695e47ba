"""Script detection from code points: single characters, counts, dominant script, segmentation."""

from __future__ import annotations

import pytest

from tuneproof.text.scripts import dominant_script, is_unsegmented, script_of, scripts_in


@pytest.mark.parametrize(
    ("char", "script"),
    [
        ("a", "Latin"),
        ("ß", "Latin"),
        ("Ω", "Greek"),
        ("ж", "Cyrillic"),
        ("ש", "Hebrew"),
        ("ب", "Arabic"),
        ("क", "Devanagari"),
        ("\u093f", "Devanagari"),
        ("中", "Han"),
        ("々", "Han"),
        ("が", "Hiragana"),
        ("カ", "Katakana"),
        ("ー", "Katakana"),
        ("ก", "Thai"),
        ("한", "Hangul"),
        ("ა", "Georgian"),
        ("ａ", "Latin"),
        ("\u0301", "Inherited"),
        ("\u200d", "Inherited"),
        ("\u3099", "Inherited"),
        ("7", "Common"),
        ("!", "Common"),
        ("😀", "Common"),
        ("🇩", "Common"),
        ("、", "Common"),
        ("Ꭰ", "Cherokee"),  # not in the range table: falls back to the Unicode name
    ],
)
def test_script_of(char, script):
    assert script_of(char) == script


def test_scripts_in_counts_characters_and_skips_whitespace():
    counts = scripts_in("Hi 東京!  ")
    assert counts == {"Latin": 2, "Han": 2, "Common": 1}


def test_dominant_script_ignores_common_and_inherited():
    assert dominant_script("2024: Москва!!! 123") == "Cyrillic"
    assert dominant_script("東京では雨です") == "Hiragana"  # 4 kana beat 3 kanji
    assert dominant_script("123 😀 ?!") == "Common"
    assert dominant_script("") == "Common"


def test_dominant_script_ties_go_to_the_first_script():
    assert dominant_script("ab ив") == "Latin"
    assert dominant_script("ив ab") == "Cyrillic"


@pytest.mark.parametrize(
    ("text", "unsegmented"),
    [
        ("我们明天见", True),
        ("ฉันชอบกินข้าว", True),
        ("東京は雨 OK", True),
        ("Meeting in 東京", False),  # 7 Latin letters, 2 Han
        ("오늘 날씨가 좋네요", False),  # Hangul is written with spaces
        ("12:30 !", False),
    ],
)
def test_is_unsegmented(text, unsegmented):
    assert is_unsegmented(text) is unsegmented
