"""Question-set answers: storing them with their rating, and the two statistics they feed.

- `insert_answers` / `replace_answers`: the rating's answers to its set's 5-point items, in the
  rating's transaction (the general rating path, surveys.ratings; the fast path declines a rating
  with a question set).
- `reason_counts`: counted bad ratings (levels 1–2, no moderation flag) by the SAFP complaint
  category of their reasons (surveys.question_sets.reason_category), in SAFP's order, so that
  the ratings line up with the statistics SAFP already publishes.
- `driver_scores`: per item (and department or object) the number of answers, the mean (1–5)
  and the share agreeing or satisfied (4–5, the "top-2 box" of OMB Circular A-11 reporting) with
  its Wilson 95 % interval (surveys.rollup.wilson_interval); below the minimum count
  (EGOV_MIN_RATINGS, as for the rating measures) mean and share are not given.

Raw ratings stay in the database: both statistics are SQL GROUP BY queries; only the groups
(a few per channel and reason combination, or per item and unit) come back.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlmodel import Session

from egov.errors import EgovError
from egov.settings import get_settings
from surveys.question_sets import find_set, reason_category, safp_categories
from surveys.rollup import driver_executemany, wilson_interval
from surveys.schemas import BAD_LEVELS, RatingCreate

ANSWER_BY_REF_SQL = (
    "INSERT INTO rating_answer (rating_id, question_set, set_version, item, value) "
    "SELECT id, :s, :v, :i, :val FROM rating WHERE object_id = :o AND transaction_ref = :x"
)
ANSWER_SQL = "INSERT INTO rating_answer (rating_id, question_set, set_version, item, value) VALUES (:r, :s, :v, :i, :val)"
TOP_BOX = 4  # levels 4–5 agree (or are satisfied): the top-2 box


def set_version(item: RatingCreate) -> str | None:
    """The version of the rating's question set: the one sent, else the set's current one."""
    if item.question_set is None:
        return None
    found = find_set(item.question_set, item.question_set_version)
    return found.version if found is not None else item.question_set_version


def _rows(item: RatingCreate, **where: Any) -> list[dict[str, Any]]:
    if item.question_set is None or not item.answers:
        return []
    version = set_version(item)
    return [
        {"s": item.question_set, "v": version, "i": code, "val": int(value), **where}
        for code, value in sorted(item.answers.items())
    ]


def insert_answers(session: Session, ratings: list[tuple[RatingCreate, int, str]]) -> None:
    """Store the answers of new ratings, each given as (item, object id, transaction reference):
    the rating is found by its unique (object, transaction)."""
    rows = [r for item, obj, ref in ratings for r in _rows(item, o=obj, x=ref)]
    if rows:
        driver_executemany(session, ANSWER_BY_REF_SQL, rows)


def replace_answers(session: Session, rating_id: int, item: RatingCreate) -> None:
    """The answers of an amended rating: the follow-up's replace the earlier ones."""
    session.execute(text("DELETE FROM rating_answer WHERE rating_id = :r"), {"r": rating_id})
    rows = _rows(item, r=rating_id)
    if rows:
        driver_executemany(session, ANSWER_SQL, rows)


def _department_id(session: Session, department: str | None) -> int | None:
    if department is None:
        return None
    found = session.execute(text("SELECT id FROM department WHERE code = :c"), {"c": department}).scalar()
    if found is None:
        raise EgovError(f"unknown department {department!r}")
    return int(found)


def reason_counts(
    session: Session, start: date, end: date, department: str | None = None
) -> tuple[pd.DataFrame, int]:
    """Counted bad ratings of days [start, end] (of one department's objects, or all) by SAFP
    category: for each category in SAFP's order, `ratings` (bad ratings with at least one reason
    in it; a rating whose reasons fall in two categories counts in both) and `share` (% of the bad
    ratings). Returns (the table, the number of bad ratings)."""
    dept = _department_id(session, department)
    where = " AND o.department_id = :d" if dept is not None else ""
    levels = ", ".join(str(x) for x in BAD_LEVELS)
    rows = session.execute(
        text(
            "SELECT r.channel, r.drivers, COUNT(*) FROM rating r JOIN assessed_object o ON o.id = r.object_id "
            f"WHERE r.level IN ({levels}) AND r.flags = '' AND r.day BETWEEN :start AND :end{where} "
            "GROUP BY r.channel, r.drivers"
        ),
        {"start": start, "end": end, "d": dept},
    ).all()
    counts: Counter[str] = Counter()
    total = 0
    for channel, drivers, n in rows:
        total += int(n)
        reasons = [d[1:] for d in str(drivers).split(",") if d.startswith("-")]
        for category in {reason_category(r, str(channel)) for r in reasons}:
            counts[category] += int(n)
    order = list(safp_categories())
    out = pd.DataFrame({"ratings": [counts.get(c, 0) for c in order]}, index=pd.Index(order, name="category"))
    out["share"] = out["ratings"] / total * 100 if total else np.nan
    return out, total


UNIT_COLUMN = {"department": "d.code", "object": "o.code", "all": "''"}
SCORE_COLUMNS = (
    "question_set",
    "set_version",
    "item",
    "unit",
    "n",
    "mean",
    "agree",
    "agree_share",
    "agree_low",
    "agree_high",
)


def driver_scores(
    session: Session, start: date, end: date, by: str = "department", min_count: int | None = None
) -> pd.DataFrame:
    """Per question set, version, item and unit (`by`: department, object or all), from the
    answers of counted ratings of days [start, end]: `n` answers, `mean` (1–5), `agree` (answers
    4–5) and `agree_share` (%, the top-2 box) with its Wilson 95 % interval `agree_low` /
    `agree_high` (Wilson 1927). Groups with fewer than `min_count` answers (default
    EGOV_MIN_RATINGS) keep their counts but no mean or share (insufficient)."""
    if by not in UNIT_COLUMN:
        raise EgovError(f"--by {by!r}: use department, object or all")
    minimum = get_settings().min_ratings if min_count is None else min_count
    unit = UNIT_COLUMN[by]
    rows = session.execute(
        text(
            f"SELECT a.question_set, a.set_version, a.item, {unit}, COUNT(*), SUM(a.value), "
            f"SUM(CASE WHEN a.value >= {TOP_BOX} THEN 1 ELSE 0 END) "
            "FROM rating_answer a JOIN rating r ON r.id = a.rating_id "
            "JOIN assessed_object o ON o.id = r.object_id JOIN department d ON d.id = o.department_id "
            "WHERE r.flags = '' AND r.day BETWEEN :start AND :end "
            f"GROUP BY a.question_set, a.set_version, a.item, {unit} "
            f"ORDER BY a.question_set, a.set_version, a.item, {unit}"
        ),
        {"start": start, "end": end},
    ).all()
    df = pd.DataFrame(
        [(s, v, i, u, int(n), float(total), int(agree)) for s, v, i, u, n, total, agree in rows],
        columns=["question_set", "set_version", "item", "unit", "n", "total", "agree"],
    )
    if df.empty:
        return pd.DataFrame(columns=list(SCORE_COLUMNS))
    n = df["n"].to_numpy(dtype=float)
    low, high = wilson_interval(df["agree"].to_numpy(dtype=float), n)
    df["mean"] = df["total"] / n
    df["agree_share"] = df["agree"] / n * 100
    df["agree_low"], df["agree_high"] = low * 100, high * 100
    few = df["n"] < minimum
    df.loc[few, ["mean", "agree_share", "agree_low", "agree_high"]] = np.nan
    return df[list(SCORE_COLUMNS)]
