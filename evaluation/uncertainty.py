"""Uncertainty and sensitivity analysis of the ranking: `monte_carlo(...) -> UncertaintyResult`.

Pure (DataFrames in, DataFrames out). The uncertain inputs, sampled independently:

- **weights**: every aggregate's weights (as used in the nominal evaluation) times
  1 + U(−noise, +noise), each weight on its own; the weights of one aggregate form one
  input of the sensitivity analysis (`weights:<code>`);
- **normalisation**: one of the given alternatives, uniformly, applied to every indicator;
- **aggregation**: one of the given alternatives, uniformly, applied to every aggregate;
- **imputation**: one of the given alternatives, uniformly, applied to every indicator;
- **ratings**: one posterior draw of the rating-derived indicators (sampling error of the
  citizen ratings; see `surveys.uncertainty`), uniformly among the draws given.

An input without alternatives stays at its nominal value. OECD/JRC Handbook on
Constructing Composite Indicators (2008), step 7; Saisana, Saltelli & Tarantola (2005),
J. R. Stat. Soc. A 168: 307–323 (uncertainty and sensitivity analysis of composite
indicators); COINr `get_sensitivity`.

Vectorised: every (imputation, normalisation) alternative is computed once by the engine;
a chunk of replications gathers its normalised tables into one replications × units ×
indicators array, applies its sampled weights to the stacked children of each aggregate
(`einsum`), aggregates bottom-up with array operations, rolls objects up to departments
with a group-mean matrix and ranks along the units axis. The loop is over aggregates,
alternatives and chunks of replications, never over single replications.

Variance-based sensitivity (first-order and total-order indices of each input on each
entity's index score and rank) uses the radial "pick-freeze" design of Saltelli et al.
(2010), Comput. Phys. Commun. 181: 259–270: two independent sample matrices A and B and,
for every input g, A with g's columns taken from B (A_B^g). First order (Saltelli et al.
2010, table 2 (b)): S_g = mean(f(B) · (f(A_B^g) − f(A))) / V; total order (Jansen 1999,
Comput. Phys. Commun. 117: 35–43): S_Tg = mean((f(A) − f(A_B^g))²) / (2V); V the variance
of f over A and B.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from egov.errors import EgovError
from evaluation.engine import EvaluationResult, _normalise, _Resolver, evaluate
from evaluation.registry import check_stage
from evaluation.spec import EvaluationSpec
from evaluation.weights import weigh
from indicators.framework import Framework

__all__ = [
    "POSITIVE_PRESETS",
    "UncertaintyResult",
    "monte_carlo",
    "parse_alternatives",
    "resolve_alternative",
    "sobol_indices",
    "tiers",
]

# A bare "minmax" / "zscore" among the alternatives means COINr's sensitivity-analysis
# settings, on a strictly positive scale so that the geometric mean is defined:
# minmax to [1, 100], z-scores with mean 10 and sd 2 (COINr vignette "Sensitivity
# analysis", `get_sensitivity` example). Give parameters to choose others.
POSITIVE_PRESETS: dict[str, dict[str, Any]] = {
    "minmax": {"method": "minmax", "lower": 1.0, "upper": 100.0},
    "zscore": {"method": "zscore", "mean": 10.0, "sd": 2.0},
}
VECTOR_NORMALISERS = (
    "minmax",
    "zscore",
    "rank",
    "percentile",
    "goalposts",
    "distance_to_max",
    "distance_to_target",
    "fraction_of_max",
    "none",
)
VECTOR_AGGREGATORS = ("arithmetic", "geometric", "harmonic", "generalised")
ROUND = 9  # scores equal to 9 decimals rank as ties (the engine's and this module's sums differ in order)
# alternatives applied to every indicator in one array operation (indicators as rows)
WHOLE_TABLE = ("minmax", "zscore", "rank", "percentile", "distance_to_max", "fraction_of_max", "none")
CHUNK_CELLS = 4_000_000  # replications × units × indicators per chunk (about 32 MB a float array)


# ----------------------------------------------------------------------------------------
def resolve_alternative(stage: str, value: Any) -> dict[str, Any]:
    """A method alternative (a name or a table) in canonical form; a bare `minmax` or
    `zscore` normalisation means the positive preset (see POSITIVE_PRESETS)."""
    if stage == "normalisation" and isinstance(value, str) and value in POSITIVE_PRESETS:
        return dict(POSITIVE_PRESETS[value])
    spec, problems = check_stage(stage, value)
    if spec is None:
        raise EgovError(
            f"{stage} alternative {value!r} is not valid", [f"{k}: {m}" if k else m for k, m in problems]
        )
    return spec


def parse_alternatives(stage: str, text: str) -> list[dict[str, Any]]:
    """Alternatives written on a command line: `name[:key=value]...`, separated by commas,
    e.g. `minmax,zscore:mean=10:sd=2,rank` (empty text: none)."""
    out: list[dict[str, Any]] = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        name, *pairs = item.split(":")
        if not pairs:
            out.append(resolve_alternative(stage, name))
            continue
        table: dict[str, Any] = {"method": name}
        for pair in pairs:
            key, sep, raw = pair.partition("=")
            if not sep:
                raise EgovError(f"{stage} alternative {item!r}: write parameters as key=value")
            table[key] = _literal(raw)
        out.append(resolve_alternative(stage, table))
    return out


def _literal(raw: str) -> Any:
    low = raw.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw.strip()


def label(spec: dict[str, Any] | None) -> str:
    """`zscore(mean=10, sd=2)`; `nominal` for None."""
    if spec is None:
        return "nominal"
    params = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in spec.items() if k != "method"
    )
    return f"{spec['method']}({params})" if params else str(spec["method"])


# ----------------------------------------------------------------------------------------
@dataclass
class UncertaintyResult:
    """What `monte_carlo` found. Entities are departments (or units when there are none)."""

    entity_type: str  # "department" or "unit"
    summary: pd.DataFrame  # per entity: nominal_score, nominal_rank, median_rank, rank_p05, rank_p95, mean_shift, score_p05, score_p95, tier
    prob_above: pd.DataFrame  # entity × entity: P(row ranks above column)
    ranks: pd.DataFrame  # replications × entities
    scores: pd.DataFrame  # replications × entities (index score)
    samples: (
        pd.DataFrame
    )  # per replication: index into `alternatives` of each input (0 = nominal), rating draw (-1 = none)
    weights: dict[str, pd.DataFrame]  # aggregate → replications × children: the weights used
    alternatives: dict[str, list[dict[str, Any] | None]]  # stage → [None (nominal), alternative, …]
    sensitivity: (
        pd.DataFrame
    )  # per input: first_order, total_order (rank); first_order_score, total_order_score
    sensitivity_by_entity: pd.DataFrame  # long: entity, input, target (score|rank), first_order, total_order
    nominal_vectorised: pd.Series  # the index score of the nominal configuration by the vectorised path
    confidence: float
    settings: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def prob_tie(self) -> pd.DataFrame:
        """P(neither ranks above the other): equal scores, or one of them not scored."""
        p = self.prob_above.to_numpy()
        out = 1.0 - p - p.T
        np.fill_diagonal(out, 1.0)
        return pd.DataFrame(out, index=self.prob_above.index, columns=self.prob_above.columns)

    def table(self) -> pd.DataFrame:
        """The summary ordered by nominal rank."""
        return self.summary.sort_values(["nominal_rank", "median_rank"], na_position="last", kind="mergesort")


def tiers(prob_above: pd.DataFrame, nominal_rank: pd.Series, confidence: float) -> pd.Series:
    """Tiers of entities that cannot be told apart: in nominal rank order, an entity joins
    the tier of the one before it unless P(previous ranks above it) >= confidence. Tier 1 is
    the best; entities without a nominal rank get no tier."""
    order = nominal_rank.dropna().sort_values(kind="mergesort").index
    out = pd.Series(np.nan, index=nominal_rank.index, dtype=float)
    tier, prev = 0, None
    for entity in order:
        if prev is None or float(prob_above.loc[prev, entity]) >= confidence:
            tier += 1
        out[entity] = tier
        prev = entity
    return out


# ----------------------------------------------------------------------------------------
@dataclass
class _Aggregate:
    code: str
    children: list[str]
    weights: np.ndarray  # nominal weights as used
    specs: list[dict[str, Any]]  # per aggregation alternative (0 = nominal)
    coverage: float
    offset: int  # first column of its weights in the multiplier array


class _Model:
    """The pipeline from treated values to index scores, for arrays of configurations."""

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
        res = _Resolver(framework, spec)
        self.units = nominal.normalised.index
        self.codes = list(nominal.normalised.columns)
        col = {c: i for i, c in enumerate(self.codes)}
        u_n, i_n = len(self.units), len(self.codes)
        # normalise every (imputation, normalisation) alternative once, with the engine itself
        self.N = np.empty((len(treated), len(norm_alts), u_n, i_n))
        self.draw_specs: list[list[dict[str, Any]]] = []
        dirs = np.array([framework.nodes[c].direction for c in self.codes], dtype=float)[:, None]
        for j, alt in enumerate(norm_alts):
            r = res if alt is None else _Resolver(framework, _override(spec, "normalisation", alt))
            self.draw_specs.append([_norm_spec(framework, r, c) for c in draw_codes])
            for k, t in enumerate(treated):
                if alt is not None and alt["method"] in WHOLE_TABLE:  # one array operation for all indicators
                    x = t.reindex(index=self.units, columns=self.codes).to_numpy(dtype=float).T
                    self.N[k, j] = _normalise_rows(x, alt, dirs, "every indicator").T
                    continue
                z = nominal.normalised if k == 0 and j == 0 else _normalise(framework, r, t, [])
                self.N[k, j] = z.reindex(index=self.units, columns=self.codes).to_numpy(dtype=float)
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
        self.aggs: list[_Aggregate] = []
        offset = 0
        for node in aggs:
            w = nominal.weights[node.code].reindex(list(node.children)).to_numpy(dtype=float)
            self.aggs.append(self._aggregate(res, node.code, w, agg_alts, offset))
            offset += len(node.children)
        self.weight_slices = {a.code: slice(a.offset, a.offset + len(a.children)) for a in self.aggs}
        if by_department:
            assert nominal.department_scores is not None
            node = framework.index
            children = list(node.children)
            written = pd.Series({c: framework.nodes[c].weight for c in children}, dtype=float)
            dept_w = weigh(nominal.department_scores[children], written, res.aggregate(index, "weighting"))
            w = dept_w.reindex(children).to_numpy(dtype=float)
            # the department index shares its weights input with the object-level one
            self.index_agg = self._aggregate(res, index, w, agg_alts, offset)
            self.weight_slices[index] = slice(offset, offset + len(children))
            offset += len(children)
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
                from evaluation.aggregate import _volume_weights

                vol = _volume_weights(nominal.scores, units.get("volume", None))
                weight = vol.to_numpy(dtype=float)
            self.member_weight = weight[self.order]
            self.members = [np.flatnonzero(codes == d) for d in range(len(self.entities))]
        else:
            self.entities = pd.Index(self.units)
        self.n_weights = offset

    def _aggregate(
        self, res: _Resolver, code: str, w: np.ndarray, agg_alts: list[dict[str, Any] | None], offset: int
    ) -> _Aggregate:
        specs = [res.aggregate(code, "aggregation") if a is None else dict(a) for a in agg_alts]
        for s in specs:
            if s["method"] not in VECTOR_AGGREGATORS:
                raise EgovError(
                    f"aggregation '{s['method']}' of '{code}' is not supported in the Monte Carlo "
                    f"(supported: {', '.join(VECTOR_AGGREGATORS)})"
                )
        return _Aggregate(code, list(self.fw.nodes[code].children), w, specs, res.coverage(code), offset)

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
                z[rows[sel], :, col] = _normalise_rows(
                    x[sel, :, m], spec, self.directions[m], self.draw_codes[m]
                )

    def _combine(
        self, agg: _Aggregate, vals: dict[str, np.ndarray], a: np.ndarray, mult: np.ndarray
    ) -> np.ndarray:
        v = np.stack([vals[c] for c in agg.children], axis=2)  # (R, U, C)
        w = agg.weights[None, :] * mult[:, agg.offset : agg.offset + len(agg.children)]  # (R, C)
        present = ~np.isnan(v)
        out = np.empty(v.shape[:2])
        for m in np.unique(a):
            sel = a == m
            out[sel] = _aggregate_rows(v[sel], w[sel], present[sel], agg.specs[m], agg.code)
        if agg.coverage > 0:
            share = present.sum(axis=2) / len(agg.children)
            out = np.where(share >= agg.coverage - 1e-12, out, np.nan)
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


def _override(spec: EvaluationSpec, stage: str, alt: dict[str, Any]) -> EvaluationSpec:
    """The spec with `alt` for `stage` on every indicator or aggregate."""
    indicators = {c: {k: v for k, v in t.items() if k != stage} for c, t in spec.indicators.items()}
    aggregates = {c: {k: v for k, v in t.items() if k != stage} for c, t in spec.aggregates.items()}
    return EvaluationSpec(
        methods={**spec.methods, stage: dict(alt)}, indicators=indicators, aggregates=aggregates
    )


def _norm_spec(framework: Framework, res: _Resolver, code: str) -> dict[str, Any]:
    spec = res.indicator(code, "normalisation")
    if spec["method"] not in VECTOR_NORMALISERS:
        raise EgovError(
            f"indicator '{code}': normalisation '{spec['method']}' is not supported for rating draws "
            f"(supported: {', '.join(VECTOR_NORMALISERS)})"
        )
    if spec["method"] == "distance_to_target" and spec.get("target") is None:
        spec["target"] = framework.nodes[code].target
    return spec


def _normalise_rows(
    x: np.ndarray, spec: dict[str, Any], direction: int | np.ndarray, code: str
) -> np.ndarray:
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


def _aggregate_rows(
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


def _rank_rows(scores: np.ndarray) -> np.ndarray:
    """Ranks along axis 1: 1 = best, ties the lowest rank, missing not ranked (as
    evaluation.rank.rank_desc), on scores rounded to ROUND decimals."""
    return np.asarray(
        rankdata(-np.round(scores, ROUND), method="min", axis=1, nan_policy="omit"), dtype=float
    )


# ----------------------------------------------------------------------------------------
def monte_carlo(
    data: pd.DataFrame,
    framework: Framework,
    spec: EvaluationSpec | None = None,
    units: pd.DataFrame | None = None,
    *,
    n: int = 1000,
    seed: int = 1,
    weight_noise: float = 0.25,
    normalisations: Sequence[Any] = (),
    aggregations: Sequence[Any] = (),
    imputations: Sequence[Any] = (),
    rating_draws: pd.DataFrame | None = None,
    level: str = "department",
    confidence: float = 0.95,
    sensitivity_n: int | None = None,
    supplied: pd.DataFrame | None = None,
    history: list[pd.DataFrame] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> UncertaintyResult:
    """Monte Carlo uncertainty analysis of the ranking, and variance-based sensitivity.

    data, framework, spec, units, supplied, history: as for `evaluate` (the nominal run).
    n: replications for the rank statistics. weight_noise: relative noise on every weight
    (uniform ±). normalisations / aggregations / imputations: alternatives (method names or
    tables, see `resolve_alternative`), sampled uniformly. rating_draws: posterior draws of
    rating-derived indicators, index = draw, columns = (indicator, unit) MultiIndex (see
    `surveys.uncertainty.indicator_draws`); a draw replaces the indicator's value after
    imputation and treatment, where the nominal data has one. level: "department" (when
    the units have departments) or "unit". confidence: for the tiers. sensitivity_n:
    base sample of the sensitivity analysis (default n; 0 skips it; it costs
    sensitivity_n × (inputs + 2) more model runs). progress(done, total) after each chunk.
    """
    if n < 2:
        raise EgovError("the Monte Carlo needs at least 2 replications (n)")
    if not 0 <= weight_noise < 1:
        raise EgovError(f"weight noise {weight_noise:g} must be in [0, 1)")
    if not 0.5 <= confidence < 1:
        raise EgovError(f"confidence {confidence:g} must be in [0.5, 1)")
    if level not in ("department", "unit"):
        raise EgovError(f"level {level!r}: use 'department' or 'unit'")
    spec = spec or EvaluationSpec()
    norm_alts: list[dict[str, Any] | None] = [
        None,
        *(resolve_alternative("normalisation", v) for v in normalisations),
    ]
    agg_alts: list[dict[str, Any] | None] = [
        None,
        *(resolve_alternative("aggregation", v) for v in aggregations),
    ]
    imp_alts: list[dict[str, Any] | None] = [
        None,
        *(resolve_alternative("imputation", v) for v in imputations),
    ]

    nominal = evaluate(data, framework, spec, units, supplied=supplied, history=history)
    notes = list(nominal.warnings)
    treated = [nominal.treated]
    for alt in imp_alts[1:]:
        assert alt is not None
        r = evaluate(
            data, framework, _override(spec, "imputation", alt), units, supplied=supplied, history=history
        )
        treated.append(r.treated.reindex(index=nominal.treated.index))
    by_department = level == "department" and nominal.department_scores is not None

    draws, draw_codes = _draw_array(rating_draws, framework, nominal)
    model = _Model(framework, spec, nominal, treated, norm_alts, agg_alts, draws, draw_codes, by_department)
    n_draws = 0 if draws is None else draws.shape[0]

    # inputs: (name, sampler); a sampler gives the input's columns of the design
    rng = np.random.default_rng(seed)
    ns = n if sensitivity_n is None else int(sensitivity_n)
    base = max(n, ns)

    def sample(size: int) -> dict[str, np.ndarray]:
        def choice(count: int) -> np.ndarray:
            return rng.integers(1, count, size) if count > 1 else np.zeros(size, dtype=int)

        return {
            "imputation": choice(len(imp_alts)),
            "normalisation": choice(len(norm_alts)),
            "aggregation": choice(len(agg_alts)),
            "ratings": rng.integers(0, n_draws, size) if n_draws else np.full(size, -1),
            "weights": rng.uniform(1 - weight_noise, 1 + weight_noise, (size, model.n_weights)),
        }

    A = sample(base)
    groups: list[tuple[str, Any]] = []  # (input name, which part of the design)
    if len(imp_alts) > 1:
        groups.append(("imputation", "imputation"))
    if len(norm_alts) > 1:
        groups.append(("normalisation", "normalisation"))
    if len(agg_alts) > 1:
        groups.append(("aggregation", "aggregation"))
    if n_draws:
        groups.append(("ratings", "ratings"))
    if weight_noise > 0:
        groups += [(f"weights:{code}", sl) for code, sl in model.weight_slices.items()]
    do_sensitivity = ns >= 2 and bool(groups)
    designs = [_head(A, n)]
    if do_sensitivity:
        B = sample(ns)
        An = _head(A, ns)
        designs.append(B)
        for _, part in groups:
            ab = {k: v.copy() for k, v in An.items()}
            if isinstance(part, str):
                ab[part] = B[part].copy()
            else:
                ab["weights"][:, part] = B["weights"][:, part]
            designs.append(ab)
    design = {k: np.concatenate([d[k] for d in designs]) for k in A}
    total = len(design["imputation"])

    # run every configuration, in chunks of replications
    per = max(1, CHUNK_CELLS // max(1, len(model.units) * len(model.codes)))
    out = np.empty((total, len(model.entities)))
    for start in range(0, total, per):
        stop = min(total, start + per)
        out[start:stop] = model.scores(
            design["imputation"][start:stop],
            design["normalisation"][start:stop],
            design["aggregation"][start:stop],
            design["ratings"][start:stop],
            design["weights"][start:stop],
        )
        if progress is not None:
            progress(stop, total)
    ranks_all = _rank_rows(out)

    # nominal: from the engine, and the vectorised path at the nominal configuration
    zero = np.zeros(1, dtype=int)
    nom_vec = model.scores(zero, zero, zero, np.full(1, -1), np.ones((1, model.n_weights)))[0]
    if by_department:
        assert nominal.department_scores is not None and nominal.department_ranks is not None
        nom_score = nominal.department_scores[framework.index_code].reindex(model.entities)
        nom_rank = nominal.department_ranks[framework.index_code].reindex(model.entities)
    else:
        nom_score = nominal.scores[framework.index_code].reindex(model.entities)
        nom_rank = nominal.ranks[framework.index_code].reindex(model.entities)
    diff = np.nanmax(np.abs(nom_vec - nom_score.to_numpy()), initial=0.0)
    scale = max(1.0, float(np.nanmax(np.abs(nom_score.to_numpy()), initial=0.0)))
    if diff > 1e-9 * scale or not np.array_equal(np.isnan(nom_vec), nom_score.isna().to_numpy()):
        notes.append(f"the vectorised nominal scores differ from the engine's by up to {diff:.3g}")

    scores_mc, ranks_mc = out[:n], ranks_all[:n]
    entities = model.entities
    summary = _summary(scores_mc, ranks_mc, nom_score, nom_rank, entities)
    prob = _prob_above(ranks_mc, entities)
    summary["tier"] = tiers(prob, summary["nominal_rank"], confidence)

    if do_sensitivity:
        names = [g for g, _ in groups]
        sens, by_entity = _sobol(out, ranks_all, n, ns, names, entities)
    else:
        sens = pd.DataFrame(columns=["first_order", "total_order", "first_order_score", "total_order_score"])
        by_entity = pd.DataFrame(columns=["entity", "input", "target", "first_order", "total_order"])

    samples = pd.DataFrame(
        {
            "imputation": A["imputation"][:n],
            "normalisation": A["normalisation"][:n],
            "aggregation": A["aggregation"][:n],
            "rating_draw": A["ratings"][:n],
        }
    )
    weights_used: dict[str, pd.DataFrame] = {}
    for agg in [*model.aggs, *([model.index_agg] if by_department else [])]:
        sl = model.weight_slices[agg.code]
        weights_used[agg.code] = pd.DataFrame(
            agg.weights[None, :] * A["weights"][:n, sl], columns=agg.children
        )
    return UncertaintyResult(
        entity_type="department" if by_department else "unit",
        summary=summary,
        prob_above=prob,
        ranks=pd.DataFrame(ranks_mc, columns=entities),
        scores=pd.DataFrame(scores_mc, columns=entities),
        samples=samples,
        weights=weights_used,
        alternatives={"normalisation": norm_alts, "aggregation": agg_alts, "imputation": imp_alts},
        sensitivity=sens,
        sensitivity_by_entity=by_entity,
        nominal_vectorised=pd.Series(nom_vec, index=entities),
        confidence=confidence,
        settings={
            "n": n,
            "seed": seed,
            "weight_noise": weight_noise,
            "normalisations": [label(a) for a in norm_alts[1:]],
            "aggregations": [label(a) for a in agg_alts[1:]],
            "imputations": [label(a) for a in imp_alts[1:]],
            "rating_draws": n_draws,
            "sensitivity_n": ns if do_sensitivity else 0,
            "model_runs": total,
        },
        warnings=notes,
    )


def _head(d: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    return {k: v[:size] for k, v in d.items()}


def _draw_array(
    rating_draws: pd.DataFrame | None, framework: Framework, nominal: EvaluationResult
) -> tuple[np.ndarray | None, list[str]]:
    """(D, U, Id) drawn values aligned to the nominal units, NaN where there is no draw or
    the nominal data has no value (not applicable, insufficient ratings)."""
    if rating_draws is None or rating_draws.empty:
        return None, []
    if not isinstance(rating_draws.columns, pd.MultiIndex) or rating_draws.columns.nlevels != 2:
        raise EgovError("rating draws need (indicator, unit) columns")
    codes = [c for c in framework.indicator_codes if c in set(rating_draws.columns.get_level_values(0))]
    unknown = set(rating_draws.columns.get_level_values(0)) - set(framework.indicator_codes)
    if unknown:
        raise EgovError(
            f"rating draws for indicators not in the framework: {', '.join(sorted(map(str, unknown)))}"
        )
    units = nominal.normalised.index
    out = np.full((len(rating_draws), len(units), len(codes)), np.nan)
    for m, code in enumerate(codes):
        block = pd.DataFrame(rating_draws[code]).copy()
        block.columns = block.columns.map(str)
        vals = block.reindex(columns=units).to_numpy(dtype=float)
        has = nominal.raw[code].reindex(units).notna().to_numpy()  # drawn where the data has a value
        out[:, :, m] = np.where(has[None, :], vals, np.nan)
    return out, codes


def _summary(
    scores: np.ndarray, ranks: np.ndarray, nom_score: pd.Series, nom_rank: pd.Series, entities: pd.Index
) -> pd.DataFrame:
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", RuntimeWarning)  # entities never scored
        q = np.nanquantile(ranks, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
        sq = np.nanquantile(scores, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
        shift = np.nanmean(np.abs(ranks - nom_rank.to_numpy()[None, :]), axis=0)
    return pd.DataFrame(
        {
            "nominal_score": nom_score.to_numpy(),
            "nominal_rank": nom_rank.to_numpy(),
            "median_rank": q[1],
            "rank_p05": q[0],
            "rank_p95": q[2],
            "mean_shift": shift,
            "score_p05": sq[0],
            "median_score": sq[1],
            "score_p95": sq[2],
        },
        index=pd.Index(entities, name="entity"),
    )


def _prob_above(ranks: np.ndarray, entities: pd.Index) -> pd.DataFrame:
    """P(row ranks above column) = share of replications where its rank number is lower;
    pairs with a missing rank count for neither. O(entities² × replications), in blocks of
    rows over contiguous (entity, replication) integer ranks."""
    e, r = ranks.shape[1], ranks.shape[0]
    dtype = np.int16 if e < 32_000 else np.int32
    big = np.iinfo(dtype).max
    # a missing rank is never above (big) and nothing is above it (0)
    as_row = np.ascontiguousarray(np.where(np.isnan(ranks), big, ranks).T.astype(dtype))
    as_col = np.ascontiguousarray(np.where(np.isnan(ranks), 0, ranks).T.astype(dtype))
    counts = np.empty((e, e), dtype=np.int64)
    block = max(1, int(2e7 // max(1, r * e)))
    for s in range(0, e, block):
        counts[s : s + block] = np.count_nonzero(as_row[s : s + block, None, :] < as_col[None, :, :], axis=2)
    return pd.DataFrame(counts / r, index=entities, columns=entities)


def sobol_indices(
    f_a: np.ndarray, f_b: np.ndarray, f_ab: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Variance-based sensitivity indices from a pick-freeze design.

    f_a, f_b: outputs (N, E) of the sample matrices A and B; f_ab[g]: outputs (N, E) of A
    with input g's columns taken from B. Returns the numerators of the first-order
    (Saltelli et al. 2010, table 2 (b)) and total-order (Jansen 1999) indices, each (G, E),
    and the output variance V (E,) over A and B, NaN where an output does not vary:
    S_g = first[g] / V, S_Tg = total[g] / V. Missing outputs are skipped.
    """
    with np.errstate(invalid="ignore", divide="ignore"), _warnings.catch_warnings():
        _warnings.simplefilter("ignore", RuntimeWarning)
        var = np.nanvar(np.concatenate([f_a, f_b]), axis=0)
        var = np.where(var > 1e-12, var, np.nan)  # an output that never moves has no indices
        first = np.stack([np.nanmean(f_b * (ab - f_a), axis=0) for ab in f_ab])  # Saltelli et al. (2010)
        total = np.stack([np.nanmean((f_a - ab) ** 2, axis=0) / 2 for ab in f_ab])  # Jansen (1999)
    return first, total, var


def _sobol(
    scores: np.ndarray, ranks: np.ndarray, n: int, ns: int, names: list[str], entities: pd.Index
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Indices of every input on every entity's score and rank, from the outputs of the
    design [A (n rows; the first ns used), B, A_B^1, …, A_B^G] (ns rows each), and averaged
    over the entities weighted by their variance (the share of the summed variance of all
    entities' outputs; stable where one entity barely moves)."""
    rows: list[pd.DataFrame] = []
    averaged: dict[str, pd.Series] = {}
    for target, y in (("score", scores), ("rank", ranks)):
        f_ab = [y[n + ns * (g + 1) : n + ns * (g + 2)] for g in range(len(names))]
        first_num, total_num, var = sobol_indices(y[:ns], y[n : n + ns], f_ab)
        moving = np.isfinite(var)
        v_sum = float(var[moving].sum()) if moving.any() else np.nan
        suffix = "" if target == "rank" else "_score"
        averaged[f"first_order{suffix}"] = pd.Series(first_num[:, moving].sum(axis=1) / v_sum, index=names)
        averaged[f"total_order{suffix}"] = pd.Series(total_num[:, moving].sum(axis=1) / v_sum, index=names)
        rows.append(
            pd.DataFrame(
                {
                    "entity": np.tile(np.asarray(entities), len(names)),
                    "input": np.repeat(names, len(entities)),
                    "target": target,
                    "first_order": (first_num / var).ravel(),
                    "total_order": (total_num / var).ravel(),
                }
            )
        )
    sens = pd.DataFrame(averaged)[["first_order", "total_order", "first_order_score", "total_order_score"]]
    sens.index.name = "input"
    by_entity = pd.concat(rows, ignore_index=True)
    return sens.sort_values("total_order", ascending=False, kind="mergesort"), by_entity
