"""The bad-rating ledger (台賬) as an Excel workbook: one row per case opened in a period (of one
department, or all), with its dates, deadline, handling tier, state, on time / overdue, the public
answer, the internal note, the return visit and the appeal. Headers in zh-Hant, pt and en (one
row each); the values' words in the chosen language. Every text cell is formula-safe
(egov.cells.write_text). No comment, pseudonym or transaction reference: the file leaves the
system. Written by `egov cases ledger` and the case desk's download."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlmodel import Session, col

from egov.cells import write_text
from egov.errors import EgovError
from egov.langs import LANGUAGES
from egov.models import Department
from egov.store import find_period, period_bounds
from reports.cases import appeal_words, outcome_words, state_words, tier_words, time_words
from reports.i18n import t
from surveys.casedesk import DeskCase, ledger_rows

COLUMNS = (
    "id",
    "department",
    "object",
    "opened",
    "level",
    "reasons",
    "due",
    "tier",
    "state",
    "handler",
    "answered",
    "timeliness",
    "answer",
    "note",
    "visit_due",
    "visit_day",
    "outcome",
    "appeal",
    "closed",
)
WIDE = {"answer": 60, "note": 40, "object": 30, "state": 24}


def _values(row: DeskCase, lang: str) -> list[Any]:
    c = row.case
    return [
        row.id,
        row.department,
        f"{row.object_code} {row.object_names.get(lang) or ''}".strip(),
        c.opened_day,
        row.level,
        ", ".join(row.reasons),
        c.rectify_due,
        tier_words(c.tier, lang),
        state_words(c.state, lang),
        c.handler,
        c.rectified_day,
        time_words(row.timeliness, lang)
        + (f"; {t('case.visit_overdue', lang)}" if row.visit_overdue else ""),
        c.answer,
        c.internal_note,
        c.return_visit_due,
        c.return_visit_day,
        outcome_words(c.visit_outcome, lang) if c.return_visit_day else "",
        appeal_words(c.appealed_at is not None, c.appeal_outcome, lang),
        c.closed_at.date() if c.closed_at else None,
    ]


def ledger_workbook(rows: list[DeskCase], lang: str, title: str) -> Workbook:
    """The workbook of `rows`: a title row, three header rows (zh-Hant, pt, en), one row a case."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = t("ledger.sheet", lang)
    write_text(ws.cell(1, 1), title)
    ws.cell(1, 1).font = Font(bold=True, size=13)
    for i, language in enumerate(LANGUAGES):
        for j, name in enumerate(COLUMNS, start=1):
            cell = ws.cell(2 + i, j)
            write_text(cell, t(f"ledger.col.{name}", language))
            cell.font = Font(bold=i == 0, italic=i > 0)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    first = 2 + len(LANGUAGES)
    for r, row in enumerate(rows, start=first):
        for j, value in enumerate(_values(row, lang), start=1):
            cell = ws.cell(r, j)
            if isinstance(value, str):
                write_text(cell, value)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                cell.value = value
                if isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
    for j, name in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(j)].width = WIDE.get(name, 14)
    ws.freeze_panes = ws.cell(first, 2)
    return wb


def ledger_scope(
    session: Session, period: str | None, start: date | None, end: date | None, department: str | None
) -> tuple[date, date]:
    """The days of the ledger: a period's (stored, or following from its code: 2026, 2026Q1,
    2026H2) or [start, end]; an EgovError naming the option otherwise, or for an unknown
    department."""
    if period and (start or end):
        raise EgovError("give either --period or --from and --to, not both")
    if period:
        stored = find_period(session, period)
        bounds = (stored.start, stored.end) if stored is not None else period_bounds(period)
        if bounds is None:
            raise EgovError(
                f"--period {period!r}: not a stored period nor a code such as 2026, 2026Q1, 2026H2"
            )
        start, end = bounds
    if start is None or end is None:
        raise EgovError("give --period, or both --from and --to")
    if start > end:
        raise EgovError(f"--from {start} is after --to {end}")
    if (
        department
        and session.execute(select(col(Department.id)).where(col(Department.code) == department)).first()
        is None
    ):
        raise EgovError(f"--department {department!r}: no such department")
    return start, end


def write_ledger(
    session: Session,
    start: date,
    end: date,
    department: str | None,
    out: Path | IO[bytes],
    lang: str,
    today: date,
) -> int:
    """Write the ledger of cases opened in [start, end] to `out` (a path or a binary file);
    returns the number of cases."""
    rows = ledger_rows(session, start, end, department, today)
    title = f"{t('ledger.title', lang)} · {department or '*'} · {start.isoformat()} – {end.isoformat()}"
    ledger_workbook(rows, lang, title).save(out)
    return len(rows)


def ledger_bytes(
    session: Session, start: date, end: date, department: str | None, lang: str, today: date
) -> bytes:
    buffer = BytesIO()
    write_ledger(session, start, end, department, buffer, lang, today)
    return buffer.getvalue()
