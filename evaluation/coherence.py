"""Coherence analysis of an evaluation: do the parts of the framework hang together?

Pure functions on an `EvaluationResult` (the scores of every node over the units that were
scored), each returning a DataFrame:

- `correlations`: pairs of nodes within and between levels (siblings, a node and its
  ancestors, aggregates of one level; or every pair), Pearson and Spearman with p-values,
  labelled by how the two relate in the tree;
- `correlation_matrix` (`correlate` for any table): a square matrix for chosen nodes,
  optionally blanking correlations that are not significant (COINr `get_corr(pval = 0.05)`);
- `cronbach_alpha`: Cronbach's alpha of the children of every aggregate;
- `pca_variance`: the share of variance the first principal component of each aggregate's
  children explains;
- `coherence_flags`: collinear siblings (|r| > 0.9) and children that correlate negatively
  with their own aggregate.

# OECD/JRC Handbook on Constructing Composite Indicators (2008), step 4 (multivariate
# analysis) and step 7 (back to the data); COINr get_corr, get_cronbach, get_PCA.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from evaluation.weights import first_component

if TYPE_CHECKING:
    from evaluation.engine import EvaluationResult

CorrMethod = Literal["pearson", "spearman"]
COLLINEAR = 0.9


def _parents(result: EvaluationResult) -> dict[str, str]:
    return {str(child): node for node, w in result.weights.items() for child in w.index}


def _children(result: EvaluationResult) -> dict[str, list[str]]:
    return {node: [str(c) for c in w.index] for node, w in result.weights.items()}


def _nodes(result: EvaluationResult) -> pd.DataFrame:
    """Scores of every node (indicators normalised, aggregates scored) over the units."""
    return result.scores.astype(float)


def _pairwise(df: pd.DataFrame, method: CorrMethod) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(r, p-value, n) over pairwise-complete units. The p-value is two-sided from
    t = r sqrt((n - 2) / (1 - r^2)) with n - 2 degrees of freedom (R cor.test for Pearson;
    the usual large-sample approximation for Spearman, as scipy.stats.spearmanr)."""
    present = df.notna().to_numpy(dtype=float)
    n = pd.DataFrame(present.T @ present, index=df.columns, columns=df.columns)
    if method == "spearman" and not df.isna().to_numpy().any():
        r = df.rank().corr(method="pearson")  # one ranking for all pairs when nothing is missing
    else:
        r = df.corr(method=method)
    p = _p_value(r.to_numpy(dtype=float), n.to_numpy())
    return r, pd.DataFrame(p, index=r.index, columns=r.columns), n


def _pearson_of(result: EvaluationResult) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """`_pairwise` Pearson of every node of a result, computed once per result (kept in
    `result.derived`): the correlation table and the flags read the same matrix."""
    key = "coherence_pearson"
    if key not in result.derived:
        result.derived[key] = _pairwise(_nodes(result), "pearson")
    out: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] = result.derived[key]
    return out


def correlate(
    data: pd.DataFrame, *, method: CorrMethod = "pearson", pval: float | None = None
) -> pd.DataFrame:
    """Square correlation matrix of the columns of `data` (units × variables), pairwise
    complete. With `pval`, correlations whose two-sided p-value is >= pval are blanked (NaN),
    as COINr's get_corr does with its default pval = 0.05."""
    r, p, _ = _pairwise(data.astype(float), method)
    return r.where(p < pval) if pval is not None else r


def correlation_matrix(
    result: EvaluationResult,
    codes: list[str] | None = None,
    *,
    method: CorrMethod = "pearson",
    pval: float | None = None,
) -> pd.DataFrame:
    """Square correlation matrix of the scores of `codes` (default: every node) over the
    units, pairwise complete. With `pval`, correlations whose p-value is >= pval are blanked
    (NaN), as COINr's get_corr does with its default pval = 0.05."""
    data = _nodes(result)
    return correlate(data if codes is None else data[codes], method=method, pval=pval)


def _ancestors(code: str, parents: dict[str, str]) -> list[str]:
    out = []
    while code in parents:
        code = parents[code]
        out.append(code)
    return out


def _relation(a: str, b: str, parents: dict[str, str], levels: dict[str, int]) -> str:
    if parents.get(a) == b or parents.get(b) == a:
        return "parent"
    if a in _ancestors(b, parents) or b in _ancestors(a, parents):
        return "ancestor"
    if a in parents and parents.get(a) == parents.get(b):
        return "siblings"
    return "same level" if levels.get(a) == levels.get(b) else "between levels"


def _structure_pairs(
    codes: list[str], parents: dict[str, str], levels: dict[str, int]
) -> list[tuple[int, int]]:
    """Index pairs (i < j) that the tree makes meaningful: siblings, a node with each of its
    ancestors, and aggregates of the same level."""
    pos = {c: k for k, c in enumerate(codes)}
    pairs: set[tuple[int, int]] = set()

    def add(a: str, b: str) -> None:
        if a in pos and b in pos and a != b:
            pairs.add((min(pos[a], pos[b]), max(pos[a], pos[b])))

    by_parent: dict[str, list[str]] = {}
    for code in codes:
        for anc in _ancestors(code, parents):
            add(code, anc)
        if code in parents:
            by_parent.setdefault(parents[code], []).append(code)
    for kids in by_parent.values():
        for k, a in enumerate(kids):
            for b in kids[k + 1 :]:
                add(a, b)
    aggregates = [c for c in codes if levels.get(c, 1) > 1]
    for k, a in enumerate(aggregates):
        for b in aggregates[k + 1 :]:
            if levels.get(a) == levels.get(b):
                add(a, b)
    return sorted(pairs)


def _p_value(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided p-value of a correlation r over n units: t = r sqrt((n - 2) / (1 - r^2)) with
    n - 2 degrees of freedom (as R cor.test for Pearson; scipy.stats.spearmanr for Spearman).
    P(|T| > |t|) = I_x(dof / 2, 1 / 2) with x = dof / (dof + t^2) = 1 - r^2, the regularised
    incomplete beta function (Abramowitz & Stegun 26.7.1), computed here rather than by scipy,
    whose import costs `egov evaluate` a tenth of a second."""
    r = np.asarray(r, dtype=float)
    dof = np.asarray(n, dtype=float) - 2
    ok = (dof > 0) & ~np.isnan(r)
    p = np.full(np.broadcast(r, dof).shape, np.nan)
    r_ok, dof_ok = np.broadcast_to(r, p.shape)[ok], np.broadcast_to(dof, p.shape)[ok]
    p[ok] = _betainc(
        dof_ok / 2, np.full_like(dof_ok, 0.5), np.clip((1 - np.abs(r_ok)) * (1 + np.abs(r_ok)), 0.0, 1.0)
    )
    return p


def _betainc(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The regularised incomplete beta function I_x(a, b), elementwise: the continued fraction
    of Numerical Recipes (3rd ed., 6.4; modified Lentz), on the side where it converges fast."""
    out = np.where(x <= 0, 0.0, 1.0)
    inside = (x > 0) & (x < 1)
    a, b, x = a[inside], b[inside], x[inside]
    lgamma = np.vectorize(math.lgamma, otypes=[float])
    with np.errstate(divide="ignore"):
        front = np.exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * np.log(x) + b * np.log1p(-x))
    direct = x < (a + 1) / (a + b + 2)
    aa, bb, xx = np.where(direct, a, b), np.where(direct, b, a), np.where(direct, x, 1 - x)
    value = front * _beta_fraction(aa, bb, xx) / aa
    out[inside] = np.where(direct, value, 1 - value)
    return out


def _beta_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The continued fraction of I_x(a, b) (Numerical Recipes' betacf), elementwise."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c = np.ones_like(x)
    d = 1 - qab * x / qap
    d = 1 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    for m in range(1, 10_000):
        m2 = 2 * m
        for coef in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1 + coef * d
            d = 1 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1 + coef / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            step = d * c
            h = h * step
        if np.all(np.abs(step - 1) < 1e-15):
            break
    return h


def _spearman_pairs(data: pd.DataFrame, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Spearman's rho of the column pairs (i, j), each over the units where both have a value
    and re-ranked over those units (as R's cor(use = "pairwise.complete.obs"))."""
    x = data.to_numpy(dtype=float)
    present = ~np.isnan(x)
    if present.all():  # one ranking serves every pair
        ranks = np.column_stack([_rank(x[:, k]) for k in range(x.shape[1])]) if x.size else x
        return np.array([_pearson(ranks[:, a], ranks[:, b]) for a, b in zip(i, j, strict=True)])
    out = np.full(len(i), np.nan)
    for k, (a, b) in enumerate(zip(i, j, strict=True)):
        both = present[:, a] & present[:, b]
        if both.sum() >= 2:
            out[k] = _pearson(_rank(x[both, a]), _rank(x[both, b]))
    return out


def _rank(a: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties taking their average rank (as scipy.stats.rankdata)."""
    order = np.argsort(a)
    inverse = np.empty(len(a), dtype=np.intp)
    inverse[order] = np.arange(len(a))
    s = a[order]
    new = np.concatenate(([True], s[1:] != s[:-1]))
    dense = np.cumsum(new)[inverse]
    edges = np.concatenate((np.flatnonzero(new), [len(a)]))
    return 0.5 * (edges[dense] + edges[dense - 1] + 1)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    da, db = a - a.mean(), b - b.mean()
    den = math.sqrt(float((da * da).sum() * (db * db).sum()))
    return float((da * db).sum() / den) if den > 0 else math.nan


def correlations(result: EvaluationResult, scope: Literal["structure", "all"] = "structure") -> pd.DataFrame:
    """Correlations within and between the levels of the tree, one row per pair of nodes:
    node, other, their levels, how they relate (siblings, parent, ancestor, same level,
    between levels), the number of units with both values, Pearson r and Spearman rho
    (pairwise complete, re-ranked per pair) with two-sided p-values.

    scope "structure" (written by `egov evaluate`): siblings, every node with each of its
    ancestors, and aggregates of the same level; "all": every pair of nodes.
    """
    data = _nodes(result)
    parents, levels = _parents(result), result.levels
    codes = [str(c) for c in data.columns]
    if scope == "all":
        i, j = np.triu_indices(len(codes), k=1)
    else:
        pairs = _structure_pairs(codes, parents, levels)
        i = np.array([a for a, _ in pairs], dtype=int)
        j = np.array([b for _, b in pairs], dtype=int)
    pr, _, n = _pearson_of(result)
    r = pr.to_numpy()[i, j]
    counts = n.to_numpy()[i, j]
    rho = _spearman_pairs(data, i, j)
    return pd.DataFrame(
        {
            "node": [codes[k] for k in i],
            "other": [codes[k] for k in j],
            "level": [levels.get(codes[k]) for k in i],
            "other_level": [levels.get(codes[k]) for k in j],
            "relation": [_relation(codes[a], codes[b], parents, levels) for a, b in zip(i, j, strict=True)],
            "n": counts.astype(int),
            "pearson": r,
            "pearson_p": _p_value(r, counts),
            "spearman": rho,
            "spearman_p": _p_value(rho, counts),
        }
    )


def _complete_children(result: EvaluationResult, node: str) -> pd.DataFrame:
    return _nodes(result)[_children(result)[node]].dropna()


def cronbach_alpha(result: EvaluationResult) -> pd.DataFrame:
    """Cronbach's alpha of each aggregate's children over the units with complete data:
    alpha = k / (k - 1) * (1 - sum_i var(x_i) / var(sum_i x_i)), sample variances.

    # Cronbach (1951), Psychometrika 16: 297–334; OECD/JRC Handbook (2008) §4.1; COINr
    # get_cronbach. Missing (NaN) with fewer than 2 children or 2 complete units.
    """
    rows = []
    for node in _children(result):
        x = _complete_children(result, node)
        k, m = x.shape[1], x.shape[0]
        alpha = np.nan
        if k >= 2 and m >= 2:
            total = float(x.sum(axis=1).var(ddof=1))
            if total > 0:
                alpha = k / (k - 1) * (1 - float(x.var(ddof=1).sum()) / total)
        rows.append({"node": node, "level": result.levels.get(node), "children": k, "n": m, "alpha": alpha})
    return pd.DataFrame(rows, columns=["node", "level", "children", "n", "alpha"])


def pca_variance(result: EvaluationResult) -> pd.DataFrame:
    """Principal components of each aggregate's children (centred and scaled, units with
    complete data): the share of the variance the first component explains, the number of
    components with an eigenvalue > 1 (Kaiser's rule) and the first component's loadings.

    # Pearson (1901); Kaiser (1960); OECD/JRC Handbook (2008) §4.2; COINr get_PCA.
    Children with no variation are left out (named in `constant`).
    """
    rows = []
    for node in _children(result):
        x = _complete_children(result, node)
        varying = [c for c in x.columns if x[c].std(ddof=1) > 0] if len(x) >= 2 else []
        row: dict[str, object] = {
            "node": node,
            "level": result.levels.get(node),
            "children": x.shape[1],
            "n": len(x),
            "pc1_variance": np.nan,
            "kaiser_components": np.nan,
            "pc1_loadings": "",
            "constant": ", ".join(str(c) for c in x.columns if c not in varying) if len(x) >= 2 else "",
        }
        if len(varying) >= 2:
            v, eig = first_component(x[varying].to_numpy())
            row["pc1_variance"] = float(eig[0] / eig.sum())
            row["kaiser_components"] = int((eig > 1).sum())
            row["pc1_loadings"] = "; ".join(f"{c}={w:.4f}" for c, w in zip(varying, v, strict=True))
        rows.append(row)
    return pd.DataFrame(rows)


def coherence_flags(result: EvaluationResult, collinear: float = COLLINEAR) -> pd.DataFrame:
    """Problems worth a look: two children of one aggregate with |Pearson r| > `collinear`
    (they measure the same thing and double its weight), and a child whose Pearson
    correlation with its own aggregate is negative (it pulls against the aggregate).

    # OECD/JRC Handbook (2008) §4 and §7 (correlation analysis of the structure).
    """
    r, _, _ = _pearson_of(result)
    rv = r.to_numpy(dtype=float)
    pos = {c: k for k, c in enumerate(r.columns)}
    rows = []
    for node, kids in _children(result).items():
        for a_i, a in enumerate(kids):
            for b in kids[a_i + 1 :]:
                v = float(rv[pos[a], pos[b]])
                if np.isfinite(v) and abs(v) > collinear:
                    rows.append(
                        {
                            "aggregate": node,
                            "node": a,
                            "other": b,
                            "r": v,
                            "flag": "collinear",
                            "message": f"'{a}' and '{b}' in '{node}' correlate at r = {v:.3f} "
                            f"(|r| > {collinear:g}): they may measure the same thing",
                        }
                    )
            v = float(rv[pos[a], pos[node]])
            if np.isfinite(v) and v < 0:
                rows.append(
                    {
                        "aggregate": node,
                        "node": a,
                        "other": node,
                        "r": v,
                        "flag": "negative with parent",
                        "message": f"'{a}' correlates negatively with its own aggregate '{node}' "
                        f"(r = {v:.3f}); check its direction",
                    }
                )
    return pd.DataFrame(rows, columns=["aggregate", "node", "other", "r", "flag", "message"])


def coherence(result: EvaluationResult) -> dict[str, pd.DataFrame]:
    """Every coherence table, by name: correlations, alpha, pca, flags."""
    return {
        "correlations": correlations(result),
        "alpha": cronbach_alpha(result),
        "pca": pca_variance(result),
        "flags": coherence_flags(result),
    }
