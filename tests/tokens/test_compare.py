"""Comparisons per tokenizer × language, the shipped parallel corpus, reading user files."""

from __future__ import annotations

import json

import pytest

from tuneproof.errors import UserError
from tuneproof.text.scripts import dominant_script
from tuneproof.tokens.compare import compare_tokenizers, show
from tuneproof.tokens.corpus import CorpusText, load_texts, parallel_corpus

from .conftest import CharTokenizer

NON_LATIN = ["ru", "el", "ar", "he", "hi", "zh", "ja", "th", "ko"]


def test_parallel_corpus_is_fully_parallel_across_many_scripts():
    texts = parallel_corpus()
    langs = list(dict.fromkeys(t.lang for t in texts))
    assert len(langs) >= 10
    ids = {lang: {t.id for t in texts if t.lang == lang} for lang in langs}
    assert all(len(v) == 50 and v == ids["en"] for v in ids.values())
    scripts = {dominant_script(" ".join(t.text for t in texts if t.lang == lang)) for lang in langs}
    assert len(scripts) >= 6
    assert {
        "Latin",
        "Cyrillic",
        "Greek",
        "Arabic",
        "Hebrew",
        "Devanagari",
        "Han",
        "Thai",
        "Hangul",
    } <= scripts
    assert all(t.text == t.text.strip() and t.text for t in texts)


def test_compare_hand_computed_with_a_character_tokenizer():
    texts = [
        CorpusText("1", "en", "ab cd"),  # 4 tokens, 2 words
        CorpusText("2", "en", "x"),  # 1 token, 1 word
        CorpusText("1", "de", "abcdef"),  # 6 tokens, 1 word
        CorpusText("2", "de", "xy ✓"),  # 3 tokens, 2 words, one UNK
        CorpusText("3", "de", "zz"),  # no English counterpart: ignored by parity
    ]
    tok = CharTokenizer(unknown="✓")
    c = compare_tokenizers([tok], texts, max_length=4)
    assert c.groups == ["en", "de"] and c.group_by == "language" and c.reference == "en"
    en, de = c.get("chars", "en"), c.get("chars", "de")
    assert en.parity == 1.0
    assert de.parity == pytest.approx((6 + 3) / (4 + 1))
    assert de.fertility == pytest.approx((6 + 3 + 2) / (1 + 2 + 1))
    assert de.unk_rate == pytest.approx(1 / 11)
    assert de.continued_share == pytest.approx(3 / 4)  # abcdef, xy, zz
    assert en.over_length_share == pytest.approx(1 / 2)  # 4 + 2 special > 4
    assert c.samples[1].text == "abcdef" and c.samples[1].shown[0].encoded.ids[0] == ord("a")
    json.dumps(c.to_dict())  # serialisable


def test_without_languages_texts_are_grouped_by_script_and_parity_is_skipped():
    texts = [CorpusText("1", "", "hello"), CorpusText("2", "", "привет"), CorpusText("3", "", "hi")]
    c = compare_tokenizers([CharTokenizer()], texts)
    assert c.group_by == "script" and c.groups == ["Latin", "Cyrillic"]
    assert c.reference is None and c.get("chars", "Latin").parity is None
    assert c.get("chars", "Latin").n_texts == 2


def test_show_excludes_nothing_but_special_tokens():
    (shown,) = show([CharTokenizer(unknown="!")], "ab!")
    assert shown.to_dict() == {
        "tokenizer": "chars",
        "tokens": ["a", "b", "[UNK]"],
        "ids": [97, 98, 0],
        "count": 3,
    }


def test_load_texts_formats_and_columns(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("id,language,text\n1,en,Hello\n1,de,Hallo\n2,en,\n", encoding="utf-8")
    texts = load_texts(csv, lang_column="language")
    assert texts == [CorpusText("1", "en", "Hello"), CorpusText("1", "de", "Hallo")]
    assert load_texts(csv, lang_column="lang")[0].lang == ""  # absent: group by script later
    with pytest.raises(UserError, match="no column 'lang'"):
        load_texts(csv, lang_column="lang", lang_required=True)
    with pytest.raises(UserError, match=r"no column 'body'.*--text-column"):
        load_texts(csv, text_column="body")
    txt = tmp_path / "t.txt"
    txt.write_text("\ufeffone\n\n  two  \n", encoding="utf-8")
    assert [(t.id, t.text) for t in load_texts(txt)] == [("1", "one"), ("3", "two")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "file is empty"),
        ("blank.txt", b"\n  \n", "file is empty"),
        ("empty.csv", b"", "file is empty"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        ("binary.csv", b"text\n\x00\x01\x02", "binary"),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "line 1 is not valid UTF-8"),
        ("data.bin", b"abc", "unsupported format"),
        ("header.csv", b"text\n", "no data rows"),
    ],
)
def test_bad_files_are_one_line_user_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as err:
        load_texts(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="file not found"):
        load_texts(tmp_path / "nope.csv")


@pytest.mark.slow
def test_english_wordpiece_fails_non_latin_scripts_where_xlmr_does_not(builtin):
    """The issue's acceptance: UNK or very high fertility for BERT, neither for XLM-R."""
    c = compare_tokenizers([builtin("minilm-l6"), builtin("xlmr")], parallel_corpus())
    for lang in NON_LATIN:
        bert, xlmr = c.get("minilm-l6", lang), c.get("xlmr", lang)
        assert bert.unk_rate > 0 or bert.fertility > 2 * xlmr.fertility, lang
        assert xlmr.unk_rate == 0, lang
        assert xlmr.parity is not None and xlmr.parity < 1.5, lang
    assert c.get("minilm-l6", "th").unk_rate == 1.0  # a whole unspaced Thai sentence is one UNK
    assert c.get("minilm-l6", "en").fertility < 1.1
