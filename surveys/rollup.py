"""SQL roll-ups of citizen ratings and the rating-derived indicator values.

Raw ratings never travel into pandas: counts per object, day and level are computed by the
database (`GROUP BY`), and the indicator values of a period are computed from the roll-ups
(one row per object), so scoring cost grows with objects × days, not with ratings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

LEVEL_SUMS = ", ".join(f"SUM(CASE WHEN level = {k} THEN 1 ELSE 0 END)" for k in range(1, 6))


def rebuild_rollups(session: Session, start: date, end: date) -> int:
    """Recompute the daily roll-ups for days in [start, end] from the counted ratings
    (those without moderation flags): per object (`rating_daily`) and, for the ratings that
    name a service item, per service item, object and channel (`rating_service_daily`).
    Returns the number of `rating_daily` rows written."""
    params = {"start": start, "end": end}
    session.execute(text("DELETE FROM rating_daily WHERE day BETWEEN :start AND :end"), params)
    result = session.execute(
        text(
            "INSERT INTO rating_daily (object_id, day, n1, n2, n3, n4, n5) "
            f"SELECT object_id, day, {LEVEL_SUMS} FROM rating "
            "WHERE day BETWEEN :start AND :end AND flags = '' GROUP BY object_id, day"
        ),
        params,
    )
    session.execute(text("DELETE FROM rating_service_daily WHERE day BETWEEN :start AND :end"), params)
    session.execute(
        text(
            "INSERT INTO rating_service_daily (service_id, object_id, channel, day, n1, n2, n3, n4, n5) "
            f"SELECT service_id, object_id, channel, day, {LEVEL_SUMS} FROM rating "
            "WHERE day BETWEEN :start AND :end AND flags = '' AND service_id IS NOT NULL "
            "GROUP BY service_id, object_id, channel, day"
        ),
        params,
    )
    return int(getattr(result, "rowcount", 0) or 0)


# Incremental roll-ups: the same statement on SQLite (≥ 3.24) and PostgreSQL (≥ 9.5).
UPSERT_ROLLUP = text(
    "INSERT INTO rating_daily (object_id, day, n1, n2, n3, n4, n5) "
    "VALUES (:object_id, :day, :n1, :n2, :n3, :n4, :n5) "
    "ON CONFLICT (object_id, day) DO UPDATE SET "
    + ", ".join(f"n{k} = rating_daily.n{k} + excluded.n{k}" for k in range(1, 6))
)
UPSERT_SERVICE_ROLLUP = text(
    "INSERT INTO rating_service_daily (service_id, object_id, channel, day, n1, n2, n3, n4, n5) "
    "VALUES (:service_id, :object_id, :channel, :day, :n1, :n2, :n3, :n4, :n5) "
    "ON CONFLICT (service_id, object_id, channel, day) DO UPDATE SET "
    + ", ".join(f"n{k} = rating_service_daily.n{k} + excluded.n{k}" for k in range(1, 6))
)
UPSERT_OFFER = text(
    "INSERT INTO offer_daily (object_id, day, n_offered) VALUES (:object_id, :day, :n) "
    "ON CONFLICT (object_id, day) DO UPDATE SET n_offered = offer_daily.n_offered + excluded.n_offered"
)


def add_to_rollups(session: Session, deltas: Mapping[tuple[int, date], list[int]]) -> None:
    """Add per-level count changes {(object_id, day): [d1, …, d5]} to the daily roll-ups, in
    the caller's transaction (negative deltas remove a rating that no longer counts)."""
    rows = [
        {"object_id": o, "day": d, **{f"n{k + 1}": int(v[k]) for k in range(5)}}
        for (o, d), v in sorted(deltas.items())
        if any(v)
    ]
    if rows:
        driver_executemany(session, str(UPSERT_ROLLUP), rows)


ServiceKey = tuple[int, int, str, date]  # (service item id, object id, rating channel, day)


def add_to_service_rollups(session: Session, deltas: Mapping[ServiceKey, list[int]]) -> None:
    """Add per-level count changes {(service_id, object_id, channel, day): [d1, …, d5]} to the
    service-item roll-ups, in the caller's transaction; every path that changes `rating_daily`
    for a rating naming a service item calls it with the same change."""
    rows = [
        {
            "service_id": s,
            "object_id": o,
            "channel": c,
            "day": d,
            **{f"n{k + 1}": int(v[k]) for k in range(5)},
        }
        for (s, o, c, d), v in sorted(deltas.items())
        if any(v)
    ]
    if rows:
        driver_executemany(session, str(UPSERT_SERVICE_ROLLUP), rows)


def count_rating_change(
    session: Session, rating: Any, delta: list[int], *, channel: str | None = None, per_object: bool = True
) -> None:
    """One rating's count change (a review accepted it: +1; an appeal removed it: −1) in both
    roll-ups: per object and day (unless not `per_object`), and per service item when the
    rating names one. `rating`: anything with object_id, day, service_id and channel (a
    `Rating`); `channel`: the channel the change counts on, when not the rating's own."""
    if per_object:
        add_to_rollups(session, {(rating.object_id, rating.day): delta})
    if rating.service_id is not None:
        key = (int(rating.service_id), int(rating.object_id), channel or rating.channel, rating.day)
        add_to_service_rollups(session, {key: delta})


def driver_executemany(session: Session, sql: str, rows: list[dict[str, Any]]) -> Any:
    """executemany straight through the driver, for the hot paths (SQLAlchemy's per-row
    parameter processing costs more than the database does). `sql` uses :name
    placeholders (rewritten to %(name)s for psycopg); for SQLite, dates and times are
    passed as the text SQLAlchemy itself stores (naive UTC, ISO dates)."""
    conn = session.connection()
    if conn.dialect.paramstyle == "pyformat":
        sql = pyformat(sql)
    elif conn.dialect.name == "sqlite" and rows:
        timely = [k for k, v in rows[0].items() if isinstance(v, date)]  # datetime is a date too
        if timely:
            rows = [{**r, **{k: sqlite_value(r[k]) for k in timely}} for r in rows]
    return conn.exec_driver_sql(sql, rows if len(rows) != 1 else rows[0])


@lru_cache(maxsize=64)
def pyformat(sql: str) -> str:
    """`sql` with its :name placeholders as psycopg's %(name)s."""
    return re.sub(r":(\w+)", r"%(\1)s", sql)


def sqlite_value(v: Any) -> Any:
    """A date or time as SQLAlchemy stores it on SQLite (naive UTC text, ISO date); anything
    else as it is."""
    if isinstance(v, datetime):
        return (v.astimezone(UTC) if v.tzinfo else v).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    return v


def add_offers(session: Session, offers: Mapping[tuple[int, date], int]) -> None:
    """Count transactions offered a rating (the response-rate denominator)."""
    rows = [{"object_id": o, "day": d, "n": n} for (o, d), n in sorted(offers.items()) if n]
    if rows:
        session.execute(UPSERT_OFFER, rows)


MEASURES = ("share_satisfied", "mean_level", "bad_share", "response_rate", "count")
EXTRA_MEASURES = (
    "share_satisfied_low",
    "share_satisfied_high",
    "satisfaction_eb",
    "no_rating_rate",
    "offered",
    "n1",
    "n2",
    "n3",
    "n4",
    "n5",
)


def wilson_interval(
    successes: np.ndarray, n: np.ndarray, z: float = 1.959964
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion (Wilson 1927, JASA 22:209–212), as fractions.

    Unlike the normal approximation it stays inside [0, 1] and behaves for small n or p near
    0 or 1 (Brown, Cai & DasGupta 2001 recommend it). z = 1.96 gives 95 %.
    """
    s = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = s / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def eb_shrunk_share(successes: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Empirical-Bayes shrunk share satisfied (fractions): a beta-binomial model whose Beta(α, β)
    prior is fitted to all objects by the method of moments (Robinson 2017, "Introduction to
    Empirical Bayes"; Efron & Morris 1975). Each object's posterior mean (s + α)/(n + α + β)
    pulls small samples toward the overall mean, so ranking by it does not reward a lucky
    object with five ratings. With fewer than two objects, or no overdispersion, the prior is
    the pooled share with weight 1."""
    s = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    ok = m > 0
    if not ok.any():
        return np.full_like(s, np.nan)
    p = np.where(ok, s / np.where(ok, m, 1), np.nan)
    pooled = s[ok].sum() / m[ok].sum()
    strength = 1.0
    if ok.sum() >= 2:
        # method of moments on the object shares, binomial noise removed (Kleinman 1973)
        w = m[ok] / m[ok].sum()
        mean = float((w * p[ok]).sum())
        var_obs = float((w * (p[ok] - mean) ** 2).sum())
        noise = float((w * mean * (1 - mean) / m[ok]).sum())
        between = var_obs - noise
        if between > 1e-12 and 0 < mean < 1:
            strength = max(mean * (1 - mean) / between - 1, 1e-6)  # α + β
            pooled = mean
        else:
            strength = float(m[ok].sum())  # no spread beyond chance: everyone to the mean
    alpha, beta = pooled * strength, (1 - pooled) * strength
    return np.where(ok, (s + alpha) / (m + alpha + beta), np.nan)


def rating_measures(
    session: Session, start: date, end: date, min_ratings: int = 30
) -> tuple[pd.DataFrame, list[str]]:
    """Rating-derived values per object code for a period, from the roll-ups.

    share_satisfied: % of ratings at levels 4–5; mean_level: mean of levels 1–5;
    bad_share: % at levels 1–2 (bad ratings, GB/T 39735-2020 好差評); response_rate:
    ratings ÷ transactions offered a rating × 100; count: number of ratings.
    Also (EXTRA_MEASURES): share_satisfied_low/high, the Wilson 95 % interval of the share
    satisfied; satisfaction_eb, the empirical-Bayes shrunk share satisfied for ranking;
    no_rating_rate, % of offered transactions not rated (missing ratings are never
    defaulted to a level); offered; n1…n5, counts per level.
    Objects with fewer than `min_ratings` ratings get no value (insufficient, not ranked),
    and a note says so.
    """
    rows = session.execute(
        text(
            "SELECT o.code, SUM(d.n1), SUM(d.n2), SUM(d.n3), SUM(d.n4), SUM(d.n5) "
            "FROM rating_daily d JOIN assessed_object o ON o.id = d.object_id "
            "WHERE d.day BETWEEN :start AND :end GROUP BY o.code"
        ),
        {"start": start, "end": end},
    ).all()
    offers = dict(
        session.execute(
            text(
                "SELECT o.code, SUM(f.n_offered) FROM offer_daily f "
                "JOIN assessed_object o ON o.id = f.object_id "
                "WHERE f.day BETWEEN :start AND :end GROUP BY o.code"
            ),
            {"start": start, "end": end},
        ).all()
    )
    notes: list[str] = []
    if not rows:
        return pd.DataFrame(columns=[*MEASURES, *EXTRA_MEASURES], dtype=float), notes
    counts = (
        pd.DataFrame(rows, columns=["object", "n1", "n2", "n3", "n4", "n5"]).set_index("object").astype(float)
    )
    n = counts.sum(axis=1)
    out = pd.DataFrame(index=counts.index, dtype=float)
    out["share_satisfied"] = (counts["n4"] + counts["n5"]) / n * 100
    out["mean_level"] = (counts * np.arange(1, 6)).sum(axis=1) / n
    out["bad_share"] = (counts["n1"] + counts["n2"]) / n * 100
    offered = pd.Series(offers, dtype=float).reindex(out.index)
    out["response_rate"] = (n / offered.where(offered > 0)) * 100
    out["count"] = n
    sat = (counts["n4"] + counts["n5"]).to_numpy()
    low, high = wilson_interval(sat, n.to_numpy())
    out["share_satisfied_low"] = low * 100
    out["share_satisfied_high"] = high * 100
    out["satisfaction_eb"] = eb_shrunk_share(sat, n.to_numpy()) * 100
    out["no_rating_rate"] = ((offered - n).clip(lower=0) / offered.where(offered > 0)) * 100
    out["offered"] = offered
    for k in range(1, 6):
        out[f"n{k}"] = counts[f"n{k}"]
    few = n < min_ratings
    if few.any():
        hidden = [
            m
            for m in (*MEASURES, *EXTRA_MEASURES)
            if m not in ("count", "offered", "n1", "n2", "n3", "n4", "n5")
        ]
        out.loc[few, hidden] = np.nan
        notes.append(
            f"{int(few.sum())} object(s) with fewer than {min_ratings} ratings have no rating-derived "
            f"values (insufficient): {', '.join(sorted(out.index[few])[:10])}"
        )
    return out, notes
