"""A search space over RunConfig fields, parsed from YAML and validated before any trial runs.

One entry per config path, one kind each::

    training.learning_rate: {log: [1.0e-5, 1.0e-3]}   # float, sampled on a log scale
    training.weight_decay: {float: [0.0, 0.1]}
    training.epochs: {int: [1, 4]}
    strategy.lora.r: {choice: [4, 8, 16]}

Every path is checked with `config.apply_overrides` (a typo gets a did-you-mean) and the config
with each bound / each choice applied is validated as a whole RunConfig, so a value the config
would refuse fails here, not in trial 7.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tuneproof.config import apply_overrides, read_yaml_file
from tuneproof.errors import UserError

Kind = Literal["log", "float", "int", "choice"]
KINDS: tuple[Kind, ...] = ("log", "float", "int", "choice")


@dataclass(frozen=True)
class Param:
    """One dimension: a RunConfig path and its range (``low``/``high``) or ``choices``."""

    path: str
    kind: Kind
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """Ask an Optuna trial for this parameter's value (named by its config path)."""
        if self.kind == "choice":
            # Optuna's categorical values must be scalars: lists are offered by their JSON text
            shown = [_scalar(c) for c in self.choices]
            picked = trial.suggest_categorical(self.path, shown)
            return self.choices[shown.index(picked)]
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            return trial.suggest_int(self.path, int(self.low), int(self.high))
        return trial.suggest_float(self.path, self.low, self.high, log=self.kind == "log")

    def fixed(self, value: Any) -> Any:
        """``value`` as this parameter's Optuna value (for enqueuing the starting config)."""
        return _scalar(value) if self.kind == "choice" else value

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "choice":
            return {"choice": list(self.choices)}
        return {self.kind: [self.low, self.high]}


def _scalar(value: Any) -> Any:
    return (
        value if value is None or isinstance(value, (bool, int, float, str)) else json.dumps(value)
    )


@dataclass(frozen=True)
class SearchSpace:
    params: tuple[Param, ...]
    source: str = "default"

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {p.path: p.to_dict() for p in self.params}

    def apply(self, raw: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """``raw`` (a config mapping) with each path set to its value (a copy)."""
        return apply_overrides(raw, [f"{path}={json.dumps(v)}" for path, v in values.items()])

    def current(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The values the starting config has for each path (None where it has none)."""
        out: dict[str, Any] = {}
        for p in self.params:
            node: Any = raw
            for part in p.path.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            out[p.path] = node
        return out

    def in_space(self, values: dict[str, Any]) -> bool:
        """Whether every value lies inside its parameter's range (so it can be enqueued)."""
        for p in self.params:
            v = values.get(p.path)
            if p.kind == "choice":
                if v not in p.choices:
                    return False
                continue
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                return False
            assert p.low is not None and p.high is not None
            if not p.low <= v <= p.high or (p.kind == "int" and int(v) != v):
                return False
        return True


def parse_space(raw: Any, source: str) -> SearchSpace:
    if not isinstance(raw, dict) or not raw:
        raise UserError(
            f"{source}: expected a mapping of config paths to ranges, e.g. "
            "'training.learning_rate: {log: [1.0e-5, 1.0e-3]}'"
        )
    params = []
    for path, spec in raw.items():
        where = f"{source}: {path}"
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in KINDS:
            raise UserError(
                f"{where}: give exactly one of {', '.join(KINDS)}, e.g. {{log: [1.0e-5, 1.0e-3]}}"
            )
        kind, value = next(iter(spec.items()))
        if kind == "choice":
            if not isinstance(value, list) or not value:
                raise UserError(
                    f"{where}: choice needs a non-empty list, e.g. {{choice: [16, 32]}}"
                )
            shown = [_scalar(v) for v in value]
            if len(set(map(str, shown))) != len(shown):
                raise UserError(f"{where}: choice lists a value twice")
            params.append(Param(str(path), "choice", choices=tuple(value)))
            continue
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        ):
            raise UserError(f"{where}: {kind} needs [low, high] numbers (got {value!r})")
        low, high = float(value[0]), float(value[1])
        if not low < high:
            raise UserError(f"{where}: low must be below high (got {value!r})")
        if kind == "log" and low <= 0:
            raise UserError(f"{where}: log needs low > 0 (got {low})")
        if kind == "int" and (low != math.floor(low) or high != math.floor(high)):
            raise UserError(f"{where}: int needs whole numbers (got {value!r})")
        params.append(Param(str(path), kind, low=low, high=high))
    return SearchSpace(tuple(params), source)


def load_space(path: str | Path) -> SearchSpace:
    path = Path(path)
    return parse_space(read_yaml_file(path, "search space"), str(path))


#: What each strategy usually gains from tuning, in ranges that train on the built-in models.
_FULL: dict[str, Any] = {
    "training.learning_rate": {"log": [1.0e-5, 2.0e-4]},
    "training.batch_size": {"choice": [16, 32]},
    "training.weight_decay": {"float": [0.0, 0.1]},
    "training.warmup": {"choice": [0.0, 0.1]},
}
_LORA: dict[str, Any] = {
    "training.learning_rate": {"log": [1.0e-4, 3.0e-3]},
    "strategy.lora.r": {"choice": [4, 8, 16]},
    "strategy.lora.alpha": {"choice": [8, 16, 32]},
    "strategy.lora.dropout": {"float": [0.0, 0.2]},
}
DEFAULT_SPACES: dict[str, dict[str, Any]] = {
    "full": _FULL,
    "freeze": _FULL,
    "progressive": _FULL,
    "prune": _FULL,
    "distill": {**_FULL, "strategy.temperature": {"float": [1.0, 4.0]}},
    "lora": _LORA,
    "qlora": _LORA,
}


def default_space(strategy: str) -> SearchSpace:
    return parse_space(DEFAULT_SPACES[strategy], f"default space for strategy {strategy}")


def validate(space: SearchSpace, raw: dict[str, Any], parse: Any) -> None:
    """Every path exists in RunConfig and every bound/choice makes a valid config (``parse``:
    the task-aware config parser), before the first trial."""
    for p in space.params:
        probes = list(p.choices) if p.kind == "choice" else [p.low, p.high]
        for v in probes:
            if p.kind == "int" and v is not None:
                v = int(v)
            try:
                cfg = space.apply(raw, {p.path: v})
            except UserError as err:
                raise UserError(f"{space.source}: {str(err).removeprefix('--set ')}") from None
            parse(cfg, f"{space.source}: {p.path}={v!r}")


__all__ = ["Param", "SearchSpace", "default_space", "load_space", "validate"]
