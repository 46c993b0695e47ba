"""word/TAG and CoNLL readers, and the built-in POS corpora they feed."""

from __future__ import annotations

import pytest

from tuneproof.data.tagged import looks_like_word_tag, parse_word_tag, read_conll, read_tagged
from tuneproof.errors import UserError


def test_word_tag_splits_on_the_last_slash_and_unescapes():
    tokens, tags = parse_word_tag("Pierre/NNP 1/2/CD and&slash;or/CC ./.")
    assert tokens == ["Pierre", "1/2", "and/or", "."]
    assert tags == ["NNP", "CD", "CC", "."]


def test_word_tag_without_tag_names_the_line():
    with pytest.raises(UserError, match=r"x\.txt: line 3: item 'cat' is not word/TAG"):
        parse_word_tag("the/DT cat", "x.txt: line 3")


def test_conll_reads_sentences_and_skips_docstart(tmp_path):
    path = tmp_path / "train.conll"
    path.write_text(
        "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
        "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n",
        encoding="utf-8",
    )
    rows = read_conll(path)
    assert [r["tokens"] for r in rows] == [["EU", "rejects"], ["Peter", "Blackburn"]]
    assert [r["tags"] for r in rows] == [["B-ORG", "O"], ["B-PER", "I-PER"]]


def test_read_tagged_sniffs_the_format(tmp_path):
    wt = tmp_path / "a.txt"
    wt.write_text("The/DT cat/NN ./.\nA/DT dog/NN ./.\n", encoding="utf-8")
    cols = tmp_path / "b.txt"
    cols.write_text("The\tDT\ncat\tNN\n\nA\tDT\n", encoding="utf-8")
    assert looks_like_word_tag(wt.read_text()) and not looks_like_word_tag(cols.read_text())
    assert read_tagged(wt)["tags"].tolist() == [["DT", "NN", "."], ["DT", "NN", "."]]
    assert read_tagged(cols)["tokens"].tolist() == [["The", "cat"], ["A"]]


@pytest.mark.slow
def test_builtin_pos_corpus_is_a_seeded_80_10_10_split():
    from tuneproof.data.corpora import builtin_dataset
    from tuneproof.data.load import read_table

    files = builtin_dataset("pos-en-wsj")
    frames = {s: read_table(p) for s, p in files.items()}
    assert {s: len(f) for s, f in frames.items()} == {"train": 801, "validation": 100, "test": 100}
    ids = [set(f["id"]) for f in frames.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    first = frames["test"].iloc[0]
    assert len(first["tokens"]) == len(first["tags"]) and first["lang"] == "en"


def test_training_data_may_be_a_conll_file(tmp_path):
    from tuneproof.data.load import read_table

    path = tmp_path / "train.conll"
    path.write_text("EU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\n", encoding="utf-8")
    df = read_table(path)
    assert list(df["tokens"]) == [["EU", "rejects"], ["Peter"]]
    assert list(df["tags"]) == [["B-ORG", "O"], ["B-PER"]]
