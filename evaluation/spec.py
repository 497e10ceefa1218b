"""The run-time method spec: method choices that override the framework file for one run
(sensitivity analysis, conformance with a published method, "what if").

```toml
[methods]                      # like the framework's [methods]: every indicator / aggregate
normalisation = { method = "zscore", mean = 10, sd = 2 }
screening = { min_coverage = 0.9 }

[indicators.app_csat]          # one indicator
normalisation = { method = "goalposts", min = 50, max = 100 }

[aggregates.satisfaction]      # one aggregate (or the index, by its code)
aggregation = "geometric"
weighting = { method = "equal" }
```

Precedence, most specific first: spec `[indicators.X]` / `[aggregates.X]` → spec
`[methods]` → the framework node's own method → the framework's `[methods]` → built-in
default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egov.errors import EgovError
from evaluation.registry import (
    AGGREGATE_STAGES,
    INDICATOR_STAGES,
    STAGES,
    check_fraction,
    check_screening,
    check_stage,
)

SPEC_KEYS = {"methods", "indicators", "aggregates"}


@dataclass(frozen=True)
class EvaluationSpec:
    """Canonical method overrides for one run (see the module docstring)."""

    methods: dict[str, Any] = field(default_factory=dict)
    indicators: dict[str, dict[str, Any]] = field(default_factory=dict)
    aggregates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"methods": self.methods, "indicators": self.indicators, "aggregates": self.aggregates}


def parse_spec(data: dict[str, Any], origin: str = "<spec>") -> EvaluationSpec:
    """Validate spec data (as parsed from TOML); raise EgovError listing every problem."""
    problems: list[str] = []

    def report(path: str, found: list[tuple[str, str]]) -> None:
        problems.extend(f"{path}.{k}: {m}" if k else f"{path}: {m}" for k, m in found)

    for key in data:
        if key not in SPEC_KEYS:
            problems.append(f"{key}: unknown key (allowed: {', '.join(sorted(SPEC_KEYS))})")
    methods: dict[str, Any] = {}
    table = data.get("methods", {})
    if not isinstance(table, dict):
        problems.append("methods: must be a table")
        table = {}
    for key, value in table.items():
        path = f"methods.{key}"
        if key in STAGES:
            spec, found = check_stage(key, value)
            report(path, found)
            if spec is not None:
                methods[key] = spec
        elif key == "screening":
            spec, found = check_screening(value)
            report(path, found)
            if spec is not None:
                methods[key] = spec
        elif key == "min_coverage":
            msg = check_fraction(value)
            if msg:
                problems.append(f"{path}: {msg}")
            else:
                methods[key] = float(value)
        else:
            allowed = ", ".join(sorted([*STAGES, "screening", "min_coverage"]))
            problems.append(f"{path}: unknown key (allowed: {allowed})")

    def per_node(section: str, stages: tuple[str, ...], extra: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        nodes = data.get(section, {})
        if not isinstance(nodes, dict):
            problems.append(f"{section}: must be a table of codes")
            return out
        for code, table in nodes.items():
            path = f"{section}.{code}"
            if not isinstance(table, dict):
                problems.append(f"{path}: must be a table")
                continue
            entry: dict[str, Any] = {}
            for key, value in table.items():
                if key in stages:
                    spec, found = check_stage(key, value)
                    report(f"{path}.{key}", found)
                    if spec is not None:
                        entry[key] = spec
                elif key in extra:
                    msg = check_fraction(value)
                    if msg:
                        problems.append(f"{path}.{key}: {msg}")
                    else:
                        entry[key] = float(value)
                else:
                    problems.append(f"{path}.{key}: unknown key (allowed: {', '.join([*stages, *extra])})")
            out[str(code)] = entry
        return out

    indicators = per_node("indicators", INDICATOR_STAGES, ())
    aggregates = per_node("aggregates", AGGREGATE_STAGES, ("min_coverage",))
    if problems:
        raise EgovError(
            f"{origin}: invalid spec ({len(problems)} problem{'s' if len(problems) != 1 else ''})", problems
        )
    return EvaluationSpec(methods=methods, indicators=indicators, aggregates=aggregates)


def load_spec(path: str | Path) -> EvaluationSpec:
    """Read and validate a spec file (TOML)."""
    p = Path(path)
    if not p.exists():
        raise EgovError(f"{p}: no such spec file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise EgovError(f"{p}: not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise EgovError(f"{p}: not valid TOML: {exc}") from exc
    return parse_spec(data, origin=str(p))
