"""``tuneproof ui``: a local web app over a workspace's runs (FastAPI, server-rendered Jinja2,
vendored htmx, a JSON API under ``/api/``). Pages and API call the same library functions as the
CLI (``tuneproof.workspace``, ``rundir``, ``evaluate.compare``, ``evidence``); see docs/ui.md."""

from tuneproof.web.app import create_app

__all__ = ["create_app"]
