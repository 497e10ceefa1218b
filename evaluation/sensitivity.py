"""Variance-based sensitivity analysis of the Monte Carlo (`evaluation.uncertainty`):
first-order and total-order indices of each input on each entity's index score and rank.

The radial "pick-freeze" design of Saltelli et al. (2010), Comput. Phys. Commun. 181:
259–270: two independent sample matrices A and B and, for every input g, A with g's
columns taken from B (A_B^g). First order (Saltelli et al. 2010, table 2 (b)):
S_g = mean(f(B) · (f(A_B^g) − f(A))) / V; total order (Jansen 1999, Comput. Phys. Commun.
117: 35–43): S_Tg = mean((f(A) − f(A_B^g))²) / (2V); V the variance of f over A and B.

Pure: arrays in, arrays and DataFrames out.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["Design", "Inputs", "no_sensitivity", "pick_freeze_design", "sensitivity_tables", "sobol_indices"]

Design = dict[str, np.ndarray]  # input part → its columns of the design, one row per model run
Inputs = list[tuple[str, str | slice]]  # (input name, its part of the design: a key, or weight columns)


def pick_freeze_design(a: Design, b: Design | None, n: int, ns: int, inputs: Inputs) -> Design:
    """The design run by the Monte Carlo: the first n rows of A (the replications of the
    rank statistics), then B and, for every input, the first ns rows of A with that
    input's columns taken from B (A_B^g); without `b` (no sensitivity analysis), A's n
    rows only."""
    designs = [_head(a, n)]
    if b is not None:
        an = _head(a, ns)
        designs.append(b)
        for _, part in inputs:
            ab = {k: v.copy() for k, v in an.items()}
            if isinstance(part, str):
                ab[part] = b[part].copy()
            else:
                ab["weights"][:, part] = b["weights"][:, part]
            designs.append(ab)
    return {k: np.concatenate([d[k] for d in designs]) for k in a}


def _head(d: Design, size: int) -> Design:
    return {k: v[:size] for k, v in d.items()}


def no_sensitivity() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The empty tables of `sensitivity_tables`, for a run without sensitivity analysis."""
    sens = pd.DataFrame(columns=["first_order", "total_order", "first_order_score", "total_order_score"])
    by_entity = pd.DataFrame(columns=["entity", "input", "target", "first_order", "total_order"])
    return sens, by_entity


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


def sensitivity_tables(
    scores: np.ndarray, ranks: np.ndarray, n: int, ns: int, names: list[str], entities: pd.Index
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Indices of every input on every entity's score and rank, from the outputs `scores`
    and `ranks` (rows × entities) of the design [A (n rows; the first ns used), B, A_B^1,
    …, A_B^G] (ns rows each; `pick_freeze_design`), and averaged
    over the entities weighted by their variance (the share of the summed variance of all
    entities' outputs; stable where one entity barely moves). Returns (per input:
    first_order, total_order (rank), first_order_score, total_order_score, sorted by
    total order; long: entity, input, target (score|rank), first_order, total_order)."""
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
