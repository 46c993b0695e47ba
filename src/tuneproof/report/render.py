"""Jinja2 environments for the report's Markdown and HTML, and the filters they share.

Text from the data can never inject markup: the HTML environment autoescapes everything, and the
Markdown environment escapes every ``{{ }}`` value through ``finalize`` (``&`` and ``<``, so no
tag or entity can start, and Markdown punctuation) unless the value was explicitly marked :class:`Md` (trusted Markdown
such as the plan's ADR or a formatted number).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from tuneproof.evaluate.compare import format_p

# Markdown punctuation that could start emphasis, links, code or break a table cell.
_MD_SPECIAL = re.compile(r"([\\`*\[\]|~#])")
_MD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_SPACE = re.compile(r"\s+")


class Md(str):
    """A string that is already valid Markdown and must not be escaped again."""


def md_escape(value: Any) -> str:
    """Plain text -> inert Markdown on one line (safe in a paragraph, list item or table cell)."""
    if isinstance(value, Md):
        return str(value)
    text = _SPACE.sub(" ", str(value)).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;")  # no tag or entity can start
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_UNDERSCORE.sub(r"\\_", text)


def _finalize_md(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return md_escape(value)


def num(value: Any, digits: int = 4) -> str:
    """A metric value: 4 decimals for fractions, thousands separators for counts."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        if digits == 0:  # steps and counts logged as floats: one format at every size
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:,.1f}"
        return f"{value:.{digits}f}"
    return str(value)


def signed(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def interval(ci: tuple[float, float] | None, digits: int = 4) -> str:
    return "–" if ci is None else f"{ci[0]:.{digits}f} – {ci[1]:.{digits}f}"


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f} %"


def short_sha(sha: str | None, n: int = 12) -> str:
    return "–" if not sha else sha[:n]


def code_span(value: Any) -> Md:
    """Inline code: literal on GitHub, so only backticks, pipes and newlines need care."""
    text = _SPACE.sub(" ", str(value)).strip().replace("`", "'").replace("|", "\\|")
    return Md(f"`{text}`")


def fence(value: Any, lang: str = "") -> Md:
    """A fenced code block longer than any backtick run inside it (content stays literal)."""
    text = str(value).rstrip("\n")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return Md(f"{ticks}{lang}\n{text}\n{ticks}")


def markdown_to_html(text: str) -> Markup:
    """Trusted Markdown (the ADR) to HTML; raw HTML inside it is escaped, not passed through."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return Markup(md.render(text))


def _filters(as_md: bool) -> dict[str, Callable[..., Any]]:
    wrap: Callable[[str], Any] = Md if as_md else str

    def mk(f: Callable[..., str]) -> Callable[..., Any]:
        return lambda *a, **k: wrap(f(*a, **k))

    return {
        "num": mk(num),
        "signed": mk(signed),
        "interval": mk(interval),
        "pvalue": mk(format_p),
        "pct": mk(pct),
        "short_sha": mk(short_sha),
        "md": Md,  # mark trusted Markdown
        "code": code_span if as_md else str,
        "fence": fence if as_md else str,
    }


@cache
def environment(kind: str) -> jinja2.Environment:
    """``md``: Markdown output, everything escaped by ``finalize``; ``html``: autoescape."""
    loader = jinja2.PackageLoader("tuneproof.report", "templates")
    if kind == "html":
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(_filters(as_md=False))
        env.filters["markdown"] = markdown_to_html
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            finalize=_finalize_md,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        env.filters.update(_filters(as_md=True))
    return env


def render(template: str, **context: Any) -> str:
    kind = "html" if template.endswith(".html.jinja") else "md"
    text = environment(kind).get_template(template).render(**context)
    return re.sub(r"\n{3,}", "\n\n", text)
