"""Reading metric values from a plain CSV file, long (object, indicator, value[, status, unit])
or wide (an object column, then one column per indicator code, "code [unit]" allowed), every
problem with its line and column."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from egov.cells import FORMULA_PREFIXES
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
from egov.reader import Problems, SourceFile, csv_rows, formula_injection
from egov.template import SUBMITTED
from indicators.framework import Node

_HEADER_UNIT = re.compile(r"^(.*?)\s*\[(.*)\]\s*$")
Rows = list[tuple[int, list[str]]]  # (line number, fields)


def read_metric_csv(
    src: SourceFile, cat: Catalogue, problems: Problems
) -> tuple[list[dict[str, Any]], list[str], str]:
    """(values, notes, layout) of a CSV file; problems are collected, not raised."""
    rows = [(n, r) for n, r in csv_rows(src) if any(f.strip() for f in r)]
    if not rows:
        raise EgovError(f"{src.name}: no header line; nothing was imported")
    head_line, header = rows[0]
    names: list[str] = []
    units: list[str | None] = []
    for i, h in enumerate(header, start=1):
        text = h.strip()
        if text.startswith(FORMULA_PREFIXES):
            problems.add(f"line {head_line}, column {i}", formula_injection(text))
        m = _HEADER_UNIT.match(text)
        names.append((m.group(1) if m else text).strip())
        units.append(m.group(2).strip() if m else None)
    lower = [n.lower() for n in names]
    for i, n in enumerate(lower):
        if n and lower.index(n) != i:
            problems.add(
                f"line {head_line}, column {i + 1}",
                f"duplicate column '{names[i]}' (also column {lower.index(n) + 1})",
            )
    if {"object", "indicator", "value"} <= set(lower):
        return _read_long(rows[1:], lower, header, cat, problems), [], "csv-long"
    if lower and lower[0] in ("object", "unit", "code"):
        return _read_wide(rows[1:], names, units, cat, problems, head_line), [], "csv-wide"
    problems.add(
        f"line {head_line}",
        "cannot tell the layout: a long CSV has the columns object, indicator, value (and optionally "
        "status, unit); a wide CSV has an object column first and one column per indicator code",
    )
    return [], [], "csv"


def _fields_ok(line: int, row: list[str], width: int, problems: Problems) -> bool:
    if len(row) != width:
        problems.add(f"line {line}", f"{len(row)} fields, the header has {width}")
        return False
    return True


# --- long --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _LongRow:
    line: int
    row: list[str]
    idx: dict[str, int]  # column name → index

    def loc(self, name: str) -> str:
        return f"line {self.line}, column {self.idx[name] + 1} ({name})"

    def get(self, name: str) -> str:
        return self.row[self.idx[name]]


def _read_long(
    rows: Rows, lower: list[str], header: list[str], cat: Catalogue, problems: Problems
) -> list[dict[str, Any]]:
    idx: dict[str, int] = {
        n: lower.index(n) for n in ("object", "indicator", "value", "status", "unit") if n in lower
    }
    extra = [header[i] for i, n in enumerate(lower) if n not in idx]
    if extra:
        problems.add(
            "line 1",
            f"unknown column(s) {', '.join(map(repr, extra))}; expected object, indicator, value, status, unit",
        )
    values: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        if not _fields_ok(line, row, len(header), problems):
            continue
        record = _LongRow(line, row, idx)
        value = _long_value(record, cat, problems)
        if value is None:
            continue
        obj, code, number, status = value
        if (obj, code) in seen:
            problems.add(f"line {line}", f"duplicate: {obj} / {code} is also on line {seen[(obj, code)]}")
            continue
        seen[(obj, code)] = line
        values.append(value_row(obj, code, number, status, "", f"R{line}C{idx['value'] + 1}"))
    return values


def _long_value(rec: _LongRow, cat: Catalogue, problems: Problems) -> tuple[str, str, float, str] | None:
    """(object, indicator, value, status) of one line, or None (a blank value, or problems)."""
    required: dict[str, str] = {}
    for name in ("object", "indicator"):
        text, problem = parse_text(rec.get(name))
        if problem:
            problems.add(rec.loc(name), problem)
        elif text is None:
            problems.add(rec.loc(name), f"empty required cell — {name} is missing")
        else:
            required[name] = text
    raw_value = rec.get("value")
    if parse_number(raw_value) == (None, None):  # blank, or "N/A": a long line needs its value
        problems.add(rec.loc("value"), "empty required cell — value is missing")
        raw_value = ""
    if len(required) < 2:
        return None
    obj, code = required["object"], required["indicator"]
    ok = True
    if obj not in cat.objects:
        problems.add(rec.loc("object"), f"unknown object '{obj}' (not in the register)")
        ok = False
    problem = check_indicator_code(cat, code)
    if problem:
        problems.add(rec.loc("indicator"), problem)
        ok = False
    node = cat.indicator(code)
    unit = rec.get("unit").strip() if "unit" in rec.idx else ""
    if node is not None and unit and unit != node.unit:
        problems.add(
            rec.loc("unit"),
            f"unit mismatch for {code}: the file says {unit!r}, the framework says {node.unit!r}",
        )
        ok = False
    status = (
        check_status(rec.get("status"), rec.loc("status"), problems) if "status" in rec.idx else SUBMITTED
    )
    if not ok or node is None or not raw_value.strip():
        return None
    value = check_value(cat, obj, node, raw_value, rec.loc("value"), problems)
    return None if value is None else (obj, code, value, status)


# --- wide --------------------------------------------------------------------------------------
def _wide_columns(
    names: list[str], units: list[str | None], cat: Catalogue, problems: Problems, head_line: int
) -> tuple[dict[int, Node], int | None]:
    """(indicator columns, status column) of a wide header."""
    columns: dict[int, Node] = {}
    status_col: int | None = None
    for i, name in enumerate(names[1:], start=1):
        where = f"line {head_line}, column {i + 1}"
        if name.lower() == "status":
            status_col = i
            continue
        if not name:
            problems.add(where, "empty required cell — a column without an indicator code")
            continue
        problem = check_indicator_code(cat, name)
        if problem:
            problems.add(where, problem)
            continue
        node = cat.framework.nodes[name]
        if units[i] is not None and units[i] != node.unit:
            problems.add(
                where,
                f"unit mismatch for {name}: the header says {units[i]!r}, the framework says {node.unit!r}",
            )
            continue
        columns[i] = node
    return columns, status_col


def _read_wide(
    rows: Rows,
    names: list[str],
    units: list[str | None],
    cat: Catalogue,
    problems: Problems,
    head_line: int,
) -> list[dict[str, Any]]:
    columns, status_col = _wide_columns(names, units, cat, problems, head_line)
    values: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        if not _fields_ok(line, row, len(names), problems):
            continue
        where0 = f"line {line}, column 1 ({names[0]})"
        obj, problem = parse_text(row[0])
        if problem:
            problems.add(where0, problem)
            continue
        if obj is None:
            problems.add(where0, "empty required cell — the object code is missing")
            continue
        if obj not in cat.objects:
            problems.add(where0, f"unknown object '{obj}' (not in the register)")
            continue
        if obj in seen:
            problems.add(where0, f"duplicate row: object {obj} is also on line {seen[obj]}")
            continue
        seen[obj] = line
        status = SUBMITTED
        if status_col is not None:
            status = check_status(row[status_col], f"line {line}, column {status_col + 1} (status)", problems)
        for i, node in columns.items():
            where = f"line {line}, column {i + 1} ({node.code})"
            value = check_value(cat, obj, node, row[i], where, problems)
            if value is not None:
                values.append(value_row(obj, node.code, value, status, "", f"R{line}C{i + 1}"))
    return values
