"""The multilingual evaluation planner (``/evalplan``, ``POST /api/evalplan``): a face over
:func:`tuneproof.evaluate.plan.build_plan`, the call ``tuneproof evalplan --json`` makes. The plan
exports as the YAML ``tuneproof eval --plan`` reads and as Markdown. Coverage is measured on a
dataset of the workspace (a run's splits, or a file under ``data/``) or on an uploaded file."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from tuneproof import workspace
from tuneproof.errors import UserError
from tuneproof.web.learn_lora import INVALID, read_form
from tuneproof.web.render import page
from tuneproof.web.security import settings

DATA_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")
MAX_UPLOAD_BYTES = 2_000_000
Name = Annotated[str, Field(max_length=64)]


class EvalPlanIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")  # wrong types are 422s

    languages: list[Name] = Field(
        min_length=1, max_length=60, description="ISO 639-1 codes, e.g. en, hi, zh"
    )
    task: str = Field("sentiment", max_length=64, description="an evalplan task template")
    half_width: float = Field(0.1, gt=0, lt=1, description="target half-width of each interval")
    confidence: float = Field(0.95, ge=0.5, lt=1)
    expected_accuracy: float = Field(0.5, gt=0, lt=1)
    scripts: list[Name] = Field(default_factory=list, max_length=40, description="extra scripts")
    code_switching: bool = True
    failure_modes: list[Name] | None = Field(
        None, max_length=40, description="failure-mode categories to keep (default: all)"
    )
    data: list[Annotated[str, Field(max_length=500)]] = Field(
        default_factory=list,
        max_length=8,
        description="datasets of the workspace to measure coverage on (ids from the page: "
        "runs/NAME:split, or a file under data/)",
    )
    text_column: str = Field("text", max_length=200)
    lang_column: str | None = Field(None, max_length=200)


def dataset_choices(ws: Path) -> dict[str, Path]:
    """The workspace's datasets by id: each run's train/validation/test files, and data files
    under ``data/``. Only these can be read, so a request cannot name an arbitrary path."""
    from tuneproof import rundir

    out: dict[str, Path] = {}
    for run in workspace.list_runs(ws):
        try:
            cfg = rundir.read_config(run.path).data
        except (UserError, OSError):
            continue
        for split in ("train", "validation", "test"):
            value = getattr(cfg, split, None)
            if value and Path(value).is_file():
                out[f"runs/{run.name}:{split}"] = Path(value)
    folder = ws / "data"
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(ws).as_posix()
            if path.suffix.lower() in DATA_SUFFIXES and workspace.inside(ws, rel) is not None:
                out[rel] = path
    return out


@dataclass(frozen=True)
class PlanResult:
    plan: Any  # evaluate.plan.EvalPlan
    yaml: str
    markdown: str

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.to_dict(), "yaml": self.yaml, "markdown": self.markdown}


def make_plan(q: EvalPlanIn, paths: list[Path]) -> PlanResult:
    from tuneproof.evaluate.plan import build_plan, plan_markdown, plan_yaml

    plan = build_plan(
        q.languages,
        q.task,
        half_width=q.half_width,
        confidence=q.confidence,
        expected_accuracy=q.expected_accuracy,
        data=paths,
        text_column=q.text_column,
        lang_column=q.lang_column or None,
        scripts=q.scripts,
        code_switching=q.code_switching,
        failure_modes=q.failure_modes,
    )
    return PlanResult(plan, plan_yaml(plan), plan_markdown(plan))


def _paths(ws: Path, ids: list[str]) -> list[Path]:
    choices = dataset_choices(ws)
    missing = [i for i in ids if i not in choices]
    if missing:
        offered = ", ".join(choices) or "none: train a run or put files under data/"
        raise UserError(f"data: '{missing[0]}' is not a dataset of this workspace ({offered})")
    return [choices[i] for i in ids]


api = APIRouter(prefix="/api", tags=["learn"])
pages = APIRouter(include_in_schema=False)


@api.post("/evalplan", responses=INVALID)
async def evalplan_api(body: EvalPlanIn, request: Request) -> dict[str, Any]:
    """The evaluation plan (``tuneproof evalplan --json``) with its YAML and Markdown exports."""
    try:
        paths = _paths(settings(request).workspace, body.data)
        return (await run_in_threadpool(make_plan, body, paths)).to_dict()
    except UserError as err:
        raise HTTPException(422, str(err)) from None


# --- the page -----------------------------------------------------------------------------------


def _float(form: FormData, key: str, default: float) -> float:
    raw = str(form.get(key) or "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise UserError(f"{key}: '{raw[:40]}' is not a number") from None


def _query(form: FormData) -> EvalPlanIn:
    """The form as an EvalPlanIn; before the first submit, every option is at its default."""
    from pydantic import ValidationError

    submitted = bool(form.get("submitted"))
    langs = [str(x) for x in form.getlist("lang")]
    langs += [x.strip() for x in str(form.get("more") or "").split(",") if x.strip()]
    try:
        return EvalPlanIn(
            languages=langs if submitted else ["en", "hi", "zh"],
            task=str(form.get("task") or "sentiment"),
            half_width=_float(form, "width", 0.1),
            confidence=_float(form, "confidence", 0.95),
            expected_accuracy=_float(form, "accuracy", 0.5),
            scripts=[str(x) for x in form.getlist("script")],
            code_switching=bool(form.get("code_switching")) if submitted else True,
            failure_modes=[str(x) for x in form.getlist("fm")] if submitted else None,
            data=[str(x) for x in form.getlist("data") if str(x)],
            text_column=str(form.get("text_column") or "text"),
            lang_column=str(form.get("lang_column") or "") or None,
        )
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(map(str, first["loc"])) or "form"
        if field == "languages":
            raise UserError("languages: choose at least one language") from None
        raise UserError(f"{field}: {first['msg']}") from None


def _export_query(q: EvalPlanIn) -> str:
    pairs: list[tuple[str, str]] = [("submitted", "1"), ("task", q.task)]
    pairs += [("lang", x) for x in q.languages]
    pairs += [("width", str(q.half_width)), ("confidence", str(q.confidence))]
    pairs += [("accuracy", str(q.expected_accuracy))]
    pairs += [("script", x) for x in q.scripts]
    if q.code_switching:
        pairs.append(("code_switching", "on"))
    pairs += [("fm", x) for x in (q.failure_modes or [])]
    pairs += [("data", x) for x in q.data]
    pairs.append(("text_column", q.text_column))
    if q.lang_column:
        pairs.append(("lang_column", q.lang_column))
    return urlencode(pairs)


def _context(ws: Path, q: EvalPlanIn | None, result: PlanResult | None) -> dict[str, Any]:
    from tuneproof.evaluate.plan import FAILURE_MODES, KNOWN_SCRIPTS, PHRASES, templates

    q = q or EvalPlanIn(languages=["en"])
    modes = [f.name for f in FAILURE_MODES] if q.failure_modes is None else q.failure_modes
    return {
        "q": q,
        "r": result,
        "known_languages": list(PHRASES),
        "more": ", ".join(x for x in q.languages if x not in PHRASES),
        "tasks": list(templates()),
        "scripts": KNOWN_SCRIPTS,
        "modes": FAILURE_MODES,
        "chosen_modes": modes,
        "datasets": list(dataset_choices(ws)),
        "export": _export_query(q),
    }


async def _render(
    request: Request, template: str, form: FormData, upload: UploadFile | None = None
) -> Response:
    ws = settings(request).workspace
    q: EvalPlanIn | None = None
    try:
        q = _query(form)
        paths = _paths(ws, q.data)
        if upload is not None and upload.filename:
            data = await upload.read(MAX_UPLOAD_BYTES + 1)
            if len(data) > MAX_UPLOAD_BYTES:
                raise UserError(
                    f"{upload.filename}: larger than {MAX_UPLOAD_BYTES // 1_000_000} MB; measure "
                    "big files with `tuneproof evalplan --data FILE`"
                )
            suffix = Path(upload.filename).suffix.lower()
            if suffix not in DATA_SUFFIXES:
                raise UserError(
                    f"{upload.filename}: upload a {', '.join(DATA_SUFFIXES)} file with a text column"
                )
            with tempfile.TemporaryDirectory(prefix="tuneproof-evalplan-") as tmp:
                path = Path(tmp) / f"upload{suffix}"
                path.write_bytes(data)
                result = await run_in_threadpool(make_plan, q, [*paths, path])
            result.plan.data[-1] = f"uploaded {Path(upload.filename).name}"
        else:
            result = await run_in_threadpool(make_plan, q, paths)
    except UserError as err:
        ctx = _context(ws, q, None)
        return page(request, template, status_code=422, error=str(err), **ctx)
    return page(request, template, error=None, **_context(ws, q, result))


@pages.get("/evalplan", response_class=HTMLResponse)
async def evalplan_page(request: Request) -> Response:
    return await _render(
        request, "evalplan.html", FormData(list(request.query_params.multi_items()))
    )


@pages.post("/evalplan", response_class=HTMLResponse)
async def evalplan_post(request: Request) -> Response:
    """With an uploaded dataset (multipart): its coverage per slice."""
    try:
        form = await read_form(request)
    except UserError as err:
        ctx = _context(settings(request).workspace, None, None)
        return page(request, "evalplan.html", status_code=422, error=str(err), **ctx)
    upload = form.get("dataset_file")
    return await _render(
        request, "evalplan.html", form, upload if isinstance(upload, UploadFile) else None
    )


@pages.get("/evalplan/result", response_class=HTMLResponse)
async def evalplan_fragment(request: Request) -> Response:
    return await _render(
        request, "_evalplan_result.html", FormData(list(request.query_params.multi_items()))
    )


def _export(request: Request, kind: str) -> Response:
    ws = settings(request).workspace
    try:
        q = _query(FormData(list(request.query_params.multi_items())))
        result = make_plan(q, _paths(ws, q.data))
    except UserError as err:
        raise HTTPException(422, str(err)) from None
    text, media = (
        (result.yaml, "application/x-yaml")
        if kind == "yaml"
        else (
            result.markdown,
            "text/markdown",
        )
    )
    return Response(
        text,
        media_type=f"{media}; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="evalplan.{"yaml" if kind == "yaml" else "md"}"'
        },
    )


@pages.get("/evalplan/plan.yaml")
def evalplan_yaml(request: Request) -> Response:
    """The plan as the YAML ``tuneproof eval RUN --plan FILE`` reads."""
    return _export(request, "yaml")


@pages.get("/evalplan/plan.md")
def evalplan_md(request: Request) -> Response:
    return _export(request, "md")
