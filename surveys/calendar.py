"""The working-day calendar of bad-rating case deadlines: Monday–Friday except the public
holidays, compensatory rest days (補假) and closures of the calendar. Two sources, merged:

- the built-in table (surveys/data/macau_holidays.toml, or the file of EGOV_HOLIDAYS_FILE),
  released with the code and updated yearly; every entry has a type and a source;
- the days an administrator added in the database (table `calendar_day`: ad-hoc closures for
  a typhoon signal 8 or above, a year's table imported before a release), read on every
  deadline computed, so a day added takes effect for the next case opened.

Policy: a half-day exemption (`half_day`) counts as a working day; it is recorded and shown
but never moves a deadline. The store side (add, remove, import, a year's list) is in
surveys.calendar_days.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from egov.errors import EgovError
from egov.models import CalendarDay

BUILTIN_HOLIDAYS = Path(__file__).parent / "data" / "macau_holidays.toml"
log = logging.getLogger("egov.surveys")

# type code → the TOML table that lists the built-in days of that type
TYPES: dict[str, str] = {
    "public_holiday": "holidays",
    "compensatory_day": "compensatory_days",
    "half_day": "half_day_exemptions",
    "closure": "closures",
}
SOURCE_KEYS = {k: ("holiday" if k == "public_holiday" else k.split("_")[0]) + "_source" for k in TYPES}
WORKING_TYPES = frozenset({"half_day"})  # policy: a half-day exemption is a working day
STATUSES = ("published", "provisional", "unconfirmed", "added")

# The added days from a case's opening day on, for the DBAPI fast path (surveys.ratings_fast).
ADDED_DAYS_SQL = "SELECT day, kind, name, source, added_by FROM calendar_day WHERE day > :start ORDER BY day"


@dataclass(frozen=True)
class CalendarEntry:
    """One day of the calendar: its type (TYPES), name, source and status (STATUSES)."""

    day: date
    kind: str
    source: str
    name: str = ""
    status: str = "published"
    added_by: str = ""

    @property
    def closes(self) -> bool:
        """Whether the day is not a working day (every type but a half-day exemption)."""
        return self.kind not in WORKING_TYPES


class HolidayCalendar:
    """The calendar's days by date; `covered_years` are the years it claims to list in full."""

    def __init__(self, entries: Iterable[CalendarEntry], covered_years: set[int]) -> None:
        self.entries: dict[date, CalendarEntry] = {e.day: e for e in entries}
        self.holidays: frozenset[date] = frozenset(d for d, e in self.entries.items() if e.closes)
        self.covered_years = covered_years

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def with_added(self, added: Iterable[CalendarEntry]) -> HolidayCalendar:
        """This calendar with days added in the database (a year with an added public holiday,
        i.e. an imported year's table, counts as covered)."""
        added = list(added)
        covered = self.covered_years | {e.day.year for e in added if e.kind == "public_holiday"}
        return HolidayCalendar([*self.entries.values(), *added], covered)

    def year(self, year: int) -> list[CalendarEntry]:
        """The entries of one year, by date."""
        return sorted((e for e in self.entries.values() if e.day.year == year), key=lambda e: e.day)

    def add_working_days(self, start: date, n: int) -> date:
        """The day n working days after `start` (start itself not counted; n = 0 → start)."""
        if n < 0:
            raise EgovError("a deadline needs a non-negative number of working days")
        day, left = start, n
        while left > 0:
            day += timedelta(days=1)
            if day.year not in self.covered_years:
                log.warning("holiday calendar does not cover %s: counting weekends only", day.year)
            if self.is_working_day(day):
                left -= 1
        return day


@lru_cache(maxsize=4)
def load_calendar(path: str = "") -> HolidayCalendar:
    """Read a calendar TOML: `covered_years`, per type table (TYPES) `YEAR = [dates]`, per year
    `[years.YEAR]` with `status` and `holiday_source`, `compensatory_source`, `half_source`, `closure_source`, `unconfirmed = [dates]`."""
    file = Path(path) if path else BUILTIN_HOLIDAYS
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EgovError(f"holiday calendar {file}: {exc}") from exc
    entries: dict[date, CalendarEntry] = {}
    problems: list[str] = []
    years = data.get("years") or {}
    unconfirmed = {str(d) for d in data.get("unconfirmed", [])}
    for kind, table in TYPES.items():
        for year, items in (data.get(table) or {}).items():
            meta = years.get(str(year), {})
            source = str(meta.get(SOURCE_KEYS[kind], "") or file.name)
            status = str(meta.get("status", "published"))
            if status not in STATUSES:
                problems.append(f"years.{year}.status: {status!r} is not one of {', '.join(STATUSES)}")
            for item in items:
                entry = _entry(item, kind, str(year), source, status, unconfirmed, problems)
                if entry is None:
                    continue
                if entry.day in entries:
                    problems.append(f"{table}.{year}: {entry.day} is also a {entries[entry.day].kind}")
                entries[entry.day] = entry
    if problems:
        raise EgovError(f"holiday calendar {file}: invalid", problems)
    covered = {int(y) for y in data.get("covered_years", [])} or {d.year for d in entries}
    return HolidayCalendar(entries.values(), covered)


def _entry(
    item: Any, kind: str, year: str, source: str, status: str, unconfirmed: set[str], problems: list[str]
) -> CalendarEntry | None:
    """One listed day, checked (a date of its year; a compensatory day is a weekday)."""
    where = f"{TYPES[kind]}.{year}"
    try:
        day = date.fromisoformat(str(item))
    except ValueError:
        problems.append(f"{where}: {item!r} is not a date (YYYY-MM-DD)")
        return None
    if str(day.year) != year:
        problems.append(f"{where}: {item} is not in {year}")
    if kind == "compensatory_day" and day.weekday() >= 5:
        problems.append(f"{where}: {item} is a {day:%A}; a compensatory day is a weekday")
    return CalendarEntry(day, kind, source, status="unconfirmed" if str(day) in unconfirmed else status)


def entries_from_rows(rows: Iterable[Any]) -> tuple[CalendarEntry, ...]:
    """Added days from rows (day, kind, name, source, added_by) as either driver returns them."""
    return tuple(
        CalendarEntry(date.fromisoformat(str(r[0])[:10]), str(r[1]), str(r[3]), str(r[2]), "added", str(r[4]))
        for r in rows
    )


def added_days(session: Session, after: date | None = None) -> tuple[CalendarEntry, ...]:
    """The days added in the database (those after `after`, if given), by date."""
    query = select(
        col(CalendarDay.day),
        col(CalendarDay.kind),
        col(CalendarDay.name),
        col(CalendarDay.source),
        col(CalendarDay.added_by),
    ).order_by(col(CalendarDay.day))
    if after is not None:
        query = query.where(col(CalendarDay.day) > after)
    return entries_from_rows(session.execute(query).all())


@lru_cache(maxsize=64)
def working_days_after(day: date, n: int, holidays_file: str, added: tuple[CalendarEntry, ...]) -> date:
    """`n` working days after `day` by the built-in calendar (or `holidays_file`) with the
    `added` days (added_days / ADDED_DAYS_SQL from `day` on)."""
    return load_calendar(holidays_file).with_added(added).add_working_days(day, n)
