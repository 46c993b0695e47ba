"""The competition's HTTP face: a JSON API under ``/api/competition`` and one HTML page.

Thin: each route reads the request, calls :mod:`.service` and maps its typed errors to HTTP
statuses (422 with line-level errors, 429 with ``Retry-After``, 409 after the close, 403/404).
The same app is served by ``tuneproof compete serve`` and mounted by ``tuneproof ui``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel

from tuneproof.compete import service
from tuneproof.compete.service import (
    Board,
    Competition,
    CompetitionError,
    Info,
    SubmissionView,
)

MAX_UPLOAD = 5 * 1024 * 1024
COOKIE = "tuneproof_team"


class ErrorBody(BaseModel):
    detail: str
    errors: list[dict[str, Any]] | None = None


class SubmitBody(BaseModel):
    submission: SubmissionView
    created: bool
    quota_left: int | None = None


class Selection(BaseModel):
    submission_ids: list[int]


def _token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 422, 429)
}


def create_app(comp: Competition, *, prefix: str = "") -> FastAPI:
    """The competition app; ``prefix`` is where it is mounted (for links in the page)."""
    app = FastAPI(title=f"tuneproof competition: {comp.name}", version="1")
    api = APIRouter(prefix="/api/competition", responses=ERRORS)
    env = Environment(
        loader=PackageLoader("tuneproof.compete", "pages"), autoescape=select_autoescape()
    )

    @app.exception_handler(CompetitionError)
    async def _refused(_: Request, err: CompetitionError) -> JSONResponse:
        headers = {}
        if "retry_after" in err.extra:
            headers["Retry-After"] = str(err.extra["retry_after"])
        body = ErrorBody(detail=err.message, errors=err.extra.get("errors"))
        return JSONResponse(body.model_dump(exclude_none=True), err.status, headers=headers)

    def caller(authorization: str | None, required: bool = True) -> service.Caller | None:
        return service.authenticate(comp, _token(authorization), required=required)

    @api.get("/", response_model=Info)
    def rules(authorization: Annotated[str | None, Header()] = None) -> Info:
        return service.info(comp, caller(authorization, required=False))

    @api.get("/test.csv", response_class=FileResponse)
    def test_csv() -> FileResponse:
        return FileResponse(comp.root / "test.csv", media_type="text/csv", filename="test.csv")

    @api.post("/submissions", status_code=201, response_model=SubmitBody)
    async def submit(
        response: Response,
        file: Annotated[UploadFile, File(description="CSV with header id,label")],
        manifest: Annotated[UploadFile | None, File(description="the run's manifest.json")] = None,
        authorization: Annotated[str | None, Header()] = None,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> SubmitBody:
        who = caller(authorization)
        assert who is not None
        data = await file.read(MAX_UPLOAD + 1)
        man = service.parse_manifest(await manifest.read(1024 * 1024) if manifest else None)
        from starlette.concurrency import run_in_threadpool

        result = await run_in_threadpool(
            service.submit, comp, who, data, idempotency_key=idempotency_key, manifest=man
        )
        if not result.created:
            response.status_code = 200
        return SubmitBody(
            submission=result.view,
            created=result.created,
            quota_left=result.extra.get("quota_left"),
        )

    @api.get("/submissions", response_model=list[SubmissionView])
    def own(authorization: Annotated[str | None, Header()] = None) -> list[SubmissionView]:
        who = caller(authorization)
        assert who is not None
        return service.submissions(comp, who)

    @api.get("/submissions/{submission_id}", response_model=SubmissionView)
    def one(
        submission_id: int, authorization: Annotated[str | None, Header()] = None
    ) -> SubmissionView:
        who = caller(authorization)
        assert who is not None
        return service.submission(comp, who, submission_id)

    @api.put("/selection", response_model=list[SubmissionView])
    def select(
        body: Selection, authorization: Annotated[str | None, Header()] = None
    ) -> list[SubmissionView]:
        who = caller(authorization)
        assert who is not None
        return service.select_finals(comp, who, body.submission_ids)

    @api.get("/leaderboard", response_model=Board)
    def board(
        board: Annotated[str, Query(pattern="^(public|private)$")] = "public",
        authorization: Annotated[str | None, Header()] = None,
    ) -> Board:
        return service.leaderboard(comp, caller(authorization, required=False), board)

    @api.post("/close", response_model=Info)
    def close(authorization: Annotated[str | None, Header()] = None) -> Info:
        who = caller(authorization)
        assert who is not None
        return service.close(comp, who)

    app.include_router(api)

    def same_origin(request: Request) -> None:
        """Form posts authenticate by cookie, so a foreign page must not be able to send them."""
        origin = request.headers.get("origin")
        if origin is not None and origin.rstrip("/") != str(request.base_url).rstrip("/"):
            raise service.Forbidden("cross-origin form post refused")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request) -> HTMLResponse:
        token = request.cookies.get(COOKIE)
        try:
            who = service.authenticate(comp, token, required=False)
        except service.Unauthorized:
            who = None
        info = service.info(comp, who)
        public = service.leaderboard(comp, who, "public")
        try:
            private = service.leaderboard(comp, who, "private")
        except service.Forbidden:
            private = None
        own = service.submissions(comp, who) if who is not None else []
        html = env.get_template("competition.html").render(
            info=info, public=public, private=private, own=own, who=who, prefix=prefix
        )
        return HTMLResponse(html)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, token: Annotated[str, Form()]) -> Response:
        same_origin(request)
        service.authenticate(comp, token)  # 401 for an unknown token
        out = Response(status_code=303, headers={"Location": f"{prefix}/"})
        out.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return out

    @app.post("/upload", response_class=HTMLResponse, include_in_schema=False)
    async def upload(request: Request, file: Annotated[UploadFile, File()]) -> HTMLResponse:
        """The page's form post (works without JavaScript): submit, then show the outcome."""
        try:
            same_origin(request)
            who = service.authenticate(comp, request.cookies.get(COOKIE))
            assert who is not None
            data = await file.read(MAX_UPLOAD + 1)
            from starlette.concurrency import run_in_threadpool

            result = await run_in_threadpool(service.submit, comp, who, data)
            v = result.view
            message = (
                f"submission {v.id}: public accuracy {v.public_accuracy:.4f}"
                if v.released and v.public_accuracy is not None
                else f"submission {v.id}: recorded; {v.note}"
            )
            errors: list[dict[str, Any]] = []
            status = 201 if result.created else 200
        except CompetitionError as err:
            errors = err.extra.get("errors") or []
            message, status = err.message, err.status
        html = env.get_template("message.html").render(
            message=message, errors=errors, prefix=prefix
        )
        return HTMLResponse(html, status_code=status)

    return app


def app_for(root: str | Path) -> FastAPI:
    return create_app(service.open_competition(root))
