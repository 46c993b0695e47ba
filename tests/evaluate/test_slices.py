"""Slice tags: length buckets, negation cues, scripts, code-switching, languages, columns."""

from __future__ import annotations

import pytest

from tuneproof.evaluate.slices import (
    detect_languages,
    has_negation,
    is_categorical,
    language_switches,
    length_bucket,
    natural_key,
    real_scripts,
    tag_rows,
)


@pytest.mark.parametrize(
    ("n", "bucket"),
    [(0, "0-16"), (15, "0-16"), (16, "16-32"), (31, "16-32"), (64, "64-128"), (600, "512+")],
)
def test_length_buckets_include_the_lower_edge(n, bucket):
    assert length_bucket(n) == bucket


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("the plot was not good", "en", True),
        ("i don't like it", "en", True),
        ("it is n't funny", "en", True),  # tokenised contraction (Pang & Lee style)
        ("a good film", "en", False),
        ("Ce n'est pas un bon film", "fr", True),
        ("Un film sans intérêt", "fr", True),
        ("Un très bon film", "fr", False),
        ("Das Buch ist nicht gut", "de", True),
        ("Das ist kein gutes Buch", "de", True),
        ("Het boek is niet goed", "nl", True),
        ("Het was pas laat", "nl", False),  # Dutch 'pas' is not a negation
        ("No me gustó nada", "es", True),
        ("Me gustó mucho", "es", False),
        ("Il n'a jamais compris", None, True),  # unknown language: every list applies
    ],
)
def test_negation_cues_per_language(text, lang, expected):
    assert has_negation(text, lang) is expected


def test_scripts_and_code_switching_by_script():
    assert real_scripts("Ich hab das Meeting verschoben, 明天见!") == ["Latin", "Han"]
    assert real_scripts("Café crème, naïve") == ["Latin"]
    assert real_scripts("ok 👍 123") == []
    tags = tag_rows(
        ["Ich hab das Meeting verschoben, 明天见!", "Ich hab das Meeting verschoben."],
        languages=["de", "de"],
    )
    assert [t["code_switching"] for t in tags] == ["yes", "no"]
    assert [t["script"] for t in tags] == ["Latin", "Latin"]


def test_language_switch_between_sentences_is_detected():
    texts = [
        "Wanna travel back to the point where I had not finished reading. Een prachtig boek "
        "over intermenselijke processen en sociale dynamieken.",
        "Een prachtig boek over intermenselijke processen. De manier van schrijven trekt je mee.",
    ]
    assert language_switches(texts, ("en", "nl", "de", "fr")) == [True, False]


def test_language_detection_is_restricted_and_says_unknown_when_unsure():
    texts = [
        "Le début est un peu fou, mais j'ai vraiment aimé ce livre.",
        "Gekürzte Version, es sind keine Bilder vorhanden.",
        "12345 !!!",
    ]
    assert detect_languages(texts, ("en", "fr", "de")) == ["fr", "de", "unknown"]


def test_tag_rows_uses_given_languages_tokens_and_columns():
    tags = tag_rows(
        ["the film was not good", "un film superbe"],
        n_tokens=[7, 40],
        truncated=[False, True],
        languages=["en", None],  # None: detected
        columns={"domain": ["films", None]},
    )
    assert tags[0] == {
        "language": "en",
        "script": "Latin",
        "code_switching": "no",
        "length": "0-16",
        "truncated": "no",
        "negation": "yes",
        "domain": "films",
    }
    assert tags[1]["length"] == "32-64" and tags[1]["truncated"] == "yes"
    assert tags[1]["domain"] == "(empty)"
    assert tags[1]["language"] in ("fr", "unknown")


def test_categorical_columns():
    assert is_categorical(["books", "films", "books", "films"])
    assert not is_categorical([f"id{i}" for i in range(50)])  # unique per row
    assert not is_categorical(["a"] * 10)  # one value: nothing to compare
    assert not is_categorical([0.5, 0.25, 0.5, 0.25])  # numbers are not categories
    assert not is_categorical(["x" * 60, "y" * 60] * 3)  # free text


def test_natural_order_of_values():
    values = ["512+", "16-32", "0-16", "128-256", "32-64"]
    assert sorted(values, key=natural_key) == ["0-16", "16-32", "32-64", "128-256", "512+"]
