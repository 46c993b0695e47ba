"""The JSON API under ``/api/`` (OpenAPI at ``/openapi.json``): the same library calls the pages
make, for scripts and tests. State-changing operations need the token (``security.guard``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from tuneproof import rundir, workspace
from tuneproof.errors import UserError
from tuneproof.web.security import TOKEN_HEADER, settings

NAME = workspace.NAME_RE.pattern
RunName = Annotated[str, Path(pattern=NAME, description="a run: the folder runs/NAME")]


class Problem(BaseModel):
    detail: str


class RunOut(BaseModel):
    name: str
    status: workspace.Status
    reason: str | None = None
    task: str | None = None
    model: str | None = None
    strategy: str | None = None
    metric: str | None = None
    value: float | None = None
    ci: tuple[float, float] | None = None
    best: float | None = None
    started: str | None = None

    @classmethod
    def of(cls, r: workspace.RunSummary) -> RunOut:
        return cls(
            name=r.name,
            status=r.status,
            reason=r.reason,
            task=r.task,
            model=r.model,
            strategy=r.strategy,
            metric=r.metric,
            value=r.value,
            ci=r.ci,
            best=r.best,
            started=r.started,
        )


class RunDetail(BaseModel):
    run: RunOut
    metrics: dict[str, Any] | None = None
    manifest: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None


class ConfigIn(BaseModel):
    config: str = Field(description="the run config as YAML text")


class Validation(BaseModel):
    ok: bool
    error: str | None = None
    key: str | None = Field(None, description="the config key the error is about")
    command: list[str] | None = Field(None, description="the CLI command the run equals")


class StartIn(ConfigIn):
    name: str = Field(pattern=NAME, description="run name: the folder under runs/")


class LaunchOut(BaseModel):
    name: str
    pid: int
    command: list[str]
    config: str


class Cancelled(BaseModel):
    cancelled: bool


class Starter(BaseModel):
    task: str
    config: str


class NotesIn(BaseModel):
    motivation: str = ""
    known_failures: str = ""
    baseline: str | None = Field(None, pattern=NAME)


class FlipOut(BaseModel):
    source: str
    id: str
    text: str
    gold: Any = None
    pred_a: Any = None
    pred_b: Any = None
    direction: str


class CompareOut(BaseModel):
    comparison: dict[str, Any]
    flips: list[FlipOut]
    best: dict[str, float | None]


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}
REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem},
    403: {"model": Problem, "description": f"no token ({TOKEN_HEADER}) or a foreign Origin"},
}

router = APIRouter(prefix="/api", tags=["api"])


def _summary(request: Request, name: str) -> workspace.RunSummary:
    try:
        return workspace.get_run(settings(request).workspace, name)
    except UserError as err:
        raise HTTPException(404, str(err)) from None


def error_key(message: str) -> str | None:
    """The dotted config key a ``parse_config`` message names (``config: training.lr: ...``)."""
    rest = message.removeprefix("config: ")
    if rest.startswith(("unknown key '", "missing required key '")):
        return rest.split("'")[1]
    head = rest.split(":", 1)[0]
    return head if head and " " not in head and rest != head else None


def validate(text: str, request: Request) -> Validation:
    ws = settings(request).workspace
    try:
        cfg = workspace.validate_config(text, ws)
    except UserError as err:
        return Validation(ok=False, error=str(err), key=error_key(str(err)))
    name = cfg.name or "run"
    try:
        command = workspace.train_command(name)
    except UserError:
        command = None
    return Validation(ok=True, command=command)


@router.get("/runs", response_model=list[RunOut])
def list_runs(request: Request) -> list[RunOut]:
    return [RunOut.of(r) for r in workspace.list_runs(settings(request).workspace)]


@router.get("/runs/{name}", response_model=RunDetail, responses=NOT_FOUND)
def get_run(name: RunName, request: Request) -> RunDetail:
    summary = _summary(request, name)
    out = RunDetail(run=RunOut.of(summary))
    for attr, model in (("metrics", rundir.Metrics), ("manifest", rundir.Manifest)):
        try:
            record = rundir.read_optional(summary.path, model)
        except UserError:
            record = None
        setattr(out, attr, rundir.dump(record) if record is not None else None)
    progress = workspace.read_progress(settings(request).workspace, name)
    out.progress = rundir.dump(progress) if progress is not None else None
    return out


@router.get("/runs/{name}/progress", response_model=dict[str, Any], responses=NOT_FOUND)
def get_progress(name: RunName, request: Request) -> dict[str, Any]:
    _summary(request, name)
    progress = workspace.read_progress(settings(request).workspace, name)
    if progress is None:
        raise HTTPException(404, f"{name}: no progress.json (not started training yet)")
    return rundir.dump(progress)


@router.post("/validate", response_model=Validation, responses=REFUSED)
def validate_config(body: ConfigIn, request: Request) -> Validation:
    return validate(body.config, request)


@router.post("/runs", response_model=LaunchOut, status_code=201, responses=REFUSED)
def start_run(body: StartIn, request: Request) -> LaunchOut:
    ws = settings(request).workspace
    try:
        cfg = workspace.validate_config(body.config, ws)
        launch = workspace.start_run(ws, body.name, cfg)
    except UserError as err:
        raise HTTPException(400, str(err)) from None
    return LaunchOut(name=body.name, pid=launch.pid, command=launch.command, config=launch.config)


@router.post("/runs/{name}/cancel", response_model=Cancelled, responses={**REFUSED, **NOT_FOUND})
def cancel_run(name: RunName, request: Request) -> Cancelled:
    _summary(request, name)
    return Cancelled(cancelled=workspace.cancel_run(settings(request).workspace, name))


@router.get("/starter/{task}", response_model=Starter, responses=NOT_FOUND)
def starter(task: str) -> Starter:
    from tuneproof.tasks.templates import starter_config

    try:
        return Starter(task=task, config=starter_config(task))
    except UserError as err:
        raise HTTPException(404, str(err)) from None


@router.get("/runs/{name}/notes", response_model=NotesIn, responses=NOT_FOUND)
def get_notes(name: RunName, request: Request) -> NotesIn:
    _summary(request, name)
    n = workspace.read_notes(settings(request).workspace, name)
    return NotesIn(motivation=n.motivation, known_failures=n.known_failures, baseline=n.baseline)


@router.put("/runs/{name}/notes", response_model=NotesIn, responses={**REFUSED, **NOT_FOUND})
def put_notes(name: RunName, body: NotesIn, request: Request) -> NotesIn:
    _summary(request, name)
    try:
        n = workspace.write_notes(settings(request).workspace, name, **body.model_dump())
    except UserError as err:
        raise HTTPException(404, str(err)) from None
    return NotesIn(motivation=n.motivation, known_failures=n.known_failures, baseline=n.baseline)


@router.get("/compare", response_model=CompareOut, responses={400: {"model": Problem}})
def compare(
    a: Annotated[str, Query(pattern=NAME, description="run A")],
    b: Annotated[str, Query(pattern=NAME, description="baseline run B")],
    request: Request,
) -> CompareOut:
    from tuneproof.evaluate.compare import compare_runs, flipped_rows

    ws = settings(request).workspace
    try:
        ra, rb = workspace.get_run(ws, a), workspace.get_run(ws, b)
        comparison = compare_runs(ra.path, rb.path)
        flips = flipped_rows(ra.path, rb.path)
    except UserError as err:
        raise HTTPException(400, str(err)) from None
    return CompareOut(
        comparison=comparison.to_dict(),
        flips=[FlipOut(**vars(f)) for f in flips],
        best={a: ra.best, b: rb.best},
    )
