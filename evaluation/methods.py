"""Method registry plumbing shared by normalisers and aggregators.

A framework file names methods as plain strings (like COINr's `n_minmax` / `a_amean`); the
registries map those names to a function plus a declaration of its parameters, so that the
framework loader can check a file before anything is computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    """One parameter of a method: its type, default and an optional extra check."""

    kind: type  # float, int, bool or str
    default: Any = None
    required: bool = False
    help: str = ""
    check: Callable[[Any], str | None] | None = None  # returns a problem text or None


@dataclass(frozen=True)
class Method:
    """A registered method: the function, its parameters and its documentation."""

    name: str
    func: Callable[..., Any]
    params: dict[str, Param] = field(default_factory=dict)
    doc: str = ""
    source: str = ""

    def check_params(self, params: dict[str, Any]) -> list[tuple[str, str]]:
        """Return (parameter, problem) pairs for `params`; empty when they are valid."""
        problems: list[tuple[str, str]] = []
        for key, value in params.items():
            spec = self.params.get(key)
            if spec is None:
                allowed = ", ".join(sorted(self.params)) or "none"
                problems.append((key, f"unknown parameter for method '{self.name}' (allowed: {allowed})"))
                continue
            problem = _check_type(value, spec.kind)
            if problem is None and spec.check is not None:
                problem = spec.check(value)
            if problem is not None:
                problems.append((key, problem))
        for key, spec in self.params.items():
            if spec.required and key not in params:
                problems.append((key, f"required by method '{self.name}'"))
        return problems

    def resolve(self, params: dict[str, Any]) -> dict[str, Any]:
        """Parameters with defaults filled in (assumes `check_params` passed)."""
        out = {k: p.default for k, p in self.params.items() if p.default is not None}
        out.update(params)
        for key, value in list(out.items()):
            if self.params[key].kind is float and isinstance(value, int) and not isinstance(value, bool):
                out[key] = float(value)
        return out


def _check_type(value: Any, kind: type) -> str | None:
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, not {value!r}"
        if not math.isfinite(float(value)):
            return "must be a finite number"
        return None
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, not {value!r}"
        return None
    if kind is bool:
        return None if isinstance(value, bool) else f"must be true or false, not {value!r}"
    if kind is str:
        return None if isinstance(value, str) else f"must be a string, not {value!r}"
    return None


def positive(value: Any) -> str | None:
    """Check: strictly positive."""
    return None if float(value) > 0 else "must be > 0"
