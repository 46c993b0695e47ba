"""CheckList-style edits: what each one changes, when it does not apply, how failures count."""

from __future__ import annotations

import unicodedata

import pytest

from tuneproof.evaluate.stress import TESTS, evaluate_edits

EDIT = {t.name: t.perturb for t in TESTS}


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("the film was good .", "en", "the film was not good ."),
        ("C'est un bon film.", "fr", "Ce n'est pas un bon film."),
        ("Le roman est captivant.", "fr", "Le roman n'est pas captivant."),
        ("Das Buch ist gut.", "de", "Das Buch ist nicht gut."),
        ("Het boek is mooi.", "nl", "Het boek is niet mooi."),
        ("El libro es bueno.", "es", "El libro no es bueno."),
        ("the film was not good .", "en", None),  # already negated
        ("great fun", "en", None),  # no copula
        ("ein gutes Buch", "tr", None),  # no rules for the language
    ],
)
def test_negation_is_inserted_after_the_first_copula(text, lang, expected):
    assert EDIT["negation"](text, lang) == expected


def test_invariance_edits():
    assert EDIT["casing"]("A fine film", "en") == "A FINE FILM"
    assert EDIT["casing"]("LOUD", "en") == "loud"
    assert EDIT["casing"]("123 !", "en") is None
    assert EDIT["punctuation"]("a fine film .", "en") == "a fine film"
    assert EDIT["punctuation"]("a fine film", "en") == "a fine film."
    assert EDIT["diacritics"]("Crème brûlée, naïve", "fr") == "Creme brulee, naive"
    assert EDIT["diacritics"]("plain text", "en") is None
    nfd = EDIT["nfd_nfc"]("café", "fr")
    assert nfd != "café" and unicodedata.normalize("NFC", nfd) == "café"
    assert EDIT["nfd_nfc"]("plain", "en") is None
    assert EDIT["whitespace"]("a b", "en") == " a  b "
    assert EDIT["emoji"]("fine", "en").startswith("fine ")
    assert EDIT["named_entities"]("John lives in Paris", "en") == "Mary lives in Paris"
    assert EDIT["named_entities"]("i met john", "en") == "i met mary"  # case kept
    assert EDIT["named_entities"]("we drove to new york", "en") == "we drove to los angeles"
    assert EDIT["named_entities"]("no names here", "en") is None


def test_failures_count_label_flips_and_wrong_direction_moves():
    originals = [
        {"id": "0", "pred": "pos", "probabilities": {"pos": 0.8, "neg": 0.2}},
        {"id": "1", "pred": "neg", "probabilities": {"pos": 0.3, "neg": 0.7}},
    ]
    after = {
        "casing": [
            (0, "X", {"pred": "neg", "probabilities": {"pos": 0.4, "neg": 0.6}}),  # flip: fail
            (1, "Y", {"pred": "neg", "probabilities": {"pos": 0.2, "neg": 0.8}}),  # same: pass
        ],
        "negation": [
            (0, "X not", {"pred": "pos", "probabilities": {"pos": 0.9, "neg": 0.1}}),  # up: fail
            (1, "Y not", {"pred": "pos", "probabilities": {"pos": 0.6, "neg": 0.4}}),  # down: ok
        ],
    }
    results = {r.name: r for r in evaluate_edits(originals, after, ["x", "y"])}
    casing, negation = results["casing"], results["negation"]
    assert (casing.applicable, casing.failures, casing.flipped) == (2, 1, 1)
    assert casing.failure_rate == 0.5 and casing.examples[0].id == "0"
    assert casing.mean_abs_shift == pytest.approx((0.4 + 0.1) / 2)
    assert (negation.failures, negation.flipped) == (1, 1)
    assert negation.examples[0].p_after == 0.9
    assert results["emoji"].applicable == 0 and results["emoji"].failure_rate is None
