"""The competition database: SQLAlchemy tables and the one transaction shape every write uses.

SQLite (a file in the competition folder) by default; any SQLAlchemy URL works, PostgreSQL is
tested. Quota check and insert must be one atomic step under concurrent uploads from one team:
on SQLite every transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time, the others
wait on the busy timeout); on PostgreSQL the team's row is locked with ``SELECT ... FOR UPDATE``
(:func:`lock_team`). Hidden labels live only in ``answers`` and never leave this module except
as scores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Settings(Base):
    """One row: the competition's rules and dates (``rules.md`` is rendered from it)."""

    __tablename__ = "settings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    dataset: Mapped[str] = mapped_column(String(50))
    metric: Mapped[str] = mapped_column(String(50), default="accuracy")
    label_set: Mapped[list[str]] = mapped_column(JSON)
    daily_limit: Mapped[int] = mapped_column(Integer)
    n_finals: Mapped[int] = mapped_column(Integer)
    public_fraction: Mapped[float] = mapped_column(Float)
    ladder: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    admin_hash: Mapped[str] = mapped_column(String(64))


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Answer(Base):
    """A hidden label and the board (public/private) its row counts for."""

    __tablename__ = "answers"
    test_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(50))
    board: Mapped[str] = mapped_column(String(10))


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("team_id", "idempotency_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    public_correct: Mapped[int] = mapped_column(Integer)
    public_n: Mapped[int] = mapped_column(Integer)
    private_correct: Mapped[int] = mapped_column(Integer)
    private_n: Mapped[int] = mapped_column(Integer)
    released: Mapped[bool] = mapped_column(Boolean, default=True)  # Ladder: public score shown
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    reproduced: Mapped[bool] = mapped_column(Boolean, default=False)
    predictions: Mapped[dict[str, str]] = mapped_column(JSON)
    manifest: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


def make_engine(url: str) -> Engine:
    """An engine whose transactions serialise the quota check on SQLite as on PostgreSQL."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    Base.metadata.create_all(engine)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def lock_team(session: Session, team_id: int) -> Team:
    """The team's row, locked until the transaction ends (a no-op on SQLite, which already holds
    the write lock from BEGIN IMMEDIATE)."""
    return session.execute(select(Team).where(Team.id == team_id).with_for_update()).scalar_one()


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; every stored time is UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)
