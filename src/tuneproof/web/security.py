"""Guards for a local app that can start processes.

* Every request's ``Host`` must be one the app was started for (no DNS rebinding).
* Every state-changing request (not GET/HEAD/OPTIONS) needs a same-origin ``Origin`` and the
  per-launch token twice: in the cookie the pages set, and in the ``X-Tuneproof-Token`` header
  (htmx, API clients) or the ``_token`` form field (plain form posts). A cross-site page can make
  the browser send the cookie but can neither read the token nor forge ``Origin``; refusals are
  403 and happen before the route runs, so nothing is started.
* Pages send a strict Content-Security-Policy (scripts and styles from the app only); workspace
  files are served sandboxed, so a report.html cannot run script in the app's origin.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException, Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_HEADER = "X-Tuneproof-Token"
TOKEN_FIELD = "_token"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-src 'self'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
FILE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass(frozen=True)
class Settings:
    workspace: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    port: int | None = None
    hosts: tuple[str, ...] = LOCAL_HOSTS

    @property
    def cookie(self) -> str:
        """One cookie per port: two apps on one machine must not overwrite each other's."""
        return f"tuneproof_token_{self.port}" if self.port else "tuneproof_token"


def settings(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


async def guard(request: Request) -> None:
    """A FastAPI dependency on every route: refuses a state-changing request with 403."""
    if request.method in SAFE_METHODS:
        return
    s = settings(request)
    origin = request.headers.get("origin")
    host = request.headers.get("host", "")
    if origin is None or origin != f"{request.url.scheme}://{host}":
        raise HTTPException(403, "cross-origin or missing Origin header")
    if not _same(request.cookies.get(s.cookie), s.token):
        raise HTTPException(403, "missing or wrong session cookie; reload the page")
    sent = request.headers.get(TOKEN_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(TOKEN_FIELD)
        sent = value if isinstance(value, str) else None
    if not _same(sent, s.token):
        raise HTTPException(403, f"missing or wrong {TOKEN_HEADER} header / {TOKEN_FIELD} field")
