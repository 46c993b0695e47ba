"""The server-rendered pages. Each handler parses its input, calls the library (``workspace``,
``views``, ``evaluate.compare``, ``evidence``) and renders a template; forms post back to the
same routes, and htmx only swaps fragments of the same pages, so every page works without JS."""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.responses import StreamingResponse as Streaming

from tuneproof import rundir, workspace
from tuneproof.errors import UserError
from tuneproof.web import views
from tuneproof.web.api import validate
from tuneproof.web.render import page
from tuneproof.web.security import FILE_CSP, settings

router = APIRouter(include_in_schema=False)

EVENT_POLL_S = 0.5
KEEPALIVE_S = 15.0


def _ws(request: Request) -> Path:
    return settings(request).workspace


def _not_found(err: UserError) -> HTTPException:
    return HTTPException(404, str(err))


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    from tuneproof.web.learn_concepts import load_concepts

    runs = workspace.list_runs(_ws(request))[:5]
    return page(request, "home.html", runs=runs, learning_path=load_concepts().path)


@router.get("/runs", response_class=HTMLResponse)
def runs(request: Request, q: str = "", sort: str = "started", desc: bool = True) -> Response:
    rows = views.sort_runs(workspace.list_runs(_ws(request)), sort, q, desc)
    name = "_runs_table.html" if request.headers.get("hx-request") else "runs.html"
    return page(request, name, runs=rows, q=q, sort=sort, desc=desc)


@router.get("/runs/new", response_class=HTMLResponse)
def new_run(request: Request, task: str = "sequence-classification", start: str = "") -> Response:
    return _new_page(request, task, start)


def _new_page(
    request: Request,
    task: str,
    start: str,
    *,
    text: str | None = None,
    name: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    from tuneproof.tasks import TASKS
    from tuneproof.tasks.templates import starter_config

    ws = _ws(request)
    source_error = None
    if text is None:
        try:
            if start:
                text = rundir.read_config(workspace.run_path(ws, start)).to_yaml()
                name = name or f"{start}-2"
            else:
                text = starter_config(task)
        except UserError as err:
            source_error, text = str(err), ""
    check = validate(text, request) if text else None
    return page(
        request,
        "new.html",
        status_code=status_code,
        tasks=list(TASKS),
        task=task,
        start=start,
        runs=[r for r in workspace.list_runs(ws) if r.task],
        text=text,
        name=name,
        check=check,
        error=error or source_error,
    )


@router.post("/runs/new/validate", response_class=HTMLResponse)
def validate_fragment(request: Request, config: str = Form(""), name: str = Form("")) -> Response:
    check = validate(config, request)
    if check.ok and name:
        try:
            check.command = workspace.train_command(name)
        except UserError as err:
            check.ok, check.error, check.key = False, str(err), "name"
    return page(request, "_validation.html", check=check)


@router.post("/runs/new")
def start_run(request: Request, config: str = Form(""), name: str = Form("")) -> Response:
    ws = _ws(request)
    try:
        cfg = workspace.validate_config(config, ws)
        workspace.start_run(ws, name, cfg)
    except UserError as err:
        return _new_page(request, "", "", text=config, name=name, error=str(err), status_code=400)
    return RedirectResponse(f"/runs/{name}", status_code=303)


@router.get("/runs/{name}", response_class=HTMLResponse)
def run(request: Request, name: str) -> Response:
    try:
        view = views.run_page(_ws(request), name)
    except UserError as err:
        raise _not_found(err) from None
    return page(request, "run.html", p=view)


@router.post("/runs/{name}/cancel")
def cancel(request: Request, name: str) -> Response:
    try:
        workspace.get_run(_ws(request), name)
    except UserError as err:
        raise _not_found(err) from None
    workspace.cancel_run(_ws(request), name)
    return RedirectResponse(f"/runs/{name}", status_code=303)


def _event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


@router.get("/runs/{name}/events")
async def events(request: Request, name: str) -> Response:
    """Server-sent events: ``progress`` whenever progress.json or the status changes, then one
    ``done`` when the run is no longer running (the page reloads to show the results)."""
    ws = _ws(request)
    try:
        workspace.get_run(ws, name)
    except UserError as err:
        raise _not_found(err) from None

    async def stream() -> AsyncIterator[str]:
        last: dict[str, Any] | None = None
        idle = 0.0
        while not await request.is_disconnected():
            status, reason = workspace.run_status(ws, name)
            progress = workspace.read_progress(ws, name)
            data = {
                "status": status,
                "reason": reason,
                "progress": rundir.dump(progress) if progress else None,
            }
            if status not in ("starting", "running"):
                yield _event("done", data)
                return
            if data != last:
                yield _event("progress", data)
                last, idle = data, 0.0
            elif idle >= KEEPALIVE_S:
                yield ": keep-alive\n\n"
                idle = 0.0
            await asyncio.sleep(EVENT_POLL_S)
            idle += EVENT_POLL_S

    return Streaming(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, a: str = "", b: str = "") -> Response:
    from tuneproof.evaluate.compare import compare_runs, flipped_rows

    ws = _ws(request)
    ctx: dict[str, Any] = {"a": a, "b": b, "runs": workspace.list_runs(ws), "error": None}
    if a and b:
        try:
            ra, rb = workspace.get_run(ws, a), workspace.get_run(ws, b)
            ctx["cmp"] = compare_runs(ra.path, rb.path)
            flips = flipped_rows(ra.path, rb.path)
            ctx.update(ra=ra, rb=rb, flips=flips[: views.MAX_FLIPS], n_flips=len(flips))
        except UserError as err:
            ctx["error"] = str(err)
    return page(request, "compare.html", status_code=400 if ctx["error"] else 200, **ctx)


@router.get("/evidence", response_class=HTMLResponse)
def evidence(request: Request, run: str = "", baseline: str = "") -> Response:
    from tuneproof.evidence import build_bundle

    ws = _ws(request)
    ctx: dict[str, Any] = {"run": run, "baseline": baseline, "error": None, "bundle": None}
    ctx["runs"] = [r for r in workspace.list_runs(ws) if r.status == "complete"]
    if run:
        try:
            run_dir = workspace.get_run(ws, run).path
            notes = workspace.read_notes(ws, run)
            baseline = baseline or notes.baseline or ""
            ctx["baseline"] = baseline
            base = workspace.get_run(ws, baseline).path if baseline else None
            ctx["bundle"] = build_bundle(run_dir, base)
        except UserError as err:
            ctx["error"] = str(err)
    return page(request, "evidence.html", status_code=400 if ctx["error"] else 200, **ctx)


@router.post("/evidence/notes")
def save_notes(
    request: Request,
    run: str = Form(...),
    baseline: str = Form(""),
    motivation: str = Form(""),
    known_failures: str = Form(""),
) -> Response:
    ws = _ws(request)
    try:
        workspace.write_notes(
            ws, run, motivation=motivation, known_failures=known_failures, baseline=baseline or None
        )
    except UserError as err:
        raise _not_found(err) from None
    if request.headers.get("hx-request"):
        return page(request, "_saved.html")
    return RedirectResponse(f"/evidence?run={run}&baseline={baseline}", status_code=303)


@router.get("/evidence/zip")
def evidence_zip(request: Request, run: str, baseline: str = "") -> Response:
    from tuneproof.evidence import build_bundle, bundle_zip

    ws = _ws(request)
    try:
        base = workspace.get_run(ws, baseline).path if baseline else None
        data = bundle_zip(build_bundle(workspace.get_run(ws, run).path, base))
    except UserError as err:
        raise HTTPException(400, str(err)) from None
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{run}-evidence.zip"'},
    )


@router.get("/files/{path:path}")
def files(request: Request, path: str) -> Response:
    """A workspace file, sandboxed; anything outside the workspace is 404."""
    target = workspace.inside(_ws(request), path)
    if target is None:
        raise HTTPException(404, "not found")
    kind = mimetypes.guess_type(target.name)[0] or "text/plain"
    if kind.startswith("text/") or kind in ("application/json", "application/x-yaml"):
        kind = "text/html" if kind == "text/html" else "text/plain"
        kind += "; charset=utf-8"
    return FileResponse(target, media_type=kind, headers={"Content-Security-Policy": FILE_CSP})
