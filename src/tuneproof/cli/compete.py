"""`tuneproof compete`: host a competition with hidden labels, or take part in one."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from tuneproof.cli._common import console, err_console
from tuneproof.errors import UserError

compete_app = typer.Typer(
    help=(
        "An SST-2-style competition: hidden labels, public/private leaderboards, quotas.\n\n"
        "Example: `tuneproof compete init class-2026 --daily-limit 5`, then "
        "`tuneproof compete team add class-2026 red-team` and `tuneproof compete serve class-2026`."
    ),
    no_args_is_help=True,
)
team_app = typer.Typer(help="Manage teams.", no_args_is_help=True)
compete_app.add_typer(team_app, name="team")


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--closes-at '{text}': not ISO-8601, e.g. 2027-01-31T23:59:00Z") from None


@compete_app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="folder to create the competition in")],
    dataset: Annotated[
        str, typer.Option(help="polarity-en (offline) or sst2 (needs the hub)")
    ] = "polarity-en",
    db: Annotated[str | None, typer.Option(help="SQLAlchemy URL [default: SQLite in DIR]")] = None,
    daily_limit: Annotated[int, typer.Option(help="submissions per team per UTC day")] = 5,
    finals: Annotated[
        int, typer.Option(help="submissions a team can select for the private board")
    ] = 2,
    closes_at: Annotated[
        str | None, typer.Option(help="ISO-8601 UTC, e.g. 2027-01-31T23:59:00Z")
    ] = None,
    public_fraction: Annotated[
        float, typer.Option(help="share of test rows on the public board")
    ] = 0.3,
    ladder: Annotated[
        bool, typer.Option(help="Ladder mode: reveal only real public improvements")
    ] = False,
    seed: Annotated[int, typer.Option(help="seed of the train/test and public/private splits")] = 0,
) -> None:
    """Create the database, train.csv, test.csv (no labels), rules.md, starter.py and starter.ipynb.

    The admin token is printed alone on the last line.

    Example: `tuneproof compete init class-2026 --closes-at 2027-01-31T23:59:00Z`
    """
    from tuneproof.compete.service import init_competition

    comp, admin = init_competition(
        directory,
        dataset=dataset,
        db=db,
        daily_limit=daily_limit,
        n_finals=finals,
        closes_at=_when(closes_at),
        public_fraction=public_fraction,
        ladder=ladder,
        seed=seed,
    )
    for name in ("train.csv", "test.csv", "rules.md", "starter.py", "starter.ipynb"):
        console.print(f"wrote {comp.root / name}")
    console.print(
        "admin token (keep it secret; it closes the competition and sees the private board):"
    )
    print(admin)


@team_app.command("add")
def team_add(
    directory: Annotated[Path, typer.Argument(help="competition folder")],
    name: Annotated[str, typer.Argument(help="team name")],
) -> None:
    """Register a team; its token is printed alone on the last line (only its hash is stored).

    Example: `tuneproof compete team add class-2026 red-team`
    """
    from tuneproof.compete.service import add_team, open_competition

    token = add_team(open_competition(directory), name)
    console.print(f"team '{name}' added; its token:")
    print(token)


@compete_app.command("serve")
def serve(
    directory: Annotated[Path, typer.Argument(help="competition folder")],
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8001,
) -> None:
    """Serve the competition API (/api/competition) and its page.

    Example: `tuneproof compete serve class-2026 --port 8001`
    """
    import uvicorn

    from tuneproof.compete.http import app_for

    app = app_for(directory)
    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(f"[yellow]warning:[/] serving on {host}: reachable from other machines")
    uvicorn.run(app, host=host, port=port, log_level="warning")


@compete_app.command("submit")
def submit(
    source: Annotated[Path, typer.Argument(help="submission CSV (id,label) or a run directory")],
    server: Annotated[str, typer.Option(help="competition URL, e.g. http://127.0.0.1:8001")],
    token: Annotated[str, typer.Option(help="your team token", envvar="TUNEPROOF_TEAM_TOKEN")],
    manifest: Annotated[bool, typer.Option(help="attach the run's manifest.json")] = False,
    idempotency_key: Annotated[str | None, typer.Option(help="retry-safe key")] = None,
) -> None:
    """Submit a CSV, or predict test.csv with a run's model and submit that.

    Example: `tuneproof compete submit runs/starter --server http://127.0.0.1:8001 --token T`
    """
    from tuneproof.compete.client import submit as send

    body = send(source, server, token, manifest=manifest, idempotency_key=idempotency_key)
    sub = body["submission"]
    if sub.get("public_accuracy") is None:
        console.print(f"submission {sub['id']} recorded; {sub.get('note') or ''}")
    else:
        lo, hi = sub["public_ci"]
        console.print(
            f"submission {sub['id']}: public accuracy {sub['public_accuracy']:.4f} "
            f"(95 % CI {lo:.3f}–{hi:.3f})" + ("" if body["created"] else " [same file as before]")
        )
    if body.get("quota_left") is not None:
        console.print(f"submissions left today: {body['quota_left']}")


@compete_app.command("verify")
def verify(
    directory: Annotated[Path, typer.Argument(help="competition folder")],
    submission_id: Annotated[int, typer.Argument(help="the final to verify")],
    run_dir: Annotated[Path, typer.Argument(help="the run directory the team says produced it")],
) -> None:
    """Re-train the run's recorded config and mark the final reproduced if its predictions match.

    Example: `tuneproof compete verify class-2026 12 runs/red-team-best`
    """
    from tuneproof.compete.client import verify as check

    ok, same = check(directory, submission_id, run_dir)
    word = "reproduced" if ok else "not reproduced"
    console.print(f"submission {submission_id}: {word} ({100 * same:.1f} % identical labels)")
    if not ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(compete_app, name="compete")
