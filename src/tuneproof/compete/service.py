"""The competition as library functions: what the CLI, the HTTP API and the web page all call.

A competition is a folder (``competition.json`` names its database; ``train.csv``, ``test.csv``,
``rules.md``, ``starter.py``, ``starter.ipynb``) plus the database of :mod:`.store`. Each
operation authenticates a token, runs the pure rules of :mod:`.scoring`, and writes in one
transaction. Errors are typed (:class:`CompetitionError` subclasses carry their HTTP status), so
the API maps them without logic of its own.
"""

from __future__ import annotations

import csv
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, func, select

from tuneproof import io
from tuneproof.compete import scoring, split
from tuneproof.compete.store import (
    Answer,
    Settings,
    Submission,
    Team,
    aware,
    create_schema,
    lock_team,
    make_engine,
    now_utc,
    transaction,
)
from tuneproof.errors import UserError

FILE = "competition.json"


class CompetitionError(Exception):
    """A refused request; ``status`` is its HTTP status code."""

    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class Unauthorized(CompetitionError):
    status = 401


class Forbidden(CompetitionError):
    status = 403


class NotFound(CompetitionError):
    status = 404


class Closed(CompetitionError):
    status = 409


class Invalid(CompetitionError):
    status = 422


class QuotaExceeded(CompetitionError):
    status = 429


class CompetitionFile(BaseModel):
    """``competition.json``: where the database is (the rules live in the database)."""

    model_config = ConfigDict(extra="forbid")
    version: int = 1
    db: str
    name: str


@dataclass(frozen=True)
class Competition:
    root: Path
    engine: Engine
    name: str


@dataclass(frozen=True)
class Caller:
    team_id: int | None  # None: the admin
    team: str | None

    @property
    def admin(self) -> bool:
        return self.team_id is None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _default_db(root: Path) -> str:
    return f"sqlite:///{(root / 'competition.db').resolve()}"


# --- set-up ------------------------------------------------------------------------------------


def init_competition(
    root: str | Path,
    *,
    dataset: str = "polarity-en",
    db: str | None = None,
    daily_limit: int = 5,
    n_finals: int = 2,
    closes_at: datetime | None = None,
    public_fraction: float = 0.3,
    ladder: bool = False,
    seed: int = 0,
    name: str | None = None,
) -> tuple[Competition, str]:
    """Create the folder, the database and the participant files; return the admin token."""
    from tuneproof.compete.templates import render_rules, write_starters

    root = Path(root)
    if (root / FILE).exists():
        raise UserError(f"{root}: a competition already exists here; choose another folder")
    if daily_limit < 1 or n_finals < 1:
        raise UserError("--daily-limit and --finals must be at least 1")
    if closes_at is not None and closes_at.tzinfo is None:
        raise UserError("--closes-at must carry a UTC offset, e.g. 2027-01-31T23:59:00Z")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{root}: cannot create the competition folder ({err.strerror})") from None
    data = split.build(dataset, public_fraction=public_fraction, seed=seed)
    url = db or _default_db(root)
    engine = make_engine(url)
    create_schema(engine)
    admin = secrets.token_urlsafe(24)
    title = name or f"{dataset} sentiment challenge"
    with transaction(engine) as s:
        if s.scalar(select(func.count()).select_from(Settings)):
            raise UserError(f"{url}: this database already holds a competition; give another --db")
        s.add(
            Settings(
                id=1,
                name=title,
                dataset=dataset,
                label_set=list(split.LABELS),
                daily_limit=daily_limit,
                n_finals=n_finals,
                public_fraction=public_fraction,
                ladder=ladder,
                created=now_utc(),
                closes_at=closes_at,
                admin_hash=_hash(admin),
            )
        )
        s.add_all(Answer(test_id=r.id, label=r.label, board=r.board) for r in data.test)
    _write_csv(
        root / "train.csv", ["id", "text", "label"], ((r.id, r.text, r.label) for r in data.train)
    )
    _write_csv(root / "test.csv", ["id", "text"], ((r.id, r.text) for r in data.test))
    comp = Competition(root, engine, title)
    io.write_text(root / "rules.md", render_rules(info(comp, None)))
    write_starters(root)
    io.write_json(root / FILE, CompetitionFile(db=url, name=title).model_dump())
    return comp, admin


def _write_csv(path: Path, header: list[str], rows: Any) -> None:
    with io.atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def open_competition(root: str | Path) -> Competition:
    root = Path(root)
    path = root / FILE
    if not path.is_file():
        raise UserError(f"{root}: no {FILE}; create one with `tuneproof compete init {root}`")
    try:
        meta = CompetitionFile.model_validate_json(path.read_text(encoding="utf-8"))
    except ValueError as err:
        first = str(err).splitlines()[0]
        raise UserError(f"{path}: not a competition file ({first})") from None
    return Competition(root, make_engine(meta.db), meta.name)


def add_team(comp: Competition, name: str) -> str:
    """Register a team; return its token (only its hash is stored)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise UserError("team name must be 1 to 100 characters")
    token = secrets.token_urlsafe(24)
    with transaction(comp.engine) as s:
        if s.scalar(select(Team).where(Team.name == name)) is not None:
            raise UserError(f"team '{name}' exists already; choose another name")
        s.add(Team(name=name, token_hash=_hash(token), created=now_utc()))
    return token


# --- callers -----------------------------------------------------------------------------------


def authenticate(comp: Competition, token: str | None, *, required: bool = True) -> Caller | None:
    if not token:
        if required:
            raise Unauthorized("missing token: send `Authorization: Bearer TEAM_TOKEN`")
        return None
    h = _hash(token)
    with transaction(comp.engine) as s:
        settings = _settings(s)
        if secrets.compare_digest(h, settings.admin_hash):
            return Caller(None, None)
        team = s.scalar(select(Team).where(Team.token_hash == h))
    if team is None:
        raise Unauthorized("unknown token")
    return Caller(team.id, team.name)


def _settings(s: Any) -> Settings:
    settings = s.get(Settings, 1)
    if settings is None:
        raise NotFound("no competition in this database")
    return settings


def _is_closed(settings: Settings, now: datetime) -> bool:
    closes = aware(settings.closes_at)
    return settings.closed_at is not None or (closes is not None and now >= closes)


# --- what a caller sees ------------------------------------------------------------------------


class Info(BaseModel):
    name: str
    dataset: str
    metric: str
    labels: list[str]
    daily_limit: int
    finals: int
    public_fraction: float
    ladder: bool
    test_rows: int
    created: datetime
    closes_at: datetime | None
    closed: bool
    quota_left: int | None = None  # for the caller's team, today (UTC)
    quota_resets: datetime


def info(comp: Competition, caller: Caller | None, now: datetime | None = None) -> Info:
    now = now or now_utc()
    with transaction(comp.engine) as s:
        st = _settings(s)
        n = s.scalar(select(func.count()).select_from(Answer)) or 0
        left = None
        if caller is not None and caller.team_id is not None:
            left = max(0, st.daily_limit - _used_today(s, caller.team_id, now))
        return Info(
            name=st.name,
            dataset=st.dataset,
            metric=st.metric,
            labels=list(st.label_set),
            daily_limit=st.daily_limit,
            finals=st.n_finals,
            public_fraction=st.public_fraction,
            ladder=st.ladder,
            test_rows=n,
            created=aware(st.created) or now,
            closes_at=aware(st.closes_at),
            closed=_is_closed(st, now),
            quota_left=left,
            quota_resets=scoring.next_utc_midnight(now),
        )


def _used_today(s: Any, team_id: int, now: datetime) -> int:
    start = scoring.day_start(now)
    return int(
        s.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.team_id == team_id, Submission.created >= start)
        )
        or 0
    )


class SubmissionView(BaseModel):
    """A submission as its own team sees it: public score (with CI) unless the Ladder held it
    back; the private score only after the close."""

    id: int
    team: str
    created: datetime
    sha256: str
    public_accuracy: float | None
    public_ci: tuple[float, float] | None
    released: bool
    private_accuracy: float | None = None
    private_ci: tuple[float, float] | None = None
    selected: bool
    reproduced: bool
    duplicate_of: int | None = None
    note: str | None = None


def _view(sub: Submission, team: str, *, show_private: bool) -> SubmissionView:
    pub = scoring.Score(sub.public_correct, sub.public_n)
    priv = scoring.Score(sub.private_correct, sub.private_n)
    return SubmissionView(
        id=sub.id,
        team=team,
        created=aware(sub.created) or sub.created,
        sha256=sub.sha256,
        public_accuracy=pub.accuracy if sub.released else None,
        public_ci=pub.ci if sub.released else None,
        released=sub.released,
        private_accuracy=priv.accuracy if show_private else None,
        private_ci=priv.ci if show_private else None,
        selected=sub.selected,
        reproduced=sub.reproduced,
        note=sub.note,
    )


@dataclass
class SubmitResult:
    view: SubmissionView
    created: bool  # False: an idempotent replay or a re-upload of the same file
    extra: dict[str, Any] = field(default_factory=dict)


def submit(
    comp: Competition,
    caller: Caller,
    data: bytes,
    *,
    idempotency_key: str | None = None,
    manifest: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Validate, score and record one submission.

    The file is validated in full before anything is counted (a malformed file costs no quota).
    Quota check and insert happen in one transaction with the team's row locked, so concurrent
    uploads cannot both take the last slot. Replaying an ``Idempotency-Key`` or re-uploading the
    same bytes returns the earlier submission without scoring or counting it again.
    """
    if caller.team_id is None:
        raise Forbidden("the admin token cannot submit; use a team token")
    now = now or now_utc()
    digest = hashlib.sha256(data).hexdigest()
    with transaction(comp.engine) as s:
        st = _settings(s)
        answers = {a.test_id: (a.label, a.board) for a in s.scalars(select(Answer))}
        label_set = list(st.label_set)
        ladder = st.ladder
        closed = _is_closed(st, now)
    if closed:
        raise Closed("the competition is closed; submissions are no longer accepted")
    try:
        parsed = scoring.parse_submission(data, sorted(answers), label_set)
    except scoring.SubmissionError as err:
        raise Invalid(
            "invalid submission: nothing was scored and no quota was used",
            errors=[{"line": e.line, "message": e.message} for e in err.errors],
        ) from None
    public = {i: lab for i, (lab, b) in answers.items() if b == "public"}
    private = {i: lab for i, (lab, b) in answers.items() if b == "private"}
    pub, priv = scoring.score(parsed.labels, public), scoring.score(parsed.labels, private)
    with transaction(comp.engine) as s:
        lock_team(s, caller.team_id)
        earlier = None
        if idempotency_key:
            earlier = s.scalar(
                select(Submission).where(
                    Submission.team_id == caller.team_id,
                    Submission.idempotency_key == idempotency_key,
                )
            )
            if earlier is not None and earlier.sha256 != digest:
                raise Invalid("Idempotency-Key was already used for a different file")
        if earlier is None:
            earlier = s.scalar(
                select(Submission).where(
                    Submission.team_id == caller.team_id, Submission.sha256 == digest
                )
            )
        if earlier is not None:
            view = _view(earlier, caller.team or "", show_private=False)
            view.duplicate_of = earlier.id
            return SubmitResult(view, created=False)
        used = _used_today(s, caller.team_id, now)
        if used >= st.daily_limit:
            reset = scoring.next_utc_midnight(now)
            raise QuotaExceeded(
                f"daily limit of {st.daily_limit} submissions reached; it resets at "
                f"{reset.isoformat()} (UTC midnight)",
                retry_after=int((reset - now).total_seconds()) + 1,
            )
        released = True
        if ladder:
            best = _best_released(s, caller.team_id, public)
            released = scoring.ladder_release(parsed.labels, best, public)
        sub = Submission(
            team_id=caller.team_id,
            created=now,
            sha256=digest,
            idempotency_key=idempotency_key,
            public_correct=pub.correct,
            public_n=pub.n,
            private_correct=priv.correct,
            private_n=priv.n,
            released=released,
            predictions=parsed.labels,
            manifest=manifest,
            note=None if released else "Ladder: not better than your best by more than the noise",
        )
        s.add(sub)
        s.flush()
        view = _view(sub, caller.team or "", show_private=False)
        left = st.daily_limit - used - 1
    return SubmitResult(view, created=True, extra={"quota_left": left})


def _best_released(s: Any, team_id: int, public: dict[str, str]) -> dict[str, str] | None:
    subs = s.scalars(
        select(Submission).where(Submission.team_id == team_id, Submission.released.is_(True))
    ).all()
    if not subs:
        return None
    best = max(subs, key=lambda x: (x.public_correct, -x.id))
    return dict(best.predictions)


def submissions(comp: Competition, caller: Caller) -> list[SubmissionView]:
    """The caller's own submissions (a team never sees another team's)."""
    with transaction(comp.engine) as s:
        st = _settings(s)
        show_private = _is_closed(st, now_utc())
        q = select(Submission, Team.name).join(Team, Team.id == Submission.team_id)
        if caller.team_id is not None:
            q = q.where(Submission.team_id == caller.team_id)
        rows = s.execute(q.order_by(Submission.id)).all()
        return [_view(sub, name, show_private=show_private or caller.admin) for sub, name in rows]


def submission(comp: Competition, caller: Caller, submission_id: int) -> SubmissionView:
    for v in submissions(comp, caller):
        if v.id == submission_id:
            return v
    raise NotFound(f"submission {submission_id} not found")  # also for another team's


def select_finals(comp: Competition, caller: Caller, ids: list[int]) -> list[SubmissionView]:
    if caller.team_id is None:
        raise Forbidden("finals are chosen by a team token")
    with transaction(comp.engine) as s:
        st = _settings(s)
        if _is_closed(st, now_utc()):
            raise Closed("the competition is closed; finals can no longer change")
        if len(set(ids)) > st.n_finals:
            raise Invalid(f"select at most {st.n_finals} submissions as finals")
        own = s.scalars(select(Submission).where(Submission.team_id == caller.team_id)).all()
        own_ids = {x.id for x in own}
        unknown = [i for i in ids if i not in own_ids]
        if unknown:
            raise NotFound(f"submission {unknown[0]} not found")
        for x in own:
            x.selected = x.id in ids
    return submissions(comp, caller)


class BoardRow(BaseModel):
    rank: int
    team: str
    submission_id: int
    accuracy: float
    ci: tuple[float, float]
    submitted: datetime
    reproduced: bool


class Board(BaseModel):
    board: str
    closed: bool
    rows: list[BoardRow]


def leaderboard(comp: Competition, caller: Caller | None, board: str = "public") -> Board:
    """Public: each team's best released public score. Private: 403 until the close (except for
    the admin), then the best private score among each team's finals."""
    if board not in ("public", "private"):
        raise Invalid("board must be 'public' or 'private'")
    with transaction(comp.engine) as s:
        st = _settings(s)
        closed = _is_closed(st, now_utc())
        if board == "private" and not closed and not (caller is not None and caller.admin):
            raise Forbidden("the private leaderboard opens when the competition closes")
        rows = s.execute(
            select(Submission, Team.name).join(Team, Team.id == Submission.team_id)
        ).all()
        n_finals = st.n_finals
    subs = {sub.id: sub for sub, _ in rows}
    entries = [
        scoring.Entry(
            submission_id=sub.id,
            team=name,
            created=aware(sub.created) or sub.created,
            public=sub.public_correct / max(sub.public_n, 1),
            private=sub.private_correct / max(sub.private_n, 1),
            selected=sub.selected,
        )
        for sub, name in rows
        if board == "private" or sub.released
    ]
    out = []
    for r in scoring.rank(entries, board, n_finals):
        sub = subs[r.entry.submission_id]
        sc = (
            scoring.Score(sub.private_correct, sub.private_n)
            if board == "private"
            else scoring.Score(sub.public_correct, sub.public_n)
        )
        out.append(
            BoardRow(
                rank=r.rank,
                team=r.team,
                submission_id=sub.id,
                accuracy=sc.accuracy,
                ci=sc.ci,
                submitted=r.entry.created,
                reproduced=sub.reproduced,
            )
        )
    return Board(board=board, closed=closed, rows=out)


def close(comp: Competition, caller: Caller, now: datetime | None = None) -> Info:
    if not caller.admin:
        raise Forbidden("only the admin token closes the competition")
    with transaction(comp.engine) as s:
        st = _settings(s)
        if st.closed_at is None:
            st.closed_at = now or now_utc()
    return info(comp, caller)


def mark_reproduced(comp: Competition, submission_id: int, reproduced: bool) -> None:
    with transaction(comp.engine) as s:
        sub = s.get(Submission, submission_id)
        if sub is None:
            raise NotFound(f"submission {submission_id} not found")
        sub.reproduced = reproduced


def stored_predictions(comp: Competition, submission_id: int) -> tuple[dict[str, str], Any]:
    """A submission's labels and the manifest it carried (for ``compete verify``)."""
    with transaction(comp.engine) as s:
        sub = s.get(Submission, submission_id)
        if sub is None:
            raise NotFound(f"submission {submission_id} not found")
        return dict(sub.predictions), sub.manifest


def parse_manifest(raw: bytes | None) -> dict[str, Any] | None:
    """An optional run ``manifest.json`` sent with a submission (for the reproducibility badge)."""
    if not raw:
        return None
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Invalid("manifest: not a JSON file; send the run's manifest.json") from None
    if not isinstance(value, dict) or "command" not in value:
        raise Invalid("manifest: not a tuneproof manifest.json (no 'command')")
    return value


def utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)
