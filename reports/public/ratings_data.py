"""What the public ratings pages and their open data read (issue 17 point 5): the figures of a
period per department and per service item (`surveys.public_results`), with the names of the
register and the catalogue, computed once per process and period and kept `CACHE_SECONDS`
(ratings keep arriving, so the pages say "up to" the day they were computed).

**Periods** are the project's period codes (`egov.store.period_bounds`): a year (2026), a half
(2026H1) or a quarter (2026Q3). A period is public once it has started and when it does not end
before the first counted rating; anything else (an unknown code, a stored period with its own
dates, a future period) is `NoPublicRatings`, which every route answers with the same 404.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlmodel import Session, col, select

from egov.clock import local_day
from egov.errors import EgovError
from egov.models import AssessedObject, Department
from egov.settings import get_settings
from egov.store import period_bounds
from surveys.public_results import (
    CASE_FIGURES,
    GROUPS,
    RATING_FIGURES,
    CaseFigures,
    case_figures,
    first_rating_day,
    item_ratings,
    object_ratings,
)
from surveys.services import catalogue

CACHE_SECONDS = 300  # ratings keep arriving: the figures are kept five minutes
MAX_CACHED = 16
LANG_SUFFIX = (("zh-Hant", "zh"), ("pt", "pt"), ("en", "en"))


class NoPublicRatings(EgovError):
    """The period is unknown, not yet started or before the first rating: the same 404."""


@dataclass
class PublicRatings:
    """A period's public figures (no personal data): one row per department (code index; the
    `objects_*`, `services_*` and `cases_*` figures), per service item (code index; owner,
    catalogue channels, figures and `cases_*`), per service item × rating channel, per object."""

    period: str
    start: date
    end: date
    through: date  # the last day counted: the period's end, or today while it runs
    min_ratings: int
    departments: pd.DataFrame
    services: pd.DataFrame
    channels: pd.DataFrame
    objects: pd.DataFrame
    # the pages rendered from these figures (page, code, languages) → UTF-8 bytes: kept as long
    # as the figures are, so that a request within CACHE_SECONDS renders nothing
    rendered: dict[tuple[str, str, tuple[str, ...]], bytes] = field(default_factory=dict, repr=False)

    @property
    def complete(self) -> bool:
        return self.through >= self.end


def public_periods(session: Session, today: date | None = None) -> list[str]:
    """The periods with public figures, the latest first: every year from the first rating's to
    today's, each followed by its quarters that have started."""
    first = first_rating_day(session)
    today = today or local_day()
    if first is None or first > today:
        return []
    out: list[str] = []
    for year in range(today.year, first.year - 1, -1):
        out.append(str(year))
        quarters = [f"{year}Q{q}" for q in range(4, 0, -1)]
        out += [p for p in quarters if _span(p, first, today) is not None]
    return out


def _span(period: str, first: date, today: date) -> tuple[date, date] | None:
    try:  # a code such as 0000 follows the pattern but is no date
        bounds = period_bounds(period) if len(period) <= 10 and period.isascii() else None
    except ValueError:
        return None
    if bounds is None or bounds[0] > today or bounds[1] < first:
        return None
    return bounds


_cache: dict[tuple[str, str, date], tuple[float, PublicRatings]] = {}
_lock = threading.Lock()


def public_ratings(session: Session, period: str, today: date | None = None) -> PublicRatings:
    """The public figures of `period`, computed at most every CACHE_SECONDS per process;
    `NoPublicRatings` for a period without them."""
    today = today or local_day()
    first = first_rating_day(session)
    span = _span(period, first, today) if first is not None else None
    if span is None:
        raise NoPublicRatings(f"no public rating figures for period '{period}'")
    key = (str(session.get_bind().engine.url), period, today)
    now = time.monotonic()
    with _lock:
        kept = _cache.get(key)
        if kept is not None and now - kept[0] < CACHE_SECONDS:
            return kept[1]
    value = _compute(session, period, span[0], span[1], today)
    with _lock:
        _cache[key] = (now, value)
        while len(_cache) > MAX_CACHED:
            _cache.pop(next(iter(_cache)))
    return value


def forget_public_ratings() -> None:
    """Empty the cache (tests, and after a change that must show at once)."""
    with _lock:
        _cache.clear()


def _prefixed(df: pd.DataFrame, key: str, prefix: str, columns: tuple[str, ...]) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=[f"{prefix}_{c}" for c in columns])
    return df.set_index(key)[list(columns)].add_prefix(f"{prefix}_")


def _cases(figures: dict[str, CaseFigures]) -> pd.DataFrame:
    rows = {code: fig.row() for code, fig in figures.items()}
    df = pd.DataFrame.from_dict(rows, orient="index", columns=list(CASE_FIGURES))
    return df.add_prefix("cases_")


INT_RATING = ("n1", "n2", "n3", "n4", "n5", "count", "bad")
INT_CASE: tuple[str, ...] = (
    "cases",
    "removed",
    "answered",
    "rectified",
    "explained",
    "due",
    "on_time",
    "late",
    "overdue",
)
INT_CASE += ("visits_satisfied", "visits_unsatisfied", "visits_unreachable")


def _fill(df: pd.DataFrame, groups: tuple[str, ...]) -> pd.DataFrame:
    """Units without ratings or cases: counts 0, withheld true, estimates null (None → NaN)."""
    for g in groups:
        for c in RATING_FIGURES:
            name = f"{g}_{c}"
            if c in INT_RATING:
                df[name] = df[name].fillna(0).astype(int)
            elif c == "withheld":
                df[name] = df[name].astype(object).where(df[name].notna(), True).astype(bool)
            else:
                df[name] = df[name].astype(float)
    for c in CASE_FIGURES:
        name = f"cases_{c}"
        df[name] = df[name].fillna(0).astype(int) if c in INT_CASE else df[name].astype(float)
    return df


def _compute(session: Session, period: str, start: date, end: date, today: date) -> PublicRatings:
    n = get_settings().min_ratings
    through = min(end, today)
    depts = session.execute(
        select(
            col(Department.code), col(Department.name_zh), col(Department.name_pt), col(Department.name_en)
        )
    ).all()
    dept = pd.DataFrame(depts, columns=["department", "name_zh", "name_pt", "name_en"]).set_index(
        "department"
    )
    for suffix in ("zh", "pt", "en"):
        dept[f"name_{suffix}"] = dept[f"name_{suffix}"].where(dept[f"name_{suffix}"] != "", dept["name_en"])
    parts = [
        _prefixed(
            object_ratings(session, start, through, "department", n), "department", GROUPS[0], RATING_FIGURES
        ),
        _prefixed(
            item_ratings(session, start, through, "department", n), "department", GROUPS[1], RATING_FIGURES
        ),
        _cases(case_figures(session, start, through, "department", today)),
    ]
    joined = dept
    for part in parts:
        joined = joined.join(part, how="left")
    departments = _fill(joined.sort_index(), GROUPS)
    cat = catalogue(session)
    items = cat[["name_zh", "name_pt", "name_en", "department", "department_zh", "department_pt"]].copy()
    items["department_en"] = cat["department_en"]
    items["channels"] = cat["channels"].astype(str)
    items["active"] = cat["active"].astype(bool)
    ratings = _prefixed(
        item_ratings(session, start, through, "service", n), "service", "rating", RATING_FIGURES
    )
    cases = _cases(case_figures(session, start, through, "service", today))
    items = items.join(ratings, how="left").join(cases, how="left")
    items = _fill(items, ("rating",))
    items = items[items["active"] | (items["rating_count"] > 0) | (items["cases_cases"] > 0)].sort_index()
    items.index.name = "service"
    channels = item_ratings(session, start, through, "channel", n)
    objects = object_ratings(session, start, through, "object", n)
    names = session.execute(
        select(
            col(AssessedObject.code),
            col(AssessedObject.name_zh),
            col(AssessedObject.name_pt),
            col(AssessedObject.name_en),
        )
    ).all()
    by_code = {str(c): (zh or en or c, pt or en or c, en or c) for c, zh, pt, en in names}
    for i, (_, suffix) in enumerate(LANG_SUFFIX):
        objects[f"name_{suffix}"] = objects["object"].map(lambda o, i=i: by_code.get(str(o), (o, o, o))[i])
    return PublicRatings(period, start, end, through, n, departments, items, channels, objects)
