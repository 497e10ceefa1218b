"""Uncertainty and sensitivity analysis of the ranking: `monte_carlo(...) -> UncertaintyResult`.

Pure (DataFrames in, DataFrames out). The uncertain inputs, sampled independently:

- **weights**: every aggregate's weights (as used in the nominal evaluation) times
  1 + U(−noise, +noise), each weight on its own; the weights of one aggregate form one
  input of the sensitivity analysis (`weights:<code>`);
- **normalisation**: one of the given alternatives, uniformly, applied to every indicator;
- **aggregation**: one of the given alternatives, uniformly, applied to every aggregate;
- **imputation**: one of the given alternatives, uniformly, applied to every indicator;
- **treatment**: one of the given outlier treatments, uniformly, applied to every indicator
  (e.g. COINr's winsorisation with 1–5 points, as its `get_sensitivity` example);
- **ratings**: one posterior draw of the rating-derived indicators (sampling error of the
  citizen ratings; see `surveys.uncertainty`), uniformly among the draws given.

An input without alternatives stays at its nominal value. OECD/JRC Handbook on
Constructing Composite Indicators (2008), step 7; Saisana, Saltelli & Tarantola (2005),
J. R. Stat. Soc. A 168: 307–323 (uncertainty and sensitivity analysis of composite
indicators); COINr `get_sensitivity`.

Vectorised (`evaluation.vectorised`): every (imputation, normalisation) alternative is
computed once by the engine; a chunk of replications gathers its normalised tables into
one replications × units × indicators array, applies its sampled weights to the stacked
children of each aggregate (`einsum`), aggregates bottom-up with array operations, rolls
objects up to departments with a group-mean matrix and ranks along the units axis. The
loop is over aggregates, alternatives and chunks of replications, never over single
replications.

Variance-based sensitivity (first-order and total-order indices of each input on each
entity's index score and rank; `evaluation.sensitivity`) uses the radial "pick-freeze"
design of Saltelli et al. (2010), Comput. Phys. Commun. 181: 259–270, with the
first-order estimator of Saltelli et al. (2010) and the total-order one of Jansen (1999),
Comput. Phys. Commun. 117: 35–43.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.alternatives import (
    POSITIVE_PRESETS,
    Alternatives,
    parse_alternatives,
    resolve_alternative,
    valid_alternatives,
)
from evaluation.engine import EvaluationResult, evaluate
from evaluation.sensitivity import (
    Design,
    Inputs,
    no_sensitivity,
    pick_freeze_design,
    sensitivity_tables,
)
from evaluation.spec import EvaluationSpec
from evaluation.stages import StageResolver, override_spec, treat_table
from evaluation.vectorised import VectorModel, rank_rows
from indicators.framework import Framework

__all__ = [
    "POSITIVE_PRESETS",
    "UncertaintyResult",
    "monte_carlo",
    "parse_alternatives",
    "prob_above",
    "resolve_alternative",
    "tiers",
]

CHUNK_CELLS = 4_000_000  # replications × units × indicators per chunk (about 32 MB a float array)


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
    # per entity: categories_scored, categories_total, ranked_overall (the coverage rule)
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)

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
    treatments: Sequence[Any] = (),
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
    (uniform ±). normalisations / aggregations / imputations / treatments: alternatives
    (method names or tables, see `resolve_alternative`), sampled uniformly; an alternative
    the data rules out (a normalisation giving values <= 0 where an aggregation needs
    values > 0) is left out with a note in `warnings` (`valid_alternatives`). rating_draws: posterior draws of
    rating-derived indicators, index = draw, columns = (indicator, unit) MultiIndex (see
    `surveys.uncertainty.indicator_draws`); a draw replaces the indicator's value after
    imputation and treatment, where the nominal data has one. level: "department" (when
    the units have departments) or "unit". confidence: for the tiers. sensitivity_n:
    base sample of the sensitivity analysis (default n; 0 skips it; it costs
    sensitivity_n × (inputs + 2) more model runs). progress(done, total) after each chunk.
    """
    _check_settings(n, weight_noise, confidence, level)
    spec = spec or EvaluationSpec()
    alts = Alternatives.of(normalisations, aggregations, imputations, treatments)
    nominal = evaluate(data, framework, spec, units, supplied=supplied, history=history)
    notes = nominal.notes()
    treated = _treated(data, framework, spec, units, supplied, history, nominal, alts)
    by_department = level == "department" and nominal.department_scores is not None
    draws, draw_codes = _draw_array(rating_draws, framework, nominal)
    model, alts = _model(framework, spec, nominal, treated, alts, (draws, draw_codes), by_department, notes)
    n_draws = 0 if draws is None else draws.shape[0]

    # the inputs and the design: A, and for the sensitivity analysis B and every A_B^g
    ns = n if sensitivity_n is None else int(sensitivity_n)
    sample = _sampler(np.random.default_rng(seed), alts, n_draws, weight_noise, model.n_weights)
    a = sample(max(n, ns))
    inputs = _inputs(alts, n_draws, weight_noise, model)
    do_sensitivity = ns >= 2 and bool(inputs)
    design = pick_freeze_design(a, sample(ns) if do_sensitivity else None, n, ns, inputs)
    out = _run(model, design, len(alts.treatment), progress)
    nom_vec, nom_score, nom_rank = _nominal(model, nominal, framework.index_code, by_department, notes)
    entities = model.entities
    ranks_all = _replication_ranks(out, nominal, nom_score, nom_rank, by_department)
    summary, prob = _rank_statistics(out[:n], ranks_all[:n], nom_score, nom_rank, entities, confidence)
    sens, by_entity = (
        sensitivity_tables(out, ranks_all, n, ns, [g for g, _ in inputs], entities)
        if do_sensitivity
        else no_sensitivity()
    )
    settings = {"n": n, "seed": seed, "weight_noise": weight_noise, **alts.labels(), "rating_draws": n_draws}
    settings.update(sensitivity_n=ns if do_sensitivity else 0, model_runs=len(design["imputation"]))
    return UncertaintyResult(
        entity_type="department" if by_department else "unit",
        summary=summary,
        prob_above=prob,
        ranks=pd.DataFrame(ranks_all[:n], columns=entities),
        scores=pd.DataFrame(out[:n], columns=entities),
        samples=_samples(a, n, len(alts.treatment) > 1),
        weights=_weights_used(model, a, n),
        alternatives=alts.as_dict(),
        sensitivity=sens,
        sensitivity_by_entity=by_entity,
        nominal_vectorised=pd.Series(nom_vec, index=entities),
        confidence=confidence,
        settings=settings,
        warnings=notes,
        coverage=_coverage(nominal, "department" if by_department else "unit").reindex(entities),
    )


def _model(
    framework: Framework,
    spec: EvaluationSpec,
    nominal: EvaluationResult,
    treated: list[pd.DataFrame],
    alts: Alternatives,
    drawn: tuple[np.ndarray | None, list[str]],
    by_department: bool,
    notes: list[str],
) -> tuple[VectorModel, Alternatives]:
    """The vectorised model of the alternatives the data allows (`valid_alternatives`; a
    note in `notes` for each one left out), and those alternatives."""

    def model_of(a: Alternatives) -> VectorModel:
        norms, aggs = a.normalisation, a.aggregation
        return VectorModel(framework, spec, nominal, treated, norms, aggs, *drawn, by_department)

    model = model_of(alts)
    valid, left_out = valid_alternatives(alts, model.lowest, model.needs_positive)
    if not left_out:
        return model, alts
    notes.extend(left_out)
    return model_of(valid), valid


def _coverage(nominal: EvaluationResult, entity: str) -> pd.DataFrame:
    """Per entity: the categories it is scored on, of how many, and whether that enters it in
    the overall ranking (`EvaluationResult.ranked_overall`)."""
    scored = nominal.categories_scored(entity)
    return pd.DataFrame(
        {
            "categories_scored": scored,
            "categories_total": len(nominal.categories),
            "ranked_overall": nominal.ranked_overall(entity),
        }
    )


def _replication_ranks(
    out: np.ndarray, nominal: EvaluationResult, nom_score: pd.Series, nom_rank: pd.Series, by_department: bool
) -> np.ndarray:
    """The replications' ranks by the engine's rules: an entity with a score but no nominal
    rank (scored on fewer categories than the framework's `min_categories`) has no rank in
    any replication; objects of kinds are ranked among objects of their own kind."""
    ranked = (nom_rank.notna() | nom_score.isna()).to_numpy(dtype=bool)
    out = np.where(ranked[None, :], out, np.nan)
    kinds = nominal.units["kind"].reindex(nom_score.index)
    if by_department or kinds.isna().all():
        return rank_rows(out)
    ranks = np.full(out.shape, np.nan)
    for kind in kinds.fillna("").astype(str).unique():
        cols = (kinds.fillna("").astype(str) == kind).to_numpy()
        ranks[:, cols] = rank_rows(out[:, cols])
    return ranks


def _rank_statistics(
    scores: np.ndarray,
    ranks: np.ndarray,
    nom_score: pd.Series,
    nom_rank: pd.Series,
    entities: pd.Index,
    confidence: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the summary per entity with its tier, P(row ranks above column)) from the
    replications' scores and ranks."""
    summary = _summary(scores, ranks, nom_score, nom_rank, entities)
    prob = prob_above(ranks, entities)
    summary["tier"] = tiers(prob, summary["nominal_rank"], confidence)
    return summary, prob


def _check_settings(n: int, weight_noise: float, confidence: float, level: str) -> None:
    if n < 2:
        raise EgovError("the Monte Carlo needs at least 2 replications (n)")
    if not 0 <= weight_noise < 1:
        raise EgovError(f"weight noise {weight_noise:g} must be in [0, 1)")
    if not 0.5 <= confidence < 1:
        raise EgovError(f"confidence {confidence:g} must be in [0.5, 1)")
    if level not in ("department", "unit"):
        raise EgovError(f"level {level!r}: use 'department' or 'unit'")


def _treated(
    data: pd.DataFrame,
    framework: Framework,
    spec: EvaluationSpec,
    units: pd.DataFrame | None,
    supplied: pd.DataFrame | None,
    history: list[pd.DataFrame] | None,
    nominal: EvaluationResult,
    alts: Alternatives,
) -> list[pd.DataFrame]:
    """The treated table of every (imputation, treatment) pair of alternatives, at position
    imputation × (treatments + 1) + treatment (the nominal pair first), aligned to the
    nominal units: an imputation alternative evaluated by the engine, a treatment
    alternative the engine's treatment stage on that evaluation's imputed units."""
    treated = []
    for imputation in alts.imputation:
        base = nominal
        if imputation is not None:
            changed = override_spec(spec, "imputation", imputation)
            base = evaluate(data, framework, changed, units, supplied=supplied, history=history)
        kept = base.imputed.loc[base.treated.index]  # the units screening kept, as the engine treats them
        for treatment in alts.treatment:
            table = base.treated
            if treatment is not None:
                res = StageResolver(framework, override_spec(spec, "treatment", treatment))
                table, _ = treat_table(framework, res, kept)
            treated.append(table.reindex(index=nominal.treated.index))
    return treated


def _sampler(
    rng: np.random.Generator, alts: Alternatives, n_draws: int, weight_noise: float, n_weights: int
) -> Callable[[int], Design]:
    """A function drawing `size` rows of a sample matrix: an alternative of each stage
    (uniform among the alternatives, 0 = nominal when there are none), a rating draw (-1:
    none) and the weight multipliers 1 + U(−noise, +noise)."""

    def sample(size: int) -> Design:
        def choice(count: int) -> np.ndarray:
            return rng.integers(1, count, size) if count > 1 else np.zeros(size, dtype=int)

        return {
            "imputation": choice(len(alts.imputation)),
            "normalisation": choice(len(alts.normalisation)),
            "aggregation": choice(len(alts.aggregation)),
            "ratings": rng.integers(0, n_draws, size) if n_draws else np.full(size, -1),
            "weights": rng.uniform(1 - weight_noise, 1 + weight_noise, (size, n_weights)),
            # drawn last: without treatment alternatives it draws nothing, so the other
            # inputs' samples stay those of earlier versions
            "treatment": choice(len(alts.treatment)),
        }

    return sample


def _inputs(alts: Alternatives, n_draws: int, weight_noise: float, model: VectorModel) -> Inputs:
    """The uncertain inputs of the sensitivity analysis: (name, its part of the design)."""
    inputs: Inputs = []
    if len(alts.imputation) > 1:
        inputs.append(("imputation", "imputation"))
    if len(alts.treatment) > 1:
        inputs.append(("treatment", "treatment"))
    if len(alts.normalisation) > 1:
        inputs.append(("normalisation", "normalisation"))
    if len(alts.aggregation) > 1:
        inputs.append(("aggregation", "aggregation"))
    if n_draws:
        inputs.append(("ratings", "ratings"))
    if weight_noise > 0:
        inputs += [(f"weights:{code}", sl) for code, sl in model.weight_slices.items()]
    return inputs


def _run(
    model: VectorModel, design: Design, treatments: int, progress: Callable[[int, int], None] | None
) -> np.ndarray:
    """Index scores (model runs × entities) of every configuration of the design, in
    chunks of replications; progress(done, total) after each chunk. `treatments`: the
    treatment options (nominal included), for the position of a treated table."""
    total = len(design["imputation"])
    per = max(1, CHUNK_CELLS // max(1, len(model.units) * len(model.codes)))
    out = np.empty((total, len(model.entities)))
    for start in range(0, total, per):
        stop = min(total, start + per)
        out[start:stop] = model.scores(
            design["imputation"][start:stop] * treatments + design["treatment"][start:stop],
            design["normalisation"][start:stop],
            design["aggregation"][start:stop],
            design["ratings"][start:stop],
            design["weights"][start:stop],
        )
        if progress is not None:
            progress(stop, total)
    return out


def _nominal(
    model: VectorModel, nominal: EvaluationResult, index: str, by_department: bool, notes: list[str]
) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """The nominal index scores and ranks from the engine, and the vectorised path's scores
    at the nominal configuration (a note when they differ)."""
    zero = np.zeros(1, dtype=int)
    nom_vec = model.scores(zero, zero, zero, np.full(1, -1), np.ones((1, model.n_weights)))[0]
    if by_department:
        assert nominal.department_scores is not None and nominal.department_ranks is not None
        nom_score = nominal.department_scores[index].reindex(model.entities)
        nom_rank = nominal.department_ranks[index].reindex(model.entities)
    else:
        nom_score = nominal.scores[index].reindex(model.entities)
        nom_rank = nominal.ranks[index].reindex(model.entities)
    diff = np.nanmax(np.abs(nom_vec - nom_score.to_numpy()), initial=0.0)
    scale = max(1.0, float(np.nanmax(np.abs(nom_score.to_numpy()), initial=0.0)))
    if diff > 1e-9 * scale or not np.array_equal(np.isnan(nom_vec), nom_score.isna().to_numpy()):
        notes.append(f"the vectorised nominal scores differ from the engine's by up to {diff:.3g}")
    return nom_vec, nom_score, nom_rank


def _samples(a: Design, n: int, treatment: bool) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "imputation": a["imputation"][:n],
            "normalisation": a["normalisation"][:n],
            "aggregation": a["aggregation"][:n],
            "rating_draw": a["ratings"][:n],
        }
    )
    if treatment:
        out.insert(1, "treatment", a["treatment"][:n])
    return out


def _weights_used(model: VectorModel, a: Design, n: int) -> dict[str, pd.DataFrame]:
    """Aggregate → replications × children: the weights each replication used."""
    weights_used: dict[str, pd.DataFrame] = {}
    for agg in [*model.aggs, *([model.index_agg] if model.by_department else [])]:
        sl = model.weight_slices[agg.code]
        weights_used[agg.code] = pd.DataFrame(
            agg.weights[None, :] * a["weights"][:n, sl], columns=agg.children
        )
    return weights_used


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


def prob_above(ranks: np.ndarray, entities: pd.Index) -> pd.DataFrame:
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
