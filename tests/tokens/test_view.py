"""``tokens.view``: per-token spans with UNK / byte-fallback flags, segments that tile the text,
the size limits, and the training meaning of each stress-suite problem."""

from __future__ import annotations

import pytest

from tuneproof.errors import UserError
from tuneproof.tokens import view


def test_pieces_and_segments_of_a_bert_split(builtin) -> None:  # type: ignore[no-untyped-def]
    text = "नमस्ते 我们"
    v = view.token_view(builtin("minilm-l6"), text)
    assert v.count == len(v.pieces) and v.n_unk == sum(p.unk for p in v.pieces)
    assert "".join(s.text for s in v.segments) == text  # every character exactly once
    assert [p.piece for p in v.pieces][:2] == ["न", "##म"]
    assert any(s.dropped for s in v.segments)  # the virama and vowel sign BERT strips
    unk = [p for p in v.pieces if p.unk]
    assert unk and all(text[p.start : p.end] == "们" for p in unk)
    assert v.to_dict()["unit"] == "word" and v.to_dict()["fertility"] == round(v.fertility, 6)


def test_byte_fallback_pieces_are_flagged(builtin) -> None:  # type: ignore[no-untyped-def]
    text = "मैं कल सुबह दिल्ली जाऊँगा।"
    v = view.token_view(builtin("mistral"), text)
    flagged = [p for p in v.pieces if p.byte]
    assert flagged and all(p.piece.startswith("<0x") for p in flagged)
    assert v.n_byte == len(flagged)
    assert sum(s.byte for s in v.segments) >= 1


def test_limits_and_builtins_only() -> None:
    with pytest.raises(UserError, match="empty"):
        view.check_text("  \n")
    with pytest.raises(UserError, match="more than the 20,000"):
        view.check_text("x" * 20_001)
    with pytest.raises(UserError, match=r"not a built-in.*did you mean 'minilm-l6'"):
        view.check_builtins(["minilm"])
    assert view.check_builtins(["xlmr", "xlmr", " gpt2 "]) == ["xlmr", "gpt2"]


def test_every_stress_problem_has_a_training_meaning(builtin) -> None:  # type: ignore[no-untyped-def]
    kinds = set()
    for report in view.stress_reports(("minilm-l6", "smollm2")):
        for case in report.failed:
            kinds |= {view.problem_kind(p) for p in case.problems}
    assert kinds == {"round_trip", "unk", "fertility"}
    assert "truncated" in view.training_impact("fertility 4.1 tokens/word > 3").training


def test_batch_pads_to_the_longest_row_with_a_mask(builtin) -> None:  # type: ignore[no-untyped-def]
    tok = builtin("xlmr")
    texts = ["Hallo", "Die Straßenbahnhaltestelle ist geschlossen.", "  "]
    b = view.batch_view(tok, texts)
    lengths = [len(tok.encode(t)) for t in texts[:2]]
    assert b.length == max(lengths) and len(b.rows) == 2
    first = b.rows[0]
    assert first.attention_mask == (1,) * lengths[0] + (0,) * (b.length - lengths[0])
    assert first.tokens[lengths[0] :] == (view.PAD,) * (b.length - lengths[0])
    assert b.padding_share == (b.length - lengths[0]) / (2 * b.length)
    cut = view.batch_view(tok, texts, max_length=3)
    assert cut.length == 3 and [r.truncated for r in cut.rows] == [lengths[0] > 3, True]
