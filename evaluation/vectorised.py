"""The vectorised pipeline of the Monte Carlo (`evaluation.uncertainty`): from treated
values to index scores for arrays of configurations.

Every (imputation, normalisation) alternative is computed once by the engine's stages
(`evaluation.stages`); a chunk of replications gathers its normalised tables into one
replications × units × indicators array, applies its sampled weights to the stacked
children of each aggregate (`einsum`), aggregates bottom-up with array operations, rolls
objects up to departments with a group-mean matrix and ranks along the units axis. The
loop is over aggregates, alternatives and chunks of replications, never over single
replications. The array normalisers and aggregators repeat the engine's formulas
(`evaluation.normalise`, `evaluation.aggregate`) along an axis; `monte_carlo` checks that
the nominal configuration gives the engine's scores.

Pure: arrays and DataFrames in and out; no database, file or HTTP access.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from egov.errors import EgovError
from evaluation.aggregate import volume_weights
from evaluation.alternatives import needs_positive
from evaluation.engine import EvaluationResult
from evaluation.rank import tie_key
from evaluation.spec import EvaluationSpec
from evaluation.stages import StageResolver, meets_coverage, node_weights, normalise_table, override_spec
from indicators.framework import Framework

__all__ = [
    "VECTOR_AGGREGATORS",
    "VECTOR_NORMALISERS",
    "WHOLE_TABLE",
    "VectorAggregate",
    "VectorModel",
    "aggregate_rows",
    "draw_normalisation",
    "normalise_rows",
    "rank_rows",
]

VECTOR_NORMALISERS = (
    "minmax",
    "zscore",
    "rank",
    "percentile",
    "goalposts",
    "target_band",
    "distance_to_max",
    "distance_to_target",
    "fraction_of_max",
    "none",
)
VECTOR_AGGREGATORS = ("arithmetic", "geometric", "harmonic", "generalised")
# alternatives applied to every indicator in one array operation (indicators as rows)
WHOLE_TABLE = ("minmax", "zscore", "rank", "percentile", "distance_to_max", "fraction_of_max", "none")


@dataclass
class VectorAggregate:
    """One aggregate of the vectorised model: its children, nominal weights, the
    aggregation of each alternative and its coverage threshold."""

    code: str
    children: list[str]
    weights: np.ndarray  # nominal weights as used
    specs: list[dict[str, Any]]  # per aggregation alternative (0 = nominal)
    coverage: float
    offset: int  # first column of its weights in the multiplier array


class VectorModel:
    """The pipeline from treated values to index scores, for arrays of configurations
    (see the module docstring)."""

    def __init__(
        self,
        framework: Framework,
        spec: EvaluationSpec,
        nominal: EvaluationResult,
        treated: list[pd.DataFrame],
        norm_alts: list[dict[str, Any] | None],
        agg_alts: list[dict[str, Any] | None],
        draws: np.ndarray | None,  # (D, U, Id) drawn treated values (NaN: not drawn)
        draw_codes: list[str],
        by_department: bool,
    ) -> None:
        self.fw = framework
        res = StageResolver(framework, spec)
        self.units = nominal.normalised.index
        self.codes = list(nominal.normalised.columns)
        self.N = self._normalised(res, spec, nominal, treated, norm_alts, draw_codes)
        col = {c: i for i, c in enumerate(self.codes)}
        self.draw_cols = [col[c] for c in draw_codes]
        self.draw_codes = draw_codes
        self.directions = [framework.nodes[c].direction for c in draw_codes]
        self.treated_draw = np.stack(
            [t.reindex(index=self.units, columns=draw_codes).to_numpy(dtype=float) for t in treated]
        )  # (K, U, Id)
        self.draws = draws
        self.by_department = by_department
        index = framework.index_code
        aggs = [n for n in framework.aggregates_bottom_up() if not (by_department and n.code == index)]
        self.aggs: list[VectorAggregate] = []
        offset = 0
        for node in aggs:
            w = nominal.weights[node.code].reindex(list(node.children)).to_numpy(dtype=float)
            self.aggs.append(self._aggregate(res, node.code, w, agg_alts, offset))
            offset += len(node.children)
        self.weight_slices = {a.code: slice(a.offset, a.offset + len(a.children)) for a in self.aggs}
        if by_department:
            children = list(framework.index.children)
            assert nominal.department_scores is not None
            w = node_weights(framework, res, index, nominal.department_scores[children]).to_numpy(dtype=float)
            # the department index shares its weights input with the object-level one
            self.index_agg = self._aggregate(res, index, w, agg_alts, offset)
            self.weight_slices[index] = slice(offset, offset + len(children))
            offset += len(children)
            self._departments(res, nominal)
        else:
            self.entities = pd.Index(self.units)
        self.n_weights = offset

    def _normalised(
        self,
        res: StageResolver,
        spec: EvaluationSpec,
        nominal: EvaluationResult,
        treated: list[pd.DataFrame],
        norm_alts: list[dict[str, Any] | None],
        draw_codes: list[str],
    ) -> np.ndarray:
        """(K imputations, J normalisations, U, I): every (imputation, normalisation)
        alternative normalised once, with the engine itself; sets `draw_specs`."""
        framework = self.fw
        out = np.empty((len(treated), len(norm_alts), len(self.units), len(self.codes)))
        self.draw_specs: list[list[dict[str, Any]]] = []
        dirs = np.array([framework.nodes[c].direction for c in self.codes], dtype=float)[:, None]
        for j, alt in enumerate(norm_alts):
            r = res if alt is None else StageResolver(framework, override_spec(spec, "normalisation", alt))
            self.draw_specs.append([draw_normalisation(framework, r, c) for c in draw_codes])
            for k, t in enumerate(treated):
                if alt is not None and alt["method"] in WHOLE_TABLE:  # one array operation for all indicators
                    x = t.reindex(index=self.units, columns=self.codes).to_numpy(dtype=float).T
                    out[k, j] = normalise_rows(x, alt, dirs, "every indicator").T
                    continue
                z = nominal.normalised if k == 0 and j == 0 else normalise_table(framework, r, t, [])
                out[k, j] = z.reindex(index=self.units, columns=self.codes).to_numpy(dtype=float)
        return out

    def _departments(self, res: StageResolver, nominal: EvaluationResult) -> None:
        """The departments (entities) and how objects roll up to them: objects grouped by
        department, and each object's weight in the roll-up."""
        units = nominal.units
        groups = units["department"].astype(str)
        self.entities = pd.Index(sorted(groups.unique()))
        rspec = res.rollup()
        self.rollup = str(rspec["method"])
        codes = pd.Categorical(groups.to_numpy(), categories=self.entities).codes
        self.order = np.argsort(codes, kind="stable")  # objects grouped by department
        self.starts = np.searchsorted(codes[self.order], np.arange(len(self.entities)))
        weight = np.ones(len(groups))
        if self.rollup == "volume_weighted":
            vol = volume_weights(nominal.scores, units.get("volume", None))
            weight = vol.to_numpy(dtype=float)
        self.member_weight = weight[self.order]
        self.members = [np.flatnonzero(codes == d) for d in range(len(self.entities))]

    def _aggregate(
        self, res: StageResolver, code: str, w: np.ndarray, agg_alts: list[dict[str, Any] | None], offset: int
    ) -> VectorAggregate:
        specs = [res.aggregate(code, "aggregation") if a is None else dict(a) for a in agg_alts]
        for s in specs:
            if s["method"] not in VECTOR_AGGREGATORS:
                raise EgovError(
                    f"aggregation '{s['method']}' of '{code}' is not supported in the Monte Carlo "
                    f"(supported: {', '.join(VECTOR_AGGREGATORS)})"
                )
        return VectorAggregate(code, list(self.fw.nodes[code].children), w, specs, res.coverage(code), offset)

    def lowest(self, j: int) -> float:
        """The lowest value normalisation alternative j gives for any indicator, unit and
        imputation or treatment alternative (infinity when it gives none)."""
        v = self.N[:, j]
        present = v[~np.isnan(v)]
        return float(present.min()) if present.size else float("inf")

    def needs_positive(self, a: int) -> bool:
        """Whether aggregation alternative a needs values > 0 at some aggregate."""
        aggs = [*self.aggs, *([self.index_agg] if self.by_department else [])]
        return any(needs_positive(agg.specs[a]) for agg in aggs)

    # --- one chunk of configurations ---------------------------------------------------
    def scores(
        self, k: np.ndarray, j: np.ndarray, a: np.ndarray, d: np.ndarray, mult: np.ndarray
    ) -> np.ndarray:
        """Index scores (R, entities) of R configurations: imputation k, normalisation j,
        aggregation a, rating draw d (-1: none), weight multipliers mult (R, n_weights)."""
        z = self.N[k, j]  # (R, U, I) gathered copy
        if self.draws is not None and self.draw_cols and (d >= 0).any():
            self._redraw(z, k, j, d)
        vals: dict[str, np.ndarray] = {c: z[:, :, i] for i, c in enumerate(self.codes)}
        for agg in self.aggs:
            vals[agg.code] = self._combine(agg, vals, a, mult)
        if not self.by_department:
            out: np.ndarray = vals[self.fw.index_code]
            return out
        cats = {c: self._rollup(vals[c]) for c in self.index_agg.children}
        return self._combine(self.index_agg, cats, a, mult)

    def _redraw(self, z: np.ndarray, k: np.ndarray, j: np.ndarray, d: np.ndarray) -> None:
        assert self.draws is not None
        rows = np.flatnonzero(d >= 0)
        drawn = self.draws[d[rows]]  # (r, U, Id)
        x = np.where(np.isnan(drawn), self.treated_draw[k[rows]], drawn)
        for jj in np.unique(j[rows]):
            sel = j[rows] == jj
            for m, col in enumerate(self.draw_cols):
                spec = self.draw_specs[jj][m]
                z[rows[sel], :, col] = normalise_rows(
                    x[sel, :, m], spec, self.directions[m], self.draw_codes[m]
                )

    def _combine(
        self, agg: VectorAggregate, vals: dict[str, np.ndarray], a: np.ndarray, mult: np.ndarray
    ) -> np.ndarray:
        v = np.stack([vals[c] for c in agg.children], axis=2)  # (R, U, C)
        w = agg.weights[None, :] * mult[:, agg.offset : agg.offset + len(agg.children)]  # (R, C)
        present = ~np.isnan(v)
        out = np.empty(v.shape[:2])
        for m in np.unique(a):
            sel = a == m
            out[sel] = aggregate_rows(v[sel], w[sel], present[sel], agg.specs[m], agg.code)
        if agg.coverage > 0:
            share = present.sum(axis=2) / len(agg.children)
            out = np.where(meets_coverage(share, agg.coverage), out, np.nan)
        return out

    def _rollup(self, s: np.ndarray) -> np.ndarray:
        """Objects → departments, (R, U) → (R, D), missing scores skipped."""
        if self.rollup in ("mean", "volume_weighted"):  # group sums over contiguous departments
            x = s[:, self.order]
            present = ~np.isnan(x)
            num = np.add.reduceat(np.where(present, x, 0.0) * self.member_weight, self.starts, axis=1)
            den = np.add.reduceat(present * self.member_weight, self.starts, axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        funcs: dict[str, Callable[..., np.ndarray]] = {
            "min": np.nanmin,
            "max": np.nanmax,
            "median": np.nanmedian,
        }
        func = funcs[self.rollup]
        out = np.full((s.shape[0], len(self.members)), np.nan)
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN departments stay NaN
            for dpt, idx in enumerate(self.members):
                out[:, dpt] = func(s[:, idx], axis=1)
        return out


def draw_normalisation(framework: Framework, res: StageResolver, code: str) -> dict[str, Any]:
    """The normalisation of an indicator whose values are redrawn (rating draws), checked
    to be one the vectorised path supports, with the indicator's target filled in."""
    spec = res.indicator(code, "normalisation")
    if spec["method"] not in VECTOR_NORMALISERS:
        raise EgovError(
            f"indicator '{code}': normalisation '{spec['method']}' is not supported for rating draws "
            f"(supported: {', '.join(VECTOR_NORMALISERS)})"
        )
    if spec["method"] == "distance_to_target" and spec.get("target") is None:
        spec["target"] = framework.nodes[code].target
    return spec


def normalise_rows(x: np.ndarray, spec: dict[str, Any], direction: int | np.ndarray, code: str) -> np.ndarray:
    """The engine's normalisers (evaluation.normalise) along axis 1 of (R, U), one row per
    replication (or per indicator, with one direction per row); same formulas, NaN where
    the engine gives no value."""
    m = spec["method"]
    with np.errstate(invalid="ignore", divide="ignore"), _warnings.catch_warnings():
        _warnings.simplefilter("ignore", RuntimeWarning)
        if m == "goalposts":  # COINr n_goalposts; direction flips the goalposts
            span = spec["max"] - spec["min"]
            z = (x - spec["min"]) / span if direction > 0 else (spec["max"] - x) / span
            z = z * spec["scale"]
            return np.clip(z, 0.0, spec["scale"]) if spec["clip"] else z
        if m == "target_band":  # evaluation.normalise.target_band; direction not applied
            below = (x - spec["zero_below"]) / (spec["low"] - spec["zero_below"])
            above = (spec["zero_above"] - x) / (spec["zero_above"] - spec["high"])
            return np.clip(np.minimum(np.minimum(below, above), 1.0), 0.0, None) * spec["scale"]
        y = x * direction
        lo = np.nanmin(y, axis=1, keepdims=True)
        hi = np.nanmax(y, axis=1, keepdims=True)
        if m == "minmax":  # COINr n_minmax
            rng = hi - lo
            ok = np.isfinite(rng) & (rng != 0)
            return np.where(
                ok,
                (y - lo) / np.where(ok, rng, 1.0) * (spec["upper"] - spec["lower"]) + spec["lower"],
                np.nan,
            )
        if m == "zscore":  # COINr n_zscore, sample sd
            s = np.nanstd(y, axis=1, ddof=1, keepdims=True)
            ok = np.isfinite(s) & (s != 0)
            mean = np.nanmean(y, axis=1, keepdims=True)
            return np.where(ok, (y - mean) / np.where(ok, s, 1.0) * spec["sd"] + spec["mean"], np.nan)
        if m in ("rank", "percentile"):  # COINr n_rank / n_prank, ties "min"
            r = rankdata(y, method="min", axis=1, nan_policy="omit")
            if m == "rank":
                return np.asarray(r, dtype=float)
            n = (~np.isnan(y)).sum(axis=1, keepdims=True)
            return np.where(n >= 2, (r - 1) / np.maximum(n - 1, 1) * spec["scale"], np.nan)
        if m == "distance_to_max":  # COINr n_dist2max
            ok = np.isfinite(hi - lo) & (hi != lo)
            return np.where(ok, (1 - (hi - y) / np.where(ok, hi - lo, 1.0)) * spec["scale"], np.nan)
        if m == "fraction_of_max":  # COINr n_fracmax
            ok = np.isfinite(hi) & (hi != 0)
            return np.where(ok, y / np.where(ok, hi, 1.0) * spec["scale"], np.nan)
        if m == "distance_to_target":  # COINr n_dist2targ
            t = spec["target"] * direction
            ok = np.isfinite(lo) & (t != lo)
            z = (y - lo) / np.where(ok, t - lo, 1.0)
            if spec["cap"]:
                z = np.minimum(z, 1.0)
            return np.where(ok, z * spec["scale"], np.nan)
        if m == "none":
            return y
    raise EgovError(f"indicator '{code}': normalisation '{m}' is not supported for rating draws")


def aggregate_rows(
    v: np.ndarray, w: np.ndarray, present: np.ndarray, spec: dict[str, Any], code: str
) -> np.ndarray:
    """The engine's aggregators (evaluation.aggregate) for (R, U, C) values and (R, C)
    weights: missing children skipped, weights renormalised over the present ones."""
    m = spec["method"]
    p = float(spec.get("p", 1.0)) if m == "generalised" else None
    if m == "generalised" and p == 0:
        m = "geometric"
    wp = present * w[:, None, :]  # (R, U, C): weights of the present children
    total = wp.sum(axis=2)
    v0 = np.where(present, v, 1.0)
    if (m in ("geometric", "harmonic") or (p is not None and p < 0)) and np.any(v0 <= 0):
        raise EgovError(
            f"aggregating '{code}' ({m}) needs values > 0; normalise to a strictly positive "
            "scale (e.g. the alternative `minmax`, which is [1, 100], or `rank`)"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        if m == "arithmetic":  # OECD/JRC Handbook §6; COINr a_amean
            num = np.einsum("ruc,ruc->ru", np.where(present, v, 0.0), wp)
            return np.where(total != 0, num / np.where(total != 0, total, 1.0), np.nan)
        if m == "geometric":  # COINr a_gmean
            num = np.einsum("ruc,ruc->ru", np.log(v0), wp)
            return np.exp(np.where(total != 0, num / np.where(total != 0, total, 1.0), np.nan))
        if m == "harmonic":  # COINr a_hmean
            inv = np.einsum("ruc,ruc->ru", 1.0 / v0, wp)
            return np.where(inv != 0, total / np.where(inv != 0, inv, 1.0), np.nan)
        assert p is not None  # generalised, COINr a_genmean
        num = np.einsum("ruc,ruc->ru", np.power(v0, p), wp)
        mean = np.where(total != 0, num / np.where(total != 0, total, 1.0), np.nan)
        return np.power(mean, 1.0 / p)


def rank_rows(scores: np.ndarray) -> np.ndarray:
    """Ranks along axis 1: 1 = best, ties the lowest rank, missing not ranked (as
    evaluation.rank.rank_desc), ties by the one rule of evaluation.rank.tie_key."""
    return np.asarray(rankdata(-tie_key(scores), method="min", axis=1, nan_policy="omit"), dtype=float)
