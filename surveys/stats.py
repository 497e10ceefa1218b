"""Are the rating distributions of departments (or apps) different? Rank tests on the
five-level ratings, computed from the daily roll-up counts — never from raw ratings.

Ratings are ordinal (1 非常不滿意 … 5 非常滿意) and heavily tied (five values), so every
statistic here is rank-based with the tie correction, and is computed from the g × 5
contingency table of counts (groups × levels) in O(g · 5) instead of expanding millions of
ratings:

- **Kruskal–Wallis H** across all groups (Kruskal & Wallis 1952, JASA 47:583–621), tie
  corrected, with the effect size ε² = H / (N − 1) (Tomczak & Tomczak 2014, Trends in
  Sport Sciences 21:19–25; Kelley 1935).
- **Pairwise tests** for every pair of groups, Holm-adjusted (Holm 1979, Scand. J.
  Statist. 6:65–70):
  - Dunn's test (Dunn 1964, Technometrics 6:241–252) on the mean ranks of the joint
    Kruskal–Wallis ranking, tie corrected — the default, since it uses the same ranking
    as the omnibus test;
  - or the Mann–Whitney U test (Mann & Whitney 1947), normal approximation with tie
    correction and continuity correction, exactly as `scipy.stats.mannwhitneyu(...,
    method="asymptotic")`.
- **Effect size per pair**: Cliff's delta δ = P(A > B) − P(A < B) (Cliff 1993, Psychol.
  Bull. 114:494–509), which equals the rank-biserial correlation 2U/(n_A n_B) − 1
  (Kerby 2014); magnitude labels after Romano et al. (2006): |δ| < 0.147 negligible,
  < 0.33 small, < 0.474 medium, else large.

Mid-ranks of level k in a pooled sample with level totals t_1…t_5 are
T_{<k} + (t_k + 1)/2, where T_{<k} is the number of ratings below level k.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from sqlalchemy import text
from sqlmodel import Session

from egov.errors import EgovError

LEVEL_COLUMNS = ["n1", "n2", "n3", "n4", "n5"]
BY = ("department", "object")
PAIRWISE = ("dunn", "mannwhitney")


# --- the statistics, from a groups × levels count table -----------------------------------------
def _counts_array(counts: npt.ArrayLike | pd.DataFrame) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    if c.ndim != 2:
        raise EgovError("rating counts must be a table: one row per group, one column per level")
    if (c < 0).any() or not np.isfinite(c).all() or (c != np.round(c)).any():
        raise EgovError("rating counts must be whole numbers ≥ 0")
    return c


def midranks(totals: np.ndarray) -> np.ndarray:
    """Mid-rank of each level in the pooled sample whose level totals are `totals`
    (ties share the mean of the ranks they occupy)."""
    t = np.asarray(totals, dtype=float)
    below = np.cumsum(t, axis=-1) - t
    return below + (t + 1) / 2


def tie_term(totals: np.ndarray) -> np.ndarray:
    """Σ (t³ − t) over the tie groups (the levels)."""
    t = np.asarray(totals, dtype=float)
    return np.asarray((t**3 - t).sum(axis=-1))


@dataclass(frozen=True)
class KruskalWallis:
    h: float  # tie-corrected H
    df: int
    p: float
    epsilon2: float  # ε² = H / (N − 1)
    n: int  # ratings
    groups: int


def kruskal_wallis(counts: npt.ArrayLike | pd.DataFrame) -> KruskalWallis:
    """Kruskal–Wallis H from counts (rows: groups, columns: ordered levels), tie corrected.

    H = [12 / (N(N+1))] Σ_g R_g² / n_g − 3(N+1), with R_g = Σ_k n_gk · midrank_k, divided by
    C = 1 − Σ(t³ − t) / (N³ − N) (Kruskal & Wallis 1952, eq. 1.1 and 4.1). Groups without
    ratings are left out. Equals `scipy.stats.kruskal` on the expanded ratings.
    """
    c = _counts_array(counts)
    c = c[c.sum(axis=1) > 0]
    g = c.shape[0]
    n_g = c.sum(axis=1)
    n = float(n_g.sum())
    if g < 2:
        raise EgovError("the Kruskal–Wallis test needs at least two groups with ratings")
    totals = c.sum(axis=0)
    ranks = midranks(totals)
    r_g = c @ ranks
    h = 12.0 / (n * (n + 1)) * float((r_g**2 / n_g).sum()) - 3 * (n + 1)
    correction = 1 - float(tie_term(totals)) / (n**3 - n) if n > 1 else 0.0
    if correction <= 0:  # every rating at one level: no ranking information
        return KruskalWallis(float("nan"), g - 1, float("nan"), float("nan"), int(n), g)
    h /= correction
    h = max(h, 0.0)
    p = float(stats.chi2.sf(h, g - 1))
    return KruskalWallis(h, g - 1, p, h / (n - 1), int(n), g)


def holm(p: np.ndarray | list[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979): sort ascending, multiply the i-th
    smallest (1-based) by m − i + 1, carry the running maximum, cap at 1. NaN stays NaN
    and does not count towards m."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(p[ok], kind="mergesort")]
    adjusted = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out[order] = np.minimum(adjusted, 1.0)
    return out


def magnitude(delta: npt.ArrayLike) -> np.ndarray:
    """Romano et al. (2006) labels of |Cliff's delta|."""
    d = np.abs(np.asarray(delta, dtype=float))
    return np.select(
        [np.isnan(d), d < 0.147, d < 0.33, d < 0.474], ["", "negligible", "small", "medium"], "large"
    )


def _pairs(g: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(g, k=1)


def _u_statistic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """U of A against B per pair from level counts: pairs with A above B plus half the ties."""
    b_below = np.cumsum(b, axis=-1) - b
    return np.asarray((a * (b_below + 0.5 * b)).sum(axis=-1))


def cliffs_delta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cliff's delta P(A > B) − P(A < B) from level counts (rows are pairs, or one pair)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n_ab = a.sum(axis=-1) * b.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(2 * _u_statistic(a, b) / n_ab - 1)


def pairwise(counts: pd.DataFrame, method: str = "dunn") -> pd.DataFrame:
    """Every pair of groups (rows of `counts`, columns n1…n5): the test statistic, two-sided
    p, Holm-adjusted p and Cliff's delta (positive: the first group rates higher).

    method "dunn": z = (R̄_a − R̄_b) / sqrt([N(N+1)/12 − Σ(t³−t)/(12(N−1))] (1/n_a + 1/n_b))
    on the joint ranking (Dunn 1964, eq. 3 with the tie correction).
    method "mannwhitney": each pair ranked on its own; U = U_a, z = (max(U_a, U_b) −
    n_a n_b/2 − 0.5) / σ, σ² = n_a n_b/12 [(n+1) − Σ(t³−t)/(n(n−1))], p = 2 Φ(−z)
    (as scipy.stats.mannwhitneyu, method="asymptotic", use_continuity=True).
    """
    if method not in PAIRWISE:
        raise EgovError(f"pairwise method {method!r}: use {' or '.join(PAIRWISE)}")
    c = _counts_array(counts)
    names = np.asarray(counts.index, dtype=object)
    keep = c.sum(axis=1) > 0
    c, names = c[keep], names[keep]
    i, j = _pairs(len(names))
    a, b = c[i], c[j]
    n_a, n_b = a.sum(axis=1), b.sum(axis=1)
    mean_level = (c * np.arange(1, c.shape[1] + 1)).sum(axis=1) / c.sum(axis=1)
    u = _u_statistic(a, b)
    delta = 2 * u / (n_a * n_b) - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "dunn":
            totals = c.sum(axis=0)
            n = totals.sum()
            mean_rank = (c @ midranks(totals)) / c.sum(axis=1)
            var = n * (n + 1) / 12 - tie_term(totals) / (12 * (n - 1))
            z = (mean_rank[i] - mean_rank[j]) / np.sqrt(var * (1 / n_a + 1 / n_b))
            p = 2 * stats.norm.sf(np.abs(z))
            statistic = mean_rank[i] - mean_rank[j]
        else:
            t = a + b
            n_pair = n_a + n_b
            sigma = np.sqrt(n_a * n_b / 12 * ((n_pair + 1) - tie_term(t) / (n_pair * (n_pair - 1))))
            u_max = np.maximum(u, n_a * n_b - u)
            z = (u_max - n_a * n_b / 2 - 0.5) / sigma
            p = np.clip(2 * stats.norm.sf(z), 0, 1)
            z = np.sign(delta) * np.abs(z)
            statistic = u
    out = pd.DataFrame(
        {
            "a": names[i],
            "b": names[j],
            "n_a": n_a.astype(int),
            "n_b": n_b.astype(int),
            "mean_level_a": mean_level[i],
            "mean_level_b": mean_level[j],
            "statistic": statistic,
            "z": z,
            "p": p,
        }
    )
    out["p_holm"] = holm(out["p"].to_numpy())
    out["cliffs_delta"] = delta
    out["magnitude"] = magnitude(delta)
    return out


# --- from the database ---------------------------------------------------------------------------
def level_counts(
    session: Session, start: date | None = None, end: date | None = None, by: str = "department"
) -> pd.DataFrame:
    """Counted ratings per group and level from the daily roll-ups (SQL GROUP BY): index
    the department or object code, columns n1…n5 (ints), days in [start, end] if given."""
    if by not in BY:
        raise EgovError(f"--by {by!r}: use department or object")
    key = "dep.code" if by == "department" else "o.code"
    where, params = [], {}
    if start is not None:
        where.append("d.day >= :start")
        params["start"] = start
    if end is not None:
        where.append("d.day <= :end")
        params["end"] = end
    sql = (
        f"SELECT {key} AS grp, SUM(d.n1), SUM(d.n2), SUM(d.n3), SUM(d.n4), SUM(d.n5) "
        "FROM rating_daily d JOIN assessed_object o ON o.id = d.object_id "
        "JOIN department dep ON dep.id = o.department_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" GROUP BY {key} ORDER BY {key}"
    )
    rows = session.execute(text(sql), params).all()
    df = pd.DataFrame(rows, columns=[by, *LEVEL_COLUMNS]).set_index(by)
    return df.fillna(0).astype(int)


@dataclass
class RatingComparison:
    by: str
    method: str
    counts: pd.DataFrame  # groups compared: n1…n5, n, mean_level, share_satisfied
    kruskal: KruskalWallis | None
    pairs: pd.DataFrame
    excluded: list[str] = field(default_factory=list)  # groups with too few ratings


def describe_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Counts with n, mean level and % satisfied (levels 4–5) per group."""
    out = counts.copy()
    n = out[LEVEL_COLUMNS].sum(axis=1)
    out["n"] = n
    out["mean_level"] = (out[LEVEL_COLUMNS].to_numpy() * np.arange(1, 6)).sum(axis=1) / n
    out["share_satisfied"] = (out["n4"] + out["n5"]) / n * 100
    return out


def compare_ratings(
    session: Session,
    start: date | None = None,
    end: date | None = None,
    by: str = "department",
    method: str = "dunn",
    min_ratings: int = 30,
) -> RatingComparison:
    """Kruskal–Wallis across the groups with at least `min_ratings` ratings, then every
    pair (Dunn or Mann–Whitney, Holm-adjusted) with Cliff's delta."""
    if method not in PAIRWISE:
        raise EgovError(f"--pairwise {method!r}: use {' or '.join(PAIRWISE)}")
    counts = level_counts(session, start, end, by)
    n = counts.sum(axis=1)
    excluded = sorted(str(x) for x in counts.index[n < max(min_ratings, 1)])
    counts = counts[n >= max(min_ratings, 1)]
    table = describe_counts(counts)
    if len(counts) < 2:
        return RatingComparison(by, method, table, None, pairwise(counts.iloc[:0], method), excluded)
    return RatingComparison(by, method, table, kruskal_wallis(counts), pairwise(counts, method), excluded)
