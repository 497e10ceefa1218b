"""Method registry plumbing shared by every stage of the engine.

A framework file (and a run-time spec) names methods as plain strings, like COINr's
`n_minmax` / `a_amean`, optionally with parameters:

    normalisation = "minmax"
    normalisation = { method = "goalposts", min = 0, max = 100, clip = false }

Each stage has a registry mapping names to a `Method`: the function, a declaration of its
parameters and an optional cross-parameter check, so that a file is checked completely
before anything is computed, and so that a spec has one canonical form (defaults filled
in, numbers as floats) whatever way it was written.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

ParamKind = Literal["number", "integer", "bool", "string", "numbers", "matrix", "strings", "any"]


@dataclass(frozen=True)
class Param:
    """One parameter of a method: its kind, default and an optional extra check."""

    kind: ParamKind
    default: Any = None
    required: bool = False
    help: str = ""
    check: Callable[[Any], str | None] | None = None  # returns a problem text or None


@dataclass(frozen=True)
class Method:
    """A registered method: the function, its parameters and its documentation.

    `validate(params)` receives the resolved parameters (defaults filled in) and returns
    (parameter, problem) pairs for rules that involve several parameters.
    """

    name: str
    func: Callable[..., Any]
    params: dict[str, Param] = field(default_factory=dict)
    doc: str = ""
    source: str = ""
    validate: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None

    def check_params(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        """(parameter, problem) pairs for `params`; empty when they are valid."""
        problems: list[tuple[str, str]] = []
        for key, value in params.items():
            spec = self.params.get(key)
            if spec is None:
                allowed = ", ".join(sorted(self.params)) or "none"
                problems.append((key, f"unknown parameter for method '{self.name}' (allowed: {allowed})"))
                continue
            problem = check_kind(value, spec.kind)
            if problem is None and spec.check is not None:
                problem = spec.check(value)
            if problem is not None:
                problems.append((key, problem))
        for key, spec in self.params.items():
            if spec.required and key not in params:
                problems.append((key, f"required by method '{self.name}'"))
        if not problems and self.validate is not None:
            problems += self.validate(self.resolve(params))
        return problems

    def resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        """Parameters with defaults filled in and numbers as floats (assumes valid params)."""
        out = {k: p.default for k, p in self.params.items() if p.default is not None}
        out.update(params)
        return {k: _coerce(v, self.params[k].kind) if k in self.params else v for k, v in out.items()}


def _coerce(value: Any, kind: ParamKind) -> Any:
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "numbers" and isinstance(value, list):
        return [float(v) for v in value]
    if kind == "matrix" and isinstance(value, list):
        return [[float(v) for v in row] for row in value]
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))


def check_kind(value: Any, kind: ParamKind) -> str | None:
    """A problem text when `value` is not of `kind`, else None."""
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, not {value!r}"
        return None if math.isfinite(float(value)) else "must be a finite number"
    if kind == "integer":
        return (
            None
            if isinstance(value, int) and not isinstance(value, bool)
            else f"must be a whole number, not {value!r}"
        )
    if kind == "bool":
        return None if isinstance(value, bool) else f"must be true or false, not {value!r}"
    if kind == "string":
        return None if isinstance(value, str) else f"must be a string, not {value!r}"
    if kind == "numbers":
        ok = isinstance(value, list) and value and all(_is_number(v) for v in value)
        return None if ok else "must be a non-empty list of finite numbers"
    if kind == "strings":
        ok = isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        return None if ok else "must be a non-empty list of strings"
    if kind == "matrix":
        ok = (
            isinstance(value, list)
            and value
            and all(isinstance(r, list) and r and all(_is_number(v) for v in r) for r in value)
            and len({len(r) for r in value}) == 1
        )
        return None if ok else "must be a list of equally long lists of finite numbers"
    return None


def positive(value: Any) -> str | None:
    """Check: strictly positive."""
    return None if float(value) > 0 else "must be > 0"


def non_negative(value: Any) -> str | None:
    """Check: zero or more."""
    return None if float(value) >= 0 else "must be >= 0"


def fraction(value: Any) -> str | None:
    """Check: between 0 and 1."""
    return None if 0 <= float(value) <= 1 else "must be between 0 and 1"


def check_method(
    value: Any, registry: dict[str, Method], what: str
) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Validate a method spec written as a name or a table with `method` and parameters.

    Returns the canonical spec ({"method": name, **resolved params}) or None, and
    (key, problem) pairs where key is '' for the spec itself, 'method', or a parameter.
    """
    if isinstance(value, str):
        value = {"method": value}
    if not isinstance(value, dict):
        example = next(iter(registry))
        return None, [("", f'must be a method name or a table such as {{ method = "{example}" }}')]
    method = value.get("method")
    if method is None:
        return None, [("method", "missing")]
    if not isinstance(method, str) or method not in registry:
        return None, [("method", f"unknown {what} method {method!r} (known: {', '.join(sorted(registry))})")]
    spec = registry[method]
    params = {k: v for k, v in value.items() if k != "method"}
    problems = spec.check_params(params)
    if problems:
        return None, problems
    return {"method": method, **spec.resolve(params)}, []


def apply(registry: dict[str, Method], spec: dict[str, Any], *args: Any, **context: Any) -> Any:
    """Call the method a canonical spec names: `func(*args, **context, **params)`, where the
    spec's parameters are everything but `method` (one dispatch for every stage)."""
    method = registry[str(spec["method"])]
    params = {k: v for k, v in spec.items() if k != "method"}
    return method.func(*args, **context, **params)
