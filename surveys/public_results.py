"""Public results of citizen ratings (issue 17 point 5; 好差評: 評價結果及整改情況向社會公開): the
figures of a span of days per department and per service item, with no personal data — read
from the roll-ups and from the cases' dates and states only (never a comment, a pseudonym, a
staff label, a note, an answer text or a transaction reference).

Per **department** three groups of figures, kept apart:
- `objects`: the ratings of the department's own objects (its apps, sites, counters), from
  `rating_daily`, whatever service item they name;
- `services`: the ratings of the service items the department owns, from the service-item
  roll-up (`surveys.services.service_ratings`, by="department"): a rating given inside Macao One
  Account (SAFP) for a DSF service counts for DSF here;
- `cases`: the bad-rating cases the department handles (a case belongs to the rated object's
  department, surveys.cases), opened in the span.

Per **service item**: its ratings (`service_ratings`, by="service"), the same by rating channel,
and the cases of the bad ratings naming it (whoever handles them).

Ratings: counts, share satisfied (levels 4–5) with its Wilson 95 % interval, mean level, bad
ratings (levels 1–2) and their share; below the minimum count (`EGOV_MIN_RATINGS`) the share,
its interval, the mean and the bad share are null (withheld) and `withheld` is true; the counts
stay. Cases (`CaseFigures`): opened, removed on appeal, answered (rectified or explained), on
time by the one definition of `surveys.casework.timeliness` (as the case desk), days from the
rating to the answer in **calendar days** (median and mean, as the desk's mean), return-visit
outcomes and the share satisfied of the citizens reached.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import select, text
from sqlmodel import Session, col

from egov.models import Department, Rating, RatingCase
from egov.models_services import ServiceItem
from surveys.casework import LATE, ON_TIME, OVERDUE, timeliness
from surveys.services import LEVELS, level_measures, service_ratings

GROUPS = ("objects", "services")
RATING_FIGURES: tuple[str, ...] = (*LEVELS, "count", "bad", "share_satisfied", "share_satisfied_low")
RATING_FIGURES += ("share_satisfied_high", "mean_level", "bad_share", "withheld")
CASE_FIGURES: tuple[str, ...] = ("cases", "removed", "answered", "rectified", "explained", "due", "on_time")
CASE_FIGURES += ("late", "overdue", "on_time_rate", "median_days", "mean_days", "visits_satisfied")
CASE_FIGURES += ("visits_unsatisfied", "visits_unreachable", "visit_satisfaction")


@dataclass
class CaseFigures:
    """The bad-rating cases of a department or service item opened in a span of days."""

    cases: int = 0
    removed: int = 0  # the rating removed on appeal: no answer owed
    rectified: int = 0
    explained: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0  # not answered, the deadline passed
    days: list[int] = field(default_factory=list)  # calendar days, rating → answer
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        return self.rectified + self.explained

    @property
    def due(self) -> int:
        """Cases whose answer was due by `today`: answered (on time or late) or overdue."""
        return self.on_time + self.late + self.overdue

    @property
    def on_time_rate(self) -> float | None:
        return 100.0 * self.on_time / self.due if self.due else None

    @property
    def median_days(self) -> float | None:
        return float(statistics.median(self.days)) if self.days else None

    @property
    def mean_days(self) -> float | None:
        return sum(self.days) / len(self.days) if self.days else None

    @property
    def visit_satisfaction(self) -> float | None:
        reached = self.outcomes.get("satisfied", 0) + self.outcomes.get("unsatisfied", 0)
        return 100.0 * self.outcomes.get("satisfied", 0) / reached if reached else None

    def row(self) -> dict[str, Any]:
        """The figures as one row (CASE_FIGURES)."""
        return {
            "cases": self.cases,
            "removed": self.removed,
            "answered": self.answered,
            "rectified": self.rectified,
            "explained": self.explained,
            "due": self.due,
            "on_time": self.on_time,
            "late": self.late,
            "overdue": self.overdue,
            "on_time_rate": self.on_time_rate,
            "median_days": self.median_days,
            "mean_days": self.mean_days,
            "visits_satisfied": self.outcomes.get("satisfied", 0),
            "visits_unsatisfied": self.outcomes.get("unsatisfied", 0),
            "visits_unreachable": self.outcomes.get("unreachable", 0),
            "visit_satisfaction": self.visit_satisfaction,
        }


def _add_case(fig: CaseFigures, row: Any, today: date) -> None:
    state, opened, due, answered, visited, outcome, tier = row
    fig.cases += 1
    fig.removed += state == "removed"
    when = timeliness(state, due, answered, today)
    fig.on_time += when == ON_TIME
    fig.late += when == LATE
    fig.overdue += when == OVERDUE
    if answered is not None:
        if tier == "explain":
            fig.explained += 1
        else:
            fig.rectified += 1
        fig.days.append((answered - opened).days)
    if visited is not None and outcome:
        fig.outcomes[outcome] = fig.outcomes.get(outcome, 0) + 1


def case_figures(session: Session, start: date, end: date, by: str, today: date) -> dict[str, CaseFigures]:
    """The cases opened in [start, end] by the code of the department that handles them
    (`by="department"`) or of the service item their rating names (`by="service"`)."""
    fields = (
        col(RatingCase.state),
        col(RatingCase.opened_day),
        col(RatingCase.rectify_due),
        col(RatingCase.rectified_day),
        col(RatingCase.return_visit_day),
        col(RatingCase.visit_outcome),
        col(RatingCase.tier),
    )
    if by == "department":
        query = select(col(Department.code), *fields).join(
            Department, col(Department.id) == col(RatingCase.department_id)
        )
    elif by == "service":
        query = (
            select(col(ServiceItem.code), *fields)
            .join(Rating, col(Rating.id) == col(RatingCase.rating_id))
            .join(ServiceItem, col(ServiceItem.id) == col(Rating.service_id))
        )
    else:
        raise ValueError(f"by {by!r}: department or service")
    query = query.where(col(RatingCase.opened_day).between(start, end)).order_by(col(RatingCase.id))
    out: dict[str, CaseFigures] = {}
    for row in session.execute(query).all():
        _add_case(out.setdefault(str(row[0]), CaseFigures()), row[1:], today)
    return out


def _with_bad(df: pd.DataFrame, min_ratings: int) -> pd.DataFrame:
    df = df.copy()
    df["bad"] = (df["n1"] + df["n2"]).astype(int) if not df.empty else pd.Series(dtype=int)
    df["withheld"] = df["count"] < min_ratings if not df.empty else pd.Series(dtype=bool)
    return df


def object_ratings(
    session: Session, start: date, end: date, by: str = "department", min_ratings: int = 30
) -> pd.DataFrame:
    """Counted ratings of [start, end] by the department owning the rated object
    (`by="department"`) or by object (`by="object"`, with its department), from `rating_daily`:
    RATING_FIGURES, the estimates null below `min_ratings`."""
    keys = {"department": ("d.code",), "object": ("o.code", "d.code")}[by]
    names = {"department": ["department"], "object": ["object", "department"]}[by]
    sums = ", ".join(f"SUM(r.{n})" for n in LEVELS)
    rows = session.execute(
        text(
            f"SELECT {', '.join(keys)}, {sums} FROM rating_daily r "
            "JOIN assessed_object o ON o.id = r.object_id JOIN department d ON d.id = o.department_id "
            f"WHERE r.day BETWEEN :start AND :end GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}"
        ),
        {"start": start, "end": end},
    ).all()
    counts = pd.DataFrame(rows, columns=[*names, *LEVELS])
    return _with_bad(level_measures(counts, min_ratings), min_ratings)


def item_ratings(
    session: Session, start: date, end: date, by: str = "service", min_ratings: int = 30
) -> pd.DataFrame:
    """Counted ratings naming a service item, by service item (`by="service"`, with its owner),
    by owning department (`"department"`) or by service item × rating channel (`"channel"`,
    summed over the objects it was given through): RATING_FIGURES
    (`surveys.services.service_ratings`)."""
    if by == "channel":
        detail = service_ratings(session, start, end, by="channel", min_ratings=min_ratings)
        counts = (
            detail.groupby(["service", "channel"], as_index=False)[list(LEVELS)].sum()
            if not detail.empty
            else pd.DataFrame(columns=["service", "channel", *LEVELS])
        )
        return _with_bad(level_measures(counts, min_ratings), min_ratings)
    return _with_bad(service_ratings(session, start, end, by=by, min_ratings=min_ratings), min_ratings)


def first_rating_day(session: Session) -> date | None:
    """The first day with a counted rating (the public periods start there)."""
    value = session.execute(text("SELECT MIN(day) FROM rating_daily")).scalar()
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
