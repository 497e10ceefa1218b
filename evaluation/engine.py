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
peer groups. Each stage is a public function of `evaluation.stages`, which comparison and
uncertainty analysis call too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.rank import rank_desc, rank_exact
from evaluation.spec import EvaluationSpec, load_spec
from evaluation.stages import (
    NO_DATA_COLUMN,
    StageResolver,
    aggregate_tree,
    applicability,
    arithmetic_tree,
    check_spec,
    denominate_table,
    effective_weights,
    impute_table,
    normalise_table,
    rollup,
    screen,
    summarise_warnings,
    treat_table,
)
from indicators.framework import Framework

__all__ = [
    "EvaluationResult",
    "EvaluationSpec",
    "evaluate",
    "load_spec",
    "older_rankings",
    "reranked",
    "to_wide",
]

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
    categories: tuple[str, ...] = ()  # the children of the index
    min_categories: int = 1  # categories an entity must be scored on to be ranked overall
    # tables derived from the result and read many times (department values, effective
    # weights: `evaluation.structure`), made once; a result is not changed once made, and
    # `dataclasses.replace` starts a new one empty
    derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def categories_scored(self, entity: str = "unit") -> pd.Series:
        """How many categories each unit (or department) has a score on: its coverage."""
        scores = self.department_scores if entity == "department" else self.scores
        if scores is None:
            raise EgovError("this evaluation has no departments")
        return scores.reindex(columns=list(self.categories)).notna().sum(axis=1).astype(int)

    def ranked_overall(self, entity: str = "unit") -> pd.Series:
        """Whether each unit (or department) enters the overall ranking: scored on at least
        `min_categories` categories (the framework's `[index] min_categories`)."""
        return self.categories_scored(entity) >= self.min_categories

    @property
    def coverage_matters(self) -> bool:
        """Whether coverage can decide a rank: the framework asks for more than one category,
        or the units are objects of kinds or roll up to departments. Otherwise (e.g. a
        published index such as COINr's ASEM) its tables keep their published columns."""
        has = [self.units[c].notna().any() for c in ("kind", "department")]
        return self.min_categories > 1 or any(has)

    def notes(self, where: str = "") -> list[str]:
        """The warnings summarised for people (`evaluation.stages.summarise_warnings`): one
        line for the indicators without data, "… no data{where} …", each note once."""
        return summarise_warnings(self.warnings, len(self.raw.columns), where)

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

    def table(self, entity: str = "unit", coverage: bool = False) -> pd.DataFrame:
        """Scores of every node with the overall rank first, best first (COINr's results table).

        With `coverage`, also `Categories scored` (how many of the index's categories have a
        score: below `min_categories` there is no overall rank) and, for objects of kinds,
        `Kind`: objects are ranked within their kind, so the table goes kind by kind."""
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
        keys = ["Rank", idx]
        if coverage:
            out.insert(1, "Categories scored", self.categories_scored(entity).reindex(out.index))
            kinds = self.units["kind"].reindex(out.index)
            if entity != "department" and kinds.notna().any():
                out.insert(0, "Kind", kinds)
                keys = ["Kind", *keys]
        up = [True] * (len(keys) - 1) + [False]
        return out.sort_values(keys, ascending=up, na_position="last", kind="mergesort")

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
    """The columns `codes` of `wide` as floats; an error naming every column that holds a
    value that is not a number or is infinite. Columns of a numeric type are taken as one
    array; the others are read one by one."""
    if not wide.columns.has_duplicates and all(
        isinstance(d, np.dtype) and d.kind in "fiu" for d in wide.dtypes[codes]
    ):
        values = wide[codes].to_numpy(dtype=float)
        if not np.isinf(values).any():
            return pd.DataFrame(values, index=wide.index, columns=pd.Index(codes))
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

    The stages are those of `evaluation.stages`, run in order.
    """
    spec = spec or EvaluationSpec()
    problems = check_spec(framework, spec)
    if problems:
        raise EgovError("invalid method spec", problems)
    res = StageResolver(framework, spec)
    warnings: list[str] = []
    raw = _raw_table(data, framework.indicator_codes, warnings)
    units = _units(units, raw.index)
    applicable = applicability(framework, units, raw.columns)
    if not applicable.to_numpy().all():
        _warn_not_applicable(raw, applicable, warnings)
        raw = raw.where(applicable)

    denominated = denominate_table(framework, res, raw, units, warnings)
    imputed = _imputed(framework, res, denominated, applicable, units, supplied, history)
    screened_out = _screened_out(res, imputed, applicable, warnings)
    keep = ~imputed.index.isin(list(screened_out))
    kept = imputed[keep]
    treated, treatment = treat_table(framework, res, kept)

    normalised = normalise_table(framework, res, treated, warnings)
    scores, used_weights = arithmetic_tree(framework, res, normalised) or aggregate_tree(
        framework, res, normalised
    )
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
        imputed_mask=_mask(denominated.isna().to_numpy() & imputed.notna().to_numpy(), imputed),
        screened_out=screened_out,
        treated=treated,
        treated_mask=_changed(treated, kept),
        treatment=treatment,
        normalised=normalised,
        scores=scores,
        ranks=scores,  # ranked below, once the result knows its units and its rule
        weights=used_weights,
        effective_weights=effective_weights(framework, used_weights),
        warnings=warnings,
        categories=tuple(framework.index.children),
        min_categories=framework.ranking_rule,
    )
    has_departments = bool(result.units["department"].notna().any())
    result.ranks = _unit_ranks(result, rank_desc, by_kind=True, rule=not has_departments)
    if has_departments:
        _department_results(framework, res, result)
    return result


Ranker = Callable[[pd.DataFrame], pd.DataFrame]  # ranks a table column by column (`evaluation.rank`)


def _mask(cells: np.ndarray, like: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(cells, index=like.index, columns=like.columns)


def _changed(treated: pd.DataFrame, kept: pd.DataFrame) -> pd.DataFrame:
    """Where treatment changed a value (both present and different)."""
    after, before = treated.to_numpy(dtype=float), kept.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return _mask((after != before) & ~np.isnan(after) & ~np.isnan(before), treated)


def _unit_ranks(result: EvaluationResult, rank: Ranker, *, by_kind: bool, rule: bool) -> pd.DataFrame:
    """Unit ranks at every node: among units of the same kind when the units are objects
    of kinds (`by_kind`; a management body is not ranked against an application), else all
    together; with `rule`, the index rank only for units scored on enough categories."""
    scores = result.scores
    kinds = result.units["kind"].reindex(scores.index)
    if by_kind and kinds.notna().any():
        groups = kinds.fillna("").astype(str)
        ranks = scores.groupby(groups, group_keys=False).apply(rank).reindex(scores.index)
    else:
        ranks = rank(scores)
    if rule:
        idx = result.index_code
        counted = scores.reindex(columns=list(result.categories)).to_numpy(dtype=float)
        enough = (~np.isnan(counted)).sum(axis=1) >= result.min_categories  # ranked_overall("unit")
        ranks[idx] = rank(scores[idx].where(enough).to_frame())[idx]
    return ranks


def _raw_table(data: pd.DataFrame, codes: list[str], warnings: list[str]) -> pd.DataFrame:
    """The data as a numeric units × indicators table (units as strings, sorted), one
    column per indicator of the framework (missing columns all missing, with a warning)."""
    wide = to_wide(data)
    if wide.index.has_duplicates:
        dups = ", ".join(map(str, wide.index[wide.index.duplicated()].unique()[:5]))
        raise EgovError(f"duplicate units in the data: {dups}")
    if len(wide.index) == 0:
        raise EgovError("the data holds no units")
    wide = wide.copy()
    wide.index = wide.index.map(str)
    for c in codes:
        if c not in wide.columns:
            warnings.append(NO_DATA_COLUMN.format(c))
            wide[c] = np.nan
    return _numeric(wide, codes).sort_index()


def _warn_not_applicable(raw: pd.DataFrame, applicable: pd.DataFrame, warnings: list[str]) -> None:
    """Warn about values given for indicators that do not apply to the unit's kind."""
    ignored = raw.notna() & ~applicable
    if ignored.to_numpy().any():
        n = int(ignored.to_numpy().sum())
        cells = pd.Series(ignored.stack())
        where = ", ".join(f"{u}/{c}" for u, c in cells[cells].index[:5])
        warnings.append(
            f"{n} value(s) given for indicators that do not apply to the object's kind were ignored"
            f" (object/indicator: {where}{', …' if n > 5 else ''})"
        )


def _imputed(
    framework: Framework,
    res: StageResolver,
    denominated: pd.DataFrame,
    applicable: pd.DataFrame,
    units: pd.DataFrame,
    supplied: pd.DataFrame | None,
    history: list[pd.DataFrame] | None,
) -> pd.DataFrame:
    """The imputation stage with its inputs read: earlier periods and supplied values as
    numeric tables; non-applicable cells stay missing."""
    codes = framework.indicator_codes
    hist = [_history_frame(h, codes) for h in (history or [])]
    supplied_wide = None
    if supplied is not None:
        sw = _str_index(to_wide(supplied))
        supplied_wide = _numeric(sw, [c for c in codes if c in sw.columns])
    imputed = impute_table(framework, res, denominated, applicable, units, hist, supplied_wide)
    return imputed.where(applicable)


def _screened_out(
    res: StageResolver, imputed: pd.DataFrame, applicable: pd.DataFrame, warnings: list[str]
) -> dict[str, float]:
    """The screening stage, with a warning naming the units screened out."""
    screened_out = screen(res.screening(), imputed, applicable)
    if screened_out:
        shown = ", ".join(f"{u} ({c:.0%})" for u, c in screened_out.items())
        warnings.append(f"screened out {len(screened_out)} unit(s) with too little data: {shown}")
    return screened_out


def _department_results(framework: Framework, res: StageResolver, result: EvaluationResult) -> None:
    """Roll the object scores up to departments, aggregate the department index from the
    department category scores, and rank departments overall and within peer groups."""
    dept = rollup(framework, res, result.scores, result.units)
    dept, _ = aggregate_tree(framework, res, dept, start=dept, only={framework.index_code})
    result.department_scores = dept
    _rank_departments(result, rank_desc)


def _rank_departments(result: EvaluationResult, rank: Ranker) -> None:
    """Department ranks overall and within peer groups, from the department scores; a
    department scored on fewer categories than `min_categories` keeps its category ranks
    but has no overall (index) rank."""
    dept = result.department_scores
    assert dept is not None
    ranked = dept.copy()
    idx = result.index_code
    ranked[idx] = dept[idx].where(result.ranked_overall("department"))
    result.department_ranks = rank(ranked)
    groups = result.units["department"].astype(str)
    peers = result.units["peer_group"].groupby(groups).first().reindex(dept.index)
    if peers.notna().any():
        filled = peers.fillna("(none)").astype(str)
        result.peer_ranks = ranked.groupby(filled, group_keys=False).apply(rank).reindex(dept.index)


def reranked(result: EvaluationResult, rank: Ranker, *, by_kind: bool = True) -> EvaluationResult:
    """A copy of `result` with every rank (units, departments, peer groups) recomputed from its
    scores by `rank`: e.g. `evaluation.rank.rank_exact`, the rule of runs stored before the tie
    tolerance, and `by_kind=False`, objects ranked all together as before ranking within
    kind, to check an older run's results hash."""
    has_departments = result.department_scores is not None
    out = replace(result, ranks=_unit_ranks(result, rank, by_kind=by_kind, rule=not has_departments))
    if has_departments:
        _rank_departments(out, rank)
    return out


# the ranking rules of runs stored by earlier versions, newest first: (what it was, rank, by_kind)
OLDER_RANKINGS: tuple[tuple[str, Ranker, bool], ...] = (
    ("objects ranked all together, the rule before ranking within kind", rank_desc, False),
    ("ranks by exact equality of scores, the rule before the tie tolerance", rank_exact, False),
)


def older_rankings(result: EvaluationResult) -> Iterator[tuple[str, EvaluationResult]]:
    """`result` reranked by each earlier ranking rule (`OLDER_RANKINGS`), with what the rule
    was: a stored run or bundle whose results hash matches one of them still verifies."""
    for note, rank, by_kind in OLDER_RANKINGS:
        yield note, reranked(result, rank, by_kind=by_kind)


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
    absent = [col for col in UNIT_COLUMNS if col not in out]
    if absent:
        out = out.assign(**dict.fromkeys(absent))
    return out


def _history_frame(h: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    wide = _str_index(to_wide(h))
    present = [c for c in codes if c in wide.columns]
    return _numeric(wide, present).reindex(columns=codes)
