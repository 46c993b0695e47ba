"""Jinja2 rendering (autoescape on) and the per-launch token cookie every page sets."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from tuneproof.web.security import TOKEN_FIELD, TOKEN_HEADER, settings

TEMPLATES = Path(__file__).parent / "templates"


def _num(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _ci(ci: Any, digits: int = 3) -> str:
    if not ci or len(ci) != 2:
        return ""
    return f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "–"
    s = round(seconds)
    return (
        f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every text from a dataset or a config is escaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(num=_num, ci=_ci, duration=_duration)
ENV.globals.update(token_field=TOKEN_FIELD, token_header=TOKEN_HEADER)


def page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    s = settings(request)
    html = ENV.get_template(template).render(
        request=request, token=s.token, path=request.url.path, **context
    )
    response = HTMLResponse(html, status_code=status_code)
    response.set_cookie(s.cookie, s.token, httponly=True, samesite="strict", path="/")
    return response
