"""Working days for bad-rating case deadlines: Monday–Friday except the public holidays of a
calendar file (built in: surveys/data/macau_holidays.toml, which needs a yearly update)."""

from __future__ import annotations

import logging
import tomllib
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from egov.errors import EgovError

BUILTIN_HOLIDAYS = Path(__file__).parent / "data" / "macau_holidays.toml"
log = logging.getLogger("egov.surveys")


class HolidayCalendar:
    """Public holidays by year; `covered_years` are the years the file claims to list."""

    def __init__(self, holidays: set[date], covered_years: set[int]) -> None:
        self.holidays = holidays
        self.covered_years = covered_years

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

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
    """Read a holiday calendar TOML (`covered_years = [...]`, `[holidays] YEAR = [dates]`)."""
    file = Path(path) if path else BUILTIN_HOLIDAYS
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EgovError(f"holiday calendar {file}: {exc}") from exc
    days: set[date] = set()
    problems: list[str] = []
    for year, items in (data.get("holidays") or {}).items():
        for item in items:
            try:
                d = date.fromisoformat(str(item))
            except ValueError:
                problems.append(f"holidays.{year}: {item!r} is not a date (YYYY-MM-DD)")
                continue
            if str(d.year) != str(year):
                problems.append(f"holidays.{year}: {item} is not in {year}")
            days.add(d)
    if problems:
        raise EgovError(f"holiday calendar {file}: invalid", problems)
    covered = {int(y) for y in data.get("covered_years", [])} or {d.year for d in days}
    return HolidayCalendar(days, covered)
