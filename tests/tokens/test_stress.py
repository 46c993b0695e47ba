"""Stress checks: round trips (exact and normalised), UNK, fertility thresholds."""

from __future__ import annotations

import unicodedata

import pytest

from tuneproof.tokens.stress import (
    STRESS_CASES,
    StressCase,
    describe_char,
    normalised_view,
    round_trip_problem,
    stress,
)

from .conftest import CharTokenizer


def test_exact_round_trip_reports_lost_and_added_characters():
    assert round_trip_problem("a b", "a b", exact=True) is None
    problem = round_trip_problem("naïve", "naive", exact=True)
    assert problem is not None and "lost 1: ï (U+00EF)" in problem and "added 1: i" in problem
    assert "added 1: U+0020 SPACE" in str(round_trip_problem("a b", "a  b", exact=True))
    assert "different order or spacing" in str(round_trip_problem("ab", "ba", exact=True))


def test_normalised_round_trip_forgives_case_spacing_and_compatibility_forms():
    assert round_trip_problem("Ｆｕｌｌ  Width", "full width", exact=False, lowercase=True) is None
    assert round_trip_problem("ABC", "abc", exact=False, lowercase=False) is not None
    assert normalised_view("e\u0301 x", lowercase=False) == "éx"  # NFD composes


def test_normalised_round_trip_does_not_forgive_dropped_marks():
    # what the uncased BERT normaliser does to Devanagari and dakuten
    problem = round_trip_problem("हूँ が", "ह か", exact=False, lowercase=True)
    assert problem is not None
    assert "U+0942 DEVANAGARI VOWEL SIGN UU" in problem and "U+0901" in problem
    assert "が (U+304C)" in problem and "added 1: か (U+304B)" in problem


def test_invisible_characters_are_named():
    assert describe_char("\u200d") == "U+200D ZERO WIDTH JOINER"
    assert describe_char("\u0301") == "◌\u0301 (U+0301 COMBINING ACUTE ACCENT)"
    assert describe_char("x") == "x (U+0078)"


def test_suite_covers_the_issue_list():
    names = {c.name for c in STRESS_CASES}
    assert {
        "chinese",
        "japanese",
        "thai",
        "arabic",
        "hebrew",
        "devanagari",
        "cyrillic",
        "greek",
        "emoji",
        "nfc",
        "nfd",
        "zero-width",
        "code-switching",
        "url",
        "code",
        "numbers",
        "long-words",
    } <= names
    cases = {c.name: c.text for c in STRESS_CASES}
    assert cases["nfd"] == unicodedata.normalize("NFD", cases["nfc"]) != cases["nfc"]


def test_stress_flags_dropped_marks_unk_and_fertility():
    tok = CharTokenizer(strip_marks=True, lossless=False, unknown="✓")
    cases = [
        StressCase("marks", "", "हूँ"),
        StressCase("unk", "", "ok ✓", natural=False),
        StressCase("clean", "", "abc de"),
        StressCase("long", "", "abcdefgh"),  # 8 tokens for one word
    ]
    report = stress(tok, cases, max_fertility=3.0)
    by = {r.name: r for r in report.results}
    assert "lost" in by["marks"].problems[0] and "U+0942" in by["marks"].problems[0]
    assert by["unk"].problems[0].endswith("lost 1: ✓ (U+2713)")  # UNK loses the character too
    assert by["unk"].problems[1] == "1 UNK token(s) for '✓'"
    assert by["clean"].ok
    assert by["long"].problems == ["fertility 8.00 tokens/word > 3"]
    assert [r.name for r in report.failed] == ["marks", "unk", "long"]
    assert report.round_trip == "normalised (NFKC, whitespace ignored)"
    assert report.to_dict()["failed"] == 3


def test_fertility_threshold_skips_non_natural_cases_and_uses_characters_when_unsegmented():
    tok = CharTokenizer(lossless=False)
    cases = [
        StressCase("zh", "", "我们明天见"),  # 1 token per character
        StressCase("url", "", "https://example.com", natural=False),
    ]
    strict = stress(tok, cases, max_char_fertility=0.5)
    assert strict.results[0].problems == ["fertility 1.00 tokens/character > 0.5"]
    assert strict.results[1].ok
    assert stress(tok, cases, max_char_fertility=1.0).results[0].ok


@pytest.mark.slow
def test_uncased_bert_fails_on_devanagari_and_dakuten_while_xlmr_passes(builtin):
    bert = {r.name: r for r in stress(builtin("minilm-l6")).results}
    devanagari = " ".join(bert["devanagari"].problems)
    assert "lost" in devanagari and "U+0941 DEVANAGARI VOWEL SIGN U" in devanagari
    japanese = " ".join(bert["japanese"].problems)
    assert "lost" in japanese and "で (U+3067)" in japanese
    assert "UNK" in " ".join(bert["emoji"].problems)
    assert "UNK" in " ".join(bert["very-long-word"].problems)  # WordPiece stops at 100 chars
    xlmr = {r.name: r for r in stress(builtin("xlmr")).results}
    for name in ("devanagari", "japanese", "chinese", "thai", "arabic", "nfd"):
        assert xlmr[name].ok, xlmr[name].problems


@pytest.mark.slow
def test_byte_level_tokenizers_round_trip_every_case(builtin):
    for name in ("gpt2", "cl100k"):
        report = stress(builtin(name))
        assert report.round_trip == "exact"
        assert not any("decode" in p for r in report.results for p in r.problems)
        assert not any(r.n_unk for r in report.results)
