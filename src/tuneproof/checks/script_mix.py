"""``script_mix``: rows written in another script than the rest of their split, and words that mix
Latin, Cyrillic and Greek letters (homoglyphs such as a Cyrillic "а" in "pаypal").

Scripts come from Unicode code points (:mod:`tuneproof.text.scripts`), so this works for any
language and needs no model. A tokenizer trained on one script splits another into many rare
pieces; homoglyphs look like normal words to a reviewer but not to the tokenizer.
"""

from __future__ import annotations

from collections import Counter

from tuneproof.checks.base import Check, CheckContext, Finding, Severity
from tuneproof.text.scripts import COMMON, INHERITED, dominant_script, script_of

NAME = "script_mix"
CONFUSABLE = frozenset({"Latin", "Cyrillic", "Greek"})


def row_script(text: str) -> str:
    if text.isascii():  # fast path for the common case
        return "Latin" if any(c.isalpha() for c in text) else COMMON
    return dominant_script(text)


def mixes_scripts(text: str) -> str | None:
    """The first word that mixes Latin/Cyrillic/Greek letters, or None."""
    if text.isascii():
        return None
    for word in text.split():
        if word.isascii():
            continue
        scripts = {script_of(c) for c in word if c.isalpha()} - {COMMON, INHERITED}
        if len(scripts & CONFUSABLE) > 1:
            return word
    return None


def run(ctx: CheckContext) -> list[Finding]:
    opts = ctx.options
    findings: list[Finding] = []
    for split in ctx.splits:
        texts = ctx.texts(split)
        scripts = [row_script(t) for t in texts]
        counts = Counter(s for s in scripts if s != COMMON)
        if counts:
            main = counts.most_common(1)[0][0]
            known = sum(counts.values())
            for script, c in counts.most_common()[1:]:
                share = c / known
                rows = [i for i, s in enumerate(scripts) if s == script]
                sev: Severity = "warning" if share < opts.minority_share else "info"
                findings.append(
                    Finding(
                        check=NAME,
                        severity=sev,
                        split=split,
                        rows=ctx.ids_of(split, rows[: opts.max_rows_listed]),
                        score=share,
                        detail=f"{c} rows ({share:.1%}) are mainly in {script} script while "
                        f"most are in {main}",
                    )
                )
        mixed = [(i, w) for i, t in enumerate(texts) if (w := mixes_scripts(t)) is not None]
        if mixed:
            findings.append(
                Finding(
                    check=NAME,
                    severity="warning",
                    split=split,
                    rows=ctx.ids_of(split, [i for i, _ in mixed]),
                    score=len(mixed) / len(texts),
                    detail=f"{len(mixed)} rows have words mixing Latin, Cyrillic or Greek letters "
                    f"(look-alike characters), e.g. {mixed[0][1]!r}",
                )
            )
    return findings


CHECK = Check(
    name=NAME,
    description="rows in another Unicode script than their split; words mixing Latin, Cyrillic "
    "and Greek look-alike letters",
    severity="warning",
    run=run,
)
