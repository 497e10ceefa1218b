"""Change between two evaluations: each department's score and rank change, split into
per-indicator contributions (Bennet decomposition) and, when the method changed, into data
and method effects (Shapley). Part of the comparison API (`evaluation.compare`); pure, no
database, file or HTTP access.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.engine import EvaluationResult
from evaluation.structure import (
    department_effective_weights,
    department_tables,
    node_kinds,
    node_order,
    object_effective_weights,
)

__all__ = ["Change", "change"]


@dataclass
class Change:
    """Change between two evaluations (see `change`)."""

    summary: pd.DataFrame  # one row per department
    contributions: pd.DataFrame  # one row per (department, indicator)
    method_changed: bool
    notes: list[str] = field(default_factory=list)
    # the scale both evaluations' scores are on (`evaluation.trend.comparable_change`); empty:
    # each evaluation's own scale, as computed
    scale: str = ""


def change(
    previous: EvaluationResult,
    current: EvaluationResult,
    *,
    current_data_previous_method: EvaluationResult | None = None,
    previous_data_current_method: EvaluationResult | None = None,
) -> Change:
    """Score and rank change of every department from `previous` to `current`.

    **Per-indicator contributions** (Bennet (1920) symmetric decomposition). To first
    order the department's index is S = Σ_o Σ_i ω(o, i) x(o, i) over its objects o and
    indicators i, with x the normalised value and ω its share of the department's index
    (`object_effective_weights`: category weight × the object's roll-up share × the
    indicator's share of the object's category score, each renormalised over what is
    present). Then exactly Σ (ω1 x1 − ω0 x0) = Σ ω̄ Δx + Σ x̄ Δω (bars: averages of the
    two periods), so an indicator's contribution, summed over the department's objects, is
    `value_effect` (ω̄ Δx: its values changed) + `weight_effect` (x̄ Δω: its share changed
    — a new framework, or another indicator or object appearing or disappearing). A value
    present in one period only contributes its ω x of that period (as a weight effect).
    The `residual` = actual change − Σ contributions is what the linear view misses; it is
    0 for arithmetic aggregation with a mean or volume-weighted roll-up and fixed weights,
    and carries geometric, harmonic or Copeland aggregation, min/max/median roll-ups,
    data-driven weights and coverage thresholds — so the parts always add up exactly to
    the change. Normalised values are relative to the other departments, so a value can
    change without the department's raw data changing. `value_previous`/`value_current`
    are the department-level (rolled-up) values and `weight_previous`/`weight_current`
    their effective weights (`department_effective_weights`), for reading.

    **Data versus method** (only when the framework hash or the spec differ, and when the
    swapped evaluations are given): with S(D, M) the index of data D under method M,
    the "data first" path is [S(D1,M0) − S(D0,M0)] + [S(D1,M1) − S(D1,M0)] and the "method
    first" path [S(D0,M1) − S(D0,M0)] + [S(D1,M1) − S(D0,M1)]. Both add up to the change; the
    reported `data_effect` and `method_effect` are the averages of the two paths, the
    Shapley value of the two factors (Shorrocks (2013), J. Econ. Inequality 11: 99–126),
    which does not depend on an arbitrary order. With one swapped evaluation only, that
    one path is reported.

    `summary` columns: department, score_previous, score_current, change, rank_previous,
    rank_current, rank_change (previous − current: positive = moved up), value_effect,
    weight_effect, residual, and when split: data_effect, method_effect, the per-path
    effects (data_first_data, data_first_method, method_first_method, method_first_data).
    `contributions` columns: department, indicator, value_previous, value_current,
    weight_previous, weight_current, value_effect, weight_effect, contribution.
    """
    s0, _, _ = department_tables(previous)
    s1, _, _ = department_tables(current)
    departments = sorted(set(map(str, s0.index)) | set(map(str, s1.index)))
    notes: list[str] = []
    only = sorted(set(map(str, s0.index)) ^ set(map(str, s1.index)))
    if only:
        notes.append(
            f"departments in only one of the two evaluations (no change computed): {', '.join(only)}"
        )
    method_changed = previous.framework_hash != current.framework_hash or previous.spec != current.spec
    value_effect, weight_effect, contributions = _contributions(previous, current, departments)
    summary = _summary(previous, current, departments, value_effect, weight_effect)
    if method_changed:
        d1m0 = _index_of(current_data_previous_method, departments)
        d0m1 = _index_of(previous_data_current_method, departments)
        if not _split_data_and_method(summary, d1m0, d0m1):
            notes.append(
                "the method changed (framework or spec) but no swapped evaluation was given: "
                "data and method effects are not separated"
            )
    summary = summary.sort_values(["rank_current", "department"], kind="mergesort", na_position="last")
    return Change(summary.reset_index(drop=True), contributions, method_changed, notes)


def _contributions(
    previous: EvaluationResult, current: EvaluationResult, departments: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-indicator contributions: Bennet at the object level, summed per department.
    Returns (value effects, weight effects: departments × indicators; the long
    contributions table of the departments in both evaluations)."""
    s0, _, _ = department_tables(previous)
    s1, _, _ = department_tables(current)
    k0, k1 = node_kinds(previous), node_kinds(current)
    indicators = [c for c in node_order(current) if k1[c] == "indicator"]
    indicators += [c for c in node_order(previous) if k0[c] == "indicator" and c not in indicators]
    objects = sorted(set(map(str, previous.scores.index)) | set(map(str, current.scores.index)))
    o0 = object_effective_weights(previous).reindex(index=objects, columns=indicators)
    o1 = object_effective_weights(current).reindex(index=objects, columns=indicators)
    x0 = previous.normalised.reindex(index=objects, columns=indicators).where(o0.notna())
    x1 = current.normalised.reindex(index=objects, columns=indicators).where(o1.notna())
    owner = (
        pd.concat([current.units["department"].astype(str), previous.units["department"].astype(str)])
        .groupby(level=0)
        .first()
        .reindex(objects)
    )
    both = x0.notna() & x1.notna()
    t0, t1 = (o0 * x0).fillna(0.0), (o1 * x1).fillna(0.0)
    value_effect = ((o0 + o1) / 2 * (x1 - x0)).where(both, 0.0).groupby(owner).sum()
    weight_effect = ((x0 + x1) / 2 * (o1 - o0)).where(both, t1 - t0).groupby(owner).sum()
    contribution = (t1 - t0).groupby(owner).sum()
    value_effect, weight_effect, contribution = (
        df.reindex(index=departments, columns=indicators, fill_value=0.0)
        for df in (value_effect, weight_effect, contribution)
    )
    w0 = department_effective_weights(previous).reindex(index=departments, columns=indicators)
    w1 = department_effective_weights(current).reindex(index=departments, columns=indicators)
    v0 = s0.reindex(index=departments, columns=indicators)
    v1 = s1.reindex(index=departments, columns=indicators)
    contributions = pd.concat(
        [
            _stack(v0, "value_previous"),
            _stack(v1, "value_current"),
            _stack(w0, "weight_previous"),
            _stack(w1, "weight_current"),
            _stack(value_effect, "value_effect"),
            _stack(weight_effect, "weight_effect"),
            _stack(contribution, "contribution"),
        ],
        axis=1,
    ).reset_index()
    contributions = contributions[
        contributions["value_previous"].notna() | contributions["value_current"].notna()
    ]
    common = [d for d in departments if d in s0.index and d in s1.index]
    contributions = contributions[contributions["department"].isin(common)].reset_index(drop=True)
    return value_effect, weight_effect, contributions


def _stack(df: pd.DataFrame, name: str) -> pd.Series:
    s = pd.Series(df.stack(future_stack=True), name=name)
    s.index.names = ["department", "indicator"]
    return s


def _summary(
    previous: EvaluationResult,
    current: EvaluationResult,
    departments: list[str],
    value_effect: pd.DataFrame,
    weight_effect: pd.DataFrame,
) -> pd.DataFrame:
    """One row per department: scores, ranks, change, the summed value and weight effects
    and the residual the linear view misses."""
    s0, r0, _ = department_tables(previous)
    s1, r1, _ = department_tables(current)
    idx0, idx1 = previous.index_code, current.index_code
    summary = pd.DataFrame(
        {
            "department": departments,
            "score_previous": s0[idx0].reindex(departments).to_numpy(),
            "score_current": s1[idx1].reindex(departments).to_numpy(),
            "rank_previous": r0[idx0].reindex(departments).to_numpy(),
            "rank_current": r1[idx1].reindex(departments).to_numpy(),
        }
    )
    summary["change"] = summary["score_current"] - summary["score_previous"]
    summary["rank_change"] = summary["rank_previous"] - summary["rank_current"]
    summary["value_effect"] = value_effect.sum(axis=1).to_numpy()
    summary["weight_effect"] = weight_effect.sum(axis=1).to_numpy()
    summary["residual"] = summary["change"] - (summary["value_effect"] + summary["weight_effect"])
    summary.loc[summary["change"].isna(), ["value_effect", "weight_effect", "residual"]] = np.nan
    return summary


def _split_data_and_method(summary: pd.DataFrame, d1m0: np.ndarray | None, d0m1: np.ndarray | None) -> bool:
    """Add the data and method effects (the Shapley average of the paths given, see
    `change`) to `summary`; False when no swapped evaluation was given."""
    a, b = summary["score_previous"].to_numpy(), summary["score_current"].to_numpy()
    paths = []
    if d1m0 is not None:
        summary["data_first_data"] = d1m0 - a
        summary["data_first_method"] = b - d1m0
        paths.append(("data_first_data", "data_first_method"))
    if d0m1 is not None:
        summary["method_first_method"] = d0m1 - a
        summary["method_first_data"] = b - d0m1
        paths.append(("method_first_data", "method_first_method"))
    if not paths:
        return False
    summary["data_effect"] = sum(summary[d] for d, _ in paths) / len(paths)
    summary["method_effect"] = sum(summary[m] for _, m in paths) / len(paths)
    return True


def _index_of(result: EvaluationResult | None, departments: list[str]) -> np.ndarray | None:
    if result is None:
        return None
    scores, _, _ = department_tables(result)
    return scores[result.index_code].reindex(departments).to_numpy(dtype=float)
