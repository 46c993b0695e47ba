"""Show token splits: coloured spans in the terminal, a self-contained HTML report.

Both views are built from the same segments: groups of tokens over the original text (pieces of
one split character are grouped, so a character is never shown twice), plus the stretches no
token covers (whitespace, or characters the tokenizer dropped, shown struck through).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuneproof.tokens.base import Encoded

if TYPE_CHECKING:
    from rich.text import Text

    from tuneproof.tokens.compare import Comparison, Shown
    from tuneproof.tokens.stress import StressReport


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    tokens: tuple[int, ...]  # indices into the encoding; empty: no token covers this text


def segments(text: str, encoded: Encoded) -> list[Segment]:
    """Cut ``text`` into token groups and uncovered gaps, in order, covering every character."""
    groups: list[tuple[int, int, list[int]]] = []
    pending: list[int] = []  # zero-width tokens join the next group
    for i, (s, e) in enumerate(encoded.spans):
        if e <= s:
            pending.append(i)
        elif groups and s < groups[-1][1]:  # overlaps: byte pieces of one character
            gs, ge, idx = groups[-1]
            groups[-1] = (gs, max(ge, e), [*idx, *pending, i])
            pending = []
        else:
            groups.append((s, e, [*pending, i]))
            pending = []
    if pending and groups:
        gs, ge, idx = groups[-1]
        groups[-1] = (gs, ge, idx + pending)
    out: list[Segment] = []
    pos = 0
    for s, e, idx in groups:
        if s > pos:
            out.append(Segment(pos, s, ()))
        out.append(Segment(max(s, pos), max(e, pos), tuple(idx)))
        pos = max(pos, e)
    if pos < len(text):
        out.append(Segment(pos, len(text), ()))
    return out


PALETTE = ("on #264f78", "on #6b3a6b", "on #2f5f3a", "on #7a5a1e")


def rich_text(shown: Shown) -> Text:
    """The text with alternating background colours per token; UNK in red, dropped struck out."""
    from rich.text import Text

    out = Text()
    colour = 0
    enc = shown.encoded
    for seg in segments(shown.text, enc):
        piece = shown.text[seg.start : seg.end]
        if not seg.tokens:
            out.append(piece, style="" if piece.isspace() else "strike red")
            continue
        if any(enc.ids[i] == shown.unk_id for i in seg.tokens):
            style = "bold white on red"
        else:
            style = PALETTE[colour % len(PALETTE)] + (" underline" if len(seg.tokens) > 1 else "")
        colour += 1
        out.append(piece or "∅", style=style)
    return out


def _token_title(enc: Encoded, idx: tuple[int, ...]) -> str:
    ids = " ".join(str(enc.ids[i]) for i in idx)
    pieces = " ".join(repr(enc.tokens[i]) for i in idx)
    return f"id {ids} · {pieces}"


def html_tokens(shown: Shown) -> str:
    """Spans of one encoded text; hovering a span shows its token ids and pieces (all escaped)."""
    enc = shown.encoded
    parts = []
    colour = 0
    for seg in segments(shown.text, enc):
        piece = html.escape(shown.text[seg.start : seg.end])
        if not seg.tokens:
            parts.append(piece if not piece.strip() else f'<del title="no token">{piece}</del>')
            continue
        unk = any(enc.ids[i] == shown.unk_id for i in seg.tokens)
        cls = "t unk" if unk else f"t c{colour % 4}" + (" split" if len(seg.tokens) > 1 else "")
        colour += 1
        title = html.escape(_token_title(enc, seg.tokens), quote=True)
        parts.append(f'<span class="{cls}" title="{title}">{piece or "∅"}</span>')
    return "".join(parts)


CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1f;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.good{background:#e3f4e3}td.warn{background:#fff3cd}td.bad{background:#f8d7da}
.t{border-radius:3px;padding:1px 0;margin:0 1px}.c0{background:#cfe2ff}.c1{background:#f4d4f4}
.c2{background:#d4f0d4}.c3{background:#ffe8c2}.split{text-decoration:underline dotted}
.unk{background:#dc3545;color:#fff}del{color:#dc3545}.line{margin:.2em 0 .6em;font-size:16px}
.meta{color:#666}code{background:#f3f3f3;padding:0 3px}
"""

METRICS = (
    ("fertility", "Fertility (tokens per word; per character for unsegmented scripts)", "{:.2f}"),
    ("parity", "Parity (tokens relative to the reference translation)", "{:.2f}"),
    ("unk_rate", "UNK rate (share of tokens)", "{:.1%}"),
    ("continued_share", "Continued words (share of units split into ≥ 2 tokens)", "{:.1%}"),
    ("byte_rate", "Byte-fallback rate (share of tokens that are raw bytes)", "{:.1%}"),
    ("chars_per_token", "Characters per token", "{:.2f}"),
    ("over_length_share", "Texts over max_length (with special tokens)", "{:.1%}"),
)


def _grade(metric: str, value: float) -> str:
    """Colour classes for a reader's first glance; thresholds are conventions, not truths."""
    if metric in ("fertility", "parity"):
        return "good" if value <= 1.5 else ("warn" if value <= 3 else "bad")
    if metric in ("unk_rate", "over_length_share"):
        return "good" if value == 0 else ("warn" if value < 0.01 else "bad")
    return ""


def comparison_html(comparison: Comparison) -> str:
    """The whole comparison as one self-contained HTML page (inline CSS, no scripts)."""
    e = html.escape
    c = comparison
    head = "".join(f"<th>{e(t)}</th>" for t in c.tokenizers)
    sections = []
    for metric, title, fmt in METRICS:
        if metric == "parity" and c.reference is None:
            continue
        rows = []
        for g in c.groups:
            cells = []
            for t in c.tokenizers:
                value = getattr(c.get(t, g), metric)
                if value is None:
                    cells.append('<td class="n">–</td>')
                else:
                    cells.append(
                        f'<td class="n {_grade(metric, value)}">{e(fmt.format(value))}</td>'
                    )
            script = e(c.get(c.tokenizers[0], g).script)
            rows.append(f"<tr><th>{e(g)}</th><td>{script}</td>{''.join(cells)}</tr>")
        label = "language" if c.group_by == "language" else "script"
        sections.append(
            f"<h2>{e(title)}</h2><table><tr><th>{label}</th><th>script</th>{head}</tr>"
            + "".join(rows)
            + "</table>"
        )
    samples = []
    for s in c.samples:
        lines = "".join(
            f'<div class="meta">{e(sh.tokenizer)} · {len(sh.encoded)} tokens</div>'
            f'<div class="line">{html_tokens(sh)}</div>'
            for sh in s.shown
        )
        samples.append(f"<h3>{e(s.group)}</h3>{lines}")
    ref = f", parity relative to <code>{e(c.reference)}</code>" if c.reference else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>tuneproof tokens: {e(', '.join(c.tokenizers))}</title><style>{CSS}</style>"
        "</head><body><h1>Tokenizer comparison</h1>"
        f"<p class='meta'>texts: {e(c.source)} · grouped by {e(c.group_by)}{ref} · "
        f"max_length {c.max_length} · definitions: docs/tokens.md</p>"
        + "".join(sections)
        + "<h2>How each tokenizer splits the first text of each group</h2>"
        "<p class='meta'>Hover a token for its ids. Red: UNK; struck out: characters no token "
        "covers; dotted underline: one character split into several byte tokens.</p>"
        + "".join(samples)
        + "</body></html>\n"
    )


def stress_html(reports: list[StressReport]) -> str:
    """Stress results as a self-contained HTML table (texts escaped)."""
    e = html.escape
    body = []
    for r in reports:
        rows = "".join(
            f"<tr><td>{e(c.name)}</td><td class='{'good' if c.ok else 'bad'}'>"
            f"{'ok' if c.ok else 'FAIL'}</td><td class='n'>{c.n_tokens}</td>"
            f"<td>{e(c.text)}</td><td>{e('; '.join(c.problems))}</td></tr>"
            for c in r.results
        )
        body.append(
            f"<h2>{e(r.tokenizer)} <span class='meta'>({e(r.kind)}; round trip {e(r.round_trip)}; "
            f"{len(r.failed)} of {len(r.results)} failed)</span></h2><table><tr><th>case</th>"
            f"<th>result</th><th>tokens</th><th>text</th><th>problems</th></tr>{rows}</table>"
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>tuneproof tokens stress</title>"
        f"<style>{CSS}</style></head><body><h1>Tokenizer stress test</h1>"
        + "".join(body)
        + "</body></html>\n"
    )
