"""The days an administrator adds to the working-day calendar without a release (`egov calendar`):
add or remove one day, import a year's table from CSV (all or nothing, every problem with its
line and column), and a year's list (built-in and added days) for `egov calendar show`.

Every change is in the audit trail (who, what). A day added or removed changes the deadlines of
cases opened (or rectified) afterwards; the deadlines already stored on open cases stay as they
were computed (docs/ratings.md, "Working days").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import Session, col

from egov.auth import audit
from egov.cells import FORMULA_PREFIXES, control_problem
from egov.errors import EgovError
from egov.models import CalendarDay
from egov.reader import Problems, csv_rows, formula_injection, read_source
from egov.settings import get_settings
from surveys.calendar import TYPES, CalendarEntry, HolidayCalendar, added_days, load_calendar

CSV_COLUMNS = ("date", "type", "name", "source")  # name and source may be left out
TEXT_LIMITS = {"name": 200, "source": 200}


@dataclass(frozen=True)
class NewDay:
    """A day to add, as given (checked by `day_problems`)."""

    day: date
    kind: str
    name: str
    source: str


def calendar_with_added(session: Session) -> HolidayCalendar:
    """The built-in calendar (or EGOV_HOLIDAYS_FILE) with every day added in the database."""
    return load_calendar(get_settings().holidays_file).with_added(added_days(session))


def year_days(session: Session, year: int) -> tuple[list[CalendarEntry], bool]:
    """A year's days (built-in and added, by date) and whether the calendar covers the year."""
    cal = calendar_with_added(session)
    return cal.year(year), year in cal.covered_years


def text_problem(text: str, what: str) -> str | None:
    """The problem of a name or source: too long, a formula, a control character; else None."""
    if len(text) > TEXT_LIMITS[what]:
        return f"the {what} is {len(text)} characters long; the limit is {TEXT_LIMITS[what]}"
    if text.startswith(FORMULA_PREFIXES):
        return formula_injection(text)
    return control_problem(text, f"the {what}")


def parse_kind(text: str) -> str | None:
    """The type code of `text` (public_holiday, compensatory_day, half_day, closure), or None."""
    kind = text.strip().lower().replace("-", "_").replace(" ", "_")
    return kind if kind in TYPES else None


def kind_problem(text: str) -> str:
    return f"type {text!r} is not one of {', '.join(TYPES)}"


def _clash(cal: HolidayCalendar, new: NewDay) -> str | None:
    """Why `new` cannot be added to `cal` (the date is already listed), or None."""
    have = cal.entries.get(new.day)
    if have is None:
        return None
    where = "added by " + have.added_by if have.status == "added" else "in the built-in calendar"
    return f"{new.day} is already a {have.kind} ({where}); remove it first to change it"


def add_day(session: Session, new: NewDay, actor: str = "cli") -> CalendarDay:
    """Add one day (audited as calendar.add); refused if the date is already listed."""
    problems = [p for p in (text_problem(new.name, "name"), text_problem(new.source, "source")) if p]
    if new.kind not in TYPES:
        problems.append(kind_problem(new.kind))
    if not new.source.strip():
        problems.append("a source is required (e.g. the dispatch or the typhoon signal notice)")
    if clash := _clash(calendar_with_added(session), new):
        problems.append(clash)
    if problems:
        raise EgovError(f"cannot add {new.day} to the calendar", problems)
    row = CalendarDay(day=new.day, kind=new.kind, name=new.name, source=new.source, added_by=actor[:100])
    session.add(row)
    session.flush()
    audit(
        session, actor, "calendar.add", "calendar_day", str(new.day), f"{new.kind}: {new.name} ({new.source})"
    )
    return row


def remove_day(session: Session, day: date, actor: str = "cli") -> CalendarEntry:
    """Remove a day added in the database (audited as calendar.remove); built-in days stay."""
    have = {e.day: e for e in added_days(session)}.get(day)
    if have is None:
        builtin = load_calendar(get_settings().holidays_file).entries.get(day)
        why = f"it is a {builtin.kind} of the built-in calendar" if builtin else "it is not in the calendar"
        raise EgovError(f"{day} was not added by an administrator: {why}")
    session.execute(delete(CalendarDay).where(col(CalendarDay.day) == day))
    audit(session, actor, "calendar.remove", "calendar_day", str(day), f"{have.kind}: {have.name}")
    return have


def read_days_csv(path: Path) -> list[tuple[str, NewDay]]:
    """The days of a CSV table (header `date,type[,name][,source]`) with where their date is,
    every problem with its line and column; nothing is returned unless the whole file is valid."""
    src = read_source(path, ("csv",))
    rows = csv_rows(src)
    problems = Problems()
    if not rows:
        raise EgovError(f"{src.name}: no header line; expected {','.join(CSV_COLUMNS)}")
    header_line, header = rows[0]
    names = [h.strip().lower() for h in header]
    for need in ("date", "type"):
        if need not in names:
            problems.add(
                f"{src.name} line {header_line}", f"no column '{need}' (columns: {','.join(CSV_COLUMNS)})"
            )
    for i, h in enumerate(names):
        if h not in CSV_COLUMNS:
            problems.add(f"{src.name} line {header_line} column {i + 1}", f"unknown column {header[i]!r}")
    problems.raise_if_any(src.name)
    days: list[tuple[str, NewDay]] = []
    seen: dict[date, int] = {}
    for line, row in rows[1:]:
        if not any(v.strip() for v in row):
            continue
        day = _csv_day(src.name, line, names, row, problems)
        if day is None:
            continue
        where = f"{src.name} line {line} column {names.index('date') + 1}"
        if day.day in seen:
            problems.add(where, f"{day.day} is also on line {seen[day.day]}")
        seen[day.day] = line
        days.append((where, day))
    problems.raise_if_any(src.name)
    return days


def _csv_day(name: str, line: int, names: list[str], row: list[str], problems: Problems) -> NewDay | None:
    """One record as a day to add, or None after adding its problems (with line and column)."""
    if len(row) != len(names):
        problems.add(f"{name} line {line}", f"{len(row)} fields; the header has {len(names)}")
        return None
    values = dict(zip(names, row, strict=True))
    at = {k: f"{name} line {line} column {names.index(k) + 1}" for k in names}
    before = len(problems.items)
    try:
        day = date.fromisoformat(values["date"].strip())
    except ValueError:
        problems.add(at["date"], f"{values['date']!r} is not a date (YYYY-MM-DD)")
        day = date.min
    kind = parse_kind(values["type"])
    if kind is None:
        problems.add(at["type"], kind_problem(values["type"]))
    for what in ("name", "source"):
        if what in values and (bad := text_problem(values[what], what)):
            problems.add(at[what], bad)
    if len(problems.items) > before or kind is None:
        return None
    return NewDay(day, kind, values.get("name", "").strip(), values.get("source", "").strip() or name)


@dataclass(frozen=True)
class ImportResult:
    added: int
    unchanged: int  # already listed with the same type


def import_days(session: Session, path: Path, actor: str = "cli") -> ImportResult:
    """Import a year's table (CSV): days already listed with the same type are left alone, a
    date listed with another type is a problem; all or nothing (audited per day added)."""
    days = read_days_csv(path)
    cal = calendar_with_added(session)
    problems = Problems()
    todo: list[NewDay] = []
    for where, new in days:
        have = cal.entries.get(new.day)
        if have is None:
            todo.append(new)
        elif have.kind != new.kind:
            problems.add(where, _clash(cal, new) or "")
    problems.raise_if_any(path.name)
    for new in todo:
        add_day(session, new, actor)
    return ImportResult(len(todo), len(days) - len(todo))
