"""``encoding_noise``: mojibake ("Ã©" for "é"), HTML entities or tags, and control or invisible
characters. They are artefacts of how the data was exported, and they cost tokens and teach
the model noise that real inputs will not have. One finding per split and kind of noise.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from tuneproof.checks.base import Check, CheckContext, Finding

NAME = "encoding_noise"

# UTF-8 bytes decoded as cp1252/latin-1: "Ã©" (é), "Ã¼" (ü), "â€™" (’), "Â " (nbsp), and the
# replacement character left where bytes could not be decoded at all.
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
MOJIBAKE = re.compile(
    "[ÃÂ][\u0080-\u00bf" + _CP1252_HIGH + "]|â€[\u0080-\u00bf" + _CP1252_HIGH + "]|ï»¿|\ufffd"
)
HTML = re.compile(
    r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});"
    r"|</?(?:br|p|div|span|a|b|i|em|strong|ul|ol|li|img|table|tr|td|h[1-6])\b[^<>]{0,200}>",
    re.IGNORECASE,
)
CONTROL = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\u200e\u200f\u2028\u2029\u2060\ufeff]"
)

KINDS = (
    ("mojibake", MOJIBAKE, "UTF-8 text decoded with the wrong encoding (mojibake)"),
    ("html", HTML, "HTML entities or tags"),
    ("control", CONTROL, "control or invisible characters"),
)


def _real_html(match: str) -> bool:
    """An entity counts only if it decodes to something else ("&amp;" yes, "&nope;" no)."""
    return not match.startswith("&") or html.unescape(match) != match


def run(ctx: CheckContext) -> list[Finding]:
    findings = []
    for split in ctx.splits:
        texts = pd.Series(ctx.texts(split), dtype=object)
        for kind, pattern, what in KINDS:
            hit = texts.str.contains(pattern, regex=True, na=False).to_numpy()
            rows = [int(i) for i in hit.nonzero()[0]]
            example = ""
            if kind == "html":
                rows = [
                    i
                    for i in rows
                    if any(_real_html(m.group()) for m in pattern.finditer(texts[i]))
                ]
            if not rows:
                continue
            m = pattern.search(texts[rows[0]])
            if m is not None:
                example = (
                    f"; e.g. {m.group()!r}"
                    if kind != "control"
                    else f"; e.g. U+{ord(m.group()):04X}"
                )
            findings.append(
                Finding(
                    check=NAME,
                    severity=CHECK.severity,
                    split=split,
                    rows=ctx.ids_of(split, rows),
                    score=len(rows) / len(texts),
                    detail=f"{len(rows)} rows contain {what}{example}",
                )
            )
    return findings


CHECK = Check(
    name=NAME,
    description="mojibake (Ã© for é), HTML entities/tags, control and invisible characters",
    severity="warning",
    run=run,
)
