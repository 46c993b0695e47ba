"""The tokenization visualizer (``/tokens``, ``POST /api/tokens``): a face over
:mod:`tuneproof.tokens.view`, the records ``tuneproof tokens show --json`` prints, plus the parallel
corpus comparison (``tokens compare``) and the stress suite (``tokens stress``). Only the built-in
offline tokenizers are offered; nothing is fetched from the hub."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from tuneproof.errors import UserError
from tuneproof.web.learn_lora import INVALID, read_form
from tuneproof.web.render import page

DEFAULT = ("minilm-l6", "xlmr", "smollm2", "mistral")


class TokensIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")  # wrong types are 422s

    text: str = Field(
        min_length=1, max_length=20_000, description="the text to split (20,000 characters at most)"
    )
    tokenizers: list[Annotated[str, Field(max_length=100)]] = Field(
        default=list(DEFAULT),
        min_length=1,
        max_length=16,
        description="built-in tokenizer names (`tuneproof tokens list`)",
    )
    parallel: bool = Field(
        False, description="add fertility and parity on the parallel corpus (tokens compare)"
    )
    stress: bool = Field(False, description="add the stress suite (tokens stress)")


def views(text: str, names: list[str]) -> list[Any]:
    from tuneproof.tokens import view

    view.check_text(text)
    return view.token_views([view.builtin(n) for n in view.check_builtins(names)], text)


def tokens_result(body: TokensIn) -> dict[str, Any]:
    from tuneproof.tokens import view

    out: dict[str, Any] = {"shown": [v.to_dict() for v in views(body.text, body.tokenizers)]}
    names = tuple(view.check_builtins(body.tokenizers))
    if body.parallel:
        out["parallel"] = view.parallel_comparison(names).to_dict()
    if body.stress:
        out["stress"] = [r.to_dict() for r in view.stress_reports(names)]
    return out


api = APIRouter(prefix="/api", tags=["learn"])
pages = APIRouter(include_in_schema=False)


@api.post("/tokens", responses=INVALID)
async def tokens_api(body: TokensIn) -> dict[str, Any]:
    """Each tokenizer's split of ``text``: tokens with character spans and UNK / byte-fallback
    flags, counts, characters per token, fertility (``tuneproof tokens show --json``)."""
    try:
        return await run_in_threadpool(tokens_result, body)
    except UserError as err:
        raise HTTPException(422, str(err)) from None


# --- the page -----------------------------------------------------------------------------------


def samples() -> dict[str, tuple[str, str]]:
    """Sample texts: the parallel corpus's first sentence per language, then the stress cases."""
    from tuneproof.tokens import STRESS_CASES, parallel_corpus

    out: dict[str, tuple[str, str]] = {}
    for t in parallel_corpus():
        key = f"lang:{t.lang}"
        if key not in out:
            out[key] = (f"{t.lang}: parallel sentence {t.id}", t.text)
    for c in STRESS_CASES:
        out[f"stress:{c.name}"] = (f"stress: {c.name} ({c.probes})", c.text)
    return out


def _context(text: str, names: list[str]) -> dict[str, Any]:
    from tuneproof.tokens import BUILTIN_TOKENIZERS
    from tuneproof.tokens import view as tv

    ctx: dict[str, Any] = {
        "text": text,
        "chosen": names,
        "builtins": list(BUILTIN_TOKENIZERS.values()),
        "samples": samples(),
        "views": [],
        "batches": [],
        "parallel": None,
        "stress": [],
        "impact": tv.training_impact,
        "impacts": list(tv.IMPACTS.values()),
        "error": None,
    }
    try:
        names = tv.check_builtins(names)
        ctx["views"] = views(text, names)
        lines = [t for t in text.splitlines() if t.strip()]
        ctx["batches"] = [tv.batch_view(tv.builtin(n), lines) for n in names]
        ctx["parallel"] = tv.parallel_comparison(tuple(names))
        ctx["stress"] = tv.stress_reports(tuple(names))
    except UserError as err:
        ctx["error"] = str(err)
    return ctx


async def _render(request: Request, template: str, text: str, names: list[str]) -> Response:
    ctx = await run_in_threadpool(_context, text, names)
    return page(request, template, status_code=422 if ctx["error"] else 200, **ctx)


@pages.get("/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request, sample: str = "lang:hi") -> Response:
    names = request.query_params.getlist("tok") or list(DEFAULT)
    picked = samples().get(sample)
    text = request.query_params.get("text") or (picked[1] if picked else "")
    if picked is None and not request.query_params.get("text"):
        return await _render(request, "tokens.html", "", names)
    return await _render(request, "tokens.html", text, names)


async def _posted(request: Request) -> tuple[str, list[str]] | str:
    """The text and tokenizers of a form post, or why the form could not be read."""
    try:
        form = await read_form(request)
    except UserError as err:
        return str(err)
    return str(form.get("text") or ""), [str(t) for t in form.getlist("tok")]


@pages.post("/tokens", response_class=HTMLResponse)
async def tokens_post(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, str):
        ctx = {**_context("", []), "error": posted}
        return page(request, "tokens.html", status_code=422, **ctx)
    return await _render(request, "tokens.html", *posted)


@pages.post("/tokens/show", response_class=HTMLResponse)
async def tokens_fragment(request: Request) -> Response:
    """Spans, counts, parity and the stress suite for the current text and tokenizers (htmx)."""
    posted = await _posted(request)
    if isinstance(posted, str):
        ctx = {**_context("", []), "error": posted}
        return page(request, "_tokens_result.html", status_code=422, **ctx)
    return await _render(request, "_tokens_result.html", *posted)
