"""The concepts reference: ``/concepts`` and ``GET /api/concepts``.

The content is package data (``concepts.yaml``, in the project's own words) read through the
pydantic models below, so a typo in it (a quiz answer out of range, a concept without a team, a
link off the app) fails when the app starts, not in front of a learner. Progress (concepts
covered, quiz answers) stays in the browser (``static/learn.js``, localStorage)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tuneproof.web.render import page

CONTENT = Path(__file__).parent / "concepts.yaml"
TEAMS = 5
CONCEPTS = 20
QUIZ_PER_TEAM = 2

router = APIRouter()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Concept(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    explanation: str
    analogy: str
    link: str = Field(pattern=r"^/[^/]", description="a page of this app that shows it live")
    link_text: str


class Question(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    question: str
    choices: list[str] = Field(min_length=2)
    answer: int = Field(ge=0, description="index of the right choice")
    why: str

    @model_validator(mode="after")
    def _answer_in_range(self) -> Question:
        if self.answer >= len(self.choices):
            raise ValueError(f"{self.id}: answer {self.answer} but {len(self.choices)} choices")
        return self


class Team(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    summary: str
    concepts: list[Concept]
    quiz: list[Question] = Field(min_length=QUIZ_PER_TEAM, max_length=QUIZ_PER_TEAM)


class Term(_Strict):
    term: str
    definition: str


class PathStep(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str
    minutes: int = Field(gt=0)
    link: str = Field(pattern=r"^/")
    what: str
    also_link: str | None = Field(None, pattern=r"^/")
    also_text: str | None = None


class Concepts(_Strict):
    version: int = Field(1, ge=1, le=1)
    objectives: list[str] = Field(min_length=1)
    teams: list[Team] = Field(min_length=TEAMS, max_length=TEAMS)
    glossary: list[Term] = Field(min_length=1)
    path: list[PathStep] = Field(min_length=1, description="the home page's learning path")

    @model_validator(mode="after")
    def _counts(self) -> Concepts:
        ids = [c.id for t in self.teams for c in t.concepts]
        if len(ids) != CONCEPTS:
            raise ValueError(f"{len(ids)} concepts, the page promises {CONCEPTS}")
        qids = [q.id for t in self.teams for q in t.quiz]
        for kind, seen in (("concept", ids), ("question", qids)):
            dup = {i for i in seen if seen.count(i) > 1}
            if dup:
                raise ValueError(f"duplicate {kind} ids: {', '.join(sorted(dup))}")
        return self


@functools.lru_cache(maxsize=1)
def load_concepts(path: Path = CONTENT) -> Concepts:
    return Concepts.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@router.get("/api/concepts", response_model=Concepts, tags=["learn"])
def api_concepts() -> Concepts:
    return load_concepts()


@router.get("/concepts", response_class=HTMLResponse, include_in_schema=False)
def concepts_page(
    request: Request,
    rows: int = 10_000,
    batch: int = 16,
    accumulation: int = 1,
    devices: int = 1,
    epochs: float = 3.0,
    warmup: float = 0.1,
) -> Response:
    """The reference, with the steps-per-epoch calculator (``plan.args.step_counts``)."""
    from tuneproof.errors import UserError
    from tuneproof.plan.args import step_counts

    c = load_concepts()
    ctx: dict[str, Any] = {"c": c, "n_concepts": CONCEPTS, "steps_error": None, "steps": None}
    ctx["n_questions"] = sum(len(t.quiz) for t in c.teams)
    ctx["form"] = {"rows": rows, "batch": batch, "accumulation": accumulation}
    ctx["form"] |= {"devices": devices, "epochs": epochs, "warmup": warmup}
    try:
        ctx["steps"] = step_counts(rows, batch, accumulation, devices, epochs, warmup)
    except UserError as err:
        ctx["steps_error"] = str(err)
    name = "_steps.html" if request.headers.get("hx-request") else "concepts.html"
    return page(request, name, status_code=422 if ctx["steps_error"] else 200, **ctx)
