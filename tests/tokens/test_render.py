"""Token spans for the terminal and HTML: every character shown once, texts escaped."""

from __future__ import annotations

from tuneproof.tokens.base import Encoded
from tuneproof.tokens.compare import Shown, compare_tokenizers
from tuneproof.tokens.corpus import CorpusText
from tuneproof.tokens.render import comparison_html, html_tokens, rich_text, segments

from .conftest import CharTokenizer


def test_segments_group_byte_pieces_and_keep_gaps():
    text = "a 東x"
    enc = Encoded([1, 2, 3, 4], ["a", "\\xe6", "\\x9d\\xb1", "x"], [(0, 1), (2, 3), (2, 3), (3, 4)])
    segs = segments(text, enc)
    assert [(text[s.start : s.end], s.tokens) for s in segs] == [
        ("a", (0,)),
        (" ", ()),
        ("東", (1, 2)),
        ("x", (3,)),
    ]


def test_segments_show_dropped_characters_as_uncovered():
    text = "ab!"
    segs = segments(text, Encoded([1], ["ab"], [(0, 2)]))
    assert [(s.start, s.end, s.tokens) for s in segs] == [(0, 2, (0,)), (2, 3, ())]


def test_zero_width_tokens_join_the_next_group():
    segs = segments("ab", Encoded([9, 1, 2], ["▁", "a", "b"], [(0, 0), (0, 1), (1, 2)]))
    assert [s.tokens for s in segs] == [(0, 1), (2,)]


def test_html_escapes_text_and_puts_ids_on_hover():
    shown = Shown("t", "<b>&", Encoded([7, 0], ["<b>", "&"], [(0, 3), (3, 4)]), unk_id=0)
    out = html_tokens(shown)
    assert "<b>" not in out and "&lt;b&gt;" in out and "&amp;" in out
    assert 'title="id 7 · &#x27;&lt;b&gt;&#x27;"' in out
    assert 'class="t unk"' in out


def test_rich_text_marks_unk_and_dropped_characters():
    shown = Shown("t", "ab c", Encoded([0, 98], ["[UNK]", "b"], [(0, 1), (1, 2)]), unk_id=0)
    text = rich_text(shown)
    assert text.plain == "ab c"
    styles = {text.plain[s.start : s.end]: str(s.style) for s in text.spans}
    assert styles["a"] == "bold white on red" and styles[" c"] == "strike red"


def test_comparison_html_is_self_contained_and_escaped():
    texts = [CorpusText("1", "en", "<script>alert(1)</script>"), CorpusText("1", "<b>", "Grüße")]
    html = comparison_html(compare_tokenizers([CharTokenizer()], texts))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;" in html and 'title="id 60 · &#x27;&lt;&#x27;">&lt;</span>' in html
    assert "<style>" in html and "http" not in html and "<link" not in html
    assert "Parity" in html and "Fertility" in html
