"""The label-review queue in the app: the same CSV ``tuneproof check --review`` writes, decided
row by row in the browser and applied like ``tuneproof data apply-review``.

Every file stays inside the workspace: the queue (a path relative to it), the data files its
manifest names, and the output folder; anything else is refused (404 for the queue, 400 for the
rest). Decisions and applying are POSTs, so the app's guard (same origin + the per-launch
token, :mod:`tuneproof.web.security`) runs before them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tuneproof import io, rundir, workspace
from tuneproof.errors import UserError
from tuneproof.web.render import page
from tuneproof.web.security import settings

router = APIRouter(include_in_schema=False)
MAX_DEPTH = 4  # folders below the workspace searched for queues


def _ws(request: Request) -> Path:
    return settings(request).workspace.resolve()


def queues(ws: Path) -> list[str]:
    """Review CSVs in the workspace (those with their ``review.json``-style manifest beside)."""
    from tuneproof.data.review import manifest_path

    found = []
    for path in sorted(ws.rglob("*.csv")):
        rel = path.relative_to(ws)
        if len(rel.parts) > MAX_DEPTH or rel.parts[0] == workspace.STATE:
            continue
        if manifest_path(path).is_file():
            found.append(str(rel))
    return found


def _queue(ws: Path, file: str) -> Path:
    target = workspace.inside(ws, file)
    if target is None or target.suffix.lower() != ".csv":
        raise HTTPException(404, f"no review queue '{file}' in the workspace")
    return target


def _confined_sources(ws: Path, target: Path) -> None:
    """The data files the queue refers to must be inside the workspace too."""
    from tuneproof.data.review import read_manifest

    for split, src in read_manifest(target).sources.items():
        real = Path(src.path.split("#", 1)[0]).resolve()
        if not real.is_relative_to(ws):
            raise UserError(
                f"{target.name}: split '{split}' is read from {src.path}, outside the workspace; "
                "apply this review with `tuneproof data apply-review` instead"
            )


def _output(ws: Path, output: str) -> Path:
    rel = Path(output.strip())
    if not output.strip() or rel.is_absolute() or ".." in rel.parts or "\x00" in output:
        raise UserError(f"output '{output}': give a folder name inside the workspace")
    target = (ws / rel).resolve()
    if not target.is_relative_to(ws) or target == ws or rel.parts[0] == workspace.STATE:
        raise UserError(f"output '{output}': give a folder name inside the workspace")
    if target.exists() and not (target / rundir.ReviewApplied.FILE).is_file():
        raise UserError(
            f"output '{output}' exists and is not a reviewed dataset; choose a new folder name"
        )
    return target


def _render(request: Request, file: str, status_code: int = 200, **ctx: Any) -> Response:
    from tuneproof.data.review import read_review

    ws = _ws(request)
    rows: list[rundir.ReviewRow] = []
    error = ctx.pop("error", None)
    if file:
        try:
            rows = read_review(_queue(ws, file))
        except UserError as err:
            error, status_code = str(err), 400
    counts = {d: sum(r.decision == d for r in rows) for d in rundir.REVIEW_DECISIONS}
    ctx.setdefault("applied", None)
    ctx.setdefault("output", "")
    return page(
        request, "review.html", status_code=status_code, file=file, files=queues(ws),
        rows=rows, counts=counts, error=error, **ctx,
    )  # fmt: skip


@router.get("/review", response_class=HTMLResponse)
def review(request: Request, file: str = "") -> Response:
    if file:
        _queue(_ws(request), file)
    return _render(request, file)


@router.post("/review/decide")
def decide(
    request: Request, file: str = Form(...), line: int = Form(...), decision: str = Form("")
) -> Response:
    """Set one row's decision (``line``: its position in the queue, from 0); the CSV is
    rewritten atomically."""
    from tuneproof.data.review import read_review, review_csv

    target = _queue(_ws(request), file)
    if decision not in rundir.REVIEW_DECISIONS:
        raise HTTPException(400, f"decision '{decision}': use accept, reject or empty")
    try:
        rows = read_review(target)
    except UserError as err:
        return _render(request, file, error=str(err), status_code=400)
    if not 0 <= line < len(rows):
        raise HTTPException(400, f"line {line}: the queue has {len(rows)} rows")
    rows[line] = rows[line].model_copy(update={"decision": decision})
    io.write_text(target, review_csv(rows))
    if request.headers.get("hx-request"):
        return _render(request, file)
    return RedirectResponse(f"/review?file={file}#row-{line}", status_code=303)


@router.post("/review/apply", response_class=HTMLResponse)
def apply(request: Request, file: str = Form(...), output: str = Form("")) -> Response:
    """Write the corrected dataset into a workspace folder (``data apply-review``)."""
    from tuneproof.data.review import apply_review

    ws = _ws(request)
    target = _queue(ws, file)
    try:
        _confined_sources(ws, target)
        done = apply_review(target, _output(ws, output))
    except UserError as err:
        return _render(request, file, error=str(err), status_code=400, output=output)
    rel = done.output.relative_to(ws)
    return _render(request, file, applied=done.changelog, output=str(rel))
