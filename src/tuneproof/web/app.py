"""``create_app``: the FastAPI app of ``tuneproof ui`` over one workspace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Match

import tuneproof
from tuneproof.web import (
    api,
    humaneval,
    learn_args,
    learn_concepts,
    learn_evalplan,
    learn_lora,
    learn_strategy,
    learn_tokens,
    pages,
    review,
)
from tuneproof.web.render import page
from tuneproof.web.security import LOCAL_HOSTS, PAGE_CSP, Settings, guard

STATIC = Path(__file__).parent / "static"


def allowed_methods(request: Request) -> list[str]:
    """The methods the routes at this path accept (Starlette lists only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def create_app(
    workspace: str | Path,
    *,
    token: str | None = None,
    port: int | None = None,
    hosts: tuple[str, ...] = LOCAL_HOSTS,
) -> FastAPI:
    """The app for ``workspace`` (its ``runs/`` folder holds the runs). ``hosts`` are the Host
    names it answers to; ``token`` is the per-launch token (random when None)."""
    settings = Settings(Path(workspace).resolve(), port=port, hosts=hosts)
    if token is not None:
        settings = Settings(settings.workspace, token=token, port=port, hosts=hosts)
    app = FastAPI(
        title="tuneproof",
        version=tuneproof.__version__,
        description="Runs, live training, comparison and the PR evidence builder.",
        dependencies=[Depends(guard)],
        docs_url=None,  # the Swagger page loads its scripts from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # not no-referrer: with it Chrome sends "Origin: null" on form posts, which the guard refuses
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 405:  # Allow: every method of the path, not just one route's
            exc.headers = {"Allow": ", ".join(allowed_methods(request))}
        if request.url.path.startswith(("/api/", "/files/")) or request.url.path == "/openapi.json":
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        response = page(
            request,
            "error.html",
            status_code=exc.status_code,
            status=exc.status_code,
            detail=exc.detail,
        )
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return response

    app.include_router(api.router)
    app.include_router(humaneval.router)
    app.include_router(learn_strategy.router)
    app.include_router(learn_args.router)
    app.include_router(learn_concepts.router)
    app.include_router(pages.router)
    for learn in (learn_lora, learn_tokens, learn_evalplan):  # the learning modules (#15)
        app.include_router(learn.api)
        app.include_router(learn.pages)
    app.include_router(review.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    mount_competition(app, settings.workspace / "competition")
    return app


def mount_competition(app: FastAPI, folder: Path) -> bool:
    """The workspace's competition (``competition/``, made by ``tuneproof compete init``) at
    ``/competition``: the same app ``tuneproof compete serve`` runs, with its own bearer-token and
    same-origin rules."""
    from tuneproof.compete import service
    from tuneproof.compete.http import create_app as competition_app

    if not (folder / service.FILE).is_file():
        return False
    app.mount(
        "/competition", competition_app(service.open_competition(folder), prefix="/competition")
    )
    app.state.competition = folder
    return True
