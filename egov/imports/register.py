"""`egov import departments`: validated, all-or-nothing import of the register — peer groups,
departments and assessed objects — from TOML (the shape of egov/data/macau_register.toml) or a
CSV / XLSX table with the columns of REGISTER_COLUMNS; every problem with its key path, sheet
and cell, or line and column."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, select

from egov.cells import FORMULA_PREFIXES, control_problem
from egov.errors import EgovError
from egov.imports.values import parse_text
from egov.langs import LANGUAGES
from egov.models import AssessedObject, Department, PeerGroup
from egov.reader import (
    Problems,
    SourceFile,
    cell_problem,
    cell_where,
    csv_rows,
    decode_text,
    formula_injection,
    merged_problems,
    open_workbook,
    read_source,
)
from egov.store import context_problems, load_register
from indicators.framework import OBJECT_KINDS, SUBKINDS

REGISTER_TYPES = {"peer_group": "peer_groups", "department": "departments", "object": "objects"}
REGISTER_COLUMNS = (
    "type",
    "code",
    "name_zh-Hant",
    "name_pt",
    "name_en",
    "peer_group",
    "department",
    "kind",
    "subkind",
    "note",
    "citizen_facing",
)
_NAME_COLUMNS = {"name_zh-hant": "zh-Hant", "name_zh": "zh-Hant", "name_pt": "pt", "name_en": "en"}
_TABLE_KEYS = {
    "peer_groups": {"name"},
    "departments": {"name", "peer_group"},
    "objects": {"name", "department", "kind", "subkind", "paper", "note", "citizen_facing", "context"},
}
FREE_TEXT_KEYS = {"note", "paper"}  # may span lines; names and codes are one line
_CODE_LIMITS = {"peer_groups": 50, "departments": 50, "objects": 80}
REGISTER_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
# citizen_facing in a CSV / XLSX cell (TOML has true and false)
_BOOLEAN_CELLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


@dataclass
class RegisterImport:
    file: str
    sha256: str
    counts: dict[str, int]
    new: dict[str, int]
    dry_run: bool = False


def import_register(session: Session, path: Path, *, dry_run: bool = False) -> RegisterImport:
    """Validate a register file (TOML in the shape of egov/data/macau_register.toml, or a CSV /
    XLSX table with the columns of REGISTER_COLUMNS) and, unless `dry_run`, load it."""
    src = read_source(path, ("toml", "csv", "xlsx"))
    problems = Problems()
    if src.kind == "toml":
        register, where = _register_from_toml(src, problems)
    else:
        table = table_from_csv(src) if src.kind == "csv" else table_from_xlsx(src, problems)
        register, where = _register_from_table(table, problems)
    _validate_register(session, register, where, problems)
    problems.raise_if_any(src.name)
    if not any(register.values()):
        raise EgovError(f"{src.name}: no peer groups, departments or objects found; nothing was imported")
    existing = {
        "peer_groups": set(session.exec(select(PeerGroup.code)).all()),
        "departments": set(session.exec(select(Department.code)).all()),
        "objects": set(session.exec(select(AssessedObject.code)).all()),
    }
    counts = {k: len(v) for k, v in register.items()}
    new = {k: len(set(v) - existing[k]) for k, v in register.items()}
    report = RegisterImport(file=src.name, sha256=src.sha256, counts=counts, new=new, dry_run=dry_run)
    if not dry_run:
        load_register(session, register, origin=src.name)
    return report


Register = dict[str, dict[str, Any]]  # table → code → entry
_Where = dict[tuple[str, str, str], str]  # (table, code, field) → location


def _register_from_toml(src: SourceFile, problems: Problems) -> tuple[Register, _Where]:
    text = decode_text(src)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EgovError(f"{src.name}: not valid TOML — {exc}") from exc
    register: Register = {t: {} for t in REGISTER_TYPES.values()}
    where: _Where = {}
    for key, value in raw.items():
        if key not in register:
            problems.add(key, f"unknown table; expected {', '.join(register)}")
            continue
        if not isinstance(value, dict):
            problems.add(key, "must be a table of entries")
            continue
        for code, entry in value.items():
            path = f"{key}.{code}"
            if not isinstance(entry, dict):
                problems.add(path, "must be a table")
                continue
            for k in entry:
                if k not in _TABLE_KEYS[key]:
                    problems.add(
                        f"{path}.{k}", f"unknown key; allowed: {', '.join(sorted(_TABLE_KEYS[key]))}"
                    )
            register[key][code] = entry
            where[(key, code, "")] = path
            for k in _TABLE_KEYS[key]:
                where[(key, code, k)] = f"{path}.{k}"
    return register, where


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[list[Any], list[str]]]  # (values, location of each value)
    header_where: list[str]


def table_from_csv(src: SourceFile) -> Table:
    """The table of a CSV file: header line, then a row per entry with each field's location (a
    row with the wrong number of fields holds a `FieldCount` in its first cell)."""
    rows = [(n, r) for n, r in csv_rows(src) if any(f.strip() for f in r)]
    if not rows:
        raise EgovError(f"{src.name}: no header line; nothing was imported")
    line0, header = rows[0]
    table = Table(
        [h.strip() for h in header], [], [f"line {line0}, column {i}" for i in range(1, len(header) + 1)]
    )
    for line, row in rows[1:]:
        if len(row) != len(header):
            table.rows.append(([None] * len(header), [f"line {line}"] * len(header)))
            table.rows[-1][0][0] = FieldCount(len(row), len(header))
            continue
        table.rows.append(
            (list(row), [f"line {line}, column {i} ({h.strip()})" for i, h in enumerate(header, start=1)])
        )
    return table


@dataclass(frozen=True)
class FieldCount:
    got: int
    want: int


def table_from_xlsx(src: SourceFile, problems: Problems, sheet: str = "register") -> Table:
    """The table of a workbook's sheet `sheet` (else its first sheet): header in row 1, a row per
    entry with each cell's location; formulas and error values are problems."""
    wb = open_workbook(src)
    ws: Worksheet = wb[sheet] if sheet in wb.sheetnames else wb.worksheets[0]
    merged_problems(ws, problems)
    header: list[str] = []
    for c in range(1, ws.max_column + 1):
        cell = ws.cell(1, c)
        bad = cell_problem(cell)
        if bad:
            problems.add(cell_where(ws, cell), bad)
        header.append("" if cell.value is None or bad else str(cell.value).strip())
    table = Table(header, [], [cell_where(ws, ws.cell(1, c)) for c in range(1, len(header) + 1)])
    for r in range(2, ws.max_row + 1):
        vals: list[Any] = []
        locs: list[str] = []
        broken = False
        for c in range(1, len(header) + 1):
            cell = ws.cell(r, c)
            bad = cell_problem(cell)
            loc = cell_where(ws, cell)
            if bad:
                problems.add(loc, bad)
                broken = True
            vals.append(cell.value)
            locs.append(loc)
        if not broken:  # a row with a formula or an error value is reported once, above
            table.rows.append((vals, locs))
    return table


def _register_from_table(table: Table, problems: Problems) -> tuple[Register, _Where]:
    register: Register = {t: {} for t in REGISTER_TYPES.values()}
    where: _Where = {}
    cols = _table_columns(table, problems)
    if "type" not in cols or "code" not in cols:
        return register, where
    first_seen: dict[tuple[str, str], str] = {}
    for vals, locs in table.rows:
        if isinstance(vals[0], FieldCount):
            problems.add(locs[0], f"{vals[0].got} fields, the header has {vals[0].want}")
            continue
        _register_row(vals, locs, cols, problems, register, where, first_seen)
    return register, where


def _table_columns(table: Table, problems: Problems) -> dict[str, int]:
    """{lower-case column name: index} of a register table's header; problems for the rest."""
    cols: dict[str, int] = {}
    for i, h in enumerate(table.header):
        key = h.lower()
        if h.startswith(FORMULA_PREFIXES):
            problems.add(table.header_where[i], formula_injection(h))
            continue
        known = {c.lower() for c in REGISTER_COLUMNS} | set(_NAME_COLUMNS)
        if key not in known:
            problems.add(
                table.header_where[i], f"unknown column {h!r}; expected {', '.join(REGISTER_COLUMNS)}"
            )
            continue
        if key in cols:
            problems.add(table.header_where[i], f"duplicate column {h!r}")
            continue
        cols[key] = i
    for needed in ("type", "code"):
        if needed not in cols:
            problems.add(
                table.header_where[0] if table.header_where else "line 1",
                f"no '{needed}' column; the register table needs {', '.join(REGISTER_COLUMNS)}",
            )
    return cols


def _register_row(
    vals: list[Any],
    locs: list[str],
    cols: dict[str, int],
    problems: Problems,
    register: Register,
    where: _Where,
    first_seen: dict[tuple[str, str], str],
) -> None:
    """Add one row of a register table (an entry and where each of its fields is)."""
    texts: dict[str, str | None] = {}
    bad_row = False
    for key, i in cols.items():
        text, problem = parse_text(vals[i])
        if problem:
            problems.add(locs[i], problem)
            bad_row = True
        texts[key] = text
    if all(v is None for v in texts.values()) or bad_row:
        return
    typ, code = texts["type"], texts["code"]
    if typ is None or code is None:
        missing = "type" if typ is None else "code"
        problems.add(locs[cols[missing]], f"empty required cell — {missing} is missing")
        return
    if typ.lower() not in REGISTER_TYPES:
        problems.add(locs[cols["type"]], f"type {typ!r} is not one of {', '.join(REGISTER_TYPES)}")
        return
    tname = REGISTER_TYPES[typ.lower()]
    if (tname, code) in first_seen:
        problems.add(
            locs[cols["code"]], f"duplicate {typ.lower()} '{code}' (also at {first_seen[(tname, code)]})"
        )
        return
    first_seen[(tname, code)] = locs[cols["code"]]
    entry: dict[str, Any] = {}
    names = {lang: texts[k] for k, lang in _NAME_COLUMNS.items() if k in cols and texts.get(k)}
    if names:
        entry["name"] = names
    for k in ("peer_group", "department", "kind", "subkind", "note"):
        if k in cols and texts[k] is not None:
            entry[k] = texts[k]
    facing = texts.get("citizen_facing")
    if facing is not None:  # a cell that is not one of the words stays text: _check_object says so
        entry["citizen_facing"] = _BOOLEAN_CELLS.get(facing.strip().lower(), facing)
    register[tname][code] = entry
    where[(tname, code, "")] = locs[cols["code"]]
    for k, i in cols.items():
        where[(tname, code, k)] = locs[i]
    for k, lang in _NAME_COLUMNS.items():
        if k in cols:
            where[(tname, code, f"name.{lang}")] = locs[cols[k]]
            where.setdefault((tname, code, "name"), locs[cols[k]])


@dataclass(frozen=True)
class _Locator:
    """Where a register entry's field is (its own location, else the entry's, else its key)."""

    where: _Where

    def __call__(self, table: str, code: str, key: str = "") -> str:
        return self.where.get((table, code, key)) or self.where.get((table, code, "")) or f"{table}.{code}"


def _validate_register(session: Session, register: Register, where: _Where, problems: Problems) -> None:
    at = _Locator(where)
    for table, entries in register.items():
        for code, entry in entries.items():
            _check_entry(table, code, entry, at, where, problems)
    known_groups = set(register["peer_groups"]) | set(session.exec(select(PeerGroup.code)).all())
    known_depts = set(register["departments"]) | set(session.exec(select(Department.code)).all())
    for code, d in register["departments"].items():
        pg = d.get("peer_group")
        if isinstance(pg, str) and pg not in known_groups:
            problems.add(at("departments", code, "peer_group"), f"unknown peer group '{pg}'")
    for code, o in register["objects"].items():
        _check_object(code, o, known_depts, at, problems)
    for table in ("peer_groups", "departments"):
        for code, entry in register[table].items():
            keys = ("kind", "subkind", "department") if table == "departments" else ("peer_group",)
            for key in (*keys, "citizen_facing"):
                if entry.get(key) is not None:
                    problems.add(at(table, code, key), f"a {table[:-1].replace('_', ' ')} has no {key}")


def _check_entry(
    table: str, code: str, entry: dict[str, Any], at: _Locator, where: _Where, problems: Problems
) -> None:
    """The code, names and text fields of any register entry."""
    if not REGISTER_CODE_RE.fullmatch(str(code)) or len(str(code)) > _CODE_LIMITS[table]:
        problems.add(
            at(table, code),
            f"code {code!r} must start with a letter, hold only letters, digits, _ and -, and "
            f"have at most {_CODE_LIMITS[table]} characters",
        )
    names = entry.get("name")
    if names is None or (isinstance(names, dict) and not any(names.values())):
        problems.add(
            at(table, code, "name"),
            "empty required cell — at least one name (zh-Hant, pt or en) is needed",
        )
    elif not isinstance(names, dict):
        problems.add(at(table, code, "name"), "must be a table { zh-Hant = …, pt = …, en = … }")
    else:
        for lang, text in names.items():
            loc = where.get((table, code, f"name.{lang}")) or at(table, code, "name")
            if lang not in LANGUAGES:
                problems.add(loc, f"unknown language {lang!r}; use zh-Hant, pt, en")
            elif not isinstance(text, str):
                problems.add(loc, f"wrong type — the {lang} name must be text")
            elif text.startswith(FORMULA_PREFIXES):
                problems.add(loc, formula_injection(text))
            elif bad := control_problem(text, f"the {lang} name"):
                problems.add(loc, bad)
            elif len(text) > 300:
                problems.add(loc, f"the {lang} name is {len(text)} characters long; the limit is 300")
    for key in ("peer_group", "department", "kind", "subkind", "note", "paper"):
        v = entry.get(key)
        if v is not None and not isinstance(v, str):
            problems.add(at(table, code, key), f"wrong type — {key} must be text")
        elif isinstance(v, str) and v.startswith(FORMULA_PREFIXES):
            problems.add(at(table, code, key), formula_injection(v))
        elif isinstance(v, str) and (bad := control_problem(v, key, free_text=key in FREE_TEXT_KEYS)):
            problems.add(at(table, code, key), bad)


def _check_object(
    code: str, o: dict[str, Any], known_depts: set[str], at: _Locator, problems: Problems
) -> None:
    """An assessed object's department, kind and subkind."""
    dep = o.get("department")
    if dep is None:
        problems.add(
            at("objects", code, "department"), "empty required cell — the object's department is missing"
        )
    elif isinstance(dep, str) and dep not in known_depts:
        problems.add(at("objects", code, "department"), f"unknown department '{dep}'")
    facing = o.get("citizen_facing")
    if facing is not None and not isinstance(facing, bool):
        problems.add(
            at("objects", code, "citizen_facing"),
            f"citizen_facing {facing!r} must be true or false (yes/no, 1/0 in a table)",
        )
    for where, what in context_problems(o.get("context")):
        problems.add(f"{at('objects', code, 'context').removesuffix('.context')}.{where}", what)
    kind, sub = o.get("kind"), o.get("subkind")
    if kind is None:
        problems.add(
            at("objects", code, "kind"),
            f"empty required cell — kind is missing ({', '.join(OBJECT_KINDS)})",
        )
    elif kind not in OBJECT_KINDS:
        problems.add(at("objects", code, "kind"), f"kind {kind!r} is not one of {', '.join(OBJECT_KINDS)}")
    elif sub is not None and sub not in SUBKINDS.get(str(kind), ()):
        allowed = ", ".join(SUBKINDS.get(str(kind), ())) or "none"
        problems.add(
            at("objects", code, "subkind"),
            f"subkind {sub!r} is not a subkind of {kind} (allowed: {allowed})",
        )
