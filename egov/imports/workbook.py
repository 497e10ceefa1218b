"""Reading metric values from a filled `egov template` workbook: the hidden `_meta` sheet, then
every data sheet by its hidden codes (row 1 codes, row 2 units, objects from row 4), every
problem with its sheet and cell."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from egov.errors import EgovError
from egov.imports.values import (
    Catalogue,
    check_indicator_code,
    check_status,
    check_value,
    parse_number,
    parse_text,
    value_row,
)
from egov.reader import Problems, cell_problem, cell_where, merged_problems
from egov.template import (
    CODE_ROW,
    FIRST_DATA_ROW,
    INFO_CODES,
    META_SHEET,
    OBJECT_CODE,
    STATUS_CODE,
    SUBMITTED,
    TEMPLATE_FORMAT,
    TEMPLATE_FORMAT_VERSION,
    UNIT_ROW,
)
from indicators.framework import Node


@dataclass
class _Reading:
    """What reading the data sheets of one workbook collects."""

    cat: Catalogue
    problems: Problems
    values: list[dict[str, Any]] = field(default_factory=list)
    seen_pairs: dict[tuple[str, str], str] = field(default_factory=dict)  # (object, indicator) → cell
    seen_columns: dict[str, str] = field(default_factory=dict)  # indicator → cell of its code


@dataclass
class _SheetColumns:
    """The columns of a data sheet, by their hidden codes in row 1."""

    indicators: dict[int, Node] = field(default_factory=dict)
    status: int | None = None
    object: int | None = None
    unmarked: list[int] = field(default_factory=list)


def template_meta(wb: Workbook) -> dict[str, str]:
    """The key/value pairs of the hidden `_meta` sheet."""
    ws = wb[META_SHEET]
    out: dict[str, str] = {}
    for row in ws.iter_rows(min_row=1, max_row=min(ws.max_row, 40), max_col=2):
        key, value = row[0].value, row[1].value
        if key is None:
            break
        out[str(key)] = "" if value is None else str(value)
    return out


def read_template(
    wb: Workbook, name: str, period: str, cat: Catalogue, problems: Problems
) -> tuple[list[dict[str, Any]], list[str]]:
    """(values, notes) of a filled template; problems are collected, not raised."""
    data_sheets = [
        ws for ws in wb.worksheets if ws.title != META_SHEET and ws.cell(CODE_ROW, 1).value == OBJECT_CODE
    ]
    if META_SHEET not in wb.sheetnames:
        raise EgovError(
            f"{name}: not an egov metric template — it has no hidden '{META_SHEET}' sheet"
            + (" (its data sheets are there: was the _meta sheet deleted?)" if data_sheets else "")
            + "; make the template with `egov template`, or import a CSV file"
        )
    meta = template_meta(wb)
    notes = _check_meta(meta, name, period, cat, problems)
    if not data_sheets:
        problems.add("", f"no data sheets: no sheet has the hidden code '{OBJECT_CODE}' in cell A1")
    ignored = [
        ws.title
        for ws in wb.worksheets
        if ws not in data_sheets and ws.title not in (META_SHEET, meta.get("instructions_sheet"))
    ]
    if ignored:
        notes.append(f"sheets without the template's hidden codes were not read: {', '.join(ignored)}")
    reading = _Reading(cat, problems)
    for ws in data_sheets:
        _read_data_sheet(ws, reading)
    return reading.values, notes


def _check_meta(
    meta: dict[str, str], name: str, period: str, cat: Catalogue, problems: Problems
) -> list[str]:
    """Format, framework and period of the template against the import; returns notes."""
    notes: list[str] = []
    fw = cat.framework
    where = f"sheet '{META_SHEET}'"
    if meta.get("format") != TEMPLATE_FORMAT:
        raise EgovError(f"{name}: not an egov metric template ({where} has format {meta.get('format')!r})")
    if meta.get("format_version") != TEMPLATE_FORMAT_VERSION:
        problems.add(
            where,
            f"template format version {meta.get('format_version')!r}; this egov reads {TEMPLATE_FORMAT_VERSION}",
        )
    if meta.get("framework_code") != fw.code:
        problems.add(
            where,
            f"the template was made for framework {meta.get('framework_code')!r}, the import uses "
            f"{fw.code!r} (pass --framework)",
        )
    elif meta.get("framework_hash") != fw.content_hash:
        notes.append(
            f"the template was made from framework version {meta.get('framework_version')} "
            f"({str(meta.get('framework_hash'))[:12]}), the import checks against {fw.version} "
            f"({fw.content_hash[:12]}); indicators and units were checked one by one"
        )
    if meta.get("period") != period:
        problems.add(
            where, f"the template is for period {meta.get('period')!r}, the import is for --period {period}"
        )
    return notes


def _read_data_sheet(ws: Worksheet, reading: _Reading) -> None:
    merged_problems(ws, reading.problems)
    cols = _sheet_columns(ws, reading)
    if cols.object is None:
        reading.problems.add(f"sheet '{ws.title}'", f"no hidden '{OBJECT_CODE}' column")
        return
    rows_seen: dict[str, int] = {}
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        _read_data_row(ws, r, cols, reading, rows_seen)


def _sheet_columns(ws: Worksheet, reading: _Reading) -> _SheetColumns:
    """The columns of a data sheet by their hidden codes, each indicator's unit checked."""
    problems, cat = reading.problems, reading.cat
    cols = _SheetColumns()
    for c in range(1, ws.max_column + 1):
        cell = ws.cell(CODE_ROW, c)
        bad = cell_problem(cell)
        if bad:
            problems.add(cell_where(ws, cell), bad)
            continue
        if cell.value is None:
            cols.unmarked.append(c)
            continue
        code = str(cell.value).strip()
        if code == OBJECT_CODE:
            cols.object = c
        elif code == STATUS_CODE:
            cols.status = c
        elif code in INFO_CODES or code == "_unit":
            continue
        elif (problem := check_indicator_code(cat, code)) is not None:
            problems.add(cell_where(ws, cell), f"hidden code: {problem}")
        elif code in reading.seen_columns:
            problems.add(
                cell_where(ws, cell),
                f"duplicate column: indicator {code} is also in {reading.seen_columns[code]}",
            )
        else:
            reading.seen_columns[code] = cell_where(ws, cell)
            cols.indicators[c] = cat.framework.nodes[code]
            _check_unit(ws, c, cols.indicators[c], reading)
    return cols


def _check_unit(ws: Worksheet, c: int, node: Node, reading: _Reading) -> None:
    unit_cell = ws.cell(UNIT_ROW, c)
    unit = "" if unit_cell.value is None else str(unit_cell.value).strip()
    if unit != node.unit:
        fw = reading.cat.framework
        reading.problems.add(
            cell_where(ws, unit_cell),
            f"unit mismatch for {node.code}: the template says {unit!r}, framework {fw.code} "
            f"{fw.version} says {node.unit!r}; make a new template",
        )


def _read_data_row(
    ws: Worksheet, r: int, cols: _SheetColumns, reading: _Reading, rows_seen: dict[str, int]
) -> None:
    """The values of one object's row (or the problems with it)."""
    problems = reading.problems
    row_cells = {c: ws.cell(r, c) for c in cols.indicators}
    status_cell = ws.cell(r, cols.status) if cols.status else None
    for c in cols.unmarked:
        stray = ws.cell(r, c)
        if stray.value is not None:
            problems.add(
                cell_where(ws, stray),
                "a value in a column without a hidden indicator code (an inserted column?); "
                "use the template's columns",
            )
    obj = _row_object(ws, r, cols, row_cells, status_cell, reading.cat, problems)
    if obj is None:
        return
    if obj in rows_seen:
        problems.add(
            cell_where(ws, ws.cell(r, cols.object or 1)),
            f"duplicate row: object {obj} is also on row {rows_seen[obj]}",
        )
        return
    rows_seen[obj] = r
    status = SUBMITTED
    if status_cell is not None:
        bad = cell_problem(status_cell)
        if bad:
            problems.add(cell_where(ws, status_cell), bad)
        else:
            status = check_status(status_cell.value, cell_where(ws, status_cell), problems)
    for c, node in cols.indicators.items():
        _read_value(ws, row_cells[c], obj, node, status, reading)


def _row_object(
    ws: Worksheet,
    r: int,
    cols: _SheetColumns,
    row_cells: dict[int, Cell | MergedCell],
    status_cell: Cell | MergedCell | None,
    cat: Catalogue,
    problems: Problems,
) -> str | None:
    """The registered object of a row, or None (blank row, or a problem reported)."""
    object_col = cols.object or 1
    obj_cell = ws.cell(r, object_col)
    bad = cell_problem(obj_cell)
    if bad:
        problems.add(cell_where(ws, obj_cell), bad)
        return None
    obj, problem = parse_text(obj_cell.value)
    if problem:
        problems.add(cell_where(ws, obj_cell), problem)
        return None
    if obj is None:
        filled = any(
            parse_number(cell.value) != (None, None) or cell.data_type in "fe" for cell in row_cells.values()
        )
        if filled or (status_cell is not None and status_cell.value is not None):
            problems.add(
                cell_where(ws, obj_cell),
                f"empty required cell — row {r} has values but no object code in hidden column "
                f"{get_column_letter(object_col)}",
            )
        return None
    if obj not in cat.objects:
        problems.add(cell_where(ws, obj_cell), f"unknown object '{obj}' (not in the register)")
        return None
    return obj


def _read_value(
    ws: Worksheet, cell: Cell | MergedCell, obj: str, node: Node, status: str, reading: _Reading
) -> None:
    where = cell_where(ws, cell)
    bad = cell_problem(cell)
    if bad:
        reading.problems.add(where, bad)
        return
    value = check_value(reading.cat, obj, node, cell.value, where, reading.problems)
    if value is None:
        return
    key = (obj, node.code)
    if key in reading.seen_pairs:
        reading.problems.add(
            where, f"duplicate value for {obj} / {node.code} (also at {reading.seen_pairs[key]})"
        )
        return
    reading.seen_pairs[key] = where
    reading.values.append(value_row(obj, node.code, value, status, ws.title[:100], cell.coordinate))
