"""The TrainingArguments explorer: ``/args`` and its JSON twins.

``GET /api/args`` / ``GET /api/args/{name}`` are ``tuneproof args explain [--all] [NAME]
--json``; ``POST /api/args/lint`` is ``tuneproof args lint FILE --json`` and ``POST
/api/args/snippet`` ``tuneproof args snippet FILE --json``, on pasted text instead of a file
(YAML, JSON or a Python ``TrainingArguments(...)`` call, parsed with ``ast``, never run)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tuneproof.errors import UserError
from tuneproof.web.api import REFUSED
from tuneproof.web.learn_strategy import Int
from tuneproof.web.render import page

router = APIRouter()

Format = Literal["auto", "yaml", "json", "python"]
Strategy = Literal["full", "freeze", "progressive", "lora", "qlora", "prune", "distill"]
PROBLEM: dict[int | str, dict[str, Any]] = {
    **REFUSED,
    422: {"description": "the text cannot be read (empty, too long, invalid YAML/Python)"},
}


class SnippetIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    # no max_length here: pydantic's 422 would echo the whole paste back; parse_text refuses
    # an empty or over-long text with a one-line message instead
    text: str = Field(description="YAML, JSON or Python with a TrainingArguments(...) call")
    format: Format = "auto"
    source: str = Field("snippet", min_length=1, max_length=200, description="shown in messages")


class LintIn(SnippetIn):
    strategy: Strategy | None = Field(None, description="--strategy [default: the config's]")
    train_rows: Int | None = Field(None, ge=1, le=10**12, description="--train-rows")
    gpus: Int = Field(1, ge=1, le=4096, description="--gpus")


def _explain(name: str) -> dict[str, Any]:
    from tuneproof.plan.args import explain

    return explain(name).to_dict()


def lint(body: LintIn) -> dict[str, Any]:
    from tuneproof.plan.args import LintContext, lint_text

    ctx = LintContext(train_rows=body.train_rows, gpus=body.gpus)
    report = lint_text(body.text, body.source, body.format, strategy=body.strategy, context=ctx)
    return report.to_dict()


def snippet(body: SnippetIn) -> dict[str, Any]:
    from tuneproof.plan.args import snippet_text

    return snippet_text(body.text, body.source, body.format).to_dict()


def _unprocessable(err: UserError) -> HTTPException:
    return HTTPException(422, str(err))


@router.get("/api/args", response_model=list[dict[str, Any]], tags=["learn"])
def api_args() -> list[dict[str, Any]]:
    """Every field of the installed TrainingArguments (``tuneproof args explain --all --json``)."""
    from tuneproof.plan.args import all_fields

    return [h.to_dict() for h in all_fields()]


@router.get(
    "/api/args/{name}",
    response_model=dict[str, Any],
    tags=["learn"],
    responses={422: {"description": "not a TrainingArguments field"}},
)
def api_arg(name: Annotated[str, Path(max_length=100)]) -> dict[str, Any]:
    try:
        return _explain(name)
    except UserError as err:
        raise _unprocessable(err) from None


@router.post("/api/args/lint", response_model=dict[str, Any], tags=["learn"], responses=PROBLEM)
def api_lint(body: LintIn) -> dict[str, Any]:
    try:
        return lint(body)
    except UserError as err:
        raise _unprocessable(err) from None


@router.post("/api/args/snippet", response_model=dict[str, Any], tags=["learn"], responses=PROBLEM)
def api_snippet(body: SnippetIn) -> dict[str, Any]:
    try:
        return snippet(body)
    except UserError as err:
        raise _unprocessable(err) from None


EXAMPLE = """from transformers import TrainingArguments

args = TrainingArguments(
    output_dir="out",
    evaluation_strategy="epoch",
    save_strategy="steps",
    load_best_model_at_end=True,
    learning_rate=3e-4,
    per_device_train_batch_size=4,
    num_train_epochs=3,
)
"""


def _fields(q: str, impact: str) -> list[Any]:
    from tuneproof.plan.args import all_fields

    needle = q.strip().lower()
    return [
        h
        for h in all_fields()
        if (not impact or h.impact == impact)
        and (not needle or needle in h.name.lower() or needle in h.help.lower())
    ]


def _args_page(
    request: Request,
    *,
    q: str = "",
    impact: str = "",
    text: str = EXAMPLE,
    strategy: str = "",
    status_code: int = 200,
    fragment: bool = False,
) -> Response:
    import transformers

    from tuneproof.plan.args import interactions_of

    ctx: dict[str, Any] = {"q": q, "impact": impact, "text": text, "strategy": strategy}
    ctx.update(lint=None, snippet=None, error=None, snippet_error=None)
    ctx["interactions_of"] = interactions_of
    ctx["version"] = transformers.__version__
    if request.method == "POST":
        try:
            body = LintIn(text=text, strategy=strategy or None)  # type: ignore[arg-type]
            ctx["lint"] = lint(body)
        except UserError as err:
            ctx["error"], status_code = str(err), 422
        except ValueError as err:  # pydantic: empty, too long, unknown strategy
            ctx["error"], status_code = _first_error(err), 422
        else:
            try:
                ctx["snippet"] = snippet(body)
            except UserError as err:  # e.g. a tuneproof config with errors: the lint lists them
                ctx["snippet_error"] = str(err)
        if fragment:
            return page(request, "_args_lint.html", status_code=status_code, **ctx)
    ctx["fields"] = _fields(q, impact)
    if fragment:
        return page(request, "_args_table.html", **ctx)
    return page(request, "args.html", status_code=status_code, **ctx)


def _first_error(err: ValueError) -> str:
    errors = getattr(err, "errors", None)
    if callable(errors):
        e = errors()[0]
        where = ".".join(str(p) for p in e["loc"]) or "input"
        return f"{where}: {e['msg']}"
    return str(err)


@router.get("/args", response_class=HTMLResponse, include_in_schema=False)
def args_page(request: Request, q: str = "", impact: str = "") -> Response:
    fragment = bool(request.headers.get("hx-request"))
    return _args_page(request, q=q, impact=impact, fragment=fragment)


@router.post("/args", response_class=HTMLResponse, include_in_schema=False)
def args_lint_page(request: Request, text: str = Form(""), strategy: str = Form("")) -> Response:
    fragment = bool(request.headers.get("hx-request"))
    return _args_page(request, text=text, strategy=strategy, fragment=fragment)
