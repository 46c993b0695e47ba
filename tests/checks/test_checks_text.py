"""empty_text, encoding_noise, script_mix, length_outlier and language_mix."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from tuneproof.checks import CheckOptions, Finding, check_data


def frame(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts})


def run(texts: list[str], *checks: str, **kw: object) -> list[Finding]:
    report = check_data(
        {"train": frame(texts)}, text_column="text", label_column=None, id_column="id",
        options=CheckOptions(only=checks), **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return list(report.findings)


@pytest.fixture
def texts(gen: SimpleNamespace) -> list[str]:
    rng = random.Random(4)
    return [gen.sentence(rng, "pos") for _ in range(60)]


def test_empty_and_punctuation_only_rows(texts: list[str]) -> None:
    texts[3], texts[7], texts[9] = "", "   \t ", "?!  ..."
    out = run(texts, "empty_text")
    assert [(f.rows, f.severity) for f in out] == [
        (("r3", "r7"), "warning"),
        (("r9",), "warning"),
    ]


def test_missing_text_values_count_as_empty(texts: list[str]) -> None:
    df = frame(texts)
    df.loc[5, "text"] = None
    report = check_data(
        {"train": df}, text_column="text", label_column=None, id_column="id",
        options=CheckOptions(only=("empty_text",)),
    )  # fmt: skip
    assert report.findings[0].rows == ("r5",)


def test_encoding_noise_kinds(texts: list[str]) -> None:
    texts[1] = "the cafÃ© scene was lovely and the ending didnâ€™t drag"
    texts[2] = "great acting &amp; a clever plot<br />worth it"
    texts[3] = "a story\x00 with a null byte"
    texts[4] = "tom &amp jerry & friends; no entity here"  # not an entity: no '&...;' match
    out = {
        f.detail.split(" contain ")[1].split(";")[0]: f.rows for f in run(texts, "encoding_noise")
    }
    assert out == {
        "UTF-8 text decoded with the wrong encoding (mojibake)": ("r1",),
        "HTML entities or tags": ("r2",),
        "control or invisible characters": ("r3",),
    }


def test_script_mix_stray_script_and_homoglyphs(texts: list[str]) -> None:
    texts[5] = "это совсем другой фильм о любви и войне"
    texts[6] = "log in to your pаypal account now"  # Cyrillic 'а' in a Latin word
    out = run(texts, "script_mix")
    stray = next(f for f in out if "Cyrillic script" in f.detail)
    assert stray.rows == ("r5",) and stray.severity == "warning"
    homoglyph = next(f for f in out if "look-alike" in f.detail)
    assert homoglyph.rows == ("r6",) and "pаypal" in homoglyph.detail


def test_script_mix_is_info_for_a_bilingual_split(texts: list[str]) -> None:
    texts[:20] = ["это совсем другой фильм о любви"] * 20
    (f,) = run(texts, "script_mix")
    assert f.severity == "info"


def test_truncation_share_with_a_real_tokenizer(texts: list[str], tmp_path: Path) -> None:
    from transformers import BertTokenizerFast

    words = sorted({w for t in texts for w in t.split()})
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words]) + "\n")
    tok = BertTokenizerFast(vocab=str(vocab))
    texts[0] = " ".join(texts[1:4])  # 60 words: longer than 32 tokens
    texts[1] = texts[2] + " " + texts[3]  # 40 words
    out = run(texts, "length_outlier", tokenizer=tok, max_length=32)
    trunc = next(f for f in out if "truncated" in f.detail)
    assert trunc.rows == ("r0", "r1")  # longest first
    assert trunc.severity == "warning" and trunc.score == pytest.approx(2 / 60)
    assert "tokens" in trunc.detail


def test_length_outliers_without_tokenizer_use_words(texts: list[str]) -> None:
    texts[8] = " ".join(texts) * 3  # a whole file pasted into one cell
    texts[9] = "ok"
    out = run(texts, "length_outlier")  # no max_length: no truncation finding
    assert {f.detail.split(" than ")[0]: f.rows for f in out} == {
        "1 rows are far longer": ("r8",),
        "1 rows are far shorter": ("r9",),
    }
    assert all(f.severity == "info" and "words" in f.detail for f in out)


@pytest.mark.slow  # loads lingua's language models (seconds)
def test_language_mix_flags_stray_rows_and_a_test_split_in_another_language(
    texts: list[str],
) -> None:
    german = "der Film war leider viel zu lang, aber die Schauspieler haben ihre Rollen sehr gut gespielt"
    texts[10] = german
    test = frame(
        ["ce film est une belle surprise, avec des acteurs excellents et une histoire touchante"]
        * 5
    )
    report = check_data(
        {"train": frame(texts), "test": test}, text_column="text", label_column=None,
        id_column="id", options=CheckOptions(only=("language_mix",)),
    )  # fmt: skip
    stray = next(f for f in report.findings if f.split == "train")
    assert stray.rows == ("r10",) and "'de'" in stray.detail and stray.severity == "warning"
    shifted = next(f for f in report.findings if f.split == "test")
    assert "'fr'" in shifted.detail and "'en'" in shifted.detail
