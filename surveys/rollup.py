"""SQL roll-ups of citizen ratings and the rating-derived indicator values.

Raw ratings never travel into pandas: counts per object, day and level are computed by the
database (`GROUP BY`), and the indicator values of a period are computed from the roll-ups
(one row per object), so scoring cost grows with objects × days, not with ratings.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

LEVEL_SUMS = ", ".join(f"SUM(CASE WHEN level = {k} THEN 1 ELSE 0 END)" for k in range(1, 6))


def rebuild_rollups(session: Session, start: date, end: date) -> int:
    """Recompute the daily roll-ups for days in [start, end] from the counted ratings
    (those without moderation flags). Returns the number of roll-up rows written."""
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
    return int(getattr(result, "rowcount", 0) or 0)


MEASURES = ("share_satisfied", "mean_level", "bad_share", "response_rate", "count")


def rating_measures(
    session: Session, start: date, end: date, min_ratings: int = 30
) -> tuple[pd.DataFrame, list[str]]:
    """Rating-derived values per object code for a period, from the roll-ups.

    share_satisfied: % of ratings at levels 4–5; mean_level: mean of levels 1–5;
    bad_share: % at levels 1–2 (bad ratings, GB/T 39735-2020 好差評); response_rate:
    ratings ÷ transactions offered a rating × 100; count: number of ratings.
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
        return pd.DataFrame(columns=list(MEASURES), dtype=float), notes
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
    few = n < min_ratings
    if few.any():
        out.loc[few, [m for m in MEASURES if m != "count"]] = np.nan
        notes.append(
            f"{int(few.sum())} object(s) with fewer than {min_ratings} ratings have no rating-derived "
            f"values (insufficient): {', '.join(sorted(out.index[few])[:10])}"
        )
    return out, notes
