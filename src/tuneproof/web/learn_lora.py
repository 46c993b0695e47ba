"""The LoRA calculator (``/lora``, ``POST /api/lora``): a face over :mod:`tuneproof.plan.lora`,
the same calls ``tuneproof lora --json`` makes, so the page, the API and the CLI show one number.

The model is a built-in or shipped config name, or an uploaded config.json; bad input of any kind
is a 422 with the library's one-line message (page fragments included)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from tuneproof.errors import UserError
from tuneproof.web.render import page

UPLOAD = "__upload__"  # the model select's value for an uploaded config.json


class Invalid(BaseModel):
    detail: str | list[dict[str, Any]] = Field(
        description="why the input was refused: one line, or the fields pydantic rejected"
    )


INVALID: dict[int | str, dict[str, Any]] = {
    400: {"model": Invalid, "description": "a body that is not UTF-8 JSON"},
    403: {"model": Invalid, "description": "no token or a foreign Origin"},
    422: {"model": Invalid, "description": "bad input, with the reason"},
}

Rank = Annotated[int, Field(ge=1, le=1024)]


class LoraIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")  # wrong types are 422s

    model: str = Field(
        "minilm-l6",
        max_length=200,
        description="a built-in (minilm-l6, smollm2, ...) or shipped config (llama-2-7b, ...); "
        "ignored when config is given",
    )
    config: dict[str, Any] | None = Field(
        None, description="an uploaded config.json (its JSON object) instead of a name"
    )
    rank: Rank = 16
    alpha: int | None = Field(None, ge=1, le=1_000_000, description="lora_alpha (default 2 × r)")
    dropout: float = Field(0.05, ge=0, lt=1)
    targets: list[Annotated[str, Field(max_length=200)]] | Literal["all-linear"] | None = Field(
        None,
        max_length=200,
        description="module names to adapt, or all-linear (default: PEFT's for the architecture)",
    )
    task: str | None = Field(None, max_length=100, description="add this task's head")
    num_labels: int = Field(2, ge=1, le=100_000)
    batch: int = Field(8, ge=1, le=4096)
    seq: int = Field(256, ge=1, le=1_048_576)
    precision: Literal["fp32", "bf16", "fp16"] = "bf16"
    bits: Literal[32, 16, 8] = 16
    ranks: list[Rank] | None = Field(
        None, min_length=1, max_length=16, description="ranks of the curve (default 1..128)"
    )


@dataclass(frozen=True)
class LoraResult:
    """One calculation: the estimate at the chosen rank and the curve over ranks."""

    estimate: Any  # plan.lora.LoraEstimate
    curve: Any  # plan.lora.RankCurve
    python: str
    yaml: str

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.estimate.to_dict(),
            "ranks": self.curve.rows(),
            "lora_config_python": self.python,
            "strategy_yaml": self.yaml,
        }


def calculate(q: LoraIn) -> LoraResult:
    """What the page and the API show (raises UserError on bad input)."""
    from tuneproof.plan import lora as calc

    targets: tuple[str, ...] | str | None = (
        tuple(q.targets) if isinstance(q.targets, list) else q.targets
    )
    spec = calc.LoraSpec(r=q.rank, alpha=q.alpha, dropout=q.dropout, targets=targets or None)
    ranks = tuple(q.ranks or calc.CURVE_RANKS)
    if q.config is not None:
        source = calc.source_from_json(json.dumps(q.config), "config.json")
        base = calc.analyze_uploaded(
            source, q.task, q.num_labels, batch=q.batch, seq=q.seq, precision=q.precision
        )
        curve = calc.rank_curve(base, spec, ranks, precision=q.precision, bits=q.bits)
    else:
        name, task = q.model.strip(), q.task or None
        base = calc.analyze_named(
            name, task, q.num_labels, batch=q.batch, seq=q.seq, precision=q.precision
        )
        curve = calc.rank_curve_named(
            name,
            spec,
            ranks,
            task=task,
            num_labels=q.num_labels,
            batch=q.batch,
            seq=q.seq,
            precision=q.precision,
            bits=q.bits,
        )
    est = next((e for e in curve.estimates if e.spec == spec), None)
    if est is None:
        est = calc.estimate_lora(base, spec, precision=q.precision, bits=q.bits)
    return LoraResult(est, curve, calc.lora_config_python(est), calc.lora_config_yaml(est))


api = APIRouter(prefix="/api", tags=["learn"])
pages = APIRouter(include_in_schema=False)


@api.post("/lora", responses=INVALID)
async def lora_api(body: LoraIn) -> dict[str, Any]:
    """PEFT's exact trainable parameters, adapter size and full / LoRA / QLoRA memory for one
    LoRA config, plus the curve over ranks: the numbers of ``tuneproof lora --json``."""
    try:
        result = await run_in_threadpool(calculate, body)
    except UserError as err:
        raise HTTPException(422, str(err)) from None
    return result.to_dict()


# --- the page -----------------------------------------------------------------------------------


async def read_form(request: Request) -> FormData:
    """The posted form; a field over Starlette's 1 MB limit is bad input (422), not a 400."""
    from starlette.exceptions import HTTPException as StarletteHTTPException

    try:
        return await request.form()
    except StarletteHTTPException as err:
        raise UserError(
            f"form: {err.detail} (this page takes a few kB of text; paste a shorter passage)"
        ) from None


def _int(form: FormData, key: str, default: int | None) -> int | None:
    raw = str(form.get(key) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise UserError(f"{key}: '{raw[:40]}' is not a whole number") from None


def _float(form: FormData, key: str, default: float) -> float:
    raw = str(form.get(key) or "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise UserError(f"{key}: '{raw[:40]}' is not a number") from None


async def _query(form: FormData) -> tuple[LoraIn, str | None]:
    """The form as a LoraIn, and the uploaded config.json text (carried in a hidden field)."""
    from pydantic import ValidationError

    from tuneproof.plan import lora as calc

    model = str(form.get("model") or "minilm-l6")
    upload = form.get("config_file")
    text = str(form.get("config_text") or "") or None
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(calc.MAX_CONFIG_BYTES + 1)
        if len(data) > calc.MAX_CONFIG_BYTES:
            raise UserError(f"{upload.filename}: larger than a config.json can be")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UserError(f"{upload.filename}: not UTF-8 text; upload a config.json") from None
        model = UPLOAD
    config = None
    if model == UPLOAD:
        if not text:
            raise UserError("config.json: choose the file to upload")
        config = calc.source_from_json(text).config.to_dict()
    else:
        text = None
    targets: list[str] | Literal["all-linear"] | None = None
    if not form.get("reset"):
        chosen = [str(t) for t in form.getlist("targets")]
        targets = "all-linear" if "all-linear" in chosen else (chosen or None)
    try:
        q = LoraIn(
            model=model if model != UPLOAD else "config.json",
            config=config,
            rank=_int(form, "rank", 16) or 0,
            alpha=_int(form, "alpha", None),
            dropout=_float(form, "dropout", 0.05),
            targets=targets,
            task=str(form.get("task") or "") or None,
            batch=_int(form, "batch", 8) or 0,
            seq=_int(form, "seq", 256) or 0,
            precision=str(form.get("precision") or "bf16"),  # type: ignore[arg-type]
            bits=_int(form, "bits", 16) or 16,  # type: ignore[arg-type]
        )
    except ValidationError as err:
        first = err.errors()[0]
        raise UserError(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    return q, text


def _context(q: LoraIn, text: str | None, result: LoraResult | None) -> dict[str, Any]:
    from tuneproof.models import BUILTIN_MODELS
    from tuneproof.plan.lora import SHIPPED_CONFIGS
    from tuneproof.plan.memory import format_bytes
    from tuneproof.tasks import TASKS
    from tuneproof.web.views import line_chart

    charts = []
    if result is not None:
        points = result.curve.points()
        charts = [
            line_chart("trainable parameters (M) against rank", points, ["trainable (M)"], "rank"),
            line_chart(
                "training memory (GiB) against rank", points, ["LoRA GiB", "QLoRA GiB"], "rank"
            ),
        ]
    return {
        "q": q,
        "selected": UPLOAD if q.config is not None else q.model,
        "config_text": text or "",
        "models": [*BUILTIN_MODELS, *SHIPPED_CONFIGS],
        "upload": UPLOAD,
        "tasks": list(TASKS),
        "r": result,
        "charts": [c for c in charts if c is not None],
        "fb": lambda n: "n/a" if n is None else format_bytes(n, 2),
    }


async def _render(request: Request, template: str, q: LoraIn, text: str | None) -> Response:
    try:
        result = await run_in_threadpool(calculate, q)
    except UserError as err:
        return page(request, template, status_code=422, error=str(err), **_context(q, text, None))
    return page(request, template, error=None, **_context(q, text, result))


@pages.get("/lora", response_class=HTMLResponse)
async def lora_page(request: Request) -> Response:
    form = FormData(list(request.query_params.multi_items()))
    try:
        q, text = await _query(form)
    except UserError as err:
        q = LoraIn()
        return page(
            request, "lora.html", status_code=422, error=str(err), **_context(q, None, None)
        )
    return await _render(request, "lora.html", q, text)


@pages.post("/lora", response_class=HTMLResponse)
async def lora_post(request: Request) -> Response:
    """The whole page (a model change re-lists its target modules; a plain form post)."""
    try:
        q, text = await _query(await read_form(request))
    except UserError as err:
        q = LoraIn()
        return page(
            request, "lora.html", status_code=422, error=str(err), **_context(q, None, None)
        )
    return await _render(request, "lora.html", q, text)


@pages.post("/lora/result", response_class=HTMLResponse)
async def lora_fragment(request: Request) -> Response:
    """The numbers, chart and snippet for the sliders' current values (htmx)."""
    try:
        q, text = await _query(await read_form(request))
    except UserError as err:
        ctx = _context(LoraIn(), None, None)
        return page(request, "_lora_result.html", status_code=422, error=str(err), **ctx)
    return await _render(request, "_lora_result.html", q, text)
