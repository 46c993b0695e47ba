"""The human-evaluation pages of ``tuneproof ui``: export a blinded sheet, rate it, see results.

Thin handlers over ``tuneproof.evaluate.humaneval_files`` (the same functions as
``tuneproof humaneval``). The rating page shows only what the sheet shows (prompt, output A,
output B): the key never reaches the browser. Each click saves the rater's choice to
``RUN/humaneval/ratings/<rater>.csv`` (atomically), the file ``tuneproof humaneval import`` reads.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tuneproof import rundir, workspace
from tuneproof.errors import UserError
from tuneproof.evaluate import humaneval_files as he
from tuneproof.web.render import page
from tuneproof.web.security import settings

router = APIRouter(include_in_schema=False)


def _run_dir(request: Request, name: str) -> Path:
    try:
        path = workspace.run_path(settings(request).workspace, name)
    except UserError as err:
        raise HTTPException(404, str(err)) from None
    if not path.is_dir():
        raise HTTPException(404, f"run '{name}' not found")
    return path


def _count(value: str, field: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise UserError(f"{field}: '{value}' is not a whole number") from None


def _url(name: str, rater: str = "") -> str:
    base = f"/runs/{quote(name)}/humaneval"
    return f"{base}?rater={quote(rater)}" if rater else base


def _page(
    request: Request, name: str, rater: str = "", *, error: str | None = None, status: int = 200
) -> Response:
    run_dir = _run_dir(request, name)
    ws = settings(request).workspace
    key = sheet = result = None
    choices: dict[str, str] = {}
    try:
        result = rundir.read_optional(run_dir, rundir.HumanEval)
        if (run_dir / rundir.HUMANEVAL_KEY).is_file():
            key = he.read_key(run_dir)
            sheet = he.read_sheet(run_dir)
            if rater:
                rater = he.check_rater(rater)
                choices = dict(he.rater_choices(run_dir, rater))
    except UserError as err:
        error, status = error or str(err), 400 if status == 200 else status
    current = next((it for it in sheet or [] if it.item_id not in choices), None)
    return page(
        request,
        "humaneval.html",
        status_code=status,
        name=name,
        rater=rater,
        key=key,
        sheet=sheet or [],
        rated=len(choices),
        current=current,
        result=result,
        files=[p.name for p in he.rating_files(run_dir)],
        runs=[r.name for r in workspace.list_runs(ws) if r.name != name],
        error=error,
    )


@router.get("/runs/{name}/humaneval", response_class=HTMLResponse)
def humaneval_page(request: Request, name: str, rater: str = "") -> Response:
    return _page(request, name, rater)


@router.post("/runs/{name}/humaneval/rate")
def rate(
    request: Request,
    name: str,
    rater: str = Form(""),
    item_id: str = Form(""),
    choice: str = Form(""),
) -> Response:
    run_dir = _run_dir(request, name)
    try:
        he.save_rating(run_dir, rater, item_id, choice)
    except UserError as err:
        return _page(request, name, "", error=str(err), status=400)
    return RedirectResponse(_url(name, rater.strip()), status_code=303)


@router.post("/runs/{name}/humaneval/export")
def export(
    request: Request,
    name: str,
    n: str = Form(str(he.DEFAULT_N)),
    raters: str = Form(str(he.DEFAULT_RATERS)),
    baseline: str = Form(""),
) -> Response:
    run_dir = _run_dir(request, name)
    try:
        base = _run_dir(request, baseline) if baseline else None
        he.export_sheet(
            run_dir, baseline=base, n=_count(n, "items"), raters=_count(raters, "raters")
        )
    except UserError as err:
        return _page(request, name, error=str(err), status=400)
    return RedirectResponse(_url(name), status_code=303)


@router.post("/runs/{name}/humaneval/import")
def import_ratings(request: Request, name: str, rater: str = Form("")) -> Response:
    run_dir = _run_dir(request, name)
    try:
        he.import_ratings(run_dir, he.rating_files(run_dir))
    except UserError as err:
        return _page(request, name, rater, error=str(err), status=400)
    return RedirectResponse(_url(name, rater), status_code=303)
