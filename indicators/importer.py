"""Build a framework from an indicator table (CSV or XLSX), COINr style.

Assessors keep indicator lists in spreadsheets. The table has one row per node (indicators
and aggregates) with columns, matched case-insensitively:

    code | iCode, name | iName, parent | Parent, level | Level, direction | Direction,
    weight | Weight, unit | Unit, target | Target, type | Type,
    name_zh | name_zh-Hant, name_pt, name_en, rationale, applies_to, source, measure

Rows whose `type` is `Group` or `Denominator` (COINr's iMeta) are not part of the tree and
are skipped. The node without a parent is the index; its children become categories, their
children dimensions (or indicators), and so on. Every problem is reported with its line.

Tables that are not COINr-shaped (the DESI metadata sheet, an assessor's own list) need a few
options (`import_table` keywords, `egov framework import` flags):

- `columns`: read a field from a named column (`{"code": "Indicator"}`), or from none
  (`{"source": ""}`), instead of the column found by its usual name;
- `code_first_word`: the code is the first word of the code column ("1a1 At least basic
  digital skills" → `1a1`); the rest is the name unless a name column is read;
- `parents_from_code`: a row without a parent hangs under its code minus the last segment
  (`1a1` → `1a` → `1`; `2.3.1` → `2.3`; segments are runs of digits or of letters);
  aggregates that no row defines are created, named by their codes; with `index_code`, codes
  of one segment hang under that index;
- `structure`: a second table (code, name, parent, weight, …) with the aggregates — the
  dimensions and sub-dimensions with their names and weights — added to the indicator rows;
- goalposts: `min` and `max` columns (`Min`, `Max`) give an indicator the normalisation
  `{ method = "goalposts", min, max, clip }`, with `clip` from `goalposts_clip`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from egov.errors import EgovError
from egov.langs import LANGUAGES
from indicators.framework import SOURCES, Framework, build_framework

ALIASES = {
    "code": ("code", "icode"),
    "name": ("name", "iname"),
    "parent": ("parent",),
    "level": ("level",),
    "direction": ("direction",),
    "weight": ("weight",),
    "unit": ("unit", "unit of measure"),
    "target": ("target",),
    "type": ("type",),
    "denominator": ("denominator",),
    "name_zh-Hant": ("name_zh-hant", "name_zh"),
    "name_pt": ("name_pt",),
    "name_en": ("name_en",),
    "rationale": ("rationale",),
    "applies_to": ("applies_to",),
    "source": ("source",),
    "measure": ("measure",),
    "description": ("description", "definition"),
    "min": ("min", "goalpost_min"),
    "max": ("max", "goalpost_max"),
}
# parts of a hierarchical code: runs of digits or of letters ("1a1" → 1, a, 1; "2.3" → 2, 3)
_SEGMENT = re.compile(r"[0-9]+|[^\W\d_]+")
DERIVED = "derived from the codes"
SKIPPED_TYPES = {"group", "denominator", "other"}


@dataclass
class ImportReport:
    """What an import did besides building the framework (shown to the user)."""

    framework: Framework
    notes: list[str] = field(default_factory=list)


def read_table(path: Path, keep_blank_lines: bool = False) -> pd.DataFrame:
    """Read a CSV or XLSX table as strings-or-numbers, with a clear error for other files.

    With `keep_blank_lines` a blank CSV line stays an (empty) row, so that row i is on
    line i + 2 of the file, as in a spreadsheet."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise EgovError(f"{path}: no such file")
    try:
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path, encoding="utf-8-sig", skip_blank_lines=not keep_blank_lines)
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=0, engine="openpyxl")
    except UnicodeDecodeError as exc:
        raise EgovError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV") from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise EgovError(f"{path}: cannot read as {suffix[1:].upper()}: {exc}") from exc
    except Exception as exc:  # openpyxl raises several unrelated types for broken files
        raise EgovError(f"{path}: cannot read as {suffix[1:].upper()}: {exc}") from exc
    raise EgovError(f"{path}: unsupported file type '{suffix}' (use .csv or .xlsx)")


def _columns(
    df: pd.DataFrame, mapping: dict[str, str] | None = None, where: str = ""
) -> tuple[dict[str, str], list[str]]:
    """Field → column: by the usual names, then as `mapping` says ("" = read from no column)."""
    lower = {str(c).strip().lower(): str(c) for c in df.columns}
    found: dict[str, str] = {}
    for field_name, aliases in ALIASES.items():
        for alias in aliases:
            if alias in lower:
                found[field_name] = lower[alias]
                break
    problems: list[str] = []
    for field_name, column in (mapping or {}).items():
        if field_name not in ALIASES:
            problems.append(f"{where}: unknown field '{field_name}' (known: {', '.join(ALIASES)})")
        elif not column:
            found.pop(field_name, None)
        elif column in df.columns:
            found[field_name] = column
        elif column.strip().lower() in lower:
            found[field_name] = lower[column.strip().lower()]
        else:
            shown = ", ".join(map(str, df.columns[:15]))
            problems.append(f"{where}: no column '{column}' to read '{field_name}' from (columns: {shown})")
    return found, problems


def _code_text(value: Any) -> str | None:
    """A code as text (a number read from a spreadsheet as 1.0 is the code "1")."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _as_number(value: Any) -> float | None:
    """A finite number from a cell (text such as "0.5" too: one bad cell makes a whole
    column text), else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parent_from_code(code: str) -> str | None:
    """The code minus its last segment: 1a1 → 1a, 1a → 1, 2.3.1 → 2.3, 1 → None."""
    segments = list(_SEGMENT.finditer(code))
    if len(segments) < 2:
        return None
    return code[: segments[-1].start()].rstrip("._- ") or None


def _cell(row: pd.Series, col: str | None) -> Any:
    if col is None:
        return None
    value = row[col]
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value.item() if hasattr(value, "item") else value


def _collect(
    df: pd.DataFrame,
    cols: dict[str, str],
    fname: str,
    first_word: bool,
    rows: dict[str, dict[str, Any]],
    order: list[str],
    skipped: dict[str, int],
    problems: list[str],
) -> None:
    """Add the rows of one table to `rows` (code → file, line, cells by field)."""
    first_line = 2  # line 1 is the header (spreadsheet row numbers too)
    name_from_code = first_word and cols.get("name") in (None, cols.get("code"))
    for i, row in df.iterrows():
        line = first_line + int(str(i))
        if row.isna().all():  # a blank line or spreadsheet row
            continue
        cells = {f: _cell(row, cols.get(f)) for f in ALIASES}
        rtype = cells["type"]
        if rtype is not None and str(rtype).strip().lower() in SKIPPED_TYPES:
            skipped[str(rtype)] = skipped.get(str(rtype), 0) + 1
            continue
        where = f"{fname} line {line}"
        rcode = _code_text(cells["code"])
        if rcode is not None and first_word:
            word, *rest = rcode.split(maxsplit=1)
            rcode = word
            if name_from_code:
                cells["name"] = rest[0].strip() if rest else None
        if rcode is None:
            problems.append(f"{where}: empty code")
            continue
        if rcode in rows:
            first = rows[rcode]
            problems.append(f"{where}: duplicate code '{rcode}' (first on {_place(first, fname)})")
            continue
        cells["parent"] = _code_text(cells["parent"])
        rows[rcode] = {"file": fname, "line": line, "cells": cells}
        order.append(rcode)


def _place(row: dict[str, Any], main: str) -> str:
    """Where a row is: "line 3" in the main table, "structure.csv line 3" in another."""
    if row["line"] is None:
        return DERIVED
    return f"line {row['line']}" if row["file"] == main else f"{row['file']} line {row['line']}"


def import_table(
    path: str | Path,
    *,
    code: str | None = None,
    version: str = "1",
    methods: dict[str, Any] | None = None,
    columns: dict[str, str] | None = None,
    code_first_word: bool = False,
    parents_from_code: bool = False,
    index_code: str | None = None,
    structure: str | Path | None = None,
    goalposts_clip: bool = True,
) -> ImportReport:
    """Turn an indicator table into a validated framework (raises EgovError on problems).

    `methods` becomes the framework's `[methods]` table (defaults for every stage). The other
    options read tables that are not COINr-shaped (see the module docstring)."""
    p = Path(path)
    df = read_table(p, keep_blank_lines=True)
    cols, problems = _columns(df, columns, p.name)
    if "code" not in cols:
        problems.append(f"{p.name}: missing column 'code' (or its COINr name)")
    if "parent" not in cols and not parents_from_code:
        problems.append(f"{p.name}: missing column 'parent' (or its COINr name)")
    sdf: pd.DataFrame | None = None
    scols: dict[str, str] = {}
    if structure is not None:
        sp = Path(structure)
        sdf = read_table(sp, keep_blank_lines=True)
        scols, _ = _columns(sdf)
        for required in ("code", *(() if parents_from_code else ("parent",))):
            if required not in scols:
                problems.append(f"{sp.name}: missing column '{required}' (or its COINr name)")
    if problems:
        raise EgovError(f"{p.name}: cannot import the indicator table", problems)

    rows: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    skipped: dict[str, int] = {}
    _collect(df, cols, p.name, code_first_word, rows, order, skipped, problems)
    if sdf is not None and structure is not None:
        _collect(sdf, scols, Path(structure).name, False, rows, order, skipped, problems)

    def at(c: str) -> str:
        r = rows[c]
        return f"{r['file']} line {r['line']}" if r["line"] is not None else f"'{c}' ({DERIVED})"

    created: list[str] = []
    if parents_from_code:

        def derived_parent(c: str) -> str | None:
            found = parent_from_code(c)
            return found if found is not None or c == index_code else index_code

        for c in list(order):
            if rows[c]["cells"]["parent"] is not None:
                continue
            parent = derived_parent(c)
            rows[c]["cells"]["parent"] = parent
            while parent is not None and parent not in rows:
                cells: dict[str, Any] = dict.fromkeys(ALIASES)
                cells.update(code=parent, parent=derived_parent(parent))
                rows[parent] = {"file": DERIVED, "line": None, "cells": cells}
                order.append(parent)
                created.append(parent)
                parent = cells["parent"]

    source_col = cols.get("source")
    bad_source = next(
        (
            c
            for c in order
            if rows[c]["file"] == p.name and rows[c]["cells"]["source"] not in (None, *SOURCES)
        ),
        None,
    )
    if source_col is not None and bad_source is not None:
        problems.append(
            f"{at(bad_source)}: column '{source_col}' holds {rows[bad_source]['cells']['source']!r}, but an "
            f"indicator's source is one of {', '.join(SOURCES)}; read 'source' from another column or from "
            "none (egov framework import --column source=)"
        )

    children: dict[str, list[str]] = {c: [] for c in order}
    roots: list[str] = []
    for c in order:
        parent = rows[c]["cells"]["parent"]
        if parent is None:
            roots.append(c)
        elif str(parent) not in rows:
            problems.append(f"{at(c)}: orphan '{c}': parent '{parent}' is not defined")
        else:
            children[str(parent)].append(c)
    if len(roots) != 1:
        found = ", ".join(f"'{r}' ({_place(rows[r], p.name)})" for r in roots) or "none"
        problems.append(f"{p.name}: exactly one row must have no parent (the index); found {found}")
    if problems:
        raise EgovError(f"{p.name}: cannot import the indicator table", problems)

    # cycles: every node must reach the root
    root = roots[0]
    reached: set[str] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if n in reached:
            continue
        reached.add(n)
        stack.extend(children[n])
    for c in order:
        if c not in reached:
            problems.append(f"{at(c)}: '{c}' is in a cycle of parents and never reaches the index")
    if problems:
        raise EgovError(f"{p.name}: cannot import the indicator table", problems)

    filled_names = False

    def names(c: str) -> dict[str, str]:
        nonlocal filled_names
        cells = rows[c]["cells"]
        base = cells["name"]
        out: dict[str, str] = {}
        for lang in LANGUAGES:
            v = cells[f"name_{lang}"]
            if v is None:
                v = base if base is not None else c
                filled_names = True
            out[lang] = str(v)
        return out

    def number(c: str, field_name: str) -> Any:
        return rows[c]["cells"][field_name]

    def goalposts(c: str) -> dict[str, Any] | None:
        lo, hi = number(c, "min"), number(c, "max")
        if lo is None and hi is None:
            return None
        if children[c]:
            problems.append(f"{at(c)}: goalposts (min, max) are given for the aggregate '{c}'")
            return None
        lo_n, hi_n = _as_number(lo), _as_number(hi)
        if lo_n is None or hi_n is None:
            problems.append(f"{at(c)}: goalposts need two numbers, min and max (found {lo!r}, {hi!r})")
            return None
        return {"method": "goalposts", "min": lo_n, "max": hi_n, "clip": goalposts_clip}

    def node(c: str) -> dict[str, Any]:
        kids = children[c]
        out: dict[str, Any] = {"name": names(c)}
        weight = number(c, "weight")
        out["weight"] = weight if weight is not None else 1
        description = number(c, "description")
        if description is not None:
            out["description"] = str(description)
        normalisation = goalposts(c)
        if not kids:  # an indicator
            direction = number(c, "direction")
            out["unit"] = str(number(c, "unit") or "")
            out["direction"] = (
                int(direction)
                if isinstance(direction, int | float) and float(direction).is_integer()
                else direction
            )
            out["source"] = str(number(c, "source") or "metric")
            measure = number(c, "measure")
            if measure is not None:
                out["measure"] = str(measure)
            denominator = number(c, "denominator")
            if denominator is not None:
                out["denominator"] = str(denominator)
            target = number(c, "target")
            if target is not None:
                out["target"] = target
            applies = number(c, "applies_to")
            if applies is not None:
                out["applies_to"] = str(applies)
            out["rationale"] = str(number(c, "rationale") or f"imported from {at(c)}")
            if normalisation is not None:
                out["normalisation"] = normalisation
            return out
        applies = number(c, "applies_to")
        if applies is not None:
            out["applies_to"] = str(applies)
        key = "indicators" if all(not children[k] for k in kids) else "dimensions"
        if key == "dimensions" and any(not children[k] for k in kids):
            problems.append(
                f"{at(c)}: '{c}' mixes indicators and aggregates as children; "
                "put its indicators under a dimension of their own"
            )
        out[key] = {k: node(k) for k in kids}
        return out

    root_kids = children[root]
    categories: dict[str, Any] = {}
    for k in root_kids:
        if not children[k]:
            problems.append(
                f"{at(k)}: indicator '{k}' hangs directly under the index; an index holds categories"
            )
        else:
            categories[k] = node(k)
    if problems:
        raise EgovError(f"{p.name}: cannot import the indicator table", problems)

    sources = p.name + (f" and {Path(structure).name}" if structure is not None else "")
    data = {
        "framework": {
            "code": code or p.stem,
            "version": version,
            "name": names(root),
            "source": f"imported from {sources}",
        },
        "index": {"code": root},
        "methods": methods or {},
        "categories": categories,
    }
    try:
        framework = build_framework(data, origin=p.name)
    except EgovError as exc:
        # map key paths back to the table's lines
        mapped = []
        for prob in exc.problems:
            key_path = prob.split(":", 1)[0]
            code_in_path = key_path.split(".")[-2] if key_path.count(".") >= 2 else ""
            leaf = key_path.split(".")
            hit = next((seg.strip('"') for seg in reversed(leaf) if seg.strip('"') in rows), code_in_path)
            mapped.append(f"{at(hit)} ({hit}): {prob.split(': ', 1)[-1]}" if hit in rows else prob)
        raise EgovError(f"{p.name}: the table does not make a valid framework", mapped) from exc

    notes: list[str] = []
    if skipped:
        notes.append(
            "skipped rows that are not part of the tree: "
            + ", ".join(f"{n} × {t}" for t, n in sorted(skipped.items()))
        )
    if created:
        notes.append(
            f"created {len(created)} aggregate(s) that no row defines, named by their codes and weighing 1 "
            f"(give names and weights in a structure table): {', '.join(created)}"
        )
    unread = [str(c) for c in df.columns if str(c) not in cols.values()]
    if unread:
        shown = ", ".join(unread[:12]) + (f" (+{len(unread) - 12} more)" if len(unread) > 12 else "")
        notes.append(f"columns not read: {shown}")
    if filled_names:
        notes.append("names missing in some languages were filled with the table's name; translate them")
    return ImportReport(framework=framework, notes=notes)
