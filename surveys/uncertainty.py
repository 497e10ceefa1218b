"""Sampling error of rating-derived indicators: posterior draws from the roll-up counts.

Works on the counts table (one row per object: ratings per level n1…n5 and transactions
offered a rating), so no raw rating is loaded; `rating_counts` gets it from the daily
roll-ups with the SQL `GROUP BY` of `surveys.rollup.rating_measures`.

Model: an object's ratings are a multinomial sample of its users' opinion. With a uniform
Dirichlet(1, …, 1) prior the posterior of the level shares is Dirichlet(1 + n1, …, 1 + n5)
(Gelman et al., Bayesian Data Analysis, 3rd ed. 2013, §3.4); each draw of the shares gives
draws of share_satisfied (levels 4–5, %), mean_level (Σ k p_k) and bad_share (levels 1–2,
%). The response rate's posterior is Beta(1 + ratings, 1 + offered − ratings) (§2.4), × 100.
Objects below the minimum count get no draws, as they get no value (insufficient).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlmodel import Session

from egov.errors import EgovError
from indicators.framework import Framework
from surveys.rollup import rating_measures

DRAWN_MEASURES = ("share_satisfied", "mean_level", "bad_share", "response_rate")
LEVELS = ("n1", "n2", "n3", "n4", "n5")


def rating_counts(session: Session, start: date, end: date) -> pd.DataFrame:
    """Ratings per level and transactions offered per object code for [start, end], from the
    daily roll-ups (SQL `GROUP BY`): columns n1…n5, offered."""
    measures, _ = rating_measures(session, start, end, min_ratings=0)
    if measures.empty:
        return pd.DataFrame(columns=[*LEVELS, "offered"], dtype=float)
    return measures[[*LEVELS, "offered"]].astype(float)


def posterior_draws(counts: pd.DataFrame, n_draws: int, seed: int = 1, min_ratings: int = 30) -> pd.DataFrame:
    """Posterior draws of the rating measures: index = draw, columns = (measure, object).

    counts: one row per object with n1…n5 and optionally `offered` (response rate).
    Objects with fewer than `min_ratings` ratings get no draws (NaN), as they get no value.
    """
    missing = [c for c in LEVELS if c not in counts.columns]
    if missing:
        raise EgovError(f"rating counts need the columns {', '.join(LEVELS)}; missing {', '.join(missing)}")
    if n_draws < 1:
        raise EgovError("the number of rating draws must be at least 1")
    c = counts[list(LEVELS)].to_numpy(dtype=float)
    if np.any(c < 0) or not np.isfinite(c).all():
        raise EgovError("rating counts must be finite and >= 0")
    rng = np.random.default_rng(seed)
    total = c.sum(axis=1)
    # Dirichlet(1 + counts) through normalised Gamma variables (Devroye 1986, ch. XI.4)
    g = rng.gamma(1.0 + c[None, :, :], 1.0, size=(n_draws, *c.shape))
    p = g / g.sum(axis=2, keepdims=True)  # (draws, objects, 5)
    out = {
        "share_satisfied": (p[:, :, 3] + p[:, :, 4]) * 100,
        "mean_level": p @ np.arange(1.0, 6.0),
        "bad_share": (p[:, :, 0] + p[:, :, 1]) * 100,
    }
    if "offered" in counts.columns:
        offered = counts["offered"].to_numpy(dtype=float)
        ok = np.isfinite(offered) & (offered > 0)
        a = 1.0 + total
        b = 1.0 + np.clip(np.where(ok, offered, 0.0) - total, 0.0, None)
        rate = rng.beta(a[None, :], b[None, :], size=(n_draws, len(total))) * 100
        out["response_rate"] = np.where(ok[None, :], rate, np.nan)
    few = total < min_ratings
    objects = counts.index.map(str)
    frames = {m: pd.DataFrame(np.where(few[None, :], np.nan, v), columns=objects) for m, v in out.items()}
    return pd.concat(frames, axis=1, names=["measure", "object"])


def indicator_draws(framework: Framework, draws: pd.DataFrame) -> pd.DataFrame:
    """The draws of the framework's rating-derived indicators: columns (indicator, unit),
    one block per indicator whose `measure` was drawn (for `evaluation.uncertainty`)."""
    blocks = {}
    drawn = set(draws.columns.get_level_values(0)) if not draws.empty else set()
    for node in framework.indicators:
        if node.source == "rating" and node.measure in drawn:
            blocks[node.code] = pd.DataFrame(draws[node.measure])
    if not blocks:
        return pd.DataFrame(index=draws.index)
    return pd.concat(blocks, axis=1, names=["indicator", "unit"])
