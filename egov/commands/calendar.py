"""`egov calendar`: the working-day calendar of case deadlines — a year's days, and the days an
administrator adds without a release (ad-hoc closures, a year's published table)."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from egov.commands.common import LangOpt, check_lang, console, parse_date
from egov.commands.labels import t
from egov.commands.stored import database
from egov.errors import EgovError
from surveys.calendar import TYPES, CalendarEntry
from surveys.calendar_days import (
    NewDay,
    add_day,
    import_days,
    kind_problem,
    parse_kind,
    remove_day,
    year_days,
)

app = typer.Typer(help="The working-day calendar of case deadlines.", no_args_is_help=True)

WEEKDAYS = {
    "zh-Hant": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
    "pt": (
        "segunda-feira",
        "terça-feira",
        "quarta-feira",
        "quinta-feira",
        "sexta-feira",
        "sábado",
        "domingo",
    ),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
TYPE_HELP = f"Type of the day: {', '.join(TYPES)} (a half_day counts as a working day)."
ByOpt = Annotated[
    str | None, typer.Option("--by", help="Who adds it, for the audit trail (default: the OS user).")
]


def _actor(by: str | None) -> str:
    """`cli:NAME` for the audit trail (NAME: --by, else the OS user)."""
    if not by:
        try:
            by = getpass.getuser()
        except (OSError, KeyError):  # no user name in the environment or the password database
            by = "unknown"
    return f"cli:{by}"


def _status(entry: CalendarEntry, lang: str) -> str:
    return t(f"cal.status.{entry.status}", lang, who=entry.added_by)


@app.command("show")
def show_cmd(year: Annotated[int, typer.Argument(help="The year, e.g. 2026.")], lang: LangOpt = None) -> None:
    """The days off of a year — public holidays, compensatory rest days, closures, half-day
    exemptions — with type, source and status (built-in and added by an administrator).

    Example: egov calendar show 2026 --lang en
    """
    lang = check_lang(lang)
    if not 1900 <= year <= 2999:
        raise EgovError(f"year {year}: use a year such as 2026")
    with database() as session:
        entries, covered = year_days(session, year)
    table = Table(title=t("cal.title", lang, year=year))
    for key in ("date", "weekday", "type", "name", "source", "status"):
        table.add_column(t(f"cal.{key}", lang), overflow="fold")
    for e in entries:
        weekday = WEEKDAYS[lang][e.day.weekday()]
        table.add_row(
            str(e.day), weekday, t(f"cal.type.{e.kind}", lang), e.name or "—", e.source, _status(e, lang)
        )
    console.print(table)
    off = {e.day for e in entries if e.closes}
    days = [
        date.fromordinal(n) for n in range(date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal())
    ]
    working = sum(1 for d in days if d.weekday() < 5 and d not in off)
    console.print(t("cal.working_days", lang, year=year, n=working))
    if not covered:
        console.print(t("cal.not_covered", lang, year=year))


@app.command("add")
def add_cmd(
    day: Annotated[str, typer.Argument(help="The date, YYYY-MM-DD.")],
    kind: Annotated[str, typer.Option("--type", help=TYPE_HELP)],
    source: Annotated[
        str, typer.Option("--source", help="Where the day comes from (dispatch, signal notice).")
    ],
    name: Annotated[str, typer.Option("--name", help="Name of the day, e.g. 'Typhoon signal 8'.")] = "",
    by: ByOpt = None,
    lang: LangOpt = None,
) -> None:
    """Add a day off (e.g. a closure for typhoon signal 8) without a release; it moves the
    deadlines of cases opened from now on (stored deadlines are not recomputed).

    Example: egov calendar add 2026-09-15 --type closure --name "Typhoon signal 8" --source "SMG notice"
    """
    lang = check_lang(lang)
    when = parse_date(day, "DATE")
    code = parse_kind(kind)
    if code is None:
        raise EgovError(kind_problem(kind))
    with database() as session:
        add_day(session, NewDay(when, code, name.strip(), source.strip()), _actor(by))
    console.print(t("cal.added", lang, day=when, code=code, type=t(f"cal.type.{code}", lang)), markup=False)


@app.command("remove")
def remove_cmd(
    day: Annotated[str, typer.Argument(help="The date, YYYY-MM-DD.")], by: ByOpt = None, lang: LangOpt = None
) -> None:
    """Remove a day an administrator added (built-in days cannot be removed).

    Example: egov calendar remove 2026-09-15
    """
    lang = check_lang(lang)
    when = parse_date(day, "DATE")
    with database() as session:
        gone = remove_day(session, when, _actor(by))
    kind_text = t(f"cal.type.{gone.kind}", lang)
    console.print(t("cal.removed", lang, day=gone.day, code=gone.kind, type=kind_text), markup=False)


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV file: date,type[,name][,source].")],
    by: ByOpt = None,
    lang: LangOpt = None,
) -> None:
    """Import a year's table of days off from CSV (columns date,type,name,source): all or
    nothing, every problem with its line and column; days already listed are left alone.

    Example: egov calendar import holidays-2027.csv
    """
    lang = check_lang(lang)
    with database() as session:
        result = import_days(session, file, _actor(by))
    console.print(t("cal.imported", lang, added=result.added, unchanged=result.unchanged), markup=False)
