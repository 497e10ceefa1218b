"""The pure evaluation engine: `evaluate(data, framework, spec) -> EvaluationResult`.

No database, file or HTTP access here. Input is validated once at the entry point; the
helpers below it trust their arguments.

Pipeline (each stage kept in the result, COINr style):
raw → applicability (which indicators apply to which kind of object) → normalised (per
indicator, over the units it applies to, direction first) → aggregated bottom-up through
the framework tree → ranked. When the units are assessed objects that belong to
departments, object scores are rolled up to departments at every node up to the category
level ("score, then aggregate"), the department index is aggregated from the department
category scores, and departments are ranked overall, per node and within peer groups.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.aggregate import AGGREGATORS, ROLLUPS
from evaluation.normalise import check_normalisation, normalise
from evaluation.rank import rank_desc
from indicators.framework import Framework, applies

UNIT_COLUMNS = ("kind", "subkind", "department", "peer_group")


@dataclass(frozen=True)
class EvaluationSpec:
    """Run-time method choices that override the framework file.

    normalisation: replaces the normalisation of every indicator (None: the framework's);
    indicator_normalisation: per-indicator replacements; aggregation: per node code, or
    `"*"` for every aggregate; rollup: object → department roll-up method.
    """

    normalisation: dict[str, Any] | None = None
    indicator_normalisation: dict[str, dict[str, Any]] = field(default_factory=dict)
    aggregation: dict[str, str] = field(default_factory=dict)
    rollup: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


SPEC_KEYS = {"normalisation", "indicators", "aggregation", "rollup"}


def load_spec(path: str | Path) -> EvaluationSpec:
    """Read a method spec file (TOML), reporting every problem with its key path.

    ```toml
    normalisation = { method = "minmax", lower = 1, upper = 100 }
    rollup = "min"
    [aggregation]
    "*" = "geometric"
    [indicators.app_csat]
    normalisation = { method = "goalposts", min = 50, max = 100 }
    ```
    """
    p = Path(path)
    if not p.exists():
        raise EgovError(f"{p}: no such spec file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise EgovError(f"{p}: not a valid TOML spec: {exc}") from exc
    problems: list[str] = []
    for key in data:
        if key not in SPEC_KEYS:
            problems.append(f"{key}: unknown key (allowed: {', '.join(sorted(SPEC_KEYS))})")
    norm = data.get("normalisation")
    if norm is not None:
        if isinstance(norm, str):
            norm = {"method": norm}
        if not isinstance(norm, dict) or "method" not in norm:
            problems.append("normalisation: must be a table with a method")
            norm = None
    ind_norm: dict[str, dict[str, Any]] = {}
    for code, table in (data.get("indicators") or {}).items():
        if not isinstance(table, dict) or set(table) - {"normalisation"} or "normalisation" not in table:
            problems.append(f"indicators.{code}: only 'normalisation' may be set per indicator")
            continue
        n = table["normalisation"]
        ind_norm[code] = {"method": n} if isinstance(n, str) else dict(n)
    aggregation = data.get("aggregation") or {}
    if not isinstance(aggregation, dict):
        problems.append("aggregation: must be a table of node code = method")
        aggregation = {}
    rollup = data.get("rollup")
    if problems:
        raise EgovError(f"{p}: invalid spec", problems)
    return EvaluationSpec(
        normalisation=norm,
        indicator_normalisation=ind_norm,
        aggregation={str(k): str(v) for k, v in aggregation.items()},
        rollup=rollup,
    )


@dataclass
class EvaluationResult:
    """Every stage of one evaluation, plus the spec and framework identity that made it."""

    framework_code: str
    framework_version: str
    framework_hash: str
    spec: dict[str, Any]
    levels: dict[str, int]
    units: pd.DataFrame  # unit attributes (kind, subkind, department, peer_group) if given
    raw: pd.DataFrame  # units × indicators, as supplied (non-applicable cells removed)
    applicable: pd.DataFrame  # units × indicators, bool
    normalised: pd.DataFrame  # units × indicators
    scores: pd.DataFrame  # units × every node (indicators normalised, aggregates scored)
    ranks: pd.DataFrame  # units × every node, 1 = best, ties take the lowest rank
    department_scores: pd.DataFrame | None = None  # departments × every node
    department_ranks: pd.DataFrame | None = None
    peer_ranks: pd.DataFrame | None = None  # rank within the department's peer group
    warnings: list[str] = field(default_factory=list)

    @property
    def index_code(self) -> str:
        return next(c for c, lv in self.levels.items() if lv == max(self.levels.values()))

    def table(self, entity: str = "unit") -> pd.DataFrame:
        """Scores of every node with the overall rank first, best first (COINr's results table)."""
        if entity == "department":
            if self.department_scores is None or self.department_ranks is None:
                raise EgovError("this evaluation has no departments")
            scores, ranks = self.department_scores, self.department_ranks
        else:
            scores, ranks = self.scores, self.ranks
        idx = self.index_code
        ordered = sorted(self.levels, key=lambda c: -self.levels[c])
        out = scores[ordered].copy()
        out.insert(0, "Rank", ranks[idx])
        return out.sort_values(["Rank", idx], ascending=[True, False], na_position="last", kind="mergesort")

    def long(self) -> pd.DataFrame:
        """One row per (entity, node): entity_type, entity, node, level, score, rank, peer_rank."""
        frames = [
            _long("object" if self.department_scores is not None else "unit", self.scores, self.ranks, None)
        ]
        if self.department_scores is not None and self.department_ranks is not None:
            frames.append(_long("department", self.department_scores, self.department_ranks, self.peer_ranks))
        out = pd.concat(frames, ignore_index=True)
        out["level"] = out["node"].map(self.levels).astype(int)
        return out[["entity_type", "entity", "node", "level", "score", "rank", "peer_rank"]]


def _long(kind: str, scores: pd.DataFrame, ranks: pd.DataFrame, peer: pd.DataFrame | None) -> pd.DataFrame:
    def stacked(df: pd.DataFrame, name: str) -> pd.Series:
        s = pd.Series(df.stack(future_stack=True))
        s.name = name
        return s

    parts = [stacked(scores, "score"), stacked(ranks, "rank")]
    if peer is not None:
        parts.append(stacked(peer, "peer_rank"))
    out = pd.concat(parts, axis=1).reset_index()
    out.columns = ["entity", "node", *out.columns[2:]]
    if "peer_rank" not in out:
        out["peer_rank"] = np.nan
    out.insert(0, "entity_type", kind)
    return out.dropna(subset=["score"])


# ----------------------------------------------------------------------------------------
def to_wide(data: pd.DataFrame) -> pd.DataFrame:
    """Accept long (unit, indicator, value) or wide (index = unit) data; return wide floats."""
    cols = {str(c).lower(): c for c in data.columns}
    if {"unit", "indicator", "value"} <= set(cols):
        long = data.rename(
            columns={cols["unit"]: "unit", cols["indicator"]: "indicator", cols["value"]: "value"}
        )
        dup = long.duplicated(["unit", "indicator"], keep=False)
        if dup.any():
            pairs = long.loc[dup, ["unit", "indicator"]].drop_duplicates().head(5)
            shown = ", ".join(f"({u}, {i})" for u, i in pairs.itertuples(index=False))
            raise EgovError(f"duplicate values for (unit, indicator): {shown}")
        wide = long.pivot(index="unit", columns="indicator", values="value")
        wide.columns.name = None
        wide.index.name = "unit"
        return wide
    return data


def _numeric(wide: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(index=wide.index)
    problems: list[str] = []
    for code in codes:
        col = wide[code]
        num = pd.to_numeric(col, errors="coerce")
        bad = col.notna() & num.isna()
        if bad.any():
            first = col[bad].index[0]
            problems.append(
                f"indicator '{code}', unit '{first}': {col[bad].iloc[0]!r} is not a number"
                + (f" (+{int(bad.sum()) - 1} more)" if bad.sum() > 1 else "")
            )
        num = num.astype(float)
        inf = np.isinf(num)
        if inf.any():
            problems.append(f"indicator '{code}': infinite value for unit '{num[inf].index[0]}'")
        out[code] = num
    if problems:
        raise EgovError("the data holds values that are not numbers", problems)
    return out


def _check_spec(framework: Framework, spec: EvaluationSpec) -> list[str]:
    problems: list[str] = []
    specs = ([("normalisation", spec.normalisation)] if spec.normalisation else []) + [
        (f"indicators.{c}.normalisation", n) for c, n in spec.indicator_normalisation.items()
    ]
    for where, n in specs:
        params = {k: v for k, v in n.items() if k != "method"}
        problems += [f"spec {where}.{k}: {m}" for k, m in check_normalisation(str(n.get("method")), params)]
    for code in spec.indicator_normalisation:
        if code not in framework.nodes or not framework.nodes[code].is_indicator:
            problems.append(f"spec indicators.{code}: not an indicator of framework {framework.code}")
    for code, method in spec.aggregation.items():
        if code != "*" and (code not in framework.nodes or framework.nodes[code].is_indicator):
            problems.append(f"spec aggregation.{code}: not an aggregate of framework {framework.code}")
        if method not in AGGREGATORS:
            problems.append(
                f"spec aggregation.{code}: unknown aggregation method '{method}' "
                f"(known: {', '.join(sorted(AGGREGATORS))})"
            )
    if spec.rollup is not None and spec.rollup not in ROLLUPS:
        problems.append(
            f"spec rollup: unknown roll-up method '{spec.rollup}' (known: {', '.join(sorted(ROLLUPS))})"
        )
    return problems


def evaluate(
    data: pd.DataFrame,
    framework: Framework,
    spec: EvaluationSpec | None = None,
    units: pd.DataFrame | None = None,
) -> EvaluationResult:
    """Score and rank units on a framework.

    data: long (`unit, indicator, value`) or wide (one row per unit, index = unit).
    units: optional attributes indexed by unit: `kind`, `subkind` (which indicators apply),
    `department` and `peer_group` (roll-up and peer ranks).
    """
    spec = spec or EvaluationSpec()
    problems = _check_spec(framework, spec)
    if problems:
        raise EgovError("invalid method spec", problems)
    wide = to_wide(data)
    if wide.index.has_duplicates:
        dups = ", ".join(map(str, wide.index[wide.index.duplicated()].unique()[:5]))
        raise EgovError(f"duplicate units in the data: {dups}")
    if len(wide.index) == 0:
        raise EgovError("the data holds no units")
    wide.index = wide.index.map(str)
    warnings: list[str] = []
    codes = framework.indicator_codes
    absent = [c for c in codes if c not in wide.columns]
    for c in absent:
        warnings.append(f"indicator '{c}': no data column; treated as missing for every unit")
        wide[c] = np.nan
    raw = _numeric(wide, codes).sort_index()

    if units is None:
        units = pd.DataFrame(index=raw.index)
    else:
        units = units.copy()
        units.index = units.index.map(str)
        unknown = raw.index.difference(units.index)
        if len(unknown):
            raise EgovError(f"units without attributes: {', '.join(map(str, unknown[:10]))}")
        units = units.reindex(raw.index)
    for col in UNIT_COLUMNS:
        if col not in units:
            units[col] = None

    applicable = _applicability(framework, units, raw.columns)
    ignored = raw.notna() & ~applicable
    if ignored.to_numpy().any():
        n = int(ignored.to_numpy().sum())
        cells = pd.Series(ignored.stack())
        where = ", ".join(f"{u}/{c}" for u, c in cells[cells].index[:5])
        warnings.append(
            f"{n} value(s) given for indicators that do not apply to the object's kind were ignored"
            f" (object/indicator: {where}{', …' if n > 5 else ''})"
        )
    raw = raw.where(applicable)

    normalised = pd.DataFrame(index=raw.index, columns=codes, dtype=float)
    for node in framework.indicators:
        norm = (
            spec.indicator_normalisation.get(node.code)
            or spec.normalisation
            or framework.normalisation_of(node)
        )
        present = raw[node.code].dropna()
        if present.empty:
            warnings.append(f"indicator '{node.code}': no values for any unit; left out of every aggregate")
            continue
        params = {k: v for k, v in norm.items() if k != "method"}
        z = normalise(present, norm["method"], node.direction, params)
        if z.isna().all():
            warnings.append(
                f"indicator '{node.code}': all {len(present)} units have the same value "
                f"({present.iloc[0]:g}); zero range, so it cannot tell units apart and is left out"
            )
        normalised.loc[z.index, node.code] = z

    scores = _aggregate_tree(framework, normalised, spec)
    ranks = scores.apply(rank_desc)

    result = EvaluationResult(
        framework_code=framework.code,
        framework_version=framework.version,
        framework_hash=framework.content_hash,
        spec=spec.to_dict(),
        levels=framework.levels(),
        units=units,
        raw=raw,
        applicable=applicable,
        normalised=normalised,
        scores=scores,
        ranks=ranks,
        warnings=warnings,
    )
    if units["department"].notna().any():
        _rollup(framework, spec, result)
    return result


def _applicability(framework: Framework, units: pd.DataFrame, codes: pd.Index) -> pd.DataFrame:
    kinds = units["kind"].where(units["kind"].notna(), None)
    subs = units["subkind"].where(units["subkind"].notna(), None)
    out = pd.DataFrame(True, index=units.index, columns=codes)
    for code in codes:
        node = framework.nodes[code]
        if node.applies_to is None:
            continue
        out[code] = [applies(node.applies_to, k, s) for k, s in zip(kinds, subs, strict=True)]
    return out


def _aggregate_tree(
    framework: Framework,
    normalised: pd.DataFrame,
    spec: EvaluationSpec,
    start: pd.DataFrame | None = None,
    only: set[str] | None = None,
) -> pd.DataFrame:
    scores = normalised.copy() if start is None else start.copy()
    for node in framework.aggregates_bottom_up():
        if only is not None and node.code not in only:
            continue
        method = spec.aggregation.get(node.code) or spec.aggregation.get("*") or node.aggregation
        weights = pd.Series({c: framework.nodes[c].weight for c in node.children}, dtype=float)
        try:
            scores[node.code] = AGGREGATORS[method].func(scores[list(node.children)], weights)
        except EgovError as exc:
            raise EgovError(f"aggregating '{node.code}' ({method}): {exc.message}") from exc
    order = [c for c in framework.nodes if c in scores.columns]
    return scores[order]


def _rollup(framework: Framework, spec: EvaluationSpec, result: EvaluationResult) -> None:
    units = result.units
    missing = units.index[units["department"].isna()]
    if len(missing):
        raise EgovError(f"objects without a department: {', '.join(map(str, missing[:10]))}")
    method = spec.rollup or framework.rollup
    groups = units["department"].astype(str)
    below = [c for c in framework.nodes if c != framework.index_code]
    dept = ROLLUPS[method].func(result.scores[below], groups)
    dept = _aggregate_tree(framework, dept, spec, start=dept, only={framework.index_code})
    result.department_scores = dept
    result.department_ranks = dept.apply(rank_desc)
    peers = units["peer_group"].groupby(groups).first().reindex(dept.index)
    if peers.notna().any():
        filled = peers.fillna("(none)").astype(str)
        result.peer_ranks = (
            dept.groupby(filled, group_keys=False).apply(lambda g: g.apply(rank_desc)).reindex(dept.index)
        )
