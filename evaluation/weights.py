"""Weighting: the weights of a node's children.

One signature for the family: `f(values, weights, **params) -> Series`, where `values` is
the units × children table the node aggregates (scores after normalisation) and `weights`
the manual weights written in the framework file. The result need not sum to 1: the
aggregators renormalise over the children present for each unit.

Methods that need no data (`manual`, `equal`, `ahp`, `budget`) are checked completely when a
framework or spec file is read (`Method.validate`), so `egov framework check` reports a bad
matrix or an inconsistent set of judgements with its key path. Only the number of children
is checked at run time, by the function itself (the node's children are known there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from egov.errors import EgovError
from evaluation.methods import Method, Param, apply, positive

# Saaty's random consistency index RI(n): the mean consistency index of random reciprocal
# matrices of order n on the 1–9 scale. # Saaty (1980), The Analytic Hierarchy Process,
# McGraw-Hill, table 1.7 (n <= 10); Saaty (2000), Fundamentals of Decision Making and
# Priority Theory, RWS Publications, p. 84 (n = 11..15).
RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}
MAX_AHP_SIZE = max(RANDOM_INDEX)
# a_ji may be written as a rounded decimal of 1 / a_ij (TOML has no fractions: 0.33 for 1/3)
RECIPROCAL_TOLERANCE = 0.05


@dataclass(frozen=True)
class AHPResult:
    """The priorities of a pairwise-comparison matrix and their consistency."""

    weights: np.ndarray  # principal right eigenvector, summing to 1
    lambda_max: float  # principal eigenvalue
    ci: float  # consistency index (lambda_max - n) / (n - 1)
    cr: float  # consistency ratio CI / RI(n); 0 for n <= 2
    n: int


def _children(weights: pd.Series) -> str:
    return ", ".join(map(str, weights.index))


def manual(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """The weights written in the framework file."""
    return weights


def equal(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Every child the same weight. # OECD/JRC Handbook (2008) §6, equal weighting."""
    return pd.Series(1.0, index=weights.index)


# --- AHP ------------------------------------------------------------------------------------
def matrix_problems(matrix: list[list[float]]) -> list[str]:
    """Why `matrix` is not a pairwise-comparison matrix (empty when it is one): square,
    entries > 0, a diagonal of ones and reciprocal entries a_ji = 1 / a_ij (within 5 %)."""
    n = len(matrix)
    if any(len(row) != n for row in matrix):
        return [f"must be square (one row and one column per child); it has {n} rows of {len(matrix[0])}"]
    if n > MAX_AHP_SIZE:
        return [f"has {n} rows; Saaty's random index (for the consistency ratio) stops at {MAX_AHP_SIZE}"]
    problems: list[str] = []
    a = np.asarray(matrix, dtype=float)
    if np.any(a <= 0):
        i, j = np.argwhere(a <= 0)[0]
        return [f"entries must be > 0 (row {i + 1}, column {j + 1} is {a[i, j]:g})"]
    for i in range(n):
        if abs(a[i, i] - 1) > 1e-9:
            problems.append(f"diagonal entries must be 1 (row {i + 1} has {a[i, i]:g})")
    for i in range(n):
        for j in range(i + 1, n):
            if abs(a[i, j] * a[j, i] - 1) > RECIPROCAL_TOLERANCE:
                problems.append(
                    f"must be reciprocal: row {i + 1}, column {j + 1} is {a[i, j]:g}, so row {j + 1}, "
                    f"column {i + 1} must be 1/{a[i, j]:g} = {1 / a[i, j]:.4g}, not {a[j, i]:g}"
                )
    return problems


def ahp_priorities(matrix: Any) -> AHPResult:
    """Priorities of a positive reciprocal pairwise-comparison matrix (rows and columns in the
    order of the children; a_ij = how much more important child i is than child j on
    Saaty's 1–9 scale): the principal right eigenvector, normalised to sum to 1, with
    lambda_max, CI = (lambda_max - n) / (n - 1) and CR = CI / RI(n).

    # Saaty (1977), J. Math. Psychology 15: 234–281; Saaty (1980), The Analytic Hierarchy
    # Process, ch. 1–2; Saaty (1990), EJOR 48: 9–26.
    A rounded reciprocal (0.33 for 1/3) is reconciled first as a_ij' = sqrt(a_ij / a_ji),
    which leaves an exactly reciprocal matrix unchanged.
    """
    a = np.asarray(matrix, dtype=float)
    problems = (
        matrix_problems(a.tolist()) if a.ndim == 2 and a.size else ["must be a non-empty square matrix"]
    )
    if problems:
        raise EgovError("not a pairwise-comparison matrix", problems)
    n = a.shape[0]
    a = np.sqrt(a / a.T)
    if n == 1:
        return AHPResult(np.ones(1), 1.0, 0.0, 0.0, 1)
    eigenvalues, vectors = np.linalg.eig(a)
    k = int(np.argmax(eigenvalues.real))
    lam = float(eigenvalues[k].real)
    # Perron–Frobenius: the principal eigenvector of a positive matrix has one sign
    v = np.abs(vectors[:, k].real)
    w = v / v.sum()
    ci = max((lam - n) / (n - 1), 0.0)
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    return AHPResult(w, lam, ci, cr, n)


def consistency_ratio(matrix: Any) -> float:
    """Saaty's consistency ratio CR = CI / RI(n) of a pairwise-comparison matrix; judgements
    with CR <= 0.1 are acceptably consistent. # Saaty (1980), §1.4."""
    return ahp_priorities(matrix).cr


def _inconsistent(cr: float, max_cr: float, children: str) -> str:
    return (
        f"the AHP pairwise comparisons of {children} are inconsistent: consistency ratio "
        f"CR = {cr:.3f} > max_cr = {max_cr:g} (Saaty's limit is 0.1); revise the judgements, "
        "or set allow_inconsistent = true to use them anyway"
    )


def ahp(
    values: pd.DataFrame,
    weights: pd.Series,
    *,
    matrix: list[list[float]],
    max_cr: float = 0.1,
    allow_inconsistent: bool = False,
) -> pd.Series:
    """Weights from a pairwise-comparison matrix by Saaty's eigenvector method; an error when
    the consistency ratio exceeds `max_cr` unless `allow_inconsistent`. # Saaty (1980)."""
    n = len(weights)
    if len(matrix) != n:
        raise EgovError(
            f"the AHP matrix has {len(matrix)} rows but the aggregate has {n} children "
            f"({_children(weights)}); give one row and one column per child, in this order"
        )
    res = ahp_priorities(matrix)
    if res.cr > max_cr and not allow_inconsistent:
        raise EgovError(_inconsistent(res.cr, max_cr, _children(weights)))
    return pd.Series(res.weights, index=weights.index, dtype=float)


def _validate_ahp(params: dict[str, Any]) -> list[tuple[str, str]]:
    matrix = params["matrix"]
    problems = matrix_problems(matrix)
    if problems:
        return [("matrix", p) for p in problems]
    cr = consistency_ratio(matrix)
    if cr > params["max_cr"] and not params["allow_inconsistent"]:
        return [("matrix", _inconsistent(cr, params["max_cr"], f"these {len(matrix)} children"))]
    return []


# --- data-driven weights --------------------------------------------------------------------
def entropy(values: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Shannon-entropy weights: a child whose values differ more between units carries more
    information and gets more weight.

    # Shannon (1948); entropy weight method, Hwang & Yoon (1981), Multiple Attribute Decision
    # Making, Springer, §3.1; Zeleny (1982), Multiple Criteria Decision Making, ch. 7.
    Per child j over its m_j present values x_ij >= 0: p_ij = x_ij / sum_i x_ij,
    e_j = -sum_i p_ij ln p_ij / ln m_j, d_j = 1 - e_j, w_j = d_j / sum_k d_k (equal weights
    when no child varies). Not invariant to shifts: weights from min-max [0, 100] differ
    from those of min-max [1, 100].
    """
    x = values.reindex(columns=weights.index).astype(float)
    negative = [str(c) for c in x.columns if (x[c].dropna() < 0).any()]
    if negative:
        raise EgovError(
            "entropy weights need values >= 0; normalise to a non-negative scale (e.g. minmax); "
            f"negative values in: {', '.join(negative)}"
        )
    d = {}
    for col in x.columns:
        present = x[col].dropna().to_numpy()
        m, total = len(present), float(present.sum())
        if m < 2 or total == 0:
            d[col] = 0.0
            continue
        p = present / total
        p = p[p > 0]
        e = float(-(p * np.log(p)).sum() / math.log(m))
        d[col] = max(1.0 - e, 0.0)
    div = pd.Series(d, dtype=float).reindex(weights.index)
    if div.sum() <= 0:
        return pd.Series(1.0 / len(div), index=weights.index)
    return div / div.sum()


def _complete(values: pd.DataFrame, weights: pd.Series, what: str) -> np.ndarray:
    x = values.reindex(columns=weights.index).astype(float).dropna()
    if len(x) < 2:
        raise EgovError(
            f"{what} needs at least 2 units with values for every child ({_children(weights)}); "
            f"{len(x)} have complete data"
        )
    sd = x.std(ddof=1)
    flat = [str(c) for c in sd.index if not sd[c] > 0]
    if flat:
        raise EgovError(f"{what}: no variation over the units with complete data in: {', '.join(flat)}")
    return x.to_numpy()


def first_component(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(loadings of the first principal component, eigenvalues in decreasing order) of the
    correlation matrix of x (units × variables), i.e. of the centred and scaled data.

    # Pearson (1901); COINr get_PCA: prcomp(center = TRUE, scale = TRUE)$rotation[, 1].
    The sign of an eigenvector is arbitrary; it is fixed so that the loadings sum to > 0.
    """
    corr = np.atleast_2d(np.corrcoef(x, rowvar=False))
    eigenvalues, vectors = np.linalg.eigh(corr)
    order = np.argsort(eigenvalues)[::-1]
    v = vectors[:, order[0]]
    total = v.sum()
    if total < 0 or (total == 0 and v[np.flatnonzero(v)[0]] < 0):
        v = -v
    return v, eigenvalues[order]


def pca(values: pd.DataFrame, weights: pd.Series, *, squared: bool = False) -> pd.Series:
    """Loadings of the first principal component of the children's values over the units
    with complete data (COINr's PCA weights); `squared` gives the squared loadings instead
    (non-negative, summing to 1).

    # COINr get_PCA (stats::prcomp, centred and scaled, first column of the rotation);
    # OECD/JRC Handbook (2008) §6.1 for squared loadings. Loadings can be negative: a child
    # that runs against the others then pulls the aggregate down.
    """
    v, _ = first_component(_complete(values, weights, "PCA weights"))
    return pd.Series(v**2 if squared else v, index=weights.index, dtype=float)


def budget(values: pd.DataFrame, weights: pd.Series, *, allocations: list[list[float]]) -> pd.Series:
    """Budget allocation: each assessor distributes points over the children; each
    allocation is turned into shares of its total and the shares are averaged over the
    assessors (so an assessor who used a bigger budget does not count more).

    # OECD/JRC Handbook (2008) §6.1.6, budget allocation process; Moldan & Billharz (1997).
    """
    n = len(weights)
    width = len(allocations[0])
    if width != n:
        raise EgovError(
            f"each budget allocation has {width} entries but the aggregate has {n} children "
            f"({_children(weights)}); give one number per child, in this order"
        )
    a = np.asarray(allocations, dtype=float)
    shares = a / a.sum(axis=1, keepdims=True)
    return pd.Series(shares.mean(axis=0), index=weights.index, dtype=float)


def _validate_budget(params: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for i, row in enumerate(params["allocations"], start=1):
        if any(v < 0 for v in row):
            problems.append(("allocations", f"assessor {i}: points must be >= 0"))
        elif sum(row) <= 0:
            problems.append(("allocations", f"assessor {i}: allocates no points"))
    return problems


WEIGHTINGS: dict[str, Method] = {
    "manual": Method("manual", manual, doc="The weights written in the framework file."),
    "equal": Method("equal", equal, doc="Every child the same weight.", source="OECD/JRC Handbook (2008) §6"),
    "ahp": Method(
        "ahp",
        ahp,
        {
            "matrix": Param(
                "matrix",
                required=True,
                help="pairwise comparisons a_ij (Saaty's 1–9 scale), rows and columns in the order of the children",
            ),
            "max_cr": Param("number", 0.1, help="largest acceptable consistency ratio", check=positive),
            "allow_inconsistent": Param(
                "bool", False, help="use the weights even when the consistency ratio exceeds max_cr"
            ),
        },
        doc="Analytic Hierarchy Process: principal eigenvector of a pairwise-comparison matrix, "
        "with Saaty's consistency ratio.",
        source="Saaty (1980), The Analytic Hierarchy Process",
        validate=_validate_ahp,
    ),
    "entropy": Method(
        "entropy",
        entropy,
        doc="Shannon-entropy weights from the dispersion of the children's values (values >= 0).",
        source="Shannon (1948); Hwang & Yoon (1981) §3.1",
    ),
    "pca": Method(
        "pca",
        pca,
        {"squared": Param("bool", False, help="use the squared loadings (>= 0, summing to 1)")},
        doc="Loadings of the first principal component of the children (units with complete data).",
        source="COINr get_PCA; OECD/JRC Handbook (2008) §6.1",
    ),
    "budget": Method(
        "budget",
        budget,
        {
            "allocations": Param(
                "matrix", required=True, help="one list of points per assessor, in the order of the children"
            )
        },
        doc="Budget allocation: each assessor's points as shares, averaged over the assessors.",
        source="OECD/JRC Handbook (2008) §6.1.6",
        validate=_validate_budget,
    ),
}


def weigh(values: pd.DataFrame, weights: pd.Series, spec: dict[str, Any]) -> pd.Series:
    """Apply a canonical weighting spec to one aggregate's children."""
    result: pd.Series = apply(WEIGHTINGS, spec, values, weights)
    return result
