"""The strategy selector: ``/strategy`` (a form over the decision tree) and ``POST /api/strategy``.

Both call :func:`tuneproof.plan.strategy.make_plan` and :func:`tuneproof.plan.tree.walk`, the
same functions as ``tuneproof plan --json``; the API answer is that JSON plus the ADR and the
starter config."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from tuneproof.errors import UserError
from tuneproof.web.api import REFUSED
from tuneproof.web.render import page

MODELS = ("minilm-l6", "bert-base-uncased", "roberta-large", "smollm2", "llama-2-7b", "mistral-7b")

router = APIRouter()


def _integral(value: Any) -> Any:
    """JSON Schema's ``integer`` includes ``3.0``; strict pydantic would refuse it."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Int = Annotated[int, BeforeValidator(_integral)]


class StrategyIn(BaseModel):
    """The questions of the tree (``tuneproof plan`` options of the same names)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # JSON types as the schema says

    model: Literal[MODELS] = Field("bert-base-uncased", description="--model")  # type: ignore[valid-type]
    train_rows: Int = Field(20_000, ge=1, le=1_000_000_000, description="--train-rows")
    gpu_memory_gib: float = Field(24.0, gt=0, le=4096, description="--gpu-memory, in GiB")
    gpus: Int = Field(1, ge=1, le=1024, description="--gpus")
    deploy: Literal["server", "edge", "many-adapters"] = Field("server", description="--deploy")
    time_budget_hours: float | None = Field(None, gt=0, le=100_000, description="--time-budget")
    shift: Literal["low", "medium", "high"] = Field(
        "medium", description="--shift: how far the task is from pre-training"
    )
    changes_often: bool = Field(False, description="--changes-often")
    seq: Annotated[Literal[128, 256, 512], BeforeValidator(_integral)] = Field(
        256, description="--seq: max length in tokens"
    )
    epochs: float = Field(3.0, gt=0, le=100, description="--epochs")

    def cli(self) -> list[str]:
        """The ``tuneproof plan`` arguments that give the same answer."""
        args = ["plan", "-m", self.model, "--train-rows", str(self.train_rows)]
        args += ["--gpu-memory", f"{self.gpu_memory_gib:g}GiB", "--gpus", str(self.gpus)]
        args += ["--deploy", self.deploy, "--shift", self.shift, "--seq", str(self.seq)]
        args += ["--epochs", f"{self.epochs:g}"]
        if self.time_budget_hours is not None:
            args += ["--time-budget", f"{self.time_budget_hours:g}h"]
        if self.changes_often:
            args.append("--changes-often")
        return args


def strategy_result(body: StrategyIn) -> dict[str, Any]:
    """``tuneproof plan --json`` for these inputs, with ``adr`` (plan.md) and ``config``."""
    from tuneproof.plan.adr import render_adr
    from tuneproof.plan.strategy import PlanInputs, gib, make_plan
    from tuneproof.plan.tree import starter_config, starter_yaml, tree_markdown, walk, walk_dict

    inputs = PlanInputs(
        model=body.model,
        train_rows=body.train_rows,
        gpu_memory_bytes=gib(body.gpu_memory_gib),
        gpus=body.gpus,
        deploy=body.deploy,
        time_budget_s=body.time_budget_hours * 3600 if body.time_budget_hours else None,
        seq=body.seq,
        epochs=body.epochs,
    )
    plan = make_plan(inputs)
    w = walk(plan, shift=body.shift, changes_often=body.changes_often)
    out = walk_dict(w)
    out["adr"] = render_adr(plan) + "\n" + tree_markdown(w)
    out["config"] = starter_yaml(w) if starter_config(w) is not None else None
    out["command"] = ["tuneproof", *body.cli(), "--json"]
    return out


@router.post(
    "/api/strategy",
    response_model=dict[str, Any],
    tags=["learn"],
    responses={
        **REFUSED,
        422: {"description": "inputs out of range, or a model that cannot be traced"},
    },
)
def api_strategy(body: StrategyIn) -> dict[str, Any]:
    try:
        return strategy_result(body)
    except UserError as err:
        raise HTTPException(422, str(err)) from None


_INTS = ("train_rows", "gpus", "seq")
_FLOATS = ("gpu_memory_gib", "time_budget_hours", "epochs")


def from_query(params: dict[str, str]) -> dict[str, Any]:
    """The form's query string with the JSON types :class:`StrategyIn` checks strictly (a value
    that is no number stays text, so the model names the field)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value == "":
            continue
        if key == "changes_often":
            out[key] = value.lower() in ("true", "on", "1", "yes")
            continue
        out[key] = value
        try:
            if key in _INTS:
                out[key] = int(value)
            elif key in _FLOATS:
                out[key] = float(value)
        except ValueError:
            pass
    return out


@router.get("/strategy", response_class=HTMLResponse, include_in_schema=False)
def strategy_page(request: Request) -> Response:
    given = from_query(dict(request.query_params))
    ctx: dict[str, Any] = {"models": MODELS, "result": None, "error": None}
    status = 200
    try:
        body = StrategyIn.model_validate(given)
    except ValidationError as err:
        e = err.errors()[0]
        ctx["error"] = f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
        body, status = StrategyIn(), 422
    ctx["q"] = body
    if given and ctx["error"] is None:
        try:
            ctx["result"] = strategy_result(body)
        except UserError as err:
            ctx["error"], status = str(err), 422
    return page(request, "strategy.html", status_code=status, **ctx)
