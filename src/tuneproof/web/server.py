"""Serve the app with uvicorn on one host and port (127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

from tuneproof.web.security import LOCAL_HOSTS

WILDCARD_HOSTS = ("0.0.0.0", "::")


def allowed_hosts(host: str) -> tuple[str, ...]:
    """Host header names the app answers to: the local names, the bound host, or any for a
    wildcard bind (the token and Origin checks still apply)."""
    if host in WILDCARD_HOSTS:
        return ("*",)
    return tuple(dict.fromkeys((*LOCAL_HOSTS, host)))


def is_local(host: str) -> bool:
    return host in LOCAL_HOSTS


def serve(
    workspace: Path, host: str = "127.0.0.1", port: int = 7860, open_browser: bool = False
) -> None:
    import uvicorn

    from tuneproof.web.app import create_app

    app = create_app(workspace, port=port, hosts=allowed_hosts(host))
    url = f"http://{'127.0.0.1' if host in WILDCARD_HOSTS else host}:{port}/"
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
