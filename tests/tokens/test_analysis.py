"""Metric definitions on hand-computed examples (docs/tokens.md gives the same numbers)."""

from __future__ import annotations

import pytest

from tuneproof.tokens.analysis import (
    TextStats,
    char_spans,
    fertility,
    over_length_share,
    parity,
    summarize,
    text_stats,
    token_stats,
    tokens_per_unit,
    word_spans,
)
from tuneproof.tokens.base import Encoded


def words(text: str) -> list[str]:
    return [text[s:e] for s, e in word_spans(text)]


def test_words_are_letter_runs_and_punctuation_counts_separately():
    assert words("Die Straßenbahn ist zu.") == ["Die", "Straßenbahn", "ist", "zu", "."]
    assert words("3:1, ok?") == ["3", ":", "1", ",", "ok", "?"]
    assert words("  ") == []


def test_combining_marks_stay_in_their_word():
    assert words("मैं ठीक हूँ") == ["मैं", "ठीक", "हूँ"]
    assert words("cafe\u0301 noir") == ["cafe\u0301", "noir"]


def test_emoji_sequences_are_one_word_each():
    family = "👨\u200d👩\u200d👧\u200d👦"
    assert words(f"Family {family} 👍🏽 🇩🇪🇫🇷") == ["Family", family, "👍🏽", "🇩🇪", "🇫🇷"]


def test_zero_width_space_separates_words_and_zwnj_joins():
    assert words("co\u200boperate") == ["co", "operate"]
    assert words("می\u200cخواهم") == ["می\u200cخواهم"]


def test_characters_keep_their_marks():
    spans = char_spans("ที่นี่ 東京")
    assert [("ที่นี่ 東京")[s:e] for s, e in spans] == ["ที่", "นี่", "東", "京"]


def test_tokens_per_unit_counts_overlaps_and_ignores_empty_tokens():
    units = [(0, 3), (4, 8)]
    tokens = [(0, 2), (2, 3), (3, 3), (3, 5), (5, 8), (8, 9)]
    assert tokens_per_unit(units, tokens) == [2, 2]
    # byte pieces of one character share its span: both count for the unit
    assert tokens_per_unit([(0, 1)], [(0, 1), (0, 1), (0, 1)]) == [3]


class Stub:
    """Just what text_stats reads from a tokenizer."""

    unk_id = 1
    byte_ids = frozenset({7})

    def is_byte_token(self, token_id: int) -> bool:
        return token_id in self.byte_ids


def test_text_stats_on_a_hand_split_sentence():
    text = "The tramstop is closed."
    #       0123456789012345678901 2
    enc = Encoded(
        ids=[10, 11, 12, 13, 1, 15],
        tokens=["The", "tram", "stop", "is", "[UNK]", "."],
        spans=[(0, 3), (4, 8), (8, 12), (13, 15), (16, 22), (22, 23)],
    )
    s = text_stats(text, enc, Stub())  # type: ignore[arg-type]
    assert (s.n_units, s.n_tokens, s.n_unk, s.n_continued, s.n_byte) == (5, 6, 1, 1, 0)
    assert s.fertility == pytest.approx(6 / 5)
    assert not s.unsegmented and s.n_chars == 23


def test_unsegmented_text_is_measured_per_character():
    text = "東京へ"
    # a byte-level tokenizer: 東 as one token, 京 as two byte pieces (id 7), へ as one
    enc = Encoded(
        [20, 7, 7, 21], ["東", "\\xe4", "\\xba\\xac", "へ"], [(0, 1), (1, 2), (1, 2), (2, 3)]
    )
    s = text_stats(text, enc, Stub())  # type: ignore[arg-type]
    assert s.unsegmented
    assert (s.n_units, s.n_tokens, s.n_continued, s.n_byte) == (3, 4, 1, 2)
    assert s.fertility == pytest.approx(4 / 3)


def test_token_stats_is_per_text(chars):
    stats = token_stats(chars, ["ab cd", "x"])
    assert [(s.n_tokens, s.n_units) for s in stats] == [(4, 2), (1, 1)]
    assert [s.fertility for s in stats] == [2.0, 1.0]


def test_fertility_of_nothing_is_zero():
    assert fertility(0, 0) == 0.0
    assert fertility(9, 4) == 2.25


def test_parity_is_the_ratio_of_token_totals_over_shared_sentences():
    assert parity({"a": 10, "b": 20}, {"a": 5, "b": 10, "c": 7}) == pytest.approx(2.0)
    assert parity({"x": 3}, {"a": 5}) is None
    assert parity({"a": 3}, {"a": 0}) is None


def test_over_length_share_counts_added_special_tokens():
    # 126 + 2 = 128 fits; 127 + 2 = 129 does not
    assert over_length_share([10, 126, 127, 200], n_special=2, max_length=128) == 0.5
    assert over_length_share([], n_special=2, max_length=128) == 0.0


def test_summarize_uses_ratios_of_sums():
    a = TextStats(
        n_chars=20, n_units=4, unsegmented=False, n_tokens=6, n_unk=1, n_byte=0, n_continued=1
    )
    b = TextStats(
        n_chars=10, n_units=1, unsegmented=False, n_tokens=4, n_unk=0, n_byte=2, n_continued=1
    )
    g = summarize("t", "de", "Latin", [a, b], n_special=1, max_length=5, parity=1.5)
    assert g.n_texts == 2 and g.n_tokens == 10 and g.n_units == 5
    assert g.fertility == pytest.approx(10 / 5)  # not the mean of 1.5 and 4.0
    assert g.continued_share == pytest.approx(2 / 5)
    assert g.unk_rate == pytest.approx(1 / 10)
    assert g.byte_rate == pytest.approx(2 / 10)
    assert g.chars_per_token == pytest.approx(30 / 10)
    assert g.over_length_share == pytest.approx(0.5)  # 6 + 1 > 5, 4 + 1 = 5
    assert g.to_dict()["parity"] == 1.5
