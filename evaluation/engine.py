"""The pure evaluation engine: `evaluate(data, framework, spec) -> EvaluationResult`.

No database, file or HTTP access here. Input is validated once at the entry point; the
helpers below it trust their arguments.

Stages (each optional, each kept in the result, COINr style; OECD/JRC Handbook steps 3–6):
raw → applicability (which indicators apply to which kind of object) → denomination →
imputation → unit screening → outlier treatment → normalisation → weighting and
aggregation bottom-up through the framework tree → ranks. When the units are assessed
objects that belong to departments, object scores are rolled up to departments at every
node below the index ("score, then aggregate"), the department index is aggregated from
the department category scores, and departments are ranked overall, per node and within
peer groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.aggregate import ROLLUPS, aggregate
from evaluation.denominate import denominate
from evaluation.impute import impute
from evaluation.normalise import NORMALISERS, normalise
from evaluation.rank import rank_desc
from evaluation.spec import EvaluationSpec, load_spec
from evaluation.treat import treat
from evaluation.weights import weigh
from indicators.framework import Framework, applies

__all__ = ["EvaluationResult", "EvaluationSpec", "evaluate", "load_spec", "to_wide"]

UNIT_COLUMNS = ("kind", "subkind", "department", "peer_group")


@dataclass
class EvaluationResult:
    """Every stage of one evaluation, plus the spec and framework identity that made it."""

    framework_code: str
    framework_version: str
    framework_hash: str
    spec: dict[str, Any]
    levels: dict[str, int]
    units: pd.DataFrame  # unit attributes (kind, subkind, department, peer_group, …)
    raw: pd.DataFrame  # units × indicators, as supplied (non-applicable cells removed)
    applicable: pd.DataFrame  # units × indicators, bool
    denominated: pd.DataFrame  # units × indicators
    imputed: pd.DataFrame  # units × indicators (after imputation)
    imputed_mask: pd.DataFrame  # units × indicators, True where a value was imputed
    screened_out: dict[str, float]  # unit → its data availability, for units removed
    treated: pd.DataFrame  # units × indicators (after outlier treatment)
    treated_mask: pd.DataFrame  # units × indicators, True where treatment changed the value
    treatment: pd.DataFrame  # one row per indicator: what the treatment did
    normalised: pd.DataFrame  # units × indicators
    scores: pd.DataFrame  # units × every node (indicators normalised, aggregates scored)
    ranks: pd.DataFrame  # units × every node, 1 = best, ties take the lowest rank
    weights: dict[str, pd.Series]  # aggregate → the weights of its children as used
    effective_weights: pd.Series  # every node's share of the index
    department_scores: pd.DataFrame | None = None  # departments × every node
    department_ranks: pd.DataFrame | None = None
    peer_ranks: pd.DataFrame | None = None  # rank within the department's peer group
    warnings: list[str] = field(default_factory=list)

    @property
    def index_code(self) -> str:
        return next(c for c, lv in self.levels.items() if lv == max(self.levels.values()))

    def flags(self) -> pd.DataFrame:
        """Per-cell flags of the indicator data: "n/a", "imputed", "treated", "screened out"."""
        out = pd.DataFrame("", index=self.applicable.index, columns=self.applicable.columns)
        out = out.mask(~self.applicable, "n/a")
        out = out.mask(self.imputed_mask.reindex_like(out).fillna(False).astype(bool), "imputed")
        treated = self.treated_mask.reindex_like(out).fillna(False).astype(bool)
        out = out.mask(treated & (out == "imputed"), "imputed, treated").mask(
            treated & (out == ""), "treated"
        )
        out.loc[out.index.isin(list(self.screened_out))] = "screened out"
        return out

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
    """Accept long (unit, indicator, value) or wide (index = unit) data; return wide."""
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


def _numeric(wide: pd.DataFrame, codes: list[str], what: str = "indicator") -> pd.DataFrame:
    out = pd.DataFrame(index=wide.index)
    problems: list[str] = []
    for code in codes:
        col = wide[code]
        num = pd.to_numeric(col, errors="coerce")
        bad = col.notna() & num.isna()
        if bad.any():
            first = col[bad].index[0]
            problems.append(
                f"{what} '{code}', unit '{first}': {col[bad].iloc[0]!r} is not a number"
                + (f" (+{int(bad.sum()) - 1} more)" if bad.sum() > 1 else "")
            )
        num = num.astype(float)
        inf = np.isinf(num)
        if inf.any():
            problems.append(f"{what} '{code}': infinite value for unit '{num[inf].index[0]}'")
        out[code] = num
    if problems:
        raise EgovError("the data holds values that are not numbers", problems)
    return out


class _Resolver:
    """Which method each indicator and aggregate uses (see evaluation.spec for precedence)."""

    def __init__(self, framework: Framework, spec: EvaluationSpec) -> None:
        self.fw, self.spec = framework, spec

    def indicator(self, code: str, stage: str) -> dict[str, Any]:
        own = self.spec.indicators.get(code, {}).get(stage) or self.spec.methods.get(stage)
        return dict(own) if own else self.fw.method_of(code, stage)

    def aggregate(self, code: str, stage: str) -> dict[str, Any]:
        own = self.spec.aggregates.get(code, {}).get(stage) or self.spec.methods.get(stage)
        return dict(own) if own else self.fw.method_of(code, stage)

    def coverage(self, code: str) -> float:
        own = self.spec.aggregates.get(code, {}).get("min_coverage")
        if own is None:
            own = self.spec.methods.get("min_coverage")
        return float(own) if own is not None else self.fw.min_coverage_of(code)

    def rollup(self) -> dict[str, Any]:
        own = self.spec.methods.get("rollup")
        return dict(own) if own else self.fw.default("rollup")

    def screening(self) -> float:
        own = self.spec.methods.get("screening") or self.fw.screening
        return float(own["min_coverage"]) if own else 0.0


def _check_spec(framework: Framework, spec: EvaluationSpec) -> list[str]:
    problems: list[str] = []
    for code in spec.indicators:
        if code not in framework.nodes or not framework.nodes[code].is_indicator:
            problems.append(f"spec indicators.{code}: not an indicator of framework {framework.code}")
    for code in spec.aggregates:
        if code not in framework.nodes or framework.nodes[code].is_indicator:
            problems.append(f"spec aggregates.{code}: not an aggregate of framework {framework.code}")
    return problems


def evaluate(
    data: pd.DataFrame,
    framework: Framework,
    spec: EvaluationSpec | None = None,
    units: pd.DataFrame | None = None,
    *,
    supplied: pd.DataFrame | None = None,
    history: list[pd.DataFrame] | None = None,
) -> EvaluationResult:
    """Score and rank units on a framework.

    data: long (`unit, indicator, value`) or wide (one row per unit, index = unit).
    units: optional attributes indexed by unit: `kind`, `subkind` (which indicators apply),
    `department` and `peer_group` (roll-up and peer ranks), `volume` (volume-weighted
    roll-up), and any column named by a `denominator` or an imputation's `by`.
    supplied: wide table of supplied values (imputation method "supplied").
    history: earlier periods' data, oldest first (imputation "previous" and "linear").
    """
    spec = spec or EvaluationSpec()
    problems = _check_spec(framework, spec)
    if problems:
        raise EgovError("invalid method spec", problems)
    res = _Resolver(framework, spec)
    wide = to_wide(data)
    if wide.index.has_duplicates:
        dups = ", ".join(map(str, wide.index[wide.index.duplicated()].unique()[:5]))
        raise EgovError(f"duplicate units in the data: {dups}")
    if len(wide.index) == 0:
        raise EgovError("the data holds no units")
    wide = wide.copy()
    wide.index = wide.index.map(str)
    warnings: list[str] = []
    codes = framework.indicator_codes
    for c in codes:
        if c not in wide.columns:
            warnings.append(f"indicator '{c}': no data column; treated as missing for every unit")
            wide[c] = np.nan
    raw = _numeric(wide, codes).sort_index()

    units = _units(units, raw.index)
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

    denominated = _denominate(framework, res, raw, units, warnings)
    hist = [_history_frame(h, codes) for h in (history or [])]
    supplied_wide = None
    if supplied is not None:
        sw = _str_index(to_wide(supplied))
        supplied_wide = _numeric(sw, [c for c in codes if c in sw.columns])
    imputed = _impute(framework, res, denominated, applicable, units, hist, supplied_wide)
    imputed = imputed.where(applicable)
    imputed_mask = denominated.isna() & imputed.notna()

    screened_out = _screen(res.screening(), imputed, applicable)
    if screened_out:
        shown = ", ".join(f"{u} ({c:.0%})" for u, c in screened_out.items())
        warnings.append(f"screened out {len(screened_out)} unit(s) with too little data: {shown}")
    keep = ~imputed.index.isin(list(screened_out))
    kept = imputed[keep]

    treated, treatment = _treat(framework, res, kept)
    treated_mask = (treated != kept) & treated.notna() & kept.notna()

    normalised = _normalise(framework, res, treated, warnings)
    scores, used_weights = _aggregate_tree(framework, res, normalised)
    ranks = scores.apply(rank_desc)
    effective = _effective_weights(framework, used_weights)

    result = EvaluationResult(
        framework_code=framework.code,
        framework_version=framework.version,
        framework_hash=framework.content_hash,
        spec=spec.to_dict(),
        levels=framework.levels(),
        units=units[keep],
        raw=raw,
        applicable=applicable,
        denominated=denominated,
        imputed=imputed,
        imputed_mask=imputed_mask,
        screened_out=screened_out,
        treated=treated,
        treated_mask=treated_mask,
        treatment=treatment,
        normalised=normalised,
        scores=scores,
        ranks=ranks,
        weights=used_weights,
        effective_weights=effective,
        warnings=warnings,
    )
    if result.units["department"].notna().any():
        _rollup(framework, res, result)
    return result


def _str_index(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.index = out.index.map(str)
    return out


def _units(units: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame:
    if units is None:
        out = pd.DataFrame(index=index)
    else:
        out = _str_index(units)
        unknown = index.difference(out.index)
        if len(unknown):
            raise EgovError(f"units without attributes: {', '.join(map(str, unknown[:10]))}")
        out = out.reindex(index)
    for col in UNIT_COLUMNS:
        if col not in out:
            out[col] = None
    return out


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


def _denominator(code: str, by: str, raw: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    if by in raw.columns:
        return raw[by]
    if by in units.columns:
        values = pd.to_numeric(units[by], errors="coerce")
        bad = units[by].notna() & values.isna()
        if bad.any():
            raise EgovError(
                f"denominator '{by}' of indicator '{code}': {units[by][bad].iloc[0]!r} is not a number"
            )
        return values.astype(float)
    raise EgovError(f"indicator '{code}': its denominator '{by}' is neither a unit column nor an indicator")


def _denominate(
    framework: Framework, res: _Resolver, raw: pd.DataFrame, units: pd.DataFrame, warnings: list[str]
) -> pd.DataFrame:
    out = raw.copy()
    for node in framework.indicators:
        spec = res.indicator(node.code, "denomination")
        if spec["method"] == "none":
            continue
        if node.denominator is None:
            continue  # nothing to divide by: the indicator is already a ratio
        by = _denominator(node.code, node.denominator, raw, units)
        zero = raw[node.code].notna() & (by == 0)
        if zero.any():
            warnings.append(
                f"indicator '{node.code}': denominator '{node.denominator}' is 0 for "
                f"{', '.join(map(str, zero.index[zero][:5]))}; left missing"
            )
        out[node.code] = denominate(raw[node.code], spec, by)
    return out


def _history_frame(h: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    wide = _str_index(to_wide(h))
    present = [c for c in codes if c in wide.columns]
    return _numeric(wide, present).reindex(columns=codes)


def _impute(
    framework: Framework,
    res: _Resolver,
    data: pd.DataFrame,
    applicable: pd.DataFrame,
    units: pd.DataFrame,
    history: list[pd.DataFrame],
    supplied: pd.DataFrame | None,
) -> pd.DataFrame:
    out = data.copy()
    for node in framework.indicators:
        spec = res.indicator(node.code, "imputation")
        if spec["method"] == "none":
            continue
        mask = applicable[node.code]
        x = data.loc[mask, node.code]
        if not x.isna().any():
            continue
        by = spec.get("by")
        if by is not None and by not in units.columns:
            raise EgovError(f"indicator '{node.code}': imputation by '{by}' needs a unit column '{by}'")
        groups = units.loc[mask, by] if by is not None else None
        hist = None
        if history:
            hist = pd.DataFrame([h[node.code].reindex(x.index) for h in history]).reset_index(drop=True)
        sup = supplied[node.code] if supplied is not None and node.code in supplied.columns else None
        try:
            out.loc[mask, node.code] = impute(x, spec, groups=groups, history=hist, supplied_values=sup)
        except EgovError as exc:
            raise EgovError(f"indicator '{node.code}': {exc.message}", exc.problems) from exc
    return out


def _screen(min_coverage: float, data: pd.DataFrame, applicable: pd.DataFrame) -> dict[str, float]:
    if min_coverage <= 0:
        return {}
    n_applicable = applicable.sum(axis=1).astype(float)
    coverage = (data.notna() & applicable).sum(axis=1) / n_applicable.where(n_applicable > 0)
    out = coverage[coverage.fillna(0) < min_coverage]
    return {str(u): float(c) for u, c in out.fillna(0).items()}


def _treat(framework: Framework, res: _Resolver, data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = data.copy()
    rows: dict[str, dict[str, Any]] = {}
    for node in framework.indicators:
        spec = res.indicator(node.code, "treatment")
        if spec["method"] == "none":
            continue
        x = data[node.code].dropna()
        if x.empty:
            continue
        treated, details = treat(x, spec)
        out.loc[treated.index, node.code] = treated
        rows[node.code] = {"method": spec["method"], **details}
    treatment = pd.DataFrame.from_dict(rows, orient="index")
    treatment.index.name = "indicator"
    return out, treatment


def _normalise(framework: Framework, res: _Resolver, data: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    out = pd.DataFrame(np.nan, index=data.index, columns=data.columns, dtype=float)
    for node in framework.indicators:
        spec = res.indicator(node.code, "normalisation")
        if "target" in NORMALISERS[spec["method"]].params and spec.get("target") is None:
            if node.target is None:
                raise EgovError(
                    f"indicator '{node.code}': normalisation {spec['method']} needs a target "
                    "(set `target` on the indicator or in the method)"
                )
            spec["target"] = node.target
        present = data[node.code].dropna()
        if present.empty:
            warnings.append(f"indicator '{node.code}': no values for any unit; left out of every aggregate")
            continue
        z = normalise(present, spec, node.direction)
        if z.isna().all() and present.nunique() > 1:
            warnings.append(
                f"indicator '{node.code}': normalisation {spec['method']} gives no value for any unit"
                f"{_why_no_values(spec, present)}; left out of every aggregate"
            )
        elif z.isna().all():
            warnings.append(
                f"indicator '{node.code}': all {len(present)} units have the same value "
                f"({present.iloc[0]:g}); zero range, so it cannot tell units apart and is left out"
            )
        out.loc[z.index, node.code] = z
    return out


def _why_no_values(spec: dict[str, Any], present: pd.Series) -> str:
    """Why a normaliser returned nothing although the values differ (for the warning)."""
    method = spec["method"]
    if method == "distance_to_reference":
        if spec["unit"] not in present.index:
            return f" (the reference unit '{spec['unit']}' has no value for it)"
        return f" (the reference unit '{spec['unit']}' has the worst value)"
    if method == "distance_to_target":
        return f" (the target {spec['target']:g} equals the worst value)"
    if method == "fraction_of_max":
        return " (the best value is 0)"
    return ""


def _aggregate_tree(
    framework: Framework,
    res: _Resolver,
    normalised: pd.DataFrame,
    start: pd.DataFrame | None = None,
    only: set[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, pd.Series]]:
    scores = normalised.copy() if start is None else start.copy()
    used: dict[str, pd.Series] = {}
    for node in framework.aggregates_bottom_up():
        if only is not None and node.code not in only:
            continue
        children = list(node.children)
        values = scores[children]
        written = pd.Series({c: framework.nodes[c].weight for c in children}, dtype=float)
        wspec = res.aggregate(node.code, "weighting")
        aspec = res.aggregate(node.code, "aggregation")
        try:
            weights = weigh(values, written, wspec).reindex(children).astype(float)
            if weights.isna().any() or not np.isfinite(weights.to_numpy()).all():
                raise EgovError(f"weighting {wspec['method']} gave no weight for some children")
        except EgovError as exc:
            raise EgovError(
                f"weighting '{node.code}' ({wspec['method']}): {exc.message}", exc.problems
            ) from exc
        try:
            agg = aggregate(values, weights, aspec)
        except EgovError as exc:
            raise EgovError(
                f"aggregating '{node.code}' ({aspec['method']}): {exc.message}", exc.problems
            ) from exc
        threshold = res.coverage(node.code)
        if threshold > 0:
            share = values.notna().sum(axis=1) / len(children)
            agg = agg.where(share >= threshold - 1e-12)
        scores[node.code] = agg
        used[node.code] = weights
    order = [c for c in framework.nodes if c in scores.columns]
    return scores[order], used


def _effective_weights(framework: Framework, used: dict[str, pd.Series]) -> pd.Series:
    """Each node's share of the index: the product of its ancestors' renormalised weights.
    # COINr get_eff_weights."""
    eff = {framework.index_code: 1.0}
    for node in reversed(framework.aggregates_bottom_up()):  # top-down
        w = used.get(node.code)
        if w is None:
            continue
        total = float(w.sum())
        for child, wi in w.items():
            eff[str(child)] = eff.get(node.code, np.nan) * (float(wi) / total if total else np.nan)
    return pd.Series(eff, dtype=float).reindex(list(framework.nodes))


def _rollup(framework: Framework, res: _Resolver, result: EvaluationResult) -> None:
    units = result.units
    missing = units.index[units["department"].isna()]
    if len(missing):
        raise EgovError(f"objects without a department: {', '.join(map(str, missing[:10]))}")
    rspec = res.rollup()
    groups = units["department"].astype(str)
    below = [c for c in framework.nodes if c != framework.index_code]
    volume = units["volume"] if "volume" in units.columns else None
    params = {k: v for k, v in rspec.items() if k != "method"}
    dept = ROLLUPS[rspec["method"]].func(result.scores[below], groups, volume, **params)
    dept, _ = _aggregate_tree(framework, res, dept, start=dept, only={framework.index_code})
    result.department_scores = dept
    result.department_ranks = dept.apply(rank_desc)
    peers = units["peer_group"].groupby(groups).first().reindex(dept.index)
    if peers.notna().any():
        filled = peers.fillna("(none)").astype(str)
        result.peer_ranks = (
            dept.groupby(filled, group_keys=False).apply(lambda g: g.apply(rank_desc)).reindex(dept.index)
        )
